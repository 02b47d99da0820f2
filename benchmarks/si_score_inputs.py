"""Inputs of benchmarks/si_score_composite.py: a small object library of coloured primitives and procedural
"photo" backgrounds, in a module of their own so worker processes (spawned, or Beam's) can import them."""
from __future__ import annotations

import colorsys
import dataclasses

import numpy as np
from PIL import Image

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


SHAPES = (kb.Cube, kb.Sphere, kb.Cylinder, kb.Cone, kb.Torus)
SCALES = ((1.0, 0.5, 0.7), (0.8, 0.8, 1.0), (0.6, 0.6, 1.0), (1.0, 1.0, 0.9), (1.0, 1.0, 1.0))


class BenchLibrary:
  """`count` classes of coloured primitives, one held-out (test) and one training instance each."""

  def __init__(self, count: int):
    self.count = count
    self.classes = [ClassInfo(f"object{i:02d}", None) for i in range(count)]

  def instances(self, split=None, class_name=None):
    found = [AssetInfo(f"{c.name}_{s}", c.name, s) for c in self.classes for s in ("test", "train")]
    return [a for a in found if split in (None, a.split) and class_name in (None, a.class_name)]

  def create(self, asset_id, **overrides):
    index = int(asset_id[len("object"):].split("_")[0])
    colour = colorsys.hsv_to_rgb((index * 0.381966) % 1.0, 0.75, 0.85)
    shape = SHAPES[index % len(SHAPES)]
    return shape(asset_id=asset_id, scale=SCALES[index % len(SCALES)],
                 material=kb.PrincipledBSDFMaterial(color=colour), **overrides)


class BenchBackgrounds:
  """Photo-like 640x480 sources (smooth colour fields with texture); `load` crops the top-left square and resizes it
  (PIL bilinear), exactly what the original generator does to its background files."""
  SOURCE_SIZE = (640, 480)

  def __init__(self, count: int = 8):
    self.ids = [f"background{i}" for i in range(count)]

  def source(self, background_id: str) -> np.ndarray:
    rng = np.random.RandomState(int(background_id[len("background"):]))
    width, height = self.SOURCE_SIZE
    coarse = Image.fromarray(rng.randint(20, 235, (6, 8, 3)).astype(np.uint8)).resize((width, height),
                                                                                      Image.BICUBIC)
    texture = rng.normal(0, 18, (height, width, 1))
    return np.clip(np.asarray(coarse, np.float32) + texture, 0, 255).astype(np.uint8)

  def load(self, background_id: str, size: int) -> np.ndarray:
    image = Image.fromarray(self.source(background_id))
    side = min(image.size)
    image = image.crop((0, 0, side, side))
    if image.size != (size, size):
      image = image.resize((size, size), Image.BILINEAR)
    return np.asarray(image)


def make_library(count: int = 8):
  return BenchLibrary(count)


def make_backgrounds():
  return BenchBackgrounds()
