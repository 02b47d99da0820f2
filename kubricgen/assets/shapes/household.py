"""Procedural household objects for the class library: coffee mug, vase, flowerpot, wok, wine bottle, candle, tray.

Each generator takes shape parameters (for variation), `colors` (slot -> '#rrggbb' sRGB) and sometimes a `pattern`
or `kind`; sizes are arbitrary (assets are normalised when created). Z is up; objects stand on z = 0.
"""
from __future__ import annotations

import numpy as np

from kubricgen.assets.shapes.builder import (Shape, blend, ellipsoid, noisy, revolve, rgb, rotation, speckles,
                                             stripes, sweep)


def _colors(defaults: dict, colors: dict | None) -> dict:
  unknown = set(colors or {}) - set(defaults)
  if unknown:
    raise ValueError(f"unknown color slots {sorted(unknown)}; known: {sorted(defaults)}")
  return {**defaults, **(colors or {})}


def _body_paint(pattern: str, base, accent, seed: int = 0):
  if pattern == "plain":
    return base
  if pattern == "stripes":
    return stripes([base, accent], 12, along="u")
  if pattern == "bands":
    return lambda u, v: np.where((((v * 7) % 1) < 0.3)[..., None], rgb(accent), rgb(base))
  if pattern == "band":
    return lambda u, v: np.where(((v > 0.55) & (v < 0.68))[..., None], rgb(accent), rgb(base))
  if pattern == "dots":
    return speckles(base, accent, 60, 0.035, seed)
  if pattern == "glaze":
    return blend(accent, base, 0.35, 0.8)
  raise ValueError(f"unknown pattern {pattern!r}")


def coffee_mug(height: float = 1.0, radius: float = 0.45, handle: float = 1.0, pattern: str = "plain",
               colors: dict | None = None) -> Shape:
  colors = _colors({"body": "#f4f2ee", "inside": "#f4f2ee", "accent": "#c0392b"}, colors)
  h, r, wall = height, radius, 0.045
  outer = revolve([(0, 0), (r - 0.03, 0), (r, 0.03), (r, h), (r - wall / 2, h + 0.012)], 48,
                  _body_paint(pattern, colors["body"], colors["accent"]), sharp=(1, 3))
  inner = revolve([(r - wall / 2, h + 0.012), (r - wall, h), (r - wall, wall + 0.02), (r - wall - 0.02, wall),
                   (0, wall)][::-1], 48, colors["inside"])
  t = np.linspace(-np.pi / 2, np.pi / 2, 24)
  reach, span = 0.28 * handle, 0.3 * h * handle
  path = np.stack([r - 0.03 + reach * np.cos(t), np.zeros_like(t), 0.52 * h + span * np.sin(t)], 1)
  grip = sweep(path, 0.045, 16, colors["body"] if pattern != "plain" else colors["body"], chunks=4, aspect=1.5,
               up=(0, 1, 0))
  return Shape().add(outer, inner, grip)


def vase(height: float = 1.0, bulge: float = 1.0, neck: float = 1.0, lip: float = 1.0, pattern: str = "plain",
         colors: dict | None = None, seed: int = 0) -> Shape:
  colors = _colors({"body": "#2d6a9f", "accent": "#e9e4d4", "inside": "#1d2a36"}, colors)
  h, b, n, l = height, bulge, neck, lip
  outer = [(0, 0), (0.22, 0), (0.24, 0.02), (0.4 * b, 0.2 * h), (0.46 * b, 0.38 * h), (0.42 * b, 0.55 * h),
           (0.28 * n + 0.05, 0.7 * h), (0.17 * n, 0.82 * h), (0.17 * n, 0.9 * h), (0.25 * l, 0.99 * h),
           (0.25 * l - 0.01, h)]
  paint = noisy(_body_paint(pattern, colors["body"], colors["accent"], seed), 0.04, seed)
  inside = [(0.25 * l - 0.01, h), (0.25 * l - 0.035, 0.985 * h), (0.17 * n - 0.025, 0.9 * h), (0.15 * n, 0.75 * h),
            (0, 0.72 * h)]
  return Shape().add(revolve(outer, 56, paint, sharp=(1,)), revolve(inside, 56, colors["inside"]))


