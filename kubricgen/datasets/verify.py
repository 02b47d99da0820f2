"""`kubricgen verify DATASET`: re-read a built dataset with plain TFDS and check it is whole and untouched.

Checks: the example count of every split equals dataset_info.json's; every example's `content_hash` recomputes from
its stored bytes and fields; keys (`image_id`) are unique per split. Reads the tfrecord files (tf.data).
"""
from __future__ import annotations

import collections
import dataclasses
import os


@dataclasses.dataclass
class Report:
  path: str
  splits: dict[str, int]
  problems: list[str]

  @property
  def ok(self) -> bool:
    return not self.problems


def verify(version_dir: str, max_problems: int = 20) -> Report:
  import tensorflow_datasets as tfds  # pylint: disable=import-outside-toplevel
  from kubricgen.datasets.si_score import build, schema  # pylint: disable=import-outside-toplevel
  build.quiet_tfds()
  if not os.path.isfile(os.path.join(version_dir, "dataset_info.json")):
    raise FileNotFoundError(f"{version_dir}: no dataset_info.json, not a built TFDS dataset version folder")
  builder = tfds.builder_from_directory(version_dir)
  features = builder.info.features
  if "content_hash" not in features:
    raise ValueError(f"{version_dir}: examples carry no content_hash; nothing to verify against")
  names = features["label"].names if "label" in features else None
  problems: list[str] = []
  counts = {}
  for split, info in builder.info.splits.items():
    decoders = {k: tfds.decode.SkipDecoding() for k in ("image", "mask") if k in features}
    dataset = builder.as_dataset(split=split, decoders=decoders, shuffle_files=False)
    ids = collections.Counter()
    count = 0
    for example in dataset.as_numpy_iterator():
      count += 1
      record = dict(example)
      if names is not None:
        record["label"] = names[int(record["label"])]
      stored = record["content_hash"].decode()
      ids[int(record.get("image_id", count))] += 1
      if schema.content_hash(record) != stored and len(problems) < max_problems:
        problems.append(f"{split}: image_id {int(record.get('image_id', -1))}: content hash mismatch")
    counts[split] = count
    if count != info.num_examples:
      problems.append(f"{split}: {count} examples read, dataset_info.json says {info.num_examples}")
    duplicates = [i for i, n in ids.items() if n > 1]
    if duplicates:
      problems.append(f"{split}: {len(duplicates)} image_ids occur more than once (e.g. {duplicates[:5]})")
  return Report(path=version_dir, splits=counts, problems=problems)
