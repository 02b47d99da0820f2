"""The Beam transform that turns keyed jobs into stored results, exactly once, and the live progress it reports.

`run_jobs(jobs, make_examples, sink, beam_args)` runs every job whose result `sink` does not hold yet, on any
runner, and the worker that ran a job stores its result through the sink: a `kubricgen_sharding.shards.ShardedSplit`
writes it as the job's own TFDS shard files where the dataset is made (a local folder or gs://), a
`kubricgen_sharding.cache.JobCache` keeps it for a later reader. What is stored depends only on the job, so the
result does not depend on the runner, the number of workers or how often a run was interrupted.

The protocols, all this layer knows of the work:
  job: any picklable object with a unique `key` (str) and, optionally, `items` (an int: how many items it makes,
    e.g. images; default 1), which the progress bar counts and the largest jobs are dealt out by.
  make_examples(job): run in the job's own process; returns the job's examples (an iterable), which the sink stores:
    bytes records for a ShardedSplit (so this function is the serializer), JSON values for a JobCache. It must be
    importable by name (a module-level function, or a method of a picklable object).
  sink: `has(key)`, `save(key, examples, stats)` and `finished()` (the keys done).
"""
from __future__ import annotations

import contextlib
import functools
import logging
import os
import pickle
import re
import socket
import sys
import threading
import time
import zlib
from typing import Any, Callable, Sequence

import apache_beam as beam

from kubricgen_sharding.executor import ExecutorSettings, JobExecutor, materialise


class _RunJob(beam.DoFn):
  """Skip a job whose result the sink holds; else run it in an isolated child process and store its result.

  Emits only the job key: results go straight to the sink from the worker that made them, so no runner has to move
  image bytes between stages (and a runner's own sinks or side inputs, which misbehave under some runners such as
  Dask, are never needed).
  """

  def __init__(self, make_examples: Callable, cache, settings: ExecutorSettings):
    super().__init__()
    self.make_examples = make_examples
    self.cache = cache
    self.settings = settings
    self.rendered = beam.metrics.Metrics.counter("kubricgen", "jobs_rendered")
    self.reused = beam.metrics.Metrics.counter("kubricgen", "jobs_cached")
    self.retried = beam.metrics.Metrics.counter("kubricgen", "job_retries")

  def setup(self):
    self.executor = JobExecutor(self.settings, fresh_imports=True)  # job processes start like Beam workers

  def process(self, element):
    key, items, pickled_job = element
    if self.cache.has(key):
      self.reused.inc()
    else:
      examples, pid, seconds, attempts = self.executor.run(functools.partial(materialise, self.make_examples),
                                                           pickled_job, key=key)
      self.cache.save(key, examples, {"items": items, "examples": len(examples), "seconds": seconds,
                                      "worker": f"{socket.gethostname()}:{pid}", "attempts": attempts,
                                      "cached": False, "finished": time.time()})
      self.rendered.inc()
      self.retried.inc(attempts - 1)
    yield key

  def teardown(self):
    executor = getattr(self, "executor", None)
    if executor is not None:
      executor.close(wait=False)  # runners tear workers down one after another; the processes exit on their own


def _items(job) -> int:
  """How many items `job` makes: its `items` (module docstring), 1 if it has none."""
  items = getattr(job, "items", 1)
  if isinstance(items, bool) or not isinstance(items, int) or items < 0:
    raise TypeError(f"job {job.key!r}: `items` must be a count (an int >= 0), got {items!r}")
  return items


class RunJobs(beam.PTransform):
  """jobs -> keys of finished jobs. Jobs are spread over workers; each runs at most once per cache.

  A job travels as (key, items, pickled job): Beam's coders then move plain bytes, where a job object (one may hold
  thousands of dataclasses) would be pickled and unpickled again at every stage boundary, and only the job's own
  process unpickles it. (Measured: 6 jobs of 2000 dataclasses each took Beam ~1.2 s to move before, BENCHMARKS.md.)
  """

  def __init__(self, jobs: Sequence[Any], make_examples: Callable, cache,
               settings: ExecutorSettings | None = None):
    super().__init__()
    self.jobs = list(jobs)
    self.make_examples = make_examples
    self.cache = cache
    self.settings = settings or ExecutorSettings()

  def expand(self, pipeline):
    # Largest jobs first: the local runner deals elements to its workers round-robin in this order, so their loads
    # even out (a random order left one of 2 workers ~1 s of 13 s idle at the end, BENCHMARKS.md); runners that
    # rebalance work are left with short jobs at the end.
    ordered = sorted(self.jobs, key=lambda job: -_items(job))
    elements = [(job.key, _items(job), zlib.compress(pickle.dumps(job, protocol=pickle.HIGHEST_PROTOCOL), 1))
                for job in ordered]
    return (pipeline
            | "CreateJobs" >> beam.Create(elements, reshuffle=True)
            | "RunJobs" >> beam.ParDo(_RunJob(self.make_examples, self.cache, self.settings)))


class DryRun(Exception):
  """`--dry_run`: the job graph was built (and, for Dataflow, the job description) but nothing ran."""

  def __init__(self, result):
    super().__init__("dry run: the pipeline was built but not run")
    self.result = result


class _DropRunnerErrors(logging.Filter):
  def filter(self, record: logging.LogRecord) -> bool:
    return not (record.name.startswith("apache_beam") and record.levelno >= logging.ERROR)


class _StderrWithoutTracebacks:
  """sys.stderr, less the tracebacks Beam's in-process SDK worker prints (`print(traceback.format_exc(),
  file=sys.stderr)`, one write, then the newline)."""

  def __init__(self, stream):
    self._stream, self._dropped = stream, False

  def write(self, text: str) -> int:
    dropped, self._dropped = self._dropped, False
    if text.startswith("Traceback (most recent call last):"):
      self._dropped = True
      return len(text)
    if dropped and text == "\n":
      return len(text)
    return self._stream.write(text)

  def __getattr__(self, name):
    return getattr(self._stream, name)


