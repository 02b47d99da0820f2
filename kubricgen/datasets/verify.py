"""`kubricgen verify DATASET`: re-read a built dataset record by record, in every file format it lists, and check
that every byte is as written.

What is checked, for each split and each file format dataset_info.json names (its `fileFormat` and
`alternativeFileFormats`, e.g. tfrecord and array_record):
  - every shard file exists and holds the number of records dataset_info.json gives it (`shardLengths`);
  - every record reads back: TFRecord frames are checked against their masked CRC32C (TensorFlow's reader),
    ArrayRecord chunks against their hashes (Riegeli's reader);
  - every record parses as an example of the dataset's features, and its `content_hash` recomputes from its stored
    bytes and fields (schema.content_hash: sha256 over the encoded image and mask and every other field), so a
    byte changed inside a record is caught even where a format's own check would not see it;
  - keys (`image_id`) are unique per split;
  - every file listed in `files.sha256` (written at publish time, `sha256sum` format) has that sha256, which also
    covers what no record holds (dataset_info.json, features.json, ArrayRecord padding).
Each problem is one line naming the file, the record (index within the shard) and what was expected.
"""
from __future__ import annotations

import collections
import dataclasses
import os
from typing import Callable, Iterator

from kubricgen.datasets import checksums


@dataclasses.dataclass
class Report:
  path: str
  splits: dict[str, int]  # split -> examples read (first file format)
  formats: list[str]  # the file formats checked
  records: int  # records checked, all formats
  problems: list[str]

  @property
  def ok(self) -> bool:
    return not self.problems


class UnreadableRecord(Exception):
  """A shard that cannot be read past record `index`."""

  def __init__(self, index: int, reason: str):
    super().__init__(reason)
    self.index, self.reason = index, reason


def _reason(error: BaseException, limit: int = 160) -> str:
  """`Type: first line of the message`, without TensorFlow's `{{function_node ...}}` prefix, cut at a word."""
  import re  # pylint: disable=import-outside-toplevel
  text = str(error).strip().splitlines()[0] if str(error).strip() else ""
  text = re.sub(r"\{\{function_node [^}]*\}\}\s*", "", text).strip()
  if len(text) > limit:
    text = text[:limit].rsplit(" ", 1)[0] + " …"
  return f"{type(error).__name__}: {text}" if text else type(error).__name__


def read_tfrecord(path: str) -> Iterator[bytes]:
  """Records of a TFRecord file in order; UnreadableRecord at the first frame whose length or CRC does not check."""
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  index = 0
  try:
    for record in tf.data.TFRecordDataset(path).as_numpy_iterator():
      yield record
      index += 1
  except tf.errors.OpError as error:
    raise UnreadableRecord(index, _reason(error)) from None


def read_array_record(path: str, batch: int = 256) -> Iterator[bytes]:
  """Records of an ArrayRecord file in order; UnreadableRecord at the first record (or the footer/index, as record
  0) that does not read."""
  from array_record.python import array_record_module  # pylint: disable=import-outside-toplevel
  try:
    reader = array_record_module.ArrayRecordReader(path, "readahead_buffer_size:0")
    total = reader.num_records()
  except Exception as error:  # pylint: disable=broad-except  # the C++ reader raises RuntimeError/ValueError
    raise UnreadableRecord(0, f"footer or index does not read ({_reason(error)})") from None
  closed = False
  try:
    for start in range(0, total, batch):
      try:
        records = reader.read(start, min(start + batch, total))
      except Exception:  # pylint: disable=broad-except  # find the record that fails
        records = []
        for index in range(start, min(start + batch, total)):
          try:
            records.append(reader.read([index])[0])
          except Exception as error:  # pylint: disable=broad-except
            yield from records
            raise UnreadableRecord(index, _reason(error)) from None
      yield from records
    closed = True
    reader.close()  # checks what is left of the file (its footer and index chunks)
  except UnreadableRecord:
    raise
  except Exception as error:  # pylint: disable=broad-except
    raise UnreadableRecord(total, f"footer or index does not read ({_reason(error)})") from None
  finally:
    if not closed:
      try:
        reader.close()
      except Exception:  # pylint: disable=broad-except  # already reporting the first failure
        pass


READERS: dict[str, Callable[[str], Iterator[bytes]]] = {"tfrecord": read_tfrecord,
                                                         "array_record": read_array_record}


def open_builder(version_dir: str):
  """tfds.builder_from_directory(version_dir), with a damaged dataset_info.json or features.json raised as one-line
  ValueError (FileNotFoundError if there is no dataset_info.json)."""
  import tensorflow_datasets as tfds  # pylint: disable=import-outside-toplevel
  if not os.path.isfile(os.path.join(version_dir, "dataset_info.json")):
    raise FileNotFoundError(f"{version_dir}: no dataset_info.json, not a built TFDS dataset version folder")
  try:
    return tfds.builder_from_directory(version_dir)
  except Exception as error:  # pylint: disable=broad-except  # TFDS raises json/proto/KeyError/... on damage
    raise ValueError(f"{version_dir}: dataset_info.json or features.json does not read ({_reason(error)})") \
        from None


