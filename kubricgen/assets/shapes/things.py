"""Procedural things for the class library: dumbbell, screwdriver, hammer, traffic light, sombrero, tennis ball,
soccer ball, dining table.

Generators take shape parameters, `colors` (slot -> '#rrggbb' sRGB) and a `kind` where the class has recognisable
sorts. Z is up; sizes are arbitrary (assets are normalised when created).
"""
from __future__ import annotations

import numpy as np

from kubricgen.assets.shapes.builder import (Shape, box, ellipsoid, extrude_radial, noisy, revolve, rgb, rotation,
                                             stripes, sweep)
from kubricgen.assets.shapes.household import _colors

X_AXIS = rotation("y", 90)  # maps a part built along Z onto X


def dumbbell(kind: str = "hex", colors: dict | None = None) -> Shape:
  """hex (rubber hexagonal heads), plates (stacked iron plates with collars) or neoprene (rounded coloured ends)."""
  defaults = {"hex": {"weight": "#1d1d1f", "handle": "#b9bcc2"}, "plates": {"weight": "#3a3b3f", "handle": "#c9ccd2"},
              "neoprene": {"weight": "#d9457f", "handle": "#d9457f"}}
  if kind not in defaults:
    raise ValueError(f"unknown dumbbell kind {kind!r}")
  colors = _colors(defaults[kind], colors)
  shape = Shape()
  grip = stripes([colors["handle"], np.clip(rgb(colors["handle"]) * 0.8, 0, 1)], 40, along="v")
  shape.add(sweep([(-0.62, 0, 0), (0.62, 0, 0)], 0.11 if kind != "neoprene" else 0.14, 20, grip))
  for side in (1, -1):
    if kind == "hex":
      hexagon = lambda t: np.cos(np.pi / 6) / np.cos((t % (np.pi / 3)) - np.pi / 6)  # noqa: E731
      head = extrude_radial(lambda t: 0.42 * hexagon(t), 0.42, samples=6 * 8, paint=colors["weight"])
      shape.add(head.moved(rotation=X_AXIS).moved((side * 0.82, 0, 0)))
    elif kind == "plates":
      for k, (radius, width) in enumerate([(0.5, 0.09), (0.42, 0.08), (0.34, 0.07)]):
        offset = 0.68 + sum(w for _, w in [(0.5, 0.09), (0.42, 0.08), (0.34, 0.07)][:k]) + width / 2
        plate = revolve([(0, -width / 2), (radius, -width / 2), (radius, width / 2), (0, width / 2)], 48,
                        noisy(colors["weight"], 0.1), sharp=(1, 2))
        shape.add(plate.moved(rotation=X_AXIS).moved((side * offset, 0, 0)))
      collar = revolve([(0, -0.04), (0.17, -0.04), (0.17, 0.04), (0, 0.04)], 32, colors["handle"], sharp=(1, 2))
      shape.add(collar.moved(rotation=X_AXIS).moved((side * 0.62, 0, 0)))
    else:
      head = revolve([(0, -0.2), (0.32, -0.2), (0.36, -0.12), (0.36, 0.12), (0.32, 0.2), (0, 0.2)], 40,
                     colors["weight"], squareness=5)
      shape.add(head.moved(rotation=X_AXIS).moved((side * 0.78, 0, 0)))
  return shape


def screwdriver(tip: str = "flat", colors: dict | None = None) -> Shape:
  """A screwdriver lying along X: a fluted two-tone handle, a steel shaft and a flat or cross (Phillips) tip."""
  colors = _colors({"handle": "#d62d20", "accent": "#f2c80f", "steel": "#c7cbd1"}, colors)
  handle = revolve([(0, 0), (0.16, 0), (0.19, 0.04), (0.2, 0.45), (0.17, 0.58), (0.1, 0.66), (0.09, 0.72), (0, 0.72)],
                   12 * 4, stripes([colors["handle"], colors["accent"]], 8, along="u"))
  shaft_length = 1.2
  shaft = sweep([(0, 0, 0.7), (0, 0, 0.7 + shaft_length)], 0.04, 16, colors["steel"])
  end = 0.7 + shaft_length
  shape = Shape().add(handle, shaft)
  if tip == "flat":
    blade = revolve([(0.04, 0), (0.075, 0.12), (0.065, 0.2), (0, 0.2)], 24, colors["steel"], squareness=2,
                    xy=(1.0, 0.25))
    shape.add(blade.moved((0, 0, end - 0.05)))
  elif tip == "phillips":
    shape.add(revolve([(0.04, 0), (0.045, 0.05), (0, 0.16)], 4, colors["steel"]).moved((0, 0, end)))
  else:
    raise ValueError(f"unknown tip {tip!r}")
  for part in shape.parts:
    part.vertices = part.vertices @ X_AXIS.T
  return shape