@contextlib.contextmanager
def _quiet_runner_errors():
  """While the pipeline runs, the runner's own reports of a failing bundle (Beam prints its traceback and logs it
  again before it fails the pipeline: hundreds of lines) are dropped from stderr and the root logger's handlers: the
  failure reaches the caller as JobsFailed, one line. After a failure they stay dropped for the rest of the process.
  KUBRICGEN_DEBUG=1 keeps them."""
  if os.environ.get("KUBRICGEN_DEBUG"):
    yield
    return
  handlers, drop = list(logging.getLogger().handlers), _DropRunnerErrors()
  for handler in handlers:
    handler.addFilter(drop)
  stderr, sys.stderr = sys.stderr, _StderrWithoutTracebacks(sys.stderr)
  yield  # an exception leaves both in place: the runner's other worker threads keep failing their bundles (and
  # reporting them) until the process ends, after the caller has printed its one line
  sys.stderr = stderr
  for handler in handlers:
    handler.removeFilter(drop)


class JobsFailed(RuntimeError):
  """The pipeline failed; the message is one line: the runner and the error a worker raised."""


_CAUSE = re.compile(r"^(?:[A-Za-z_][\w.]*\.)?[A-Z]\w*(?:Error|Exception|Exhausted|Failed|Interrupt)\b[^:]*:\s*\S")


def root_cause(error: BaseException) -> str:
  """The line that names what went wrong, from an exception whose text may hold a worker's whole traceback (Beam
  wraps the worker's error as "... Traceback ... Type: message [while running 'Stage']"): its last
  "Type: message" line, without the stage suffix; else its last line."""
  lines = [line.strip() for line in str(error).splitlines() if line.strip()]
  causes = [line for line in lines if _CAUSE.match(line)]
  line = causes[-1] if causes else (lines[-1] if lines else type(error).__name__)
  line = re.sub(r"\s*\[while running '[^']*'\]\s*$", "", line)
  return line if causes else f"{type(error).__name__}: {line}"


def run_jobs(jobs: Sequence[Any], make_examples: Callable, cache, beam_args: list[str] | None,
             settings: ExecutorSettings | None = None, description: str = "jobs", progress: bool = True,
             unit: str = "item") -> None:
  """Run every job whose result the sink `cache` lacks on the Beam runner named by `beam_args`, then check that
  all are there (RuntimeError naming the first missing job otherwise). Jobs, `make_examples` and the sink follow the
  module docstring's protocols; `description` and `unit` (what a job's `items` are) label the progress bar.

  With Beam's `--dry_run` the graph is built (Dataflow: the job request too, without submitting) and DryRun is
  raised carrying the pipeline result.

  Raises:
    JobsFailed: the pipeline failed (one line: the runner and the worker's error, e.g. a job that kept failing or a
      full disk); RuntimeError: it finished without every job's result.
  """
  from apache_beam.options.pipeline_options import TestOptions  # pylint: disable=import-outside-toplevel
  from kubricgen_sharding import options  # pylint: disable=import-outside-toplevel
  logging.getLogger("apache_beam").setLevel(logging.WARNING)  # worker start/stop chatter; progress says enough
  pipeline_options = options.pipeline_options(beam_args)
  pipeline = beam.Pipeline(options=pipeline_options)
  _ = pipeline | "Jobs" >> RunJobs(jobs, make_examples, cache, settings)
  if pipeline_options.view_as(TestOptions).dry_run:
    raise DryRun(pipeline.run())
  try:
    with ProgressMonitor(cache, jobs, description, enabled=progress, unit=unit), _quiet_runner_errors():
      pipeline.run().wait_until_finish()
  except Exception as error:  # pylint: disable=broad-except  # runners embed the worker's traceback in the text
    raise JobsFailed(f"the {options.runner_name(beam_args)} pipeline failed: {root_cause(error)}") from error
  finished = cache.finished()
  missing = [job.key for job in jobs if job.key not in finished]
  if missing:
    raise RuntimeError(f"the {options.runner_name(beam_args)} pipeline finished but {len(missing)} of {len(jobs)} "
                       f"jobs left no result (first: {missing[0]}); rerun to render only those")


class ProgressMonitor:
  """Live progress on the driver: polls which jobs the sink holds (one listing per poll, written by the workers as
  jobs finish)."""

  def __init__(self, cache, jobs: Sequence[Any], description: str, enabled: bool = True,
               interval: float = 0.5, unit: str = "item"):
    self.cache, self.interval, self.unit = cache, interval, unit
    self.items = {job.key: _items(job) for job in jobs}
    self.total = sum(self.items.values())
    self.description, self.enabled = description, enabled
    self._stop = threading.Event()
    self._thread = threading.Thread(target=self._loop, daemon=True)

  def __enter__(self):
    if self.enabled:
      self._thread.start()
    return self

  def __exit__(self, *exc):
    self._stop.set()
    if self.enabled:
      self._thread.join()

  def _loop(self):
    from tqdm.auto import tqdm  # pylint: disable=import-outside-toplevel
    with tqdm(total=self.total, desc=self.description, unit=self.unit, smoothing=0.1) as bar:
      while True:
        stopping = self._stop.is_set()
        finished = self.cache.finished() & self.items.keys()
        done = sum(self.items[key] for key in finished)
        bar.set_postfix(jobs=f"{len(finished)}/{len(self.items)}", refresh=False)
        bar.update(done - bar.n)
        if stopping:
          return
        self._stop.wait(self.interval)