def verify(version_dir: str, max_problems: int = 20, progress: bool | None = None) -> Report:
  """Check a built dataset version folder (see the module docstring).

  Args:
    version_dir: DATA_DIR/NAME/CONFIG/VERSION, holding dataset_info.json.
    max_problems: stop listing problems after this many (reading goes on, so counts stay right).
    progress: a tqdm bar over the records on stderr (None: only on a terminal).

  Returns:
    A Report; `problems` empty when every check passed.

  Raises:
    FileNotFoundError: no dataset_info.json there.
    ValueError: dataset_info.json or features.json does not read, a file format has no reader here, or the
      examples carry no content_hash.
  """
  import tensorflow_datasets as tfds  # pylint: disable=import-outside-toplevel
  from tqdm import tqdm  # pylint: disable=import-outside-toplevel
  from kubricgen.datasets.si_score import build, schema  # pylint: disable=import-outside-toplevel
  build.quiet_tfds()
  builder = open_builder(version_dir)
  info = builder.info
  features = info.features
  if "content_hash" not in features:
    raise ValueError(f"{version_dir}: examples carry no content_hash; nothing to verify against")
  formats = [info.file_format.value] + [f.value for f in info.alternative_file_formats]
  unknown = [f for f in formats if f not in READERS]
  if unknown:
    raise ValueError(f"{version_dir}: cannot verify file format(s) {unknown}; this reads {sorted(READERS)}")
  class_fields = {k: f.names for k, f in features.items() if isinstance(f, tfds.features.ClassLabel)}
  decoders = {k: tfds.decode.SkipDecoding() for k in schema.IMAGE_FIELDS if k in features}
  problems: list[str] = []

  def problem(text: str) -> None:
    if len(problems) < max_problems:
      problems.append(text)

  counts, checked = {}, 0
  total = sum(split.num_examples for split in info.splits.values()) * len(formats)
  with tqdm(total=total, desc=f"verify {os.path.basename(os.path.dirname(version_dir.rstrip('/')))}",
            unit="record", disable=(not progress) if progress is not None else None) as bar:
    for split_name, split in info.splits.items():
      ids = collections.Counter()
      for number, file_format in enumerate(formats):
        paths = split.filename_template.replace(filetype_suffix=file_format).sharded_filepaths(split.num_shards)
        split_count = 0
        for path, expected in zip(map(str, paths), split.shard_lengths):
          if not os.path.isfile(path):
            problem(f"{path}: missing; dataset_info.json lists it with {expected} records")
            continue
          count = 0
          try:
            for record in READERS[file_format](path):
              try:
                example = features.deserialize_example_np(record, decoders=decoders)
                example = dict(example)
                for field, names in class_fields.items():
                  example[field] = names[int(example[field])]
                stored = example["content_hash"].decode()
                computed = schema.content_hash(example)
              except Exception as error:  # pylint: disable=broad-except  # a record that is not an example
                problem(f"{path}: record {count}: does not parse as an example of this dataset ({_reason(error)})")
              else:
                if computed != stored:
                  problem(f"{path}: record {count} (image_id {int(example.get('image_id', -1))}): content hash "
                          f"{computed[:16]}…, the record stores {stored[:16]}…")
                if number == 0:
                  ids[int(example.get("image_id", -1))] += 1
              count += 1
              bar.update()
          except UnreadableRecord as damage:
            problem(f"{path}: record {damage.index}: unreadable ({damage.reason}); {expected} records expected")
            split_count += count
            continue
          if count != expected:
            problem(f"{path}: {count} records, dataset_info.json says {expected}")
          split_count += count
        checked += split_count
        if number == 0:
          counts[split_name] = split_count
      duplicates = [i for i, n in ids.items() if n > 1]
      if duplicates:
        problem(f"{split_name}: {len(duplicates)} image_ids occur more than once (e.g. {duplicates[:5]})")
  named = " ".join(problems)
  for name, found, listed in checksums.mismatches(version_dir):
    if name not in named:
      problem(f"{os.path.join(version_dir, name)}: sha256 {found}, {checksums.CHECKSUMS} says {listed[:16]}… (its "
              "records all read and check: the change is outside them)" if found != "missing" else
              f"{os.path.join(version_dir, name)}: missing; {checksums.CHECKSUMS} lists it")
  return Report(path=version_dir, splits=counts, formats=formats, records=checked, problems=problems)