def hammer(kind: str = "claw", colors: dict | None = None) -> Shape:
  """claw (steel head with a curved claw), ball_peen, or mallet (rubber head); handle along Z."""
  colors = _colors({"handle": "#b07a45", "head": "#55585e", "grip": "#1f1f1f"}, colors)
  wood = noisy(stripes([colors["handle"], np.clip(rgb(colors["handle"]) * 0.88, 0, 1)], 14, along="u"), 0.05)
  shape = Shape().add(sweep([(0, 0, 0), (0, 0, 1.3)], 0.075, 20, wood, aspect=1.5, up=(1, 0, 0)))
  top = 1.3
  if kind == "mallet":
    head = revolve([(0, -0.42), (0.2, -0.42), (0.22, -0.38), (0.22, 0.38), (0.2, 0.42), (0, 0.42)], 40,
                   colors["grip"], sharp=())
    return shape.add(head.moved(rotation=X_AXIS).moved((0, 0, top)))
  shape.add(box((0.22, 0.16, 0.24), colors["head"]).moved((0, 0, top)))
  face = revolve([(0, -0.2), (0.1, -0.2), (0.1, 0.08), (0.085, 0.1), (0, 0.1)], 32, colors["head"], sharp=(1,))
  shape.add(face.moved(rotation=rotation("y", -90)).moved((-0.15, 0, top)))
  if kind == "claw":
    t = np.linspace(0, 1, 14)
    path = np.stack([0.1 + 0.42 * t, np.zeros_like(t), top + 0.02 - 0.22 * t ** 2], 1)
    for side in (1, -1):
      claw = sweep(path + np.array([0, side * 0.04, 0]), 0.07 * (1 - 0.7 * t), 12, colors["head"], chunks=3,
                   aspect=0.45, up=(0, 0, 1))
      shape.add(claw)
  elif kind == "ball_peen":
    shape.add(sweep([(0.1, 0, top), (0.25, 0, top)], 0.06, 16, colors["head"]))
    shape.add(ellipsoid(0.1, 24, 14, colors["head"]).moved((0.3, 0, top)))
  else:
    raise ValueError(f"unknown hammer kind {kind!r}")
  shape.add(sweep([(0, 0, 0.0), (0, 0, 0.4)], 0.085, 20, colors["grip"], aspect=1.5, up=(1, 0, 0)))
  return shape


def traffic_light(housing: str = "#1e1f22", board: bool = True, visors: bool = True, lit: str = "all",
                  pole: bool = True) -> Shape:
  """Three lamps (red, amber, green) in a housing, facing -Y; `lit`: all, red, amber or green."""
  shape = Shape()
  body = revolve([(0, -0.6), (0.17, -0.6), (0.2, -0.57), (0.2, 0.57), (0.17, 0.6), (0, 0.6)], 48, housing,
                 squareness=6, xy=(1.0, 0.85), sharp=())
  shape.add(body)
  if board:
    shape.add(box((0.62, 0.03, 1.45), "#151515").moved((0, 0.2, 0)))
    shape.add(box((0.56, 0.035, 1.39), "#f2f2f2").moved((0, 0.195, 0)))
  colors = {"red": "#ff2a1a", "amber": "#ffae00", "green": "#19e06a"}
  for name, z in (("red", 0.36), ("amber", 0.0), ("green", -0.36)):
    color = colors[name] if lit in ("all", name) else np.clip(rgb(colors[name]) * 0.3, 0, 1)
    lamp = revolve([(0, 0), (0.13, 0), (0.13, 0.02), (0.1, 0.05), (0, 0.06)], 32, color, sharp=(1,))
    shape.add(lamp.moved(rotation=rotation("x", 90)).moved((0, -0.17, z)))
    if visors:
      a = np.linspace(0, np.pi, 9)
      for k in range(len(a) - 1):
        mid = (a[k] + a[k + 1]) / 2
        plate = box((0.06, 0.16, 0.012), housing, collide=False)
        shape.add(plate.moved((0.155 * np.cos(mid), -0.26, z + 0.155 * np.sin(mid)),
                              rotation=rotation("y", -np.degrees(mid) + 90)))
  if pole:
    shape.add(sweep([(0, 0.05, -0.6), (0, 0.05, -1.05)], 0.06, 16, "#6c7078"))
  return shape


