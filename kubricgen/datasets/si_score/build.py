"""Build SI-Score configs into a TFDS data_dir (local or gs://) and publish each atomically.

Beam builds (the default): every job runs on a worker, which writes the job's shard (tfrecord and array_record)
into a staging folder beside the data_dir's `si_score/` folder, or on gs:// straight under the final version prefix;
the driver assembles dataset_info.json from the shards' markers and publishes (a folder swap; on gs://,
dataset_info.json uploaded last). In-process builds (`beam_args=None`) write through TFDS's own writer into a
private staging folder, add the array_record copy and publish the same way (a gs:// data_dir is built locally and
uploaded). A crash at any point leaves the published dataset untouched; re-running redoes only what is missing
(committed shards and cut-outs are kept). A config that already exists is skipped when its recorded build settings
(`kubricgen_build.json`: the generator's identity and the writer) equal this build's, and refused with one line
naming the first difference otherwise, unless `overwrite`.

The sharding layer (kubricgen_sharding) knows only keys, jobs and records; this module hands it SI-Score's: the jobs
(`specs.Job`: a key and its image count as `items`), the serializer (`Generator.serialized_examples`: a job's
serialized tf.train.Examples), the shard files' prefix (`si_score-{split}`) and where they go; it writes
dataset_info.json from the shards' markers itself.
"""
from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
from typing import Iterator

from kubricgen.datasets import checksums
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


# Settings added after configs were first published, with the value that reproduces those builds.
SETTINGS_ADDED_LATER = {"grids": "default"}


def check_published(final: str, identity: dict | None, name: str, record_text: str | None = None) -> None:
  """Raise PublishedMismatch unless the config published at `final` was built with `identity` (None: any).
  `record_text`: the published BUILD_RECORD's text when it is not a local file (gs://); read from `final` otherwise."""
  if identity is None:
    return
  if record_text is None:
    record = os.path.join(final, BUILD_RECORD)
    if os.path.isfile(record):
      with open(record, encoding="utf-8") as handle:
        record_text = handle.read()
  if record_text is None:
    raise PublishedMismatch(f"{name} at {final} has no record of its build settings (built by an older kubricgen); "
                            "pass --overwrite to rebuild it with these settings, or use another --data_dir")
  published = json.loads(record_text)
  if isinstance(published.get("settings"), dict):  # a record from before a setting existed was built at its default
    published["settings"] = {**SETTINGS_ADDED_LATER, **published["settings"]}
    if isinstance(published["settings"].get("classes"), list):  # recorded in the order given before it was sorted
      published["settings"]["classes"] = sorted(set(published["settings"]["classes"]))
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


@contextlib.contextmanager
def deterministic_serialization():
  """For the block, make TFDS's own writer serialise tf.train.Examples with a fixed map order.

  TFDS calls `SerializeToString()`, whose map-field order varies from process to process, so the same examples
  would give different file bytes on every run. Byte-identical reruns are a promise of this project. The Beam build
  serialises through `schema.serialize` (TFDS's public ExampleSerializer, `deterministic=True`) and needs nothing
  here; the in-process build goes through TFDS's writer, which offers no serializer option, so for the length of
  that write `ExampleSerializer.serialize_example` is replaced (the bytes stay a valid tf.train.Example) and then
  restored. Checked against tensorflow-datasets 4.9.10 (tests/datasets/si_score/test_builder.py pins it).
  """
  from tensorflow_datasets.core import example_serializer  # pylint: disable=import-outside-toplevel
  serializer = example_serializer.ExampleSerializer
  original = serializer.__dict__["serialize_example"]
  serializer.serialize_example = lambda self, example: self.get_tf_example(example).SerializeToString(
      deterministic=True)
  try:
    yield
  finally:
    serializer.serialize_example = original


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
def _config_lock(data_dir: str, config: str, keep: str | None = None):
  """One build of a config per data_dir at a time; staging folders of dead builds are removed, except `keep` (the
  resumable staging folder of a build with this build's settings)."""
  os.makedirs(data_dir, exist_ok=True)
  with open(os.path.join(data_dir, f".{NAME}-{config}.lock"), "w", encoding="utf-8") as handle:
    try:
      fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
      raise RuntimeError(f"another build of {NAME}/{config} is running in {data_dir}") from None
    for name in os.listdir(data_dir):
      if name.startswith(f".{NAME}-{config}-staging-") and name != keep:
        shutil.rmtree(os.path.join(data_dir, name), ignore_errors=True)
    yield


