"""Job executor: hung jobs time out and are retried, dead workers are replaced, failures are reported, and worker
processes are recycled so memory cannot build up."""
import pytest

from kubricgen_sharding.executor import ExecutorSettings, JobExecutor, JobFailed
from tests.sharding import work


def test_a_job_runs_in_a_child_process():
  executor = JobExecutor(ExecutorSettings(timeout_s=60))
  try:
    result, pid, seconds, attempts = executor.run(work.square, 7, key="square")
  finally:
    executor.close()
  import os
  assert result == 49 and pid != os.getpid() and attempts == 1 and seconds >= 0


def test_a_hung_job_times_out_and_is_retried(tmp_path):
  executor = JobExecutor(ExecutorSettings(timeout_s=5, retries=1))
  try:
    result, _, _, attempts = executor.run(work.hang_then_answer, str(tmp_path / "flag"), key="hang")
  finally:
    executor.close()
  assert result == "answer" and attempts == 2


def test_a_dead_worker_is_replaced_and_the_job_retried(tmp_path):
  executor = JobExecutor(ExecutorSettings(timeout_s=60, retries=1))
  try:
    result, _, _, attempts = executor.run(work.die_then_answer, str(tmp_path / "flag"), key="die")
  finally:
    executor.close()
  assert result == "answer" and attempts == 2


def test_a_job_that_keeps_failing_is_reported_with_its_errors():
  executor = JobExecutor(ExecutorSettings(timeout_s=60, retries=2))
  try:
    with pytest.raises(JobFailed, match=r"job broken failed 3 times: ValueError: broken job"):
      executor.run(work.always_raise, None, key="broken")
  finally:
    executor.close()


def test_workers_are_recycled_so_a_leak_cannot_grow():
  executor = JobExecutor(ExecutorSettings(timeout_s=60, jobs_per_process=3))
  try:
    pids = [executor.run(work.pid_of, None)[0] for _ in range(7)]
    peaks = [executor.run(work.grow_memory, 40)[0] for _ in range(9)]
  finally:
    executor.close()
  assert len(set(pids)) == 3  # 3 + 3 + 1 jobs
  # Each child leaks 40 MB per job but lives for 3 jobs only: peak memory stays bounded.
  assert max(peaks) < min(peaks) + 3 * 40 + 20


def test_fresh_import_children_get_neither_the_parents_main_module_nor_its_sys_path():
  """The executor's one change to multiprocessing (spawn.get_preparation_data, checked against CPython 3.11) drops
  the parent's main module and sys.path for `fresh_imports` children only; other spawned children keep both."""
  import sys
  sys.path.append("/kubricgen-test-parent-only")
  try:
    results = {}
    for fresh in (True, False):
      executor = JobExecutor(ExecutorSettings(timeout_s=120), fresh_imports=fresh)
      try:
        results[fresh] = executor.run(work.child_imports, None, key="imports")[0]
      finally:
        executor.close()
  finally:
    sys.path.remove("/kubricgen-test-parent-only")
  assert results[True] == (None, False)
  assert results[False][1] is True  # a plain spawned child inherits the parent's sys.path
