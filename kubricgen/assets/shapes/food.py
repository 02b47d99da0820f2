"""Procedural food for the class library: mushroom, bagel, lemon, orange, banana, strawberry.

Generators take shape parameters, `colors` (slot -> '#rrggbb' sRGB), a `kind` where the class has recognisable
sorts, and a `seed` for their speckles and noise. Z is up; sizes are arbitrary (assets are normalised when created).
"""
from __future__ import annotations

import numpy as np

from kubricgen.assets.shapes.builder import (Shape, blend, ellipsoid, extrude_radial, noisy, revolve, rgb, rotation,
                                             speckles, sweep)
from kubricgen.assets.shapes.household import _colors


def mushroom(kind: str = "button", cap: float = 1.0, stem: float = 1.0, colors: dict | None = None,
             seed: int = 0) -> Shape:
  """button (white, closed cap), porcini (brown cap, fat stem) or amanita (red cap, white spots)."""
  defaults = {"button": {"cap": "#eee6d8", "stem": "#f3eee4", "gills": "#c9b49a", "spots": "#ffffff"},
              "porcini": {"cap": "#7b4a24", "stem": "#e6d7b8", "gills": "#d6c48a", "spots": "#ffffff"},
              "amanita": {"cap": "#c81e1e", "stem": "#f5f1e6", "gills": "#f1ead8", "spots": "#fbfbf5"}}
  if kind not in defaults:
    raise ValueError(f"unknown mushroom kind {kind!r}")
  colors = _colors(defaults[kind], colors)
  s, c = stem, cap
  if kind == "porcini":
    stem_profile = [(0, 0), (0.22 * s, 0), (0.3 * s, 0.12), (0.3 * s, 0.3), (0.22 * s, 0.55), (0, 0.55)]
    cap_profile = [(0.2, 0.5), (0.6 * c, 0.47), (0.66 * c, 0.52), (0.6 * c, 0.68), (0.35 * c, 0.8), (0, 0.83)]
  elif kind == "amanita":
    stem_profile = [(0, 0), (0.16 * s, 0), (0.14 * s, 0.08), (0.1 * s, 0.55 + 0.25 * s), (0, 0.55 + 0.25 * s)]
    top = 0.5 + 0.25 * s
    cap_profile = [(0.1, top), (0.62 * c, top - 0.05), (0.66 * c, top), (0.58 * c, top + 0.15),
                   (0.35 * c, top + 0.24), (0, top + 0.27)]
  else:
    stem_profile = [(0, 0), (0.19 * s, 0), (0.17 * s, 0.42), (0, 0.42)]
    cap_profile = [(0.16, 0.36), (0.44 * c, 0.33), (0.52 * c, 0.38), (0.53 * c, 0.47), (0.45 * c, 0.6),
                   (0.25 * c, 0.7), (0, 0.72)]
  shape = Shape().add(revolve(stem_profile, 32, noisy(colors["stem"], 0.06, seed), sharp=(1,)))
  gills = revolve(cap_profile[:2], 48, colors["gills"])
  cap_paint = speckles(colors["cap"], colors["spots"], 45, 0.045, seed) if kind == "amanita" else \
      noisy(colors["cap"], 0.12, seed)
  shape.add(gills, revolve(cap_profile[1:], 48, cap_paint, sharp=(0,)))
  return shape


