"""Rotation and transform maths shared by the scene model, the simulator and the renderer.

Quaternions are (w, x, y, z), as in Kubric and Blender. World is right-handed, Z up. Cameras look down their local -Z
axis with +Y up (Blender's convention).
"""
from __future__ import annotations

import numpy as np

AXES = {"X": (1, 0, 0), "Y": (0, 1, 0), "Z": (0, 0, 1), "-X": (-1, 0, 0), "-Y": (0, -1, 0), "-Z": (0, 0, -1)}


def quaternion_to_matrix(q) -> np.ndarray:
  w, x, y, z = np.asarray(q, dtype=np.float64) / np.linalg.norm(q)
  return np.array([
      [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
      [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
      [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
  ])


def matrix_to_quaternion(m) -> np.ndarray:
  """Rotation matrix to a unit quaternion with w >= 0 (Shepperd's method)."""
  m = np.asarray(m, dtype=np.float64)
  trace = np.trace(m)
  if trace > 0:
    s = 2.0 * np.sqrt(trace + 1.0)
    q = [0.25 * s, (m[2, 1] - m[1, 2]) / s, (m[0, 2] - m[2, 0]) / s, (m[1, 0] - m[0, 1]) / s]
  elif m[0, 0] > m[1, 1] and m[0, 0] > m[2, 2]:
    s = 2.0 * np.sqrt(1.0 + m[0, 0] - m[1, 1] - m[2, 2])
    q = [(m[2, 1] - m[1, 2]) / s, 0.25 * s, (m[0, 1] + m[1, 0]) / s, (m[0, 2] + m[2, 0]) / s]
  elif m[1, 1] > m[2, 2]:
    s = 2.0 * np.sqrt(1.0 + m[1, 1] - m[0, 0] - m[2, 2])
    q = [(m[0, 2] - m[2, 0]) / s, (m[0, 1] + m[1, 0]) / s, 0.25 * s, (m[1, 2] + m[2, 1]) / s]
  else:
    s = 2.0 * np.sqrt(1.0 + m[2, 2] - m[0, 0] - m[1, 1])
    q = [(m[1, 0] - m[0, 1]) / s, (m[0, 2] + m[2, 0]) / s, (m[1, 2] + m[2, 1]) / s, 0.25 * s]
  q = np.asarray(q)
  q /= np.linalg.norm(q)
  return q if q[0] >= 0 else -q


def euler_to_quaternion(euler_xyz) -> np.ndarray:
  """XYZ Euler angles in radians (Blender's default order) to a quaternion."""
  ax, ay, az = euler_xyz
  rx = axis_angle_to_quaternion((1, 0, 0), ax)
  ry = axis_angle_to_quaternion((0, 1, 0), ay)
  rz = axis_angle_to_quaternion((0, 0, 1), az)
  return quaternion_multiply(rz, quaternion_multiply(ry, rx))


def axis_angle_to_quaternion(axis, angle) -> np.ndarray:
  axis = np.asarray(axis, dtype=np.float64)
  axis = axis / np.linalg.norm(axis)
  return np.concatenate([[np.cos(angle / 2)], np.sin(angle / 2) * axis])


def quaternion_multiply(a, b) -> np.ndarray:
  w1, x1, y1, z1 = a
  w2, x2, y2, z2 = b
  return np.array([
      w1 * w2 - x1 * x2 - y1 * y2 - z1 * z2,
      w1 * x2 + x1 * w2 + y1 * z2 - z1 * y2,
      w1 * y2 - x1 * z2 + y1 * w2 + z1 * x2,
      w1 * z2 + x1 * y2 - y1 * x2 + z1 * w2,
  ])


def look_at_quaternion(position, target, up="Y", front="-Z", world_up=(0, 0, 1)) -> np.ndarray:
  """Rotation that points the object's local `front` axis at `target`, keeping its local `up` axis near world up."""
  direction = np.asarray(target, dtype=np.float64) - np.asarray(position, dtype=np.float64)
  norm = np.linalg.norm(direction)
  if norm < 1e-12:
    raise ValueError("look_at target coincides with the object's position")
  forward = direction / norm
  world_up = np.asarray(world_up, dtype=np.float64)
  if abs(np.dot(forward, world_up)) > 1 - 1e-9:  # looking straight up or down: any horizontal up will do
    world_up = np.array([0.0, 1.0, 0.0])
  right = np.cross(forward, world_up)
  right /= np.linalg.norm(right)
  true_up = np.cross(right, forward)
  # World-space images of the local axes we want: local `front` -> forward, local `up` -> true_up.
  local_front, local_up = np.asarray(AXES[front], float), np.asarray(AXES[up], float)
  local_third = np.cross(local_front, local_up)
  world_third = np.cross(forward, true_up)
  local = np.stack([local_front, local_up, local_third], axis=1)
  world = np.stack([forward, true_up, world_third], axis=1)
  return matrix_to_quaternion(world @ local.T)


def transform_matrix(position, quaternion, scale=(1, 1, 1)) -> np.ndarray:
  """4x4 object-to-world matrix: translate @ rotate @ scale."""
  matrix = np.eye(4)
  matrix[:3, :3] = quaternion_to_matrix(quaternion) @ np.diag(np.asarray(scale, dtype=np.float64))
  matrix[:3, 3] = position
  return matrix
