"""Full-3D mode: every image rendered by Blender at its final size, with the factors realised by the camera.

For one object instance in one pose, each image is one frame of an animation in which an orthographic camera
(the cut-out's camera) zooms (area), rolls about its viewing axis (rotation) and shifts in its image plane
(location). The object is therefore drawn at the exact output scale with no resampling, and the factors mean
exactly what they mean in composite mode. The film is transparent; the background photo is laid under it.
"""
from __future__ import annotations

import numpy as np

import kubricgen as kb
from kubricgen.datasets.si_score import composite as composite_mode
from kubricgen.datasets.si_score import cutouts, factors
from kubricgen.scene import transforms


def camera_keyframes(cutout: cutouts.Cutout, points, resolution: int):
  """Per image: (position, quaternion, orthographic_scale) that place the cut-out's canvas per (x, y, area, rot)."""
  x0, y0, x1, y1 = cutout.canvas_box
  metres_per_pixel = cutouts.VIEW_SIZE / cutout.resolution
  canvas_w, canvas_h = (x1 - x0) * metres_per_pixel, (y1 - y0) * metres_per_pixel
  offset_right = ((x0 + x1) / 2 - cutout.resolution / 2) * metres_per_pixel
  offset_down = ((y0 + y1) / 2 - cutout.resolution / 2) * metres_per_pixel
  base = cutouts.camera_for(cutout.pose)
  base_rotation = transforms.quaternion_to_matrix(base.quaternion)
  centre = base_rotation @ np.array([offset_right, -offset_down, 0.0])  # canvas centre, world, relative to origin
  keys = []
  for x, y, area, rotation in points:
    factors.validate(x, y, area, rotation)
    scale = float(np.sqrt(canvas_w * canvas_h / area))
    camera = cutouts.camera_for(cutout.pose, view_size=scale, roll_degrees=rotation)
    rotation_matrix = transforms.quaternion_to_matrix(camera.quaternion)
    right, up = rotation_matrix[:, 0], rotation_matrix[:, 1]
    in_plane = centre - (x - 0.5) * scale * right + (y - 0.5) * scale * up
    forward = rotation_matrix[:, 2]  # the camera's +Z points away from what it sees
    keys.append((in_plane + cutouts.CAMERA_DISTANCE * forward, camera.quaternion, scale))
  return keys


def render_images(library, cutout: cutouts.Cutout, backgrounds: list[np.ndarray], points, resolution: int,
                  samples: int = 16) -> list[composite_mode.Composite]:
  """Render one image per (x, y, area, rotation) point of one instance; `backgrounds[i]` goes under image i."""
  from kubricgen.renderer.blender import Blender  # pylint: disable=import-outside-toplevel
  scene = kb.Scene(resolution=(resolution, resolution), frame_start=1, frame_end=len(points))
  obj = cutouts.create_object(library, cutout.instance_id, cutout.pose)
  obj.name = "object"
  scene += obj
  cutouts.add_lights(scene, cutout.pose)
  camera = cutouts.camera_for(cutout.pose)
  scene.camera = camera
  for frame, (position, quaternion, scale) in enumerate(camera_keyframes(cutout, points, resolution), start=1):
    camera.position, camera.quaternion, camera.orthographic_scale = position, quaternion, scale
    for member in ("position", "quaternion", "orthographic_scale"):
      camera.keyframe_insert(member, frame)
  renderer = Blender(scene, samples_per_pixel=samples, background_transparency=True, use_denoising=True, seed=0)
  rgba = renderer.render(return_layers=("rgba",), progress=False)["rgba"]
  renderer.close()
  results = []
  for index, (x, y, area, rotation) in enumerate(points):
    alpha = rgba[index, ..., 3:].astype(np.float32) / 255
    background = backgrounds[index].astype(np.float32)
    image = np.clip(rgba[index, ..., :3] * alpha + background * (1 - alpha) + 0.5, 0, 255).astype(np.uint8)
    geometry = composite_mode.place(cutout.rgba, x, y, area, rotation, resolution, resolution, key=cutout.key)
    results.append(composite_mode.Composite(image=image, mask=rgba[index, ..., 3:].copy(),
                                            pct_inside_image=geometry.pct_inside_image, box=geometry.box))
  return results
