"""Building blocks for procedural shapes: parts (revolved profiles, swept tubes, boxes, extrusions) with texture
coordinates, painted through one texture atlas, plus the convex pieces used for collision.

A shape is a list of `Part`s. Each part has per-vertex parametric coordinates (u around, v along, both in [0, 1]) and
a `paint`: a solid colour or a pattern function `(u, v) -> rgb` evaluated on a grid. `Shape.build()` packs every
paint into one atlas image, maps each part's coordinates into its cell, and returns the mesh, the atlas and the
collision pieces (the convex hull of each part, or of each chunk of a part along a swept tube).
"""
from __future__ import annotations

import dataclasses
from typing import Callable, Sequence, Union

import numpy as np

Color = Sequence[float]
Pattern = Callable[[np.ndarray, np.ndarray], np.ndarray]
Paint = Union[Color, Pattern]
CELL = 128          # atlas cell size in pixels
COLUMNS = 4


def rgb(value) -> np.ndarray:
  """sRGB colour in [0, 1] from '#rrggbb' or a sequence of 3 floats."""
  if isinstance(value, str):
    value = value.lstrip("#")
    return np.array([int(value[i:i + 2], 16) / 255 for i in (0, 2, 4)])
  return np.asarray(value, dtype=np.float64)[:3]


@dataclasses.dataclass
class Part:
  vertices: np.ndarray            # (N, 3)
  faces: np.ndarray               # (M, 3) int
  uv: np.ndarray                  # (N, 2) parametric coordinates in [0, 1]
  paint: Paint = (0.8, 0.8, 0.8)
  collide: bool = True
  render: bool = True             # False: a collision-only part
  chunks: list | None = None      # vertex index arrays, each hulled separately (default: the whole part)

  def transformed(self, matrix: np.ndarray) -> "Part":
    vertices = self.vertices @ matrix[:3, :3].T + matrix[:3, 3]
    faces = self.faces if np.linalg.det(matrix[:3, :3]) > 0 else self.faces[:, ::-1]
    return dataclasses.replace(self, vertices=vertices, faces=faces)

  def moved(self, offset=(0, 0, 0), scale=(1, 1, 1), rotation: np.ndarray | None = None) -> "Part":
    matrix = np.eye(4)
    matrix[:3, :3] = (np.eye(3) if rotation is None else rotation) @ np.diag(np.broadcast_to(scale, 3))
    matrix[:3, 3] = offset
    return self.transformed(matrix)

  def painted(self, paint: Paint) -> "Part":
    return dataclasses.replace(self, paint=paint)


def rotation(axis: str, degrees: float) -> np.ndarray:
  a = np.radians(degrees)
  c, s = np.cos(a), np.sin(a)
  return {"x": np.array([[1, 0, 0], [0, c, -s], [0, s, c]]),
          "y": np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]]),
          "z": np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])}[axis]


def _grid_faces(rows: int, columns: int, vertices: np.ndarray) -> np.ndarray:
  """Two triangles per grid cell of a (rows x columns) vertex grid, dropping zero-area triangles (poles)."""
  index = np.arange(rows * columns).reshape(rows, columns)
  a, b = index[:-1, :-1].ravel(), index[:-1, 1:].ravel()
  c, d = index[1:, 1:].ravel(), index[1:, :-1].ravel()
  faces = np.concatenate([np.stack([a, b, c], 1), np.stack([a, c, d], 1)])
  p = vertices[faces]
  area = np.linalg.norm(np.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0]), axis=1)
  return faces[area > 1e-12]


def revolve(profile, segments: int = 48, paint: Paint = (0.8, 0.8, 0.8), sharp: Sequence[int] = (),
            squareness: float = 2.0, xy=(1.0, 1.0), **kwargs) -> Part:
  """Surface of revolution around Z of an (r, z) profile listed bottom to top (outside first for thin walls).

  Points whose index is in `sharp` get a crease (their ring is duplicated so shading does not smooth across it).
  A profile starting or ending at r = 0 closes the surface there. `squareness` > 2 turns the circular section into a
  superellipse (rounded rectangle; 2 is a circle) and `xy` stretches it along X and Y.
  """
  profile = np.asarray(profile, dtype=np.float64)
  rows = []
  for i, point in enumerate(profile):
    rows.append(point)
    if i in sharp:
      rows.append(point)
  rows = np.asarray(rows)
  length = np.concatenate([[0], np.cumsum(np.linalg.norm(np.diff(rows, axis=0), axis=1))])
  v = length / max(length[-1], 1e-9)
  angles = np.linspace(0, 2 * np.pi, segments + 1)
  c, s = np.cos(angles), np.sin(angles)
  factor = (np.abs(c) ** squareness + np.abs(s) ** squareness) ** (-1 / squareness)
  c, s = c * factor * xy[0], s * factor * xy[1]
  r, z = rows[:, 0:1], rows[:, 1:2]
  vertices = np.stack([r * c, r * s, np.broadcast_to(z, r.shape[:1] + angles.shape)], -1)
  vertices = vertices.reshape(-1, 3)
  uv = np.stack(np.meshgrid(angles / (2 * np.pi), v), -1).reshape(-1, 2)
  faces = _grid_faces(len(rows), segments + 1, vertices)
  return Part(vertices, faces, uv, paint, **kwargs)


