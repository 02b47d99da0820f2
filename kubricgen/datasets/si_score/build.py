"""Build SI-Score configs into a TFDS data_dir: stage, write, add array_record, publish atomically, preview.

Each config is written into a private staging folder beside the data_dir's `si_score/` folder, converted so both
`tfds.load` (tfrecord) and `tfds.data_source` (array_record) can read it, and only then renamed into place. A crash
at any point leaves the published dataset untouched; re-running redoes only what is missing (finished Beam jobs and
cut-outs are cached). A config that already exists is skipped when its recorded build settings
(`kubricgen_build.json`: the generator's identity) equal this build's, and refused with one line naming the first
difference otherwise, unless `overwrite`. A data_dir on gs:// is built
locally and uploaded with dataset_info.json last, so TFDS never sees a partial copy there either.
"""
from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import json
import logging
import os
import shutil
import tempfile
import time
from typing import Iterator

from kubricgen.datasets.si_score.generate import Generator
from kubricgen.datasets.si_score.si_score_dataset_builder import CONFIG_NAMES, Builder
from kubricgen.datasets.si_score import specs

log = logging.getLogger("kubricgen")
NAME = "si_score"


BUILD_RECORD = "kubricgen_build.json"  # beside dataset_info.json: the generator identity the config was built with


class PublishedMismatch(ValueError):
  """A published config was built with other settings than this build's; one line saying what differs."""


def _first_difference(published, wanted, path: str = "") -> str | None:
  """The first dotted key whose value differs, as 'key: published X, this build Y'; None when equal."""
  if isinstance(published, dict) and isinstance(wanted, dict):
    for key in sorted(set(published) | set(wanted)):
      found = _first_difference(published.get(key, "<missing>"), wanted.get(key, "<missing>"),
                                f"{path}.{key}" if path else key)
      if found:
        return found
    return None
  if published != wanted:
    return f"{path}: published {published!r}, this build {wanted!r}"
  return None


def check_published(final: str, identity: dict | None, name: str) -> None:
  """Raise PublishedMismatch unless the config published at `final` was built with `identity` (None: any)."""
  if identity is None:
    return
  record = os.path.join(final, BUILD_RECORD)
  if not os.path.isfile(record):
    raise PublishedMismatch(f"{name} at {final} has no record of its build settings (built by an older kubricgen); "
                            "pass --overwrite to rebuild it with these settings, or use another --data_dir")
  with open(record, encoding="utf-8") as handle:
    published = json.load(handle)
  difference = _first_difference(published, json.loads(json.dumps(identity, default=str)))
  if difference:
    raise PublishedMismatch(f"{name} at {final} was built with other settings ({difference}); pass --overwrite to "
                            "replace it, or use another --data_dir")


@dataclasses.dataclass
class BuiltConfig:
  config: str
  path: str
  examples: int
  seconds: float
  skipped: bool = False
  summary: dict | None = None


def default_data_dir() -> str:
  return os.path.expanduser(os.environ.get("TFDS_DATA_DIR", "~/tensorflow_datasets"))


def quiet_tfds() -> None:
  """Keep TFDS/absl to warnings: our own progress bars say what is happening."""
  import tensorflow_datasets as tfds  # pylint: disable=import-outside-toplevel
  from absl import logging as absl_logging  # pylint: disable=import-outside-toplevel
  absl_logging.set_verbosity(absl_logging.WARNING)
  tfds.disable_progress_bar()


def deterministic_serialization() -> None:
  """Make TFDS serialise tf.train.Examples with a fixed map order.

  TFDS calls `SerializeToString()`, whose map-field order varies from process to process, so the same examples
  would give different file bytes on every run. Byte-identical reruns are a promise of this project, so the
  serializer is switched to `deterministic=True` (the bytes stay a valid tf.train.Example).
  """
  from tensorflow_datasets.core import example_serializer  # pylint: disable=import-outside-toplevel
  serializer = example_serializer.ExampleSerializer
  if getattr(serializer, "_kubricgen_deterministic", False):
    return
  serializer.serialize_example = lambda self, example: self.get_tf_example(example).SerializeToString(
      deterministic=True)
  serializer._kubricgen_deterministic = True  # pylint: disable=protected-access


