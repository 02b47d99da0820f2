"""A small real object library for SI-Score tests: three classes of coloured primitives, two instances each (one
train, one test), and four procedural backgrounds. Module-level factories so Beam workers can unpickle them."""
import dataclasses

import numpy as np

import kubricgen as kb


@dataclasses.dataclass(frozen=True)
class ClassInfo:
  name: str
  imagenet_index: int | None


@dataclasses.dataclass(frozen=True)
class AssetInfo:
  id: str
  class_name: str
  split: str


CLASSES = {"cube": (kb.Cube, (0.8, 0.1, 0.1), None), "orange": (kb.Sphere, (0.9, 0.45, 0.05), 950),
           "teapot": (kb.Cone, (0.2, 0.3, 0.8), 849)}


class SmallLibrary:
  classes = [ClassInfo(name, index) for name, (_, _, index) in sorted(CLASSES.items())]

  def instances(self, split=None, class_name=None):
    found = [AssetInfo(f"{name}_{s}", name, s) for name in sorted(CLASSES) for s in ("test", "train")]
    return [a for a in found if (split is None or a.split == split) and (class_name in (None, a.class_name))]

  def create(self, asset_id, texture_from=None, **overrides):
    name, split = asset_id.rsplit("_", 1)
    shape, color, _ = CLASSES[name]
    if texture_from is not None:  # the cue_conflict config: this shape in the other instance's material
      color = CLASSES[texture_from.rsplit("_", 1)[0]][1]
    scale = (1.0, 1.0, 1.0) if split == "test" else (1.0, 0.6, 1.0)  # a visibly different training instance
    return shape(asset_id=asset_id, scale=scale, material=kb.PrincipledBSDFMaterial(color=color), **overrides)


class SmallBackgrounds:
  ids = ["checker", "gradient", "stripes", "flat"]

  def load(self, background_id, size):
    yy, xx = np.mgrid[0:size, 0:size] / max(size - 1, 1)
    if background_id == "checker":
      v = (((np.mgrid[0:size, 0:size] * 8 // size).sum(0)) % 2) * 120 + 60
      image = np.stack([v, v, v], -1)
    elif background_id == "gradient":
      image = np.stack([xx * 200, yy * 200, (1 - xx) * 150 + 50], -1)
    elif background_id == "stripes":
      v = (np.sin(xx * 40) > 0) * 100 + 80
      image = np.stack([v * 0.6, v, v * 0.8], -1)
    else:
      image = np.full((size, size, 3), (90, 120, 90))
    return np.asarray(image, dtype=np.uint8)


def make_library():
  return SmallLibrary()


def make_backgrounds():
  return SmallBackgrounds()