def _frames(path: np.ndarray, up=None) -> tuple[np.ndarray, np.ndarray]:
  """Parallel-transport normal/binormal frames along a polyline."""
  tangents = np.gradient(path, axis=0)
  tangents /= np.linalg.norm(tangents, axis=1, keepdims=True)
  seed = np.asarray(up if up is not None else (0, 0, 1), dtype=np.float64)
  if abs(seed @ tangents[0]) > 0.9:
    seed = np.array([1.0, 0, 0]) if abs(tangents[0][0]) < 0.9 else np.array([0, 1.0, 0])
  normal = np.cross(tangents[0], np.cross(seed, tangents[0]))
  normal /= np.linalg.norm(normal)
  normals = [normal]
  for i in range(1, len(path)):
    n = normals[-1] - (normals[-1] @ tangents[i]) * tangents[i]
    normals.append(n / np.linalg.norm(n))
  normals = np.asarray(normals)
  return normals, np.cross(tangents, normals)


def sweep(path, radii, segments: int = 24, paint: Paint = (0.8, 0.8, 0.8), closed: bool = False,
          chunks: int = 1, cap: bool = True, aspect: float = 1.0, up=None, **kwargs) -> Part:
  """A tube of (possibly varying) radius along a 3D polyline; `closed` joins the ends (rings, knots).

  `chunks` splits the tube along its length into that many convex collision pieces. `aspect` flattens the
  cross-section (ellipse with axes radius and radius * aspect).
  """
  path = np.asarray(path, dtype=np.float64)
  radii = np.broadcast_to(np.asarray(radii, dtype=np.float64), (len(path),))
  if closed:
    path, radii = np.vstack([path, path[:1]]), np.append(radii, radii[0])
  normals, binormals = _frames(path, up)
  if closed:  # spread the parallel-transport twist so the seam meets itself
    twist = np.arctan2(normals[-1] @ binormals[0], normals[-1] @ normals[0])
    turn = -twist * np.linspace(0, 1, len(path))[:, None]
    normals, binormals = (np.cos(turn) * normals + np.sin(turn) * binormals,
                          -np.sin(turn) * normals + np.cos(turn) * binormals)
    # The closing point repeats the first, but its one-sided tangent differs from the first point's, so its frame
    # did too (by the path's last turn: a crack of ~10% of the radius in a 64-segment ring): the seam ring is the
    # first ring, exactly.
    normals[-1], binormals[-1] = normals[0], binormals[0]
  angles = np.linspace(0, 2 * np.pi, segments + 1)
  ring = (np.cos(angles)[None, :, None] * normals[:, None] +
          aspect * np.sin(angles)[None, :, None] * binormals[:, None])
  vertices = (path[:, None] + radii[:, None, None] * ring).reshape(-1, 3)
  length = np.concatenate([[0], np.cumsum(np.linalg.norm(np.diff(path, axis=0), axis=1))])
  uv = np.stack(np.meshgrid(angles / (2 * np.pi), length / max(length[-1], 1e-9)), -1).reshape(-1, 2)
  faces = _grid_faces(len(path), segments + 1, vertices)
  columns = segments + 1
  if cap and not closed:
    caps = []
    for row, flip in ((0, True), (len(path) - 1, False)):
      centre = len(vertices)
      vertices = np.vstack([vertices, path[row]])
      uv = np.vstack([uv, [0.5, row / max(len(path) - 1, 1)]])
      for j in range(segments):
        a, b = row * columns + j, row * columns + j + 1
        caps.append((centre, b, a) if flip else (centre, a, b))
    faces = np.vstack([faces, caps])
  bounds = np.linspace(0, len(path) - 1, chunks + 1).round().astype(int)
  pieces = [np.arange(bounds[i] * columns, (bounds[i + 1] + 1) * columns) for i in range(chunks)]
  return Part(vertices, np.asarray(faces), uv, paint, chunks=pieces, **kwargs)


