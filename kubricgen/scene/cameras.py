"""Cameras: perspective (pinhole) and orthographic, with Kubric's intrinsics and projection conventions.

A camera looks down its local -Z axis with +Y up. `project_point` returns Kubric's normalised image coordinates:
(u, v) in [0, 1] from the top-left corner, u to the right, v down, and s = +1 in front of the camera, -1 behind (as
Kubric's); `project_points_pixels` gives NaN for points behind the camera. `pixel_intrinsics` is the usual 3x3 K in pixels
for a camera frame with +x right, +y down, +z forward (OpenCV's convention).
"""
from __future__ import annotations

import numpy as np

from kubricgen.scene.objects import Object3D
from kubricgen.scene.properties import Property, number


class Camera(Object3D):
  """Base class of cameras. `resolution` comes from the scene the camera belongs to."""

  def __init__(self, **kwargs):
    kwargs.setdefault("background", True)
    super().__init__(**kwargs)

  @property
  def resolution(self) -> tuple[int, int]:
    return tuple(self.scene.resolution) if self.scene is not None else (1, 1)

  @property
  def intrinsics(self) -> np.ndarray:
    raise NotImplementedError

  def world_to_camera(self, points, frame=None) -> np.ndarray:
    """World points (N, 3) to camera-frame points (Blender camera axes: x right, y up, z backwards)."""
    with self.at_frame(frame):
      inverse = np.linalg.inv(self.matrix_world)
    points = np.atleast_2d(np.asarray(points, dtype=np.float64))
    return (inverse @ np.c_[points, np.ones(len(points))].T).T[:, :3]

  def project_point(self, point3d, frame=None) -> np.ndarray:
    """Image coordinates (u, v, s) of a world point: u, v in [0, 1] from the top-left, s=+1 in front of the camera."""
    camera_point = self.world_to_camera(point3d, frame)[0]
    projected = self.intrinsics @ camera_point
    coords = projected / projected[2]
    coords[2] = np.sign(projected[2])
    return coords

  def project_points_pixels(self, points, frame=None) -> np.ndarray:
    """World points (N, 3) -> pixel coordinates (N, 2) (x right, y down, pixel centres at +0.5), float64; NaN for a
    point behind the camera or on its plane (a pinhole would mirror it into the image)."""
    width, height = self.resolution
    camera_points = self.world_to_camera(points, frame)
    projected = camera_points @ self.intrinsics.T
    in_front = projected[:, 2:3] > 0
    with np.errstate(divide="ignore", invalid="ignore"):
      uv = projected[:, :2] / projected[:, 2:3]
    return np.where(in_front, uv * np.array([width, height]), np.nan)


class UndefinedCamera(Camera):
  """Marker for a scene without a camera."""


class PerspectiveCamera(Camera):
  """Pinhole camera. `focal_length` and `sensor_width` in mm; the sensor fits the image width (Blender's AUTO fit
  for landscape images; portrait images fit the width too, as Kubric assumes)."""

  focal_length = Property(50.0, number(0, strict=True))
  sensor_width = Property(36.0, number(0, strict=True))

  @property
  def field_of_view(self) -> float:
    """Horizontal field of view in radians; setting it changes `focal_length`."""
    return 2 * np.arctan2(self.sensor_width / 2, self.focal_length)

  @field_of_view.setter
  def field_of_view(self, fov: float) -> None:
    if not 0 < fov < np.pi:
      raise ValueError(f"PerspectiveCamera.field_of_view: must be in (0, pi), got {fov}")
    self.focal_length = self.sensor_width / (2 * np.tan(fov / 2))

  @property
  def sensor_height(self) -> float:
    width, height = self.resolution
    return self.sensor_width / width * height

  @property
  def intrinsics(self) -> np.ndarray:
    """Kubric's normalised intrinsics (image size 1x1; maps Blender camera coordinates to top-left (u, v))."""
    fx = self.focal_length / self.sensor_width
    fy = self.focal_length / self.sensor_height
    return np.array([[fx, 0, -0.5], [0, -fy, -0.5], [0, 0, -1]])

  @property
  def pixel_intrinsics(self) -> np.ndarray:
    """Standard pinhole K in pixels (OpenCV convention: +z forward, +y down)."""
    width, height = self.resolution
    f = self.focal_length / self.sensor_width * width
    return np.array([[f, 0, width / 2], [0, f, height / 2], [0, 0, 1]])

  def z_to_depth(self, z: np.ndarray) -> np.ndarray:
    """Planar depth (distance along the view axis) -> distance along each pixel's ray, for (..., H, W, 1) arrays."""
    z = np.asarray(z)
    height, width = z.shape[-3:-1]
    f = self.focal_length / self.sensor_width * width
    xs = np.arange(width) + 0.5 - width / 2
    ys = np.arange(height) + 0.5 - height / 2
    scale = np.sqrt(1 + (xs[None, :] ** 2 + ys[:, None] ** 2) / f ** 2)
    return z * scale[..., None].astype(z.dtype)


class OrthographicCamera(Camera):
  """Parallel projection; `orthographic_scale` is the visible width in metres."""

  orthographic_scale = Property(6.0, number(0, strict=True))

  @property
  def intrinsics(self) -> np.ndarray:
    """Affine map from camera (x, y, 1) to normalised top-left image coordinates (u, v, 1)."""
    width, height = self.resolution
    sx = 1.0 / self.orthographic_scale
    return np.array([[sx, 0, 0.5], [0, -sx * width / height, 0.5], [0, 0, 1]])

  def project_point(self, point3d, frame=None) -> np.ndarray:
    x, y, z = self.world_to_camera(point3d, frame)[0]
    u, v, _ = self.intrinsics @ np.array([x, y, 1.0])
    return np.array([u, v, np.sign(-z)])

  def project_points_pixels(self, points, frame=None) -> np.ndarray:
    """As Camera's; NaN for a point behind the camera's plane (it sees only what lies in front)."""
    camera_points = self.world_to_camera(points, frame)
    uv = (np.c_[camera_points[:, :2], np.ones(len(camera_points))] @ self.intrinsics.T)[:, :2]
    return np.where(camera_points[:, 2:3] < 0, uv * np.array(self.resolution), np.nan)

  def z_to_depth(self, z: np.ndarray) -> np.ndarray:
    return np.asarray(z)