def _publish(staged: str, final: str) -> None:
  """Swap the staged version folder in; readers see the old dataset or the new one, never none."""
  from kubricgen import atomic  # pylint: disable=import-outside-toplevel
  atomic.replace_folder(staged, final)


SHARD_WRITER = "kubricgen-shards-1"  # the Beam build's layout: one shard per job, records in job order


def _staging_name(config: str, generator: Generator) -> str:
  """The Beam build's staging folder (local) or marker prefix (gs://): named by everything that shapes the bytes,
  so a rerun with the same settings resumes it and one with other settings never mixes into it."""
  fingerprint = f"{SHARD_WRITER}|{config}|{generator.fingerprint()}"
  return f".{NAME}-{config}-staging-{hashlib.sha256(fingerprint.encode()).hexdigest()[:16]}"


def _write_dataset_info(builder: Builder, markers: list[dict], split: str, directory: str) -> int:
  """Write dataset_info.json, features.json and the label/metadata files into local `directory` from the shards'
  markers (shard lengths and bytes): the only per-shard work the driver does. Returns the example count."""
  import tensorflow_datasets as tfds  # pylint: disable=import-outside-toplevel
  from etils import epath  # pylint: disable=import-outside-toplevel
  from tensorflow_datasets.core import naming  # pylint: disable=import-outside-toplevel
  template = naming.ShardedFileTemplate(data_dir=epath.Path(directory), template=naming.DEFAULT_FILENAME_TEMPLATE,
                                        dataset_name=NAME, split=split, filetype_suffix="tfrecord")
  split_info = tfds.core.SplitInfo(name=split, shard_lengths=[m["examples"] for m in markers],
                                   num_bytes=sum(m["num_bytes"] for m in markers), filename_template=template)
  info = builder.info
  info.set_splits(tfds.core.SplitDict([split_info]))
  info.add_alternative_file_format("array_record")
  info.write_to_directory(directory)
  return sum(m["examples"] for m in markers)


def _summary(markers: list[dict], run_started: float, seconds: float, beam_args) -> dict:
  from kubricgen_sharding import options, summary as job_summary  # pylint: disable=import-outside-toplevel
  records = []
  for marker in markers:
    if marker.get("finished", 0.0) < run_started:  # written by an earlier, interrupted run; this run took it as it
      # was (a damaged one was written again, so its marker is new)
      marker = {**marker, "cached": True, "seconds": 0.0, "attempts": 0, "worker": None}
    records.append(marker)
  return job_summary.job_summary(records, seconds, options.runner_name(beam_args))


def _run_into(sink, builder: Builder, generator: Generator, jobs, split: str, metadata_dir: str, identity,
              beam_args, executor_settings, progress: bool, start: float) -> tuple[int, dict]:
  """Run the jobs the sink lacks (the workers write their shards), then write the dataset's metadata files and the
  build record into local `metadata_dir` from the shards' markers, read once. Returns (examples, job summary)."""
  from kubricgen_sharding.pipeline import run_jobs  # pylint: disable=import-outside-toplevel
  run_started = time.time()
  run_jobs(jobs, generator.serialized_examples, sink, beam_args, executor_settings,
           f"{NAME}/{builder.builder_config.name}", progress, unit="img")
  markers = sink.markers()
  sink.remove_temporaries()  # the pipeline has ended: no writer is left, only what killed ones left behind
  examples = _write_dataset_info(builder, markers, split, metadata_dir)
  _write_build_record(metadata_dir, identity)
  checksums.write(metadata_dir, {name: f["sha256"] for marker in markers for name, f in marker["files"].items()})
  summary = _summary(markers, run_started, time.perf_counter() - start, beam_args)
  summary["examples_published"] = examples
  return examples, summary


