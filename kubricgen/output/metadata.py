"""metadata.json: what a scene folder records about its scene, camera and objects (units in field names' docs).

Kubric's field names are kept where Kubric has them (`get_scene_metadata`, `get_camera_info`, `get_instance_info`).
Every per-frame list runs over the rendered frames, in order.
"""
from __future__ import annotations

import json
import os
from typing import Any

import numpy as np

from kubricgen import scene as kbs


def to_json(value: Any) -> Any:
  """numpy values and tuples -> plain JSON types (non-finite floats become null)."""
  if isinstance(value, dict):
    return {str(k): to_json(v) for k, v in value.items()}
  if isinstance(value, (list, tuple)):
    return [to_json(v) for v in value]
  if isinstance(value, np.ndarray):
    return to_json(value.tolist())
  if isinstance(value, (np.floating, float)):
    return float(value) if np.isfinite(value) else None
  if isinstance(value, (np.integer,)):
    return int(value)
  if isinstance(value, np.bool_):
    return bool(value)
  return value


def write_json(data: Any, filename) -> None:
  os.makedirs(os.path.dirname(os.path.abspath(filename)), exist_ok=True)
  with open(filename, "w", encoding="utf-8") as handle:
    json.dump(to_json(data), handle, indent=2, sort_keys=False)
    handle.write("\n")


def read_json(filename) -> Any:
  with open(filename, encoding="utf-8") as handle:
    return json.load(handle)


def get_scene_metadata(scene: kbs.Scene, **extra) -> dict[str, Any]:
  return {
      "num_frames": len(scene.frames),
      "frame_start": scene.frame_start, "frame_end": scene.frame_end,
      "frame_rate": scene.frame_rate, "step_rate": scene.step_rate,
      "resolution": list(scene.resolution),  # (width, height) px
      "gravity": scene.gravity,  # m/s^2
      "background": scene.background,  # linear RGBA
      **scene.metadata, **extra,
  }


def get_camera_info(camera: kbs.Camera, frames=None) -> dict[str, Any]:
  """Camera model and its pose per frame (position m, quaternion wxyz, world frame; camera looks down -Z)."""
  frames = list(camera.scene.frames if frames is None else frames)
  info: dict[str, Any] = {"type": type(camera).__name__, "name": camera.name}
  if isinstance(camera, kbs.PerspectiveCamera):
    info.update(focal_length=camera.focal_length, sensor_width=camera.sensor_width,
                field_of_view=camera.field_of_view, K=camera.pixel_intrinsics, intrinsics=camera.intrinsics)
  elif isinstance(camera, kbs.OrthographicCamera):
    info.update(orthographic_scale=camera.orthographic_scale, intrinsics=camera.intrinsics)
  info["positions"] = [camera.get_value_at("position", f) for f in frames]
  info["quaternions"] = [camera.get_value_at("quaternion", f) for f in frames]
  return info


def get_instance_info(scene: kbs.Scene, assets_subset=None, frames=None, camera=None) -> list[dict[str, Any]]:
  """One record per instance, as Kubric's: every foreground physical object in segmentation-id order, or those of
  `assets_subset` in its order (e.g. a MOVi worker's visible instances). `frames`: the scene frames to record
  (default: the scene's range)."""
  frames = list(scene.frames if frames is None else frames)
  camera = scene.camera if camera is None else camera
  records = []
  for obj in (scene.instances if assets_subset is None else list(assets_subset)):
    record = {
        "name": obj.name, "segmentation_id": obj.segmentation_id, "type": type(obj).__name__,
        "asset_id": obj.asset_id, "mass": obj.mass, "friction": obj.friction, "restitution": obj.restitution,
        "static": obj.static, "scale": obj.scale, "material": type(obj.material).__name__,
        "color": getattr(obj.material, "color", None),
        "bounds": list(obj.bounds),  # local (min, max) before scale
        "positions": [], "quaternions": [], "velocities": [], "angular_velocities": [],
        "bboxes_3d": [], "image_positions": [], **obj.metadata,
    }
    for frame in frames:
      with obj.at_frame(frame):
        record["positions"].append(obj.position)
        record["quaternions"].append(obj.quaternion)
        record["velocities"].append(obj.velocity)
        record["angular_velocities"].append(obj.angular_velocity)
        record["bboxes_3d"].append(obj.bbox_3d)
        if not isinstance(camera, kbs.UndefinedCamera):
          record["image_positions"].append(_pixel_or_none(camera.project_points_pixels([obj.position], frame)[0]))
    records.append(record)
  return records


def _pixel_or_none(pixel: np.ndarray):
  """A projected (x, y), or None where the point has no pixel (behind the camera: NaN from the camera)."""
  return pixel if np.isfinite(pixel).all() else None


def process_collisions(collisions, scene: kbs.Scene, assets_subset=None) -> list[dict[str, Any]]:
  """Collision events as JSON records, with the contact's image position (pixels) at its frame and, as Kubric's,
  `instance_indices`: each object's index in `assets_subset` (default: the scene's instances), -1 if not in it."""
  camera = scene.camera
  names = [obj.name for obj in (scene.instances if assets_subset is None else assets_subset)]
  records = []
  for event in collisions:
    record = {key: to_json(value) for key, value in event.items()}
    if "instances" in event:
      record["instance_indices"] = [names.index(name) if name in names else -1 for name in event["instances"]]
    if not isinstance(camera, kbs.UndefinedCamera):
      record["image_position"] = to_json(_pixel_or_none(
          camera.project_points_pixels([event["position"]], int(round(event["frame"])))[0]))
    records.append(record)
  return records
