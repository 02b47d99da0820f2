"""SI-Score grids match the paper exactly; specs are complete, unique, deterministic and keep train/test apart."""
import numpy as np
import pytest

from kubricgen.datasets.si_score import factors, specs
from tests.datasets.si_score.small_library import SmallBackgrounds, SmallLibrary


def test_grids_are_the_papers():
  location, rotation, size = factors.GRIDS["location"], factors.GRIDS["rotation"], factors.GRIDS["size"]
  assert len(location) == 441 and location.xs == tuple(round(0.05 * i, 2) for i in range(21)) == location.ys
  assert location.areas == (0.2,) and location.rotations == (0.0,) and location.visibility_threshold == 0
  assert rotation.rotations == tuple(float(r) for r in range(1, 342, 20)) and len(rotation.rotations) == 18
  assert all(r % 90 for r in rotation.rotations)  # multiples of 90 avoided on purpose
  assert rotation.areas == (0.2, 0.5, 0.8, 1.0) and rotation.visibility_threshold == 0.95
  assert size.areas == tuple(round(0.01 * i, 2) for i in range(1, 101)) and size.visibility_threshold == 0.95
  assert (location.paper_resolution, rotation.paper_resolution, size.paper_resolution) == (500, 512, 512)


@pytest.mark.parametrize("bad", [(-0.1, 0.5, 0.2, 0), (0.5, 1.5, 0.2, 0), (0.5, 0.5, 0, 0), (0.5, 0.5, 1.2, 0),
                                 (0.5, 0.5, 0.2, float("nan")), (0.5, 0.5, 0.2, 720)])
def test_bad_factor_values_are_refused(bad):
  with pytest.raises(ValueError, match="SI-Score factor"):
    factors.validate(*bad)


def test_subset_specs_cover_the_grid_for_every_pair_with_unique_ids():
  settings = specs.Settings()
  library, backgrounds = SmallLibrary(), SmallBackgrounds()
  location = specs.subset_specs("location", settings, library, backgrounds.ids)
  assert len(location) == 441 * 3 * 2  # grid x 3 test instances x 2 backgrounds
  assert len({s.key for s in location}) == len(location)
  assert [s.image_id for s in location] == list(range(len(location)))
  pairs = {(s.instance_id, s.background_id) for s in location}
  assert len(pairs) == 6 and {i for i, _ in pairs} == {"cube_test", "orange_test", "teapot_test"}
  assert all(s.instance_id.endswith("_test") for s in location)
  # Each (instance, background) pair has the whole grid.
  for pair in pairs:
    points = {(s.x, s.y) for s in location if (s.instance_id, s.background_id) == pair}
    assert len(points) == 441
  assert specs.subset_specs("location", settings, library, backgrounds.ids) == location  # deterministic
  other = specs.subset_specs("location", specs.Settings(seed=1), library, backgrounds.ids)
  assert {(s.instance_id, s.background_id, s.pose) for s in other} != {(s.instance_id, s.background_id, s.pose)
                                                                       for s in location}


def test_train_specs_use_held_out_instances_only_and_follow_the_distribution():
  settings = specs.Settings(train_examples=3000, train_distribution=factors.TrainDistribution(location="center"))
  train = specs.train_specs(settings, SmallLibrary(), SmallBackgrounds().ids)
  assert len(train) == 3000 and all(s.instance_id.endswith("_train") for s in train)
  xs = np.array([s.x for s in train])
  assert abs(xs.mean() - 0.5) < 0.02 and xs.std() < 0.2  # centre-biased
  uniform = specs.train_specs(specs.Settings(train_examples=3000, train_distribution=factors.TrainDistribution(
      location="uniform")), SmallLibrary(), SmallBackgrounds().ids)
  assert np.std([s.x for s in uniform]) > 0.25
  areas = np.array([s.area for s in train])
  assert areas.min() >= 0.05 and areas.max() <= 0.6


def test_empty_or_unknown_classes_are_refused():
  class Empty(SmallLibrary):
    classes = []
  with pytest.raises(ValueError, match="class library is empty"):
    specs.subset_specs("size", specs.Settings(), Empty(), SmallBackgrounds().ids)
  with pytest.raises(ValueError, match="unknown classes"):
    specs.subset_specs("size", specs.Settings(classes=("zebra",)), SmallLibrary(), SmallBackgrounds().ids)
  with pytest.raises(ValueError, match="unknown SI-Score subset"):
    specs.subset_specs("colour", specs.Settings(), SmallLibrary(), SmallBackgrounds().ids)
  with pytest.raises(ValueError, match="mode"):
    specs.Settings(mode="photoshop")


def test_jobs_group_specs_by_instance_and_pose():
  location = specs.subset_specs("location", specs.Settings(), SmallLibrary(), SmallBackgrounds().ids)
  jobs = specs.group_into_jobs(location, job_size=500)
  assert sum(len(j.specs) for j in jobs) == len(location)
  assert all(len({(s.instance_id, s.pose) for s in j.specs}) == 1 and len(j.specs) <= 500 for j in jobs)
  assert len({j.key for j in jobs}) == len(jobs)


def test_the_order_classes_are_listed_in_changes_nothing(tmp_path):
  """A newcomer's case: `--classes bagel,banana` after a build with `banana,bagel` was refused as other settings,
  though every shard was byte-identical. Classes are a set: sorted in the settings, and in older records."""
  import json
  from kubricgen.datasets.si_score import build
  assert specs.Settings(classes=("teapot", "banana", "teapot")).classes == ("banana", "teapot")
  identity = {"settings": {"classes": ["banana", "teapot"], "grids": "default"}}
  (tmp_path / build.BUILD_RECORD).write_text(json.dumps({"settings": {"classes": ["teapot", "banana"]}}))
  build.check_published(str(tmp_path), identity, "si_score/location")  # an older record, listed in another order
  with pytest.raises(build.PublishedMismatch, match="settings.classes"):
    build.check_published(str(tmp_path), {"settings": {"classes": ["banana"], "grids": "default"}}, "x")