def _build_in_workers(config: str, generator: Generator, data_dir: str, overwrite: bool, progress: bool,
                      beam_args: list[str], executor_settings, identity: dict | None) -> BuiltConfig:
  """The Beam build: every job runs on a worker, which writes the job's shard files (tfrecord and array_record)
  straight into the dataset's staging folder (local) or its final gs:// prefix; the driver only assembles
  dataset_info.json from the shards' markers and publishes (locally a folder swap; on gs://, dataset_info.json is
  uploaded last and only if absent). A rerun resumes from the committed shards of the same settings."""
  from kubricgen_sharding import probe  # pylint: disable=import-outside-toplevel
  from kubricgen_sharding.shards import ShardedSplit  # pylint: disable=import-outside-toplevel
  version = str(Builder.VERSION)
  split = specs.SPLIT_OF_SUBSET[config]
  remote = data_dir.startswith("gs://")
  if not remote:
    os.makedirs(data_dir, exist_ok=True)
  shared = {"--data_dir": data_dir}
  if getattr(generator, "cache_dir", None):
    shared["--cache_dir"] = generator.cache_dir
  probe.check_shared(shared, beam_args)  # on a cluster: refuse paths the workers cannot see, before any work
  staging_name = _staging_name(config, generator)
  start = time.perf_counter()
  metadata_scratch = tempfile.mkdtemp(prefix=f"kubricgen-{NAME}-{config}-info-")
  try:
    builder = Builder(config=config, data_dir=metadata_scratch, file_format="tfrecord", generator=generator,
                      progress=progress)
    jobs = builder.jobs()
    keys = tuple(job.key for job in jobs)
    if remote:
      return _build_in_workers_gcs(config, generator, data_dir, overwrite, progress, beam_args, executor_settings,
                                   identity, builder, jobs, keys, split, staging_name, metadata_scratch, start)
    final = os.path.join(data_dir, NAME, config, version)
    with _config_lock(data_dir, config, keep=staging_name):
      if os.path.isfile(os.path.join(final, "dataset_info.json")) and not overwrite:
        check_published(final, identity, f"{NAME}/{config}")
        log.info("%s/%s already built at %s with these settings (pass --overwrite to rebuild)", NAME, config, final)
        return BuiltConfig(config, final, -1, 0.0, skipped=True)
      staging = os.path.join(data_dir, staging_name)
      staged = os.path.join(staging, NAME, config, version)
      sink = ShardedSplit(staged, os.path.join(staging, "shards"), f"{NAME}-{split}", keys).prepare()
      examples, summary = _run_into(sink, builder, generator, jobs, split, staged, identity, beam_args,
                                    executor_settings, progress, start)
      _publish(staged, final)
      shutil.rmtree(staging, ignore_errors=True)
      with open(os.path.join(data_dir, NAME, config, f"job_summary-{version}.json"), "w", encoding="utf-8") as f:
        json.dump(summary, f, indent=2)
    return BuiltConfig(config, final, examples, time.perf_counter() - start, summary=summary)
  finally:
    shutil.rmtree(metadata_scratch, ignore_errors=True)