def box(size, paint: Paint = (0.8, 0.8, 0.8), **kwargs) -> Part:
  """Axis-aligned box centred on the origin; each face maps the whole (u, v) square."""
  half = np.asarray(size, dtype=np.float64) / 2
  vertices, uv, faces = [], [], []
  for axis in range(3):
    for sign in (-1, 1):
      u_axis, v_axis = [(1, 2), (0, 2), (0, 1)][axis]
      corners = []
      for cu, cv in ((-1, -1), (1, -1), (1, 1), (-1, 1)):
        point = np.zeros(3)
        point[axis], point[u_axis], point[v_axis] = sign * half[axis], cu * half[u_axis], cv * half[v_axis]
        corners.append(point)
      base = len(vertices)
      vertices += corners
      uv += [((cu + 1) / 2, (cv + 1) / 2) for cu, cv in ((-1, -1), (1, -1), (1, 1), (-1, 1))]
      outward = (axis in (0, 2)) == (sign > 0)
      faces += [(base, base + 1, base + 2), (base, base + 2, base + 3)] if outward else \
               [(base, base + 2, base + 1), (base, base + 3, base + 2)]
  return Part(np.asarray(vertices), np.asarray(faces), np.asarray(uv), paint, **kwargs)


def ellipsoid(radii, segments: int = 40, rings: int = 24, paint: Paint = (0.8, 0.8, 0.8), **kwargs) -> Part:
  """Ellipsoid centred on the origin (a revolved half-ellipse; u longitude, v latitude)."""
  t = np.linspace(-np.pi / 2, np.pi / 2, rings + 1)
  part = revolve(np.stack([np.cos(t), np.sin(t)], 1), segments, paint, **kwargs)
  return part.moved(scale=np.broadcast_to(radii, 3))


def extrude_radial(radius_of_angle: Callable[[np.ndarray], np.ndarray], height: float, hole: float = 0.0,
                   samples: int = 256, paint: Paint = (0.8, 0.8, 0.8), **kwargs) -> Part:
  """Prism over a star-shaped outline r(theta) (e.g. a gear), optionally with a round hole; Z from -h/2 to h/2."""
  theta = np.linspace(0, 2 * np.pi, samples + 1)
  outer = radius_of_angle(theta)
  inner = np.full_like(theta, hole)
  loops = [(outer, -height / 2), (outer, height / 2), (inner, height / 2), (inner, -height / 2), (outer, -height / 2)]
  rows = []
  for radius, z in loops:  # duplicate every ring so top, bottom and walls shade flat
    rows += [np.stack([radius * np.cos(theta), radius * np.sin(theta), np.full_like(theta, z)], 1)] * 2
  rows = rows[1:-1]
  vertices = np.concatenate(rows)
  faces = _grid_faces(len(rows), len(theta), vertices)
  uv = np.stack(np.meshgrid(theta / (2 * np.pi), np.linspace(0, 1, len(rows))), -1).reshape(-1, 2)
  return Part(vertices, faces, uv, paint, **kwargs)


# ---- paints -------------------------------------------------------------------------------------------------------


def stripes(colors, count: float, along: str = "v", soft: float = 0.0) -> Pattern:
  """Bands alternating through `colors`, `count` per unit of u or v."""
  colors = [rgb(c) for c in colors]

  def paint(u, v):
    t = (u if along == "u" else v) * count
    index = np.floor(t).astype(int) % len(colors)
    return np.stack(colors)[index]
  return paint


def speckles(base, dots, density: float, size: float, seed: int = 0) -> Pattern:
  """A base colour with round dots (seeds, spots) at seeded random positions; `size` in texture units."""
  rng = np.random.RandomState(seed)
  count = max(1, int(density))
  centres = rng.uniform(0, 1, (count, 2))
  base_color, dot_color = rgb(base), rgb(dots)

  def paint(u, v):
    image = np.broadcast_to(base_color, u.shape + (3,)).copy()
    for cu, cv in centres:
      du = np.minimum(abs(u - cu), 1 - abs(u - cu))
      mask = (du / 1.0) ** 2 + ((v - cv) / 1.0) ** 2 < size ** 2
      image[mask] = dot_color
    return image
  return paint


