"""Procedural shape generators by name: `generate(name, params)` -> BuiltShape (mesh, texture atlas, collision).

KuBasic shapes live in `kubasic`, household objects in `household`, food in `food`, other things in `things`.
"""
from __future__ import annotations

import inspect

from kubricgen.assets.errors import AssetError
from kubricgen.assets.shapes import food, household, kubasic, things
from kubricgen.assets.shapes.builder import BuiltShape

GENERATORS = {
    "gear": kubasic.gear, "torus_knot": kubasic.torus_knot, "sponge": kubasic.sponge, "suzanne": kubasic.suzanne,
    "teapot": kubasic.teapot,
    **household.GENERATORS, **food.GENERATORS, **things.GENERATORS,
}
VERSION = 2  # bump when a generator's output changes, so cached meshes are rebuilt


def parameters(name: str) -> dict:
  """{parameter: default} of a generator."""
  return {k: p.default for k, p in inspect.signature(GENERATORS[name]).parameters.items()}


def generate(name: str, params: dict | None = None) -> BuiltShape:
  if name not in GENERATORS:
    raise AssetError(f"unknown procedural generator {name!r}; known: {sorted(GENERATORS)}")
  params = dict(params or {})
  unknown = set(params) - set(parameters(name))
  if unknown:
    raise AssetError(f"generator {name!r}: unknown parameters {sorted(unknown)}; known: {sorted(parameters(name))}")
  try:
    return GENERATORS[name](**params).build()
  except (TypeError, ValueError) as error:
    raise AssetError(f"generator {name!r} with {params}: {error}") from None
