"""Objects that live in a scene: posed 3D objects, physical bodies, procedural primitives and mesh files."""
from __future__ import annotations

import functools
import os
from typing import Any

import numpy as np

from kubricgen.scene import geometry, transforms
from kubricgen.scene.assets import Asset
from kubricgen.scene.materials import Material, UndefinedMaterial
from kubricgen.scene.properties import (Property, boolean, number, one_of, quaternion, scale, text, vector)


def _material(value):
  if not isinstance(value, Material):
    raise ValueError(f"expected a Material, got {value!r}")
  return value


class Object3D(Asset):
  """Anything with a pose. `look_at` and `euler` are accepted at construction, as in Kubric."""

  position = Property((0.0, 0.0, 0.0), vector(3))
  quaternion = Property((1.0, 0.0, 0.0, 0.0), quaternion, "Rotation as (w, x, y, z).")
  scale = Property((1.0, 1.0, 1.0), scale)
  up = Property("Y", one_of(*transforms.AXES), "Local axis kept upwards by look_at.")
  front = Property("-Z", one_of(*transforms.AXES), "Local axis pointed at the target by look_at.")

  def __init__(self, look_at=None, euler=None, **kwargs: Any):
    if kwargs.get("quaternion") is None:
      kwargs.pop("quaternion", None)
    super().__init__(**kwargs)
    if euler is not None:
      self.quaternion = transforms.euler_to_quaternion(euler)
    if look_at is not None:
      self.look_at(look_at)

  def look_at(self, target) -> None:
    """Rotate so the local `front` axis points at `target` (a point or an Object3D)."""
    if isinstance(target, Object3D):
      target = target.position
    self.quaternion = transforms.look_at_quaternion(self.position, target, self.up, self.front)

  @property
  def euler(self) -> np.ndarray:
    """XYZ Euler angles in radians."""
    m = transforms.quaternion_to_matrix(self.quaternion)
    return np.array([np.arctan2(m[2, 1], m[2, 2]), np.arcsin(-np.clip(m[2, 0], -1, 1)), np.arctan2(m[1, 0], m[0, 0])])

  @euler.setter
  def euler(self, value) -> None:
    self.quaternion = transforms.euler_to_quaternion(value)

  @property
  def matrix_world(self) -> np.ndarray:
    """4x4 object-to-world transform."""
    return transforms.transform_matrix(self.position, self.quaternion, self.scale)


class PhysicalObject(Object3D):
  """A rigid body with a mesh: simulated by the simulator, drawn by the renderer."""

  mass = Property(1.0, number(0), "kg; 0 with static=True makes an immovable body.")
  friction = Property(0.5, number(0))
  restitution = Property(0.5, number(0, 1))
  velocity = Property((0.0, 0.0, 0.0), vector(3), "m/s, world frame.")
  angular_velocity = Property((0.0, 0.0, 0.0), vector(3), "rad/s, world frame.")
  static = Property(False, boolean, "Static bodies never move in simulation.")
  material = Property(UndefinedMaterial, lambda v: _material(v() if isinstance(v, type) else v))
  asset_id = Property("", text, "Identifier of the asset this object was made from (for metadata).")

  # ---- geometry ---------------------------------------------------------------------------------------------------

  def mesh(self) -> tuple[np.ndarray, list]:
    """(vertices, faces) in local coordinates, before `scale`."""
    raise NotImplementedError

  smooth_shading = False

  @property
  def bounds(self) -> tuple[np.ndarray, np.ndarray]:
    """Local axis-aligned bounds (min, max), before scale."""
    vertices = self.mesh()[0]
    return vertices.min(0), vertices.max(0)

  @property
  def bbox_3d(self) -> np.ndarray:
    """The 8 world-space corners of the object-aligned bounding box (at the current pose)."""
    low, high = self.bounds
    corners = np.array([[x, y, z] for x in (low[0], high[0]) for y in (low[1], high[1]) for z in (low[2], high[2])])
    return (self.matrix_world @ np.c_[corners, np.ones(8)].T).T[:, :3]

  @property
  def aabbox(self) -> tuple[np.ndarray, np.ndarray]:
    """World axis-aligned bounds (min, max) of the object-aligned box."""
    corners = self.bbox_3d
    return corners.min(0), corners.max(0)

  @property
  def segmentation_id(self) -> int:
    """Instance id in segmentation images: 1-based order among the scene's instances, 0 for background."""
    if self.scene is None or self.background:
      return 0
    return self.scene.instances.index(self) + 1


