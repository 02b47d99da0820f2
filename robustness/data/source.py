"""TFDS image-classification datasets as random-access sources of encoded examples.

`open_source("si_score/train", "train", data_dir)` reads a built dataset from its files alone (the builder's code is
not needed): with `tfds.data_source` where an array_record copy exists (random access, no tf.data), else through
a record index over the tfrecord shards (the same tf.train.Example records, parsed with TFDS's numpy parser, no
tf.data: TensorFlow's runtime must not run in a process that forks loader workers). Images stay encoded (JPEG/PNG bytes) until a loader worker decodes them,
so sources pickle cheaply into DataLoader workers.

Every byte is checked before use where the dataset lists its files' sha256 (`files.sha256`, which kubricgen's
builds publish): the split's shard files and the metadata are hashed once per process before the first read, and a
file that differs is refused with one line naming it (record-level CRCs do not catch every changed byte: a byte
flipped inside an ArrayRecord record is served as it is). Datasets without the list are read as they are.
"""
from __future__ import annotations

import dataclasses
import hashlib
import io
import logging
import os

import numpy as np

log = logging.getLogger("kubricgen")


class DataError(ValueError):
  """A dataset, split or feature that is missing or unusable; the message is one line naming it."""


def default_data_dir() -> str:
  """TFDS's data_dir: $TFDS_DATA_DIR, else ~/tensorflow_datasets."""
  return os.environ.get("TFDS_DATA_DIR") or os.path.expanduser("~/tensorflow_datasets")


@dataclasses.dataclass
class ImageSource:
  """Random access to one split. `source[i]` -> dict of the example's features with `image` as encoded bytes.

  Attributes:
    name: TFDS name with config, e.g. "si_score/train". split: e.g. "train" or "test[:50%]".
    class_names: names of `label_key`'s ClassLabel, index = label value.
    scalar_fields: names of the example's scalar and text features (the factors the analyzer groups by).
    file_format: "array_record" (random access from disk) or "tfrecord" (held in memory).
  """
  name: str
  split: str
  data_dir: str
  label_key: str
  class_names: list[str]
  scalar_fields: list[str]
  file_format: str
  _records: object = dataclasses.field(repr=False, default=None)

  def __len__(self) -> int:
    return len(self._records)

  def __getitem__(self, index: int) -> dict:
    return self._records[int(index)]

  def labels(self) -> np.ndarray:
    """(N,) int64 labels of every example, in index order."""
    return np.asarray([self._records[i][self.label_key] for i in range(len(self))], np.int64)


CHECKSUMS = "files.sha256"
_checked: dict[tuple, None] = {}  # (path, size, mtime) of files already found intact in this process


def check_files(version_dir: str, split: str) -> int:
  """Check the files of `split` (shards of every format, named `*-{split}.*`) and the dataset's JSON metadata
  against `version_dir/files.sha256` (`sha256sum` format). Returns how many files were hashed (0 without a list).

  Raises:
    DataError: a listed file is missing or its sha256 differs (one line naming it).
  """
  listing = os.path.join(version_dir, CHECKSUMS)
  if not os.path.isfile(listing):
    return 0
  hashed = 0
  with open(listing, encoding="utf-8", errors="replace") as handle:
    entries = [line.rstrip("\n").partition("  ")[::2] for line in handle if line.strip()]
  for digest, name in entries:
    if not (f"-{split}." in name or name.endswith(".json")):
      continue
    path = os.path.join(version_dir, name)
    try:
      stat = os.stat(path)
    except FileNotFoundError:
      raise DataError(f"{path}: missing; {CHECKSUMS} lists it (run `kubricgen verify {version_dir}`)") from None
    key = (path, stat.st_size, stat.st_mtime_ns, digest)
    if key in _checked:
      continue
    found = hashlib.sha256()
    with open(path, "rb") as data:
      for block in iter(lambda: data.read(1 << 20), b""):
        found.update(block)
    hashed += 1
    if found.hexdigest() != digest:
      raise DataError(f"{path}: sha256 {found.hexdigest()[:16]}…, {CHECKSUMS} says {digest[:16]}…: the dataset is "
                      f"damaged (run `kubricgen verify {version_dir}`)")
    _checked[key] = None
  return hashed