def sombrero(colors: dict | None = None, brim: float = 1.0, crown: float = 1.4, pattern: str = "bands") -> Shape:
  """A wide-brimmed hat with a tall crown; straw with coloured bands, or a single colour with a trim."""
  colors = _colors({"hat": "#d9b86c", "band": "#b3261e", "trim": "#1f7a3a"}, colors)
  b, c = brim, crown
  profile = [(0.0, 0.02), (0.3, 0.02), (0.62 * b, 0.0), (0.9 * b, 0.04), (1.0 * b, 0.12), (1.02 * b, 0.16),
             (0.94 * b, 0.1), (0.62 * b, 0.05), (0.34, 0.08), (0.31, 0.3 * c), (0.27, 0.5 * c), (0.19, 0.62 * c),
             (0, 0.66 * c)]
  lengths = np.concatenate([[0], np.cumsum(np.linalg.norm(np.diff(np.asarray(profile), axis=0), axis=1))])
  v = lengths / lengths[-1]
  hat, band, trim = rgb(colors["hat"]), rgb(colors["band"]), rgb(colors["trim"])
  crown_band = (v[8] + 0.02, v[8] + 0.08)
  brim_edge = (v[3], v[6])

  def paint(u, vv):
    image = np.broadcast_to(hat, u.shape + (3,)).copy()
    if pattern == "weave":
      weave = ((np.floor(u * 90) + np.floor(vv * 60)) % 2)[..., None]
      image = image * (0.9 + 0.12 * weave)
    image[(vv > crown_band[0]) & (vv < crown_band[1])] = band
    image[(vv > crown_band[1]) & (vv < crown_band[1] + 0.02)] = trim
    image[(vv > brim_edge[0]) & (vv < brim_edge[1])] = trim
    image[(vv > brim_edge[0] - 0.03) & (vv < brim_edge[0])] = band
    return image
  return Shape().add(revolve(profile, 64, paint, sharp=(5,)))


def tennis_ball(colors: dict | None = None, seam_width: float = 0.035, seed: int = 0) -> Shape:
  """Felt ball with the classic curved seam (a + b = 1 curve on the unit sphere)."""
  colors = _colors({"felt": "#d4e83a", "seam": "#f7f7ef"}, colors)
  s = np.linspace(0, 2 * np.pi, 360)
  a, b = 0.72, 0.28
  curve = np.stack([a * np.cos(s) + b * np.cos(3 * s), a * np.sin(s) - b * np.sin(3 * s),
                    2 * np.sqrt(a * b) * np.sin(2 * s)], 1)
  felt, seam = rgb(colors["felt"]), rgb(colors["seam"])

  def paint(u, v):
    lon, lat = 2 * np.pi * u, np.pi * (v - 0.5)
    points = np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)], -1)
    flat = points.reshape(-1, 3)
    nearest = np.concatenate([(flat[k:k + 16384] @ curve.T).max(1) for k in range(0, len(flat), 16384)])
    nearest = nearest.reshape(u.shape)
    image = np.broadcast_to(felt, u.shape + (3,)).copy()
    image[nearest > np.cos(seam_width)] = seam
    return image
  return Shape(cell=512).add(ellipsoid(1.0, 64, 40, noisy(paint, 0.07, seed, 48)))


