"""Seeded random helpers for scene scripts (Kubric's `kb.random_hue_color`, `kb.move_until_no_overlap`, ...).

Every function takes the caller's `rng` (numpy RandomState or Generator). As in Kubric, `rng` may be left out: it
then defaults to the run's seeded generator, the one `kb.setup` returns (registered with `set_default_rng`), so a
Kubric worker that relies on the default ports unchanged and stays deterministic. Outside a run (a Kubric example
run as a plain script, without `kb.setup`) they draw from one process-wide generator seeded with FALLBACK_SEED, with
a warning saying so: a script then gives the same scene every time it runs, where Kubric's would differ. Nothing here
draws unseeded numbers.
"""
from __future__ import annotations

import colorsys
import logging

import numpy as np

from kubricgen.scene.transforms import axis_angle_to_quaternion, quaternion_multiply
from kubricgen.scene.color import Color

# CLEVR's eight colours (its generator's properties.json, Johnson et al. 2017), as 0-255 RGB over 255, as Kubric's.
CLEVR_COLORS = {name: Color(r / 255, g / 255, b / 255) for name, (r, g, b) in {
    "blue": (42, 75, 215), "brown": (129, 74, 25), "cyan": (41, 208, 208), "gray": (87, 87, 87),
    "green": (29, 105, 20), "purple": (129, 38, 192), "red": (173, 35, 35), "yellow": (255, 238, 5)}.items()}
CLEVR_SIZES = {"small": 0.7, "large": 1.4}  # CLEVR's two sizes (scale), as Kubric's


FALLBACK_SEED = 0  # the seed of the generator used outside a run when a caller passes no rng
_default_rng = None  # the run's seeded generator (kb.setup), used when a caller passes no rng
_fallback_rng = None  # outside a run: np.random.RandomState(FALLBACK_SEED), made at first use


def set_default_rng(rng) -> None:
  """Make `rng` (a seeded numpy RandomState or Generator; None to clear) what these functions use without `rng=`."""
  global _default_rng  # pylint: disable=global-statement
  _default_rng = rng


def _rng(rng, function: str):
  if rng is not None:
    return rng
  if _default_rng is not None:
    return _default_rng
  global _fallback_rng  # pylint: disable=global-statement
  if _fallback_rng is None:
    logging.getLogger("kubricgen").warning(
        "%s: no rng= and no kb.setup run: drawing from a generator seeded with %d (pass rng= or call kb.setup "
        "for another seed)", function, FALLBACK_SEED)
    _fallback_rng = np.random.RandomState(FALLBACK_SEED)
  return _fallback_rng


def _uniform(rng, low, high, size=None):
  return rng.uniform(low, high, size)


def random_hue_color(saturation: float = 1.0, value: float = 1.0, rng=None) -> Color:
  """A Color of uniformly random hue at the given saturation and value (Kubric's signature; a tuple)."""
  rng = _rng(rng, "random_hue_color")
  return Color(*colorsys.hsv_to_rgb(float(_uniform(rng, 0, 1)), saturation, value), 1.0)


def random_rotation(axis=None, rng=None) -> np.ndarray:
  """A uniformly random rotation (quaternion wxyz), or a random angle about `axis` ('X', 'Y', 'Z' or a vector)."""
  rng = _rng(rng, "random_rotation")
  if axis is None:
    q = rng.normal(size=4)
    q /= np.linalg.norm(q)
    return q if q[0] >= 0 else -q
  vectors = {"X": (1, 0, 0), "Y": (0, 1, 0), "Z": (0, 0, 1)}
  return axis_angle_to_quaternion(vectors.get(axis, axis), float(_uniform(rng, 0, 2 * np.pi)))


def sample_point_in_region(region, rng) -> np.ndarray:
  low, high = np.asarray(region[0], float), np.asarray(region[1], float)
  return low + (high - low) * rng.uniform(size=3)


def move_until_no_overlap(asset, simulator, spawn_region=((-1, -1, -1), (1, 1, 1)), max_trials=100, rng=None,
                          rotate=True) -> None:
  """Place `asset` at random points (and rotations about Z) in `spawn_region` until it overlaps nothing.

  Raises RuntimeError after `max_trials` failed attempts (instead of silently leaving an overlap).
  """
  rng = _rng(rng, "move_until_no_overlap")
  base = np.asarray(asset.quaternion)
  for _ in range(max_trials):
    asset.position = sample_point_in_region(spawn_region, rng)
    if rotate:
      asset.quaternion = quaternion_multiply(random_rotation("Z", rng), base)
    if not simulator.check_overlap(asset):
      return
  raise RuntimeError(f"move_until_no_overlap: no free spot for {asset.name!r} after {max_trials} trials")


def sample_color(strategy: str, rng=None) -> tuple[str | None, Color]:
  """Kubric's `kb.randomness.sample_color`: (label, Color) for `strategy` "clevr" (one of CLEVR_COLORS), "uniform_hue"
  (label None, `random_hue_color`) or "gray".

  Raises:
    ValueError: another strategy.
  """
  if strategy == "gray":
    return "gray", Color.from_name("gray")
  if strategy == "clevr":
    label = sorted(CLEVR_COLORS)[_rng(rng, "sample_color").randint(len(CLEVR_COLORS))]
    return label, CLEVR_COLORS[label]
  if strategy == "uniform_hue":
    return None, random_hue_color(rng=_rng(rng, "sample_color"))
  raise ValueError(f"sample_color: unknown strategy {strategy!r}; expected 'clevr', 'uniform_hue' or 'gray'")


def sample_sizes(strategy: str, rng=None) -> tuple[str | None, float]:
  """Kubric's `kb.randomness.sample_sizes`: (label, scale) for `strategy` "clevr" (one of CLEVR_SIZES), "uniform"
  (label None, uniform in [0.7, 1.4)) or "const" (None, 1).

  Raises:
    ValueError: another strategy.
  """
  if strategy == "clevr":
    label = sorted(CLEVR_SIZES)[_rng(rng, "sample_sizes").randint(len(CLEVR_SIZES))]
    return label, CLEVR_SIZES[label]
  if strategy == "uniform":
    return None, float(_uniform(_rng(rng, "sample_sizes"), 0.7, 1.4))
  if strategy == "const":
    return None, 1.0
  raise ValueError(f"sample_sizes: unknown strategy {strategy!r}; expected 'clevr', 'uniform' or 'const'")


def sample_point_in_half_sphere_shell(inner_radius: float, outer_radius: float, offset: float = 0.0,
                                      rng=None) -> tuple[float, float, float]:
  """Kubric's: a point (x, y, z) in metres in the shell inner_radius <= |p| <= outer_radius, uniform in its volume,
  above the ground: the direction is a standard normal 3-vector drawn until its z >= `offset` (Kubric's test, on the
  vector before it is normalised; offset 0 gives the upper half), then normalised; the radius is the cube root of a
  uniform draw between the radii cubed."""
  rng = _rng(rng, "sample_point_in_half_sphere_shell")
  while True:
    direction = rng.normal(0.0, 1.0, 3)
    if direction[2] < offset:
      continue
    direction = direction / np.linalg.norm(direction)
    radius = float(_uniform(rng, inner_radius ** 3, outer_radius ** 3)) ** (1 / 3)
    return tuple(float(v) for v in direction * radius)