def open_source(name: str, split: str, data_dir: str | None = None, label_key: str = "label") -> ImageSource:
  """Open split `split` of the built TFDS dataset `name` ("dataset/config" or "dataset/config/version") in data_dir.

  Raises:
    DataError: the dataset is not built there, has no such split, a file of the split differs from the dataset's
      `files.sha256`, it has no `image` feature or no ClassLabel `label_key`.
  """
  import tensorflow_datasets as tfds  # pylint: disable=import-outside-toplevel
  from absl import logging as absl_logging  # pylint: disable=import-outside-toplevel
  absl_logging.set_verbosity(absl_logging.WARNING)  # TFDS's per-open info lines ("Load dataset info ...")
  data_dir = data_dir or default_data_dir()
  try:
    builder = tfds.builder(name, data_dir=data_dir)
  except Exception as error:  # TFDS raises several types (DatasetNotFoundError, registry errors, ...)
    raise DataError(f"dataset {name!r} not found in data_dir {data_dir} ({type(error).__name__}); build it first, "
                    "e.g. `kubricgen render scenes/si_score.py`") from None
  if not builder.is_prepared():
    raise DataError(f"dataset {name!r} is not built in data_dir {data_dir}; build it first, "
                    "e.g. `kubricgen render scenes/si_score.py`")
  base_split = split.split("[")[0]
  if base_split not in builder.info.splits:
    raise DataError(f"dataset {name!r} has no split {base_split!r} (it has: {', '.join(builder.info.splits)})")
  check_files(str(builder.data_dir), base_split)
  features = builder.info.features
  if "image" not in features:
    raise DataError(f"dataset {name!r} has no 'image' feature")
  if label_key not in features or not isinstance(features[label_key], tfds.features.ClassLabel):
    raise DataError(f"dataset {name!r} has no ClassLabel feature {label_key!r}")
  scalar_fields = [k for k, f in features.items()
                   if k not in ("image",) and isinstance(f, (tfds.features.Scalar, tfds.features.ClassLabel,
                                                             tfds.features.Text))]
  decoders = {k: tfds.decode.SkipDecoding() for k, f in features.items() if isinstance(f, tfds.features.Image)}
  listed = [getattr(builder.info, "file_format", None), *(getattr(builder.info, "alternative_file_formats", None)
                                                          or [])]
  formats = {str(getattr(f, "value", f)).lower() for f in listed if f}
  if any("array_record" in f for f in formats):
    records = builder.as_data_source(split=split, decoders=decoders)
    file_format = "array_record"
  else:
    records = TFRecordSource(builder.info.splits[split].file_instructions, features, decoders)
    file_format = "tfrecord"
  return ImageSource(name=name, split=split, data_dir=data_dir, label_key=label_key,
                     class_names=list(features[label_key].names), scalar_fields=scalar_fields,
                     file_format=file_format, _records=records)


class TFRecordSource:
  """Random access to the records of TFDS tfrecord shards: one scan builds (file, offset, length) per record, then
  `source[i]` reads one record and parses it with `features.deserialize_example_np` (numpy, no TensorFlow ops).

  TFRecord framing: uint64 length, uint32 masked CRC of the length, the data, uint32 masked CRC of the data."""

  def __init__(self, file_instructions, features, decoders):
    self._features, self._decoders = features, decoders
    self._index = []
    for instruction in file_instructions:
      offsets = []
      with open(instruction.filename, "rb") as handle:
        while True:
          header = handle.read(12)
          if len(header) < 12:
            break
          length = int.from_bytes(header[:8], "little")
          offsets.append((handle.tell(), length))
          handle.seek(length + 4, os.SEEK_CUR)
      take = len(offsets) - instruction.skip if instruction.take == -1 else instruction.take
      self._index += [(instruction.filename, *o) for o in offsets[instruction.skip:instruction.skip + take]]

  def __len__(self) -> int:
    return len(self._index)

  def __getitem__(self, index: int) -> dict:
    filename, offset, length = self._index[index]
    with open(filename, "rb") as handle:
      handle.seek(offset)
      data = handle.read(length)
    if len(data) != length:
      raise DataError(f"{filename}: record {index} is truncated")
    return self._features.deserialize_example_np(data, decoders=self._decoders)


def decode_image(data) -> "PIL.Image.Image":
  """Encoded JPEG/PNG bytes (or an already decoded (H, W, 3) uint8 array) -> an RGB PIL image."""
  from PIL import Image  # pylint: disable=import-outside-toplevel
  if isinstance(data, np.ndarray) and data.dtype == np.uint8 and data.ndim == 3:
    return Image.fromarray(data if data.shape[2] == 3 else data[..., :3])
  if isinstance(data, np.ndarray):
    data = data.item()
  with Image.open(io.BytesIO(data)) as image:
    return image.convert("RGB")
