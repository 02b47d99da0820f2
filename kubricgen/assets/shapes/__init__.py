"""Procedural shape generators by name: `generate(name, params)` -> BuiltShape (mesh, texture atlas, collision).

KuBasic shapes live in `kubasic`, household objects in `household`, food in `food`, other things in `things`.
"""
from __future__ import annotations

import inspect

import numpy as np

from kubricgen.assets.errors import AssetError
from kubricgen.assets.shapes import food, household, kubasic, things
from kubricgen.assets.shapes.builder import BuiltShape

GENERATORS = {
    "gear": kubasic.gear, "torus_knot": kubasic.torus_knot, "sponge": kubasic.sponge, "suzanne": kubasic.suzanne,
    "teapot": kubasic.teapot,
    **household.GENERATORS, **food.GENERATORS, **things.GENERATORS,
}
VERSION = 3  # bump when a generator's output changes, so cached meshes and renders are rebuilt (3: closed sweeps' seams)


def parameters(name: str) -> dict:
  """{parameter: default} of a generator."""
  return {k: p.default for k, p in inspect.signature(GENERATORS[name]).parameters.items()}


def _shape(name: str, params: dict | None):
  if name not in GENERATORS:
    raise AssetError(f"unknown procedural generator {name!r}; known: {sorted(GENERATORS)}")
  params = dict(params or {})
  unknown = set(params) - set(parameters(name))
  if unknown:
    raise AssetError(f"generator {name!r}: unknown parameters {sorted(unknown)}; known: {sorted(parameters(name))}")
  try:
    return GENERATORS[name](**params)
  except (TypeError, ValueError) as error:
    raise AssetError(f"generator {name!r} with {params}: {error}") from None


def skin(name: str, params: dict | None = None):
  """A shape's characteristic surface: the paint (solid sRGB colour or pattern) of its rendered part with the
  largest surface area (a banana's spotted peel, a strawberry's seeded red)."""
  parts = [part for part in _shape(name, params).parts if part.render]
  def area(part) -> float:
    corners = part.vertices[part.faces]
    return float(np.linalg.norm(np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0]), axis=1).sum())
  return max(parts, key=area).paint


def generate(name: str, params: dict | None = None, surface: tuple[str, dict] | None = None) -> BuiltShape:
  """Build a shape. `surface` = (generator, params) of another shape whose `skin` paints every part of this one
  (shape-texture cue conflict: this shape, that surface, at the surface's own pattern scale per part)."""
  shape = _shape(name, params)
  if surface is not None:
    paint = skin(*surface)
    for part in shape.parts:
      part.paint = paint
  try:
    return shape.build()
  except (TypeError, ValueError) as error:
    raise AssetError(f"generator {name!r} with {params}: {error}") from None
