"""Run one job in a child process: a timeout catches hangs, a crash or timeout is retried, and the child is
replaced every `jobs_per_process` jobs so Blender/PyBullet state and memory never build up in a long run.
"""
from __future__ import annotations

import concurrent.futures
import dataclasses
import logging
import multiprocessing
import os
import time
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Callable

log = logging.getLogger("kubricgen")


class JobFailed(RuntimeError):
  """A job kept failing after all retries."""


@dataclasses.dataclass
class ExecutorSettings:
  timeout_s: float = 600.0
  retries: int = 2
  jobs_per_process: int = 50
  in_process: bool = False  # run jobs in the calling process (no isolation; for debugging)


def _call(function: Callable, job: Any) -> tuple[Any, int, float]:
  start = time.perf_counter()
  result = function(job)
  return result, os.getpid(), time.perf_counter() - start


class JobExecutor:
  """`run(function, job)` -> (result, child pid, seconds, attempts), isolated in a recyclable child process."""

  def __init__(self, settings: ExecutorSettings | None = None):
    self.settings = settings or ExecutorSettings()
    self._pool: concurrent.futures.ProcessPoolExecutor | None = None

  def _new_pool(self) -> concurrent.futures.ProcessPoolExecutor:
    context = multiprocessing.get_context("spawn")  # no inherited Blender/TF state; safe with threads
    return concurrent.futures.ProcessPoolExecutor(max_workers=1, mp_context=context,
                                                  max_tasks_per_child=self.settings.jobs_per_process)

  def _kill_pool(self) -> None:
    if self._pool is None:
      return
    for process in list(getattr(self._pool, "_processes", {}).values()):
      if process.is_alive():
        process.kill()
    self._pool.shutdown(wait=False, cancel_futures=True)
    self._pool = None

  def run(self, function: Callable, job: Any, key: str = "") -> tuple[Any, int, float, int]:
    if not self.settings.in_process and multiprocessing.current_process().daemon:
      # Daemonic workers (e.g. Dask workers under a nanny) may not start children: run jobs in-process there.
      log.warning("worker process is daemonic: jobs run without isolation (start Dask workers with --no-nanny)")
      self.settings = dataclasses.replace(self.settings, in_process=True)
    if self.settings.in_process:
      result, pid, seconds = _call(function, job)
      return result, pid, seconds, 1
    errors = []
    for attempt in range(1, self.settings.retries + 2):
      if self._pool is None:
        self._pool = self._new_pool()
      future = self._pool.submit(_call, function, job)
      try:
        result, pid, seconds = future.result(timeout=self.settings.timeout_s)
        return result, pid, seconds, attempt
      except concurrent.futures.TimeoutError:
        errors.append(f"timed out after {self.settings.timeout_s:g} s")
        self._kill_pool()
      except BrokenProcessPool:
        errors.append("worker process died")
        self._kill_pool()
      except Exception as error:  # pylint: disable=broad-except
        errors.append(f"{type(error).__name__}: {error}")
      log.warning("job %s attempt %d failed: %s", key, attempt, errors[-1])
    raise JobFailed(f"job {key} failed {len(errors)} times: {'; '.join(errors)}")

  def close(self) -> None:
    if self._pool is not None:
      self._pool.shutdown(wait=True)
      self._pool = None
