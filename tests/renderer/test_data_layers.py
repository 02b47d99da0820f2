"""Per-pixel consistent ground truth: every data layer at a pixel describes the surface its segmentation id names.

The scene: a sphere moving along +x over a static floor, seen by a static camera, rendered with many denoised colour
samples (the data layers must not average surfaces at object boundaries whatever the colour samples). Expected values
are the analytic ones: the floor's top face is z = 0 with normal (0, 0, 1) and does not move relative to the camera,
so its flow is exactly 0; the sphere's points lie on its surface and move by its keyframed displacement.
"""
import numpy as np
import pytest

import kubricgen as kb
from kubricgen.scene import geometry

pytest.importorskip("bpy")
from kubricgen.renderer.blender import Blender  # noqa: E402

RADIUS = 0.5
STEP = np.array([0.15, 0.0, 0.0])  # the sphere's displacement per frame, metres


def moving_sphere_scene(floor_background: bool) -> tuple[kb.Scene, kb.Sphere, kb.Cube]:
  scene = kb.Scene(resolution=(64, 48), frame_start=1, frame_end=3)
  floor = kb.Cube(name="floor", scale=(3, 3, 0.1), position=(0, 0, -0.1), static=True, background=floor_background,
                  material=kb.PrincipledBSDFMaterial(color=(0.6, 0.6, 0.6)))
  sphere = kb.Sphere(name="ball", scale=RADIUS, material=kb.PrincipledBSDFMaterial(color=(0.8, 0.1, 0.1)))
  scene += floor
  scene += sphere
  scene += kb.DirectionalLight(position=(1, -1, 3), look_at=(0, 0, 0), intensity=3)
  scene.camera = kb.PerspectiveCamera(position=(0.3, -3.5, 2.2), look_at=(0, 0, 0.3))
  for frame in (1, 2, 3):
    sphere.position = (frame - 2) * STEP + (0, 0, RADIUS)
    sphere.keyframe_insert("position", frame)
  return scene, sphere, floor


def inscribed_radius(obj: kb.PhysicalObject) -> float:
  """The smallest distance from the origin to a face plane of `obj`'s mesh (before scale): a tessellated sphere's
  surface lies between this and 1."""
  vertices, faces = obj.mesh()
  triangles = vertices[geometry.triangulate(faces)]
  normals = np.cross(triangles[:, 1] - triangles[:, 0], triangles[:, 2] - triangles[:, 0])
  normals /= np.linalg.norm(normals, axis=-1, keepdims=True)
  return float(np.abs((normals * triangles[:, 0]).sum(-1)).min())


def world_points(depth: np.ndarray, camera: kb.Camera) -> np.ndarray:
  """(H, W, 3) world points at `depth` (metres along each pixel-centre ray) from a static camera."""
  height, width = depth.shape[:2]
  cols, rows = np.meshgrid(np.arange(width) + 0.5, np.arange(height) + 0.5)
  inverse_k = np.linalg.inv(camera.pixel_intrinsics)
  rays = np.stack([cols, rows, np.ones_like(cols)], axis=-1) @ inverse_k.T  # camera frame, +z forward, y down
  rays /= np.linalg.norm(rays, axis=-1, keepdims=True)
  rays = rays * np.array([1.0, -1.0, -1.0])  # to Blender's camera frame: y up, looking along -z
  rotation = camera.matrix_world[:3, :3]
  return camera.position + depth * (rays @ rotation.T)


@pytest.fixture(scope="module", params=[False, True], ids=["floor_instance", "floor_background"])
def rendered(request):
  scene, sphere, floor = moving_sphere_scene(floor_background=request.param)
  layers = Blender(scene, samples_per_pixel=64, use_denoising=True).render_still(frame=2)
  return scene, sphere, floor, layers


