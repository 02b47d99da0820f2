"""What to generate: deterministic example specs for each SI-Score subset and the training split.

A spec names everything an image depends on (object instance, pose, background, factors, seed), so any worker can
make it alone and the same spec always gives the same bytes. Specs are grouped into jobs (one object instance in
one pose, a chunk of its specs), the unit a worker renders.
"""
from __future__ import annotations

import dataclasses
import hashlib
from typing import Iterable

import numpy as np

from kubricgen.datasets.si_score import factors
from kubricgen.datasets.si_score.cutouts import Pose

SPLIT_OF_SUBSET = {**{subset: "test" for subset in (*factors.SUBSETS, *factors.SUBSETS_3D)}, "train": "train"}
# Subsets whose specs need several cut-outs of one instance (poses, lights, surfaces): a job holds one instance in
# all of them (one cut-out each), so the number of shards stays one per instance.
MULTI_POSE_SUBSETS = ("viewpoint", "lighting", "cue_conflict")


def derive_seed(*parts) -> int:
  """A 32-bit seed from any printable parts, stable across processes and Python versions (no hash())."""
  return int.from_bytes(hashlib.sha256(repr(parts).encode()).digest()[:4], "little")


@dataclasses.dataclass(frozen=True)
class Settings:
  """Everything that shapes a generated SI-Score dataset (recorded in its config description)."""
  resolution: int = 224
  mode: str = "composite"  # or "full3d"
  test_instances_per_class: int | None = 1  # None = every test instance
  backgrounds_per_instance: int = 2
  train_examples: int = 2000
  train_poses_per_instance: int = 2
  train_distribution: factors.TrainDistribution = factors.TrainDistribution()
  visibility_thresholds: tuple[tuple[str, float], ...] = ()  # overrides of the subsets' paper thresholds
  seed: int = 0
  samples: int = 16
  cutout_resolution: int | None = None  # default: 2 x resolution
  classes: tuple[str, ...] | None = None  # None = every class of the library
  job_size: int = 4096  # specs per job: one job per (instance, pose) in every paper subset, so a cut-out is
  # rendered by one worker only
  grids: str = "default"  # the 3D factors' grids (factors.grid_3d): "default" (small) or "full" (--paper)

  def __post_init__(self):
    if self.mode not in ("composite", "full3d"):
      raise ValueError(f"SI-Score mode must be 'composite' or 'full3d', got {self.mode!r}")
    if self.resolution < 8:
      raise ValueError(f"SI-Score resolution must be at least 8 pixels, got {self.resolution}")
    if self.grids not in factors.VIEWPOINT_GRIDS:
      raise ValueError(f"SI-Score grids must be one of {sorted(factors.VIEWPOINT_GRIDS)}, got {self.grids!r}")
    if self.classes is not None:  # a set of classes: the order they were listed in changes nothing
      object.__setattr__(self, "classes", tuple(sorted(set(self.classes))))
    if self.backgrounds_per_instance < 1:
      raise ValueError(f"backgrounds_per_instance must be >= 1, got {self.backgrounds_per_instance}")
    for subset, threshold in self.visibility_thresholds:
      if subset not in factors.GRIDS or not 0 <= threshold <= 1:
        raise ValueError(f"visibility threshold for {subset!r} must be in [0, 1], got {threshold}")

  @property
  def render_resolution(self) -> int:
    return self.cutout_resolution or 2 * self.resolution

  def threshold(self, subset: str) -> float:
    return dict(self.visibility_thresholds).get(subset, factors.GRIDS[subset].visibility_threshold
                                                if subset in factors.GRIDS else 0.0)


@dataclasses.dataclass(frozen=True)
class ExampleSpec:
  key: str
  image_id: int
  subset: str
  class_name: str
  instance_id: str
  pose: Pose
  background_id: str
  x: float
  y: float
  area: float
  rotation: float
  visibility_threshold: float
  seed: int
  # Config-specific parameters, as (name, value) pairs: occlusion's level, occluder and its side; clutter's
  # distractors (see occlusion_specs, clutter_specs). Empty for SI-Score's own configs.
  extra: tuple = ()

  def parameter(self, name: str):
    return dict(self.extra)[name]


@dataclasses.dataclass(frozen=True)
class Job:
  """One worker task: specs of one object instance in one pose, or (MULTI_POSE_SUBSETS: `pose` None) in each of
  its specs' poses, consecutive specs sharing a pose. A job of the sharding layer (kubricgen_sharding): a unique
  `key` and `items`, the images it makes."""
  key: str
  instance_id: str
  pose: Pose | None
  specs: tuple[ExampleSpec, ...]

  @property
  def items(self) -> int:
    """The candidate images of the job (one per spec): what the sharding layer's progress and load balance count."""
    return len(self.specs)

  def poses(self) -> list[Pose]:
    """The poses whose cut-outs the job needs, in spec order."""
    return list(dict.fromkeys(spec.pose for spec in self.specs))


