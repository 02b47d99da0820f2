"""Kubric's "KuBasic" procedural shapes beyond the primitives: gear, torus knot, Menger sponge, Suzanne, teapot.

Each generator returns a `Shape` (parts with paints); sizes are arbitrary (assets are normalised when created).
"""
from __future__ import annotations

import numpy as np

from kubricgen.assets.shapes.builder import Part, Shape, box, extrude_radial, revolve, rgb, stripes, sweep


def gear(teeth: int = 12, tooth_depth: float = 0.2, thickness: float = 0.35, hole: float = 0.25,
         color="#b0b4ba") -> Shape:
  """A spur gear: `teeth` trapezoid teeth of depth `tooth_depth` (relative to the radius 1), with an axle hole."""
  if teeth < 3:
    raise ValueError("gear: teeth must be >= 3")

  def outline(theta):
    phase = (theta * teeth / (2 * np.pi)) % 1.0
    ramp = np.clip(np.minimum(phase, 1 - phase) * 4 - 0.5, 0, 1)  # flat tops and roots with sloped flanks
    return 1 - tooth_depth + tooth_depth * ramp
  part = extrude_radial(outline, thickness, hole=hole, samples=teeth * 16, paint=color)
  return Shape().add(part)


def torus_knot(p: int = 2, q: int = 3, tube: float = 0.12, color="#d9822b") -> Shape:
  """A (p, q) torus knot swept with a round tube."""
  t = np.linspace(0, 2 * np.pi, 400, endpoint=False)
  r = np.cos(q * t) + 2
  path = np.stack([r * np.cos(p * t), r * np.sin(p * t), -np.sin(q * t)], 1) / 3
  return Shape().add(sweep(path, tube, segments=20, paint=color, closed=True, chunks=24))


def sponge(level: int = 2, color="#e8d44d") -> Shape:
  """Menger sponge of `level` (0: a cube; 2: 400 cubes); collision uses the level-1 cubes."""
  if not 0 <= level <= 3:
    raise ValueError("sponge: level must be 0..3")
  centres = np.zeros((1, 3))
  size = 2.0
  keep = [(i, j, k) for i in (-1, 0, 1) for j in (-1, 0, 1) for k in (-1, 0, 1) if [i, j, k].count(0) < 2]
  level_one = None
  for depth in range(level):
    size /= 3
    centres = np.concatenate([centres + size * np.array(offset) for offset in keep])
    if depth == 0:
      level_one = centres.copy()
  shape = Shape()
  for centre in centres:
    shape.add(box([size] * 3, paint=color, collide=False).moved(centre))
  for centre in (level_one if level_one is not None else np.zeros((1, 3))):
    shape.add(box([2.0 / 3 if level else 2.0] * 3, paint=color, render=False).moved(centre))
  return shape


def suzanne(color="#a07850", subdivisions: int = 1) -> Shape:
  """Blender's monkey head, made by Blender itself (bmesh.ops.create_monkey), optionally smoothed."""
  import importlib  # pylint: disable=import-outside-toplevel
  import bpy  # noqa: F401  pylint: disable=import-outside-toplevel,unused-import
  bmesh = importlib.import_module("bmesh")  # a module of the bpy distribution, importable once bpy is
  mesh = bmesh.new()
  try:
    bmesh.ops.create_monkey(mesh)
    if subdivisions:
      bmesh.ops.subdivide_edges(mesh, edges=mesh.edges[:], cuts=subdivisions, use_grid_fill=True, smooth=0.5)
    bmesh.ops.triangulate(mesh, faces=mesh.faces[:])
    vertices = np.array([tuple(v.co) for v in mesh.verts])
    faces = np.array([[v.index for v in f.verts] for f in mesh.faces])
  finally:
    mesh.free()
  # Blender's monkey looks towards -Y with +Z up, as our assets do
  low, high = vertices.min(0), vertices.max(0)
  uv = (vertices[:, [0, 2]] - low[[0, 2]]) / (high - low)[[0, 2]]
  halves = [np.where(vertices[:, 0] <= 0.05)[0], np.where(vertices[:, 0] >= -0.05)[0]]
  return Shape().add(Part(vertices, faces, uv, color, chunks=halves))


def teapot(body_height: float = 1.0, body_width: float = 1.0, spout_length: float = 1.0, handle_size: float = 1.0,
           knob: float = 1.0, colors: dict | None = None, pattern: str = "plain") -> Shape:
  """A teapot: revolved body and lid with a knob, a swept S-curved spout and a C-shaped handle.

  `colors`: body, lid (defaults to body), band (pattern colour). `pattern`: plain, band or stripes.
  """
  colors = {"body": "#f2f0eb", **(colors or {})}
  body_color = colors["body"]
  lid_color = colors.get("lid", body_color)
  band = colors.get("band", "#2f5fa8")
  h, w = body_height, body_width
  body = [(0, 0), (0.9 * w, 0), (1.1 * w, 0.08 * h), (1.36 * w, 0.35 * h), (1.48 * w, 0.68 * h), (1.42 * w, 1.0 * h),
          (1.22 * w, 1.28 * h), (1.02 * w, 1.42 * h), (1.0 * w, 1.46 * h)]
  if pattern == "band":
    paint = lambda u, v: np.where(((v > 0.42) & (v < 0.5))[..., None] | ((v > 0.56) & (v < 0.6))[..., None],
                                  rgb(band), rgb(body_color))
  elif pattern == "stripes":
    paint = stripes([body_color, band], 16, along="u")
  else:
    paint = body_color
  shape = Shape().add(revolve(body, 48, paint, sharp=(1, 8)))
  top = 1.46 * h
  lid = [(0.0, top - 0.02), (1.05 * w, top - 0.02), (1.05 * w, top + 0.04), (0.8 * w, top + 0.14),
         (0.45 * w, top + 0.24), (0.14 * knob, top + 0.28), (0.12 * knob, top + 0.32), (0.2 * knob, top + 0.4 * knob),
         (0.16 * knob, top + 0.48 * knob), (0.0, top + 0.5 * knob)]
  shape.add(revolve(lid, 48, lid_color, sharp=(1, 2, 5)))
  t = np.linspace(0, 1, 24)
  reach = 1.25 * spout_length
  spout_path = np.stack([1.25 * w + reach * t ** 0.9, np.zeros_like(t),
                         0.45 * h + (1.2 * h * spout_length) * (3 * t ** 2 - 2 * t ** 3) * 0.85 + 0.1 * t], 1)
  spout_radius = 0.3 * (1 - t) + 0.1 * t + 0.05 * np.clip((t - 0.85) / 0.15, 0, 1)
  shape.add(sweep(spout_path, spout_radius, 20, body_color if pattern == "stripes" else paint
                  if not callable(paint) else body_color, chunks=4))
  angle = np.linspace(0.15 * np.pi, 1.85 * np.pi, 32)
  size = 0.55 * handle_size
  handle_path = np.stack([-1.3 * w - size * 1.1 * np.sin(angle / 2) ** 1.2, np.zeros_like(angle),
                          0.75 * h + size * np.cos(angle / 2) * 1.1], 1)
  shape.add(sweep(handle_path, 0.09, 16, body_color, chunks=6, aspect=1.6, up=(0, 1, 0)))
  return shape
