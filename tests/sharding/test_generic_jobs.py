"""The sharding layer is generic: jobs that are not SI-Score's (two tiny job classes defined here, one without
`items`) run through the Beam pipeline, each in its own process, into one shard per job, with records in job order;
a rerun runs nothing; a job whose `items` is not a count is refused before anything runs."""
import dataclasses
import json
import os

import pytest

from kubricgen_sharding.executor import ExecutorSettings
from kubricgen_sharding.pipeline import run_jobs
from kubricgen_sharding.shards import ShardedSplit
from tests.sharding.test_shards import read_array_record, read_tfrecord

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@dataclasses.dataclass(frozen=True)
class Words:
  """A job that makes one record per word."""
  key: str
  words: tuple[str, ...]

  @property
  def items(self) -> int:
    return len(self.words)


@dataclasses.dataclass(frozen=True)
class Shout:
  """A job without `items` (it counts as one): its record is its key in capitals."""
  key: str


def to_records(job) -> list[bytes]:
  """The job function (and serializer): run in the job's own process, by name."""
  if isinstance(job, Shout):
    return [f"{job.key.upper()} from {os.getpid()}".encode()]
  return [f"{job.key}/{index}:{word}".encode() for index, word in enumerate(job.words)]


JOBS = [Words("fruit", ("apple", "pear", "fig")), Shout("hello"), Words("empty", ()),
        Words("colours", tuple(f"colour{i}" for i in range(7)))]


@pytest.fixture
def job_processes_import_this_module(monkeypatch):
  monkeypatch.setenv("PYTHONPATH", ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))


def test_jobs_of_any_kind_run_through_the_pipeline_into_one_shard_each(tmp_path, job_processes_import_this_module):
  keys = tuple(job.key for job in JOBS)
  sink = ShardedSplit(str(tmp_path / "words" / "1.0.0"), str(tmp_path / "markers"), "words-train", keys).prepare()
  settings = ExecutorSettings(timeout_s=120, retries=0)
  run_jobs(JOBS, to_records, sink, ["--direct_num_workers=2"], settings, description="words", progress=False)
  markers = sink.markers()
  assert [m["key"] for m in markers] == list(keys) and [m["examples"] for m in markers] == [3, 1, 0, 7]
  assert [m["items"] for m in markers] == [3, 1, 0, 7]  # each job's own count (`items`; 1 without one)
  for index, job in enumerate(JOBS):
    for file_format, read in (("tfrecord", read_tfrecord), ("array_record", read_array_record)):
      records = read(str(tmp_path / "words" / "1.0.0" / sink.shard_name(index, file_format)))
      if isinstance(job, Shout):
        assert len(records) == 1 and records[0].startswith(b"HELLO from ")
        assert int(records[0].split()[-1]) != os.getpid()  # made in a job process, not here
      else:
        assert records == [f"{job.key}/{i}:{word}".encode() for i, word in enumerate(job.words)]
  assert sorted(os.listdir(tmp_path / "words" / "1.0.0")) == sorted(
      sink.shard_name(i, f) for i in range(len(JOBS)) for f in ("tfrecord", "array_record"))

  before = {name: (tmp_path / "markers" / name).read_bytes() for name in os.listdir(tmp_path / "markers")}
  run_jobs(JOBS, to_records, sink, ["--direct_num_workers=2"], settings, progress=False)  # all committed: no job runs
  assert {name: (tmp_path / "markers" / name).read_bytes() for name in os.listdir(tmp_path / "markers")} == before
  assert json.loads(before["00001.json"])["key"] == "hello"


def test_a_job_whose_items_is_not_a_count_is_refused_before_anything_runs(tmp_path):
  @dataclasses.dataclass(frozen=True)
  class Odd:
    key: str
    items: str = "three"
  sink = ShardedSplit(str(tmp_path / "v"), str(tmp_path / "markers"), "odd-train", ("odd",)).prepare()
  with pytest.raises(TypeError, match=r"job 'odd': `items` must be a count \(an int >= 0\), got 'three'"):
    run_jobs([Odd("odd")], to_records, sink, [], progress=False)
  assert sink.finished() == set()
