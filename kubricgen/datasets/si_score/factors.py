"""SI-Score's factors of variation and their exact grids, as in the paper (Yung et al., arXiv 2104.04191).

Definitions, for a 3D object rendered with an orthographic camera in a fixed pose:
- canvas: the tight bounding rectangle of the object's silhouette in that rendering, before any rotation.
- area: the canvas is scaled uniformly so that canvas width x height = area x image width x image height.
- rotation: the scaled canvas is rotated counter-clockwise (as seen in the image) by `rotation` degrees about its
  centre (in 3D: the camera rolls by -rotation about its viewing axis); the canvas grows to hold the rotated object.
- location (x, y): the canvas centre sits at (x * width, y * height) pixels from the image's top-left corner.
- pct_inside_image: the share of the transformed object's silhouette bounding box that lies inside the image;
  examples below the subset's visibility threshold are dropped (the threshold is recorded in every example).
"""
from __future__ import annotations

import dataclasses

import numpy as np

SUBSETS = ("location", "rotation", "size")


@dataclasses.dataclass(frozen=True)
class FactorGrid:
  """One subset's grid: every combination of these values is an image (for every object x background pair)."""
  name: str
  xs: tuple[float, ...]
  ys: tuple[float, ...]
  areas: tuple[float, ...]
  rotations: tuple[float, ...]
  visibility_threshold: float
  paper_resolution: int

  def points(self) -> list[tuple[float, float, float, float]]:
    """(x, y, area, rotation) in a fixed order: rotation, area, y, x (x varies fastest)."""
    return [(x, y, a, r) for r in self.rotations for a in self.areas for y in self.ys for x in self.xs]

  def __len__(self) -> int:
    return len(self.xs) * len(self.ys) * len(self.areas) * len(self.rotations)


def _round(values) -> tuple[float, ...]:
  return tuple(round(float(v), 4) for v in values)


GRIDS = {
    "location": FactorGrid("location", xs=_round(np.linspace(0, 1, 21)), ys=_round(np.linspace(0, 1, 21)),
                           areas=(0.2,), rotations=(0.0,), visibility_threshold=0.0, paper_resolution=500),
    "rotation": FactorGrid("rotation", xs=(0.5,), ys=(0.5,), areas=(0.2, 0.5, 0.8, 1.0),
                           rotations=tuple(float(r) for r in range(1, 342, 20)), visibility_threshold=0.95,
                           paper_resolution=512),
    "size": FactorGrid("size", xs=(0.5,), ys=(0.5,), areas=_round(np.arange(1, 101) / 100), rotations=(0.0,),
                       visibility_threshold=0.95, paper_resolution=512),
}


@dataclasses.dataclass(frozen=True)
class ViewpointGrid:
  """The `viewpoint` test config (ours: a 3D factor SI-Score's 2D pastes cannot vary): the object's pose as seen by
  the camera, azimuth x elevation, with everything else held fixed: the object centred (x = y = 0.5), its canvas
  scaled to `area`, no in-plane rotation. Conventions as `cutouts.Pose`: azimuth in degrees about the world's up
  axis (0 = camera on -Y looking towards +Y, counter-clockwise seen from above), elevation in degrees above the
  object's horizontal plane; the camera is orthographic, so the view depends on these two angles only. The lights
  turn with the camera (`cutouts.Pose.lights = "camera"`), so the object is lit the same way relative to the viewer
  in every pose: only the object's pose relative to camera and rig changes."""
  name: str
  azimuths: tuple[float, ...]
  elevations: tuple[float, ...]
  area: float = 0.25
  visibility_threshold: float = 0.0
  paper_resolution: int = 512

  def poses(self) -> list[tuple[float, float]]:
    """(azimuth, elevation) in a fixed order: elevation, then azimuth (azimuth varies fastest)."""
    return [(a, e) for e in self.elevations for a in self.azimuths]

  def __len__(self) -> int:
    return len(self.azimuths) * len(self.elevations)


# Default: 6 azimuths x 2 elevations, so the main job's 23 test instances need 276 cut-out renders (each a Blender
# render); `--paper` (Settings.grids="full"): every 15 degrees of azimuth x elevations -15..75 (168 poses).
VIEWPOINT_GRIDS = {
    "default": ViewpointGrid("viewpoint", azimuths=tuple(float(a) for a in range(0, 360, 60)),
                             elevations=(10.0, 50.0)),
    "full": ViewpointGrid("viewpoint", azimuths=tuple(float(a) for a in range(0, 360, 15)),
                          elevations=tuple(float(e) for e in range(-15, 76, 15))),
}
VIEWPOINT_SUBSETS = ("viewpoint",)