class Cube(PhysicalObject):
  """Axis-aligned cube spanning [-1, 1]^3 before scale (so `scale` is half the edge length)."""

  def mesh(self):
    return geometry.cube()


class Sphere(PhysicalObject):
  """Unit-radius sphere before scale."""

  smooth_shading = True

  def mesh(self):
    return geometry.sphere()


class Cylinder(PhysicalObject):
  """Radius 1, height 2 (z from -1 to 1) before scale."""

  smooth_shading = True

  def mesh(self):
    return geometry.cylinder()


class Cone(PhysicalObject):
  """Base radius 1 at z=-1, apex at z=1 before scale."""

  smooth_shading = True

  def mesh(self):
    return geometry.cone()


class Torus(PhysicalObject):
  """Outer radius 1 in the XY plane; tube radius `minor_radius`."""

  smooth_shading = True
  minor_radius = Property(0.25, number(0.01, 0.99))

  def mesh(self):
    return geometry.torus(self.minor_radius)

  def collision_pieces(self, pieces: int = 16) -> list[tuple[np.ndarray, np.ndarray]]:
    """Convex pieces for the simulator (a dynamic body collides as convex shapes): the tube cut into `pieces`
    segments along its major circle, each the convex hull of its rings (unscaled; (vertices (N, 3), triangles)).
    Each hull reaches at most r (1 - cos(pi / pieces)) inside the tube's inner edge (2% of r for 16)."""
    vertices, _ = geometry.torus(self.minor_radius)
    major_segments, minor_segments = 48, 16
    rings = np.asarray(vertices).reshape(major_segments, minor_segments, 3)
    step = major_segments // pieces
    out = []
    for index in range(pieces):
      chosen = [(index * step + k) % major_segments for k in range(step + 1)]
      out.append(geometry.convex_hull(rings[chosen].reshape(-1, 3)))
    return out


def load_mesh_file(path: str):
  """The mesh file at `path` as trimesh loads it (vertices as given, no processing), shared by every object made
  from it and by the renderer (the one cache of mesh files: keyed by path and modification time, so an edited file
  is read again).

  Raises:
    ValueError: the file holds no triangles; trimesh's own errors for unreadable files.
  """
  return _load_mesh_file(os.fspath(path), os.path.getmtime(path))


@functools.lru_cache(maxsize=64)
def _load_mesh_file(path: str, mtime: float):
  del mtime  # part of the cache key
  import trimesh  # pylint: disable=import-outside-toplevel
  loaded = trimesh.load(path, force="mesh", process=False)
  if not isinstance(loaded, trimesh.Trimesh) or len(loaded.faces) == 0:
    raise ValueError(f"{path}: no triangles found")
  return loaded


def _existing_file(value):
  path = os.fspath(value)
  if not os.path.isfile(path):
    raise ValueError(f"file not found: {path}")
  return os.path.abspath(path)


def _optional_existing_file(value):
  return None if value is None else _existing_file(value)


class FileBasedObject(PhysicalObject):
  """An object loaded from a mesh file (OBJ, GLB/GLTF, STL, PLY).

  The renderer imports `render_filename` (keeping its materials and textures where the format has them); the
  simulator uses `simulation_filename` (a URDF) when given, else `collision_filename` (a mesh, used as convex pieces
  via PyBullet), else the convex hull of the render mesh.
  """

  render_filename = Property(None, _existing_file)
  simulation_filename = Property(None, _optional_existing_file, "URDF describing the collision shape.")
  collision_filename = Property(None, _optional_existing_file, "Mesh (OBJ) of convex collision pieces.")
  smooth_shading = True

  def __init__(self, render_filename=None, **kwargs):
    if render_filename is None:
      raise ValueError("FileBasedObject.render_filename: a mesh file is required")
    super().__init__(render_filename=render_filename, **kwargs)
    self.mesh()  # fail now, naming the file, if it cannot be read

  def mesh(self):
    path = self.render_filename
    try:
      loaded = load_mesh_file(path)
      return np.asarray(loaded.vertices, dtype=np.float64), np.asarray(loaded.faces)
    except ValueError:
      raise
    except Exception as error:  # trimesh raises many kinds for unreadable files
      raise ValueError(f"FileBasedObject.render_filename: cannot read {path}: {error}") from None
