"""The Beam transform that turns keyed jobs into keyed examples, exactly once, and the live progress it reports.

`GenerateExamples(jobs, make_examples, cache)` is what a TFDS builder returns from `_generate_examples` for a Beam
build: TFDS then shuffles and writes the examples into its usual files and dataset_info.json.
"""
from __future__ import annotations

import functools
import threading
import time
from typing import Any, Callable, Sequence

import apache_beam as beam

from beam_jobs import faults
from beam_jobs.cache import JobCache
from beam_jobs.executor import ExecutorSettings, JobExecutor


def _materialise(make_examples: Callable, job) -> list:
  faults.maybe_inject(job.key)
  return list(make_examples(job))


class _RunJob(beam.DoFn):
  """Load a finished job from the cache, or run it in an isolated child process and cache it."""

  def __init__(self, make_examples: Callable, cache: JobCache, settings: ExecutorSettings):
    super().__init__()
    self.make_examples = make_examples
    self.cache = cache
    self.settings = settings
    self.rendered = beam.metrics.Metrics.counter("kubricgen", "jobs_rendered")
    self.reused = beam.metrics.Metrics.counter("kubricgen", "jobs_cached")
    self.retried = beam.metrics.Metrics.counter("kubricgen", "job_retries")

  def setup(self):
    self.executor = JobExecutor(self.settings)

  def process(self, job):
    examples = self.cache.load(job.key)
    if examples is None:
      examples, pid, seconds, attempts = self.executor.run(functools.partial(_materialise, self.make_examples), job,
                                                           key=job.key)
      self.cache.save(job.key, examples, {"items": len(job.specs) if hasattr(job, "specs") else 1,
                                          "examples": len(examples), "seconds": seconds, "worker": pid,
                                          "attempts": attempts, "cached": False, "finished": time.time()})
      self.rendered.inc()
      self.retried.inc(attempts - 1)
    else:
      self.cache.mark_cached(job.key, {"items": len(job.specs) if hasattr(job, "specs") else 1,
                                       "examples": len(examples), "seconds": 0.0, "worker": None, "attempts": 0,
                                       "cached": True, "finished": time.time()})
      self.reused.inc()
    yield from examples

  def teardown(self):
    executor = getattr(self, "executor", None)
    if executor is not None:
      executor.close()


class GenerateExamples(beam.PTransform):
  """jobs -> (key, example) pairs. Jobs are spread over workers; each runs at most once per cache."""

  def __init__(self, jobs: Sequence[Any], make_examples: Callable, cache: JobCache,
               settings: ExecutorSettings | None = None):
    super().__init__()
    self.jobs = list(jobs)
    self.make_examples = make_examples
    self.cache = cache
    self.settings = settings or ExecutorSettings()

  def expand(self, pipeline):
    return (pipeline
            | "CreateJobs" >> beam.Create(self.jobs, reshuffle=True)
            | "RunJobs" >> beam.ParDo(_RunJob(self.make_examples, self.cache, self.settings)))


class ProgressMonitor:
  """Live progress on the driver: polls the cache's stats records (written by workers as jobs finish)."""

  def __init__(self, cache: JobCache, jobs: Sequence[Any], description: str, enabled: bool = True,
               interval: float = 0.5):
    self.cache, self.interval = cache, interval
    self.keys = {job.key for job in jobs}
    self.total = sum(len(job.specs) if hasattr(job, "specs") else 1 for job in jobs)
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
    with tqdm(total=self.total, desc=self.description, unit="img", smoothing=0.1) as bar:
      while True:
        stopping = self._stop.is_set()
        records = [r for r in self.cache.all_stats() if r["key"] in self.keys]
        done = sum(r.get("items", 1) for r in records)
        retries = sum(max(r.get("attempts", 1) - 1, 0) for r in records)
        bar.set_postfix(jobs=f"{len(records)}/{len(self.keys)}", cached=sum(r["cached"] for r in records),
                        retries=retries, refresh=False)
        bar.update(done - bar.n)
        if stopping:
          return
        self._stop.wait(self.interval)