def flowerpot(height: float = 1.0, flare: float = 1.0, plant: str = "leaves", colors: dict | None = None,
              seed: int = 0) -> Shape:
  """A tapered pot with a rim, soil, and a plant: leaves, cactus, flower or none."""
  colors = _colors({"pot": "#b5582f", "soil": "#3b2a1e", "plant": "#3f8f3a", "flower": "#d8344f"}, colors)
  h, f = height, flare
  pot = revolve([(0, 0), (0.3, 0), (0.32, 0.02), (0.4 * f, 0.64 * h), (0.46 * f, 0.66 * h), (0.46 * f, 0.8 * h),
                 (0.43 * f, 0.81 * h), (0.41 * f, 0.74 * h)], 48, noisy(colors["pot"], 0.08, seed),
                sharp=(1, 3, 5, 6))
  soil = revolve([(0.41 * f, 0.74 * h), (0, 0.74 * h)], 48, noisy(colors["soil"], 0.3, seed + 1, 32))
  shape = Shape().add(pot, soil)
  rng = np.random.RandomState(seed)
  top = 0.74 * h
  leaf_paint = noisy(colors["plant"], 0.12, seed + 2)
  if plant == "leaves":
    for k in range(9):
      angle = 360 * k / 9 + rng.uniform(-12, 12)
      tilt = rng.uniform(25, 55)
      leaf = ellipsoid((0.07, 0.2, 0.5), 16, 12, leaf_paint, collide=False)
      leaf = leaf.moved((0, 0, 0.45), rotation=rotation("z", angle) @ rotation("x", tilt))
      shape.add(leaf.moved((0, 0, top - 0.05)))
  elif plant == "cactus":
    body = ellipsoid((0.2, 0.2, 0.5), 24, 16, stripes([colors["plant"], "#2f6e2c"], 12, along="u"))
    shape.add(body.moved((0, 0, top + 0.42)))
    for side, z in ((1, 0.5), (-1, 0.7)):
      arm = sweep([(0, 0, 0), (0.28 * side, 0, 0.0), (0.33 * side, 0, 0.25)], 0.08, 12, colors["plant"], chunks=2)
      shape.add(arm.moved((0.12 * side, 0, top + z)))
  elif plant == "flower":
    stem = sweep([(0, 0, top - 0.05), (0.03, 0, top + 0.4), (0, 0, top + 0.75)], 0.025, 8, colors["plant"],
                 collide=False)
    shape.add(stem)
    centre = (0, 0, top + 0.78)
    for k in range(8):
      petal = ellipsoid((0.14, 0.06, 0.025), 12, 8, colors["flower"], collide=False)
      shape.add(petal.moved((0.13, 0, 0), rotation=rotation("z", 45 * k)).moved(centre))
    shape.add(ellipsoid(0.07, 16, 10, "#f0c419", collide=False).moved(centre))
    for side in (1, -1):
      leaf = ellipsoid((0.2, 0.07, 0.02), 12, 8, colors["plant"], collide=False)
      shape.add(leaf.moved((0.17 * side, 0, top + 0.3), rotation=rotation("y", -25 * side)))
  elif plant != "none":
    raise ValueError(f"unknown plant {plant!r}")
  return shape


def wok(depth: float = 0.5, handle: str = "long", colors: dict | None = None) -> Shape:
  colors = _colors({"metal": "#3a3a3e", "handle": "#8a5a35"}, colors)
  t = np.linspace(0, 1, 16)
  outer = [(1.0 * x, depth * x ** 2) for x in t]
  inner = [(0.98 * x, depth * x ** 2 + 0.02) for x in t[::-1]]
  bowl = revolve(outer + [(1.02, depth + 0.015)] + inner, 64, noisy(colors["metal"], 0.1))
  shape = Shape().add(bowl)
  if handle in ("long", "both"):
    path = np.stack([1.0 + 1.0 * t, np.zeros_like(t), depth - 0.02 + 0.25 * t], 1)
    shape.add(sweep(path[:5], 0.05, 12, colors["metal"]))
    shape.add(sweep(path[4:], 0.075, 16, colors["handle"], aspect=1.3, up=(0, 1, 0)))
  if handle in ("loops", "both"):
    a = np.linspace(-np.pi / 2, np.pi / 2, 16)
    for side in ((1, -1) if handle == "loops" else (-1,)):
      loop = np.stack([side * (1.0 + 0.14 * np.cos(a)), 0.22 * np.sin(a), np.full_like(a, depth + 0.01)], 1)
      shape.add(sweep(loop, 0.03, 10, colors["metal"], chunks=3))
  return shape