def _build_in_workers_gcs(config, generator, data_dir, overwrite, progress, beam_args, executor_settings, identity,
                          builder, jobs, keys, split, staging_name, metadata_scratch, start) -> BuiltConfig:
  """gs:// data_dir: shards go straight to the final version prefix (TFDS ignores a version folder until its
  dataset_info.json exists), markers to `{data_dir}/{staging_name}/shards/`; no published object is replaced."""
  from kubricgen_sharding.pipeline import run_jobs  # pylint: disable=import-outside-toplevel
  from kubricgen_sharding.shards import ShardedSplit  # pylint: disable=import-outside-toplevel
  from kubricgen.storage import default_storage  # pylint: disable=import-outside-toplevel
  from kubricgen_sharding import options  # pylint: disable=import-outside-toplevel
  storage = default_storage()
  root = data_dir.rstrip("/")
  final = f"{root}/{NAME}/{config}/{builder.VERSION}"
  markers = f"{root}/{staging_name}/shards"
  if options.is_dry_run(beam_args):  # build the pipeline (Dataflow: its job request) offline; touch no storage
    run_jobs(jobs, generator.serialized_examples, ShardedSplit(final, markers, f"{NAME}-{split}", keys), beam_args,
             executor_settings, f"{NAME}/{config}", progress, unit="img")
  if storage.exists(f"{final}/dataset_info.json"):
    if overwrite:
      raise FileExistsError(f"{final} already holds a dataset, and gs:// datasets are never overwritten in place: "
                            "delete that prefix first, or use another --data_dir")
    record = f"{final}/{BUILD_RECORD}"
    check_published(final, identity, f"{NAME}/{config}",
                    storage.read_bytes(record).decode() if storage.exists(record) else None)
    log.info("%s/%s already built at %s with these settings", NAME, config, final)
    return BuiltConfig(config, final, -1, 0.0, skipped=True)
  if not storage.list(markers + "/"):
    # A fresh build: whatever lies under the unpublished version prefix is left by an interrupted build with other
    # settings (a published one has dataset_info.json); nobody reads it, and it must not mix into this one.
    storage.delete_prefix(final + "/")
  sink = ShardedSplit(final, markers, f"{NAME}-{split}", keys).prepare()
  local = os.path.join(metadata_scratch, "info")
  os.makedirs(local)
  examples, summary = _run_into(sink, builder, generator, jobs, split, local, identity, beam_args, executor_settings,
                                progress, start)
  names = sorted(os.listdir(local))
  for name in [n for n in names if n != "dataset_info.json"] + ["dataset_info.json"]:  # the marker TFDS reads: last
    storage.upload_file(os.path.join(local, name), f"{final}/{name}", if_absent=True)
  sink.remove_markers()
  summary_file = os.path.join(metadata_scratch, "job_summary.json")
  with open(summary_file, "w", encoding="utf-8") as handle:
    json.dump(summary, handle, indent=2)
  storage.upload_file(summary_file, f"{root}/{NAME}/{config}/job_summary-{builder.VERSION}.json")
  return BuiltConfig(config, final, examples, time.perf_counter() - start, summary=summary)


def _write_build_record(version_dir: str, identity: dict | None) -> None:
  if identity is not None:
    with open(os.path.join(version_dir, BUILD_RECORD), "w", encoding="utf-8") as handle:
      json.dump(identity, handle, indent=1, sort_keys=True, default=str)