def test_pose(settings: Settings, instance_id: str) -> Pose:
  rng = np.random.RandomState(derive_seed(settings.seed, "pose", instance_id))
  return Pose(azimuth=round(float(rng.uniform(-50, 50)), 2), elevation=round(float(rng.uniform(10, 30)), 2))


def train_poses(settings: Settings, instance_id: str) -> list[Pose]:
  rng = np.random.RandomState(derive_seed(settings.seed, "train-poses", instance_id))
  count = settings.train_poses_per_instance
  offsets = rng.uniform(0, 360 / count)
  return [Pose(azimuth=round(float(offsets + i * 360 / count), 2), elevation=round(float(rng.uniform(5, 35)), 2))
          for i in range(count)]


def _classes(library, settings: Settings) -> list:
  classes = list(library.classes)
  if settings.classes is not None:
    known = {c.name for c in classes}
    unknown = sorted(set(settings.classes) - known)
    if unknown:
      raise ValueError(f"unknown classes {unknown}; the library has {sorted(known)}")
    classes = [c for c in classes if c.name in settings.classes]
  if not classes:
    raise ValueError("the class library is empty: nothing to generate")
  return classes


def test_instances(library, settings: Settings) -> list:
  chosen = []
  for info in _classes(library, settings):
    instances = sorted(library.instances(split="test", class_name=info.name), key=lambda i: i.id)
    if not instances:
      raise ValueError(f"class {info.name!r} has no held-out (test) instance")
    chosen += instances[:settings.test_instances_per_class] if settings.test_instances_per_class else instances
  return chosen


def _test_backgrounds(settings: Settings, instance_id: str, background_ids: list[str]) -> list[str]:
  rng = np.random.RandomState(derive_seed(settings.seed, "backgrounds", instance_id))
  return [str(b) for b in rng.choice(sorted(background_ids), settings.backgrounds_per_instance, replace=False)]


def _centred(settings: Settings, subset: str, instance, background_id: str, pose: Pose, area: float, name: str,
             extra: tuple = ()) -> ExampleSpec:
  """A spec of a 3D-factor config: object centred at `area`, no rotation; `name` is the condition's part of the key
  (image_id is set by the caller)."""
  key = f"{subset}/{instance.id}/{background_id}/{name}"
  return ExampleSpec(key=key, image_id=-1, subset=subset, class_name=instance.class_name, instance_id=instance.id,
                     pose=pose, background_id=background_id, x=0.5, y=0.5, area=area, rotation=0.0,
                     visibility_threshold=settings.threshold(subset), seed=derive_seed(settings.seed, key),
                     extra=extra)


def _numbered(found: list[ExampleSpec]) -> list[ExampleSpec]:
  return [dataclasses.replace(spec, image_id=index) for index, spec in enumerate(found)]


def viewpoint_specs(settings: Settings, library, background_ids: list[str]) -> list[ExampleSpec]:
  """Every spec of the `viewpoint` config: pose grid (factors.VIEWPOINT_GRIDS[settings.grids]) x (test instance,
  background) pairs, object centred at the grid's area, no rotation; ordered instance, pose, background (a pose's
  specs together)."""
  grid = factors.grid_3d("viewpoint", settings.grids)
  found = []
  for instance in test_instances(library, settings):
    chosen = _test_backgrounds(settings, instance.id, background_ids)
    for azimuth, elevation in grid.poses():
      pose = Pose(azimuth=azimuth, elevation=elevation, lights="camera")  # the rig turns with the camera
      for background_id in chosen:
        found.append(_centred(settings, "viewpoint", instance, background_id, pose, grid.area,
                              f"{azimuth:g}_{elevation:g}"))
  return _numbered(found)


def lighting_specs(settings: Settings, library, background_ids: list[str]) -> list[ExampleSpec]:
  """Every spec of the `lighting` config (factors.LightingGrid): each test instance in its test pose under every
  key-light condition, on its backgrounds; ordered instance, condition, background (a condition's specs together)."""
  grid = factors.grid_3d("lighting", settings.grids)
  found = []
  for instance in test_instances(library, settings):
    chosen = _test_backgrounds(settings, instance.id, background_ids)
    base = test_pose(settings, instance.id)
    for azimuth, elevation, irradiance in grid.conditions():
      pose = dataclasses.replace(base, light=(azimuth, elevation, irradiance, grid.ambient_radiance))
      for background_id in chosen:
        found.append(_centred(settings, "lighting", instance, background_id, pose, grid.area,
                              f"{azimuth:g}_{elevation:g}_{irradiance:g}"))
  return _numbered(found)


