"""Run one job in a child process: a timeout catches hangs, a crash or timeout is retried, and the child is
replaced every `jobs_per_process` jobs so Blender/PyBullet state and memory never build up in a long run.

A child is spawned: a fresh interpreter, so no inherited Blender/TF state, and safe with threads. It is started (and
has imported the job function's modules) before its first job is sent, so the timeout bounds the job itself; a busy
machine can stretch the start-up by seconds, and it gets a timeout of its own.

multiprocessing also hands a spawned child the parent's main module, which it runs again, and the parent's current
`sys.path`. Under a runner both belong to the runner, not to the job: the main module is Beam's SDK harness (Beam
and gRPC: seconds and ~200 MB per child) or the driver's script, and `sys.path` holds whatever imported packages
added to it (a driver that imports bpy, e.g. to render with Blender, puts Blender's script folders first, and a
child's own `import bpy` then finds the wrong package). `JobExecutor(fresh_imports=True)`, which the job pipeline
uses, starts children with neither, like a Beam worker process: the environment's `sys.path` (PYTHONPATH,
installed packages, the working directory) and no main module, so the job function must be importable by name.

Each child is a one-process `ProcessPoolExecutor`, replaced by a new one after `jobs_per_process` jobs, rather than
one pool with `max_tasks_per_child`: a timed-out job must be killed, and the standard pool (Python 3.11; its
`terminate_workers()` arrives in 3.14) has no public way to kill the process running one task. With one child per
pool, the child is the `multiprocessing.Process` that `multiprocessing.active_children()` gains when the pool starts
it, and a hung one is killed through that public handle.
"""
from __future__ import annotations

import concurrent.futures
import dataclasses
import logging
import multiprocessing
import os
import pickle
import time
import zlib
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import context as mp_context
from multiprocessing import spawn
from typing import Any, Callable

log = logging.getLogger("kubricgen")


class JobFailed(RuntimeError):
  """A job kept failing after all retries."""


class _StartTimeout(Exception):
  """A new job process did not get ready within the job timeout."""


@dataclasses.dataclass
class ExecutorSettings:
  timeout_s: float = 600.0
  retries: int = 2
  jobs_per_process: int = 50
  in_process: bool = False  # run jobs in the calling process (no isolation; for debugging, with one worker)

  def __post_init__(self):
    if not self.timeout_s > 0 or self.retries < 0 or self.jobs_per_process < 1:
      raise ValueError(f"executor settings need timeout_s > 0, retries >= 0 and jobs_per_process >= 1, got "
                       f"{self.timeout_s:g}, {self.retries} and {self.jobs_per_process}")


_FRESH = "kubricgen-job-fresh-"  # name prefix of job processes started with fresh_imports


def _preparation_data(name):
  """multiprocessing's start-up data for a spawned child; for `fresh_imports` job processes, without the parent's
  main module and sys.path (see the module docstring)."""
  data = _stdlib_preparation_data(name)
  if str(name).startswith(_FRESH):
    for key in ("init_main_from_name", "init_main_from_path", "sys_path"):
      data.pop(key, None)
  return data


_stdlib_preparation_data = getattr(spawn.get_preparation_data, "__wrapped__", spawn.get_preparation_data)
_preparation_data.__wrapped__ = _stdlib_preparation_data
# multiprocessing has no public option for this: the one process-wide change, which leaves every process not named
# with _FRESH as it was. Checked against CPython 3.11's multiprocessing.spawn; tests/sharding/test_executor.py pins it.
spawn.get_preparation_data = _preparation_data


class _FreshJobProcess(mp_context.SpawnProcess):
  def __init__(self, *args, **kwargs):
    super().__init__(*args, **kwargs)
    self.name = _FRESH + self.name


class _FreshContext(mp_context.SpawnContext):
  Process = _FreshJobProcess


def materialise(make_examples: Callable, job) -> list:
  """In the job's child process: the job's examples as a list (after any test fault injected for this job). The job
  may come pickled and compressed (bytes), as the job pipeline sends it."""
  from kubricgen_sharding import faults  # pylint: disable=import-outside-toplevel
  if isinstance(job, bytes):
    job = pickle.loads(zlib.decompress(job))
  faults.maybe_inject(job.key)
  return list(make_examples(job))


def _call(function: Callable, job: Any) -> tuple[Any, int, float]:
  start = time.perf_counter()
  result = function(job)
  return result, os.getpid(), time.perf_counter() - start