def bagel(kind: str = "sesame", ring: float = 0.62, tube: float = 0.38, colors: dict | None = None,
          seed: int = 0) -> Shape:
  """A bagel: plain, sesame (white seeds), poppy (black seeds) or everything (mixed)."""
  colors = _colors({"crust": "#b46a2a", "crumb": "#e2bf84", "seed": "#f2e6c4", "poppy": "#2a2622"}, colors)
  seeds = {"plain": [], "sesame": [colors["seed"]], "poppy": [colors["poppy"]],
           "everything": [colors["seed"], colors["poppy"], "#8a6a3c"]}
  if kind not in seeds:
    raise ValueError(f"unknown bagel kind {kind!r}")
  rng = np.random.RandomState(seed)
  dots = [(rng.uniform(0, 1), rng.uniform(-0.22, 0.22), rng.choice(len(seeds[kind])) if seeds[kind] else 0)
          for _ in range(220)] if seeds[kind] else []
  crust, crumb = rgb(colors["crust"]), rgb(colors["crumb"])

  def paint(u, v):
    top = np.cos(2 * np.pi * u)  # u = 0 is the top of the tube
    t = np.clip((top + 0.3) / 1.0, 0, 1)[..., None]
    image = crumb * (1 - t) + crust * t
    for along, across, which in dots:
      du = np.minimum(abs(v - along), 1 - abs(v - along))
      dv = np.minimum(abs(u - across % 1), 1 - abs(u - across % 1))
      image[(du / 0.0045) ** 2 + (dv / 0.011) ** 2 < 1] = rgb(seeds[kind][which])
    return image
  a = np.linspace(0, 2 * np.pi, 64, endpoint=False)
  path = np.stack([ring * np.cos(a), ring * np.sin(a), np.zeros_like(a)], 1)
  body = sweep(path, tube, 28, noisy(paint, 0.08, seed, 24), closed=True, chunks=12)
  return Shape().add(body.moved(scale=(1, 1, 0.72)))


def _citrus_profile(length: float, tip: float) -> list:
  z = np.linspace(-1, 1, 25)
  r = np.sqrt(np.clip(1 - z ** 2, 0, 1)) ** (1 - 0.25 * tip)
  profile = [(0.0, -length - 0.12 * tip)] + [(float(x), float(y * length)) for x, y in zip(r[1:-1], z[1:-1])]
  return profile + [(0.0, length + 0.12 * tip)]


def lemon(length: float = 1.35, tip: float = 1.0, leaf: bool = False, colors: dict | None = None,
          seed: int = 0) -> Shape:
  colors = _colors({"peel": "#f2d21a", "leaf": "#3f7d2a", "tip": "#b8b13a"}, colors)
  peel = noisy(noisy(blend(colors["tip"], colors["peel"], 0.94, 1.0), 0.05, seed, 48), 0.04, seed + 1, 8)
  body = revolve(_citrus_profile(length, tip), 40, peel).moved(rotation=rotation("y", 90))
  shape = Shape().add(body.moved((0, 0, 1.0)))
  if leaf:
    shape.add(ellipsoid((0.55, 0.2, 0.03), 16, 10, colors["leaf"], collide=False)
              .moved((-0.4, 0.15, 1.0 + 0.85), rotation=rotation("z", 25) @ rotation("y", 12)))
  return shape


def orange(flatten: float = 0.92, leaf: bool = False, colors: dict | None = None, seed: int = 0) -> Shape:
  colors = _colors({"peel": "#f28a12", "stem": "#5b6b2a", "leaf": "#2f6e2a"}, colors)
  peel = noisy(noisy(colors["peel"], 0.1, seed, 64), 0.05, seed + 1, 8)
  body = ellipsoid((1, 1, flatten), 48, 28, peel)
  shape = Shape().add(body.moved((0, 0, flatten)))
  shape.add(ellipsoid((0.1, 0.1, 0.04), 12, 8, colors["stem"], collide=False).moved((0, 0, 2 * flatten)))
  if leaf:
    shape.add(ellipsoid((0.5, 0.2, 0.03), 16, 10, colors["leaf"], collide=False)
              .moved((0.4, 0.1, 2 * flatten + 0.02), rotation=rotation("z", -20) @ rotation("y", -15)))
  return shape


