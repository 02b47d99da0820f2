"""Beam pipeline options: known flags first, everything else handed to Beam untouched.

The embedded default is the FnApiRunner with one thread per worker (DirectRunner would first try to download the
Prism runner binary, which fails offline). Threads are enough: a Beam worker only hands jobs to its job child process
(kubricgen_sharding.executor) and writes their results to the cache, so every job still runs in a process of its
own, while the seconds it takes to start (and stop) a worker process that imports Beam are saved on every run
(BENCHMARKS.md, "Beam jobs (issue 7)"); `--direct_running_mode=multi_processing` still gives one process per worker.
Any standard option passes through: `--runner DataflowRunner --project P --region R --temp_location gs://...
--sdk_container_image IMAGE`, `--runner DaskRunner --dask_client_address HOST:PORT`, `--runner PortableRunner
--job_endpoint HOST:PORT` (Flink/Spark job servers), ...
"""
from __future__ import annotations

import os

LOCAL_DEFAULTS = ("--runner=FnApiRunner", "--direct_running_mode=multi_threading")
# Runners Beam only knows by their full path.
RUNNER_ALIASES = {"DaskRunner": "apache_beam.runners.dask.dask_runner.DaskRunner"}


def _normalise(args: list[str]) -> list[str]:
  """'--runner X' -> '--runner=X' with aliases expanded; a bare '--dry_run' -> '--dry_run=True'."""
  out, index = [], 0
  while index < len(args):
    arg = args[index]
    if arg == "--runner" and index + 1 < len(args):
      arg, index = f"--runner={args[index + 1]}", index + 1
    elif arg == "--dry_run" and (index + 1 == len(args) or args[index + 1].startswith("--")):
      arg = "--dry_run=True"  # Beam's flag wants a value; a bare flag means yes
    if arg.startswith("--runner="):
      name = arg.split("=", 1)[1]
      arg = f"--runner={RUNNER_ALIASES.get(name, name)}"
    out.append(arg)
    index += 1
  return out


def pipeline_args(beam_args: list[str] | None, workers: int | None = None) -> list[str]:
  """Beam arguments with the local defaults filled in where the user gave no runner."""
  args = _normalise(list(beam_args or []))
  if not any(a.startswith("--runner") for a in args):
    args += [a for a in LOCAL_DEFAULTS if not any(given.startswith(a.split("=")[0]) for given in args)]
    if not any(a.startswith("--direct_num_workers") for a in args):
      args.append(f"--direct_num_workers={workers or min(2, os.cpu_count() or 1)}")
  return args


def pipeline_options(beam_args: list[str] | None, workers: int | None = None):
  from apache_beam.options.pipeline_options import PipelineOptions  # pylint: disable=import-outside-toplevel
  return PipelineOptions(pipeline_args(beam_args, workers))


def is_dry_run(beam_args: list[str] | None) -> bool:
  """Whether `--dry_run` asks to build the pipeline (and Dataflow's job request) without running anything."""
  from apache_beam.options.pipeline_options import TestOptions  # pylint: disable=import-outside-toplevel
  return beam_args is not None and bool(pipeline_options(beam_args).view_as(TestOptions).dry_run)


def runner_name(beam_args: list[str] | None) -> str:
  for arg in pipeline_args(beam_args):
    if arg.startswith("--runner"):
      return arg.split("=", 1)[1].rsplit(".", 1)[-1]
  return "FnApiRunner"


def unknown_args(beam_args: list[str]) -> list[str]:
  """The arguments no Beam option (of the runners installed here) recognises: typos, or flags meant elsewhere."""
  import argparse  # pylint: disable=import-outside-toplevel
  from apache_beam.options.pipeline_options import PipelineOptions  # pylint: disable=import-outside-toplevel
  if any("DaskRunner" in a for a in beam_args):
    import apache_beam.runners.dask.dask_runner  # noqa: F401  pylint: disable=import-outside-toplevel,unused-import
  parser = argparse.ArgumentParser(allow_abbrev=False, add_help=False)
  seen, pending = set(), list(PipelineOptions.__subclasses__())
  while pending:
    cls = pending.pop()
    if cls in seen:
      continue
    seen.add(cls)
    pending += cls.__subclasses__()
    try:
      cls._add_argparse_args(parser)  # pylint: disable=protected-access
    except argparse.ArgumentError:
      pass  # an option two classes both declare
  _, unknown = parser.parse_known_args(_normalise(beam_args))
  return unknown