@dataclasses.dataclass(frozen=True)
class LightingGrid:
  """The `lighting` test config (ours): one key light (a sun: parallel rays) whose direction and irradiance vary,
  over a constant dim ambient, on the instance's fixed test pose, object centred at `area`, no rotation.

  Two one-factor-at-a-time sweeps: every direction (azimuths x elevations) at `nominal_irradiance`, and every
  irradiance at `nominal_direction`. Physical terms: `light_azimuth` in degrees about the world's up axis relative
  to the camera (0 = the light comes from the camera's side, +90 = from the image's right, 180 = from behind the
  object), `light_elevation` in degrees above the horizontal plane, `light_irradiance` in W/m^2 on a surface facing
  the light (Blender's sun strength), `ambient_radiance` the uniform sky's radiance (W/m^2/sr per unit colour,
  Blender's world strength x colour). The camera (Standard view transform, exposure 0) clips what exceeds white.
  """
  name: str
  azimuths: tuple[float, ...]
  elevations: tuple[float, ...]
  irradiances: tuple[float, ...]
  nominal_direction: tuple[float, float] = (-45.0, 45.0)
  nominal_irradiance: float = 4.0
  ambient_radiance: float = 0.08
  area: float = 0.25
  visibility_threshold: float = 0.0
  paper_resolution: int = 512

  def conditions(self) -> list[tuple[float, float, float]]:
    """(light_azimuth, light_elevation, light_irradiance): the direction sweep (elevation, then azimuth) at the
    nominal irradiance, then the irradiance sweep at the nominal direction; each condition once."""
    found = [(a, e, self.nominal_irradiance) for e in self.elevations for a in self.azimuths]
    found += [(*self.nominal_direction, i) for i in self.irradiances]
    return list(dict.fromkeys(found))

  def __len__(self) -> int:
    return len(self.conditions())


@dataclasses.dataclass(frozen=True)
class OcclusionGrid:
  """The `occlusion` test config (ours): the share of the object's pixels hidden by an occluder in front of it.

  Levels are shares of the object's mask pixels (alpha > 127) hidden; the occluder slides in from one side (left or
  right, seeded) until the share measured from the image's instance masks is within `tolerance` of the level. Two
  occluders: a plain grey `bar` (full image height) and an `object` of another class (its held-out instance in its
  test pose, scaled up as far as needed). Level 0 has no occluder (`occluder` "none") and is made once."""
  name: str
  levels: tuple[float, ...]
  occluders: tuple[str, ...] = ("bar", "object")
  area: float = 0.25
  tolerance: float = 0.01
  visibility_threshold: float = 0.0
  paper_resolution: int = 512

  def conditions(self) -> list[tuple[float, str]]:
    """(level, occluder) in a fixed order: level 0 once with "none", then each occluder's levels."""
    found = [(0.0, "none")] if 0.0 in self.levels else []
    return found + [(level, kind) for kind in self.occluders for level in self.levels if level > 0]

  def __len__(self) -> int:
    return len(self.conditions())


@dataclasses.dataclass(frozen=True)
class ClutterGrid:
  """The `clutter` test config (ours): `num_distractors` objects of other classes (held-out instances in their test
  poses) around the centred target. The image is cut into 3 x 3 cells; the target sits in the middle one at `area`,
  each distractor in its own outer cell (seeded choice, jittered by up to `jitter` of the image) at
  `distractor_area`, in front of or behind the target (seeded). The target's visible share is measured from the
  masks and recorded; every distractor keeps at least `min_distractor_visible` of its own pixels in view."""
  name: str
  counts: tuple[int, ...]
  area: float = 0.1
  distractor_area: float = 0.05
  jitter: float = 0.08
  min_distractor_visible: float = 0.3
  visibility_threshold: float = 0.0
  paper_resolution: int = 512

  def __len__(self) -> int:
    return len(self.counts)


