"""Scene membership, names, instance ids, and the camera model's projection maths."""
import numpy as np
import pytest

import kubricgen as kb
from kubricgen.scene import transforms


def test_iadd_assigns_names_and_segmentation_ids():
  scene = kb.Scene()
  floor = kb.Cube(scale=(5, 5, 0.1), background=True)
  a, b = kb.Sphere(), kb.Sphere()
  scene += [floor, a]
  scene += b
  scene.camera = kb.PerspectiveCamera()
  assert [o.name for o in (floor, a, b)] == ["cube_0", "sphere_0", "sphere_1"]
  assert scene.instances == [a, b]
  assert (floor.segmentation_id, a.segmentation_id, b.segmentation_id) == (0, 1, 2)
  assert scene.camera in scene.assets


def test_duplicate_names_and_foreign_assets_are_refused():
  scene, other = kb.Scene(), kb.Scene()
  scene += kb.Cube(name="x")
  with pytest.raises(ValueError, match="already in the scene"):
    scene += kb.Sphere(name="x")
  cube = kb.Cube()
  other += cube
  with pytest.raises(ValueError, match="another scene"):
    scene += cube


def test_look_at_points_the_camera_minus_z_axis_at_the_target():
  camera = kb.PerspectiveCamera(position=(3, -2, 4), look_at=(0, 1, 0.5))
  forward = transforms.quaternion_to_matrix(camera.quaternion) @ np.array([0, 0, -1])
  expected = np.array([0, 1, 0.5]) - np.array([3, -2, 4])
  np.testing.assert_allclose(forward, expected / np.linalg.norm(expected), atol=1e-9)
  up = transforms.quaternion_to_matrix(camera.quaternion) @ np.array([0, 1, 0])
  assert up[2] > 0  # image up points to world up


def test_matrix_quaternion_round_trip():
  rng = np.random.RandomState(0)
  for _ in range(50):
    q = kb.random_rotation(rng=rng)
    np.testing.assert_allclose(transforms.matrix_to_quaternion(transforms.quaternion_to_matrix(q)), q, atol=1e-9)


def test_projection_of_the_look_at_target_is_the_image_centre():
  scene = kb.Scene(resolution=(64, 48))
  scene.camera = kb.PerspectiveCamera(position=(5, -5, 3), look_at=(1, 1, 0))
  np.testing.assert_allclose(scene.camera.project_point(np.array([1.0, 1, 0])), [0.5, 0.5, 1], atol=1e-9)
  np.testing.assert_allclose(scene.camera.project_points_pixels([[1, 1, 0]]), [[32, 24]], atol=1e-9)


def test_pixel_intrinsics_match_the_field_of_view():
  scene = kb.Scene(resolution=(100, 50))
  scene.camera = kb.PerspectiveCamera(focal_length=18, sensor_width=36)  # 90 degrees horizontal
  np.testing.assert_allclose(scene.camera.field_of_view, np.pi / 2)
  # A point at 45 degrees to the right lies on the right image border.
  u, v, _ = scene.camera.project_point(np.array([1.0, 0.0, -1.0]))
  np.testing.assert_allclose((u, v), (1.0, 0.5), atol=1e-9)
  K = scene.camera.pixel_intrinsics
  np.testing.assert_allclose(K, [[50, 0, 50], [0, 50, 25], [0, 0, 1]])


def test_z_to_depth_is_the_ray_length():
  scene = kb.Scene(resolution=(4, 4))
  camera = kb.PerspectiveCamera(focal_length=18, sensor_width=36)
  scene.camera = camera
  depth = camera.z_to_depth(np.ones((4, 4, 1), np.float32))
  f = 2.0  # pixels: 18 / 36 * 4
  np.testing.assert_allclose(depth[0, 0, 0], np.sqrt(1 + (1.5**2 + 1.5**2) / f**2), rtol=1e-6)


def test_adding_a_camera_makes_it_the_scenes_camera_as_in_kubric():
  scene = kb.Scene()
  first, second = kb.PerspectiveCamera(name="first"), kb.OrthographicCamera(name="second")
  scene += first
  assert scene.camera is first  # Kubric's examples write `scene += kb.PerspectiveCamera(...)` and then render
  scene += second
  assert scene.camera is first and second in scene.assets  # a later camera is added, not switched to
  scene.camera = second
  assert scene.camera is second
  scene -= second
  assert isinstance(scene.camera, kb.UndefinedCamera)


@pytest.mark.parametrize("camera", [kb.PerspectiveCamera(position=(0, -5, 0), look_at=(0, 0, 0)),
                                    kb.OrthographicCamera(position=(0, -5, 0), look_at=(0, 0, 0))])
def test_points_behind_the_camera_have_no_pixel_position(camera):
  """A pinhole mirrors a point behind the camera into the image: (0, -10, 1) would land at a plausible pixel. It has
  none: NaN in the pixel API, null in metadata.json (image_positions, collisions' image_position); project_point
  keeps Kubric's (u, v, s) with s = -1."""
  from kubricgen.output import metadata
  scene = kb.Scene(resolution=(64, 64), frame_start=1, frame_end=1)
  scene.camera = camera
  pixels = camera.project_points_pixels([[0, 0, 1], [0, -10, 1], [0, -5, 1]])
  assert np.isfinite(pixels[0]).all() and np.isnan(pixels[1:]).all()  # in front; behind; on the camera's plane
  assert camera.project_point(np.array([0.0, -10, 1]))[2] == -1
  behind = kb.Sphere(name="behind", position=(0, -10, 1))
  scene += behind
  (record,) = metadata.to_json(metadata.get_instance_info(scene, frames=[1]))
  assert record["image_positions"] == [None]
  collision = metadata.to_json(metadata.process_collisions([{"frame": 1, "position": (0, -10, 1), "force": 1.0}],
                                                           scene))
  assert collision[0]["image_position"] is None