def build_config(config: str, generator: Generator, data_dir: str, overwrite: bool = False,
                 progress: bool = True, beam_args: list[str] | None = None, executor_settings=None) -> BuiltConfig:
  """Build one config and publish it under `data_dir`. `beam_args` (a list, possibly empty) runs the jobs as a
  Beam pipeline (local workers by default) whose workers write the shards; None generates in this process and
  writes through TFDS's own writer (local data_dir only; `build` uploads the result to a gs:// one)."""
  if config not in CONFIG_NAMES:
    raise ValueError(f"unknown si_score config {config!r}; expected one of {list(CONFIG_NAMES)}")
  quiet_tfds()
  identity = generator.identity() if hasattr(generator, "identity") else None
  if identity is not None:  # the two writers order records differently: a build never passes for the other's
    identity = {**identity, "writer": SHARD_WRITER if beam_args is not None else "tfds"}
  if beam_args is not None:
    return _build_in_workers(config, generator, data_dir, overwrite, progress, beam_args, executor_settings,
                             identity)
  version = str(Builder.VERSION)
  final = os.path.join(data_dir, NAME, config, version)
  with _config_lock(data_dir, config):  # checked under the lock: a concurrent build may have just published
    if os.path.isfile(os.path.join(final, "dataset_info.json")) and not overwrite:
      check_published(final, identity, f"{NAME}/{config}")
      log.info("%s/%s already built at %s with these settings (pass --overwrite to rebuild)", NAME, config, final)
      return BuiltConfig(config, final, -1, 0.0, skipped=True)
    staging = tempfile.mkdtemp(prefix=f".{NAME}-{config}-staging-", dir=data_dir)
    start = time.perf_counter()
    try:
      builder = Builder(config=config, data_dir=staging, file_format="tfrecord", generator=generator,
                        progress=progress)
      with deterministic_serialization():
        builder.download_and_prepare()
      staged = os.path.join(staging, NAME, config, version)
      _convert_to_array_record(staged)
      _write_build_record(staged, identity)
      checksums.write(staged)
      examples = sum(split.num_examples for split in builder.info.splits.values())
      _publish(staged, final)
    finally:
      shutil.rmtree(staging, ignore_errors=True)
  return BuiltConfig(config, final, examples, time.perf_counter() - start)


def plan(config: str, settings: specs.Settings, generator_factory=Generator) -> int:
  """The number of candidate examples of `config` with `settings`: its specs, from the class and background libraries
  only (nothing is rendered). Every candidate becomes an example, except in subsets with a visibility threshold
  (rotation and size: 0.95), whose candidates with less of the object inside the image are dropped when rendered.
  Raises ValueError in one line when the config cannot be made (an unknown config or class, too few classes for
  occluders, distractors or surfaces, too few backgrounds)."""
  if config not in CONFIG_NAMES:
    raise ValueError(f"unknown si_score config {config!r}; expected one of {list(CONFIG_NAMES)}")
  generator = generator_factory(settings)
  return len(specs.config_specs(config, settings, generator.library, list(generator.backgrounds.ids)))


def build(configs, settings: specs.Settings, data_dir: str | None = None, overwrite: bool = False,
          cache_dir: str | None = None, progress: bool = True, generator_factory=Generator,
          beam_args: list[str] | None = None, executor_settings=None) -> list[BuiltConfig]:
  """Build `configs` into `data_dir` (local or gs://). With `beam_args` the workers write the shards where the
  dataset is made (on gs:// in place); in-process builds of a gs:// data_dir are made locally and uploaded."""
  data_dir = data_dir or default_data_dir()
  remote = data_dir if data_dir.startswith("gs://") and beam_args is None else None
  local_dir = tempfile.mkdtemp(prefix="kubricgen-si_score-") if remote else data_dir
  if cache_dir is None:  # beside the data: on gs:// too, where every worker reaches it
    cache_dir = f"{data_dir.rstrip('/')}/.{NAME}-cache" if data_dir.startswith("gs://") else \
        os.path.join(data_dir, f".{NAME}-cache")
  generator = generator_factory(settings, cache_dir=cache_dir)
  try:
    if beam_args is None and getattr(generator, "processes", 0) is None:
      # Composite + encode in child processes beside this one's TFDS writing: one per spare core, at most 2 (this
      # process's writing cannot keep up with more).
      generator.processes = min(2, (os.cpu_count() or 1) - 1)
      generator.start()
    results = [build_config(config, generator, local_dir, overwrite and not remote, progress, beam_args,
                            executor_settings) for config in configs]
    if remote:
      from kubricgen_sharding import gcs  # pylint: disable=import-outside-toplevel
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