def _exit_when_orphaned(parent: int, period_s: float = 1.0) -> None:
  """In a job process: exit once `parent` is gone (its worker was killed, even by SIGKILL, which no handler sees), so
  no job process outlives the run that started it. Polls getppid(): a child re-parented to init or a subreaper."""
  import threading  # pylint: disable=import-outside-toplevel

  def watch():
    while os.getppid() == parent:
      time.sleep(period_s)
    os._exit(1)  # pylint: disable=protected-access
  threading.Thread(target=watch, name="kubricgen-orphan-watch", daemon=True).start()


def _ready(function: Callable, parent: int | None = None) -> int:
  """Sent to a new child before its first job: unpickling `function` imports the job's modules there, so a job's
  timeout counts the job, not the child's start-up (which a busy machine can stretch by seconds). Starts the orphan
  watch for `parent` (the process that started this one)."""
  del function
  if parent is not None:
    _exit_when_orphaned(parent)
  return os.getpid()


class JobExecutor:
  """`run(function, job)` -> (result, child pid, seconds, attempts), isolated in a recyclable child process."""

  def __init__(self, settings: ExecutorSettings | None = None, fresh_imports: bool = False):
    self.settings = settings or ExecutorSettings()
    self.fresh_imports = fresh_imports  # children get neither the parent's main module nor its sys.path (docstring)
    self._pool: concurrent.futures.ProcessPoolExecutor | None = None
    self._child: multiprocessing.Process | None = None  # the pool's one process
    self._started: concurrent.futures.Future | None = None  # the new child's _ready call
    self._jobs_in_child = 0

  def _start_child(self, function: Callable) -> None:
    context = _FreshContext() if self.fresh_imports else multiprocessing.get_context("spawn")
    pool = concurrent.futures.ProcessPoolExecutor(max_workers=1, mp_context=context)
    before = {child.pid for child in multiprocessing.active_children()}
    try:
      started = pool.submit(_ready, function, os.getpid())  # starts the process; raises if it cannot be started
    except BaseException:
      pool.shutdown(wait=False, cancel_futures=True)
      raise
    new = [child for child in multiprocessing.active_children() if child.pid not in before]
    self._child = new[0] if len(new) == 1 else None
    self._pool, self._started, self._jobs_in_child = pool, started, 0

  def _retire_child(self, function: Callable) -> None:
    """After `jobs_per_process` jobs: let the child exit and start its replacement now, while the caller saves the
    last result."""
    self._pool.shutdown(wait=False)
    self._start_child(function)

  def _kill_pool(self) -> None:
    if self._pool is None:
      return
    if self._child is not None and self._child.is_alive():
      self._child.kill()
    self._pool.shutdown(wait=False, cancel_futures=True)
    self._pool = self._started = self._child = None

  def _count_job(self, function: Callable) -> None:
    self._jobs_in_child += 1
    if self._jobs_in_child >= self.settings.jobs_per_process:
      self._retire_child(function)

  def _run_once(self, function: Callable, job: Any) -> tuple[Any, int, float]:
    timeout = self.settings.timeout_s
    if self._pool is None:
      self._start_child(function)
    try:
      pid = self._started.result(timeout=timeout)  # the child's start-up has a timeout of its own
    except concurrent.futures.TimeoutError:
      raise _StartTimeout(f"job process did not start within {timeout:g} s") from None
    if self._child is None:  # another thread started a child at the same moment: the child names itself
      self._child = next((c for c in multiprocessing.active_children() if c.pid == pid), None)
    future = self._pool.submit(_call, function, job)
    try:
      outcome = future.result(timeout=timeout)
    except (concurrent.futures.TimeoutError, BrokenProcessPool):
      raise
    except Exception:
      self._count_job(function)  # the job raised; its process lives on
      raise
    self._count_job(function)
    return outcome

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
      try:
        result, pid, seconds = self._run_once(function, job)
        return result, pid, seconds, attempt
      except _StartTimeout as error:
        errors.append(str(error))
        self._kill_pool()
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

  def close(self, wait: bool = True) -> None:
    """Let the job process exit; `wait=False` returns without waiting for it (~0.1 s) to be gone."""
    if self._pool is not None:
      self._pool.shutdown(wait=wait)
      self._pool = self._started = None