@dataclasses.dataclass(frozen=True)
class CueConflictGrid:
  """The `cue_conflict` test config (ours): the shape of one class's held-out instance rendered with the surface
  (material and texture) of another class's held-out instance, in the shape instance's test pose, centred at
  `area`. `textures_per_shape` other classes per shape (seeded; None: every other class)."""
  name: str
  textures_per_shape: int | None
  area: float = 0.25
  visibility_threshold: float = 0.0
  paper_resolution: int = 512


# The other 3D factors' grids (the viewpoint's are VIEWPOINT_GRIDS): "default" keeps the main job small, "full"
# (--paper) is the fine grid.
GRIDS_3D = {
    "default": dict(
        lighting=LightingGrid("lighting", azimuths=(-90.0, 0.0, 90.0, 180.0), elevations=(15.0, 60.0),
                              irradiances=(0.25, 1.0, 4.0, 16.0, 64.0)),
        occlusion=OcclusionGrid("occlusion", levels=(0.0, 0.3, 0.6, 0.9)),
        clutter=ClutterGrid("clutter", counts=(0, 2, 4, 8)),
        cue_conflict=CueConflictGrid("cue_conflict", textures_per_shape=2)),
    "full": dict(
        lighting=LightingGrid("lighting", azimuths=tuple(float(a) for a in range(-180, 180, 30)),
                              elevations=(0.0, 15.0, 30.0, 45.0, 60.0, 75.0),
                              irradiances=tuple(float(2.0 ** k) for k in range(-3, 8))),
        occlusion=OcclusionGrid("occlusion", levels=tuple(round(0.1 * k, 1) for k in range(10))),
        clutter=ClutterGrid("clutter", counts=tuple(range(9))),
        cue_conflict=CueConflictGrid("cue_conflict", textures_per_shape=None)),
}
SUBSETS_3D = ("viewpoint", "lighting", "occlusion", "clutter", "cue_conflict")


def grid_3d(subset: str, grids: str):
  """The grid of a 3D-factor subset at a grid size ("default" or "full")."""
  return VIEWPOINT_GRIDS[grids] if subset == "viewpoint" else GRIDS_3D[grids][subset]


def validate(x: float, y: float, area: float, rotation: float) -> None:
  """Raise ValueError naming the factor when a value is outside its domain."""
  for name, value in (("x", x), ("y", y), ("area", area), ("rotation", rotation)):
    if not np.isfinite(value):
      raise ValueError(f"SI-Score factor {name} must be finite, got {value}")
  if not 0 <= x <= 1:
    raise ValueError(f"SI-Score factor x must be in [0, 1], got {x}")
  if not 0 <= y <= 1:
    raise ValueError(f"SI-Score factor y must be in [0, 1], got {y}")
  if not 0 < area <= 1:
    raise ValueError(f"SI-Score factor area must be in (0, 1], got {area}")
  if not -360 <= rotation <= 360:
    raise ValueError(f"SI-Score factor rotation must be in [-360, 360] degrees, got {rotation}")


@dataclasses.dataclass(frozen=True)
class TrainDistribution:
  """Random factors for the training split.

  `location="center"` draws (x, y) from a normal around the centre (the photographer's bias the paper discusses),
  clipped to [0, 1]; "uniform" draws them uniformly. Areas are log-uniform in [min_area, max_area]; rotations are 0
  with probability 1 - rotate_probability, else uniform in [0, 360).
  """
  location: str = "center"
  center_std: float = 0.15
  min_area: float = 0.05
  max_area: float = 0.6
  rotate_probability: float = 0.3

  def __post_init__(self):
    if self.location not in ("center", "uniform"):
      raise ValueError(f"train location must be 'center' or 'uniform', got {self.location!r}")
    if not 0 < self.min_area <= self.max_area <= 1:
      raise ValueError(f"train areas need 0 < min_area <= max_area <= 1, got {self.min_area}, {self.max_area}")

  def sample(self, rng: np.random.RandomState) -> tuple[float, float, float, float]:
    if self.location == "center":
      x, y = np.clip(rng.normal(0.5, self.center_std, 2), 0, 1)
    else:
      x, y = rng.uniform(0, 1, 2)
    area = float(np.exp(rng.uniform(np.log(self.min_area), np.log(self.max_area))))
    rotation = float(rng.uniform(0, 360)) if rng.uniform() < self.rotate_probability else 0.0
    return round(float(x), 4), round(float(y), 4), round(area, 4), round(rotation, 2)