def _truncated_icosahedron_faces() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
  """(unit face normals, plane distances, is_pentagon) of a truncated icosahedron."""
  phi = (1 + 5 ** 0.5) / 2
  icosa = np.array([(0, s1, s2 * phi) for s1 in (-1, 1) for s2 in (-1, 1)], dtype=np.float64)
  icosa = np.concatenate([np.roll(icosa, k, axis=1) for k in range(3)])
  pentagons = icosa / np.linalg.norm(icosa, axis=1, keepdims=True)
  # hexagons sit over the icosahedron's faces: triples of mutually adjacent vertices
  edge = np.min([np.linalg.norm(icosa[0] - p) for p in icosa[1:]])
  triples = [(i, j, k) for i in range(12) for j in range(i + 1, 12) for k in range(j + 1, 12)
             if all(abs(np.linalg.norm(icosa[x] - icosa[y]) - edge) < 1e-6 for x, y in ((i, j), (j, k), (i, k)))]
  hexagons = np.array([icosa[list(t)].mean(0) for t in triples])
  hexagons /= np.linalg.norm(hexagons, axis=1, keepdims=True)
  # the truncated solid cuts every edge at a third: its face planes pass through those cut points
  i, j = triples[0][0], triples[0][1]
  cut = icosa[i] + (icosa[j] - icosa[i]) / 3
  pentagon_distance = cut @ pentagons[i]
  hexagon_distance = cut @ hexagons[0]
  normals = np.concatenate([pentagons, hexagons])
  distances = np.concatenate([np.full(12, pentagon_distance), np.full(20, hexagon_distance)])
  return normals, distances, np.arange(32) < 12


def soccer_ball(colors: dict | None = None, seam: float = 0.006) -> Shape:
  """The classic truncated-icosahedron ball: 12 dark pentagons, 20 light hexagons, thin seams."""
  colors = _colors({"pentagon": "#151515", "hexagon": "#f4f4f4", "seam": "#4a4a4a"}, colors)
  normals, distances, is_pentagon = _truncated_icosahedron_faces()
  dark, light, seam_color = rgb(colors["pentagon"]), rgb(colors["hexagon"]), rgb(colors["seam"])

  def paint(u, v):
    lon, lat = 2 * np.pi * u, np.pi * (v - 0.5)
    points = np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)], -1).reshape(-1, 3)
    score = (points @ normals.T) / distances  # the face a ray from the centre leaves through has the largest score
    best = score.argmax(1)
    rows = np.arange(len(score))
    top = score[rows, best]
    score[rows, best] = -np.inf
    gap = top - score.max(1)
    image = np.where(is_pentagon[best][:, None], dark, light)
    image[gap < seam] = seam_color
    return image.reshape(u.shape + (3,))
  return Shape(cell=1024).add(ellipsoid(1.0, 96, 64, paint))


def dining_table(kind: str = "rectangular", colors: dict | None = None, seed: int = 0) -> Shape:
  """rectangular (four legs), round (four legs) or pedestal (round top on a central column)."""
  colors = _colors({"wood": "#9a6232", "grain": "#7d4b24", "legs": "#9a6232"}, colors)
  grain = noisy(stripes([colors["wood"], colors["grain"]], 7, along="u"), 0.08, seed, 24)
  shape = Shape()
  height = 0.75
  if kind == "rectangular":
    shape.add(box((1.8, 1.0, 0.06), grain).moved((0, 0, height)))
    for x in (-0.8, 0.8):
      for y in (-0.42, 0.42):
        shape.add(box((0.07, 0.07, height - 0.03), colors["legs"]).moved((x, y, (height - 0.03) / 2)))
    shape.add(box((1.56, 0.03, 0.1), colors["legs"]).moved((0, -0.43, height - 0.08)))
    shape.add(box((1.56, 0.03, 0.1), colors["legs"]).moved((0, 0.43, height - 0.08)))
  elif kind in ("round", "pedestal"):
    top = revolve([(0, -0.03), (0.6, -0.03), (0.6, 0.03), (0, 0.03)], 64, grain, sharp=(1, 2))
    shape.add(top.moved((0, 0, height)))
    if kind == "round":
      for angle in (45, 135, 225, 315):
        a = np.radians(angle)
        shape.add(sweep([(0.42 * np.cos(a), 0.42 * np.sin(a), 0), (0.4 * np.cos(a), 0.4 * np.sin(a), height - 0.02)],
                        0.035, 12, colors["legs"]))
    else:
      shape.add(revolve([(0, 0), (0.35, 0), (0.35, 0.04), (0.1, 0.1), (0.07, 0.3), (0.07, height - 0.1),
                         (0.15, height - 0.03), (0, height - 0.03)], 40, colors["legs"], sharp=(1, 2)))
  else:
    raise ValueError(f"unknown table kind {kind!r}")
  return shape


GENERATORS = {"dumbbell": dumbbell, "screwdriver": screwdriver, "hammer": hammer, "traffic_light": traffic_light,
              "sombrero": sombrero, "tennis_ball": tennis_ball, "soccer_ball": soccer_ball,
              "dining_table": dining_table}