def _boundary(mask: np.ndarray, other: np.ndarray) -> np.ndarray:
  """Pixels of `mask` with a 4-neighbour in `other`."""
  near = np.zeros_like(mask)
  near[1:] |= other[:-1]
  near[:-1] |= other[1:]
  near[:, 1:] |= other[:, :-1]
  near[:, :-1] |= other[:, 1:]
  return mask & near


def test_static_floor_has_exactly_zero_flow_and_its_exact_normal_even_beside_the_sphere(rendered):
  scene, sphere, floor, layers = rendered
  segmentation = layers["segmentation"][..., 0]
  floor_id = 0 if floor.background else floor.segmentation_id
  on_floor = (segmentation == floor_id) & np.isfinite(layers["depth"][..., 0])
  on_sphere = segmentation == sphere.segmentation_id
  assert on_floor.sum() > 500 and on_sphere.sum() > 100
  assert _boundary(on_floor, on_sphere).sum() > 20  # the floor pixels that touch the sphere are tested too
  for flow in ("forward_flow", "backward_flow"):
    assert np.all(layers[flow][on_floor] == 0.0), flow
  assert np.all(layers["normal"][on_floor] == np.array([0.0, 0.0, 1.0], np.float32))
  points = world_points(layers["depth"], scene.camera)
  np.testing.assert_allclose(points[on_floor][:, 2], 0.0, atol=1e-4)  # depth names the floor's top face


def test_sphere_pixels_lie_on_its_surface_and_move_with_it(rendered):
  scene, sphere, _, layers = rendered
  on_sphere = layers["segmentation"][..., 0] == sphere.segmentation_id
  centre = np.array([0.0, 0.0, RADIUS])  # frame 2
  points = world_points(layers["depth"], scene.camera)[on_sphere]
  inner = inscribed_radius(sphere)  # the mesh's facets lie between inner and 1 (before scale)
  distance = np.linalg.norm(points - centre, axis=-1)
  assert np.all((distance > RADIUS * inner - 1e-4) & (distance < RADIUS + 1e-4)), (distance.min(), distance.max())
  normals = layers["normal"][on_sphere]
  np.testing.assert_allclose(normals, (points - centre) / distance[:, None], atol=2e-2)  # smooth-shaded facets
  # Object coordinates: the sphere's bounding box is [-1, 1]^3 before scale, so its surface is at distance 0.5.
  coordinates = np.linalg.norm(layers["object_coordinates"][on_sphere] - 0.5, axis=-1)
  assert np.all((coordinates > 0.5 * inner - 1e-3) & (coordinates < 0.5 + 1e-3)), (coordinates.min(),
                                                                                    coordinates.max())
  pixels = np.argwhere(on_sphere)[:, ::-1] + 0.5  # (x, y) pixel centres
  for flow, offset in (("forward_flow", STEP), ("backward_flow", -STEP)):
    expected = scene.camera.project_points_pixels(points + offset) - pixels
    np.testing.assert_allclose(layers[flow][on_sphere], expected, atol=2e-2, err_msg=flow)


def test_segmentation_and_depth_agree_with_one_surface_at_every_boundary_pixel(rendered):
  """Depth at a sphere-labelled pixel is the sphere's, never a blend with the floor behind it (and vice versa)."""
  scene, sphere, floor, layers = rendered
  segmentation = layers["segmentation"][..., 0]
  on_sphere = segmentation == sphere.segmentation_id
  floor_id = 0 if floor.background else floor.segmentation_id
  on_floor = (segmentation == floor_id) & np.isfinite(layers["depth"][..., 0])
  points = world_points(layers["depth"], scene.camera)
  edge = _boundary(on_sphere, on_floor)
  distance = np.linalg.norm(points[edge] - (0, 0, RADIUS), axis=-1)
  assert np.all((distance > RADIUS * inscribed_radius(sphere) - 1e-4) & (distance < RADIUS + 1e-4))
  assert np.all(layers["normal"][_boundary(on_floor, on_sphere)] == np.array([0.0, 0.0, 1.0], np.float32))