def _tfrecord_records(path) -> Iterator[bytes]:
  """The records of a tfrecord file, read by TensorFlow's C++ reader (every record's CRC is checked) without
  tf.data's per-element cost (~0.25 ms a record in eager mode, against ~0.05 ms here)."""
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  logger = tf.get_logger()
  level = logger.level
  logger.setLevel(logging.ERROR)  # the iterator is tf.compat.v1 and says so once
  try:
    records = tf.compat.v1.io.tf_record_iterator(os.fspath(path))
  finally:
    logger.setLevel(level)
  yield from records


def _convert_to_array_record(version_dir: str) -> None:
  """Add an array_record copy of every tfrecord shard and list the format in dataset_info.json, as TFDS's converter
  (`tfds convert_format`) does, with the records copied byte for byte through a faster reader and writer."""
  from array_record.python import array_record_module  # pylint: disable=import-outside-toplevel
  from etils import epath  # pylint: disable=import-outside-toplevel
  from tensorflow_datasets.core import dataset_info as dataset_info_lib  # pylint: disable=import-outside-toplevel
  from tensorflow_datasets.core import file_adapters  # pylint: disable=import-outside-toplevel
  from tensorflow_datasets.core.utils import py_utils  # pylint: disable=import-outside-toplevel
  from tensorflow_datasets.scripts.cli import convert_format_utils  # pylint: disable=import-outside-toplevel
  path = epath.Path(version_dir)
  info = dataset_info_lib.read_proto_from_builder_dir(path)
  config = convert_format_utils.ConvertConfig(out_file_format=file_adapters.FileFormat.ARRAY_RECORD,
                                              fail_on_error=True, num_workers=1)
  shards = convert_format_utils.get_all_shard_instructions(info=info, in_path=path, out_path=path,
                                                            convert_config=config)
  for shard in shards:
    if shard.config.in_file_format != file_adapters.FileFormat.TFRECORD:
      raise ValueError(f"{version_dir}: expected tfrecord shards, found {shard.config.in_file_format.value}")
    with py_utils.incomplete_file(shard.out_path) as temporary:
      # As TFDS's array_record adapter writes (one record per chunk), but uncompressed: the records are JPEG and PNG
      # bytes that zstd cannot shrink (23,573 vs 23,591 bytes a record), and this writes 2.5x faster.
      writer = array_record_module.ArrayRecordWriter(os.fspath(temporary), "group_size:1,uncompressed")
      for record in _tfrecord_records(shard.in_path):
        writer.write(record)
      writer.close()
  convert_format_utils.convert_metadata(in_dir=path, info=info, out_path=path, num_converted_shards=len(shards),
                                        convert_config=config.with_in_file_format(info.file_format))


@contextlib.contextmanager
def _config_lock(data_dir: str, config: str):
  """One build of a config per data_dir at a time; stale staging folders of dead builds are removed."""
  os.makedirs(data_dir, exist_ok=True)
  with open(os.path.join(data_dir, f".{NAME}-{config}.lock"), "w", encoding="utf-8") as handle:
    try:
      fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
      raise RuntimeError(f"another build of {NAME}/{config} is running in {data_dir}") from None
    for name in os.listdir(data_dir):
      if name.startswith(f".{NAME}-{config}-staging-"):
        shutil.rmtree(os.path.join(data_dir, name), ignore_errors=True)
    yield


def _publish(staged: str, final: str) -> None:
  """Swap the staged version folder in; readers see the old dataset or the new one, never none."""
  from kubricgen.assets import atomic  # pylint: disable=import-outside-toplevel
  atomic.replace_folder(staged, final)


