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