def blend(top, bottom, low: float = 0.0, high: float = 1.0) -> Pattern:
  """Vertical gradient from `bottom` (v <= low) to `top` (v >= high)."""
  top, bottom = rgb(top), rgb(bottom)

  def paint(u, v):
    t = np.clip((v - low) / max(high - low, 1e-9), 0, 1)[..., None]
    return bottom * (1 - t) + top * t
  return paint


def noisy(paint_or_color: Paint, amount: float = 0.06, seed: int = 0, scale: int = 16) -> Pattern:
  """Add smooth value noise (brightness) to a paint: fur, peel, wood and wax look less plastic."""
  rng = np.random.RandomState(seed)
  lattice = rng.uniform(-1, 1, (scale + 1, scale + 1))
  base = paint_or_color if callable(paint_or_color) else (lambda u, v, c=rgb(paint_or_color):
                                                          np.broadcast_to(c, u.shape + (3,)))

  def paint(u, v):
    x, y = u * scale, v * scale
    i, j = np.clip(x.astype(int), 0, scale - 1), np.clip(y.astype(int), 0, scale - 1)
    fx, fy = x - i, y - j
    n = (lattice[i, j] * (1 - fx) * (1 - fy) + lattice[i + 1, j] * fx * (1 - fy) +
         lattice[i, j + 1] * (1 - fx) * fy + lattice[i + 1, j + 1] * fx * fy)
    return np.clip(base(u, v) * (1 + amount * n[..., None]), 0, 1)
  return paint


# ---- assembly -----------------------------------------------------------------------------------------------------


@dataclasses.dataclass
class BuiltShape:
  vertices: np.ndarray
  faces: np.ndarray
  uv: np.ndarray
  texture: np.ndarray          # (H, W, 3) uint8 sRGB atlas
  pieces: list                 # convex collision pieces [(vertices, faces)]


class Shape:
  """Collects parts; `build()` packs their paints into one atlas and computes collision pieces."""

  def __init__(self, cell: int = CELL):
    self.parts: list[Part] = []
    self.cell = cell  # atlas cell size in pixels: larger for fine patterns seen up close

  def add(self, *parts: Part) -> "Shape":
    self.parts.extend(parts)
    return self

  def build(self) -> BuiltShape:
    from kubricgen.assets.meshes import hull, is_solid  # pylint: disable=import-outside-toplevel
    if not self.parts:
      raise ValueError("shape has no parts")
    paints: list[Paint] = []
    keys: list = []
    for part in self.parts:
      if not part.render:
        continue
      key = id(part.paint) if callable(part.paint) else tuple(np.round(rgb(part.paint), 4))
      if key not in keys:
        keys.append(key)
        paints.append(part.paint)
    size, columns = self.cell, min(COLUMNS, len(paints))
    rows = (len(paints) + columns - 1) // columns
    atlas = np.zeros((rows * size, columns * size, 3), dtype=np.float64)
    grid = (np.arange(size) + 0.5) / size
    gu, gv = np.meshgrid(grid, grid[::-1])  # image rows go down, v goes up
    for index, paint in enumerate(paints):
      r, c = divmod(index, columns)
      cell = paint(gu, gv) if callable(paint) else np.broadcast_to(rgb(paint), gu.shape + (3,))
      atlas[r * size:(r + 1) * size, c * size:(c + 1) * size] = cell
    vertices, faces, uvs, pieces, offset = [], [], [], [], 0
    for part in self.parts:
      if part.collide:
        for chunk in (part.chunks or [np.arange(len(part.vertices))]):
          if is_solid(part.vertices[chunk]):  # flat parts (a disc of soil) add nothing to collision
            pieces.append(hull(part.vertices[chunk]))
      if not part.render:
        continue
      key = id(part.paint) if callable(part.paint) else tuple(np.round(rgb(part.paint), 4))
      r, c = divmod(keys.index(key), columns)
      inset = 2.0 / size if callable(part.paint) else 0.25  # solid colours sample the cell centre only
      local = inset + np.clip(part.uv, 0, 1) * (1 - 2 * inset)
      u = (c + local[:, 0]) / columns
      v = 1 - (r + 1 - local[:, 1]) / rows
      vertices.append(part.vertices)
      faces.append(part.faces + offset)
      uvs.append(np.stack([u, v], 1))
      offset += len(part.vertices)
    texture = (np.clip(atlas, 0, 1) * 255 + 0.5).astype(np.uint8)
    return BuiltShape(np.concatenate(vertices), np.concatenate(faces).astype(np.int64), np.concatenate(uvs),
                      texture, pieces)
