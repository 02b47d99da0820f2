"""Triangle meshes of the procedural primitives, built with numpy.

One mesh definition serves both views: the renderer draws it and the simulator builds collision shapes from it, so
what is seen is what collides. Primitives span [-1, 1] on each axis before scaling, as in Kubric.
"""
from __future__ import annotations

import functools

import numpy as np


@functools.lru_cache(maxsize=None)
def cube() -> tuple[np.ndarray, np.ndarray]:
  v = np.array([[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)], dtype=np.float64)
  # indices: x*4 + y*2 + z with 0 for -1 and 1 for +1; faces wound counter-clockwise seen from outside.
  quads = [(0, 1, 3, 2), (4, 6, 7, 5), (0, 4, 5, 1), (2, 3, 7, 6), (0, 2, 6, 4), (1, 5, 7, 3)]
  return v, np.array(quads)


def _revolve(profile: np.ndarray, segments: int, cap_bottom: bool, cap_top: bool) -> tuple[np.ndarray, np.ndarray]:
  """Revolve an (r, z) profile (bottom to top) around Z into a closed quad/triangle mesh."""
  angles = np.linspace(0, 2 * np.pi, segments, endpoint=False)
  rings = [np.stack([r * np.cos(angles), r * np.sin(angles), np.full(segments, z)], 1) for r, z in profile]
  vertices = list(np.concatenate(rings))
  faces = []
  for ring in range(len(profile) - 1):
    for s in range(segments):
      a, b = ring * segments + s, ring * segments + (s + 1) % segments
      faces.append((a, b, b + segments, a + segments))
  if cap_bottom:
    faces.append(tuple(reversed(range(segments))))
  if cap_top:
    top = (len(profile) - 1) * segments
    faces.append(tuple(top + s for s in range(segments)))
  return np.asarray(vertices), faces


@functools.lru_cache(maxsize=None)
def cylinder(segments: int = 32):
  return _revolve(np.array([[1.0, -1.0], [1.0, 1.0]]), segments, True, True)


@functools.lru_cache(maxsize=None)
def cone(segments: int = 32):
  vertices, faces = _revolve(np.array([[1.0, -1.0]]), segments, True, False)
  apex = len(vertices)
  vertices = np.vstack([vertices, [[0.0, 0.0, 1.0]]])
  faces += [(s, (s + 1) % segments, apex) for s in range(segments)]
  return vertices, faces


@functools.lru_cache(maxsize=None)
def sphere(segments: int = 32, rings: int = 16):
  theta = np.linspace(0, np.pi, rings + 1)[1:-1]  # polar angles without the poles
  profile = np.stack([np.sin(theta), -np.cos(theta)], 1)
  vertices, faces = _revolve(profile, segments, False, False)
  bottom, top = len(vertices), len(vertices) + 1
  vertices = np.vstack([vertices, [[0, 0, -1.0], [0, 0, 1.0]]])
  last = (len(profile) - 1) * segments
  faces += [((s + 1) % segments, s, bottom) for s in range(segments)]
  faces += [(last + s, last + (s + 1) % segments, top) for s in range(segments)]
  return vertices, faces


@functools.lru_cache(maxsize=None)
def torus(minor_radius: float = 0.25, major_segments: int = 48, minor_segments: int = 16):
  """A torus whose outer radius is 1 (major radius 1 - minor) and height 2 * minor_radius."""
  major = 1.0 - minor_radius
  u = np.linspace(0, 2 * np.pi, major_segments, endpoint=False)
  v = np.linspace(0, 2 * np.pi, minor_segments, endpoint=False)
  uu, vv = np.meshgrid(u, v, indexing="ij")
  r = major + minor_radius * np.cos(vv)
  vertices = np.stack([r * np.cos(uu), r * np.sin(uu), minor_radius * np.sin(vv)], -1).reshape(-1, 3)
  faces = []
  for i in range(major_segments):
    for j in range(minor_segments):
      a = i * minor_segments + j
      b = ((i + 1) % major_segments) * minor_segments + j
      c = ((i + 1) % major_segments) * minor_segments + (j + 1) % minor_segments
      d = i * minor_segments + (j + 1) % minor_segments
      faces.append((a, b, c, d))
  return vertices, faces


def triangulate(faces) -> np.ndarray:
  """Fan-triangulate convex polygons."""
  triangles = [(face[0], face[i], face[i + 1]) for face in faces for i in range(1, len(face) - 1)]
  return np.asarray(triangles, dtype=np.int64)


def convex_hull(points) -> tuple[np.ndarray, np.ndarray]:
  """Convex hull of (N, 3) points as (vertices (M, 3) float64, triangles (K, 3) int64), outward-facing (trimesh)."""
  import trimesh  # pylint: disable=import-outside-toplevel
  hull = trimesh.convex.convex_hull(np.asarray(points, dtype=np.float64))
  return np.asarray(hull.vertices, dtype=np.float64), np.asarray(hull.faces, dtype=np.int64)