def build_config(config: str, generator: Generator, data_dir: str, overwrite: bool = False,
                 progress: bool = True, beam_args: list[str] | None = None, executor_settings=None,
                 cache_dir: str | None = None) -> BuiltConfig:
  """Build one config and publish it under `data_dir`. `beam_args` (a list, possibly empty) runs generation as a
  Beam pipeline (local multi-processing by default); None generates in this process."""
  if config not in CONFIG_NAMES:
    raise ValueError(f"unknown si_score config {config!r}; expected one of {list(CONFIG_NAMES)}")
  quiet_tfds()
  deterministic_serialization()
  version = str(Builder.VERSION)
  final = os.path.join(data_dir, NAME, config, version)
  identity = generator.identity() if hasattr(generator, "identity") else None
  with _config_lock(data_dir, config):  # checked under the lock: a concurrent build may have just published
    if os.path.isfile(os.path.join(final, "dataset_info.json")) and not overwrite:
      check_published(final, identity, f"{NAME}/{config}")
      log.info("%s/%s already built at %s with these settings (pass --overwrite to rebuild)", NAME, config, final)
      return BuiltConfig(config, final, -1, 0.0, skipped=True)
    staging = tempfile.mkdtemp(prefix=f".{NAME}-{config}-staging-", dir=data_dir)
    start = time.perf_counter()
    summary = None
    try:
      job_cache = None
      if beam_args is not None:
        from beam_jobs.cache import JobCache  # pylint: disable=import-outside-toplevel
        job_cache = JobCache(os.path.join(cache_dir or data_dir, "jobs"),
                             f"{config}|{generator.fingerprint()}").prepare()
      builder = Builder(config=config, data_dir=staging, file_format="tfrecord", generator=generator,
                        progress=progress, job_cache=job_cache)
      if job_cache is not None:
        from beam_jobs import options, summary as job_summary  # pylint: disable=import-outside-toplevel
        from beam_jobs.pipeline import run_jobs  # pylint: disable=import-outside-toplevel
        jobs = builder.jobs()
        # Every Blender render happens inside the jobs, on the workers: a job is one (instance, pose), so its cut-out
        # is rendered by the one worker that runs it (then shared through the cut-out cache with the other configs).
        run_jobs(jobs, generator.examples, job_cache, beam_args, executor_settings, f"{NAME}/{config}", progress)
        keys = {job.key for job in jobs}
        summary = job_summary.job_summary([r for r in job_cache.all_stats() if r["key"] in keys],
                                          time.perf_counter() - start, options.runner_name(beam_args))
      builder.download_and_prepare()
      staged = os.path.join(staging, NAME, config, version)
      _convert_to_array_record(staged)
      if identity is not None:
        with open(os.path.join(staged, BUILD_RECORD), "w", encoding="utf-8") as handle:
          json.dump(identity, handle, indent=1, sort_keys=True, default=str)
      examples = sum(split.num_examples for split in builder.info.splits.values())
      _publish(staged, final)
    finally:
      shutil.rmtree(staging, ignore_errors=True)
    if summary is not None:
      summary["examples_published"] = examples
      with open(os.path.join(data_dir, NAME, config, f"job_summary-{version}.json"), "w", encoding="utf-8") as f:
        json.dump(summary, f, indent=2)
  return BuiltConfig(config, final, examples, time.perf_counter() - start, summary=summary)


def build(configs, settings: specs.Settings, data_dir: str | None = None, overwrite: bool = False,
          cache_dir: str | None = None, progress: bool = True, generator_factory=Generator,
          beam_args: list[str] | None = None, executor_settings=None) -> list[BuiltConfig]:
  """Build `configs`; a gs:// `data_dir` is built in a local folder and uploaded (see beam_jobs.gcs)."""
  data_dir = data_dir or default_data_dir()
  remote = data_dir if data_dir.startswith("gs://") else None
  local_dir = tempfile.mkdtemp(prefix="kubricgen-si_score-") if remote else data_dir
  cache_dir = cache_dir or os.path.join(local_dir, f".{NAME}-cache")
  generator = generator_factory(settings, cache_dir=cache_dir)
  try:
    if beam_args is None and getattr(generator, "processes", 0) is None:
      # Composite + encode in child processes beside this one's TFDS writing: one per spare core, at most 2 (this
      # process's writing cannot keep up with more).
      generator.processes = min(2, (os.cpu_count() or 1) - 1)
      generator.start()
    results = [build_config(config, generator, local_dir, overwrite and not remote, progress, beam_args,
                            executor_settings, cache_dir) for config in configs]
    if remote:
      from beam_jobs import gcs  # pylint: disable=import-outside-toplevel
      for result in results:
        destination = f"{remote.rstrip('/')}/{NAME}/{result.config}/{os.path.basename(result.path)}"
        gcs.upload_dataset(result.path, destination, overwrite=overwrite)
        result.path = destination
    return results
  finally:
    if hasattr(generator, "close"):
      generator.close()
    if remote:
      shutil.rmtree(local_dir, ignore_errors=True)