def _other_class_instances(library, settings: Settings, class_name: str) -> list:
  return [i for i in test_instances(library, settings) if i.class_name != class_name]


def occlusion_specs(settings: Settings, library, background_ids: list[str]) -> list[ExampleSpec]:
  """Every spec of the `occlusion` config (factors.OcclusionGrid): each test instance in its test pose, centred,
  per (level, occluder) on its backgrounds. The occluder object (another class's test instance, in its test pose)
  and the side it comes from are seeded per (instance, background, condition)."""
  grid = factors.grid_3d("occlusion", settings.grids)
  found = []
  for instance in test_instances(library, settings):
    others = _other_class_instances(library, settings, instance.class_name)
    pose = test_pose(settings, instance.id)
    for background_id in _test_backgrounds(settings, instance.id, background_ids):
      for level, occluder in grid.conditions():
        rng = np.random.RandomState(derive_seed(settings.seed, "occluder", instance.id, background_id, level,
                                                occluder))
        extra = [("occlusion", level), ("occluder", occluder), ("side", ("left", "right")[rng.randint(2)])]
        if occluder == "object":
          if not others:
            raise ValueError(f"the occlusion config's object occluders are other classes' objects: it needs at least "
                           f"two classes, got only {instance.class_name!r}")
          other = others[rng.randint(len(others))]
          extra += [("occluder_instance", other.id), ("occluder_class", other.class_name),
                    ("occluder_pose", test_pose(settings, other.id))]
        found.append(_centred(settings, "occlusion", instance, background_id, pose, grid.area,
                              f"{occluder}_{level:g}", tuple(extra)))
  return _numbered(found)


def clutter_specs(settings: Settings, library, background_ids: list[str]) -> list[ExampleSpec]:
  """Every spec of the `clutter` config (factors.ClutterGrid): each test instance in its test pose, centred, with
  each number of distractors on its backgrounds. Each distractor (another class's test instance in its test pose),
  its outer cell of the 3 x 3 grid, its jitter and whether it is in front of the target are seeded per example."""
  grid = factors.grid_3d("clutter", settings.grids)
  if max(grid.counts) > 8:
    raise ValueError(f"the clutter grid places at most 8 distractors (one per outer cell), got {max(grid.counts)}")
  cells = [(column, row) for row in range(3) for column in range(3) if (column, row) != (1, 1)]
  found = []
  for instance in test_instances(library, settings):
    others = _other_class_instances(library, settings, instance.class_name)
    pose = test_pose(settings, instance.id)
    for background_id in _test_backgrounds(settings, instance.id, background_ids):
      for count in grid.counts:
        if count and not others:
          raise ValueError(f"the clutter config's distractors are other classes' objects: it needs at least two "
                           f"classes, got only {instance.class_name!r}")
        rng = np.random.RandomState(derive_seed(settings.seed, "clutter", instance.id, background_id, count))
        distractors = []
        for cell_index in sorted(rng.choice(len(cells), count, replace=False)):
          other = others[rng.randint(len(others))]
          column, row = cells[cell_index]
          x, y = ((column + 0.5) / 3 + rng.uniform(-grid.jitter, grid.jitter),
                  (row + 0.5) / 3 + rng.uniform(-grid.jitter, grid.jitter))
          distractors.append((other.id, other.class_name, test_pose(settings, other.id), round(float(x), 4),
                              round(float(y), 4), bool(rng.randint(2))))
        extra = (("num_distractors", count), ("distractors", tuple(distractors)))
        found.append(_centred(settings, "clutter", instance, background_id, pose, grid.area, f"{count}", extra))
  return _numbered(found)


def cue_conflict_specs(settings: Settings, library, background_ids: list[str]) -> list[ExampleSpec]:
  """Every spec of the `cue_conflict` config (factors.CueConflictGrid): each test instance's shape, in its test
  pose, wearing the surface of `textures_per_shape` other classes' test instances (seeded; all with the full grid),
  on its backgrounds; ordered shape instance, surface, background."""
  grid = factors.grid_3d("cue_conflict", settings.grids)
  found = []
  for instance in test_instances(library, settings):
    others = _other_class_instances(library, settings, instance.class_name)
    if not others:
      raise ValueError(f"the cue_conflict config puts another class's surface on each shape: it needs at least two "
                       f"classes, got only {instance.class_name!r}")
    rng = np.random.RandomState(derive_seed(settings.seed, "surfaces", instance.id))
    count = len(others) if grid.textures_per_shape is None else min(grid.textures_per_shape, len(others))
    surfaces = [others[i] for i in sorted(rng.choice(len(others), count, replace=False))]
    base = test_pose(settings, instance.id)
    for surface in surfaces:
      pose = dataclasses.replace(base, texture_from=surface.id)
      for background_id in _test_backgrounds(settings, instance.id, background_ids):
        found.append(_centred(settings, "cue_conflict", instance, background_id, pose, grid.area, surface.id,
                              (("texture_class", surface.class_name),)))
  return _numbered(found)


