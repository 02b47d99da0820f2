"""Seeded random helpers for scene scripts (Kubric's `kb.random_hue_color`, `kb.move_until_no_overlap`, ...).

Every function takes the caller's `rng` (numpy RandomState or Generator): nothing here draws unseeded numbers.
"""
from __future__ import annotations

import colorsys

import numpy as np

from kubricgen.scene.transforms import axis_angle_to_quaternion, quaternion_multiply

CLEVR_COLORS = {
    "blue": (0.1, 0.1, 0.8), "brown": (0.4, 0.2, 0.05), "cyan": (0.1, 0.7, 0.7), "gray": (0.3, 0.3, 0.3),
    "green": (0.1, 0.6, 0.1), "purple": (0.4, 0.05, 0.6), "red": (0.8, 0.05, 0.05), "yellow": (0.9, 0.8, 0.05),
}


def _uniform(rng, low, high, size=None):
  return rng.uniform(low, high, size)


def random_hue_color(saturation: float = 1.0, value: float = 1.0, rng=None) -> tuple[float, float, float, float]:
  if rng is None:
    raise ValueError("random_hue_color: pass rng= (a seeded numpy random generator)")
  return (*colorsys.hsv_to_rgb(float(_uniform(rng, 0, 1)), saturation, value), 1.0)


def random_rotation(axis=None, rng=None) -> np.ndarray:
  """A uniformly random rotation (quaternion wxyz), or a random angle about `axis` ('X', 'Y', 'Z' or a vector)."""
  if rng is None:
    raise ValueError("random_rotation: pass rng= (a seeded numpy random generator)")
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
  if rng is None:
    raise ValueError("move_until_no_overlap: pass rng= (a seeded numpy random generator)")
  base = np.asarray(asset.quaternion)
  for _ in range(max_trials):
    asset.position = sample_point_in_region(spawn_region, rng)
    if rotate:
      asset.quaternion = quaternion_multiply(random_rotation("Z", rng), base)
    if not simulator.check_overlap(asset):
      return
  raise RuntimeError(f"move_until_no_overlap: no free spot for {asset.name!r} after {max_trials} trials")