def wine_bottle(shape: str = "bordeaux", colors: dict | None = None, label: bool = True) -> Shape:
  colors = _colors({"glass": "#1f4d2b", "label": "#efe7d2", "capsule": "#7a1026", "ink": "#5a4630"}, colors)
  if shape == "bordeaux":
    profile = [(0, 0), (0.36, 0), (0.37, 0.02), (0.37, 0.62), (0.34, 0.68), (0.2, 0.74), (0.13, 0.79),
               (0.12, 0.98), (0.13, 1.0), (0, 1.0)]
  elif shape == "burgundy":
    profile = [(0, 0), (0.39, 0), (0.4, 0.02), (0.4, 0.5), (0.33, 0.63), (0.19, 0.74), (0.13, 0.8),
               (0.12, 0.98), (0.13, 1.0), (0, 1.0)]
  elif shape == "hock":
    profile = [(0, 0), (0.3, 0), (0.31, 0.02), (0.31, 0.5), (0.24, 0.66), (0.14, 0.78), (0.11, 0.85),
               (0.1, 1.08), (0.11, 1.1), (0, 1.1)]
  else:
    raise ValueError(f"unknown bottle shape {shape!r}")
  profile = [(0.36 * r, z) for r, z in profile]  # real bottles are about 4 times as tall as wide
  zs = np.array([z for _, z in profile])
  top = zs.max()
  glass, label_color, capsule = rgb(colors["glass"]), rgb(colors["label"]), rgb(colors["capsule"])
  lengths = np.concatenate([[0], np.cumsum(np.linalg.norm(np.diff(np.asarray(profile), axis=0), axis=1))])
  v_of_z = lambda z: np.interp(z, zs[1:-1], (lengths / lengths[-1])[1:-1])  # noqa: E731
  label_low, label_high, capsule_low = v_of_z(0.15 * top), v_of_z(0.45 * top), v_of_z(0.8 * top)

  def paint(u, v):
    image = np.broadcast_to(glass, u.shape + (3,)).copy()
    if label:
      on_label = (v > label_low) & (v < label_high) & ((u < 0.3) | (u > 0.7))
      image[on_label] = label_color
      text = on_label & ((np.abs(v - (label_low + label_high) / 2) < 0.012) | (np.abs(u - 0.5) > 0.44) &
                         (np.abs(v - (label_low * 0.3 + label_high * 0.7)) < 0.03))
      image[text] = rgb(colors["ink"])
    image[v > capsule_low] = capsule
    return image
  return Shape().add(revolve(profile, 48, paint, sharp=(1,)))


def candle(kind: str = "pillar", colors: dict | None = None, seed: int = 0) -> Shape:
  """A lit candle: pillar, taper (in a candlestick) or tealight (in a metal cup)."""
  colors = _colors({"wax": "#f3ead6", "holder": "#b8914a", "flame": "#ffb12a"}, colors)
  wax = noisy(colors["wax"], 0.05, seed)
  shape = Shape()
  if kind == "pillar":
    r, h = 0.32, 1.0
    shape.add(revolve([(0, 0), (r, 0), (r, h), (r - 0.03, h + 0.015), (r - 0.1, h - 0.02), (0, h - 0.03)], 48, wax,
                      sharp=(1, 2)))
    base = h - 0.03
  elif kind == "taper":
    r, h = 0.09, 1.3
    stick = revolve([(0, 0), (0.38, 0), (0.38, 0.05), (0.3, 0.08), (0.08, 0.12), (0.07, 0.3), (0.13, 0.34),
                     (0.14, 0.38), (0.1, 0.4)], 48, colors["holder"], sharp=(1, 2))
    shape.add(stick)
    shape.add(revolve([(0, 0.35), (r, 0.35), (r, 0.35 + h), (0.05, 0.37 + h), (0, 0.38 + h)], 32, wax, sharp=(1,)))
    base = 0.38 + h
  elif kind == "tealight":
    r, h = 0.45, 0.22
    shape.add(revolve([(0, 0), (r, 0), (r, h), (r - 0.015, h), (r - 0.015, h - 0.04)], 48, colors["holder"],
                      sharp=(1, 2, 3)))
    shape.add(revolve([(r - 0.015, h - 0.04), (0, h - 0.04)], 48, wax))
    base = h - 0.04
  else:
    raise ValueError(f"unknown candle kind {kind!r}")
  shape.add(sweep([(0, 0, base - 0.01), (0.005, 0, base + 0.06), (0.015, 0, base + 0.1)], 0.012, 8, "#202020",
                  collide=False))
  flame = revolve([(0, base + 0.07), (0.05, base + 0.1), (0.06, base + 0.14), (0.035, base + 0.22),
                   (0, base + 0.3)], 24, blend("#fff4c2", colors["flame"], 0.1, 0.6), collide=False)
  return shape.add(flame)


def tray(width: float = 1.0, depth: float = 0.65, wall: float = 0.09, squareness: float = 8.0,
         handles: bool = True, colors: dict | None = None, pattern: str = "plain") -> Shape:
  """A shallow serving tray with sloped walls (rounded rectangle, or oval with squareness 2), optional handles."""
  colors = _colors({"body": "#7a4b2a", "accent": "#c9a978"}, colors)
  paint = stripes([colors["body"], colors["accent"]], 9, along="v") if pattern == "wood" else \
      noisy(colors["body"], 0.05)
  profile = [(0, 0), (0.95, 0), (1.0, 0.005), (1.08, wall), (1.06, wall + 0.012), (0.98, wall), (0.94, 0.025),
             (0, 0.025)]
  shape = Shape().add(revolve(profile, 96, paint, sharp=(1, 3, 4, 6), squareness=squareness, xy=(width, depth)))
  if handles:
    for side in (1, -1):
      a = np.linspace(-np.pi / 2, np.pi / 2, 12)
      loop = np.stack([side * (1.08 * width + 0.09 * np.cos(a)), 0.2 * np.sin(a), np.full_like(a, wall)], 1)
      shape.add(sweep(loop, 0.02, 8, colors["body"], chunks=3))
  return shape


GENERATORS = {"coffee_mug": coffee_mug, "vase": vase, "flowerpot": flowerpot, "wok": wok, "wine_bottle": wine_bottle,
              "candle": candle, "tray": tray}
