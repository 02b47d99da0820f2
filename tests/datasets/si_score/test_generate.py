"""Generating in several processes gives the same examples, in the same order, as generating in one; the array_record
copy written at build time holds exactly the tfrecord's records."""
import functools
import glob
import pickle

import pytest

from kubricgen.datasets.si_score import build, generate, specs
from tests.datasets.si_score import small_library

SETTINGS = specs.Settings(resolution=32, samples=2, classes=("orange",))
FACTORY = functools.partial(generate.Generator, make_library=small_library.make_library,
                            make_backgrounds=small_library.make_backgrounds)


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
  return str(tmp_path_factory.mktemp("cutouts"))


@pytest.mark.parametrize("subset", ["location", "rotation"])
def test_several_processes_make_the_same_examples_in_the_same_order(subset, cache_dir):
  single, several = FACTORY(SETTINGS, cache_dir=cache_dir), FACTORY(SETTINGS, cache_dir=cache_dir, processes=2)
  jobs = specs.group_into_jobs(specs.subset_specs(subset, SETTINGS, single.library, single.backgrounds.ids),
                               SETTINGS.job_size)
  try:
    for job in jobs:
      expected = list(single.examples(job))
      assert list(several.examples(job)) == expected and expected
    assert "_process_pool" in several.__dict__
  finally:
    several.close()
  assert "_process_pool" not in several.__dict__
  assert pickle.loads(pickle.dumps(several)).processes is None  # a worker's copy never starts processes of its own


def test_the_array_record_copy_holds_the_tfrecord_records(tmp_path, cache_dir):
  result = build.build(["location"], SETTINGS, data_dir=str(tmp_path), progress=False, generator_factory=FACTORY,
                       cache_dir=cache_dir)[0]
  from array_record.python import array_record_module  # pylint: disable=import-outside-toplevel
  tfrecords = sorted(glob.glob(f"{result.path}/*.tfrecord-*"))
  array_records = sorted(glob.glob(f"{result.path}/*.array_record-*"))
  assert len(tfrecords) == len(array_records) >= 1
  for tfrecord, array_record in zip(tfrecords, array_records):
    reader = array_record_module.ArrayRecordReader(array_record)
    copied = [reader.read() for _ in range(reader.num_records())]
    reader.close()
    assert copied == list(build._tfrecord_records(tfrecord)) and len(copied) == 441 * 2  # pylint: disable=protected-access


UNGUARDED_SCRIPT = """
import functools, os, sys
sys.path.insert(0, {root!r})
from kubricgen.datasets.si_score import generate, specs
from tests.datasets.si_score import small_library
with open({marker!r}, "a") as handle:  # no `if __name__ == "__main__"` guard: a spawned child re-running this shows
  handle.write(f"{{os.getpid()}}\\n")
settings = specs.Settings(resolution=32, samples=2, classes=("orange",))
factory = functools.partial(generate.Generator, make_library=small_library.make_library,
                            make_backgrounds=small_library.make_backgrounds)
generator = factory(settings, cache_dir={cache!r}, processes=2)
job = specs.group_into_jobs(specs.subset_specs("location", settings, generator.library, generator.backgrounds.ids),
                            settings.job_size)[0]
print(len(list(generator.examples(job))), "_process_pool" in generator.__dict__)
generator.close()
"""


def test_a_script_without_a_main_guard_runs_once_when_examples_are_made_in_child_processes(tmp_path, cache_dir):
  """Spawned children re-import the parent's `__main__` by its file (CPython 3.11's multiprocessing.spawn reads
  sys.modules['__main__'].__file__); the generator hides it while it starts them, so a user's script runs once."""
  import os
  import subprocess
  import sys
  root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
  marker, script = tmp_path / "runs.txt", tmp_path / "unguarded.py"
  script.write_text(UNGUARDED_SCRIPT.format(root=root, marker=str(marker), cache=cache_dir))
  result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=600, check=False)
  assert result.returncode == 0, result.stderr[-2000:]
  count, pooled = result.stdout.split()[-2:]
  assert int(count) > generate.SPECS_PER_TASK and pooled == "True"  # examples really were made in children
  assert len(marker.read_text().split()) == 1  # the script's top level ran in the parent only