SPECS_3D = {"viewpoint": viewpoint_specs, "lighting": lighting_specs, "occlusion": occlusion_specs,
            "clutter": clutter_specs, "cue_conflict": cue_conflict_specs}


def subset_specs(subset: str, settings: Settings, library, background_ids: list[str]) -> list[ExampleSpec]:
  """Every spec of a test subset: factor grid x (test instance, background) pairs, in a fixed order."""
  if subset not in factors.GRIDS and subset not in SPECS_3D:
    raise ValueError(f"unknown SI-Score subset {subset!r}; expected one of "
                     f"{list(factors.GRIDS) + list(factors.SUBSETS_3D)}")
  if len(background_ids) < settings.backgrounds_per_instance:
    raise ValueError(f"need {settings.backgrounds_per_instance} backgrounds per instance, the background library "
                     f"has {len(background_ids)}")
  if subset in SPECS_3D:
    return SPECS_3D[subset](settings, library, background_ids)
  grid = factors.GRIDS[subset]
  threshold = settings.threshold(subset)
  specs = []
  for instance in test_instances(library, settings):
    chosen = _test_backgrounds(settings, instance.id, background_ids)
    pose = test_pose(settings, instance.id)
    for background_id in chosen:
      for x, y, area, rotation in grid.points():
        key = f"{subset}/{instance.id}/{background_id}/{x:g}_{y:g}_{area:g}_{rotation:g}"
        specs.append(ExampleSpec(key=key, image_id=len(specs), subset=subset, class_name=instance.class_name,
                                 instance_id=instance.id, pose=pose, background_id=str(background_id), x=x, y=y,
                                 area=area, rotation=rotation, visibility_threshold=threshold,
                                 seed=derive_seed(settings.seed, key)))
  return specs


def train_specs(settings: Settings, library, background_ids: list[str]) -> list[ExampleSpec]:
  """Random-factor training examples on the training instances (never the test subsets' instances)."""
  classes = _classes(library, settings)
  by_class = {c.name: sorted(library.instances(split="train", class_name=c.name), key=lambda i: i.id)
              for c in classes}
  empty = [name for name, instances in by_class.items() if not instances]
  if empty:
    raise ValueError(f"classes without training instances: {empty}")
  specs = []
  backgrounds = sorted(background_ids)
  for index in range(settings.train_examples):
    seed = derive_seed(settings.seed, "train", index)
    rng = np.random.RandomState(seed)
    class_name = classes[index % len(classes)].name
    instance = by_class[class_name][rng.randint(len(by_class[class_name]))]
    pose = train_poses(settings, instance.id)[rng.randint(settings.train_poses_per_instance)]
    x, y, area, rotation = settings.train_distribution.sample(rng)
    specs.append(ExampleSpec(key=f"train/{index:08d}", image_id=index, subset="train", class_name=class_name,
                             instance_id=instance.id, pose=pose, background_id=backgrounds[rng.randint(len(backgrounds))],
                             x=x, y=y, area=area, rotation=rotation, visibility_threshold=0.0, seed=seed))
  return specs


def config_specs(config: str, settings: Settings, library, background_ids: list[str]) -> list[ExampleSpec]:
  """Every spec of an si_score config: `train_specs` for "train", `subset_specs` for a test subset."""
  if config == "train":
    return train_specs(settings, library, background_ids)
  return subset_specs(config, settings, library, background_ids)


def group_into_jobs(specs: Iterable[ExampleSpec], job_size: int) -> list[Job]:
  """Jobs of at most `job_size` specs sharing one (instance, pose), or one instance in MULTI_POSE_SUBSETS, in a
  deterministic order (instance, then azimuth)."""
  groups: dict[tuple, list[ExampleSpec]] = {}
  for spec in specs:
    pose = None if spec.subset in MULTI_POSE_SUBSETS else spec.pose
    groups.setdefault((spec.instance_id, pose), []).append(spec)
  jobs = []
  for (instance_id, pose), members in sorted(groups.items(), key=lambda item: (
      item[0][0], item[0][1].azimuth if item[0][1] is not None else 0.0)):
    for start in range(0, len(members), job_size):
      chunk = tuple(members[start:start + job_size])
      where = "poses" if pose is None else f"{pose.azimuth:g}"
      jobs.append(Job(key=f"{chunk[0].subset}/{instance_id}/{where}/{start // job_size}",
                      instance_id=instance_id, pose=pose, specs=chunk))
  return jobs
