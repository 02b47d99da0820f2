"""Export to the stock TFDS `siscore` layout, so the unmodified stock builder reads our images.

The stock builder (tensorflow_datasets/datasets/siscore) builds from a zip whose single folder (`area`, `rotation`,
`location20_area02_min0pc`) holds `<class>/<image_id>.jpg`, and looks each class name up in its 61-class tables. So
only our classes that are SI-Score classes can be exported (others are counted and skipped); the JPEG bytes are
copied as they are. `export` writes the zip, then prepares the stock `siscore/<config>` dataset in a data_dir by
running the stock builder's own example generator over the extracted folder.
"""
from __future__ import annotations

import collections
import dataclasses
import logging
import os
import shutil
import tempfile
import zipfile

from kubricgen import atomic

log = logging.getLogger("kubricgen")

STOCK_FOLDERS = {"size": "area", "rotation": "rotation", "location": "location20_area02_min0pc"}


@dataclasses.dataclass
class ExportResult:
  config: str
  zip_path: str
  stock_dir: str | None
  exported: dict[str, int]  # class -> images
  skipped: dict[str, int]  # classes without a stock SI-Score label -> images


def stock_class_name(name: str) -> str | None:
  """Our class name as a stock SI-Score folder name, or None when the stock tables lack it."""
  from tensorflow_datasets.datasets.siscore import labels  # pylint: disable=import-outside-toplevel
  candidate = name.replace("_", " ").lower()
  return candidate if candidate in labels.DATASET_LABELS else None


def write_zip(version_dir: str, config: str, out_dir: str) -> ExportResult:
  """Write `<out_dir>/<config>.zip` in the stock layout from our built `si_score/<config>` version folder."""
  import tensorflow_datasets as tfds  # pylint: disable=import-outside-toplevel
  if config not in STOCK_FOLDERS:
    raise ValueError(f"the stock siscore builder has no {config!r} config; choose from {sorted(STOCK_FOLDERS)}")
  if not os.path.isfile(os.path.join(version_dir, "dataset_info.json")):
    raise FileNotFoundError(f"no built si_score dataset at {version_dir}")
  from kubricgen.datasets.verify import open_builder  # pylint: disable=import-outside-toplevel
  builder = open_builder(version_dir)
  names = builder.info.features["label"].names
  stock_names = {i: stock_class_name(n) for i, n in enumerate(names)}
  dataset = builder.as_dataset(split="test", decoders={"image": tfds.decode.SkipDecoding(),
                                                       "mask": tfds.decode.SkipDecoding()})
  exported, skipped = collections.Counter(), collections.Counter()
  os.makedirs(out_dir, exist_ok=True)
  zip_path = os.path.join(out_dir, f"{config}.zip")
  with atomic.staged_file(zip_path) as temporary:
    with zipfile.ZipFile(temporary, "w", compression=zipfile.ZIP_STORED) as archive:
      for example in dataset.as_numpy_iterator():
        label = int(example["label"])
        stock = stock_names[label]
        if stock is None:
          skipped[names[label]] += 1
          continue
        archive.writestr(f"{STOCK_FOLDERS[config]}/{stock}/{int(example['image_id'])}.jpg", example["image"])
        exported[stock] += 1
    if not exported:
      found = ", ".join(f"{name} ({count} images)" for name, count in sorted(skipped.items())) or "no images"
      raise ValueError(f"none of its classes is one of the 61 stock SI-Score classes ({found}): nothing to export")
  return ExportResult(config, zip_path, None, dict(exported), dict(skipped))


def prepare_stock(zip_path: str, config: str, data_dir: str) -> str:
  """Build the stock `siscore/<config>` dataset in `data_dir` from our zip, with the stock builder's own code (an
  earlier one there is replaced: TFDS would otherwise keep serving it)."""
  import tensorflow_datasets as tfds  # pylint: disable=import-outside-toplevel
  builder = tfds.builder(f"siscore/{config}", data_dir=data_dir)
  extracted = tempfile.mkdtemp(prefix="siscore-export-")
  try:
    with zipfile.ZipFile(zip_path) as archive:
      for member in archive.namelist():
        if member.startswith("/") or ".." in member.split("/"):
          raise ValueError(f"{zip_path}: unsafe archive entry {member!r}")
      archive.extractall(extracted)
    datapath = os.path.join(extracted, STOCK_FOLDERS[config])
    # The stock builder downloads its zip from S3 and TFDS has no public option to give it a local archive: point
    # this builder instance's (unchanged) example generator at ours instead. Checked against tensorflow-datasets
    # 4.9.10's siscore builder; tests/datasets/si_score/test_builder.py builds the stock dataset from our export.
    builder._split_generators = lambda dl_manager: {"test": builder._generate_examples(datapath=datapath)}  # pylint: disable=protected-access
    builder.download_and_prepare(download_config=tfds.download.DownloadConfig(
        download_mode=tfds.download.GenerateMode.REUSE_CACHE_IF_EXISTS))
  finally:
    shutil.rmtree(extracted, ignore_errors=True)
  return builder.data_dir


def export(version_dir: str, config: str, out_dir: str, stock_data_dir: str | None = None) -> ExportResult:
  result = write_zip(version_dir, config, out_dir)
  if stock_data_dir:
    result.stock_dir = prepare_stock(result.zip_path, config, stock_data_dir)
  return result