def banana(curve: float = 1.0, ripeness: str = "yellow", colors: dict | None = None, seed: int = 0) -> Shape:
  """A curved, five-sided banana: green, yellow or spotted (ripe)."""
  peel = {"green": "#8fb53a", "yellow": "#f2d43a", "spotted": "#e9c53a"}
  if ripeness not in peel:
    raise ValueError(f"unknown ripeness {ripeness!r}")
  colors = _colors({"peel": peel[ripeness], "tip": "#4a3a22", "spots": "#5c4020"}, colors)
  t = np.linspace(0, 1, 40)
  angle = (t - 0.5) * np.radians(75) * curve
  radius = 1.6
  path = np.stack([radius * np.sin(angle), np.zeros_like(t), radius * (1 - np.cos(angle))], 1)
  thickness = 0.2 * np.sin(np.clip(t, 0.02, 0.98) * np.pi) ** 0.55 + 0.02
  thickness[-5:] = np.maximum(thickness[-5:], 0.045)  # the stalk
  base = speckles(colors["peel"], colors["spots"], 80, 0.02, seed) if ripeness == "spotted" else colors["peel"]
  base = noisy(base, 0.06, seed)

  def paint(u, v):
    image = base(u, v) if callable(base) else np.broadcast_to(rgb(base), u.shape + (3,)).copy()
    ends = (v < 0.03) | (v > 0.93)
    image[ends] = rgb(colors["tip"]) if ripeness != "green" else rgb("#56632a")
    return image
  return Shape().add(sweep(path, thickness, 5, paint, chunks=5, up=(0, 0, 1)))


def strawberry(length: float = 1.0, width: float = 1.0, colors: dict | None = None, seed: int = 0) -> Shape:
  colors = _colors({"flesh": "#d0201f", "seeds": "#f0d24a", "leaves": "#3d8a2e", "tip": "#d0201f"}, colors)
  profile = [(0, -1.0 * length), (0.22 * width, -0.85 * length), (0.5 * width, -0.45 * length),
             (0.66 * width, -0.05 * length), (0.64 * width, 0.2 * length), (0.45 * width, 0.4 * length),
             (0, 0.45 * length)]
  base = blend(colors["flesh"], colors["tip"], 0.0, 0.35)
  body = revolve(profile, 40, noisy(speckles_over(base, colors["seeds"], seed), 0.05, seed))
  shape = Shape().add(body)
  star = lambda theta: 0.18 + 0.42 * np.abs(np.cos(theta * 3.5)) ** 3  # noqa: E731  seven pointed leaves
  calyx = extrude_radial(star, 0.03, samples=280, paint=colors["leaves"], collide=False)
  shape.add(calyx.moved((0, 0, 0.44 * length)))
  shape.add(sweep([(0, 0, 0.44 * length), (0.02, 0, 0.55 * length), (0.06, 0, 0.62 * length)], 0.035, 8,
                  colors["leaves"], collide=False))
  return shape


def speckles_over(base, seed_color, seed: int):
  """Small seeds on a base paint, placed on a jittered grid (evenly spread, like a strawberry's)."""
  rng = np.random.RandomState(seed)
  grid_u, grid_v = np.meshgrid(np.arange(14) / 14, np.linspace(0.08, 0.88, 10))
  grid_u = grid_u + (np.arange(10)[:, None] % 2) * 0.5 / 14 + rng.uniform(-0.012, 0.012, grid_u.shape)
  centres = np.stack([grid_u.ravel() % 1, grid_v.ravel() + rng.uniform(-0.01, 0.01, grid_v.size)], 1)
  color = rgb(seed_color)

  def paint(u, v):
    image = base(u, v) if callable(base) else np.broadcast_to(rgb(base), u.shape + (3,)).copy()
    for cu, cv in centres:
      du = np.minimum(abs(u - cu), 1 - abs(u - cu))
      image[(du / 0.012) ** 2 + ((v - cv) / 0.018) ** 2 < 1] = color
    return image
  return paint


GENERATORS = {"mushroom": mushroom, "bagel": bagel, "lemon": lemon, "orange": orange, "banana": banana,
              "strawberry": strawberry}
