"""Build SI-Score configs into a TFDS data_dir: stage, write, add array_record, publish atomically, preview.

Each config is written into a private staging folder beside the data_dir's `si_score/` folder, converted so both
`tfds.load` (tfrecord) and `tfds.data_source` (array_record) can read it, and only then renamed into place. A crash
at any point leaves the published dataset untouched; re-running redoes only the missing configs (cut-outs are
cached), and a config that already exists is skipped unless `overwrite`.
"""
from __future__ import annotations

import dataclasses
import logging
import os
import shutil
import tempfile
import time

from kubricgen.datasets.si_score import specs
from kubricgen.datasets.si_score.generate import Generator
from kubricgen.datasets.si_score.si_score_dataset_builder import CONFIG_NAMES, Builder

log = logging.getLogger("kubricgen")
NAME = "si_score"


@dataclasses.dataclass
class BuiltConfig:
  config: str
  path: str
  examples: int
  seconds: float
  skipped: bool = False


def default_data_dir() -> str:
  return os.path.expanduser(os.environ.get("TFDS_DATA_DIR", "~/tensorflow_datasets"))


def _convert_to_array_record(version_dir: str) -> None:
  from tensorflow_datasets.scripts.cli import convert_format_utils  # pylint: disable=import-outside-toplevel
  convert_format_utils.convert_dataset(out_dir=None, out_file_format="array_record", dataset_version_dir=version_dir,
                                       num_workers=1)


def quiet_tfds() -> None:
  """Keep TFDS/absl to warnings: our own progress bars say what is happening."""
  import tensorflow_datasets as tfds  # pylint: disable=import-outside-toplevel
  from absl import logging as absl_logging  # pylint: disable=import-outside-toplevel
  absl_logging.set_verbosity(absl_logging.WARNING)
  tfds.disable_progress_bar()


def build_config(config: str, generator: Generator, data_dir: str, overwrite: bool = False,
                 progress: bool = True, beam_options=None) -> BuiltConfig:
  """Build one config; returns where it was published."""
  quiet_tfds()
  if config not in CONFIG_NAMES:
    raise ValueError(f"unknown si_score config {config!r}; expected one of {list(CONFIG_NAMES)}")
  version = str(Builder.VERSION)
  final = os.path.join(data_dir, NAME, config, version)
  if os.path.isfile(os.path.join(final, "dataset_info.json")) and not overwrite:
    log.info("%s/%s already built at %s (pass --overwrite to rebuild)", NAME, config, final)
    return BuiltConfig(config, final, -1, 0.0, skipped=True)
  os.makedirs(data_dir, exist_ok=True)
  staging = tempfile.mkdtemp(prefix=f".{NAME}-{config}-staging-", dir=data_dir)
  start = time.perf_counter()
  try:
    builder = Builder(config=config, data_dir=staging,
                      file_format="tfrecord", generator=generator, progress=progress)
    download_config = None
    if beam_options is not None:
      import tensorflow_datasets as tfds  # pylint: disable=import-outside-toplevel
      download_config = tfds.download.DownloadConfig(beam_options=beam_options)
    builder.download_and_prepare(download_config=download_config)
    staged = os.path.join(staging, NAME, config, version)
    _convert_to_array_record(staged)
    examples = sum(split.num_examples for split in builder.info.splits.values())
    os.makedirs(os.path.dirname(final), exist_ok=True)
    if os.path.exists(final):
      trash = f"{staging}-old"
      os.replace(final, trash)
      os.replace(staged, final)
      shutil.rmtree(trash, ignore_errors=True)
    else:
      os.replace(staged, final)
  finally:
    shutil.rmtree(staging, ignore_errors=True)
  return BuiltConfig(config, final, examples, time.perf_counter() - start)


def build(configs, settings: specs.Settings, data_dir: str | None = None, overwrite: bool = False,
          cache_dir: str | None = None, progress: bool = True, generator_factory=Generator, beam_options=None
          ) -> list[BuiltConfig]:
  data_dir = data_dir or default_data_dir()
  cache_dir = cache_dir or os.path.join(data_dir, f".{NAME}-cache")
  generator = generator_factory(settings, cache_dir=cache_dir)
  return [build_config(config, generator, data_dir, overwrite, progress, beam_options) for config in configs]
