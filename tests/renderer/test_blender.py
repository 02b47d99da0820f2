"""Blender view: real renders at 64x64 checked against geometry (depth, projection, ids, normals, flow)."""
import os

import numpy as np
import pytest
from scipy import ndimage

import kubricgen as kb
from kubricgen.renderer.blender import Blender

RES = 64


def top_down_scene(plate_position=(1.0, 0.5, 0.0), frames=1, engine_light=True):
  """A camera 10 m above the origin looking straight down (image right = +X, image up = +Y), a thin square plate."""
  scene = kb.Scene(resolution=(RES, RES), frame_start=1, frame_end=frames)
  scene.camera = kb.PerspectiveCamera(name="camera", position=(0, 0, 10), look_at=(0, 0, 0), focal_length=35,
                                      sensor_width=32)
  plate = kb.Cube(name="plate", position=plate_position, scale=(0.6, 0.6, 0.05),
                  material=kb.FlatMaterial(color=(0.8, 0.2, 0.1)))
  scene += plate
  if engine_light:
    scene += kb.DirectionalLight(name="sun", position=(0, 0, 5), look_at=(0, 0, 0), intensity=2)
  return scene, plate


def render(scene, **kwargs):
  kwargs.setdefault("samples_per_pixel", 4)
  return Blender(scene, **kwargs).render_still()


def test_depth_at_the_centre_of_a_cube_at_known_distance():
  scene, plate = top_down_scene(plate_position=(0, 0, 0))
  data = render(scene)
  centre = RES // 2
  # The plate's top face is at z = 0.05, the camera at z = 10: both depth conventions give 9.95 on the axis.
  assert data["z"][centre, centre, 0] == pytest.approx(9.95, rel=0.01)
  assert data["depth"][centre, centre, 0] == pytest.approx(9.95, rel=0.01)
  assert np.isinf(data["depth"][0, 0, 0])  # nothing behind the plate: background is inf
  # Ray depth grows off-axis exactly as z / cos(angle).
  rows, cols = np.nonzero(data["segmentation"][..., 0] == 1)
  r, c = rows[0], cols[0]
  f = 35 / 32 * RES
  ray = np.sqrt(1 + ((c + 0.5 - RES / 2) ** 2 + (r + 0.5 - RES / 2) ** 2) / f ** 2)
  assert data["depth"][r, c, 0] == pytest.approx(data["z"][r, c, 0] * ray, rel=1e-5)


def test_projected_centre_matches_the_segmentation_centroid():
  for position in [(1.0, 0.5, 0.0), (-1.2, -0.8, 0.0)]:
    scene, plate = top_down_scene(plate_position=position)
    data = render(scene)
    mask = data["segmentation"][..., 0] == plate.segmentation_id
    rows, cols = np.nonzero(mask)
    centroid = np.array([cols.mean() + 0.5, rows.mean() + 0.5])  # pixel centres are at +0.5
    top_centre = np.array(position) + (0, 0, 0.05)
    projected = scene.camera.project_points_pixels([top_centre])[0]
    assert np.abs(centroid - projected).max() < 1.0, (centroid, projected)
  # +X is to the right and +Y is up in this camera: the first plate is right of and above the centre.
  assert projected[0] < RES / 2 and projected[1] > RES / 2


def test_segmentation_ids_follow_scene_instances_and_background_is_zero():
  scene, plate = top_down_scene(plate_position=(-1.5, 0, 0))
  floor = kb.Cube(name="floor", scale=(20, 20, 0.1), position=(0, 0, -0.5), background=True)
  ball = kb.Sphere(name="ball", scale=0.5, position=(1.5, 0, 0))
  scene += [floor, ball]
  data = render(scene)
  ids = set(np.unique(data["segmentation"]).tolist())
  assert ids == {0, plate.segmentation_id, ball.segmentation_id} == {0, 1, 2}
  # The floor fills the background but is a background object: id 0.
  assert data["segmentation"][0, 0, 0] == 0 and np.isfinite(data["depth"][0, 0, 0])
  left, right = data["segmentation"][RES // 2, : RES // 2, 0], data["segmentation"][RES // 2, RES // 2:, 0]
  assert 1 in left and 2 in right


def test_flat_material_renders_its_exact_colour():
  scene, _ = top_down_scene(plate_position=(0, 0, 0))
  data = render(scene, use_denoising=False)  # the denoiser may shift flat colours by a few levels
  srgb = [round(255 * (1.055 * c ** (1 / 2.4) - 0.055)) for c in (0.8, 0.2, 0.1)]
  np.testing.assert_allclose(data["rgba"][RES // 2, RES // 2, :3], srgb, atol=2)
  assert data["rgba"][RES // 2, RES // 2, 3] == 255


def test_normals_of_cube_faces_point_along_the_face_axes():
  scene = kb.Scene(resolution=(RES, RES))
  scene.camera = kb.PerspectiveCamera(position=(6, -6, 6), look_at=(0, 0, 0))
  cube = kb.Cube(name="cube")
  scene += cube
  data = render(scene)
  normals = data["normal"][data["segmentation"][..., 0] == 1]
  axes = np.array([[1, 0, 0], [0, -1, 0], [0, 0, 1]])  # the three faces this camera sees
  nearest = np.argmax(normals @ axes.T, axis=1)
  for axis in range(3):
    face = normals[nearest == axis]
    assert len(face) > 50
    interior = face[np.max(face @ axes.T, axis=1) > 0.99]
    assert len(interior) > 0.9 * len(face)  # only edge pixels blend two faces
    np.testing.assert_allclose(np.median(interior, axis=0), axes[axis], atol=1e-3)


def test_object_coordinates_span_the_bounding_box():
  scene = kb.Scene(resolution=(RES, RES))
  scene.camera = kb.PerspectiveCamera(position=(6, -6, 6), look_at=(0, 0, 0))
  scene += kb.Cube(name="cube", scale=(1, 2, 0.5))
  data = render(scene)
  inside = data["segmentation"][..., 0] == 1
  coords, normals = data["object_coordinates"][inside], data["normal"][inside]
  assert coords.min() >= 0 and coords.max() <= 1
  # On each visible face, the coordinate along the face's axis sits at the box's bound: +X face at 1, -Y face at 0,
  # top face at 1; the other two coordinates sweep across [0, 1].
  for axis, sign, value in ((0, 1, 1.0), (1, -1, 0.0), (2, 1, 1.0)):
    face = coords[normals[:, axis] * sign > 0.99]
    assert len(face) > 20
    np.testing.assert_allclose(np.median(face[:, axis]), value, atol=0.01)
    others = [a for a in range(3) if a != axis]
    assert (face[:, others].min(0) < 0.15).all() and (face[:, others].max(0) > 0.85).all()


def test_flow_of_a_translated_object_equals_its_projected_displacement():
  scene, plate = top_down_scene(plate_position=(-1, -0.5, 0), frames=2)
  plate.keyframe_insert("position", 1)
  plate.position = (-0.6, -0.2, 0)  # +X (right) and +Y (up in the image)
  plate.keyframe_insert("position", 2)
  data = Blender(scene, samples_per_pixel=4).render()
  top = np.array([0, 0, 0.05])
  start, end = scene.camera.project_points_pixels([np.array([-1, -0.5, 0]) + top, np.array([-0.6, -0.2, 0]) + top])
  expected = end - start
  assert expected[0] > 0 and expected[1] < 0  # right and up
  inside = data["segmentation"][0, ..., 0] == 1
  forward = data["forward_flow"][0][inside]
  np.testing.assert_allclose(np.median(forward, axis=0), expected, atol=0.5)
  inside_next = data["segmentation"][1, ..., 0] == 1
  backward = data["backward_flow"][1][inside_next]
  np.testing.assert_allclose(np.median(backward, axis=0), -expected, atol=0.5)
  # Where nothing moves the flow is zero (away from the plate's anti-aliased edges).
  still = ~ndimage.binary_dilation(inside | inside_next, iterations=2)
  assert np.abs(data["forward_flow"][0][still]).max() < 1e-3


@pytest.mark.parametrize("engine", ["workbench", "eevee"])
def test_fast_engines_give_the_same_ground_truth(engine, tmp_path):
  # The OpenGL engines run in a child process: other test modules import TensorFlow into this one, and with it
  # loaded these engines crash on Mesa's llvmpipe (see the next test).
  import subprocess
  import sys
  code = f"""
import numpy as np
from tests.renderer.test_blender import Blender, render, top_down_scene
scene, _ = top_down_scene(plate_position=(0.5, 0.5, 0))
reference = render(scene)
data = Blender(scene, engine={engine!r}, samples_per_pixel=1).render_still()
np.savez({str(tmp_path / "out.npz")!r}, **{{"ref_" + k: v for k, v in reference.items()}}, **data)
"""
  root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
  result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=root,
                          env={**os.environ, "PYTHONPATH": root})
  assert result.returncode == 0, result.stderr[-3000:]
  out = np.load(tmp_path / "out.npz")
  data, reference = {k: out[k] for k in out.files if not k.startswith("ref_")}, \
      {k[4:]: out[k] for k in out.files if k.startswith("ref_")}
  assert data["rgba"].shape == (RES, RES, 4) and data["rgba"][..., :3].max() > 0
  np.testing.assert_array_equal(data["segmentation"], reference["segmentation"])
  np.testing.assert_allclose(data["depth"], reference["depth"])
  # The colour image shows the plate where segmentation says it is.
  mask = reference["segmentation"][..., 0] == 1
  red = data["rgba"][..., 0].astype(int) - data["rgba"][..., 2].astype(int)
  assert red[mask].mean() > red[~mask].mean() + 50


def test_renders_are_deterministic_and_scenes_do_not_leak_into_each_other():
  scene_a, _ = top_down_scene(plate_position=(0.5, 0.5, 0))
  first = render(scene_a, use_denoising=True)
  scene_b = kb.Scene(resolution=(RES, RES))
  scene_b.camera = kb.PerspectiveCamera(position=(0, -5, 2), look_at=(0, 0, 0))
  scene_b += [kb.Sphere(name="b1"), kb.Cube(name="b2", position=(2, 0, 0)), kb.PointLight(position=(0, -2, 3))]
  render(scene_b)
  again = render(scene_a, use_denoising=True)
  for layer in first:
    np.testing.assert_array_equal(first[layer], again[layer], err_msg=layer)


def test_render_reports_telemetry_and_rejects_bad_settings():
  scene, _ = top_down_scene()
  renderer = Blender(scene, samples_per_pixel=2)
  renderer.render_still(return_layers=("rgba",))
  info = renderer.last_render_info
  assert info["engine"] == "cycles" and info["device"] == "cpu" and info["seconds_per_frame"] > 0
  assert info["peak_memory_mb"] > 0
  with pytest.raises(ValueError, match="Blender.engine"):
    Blender(scene, engine="povray")
  with pytest.raises(ValueError, match="unknown layers"):
    renderer.render(return_layers=("rgba", "albedo"))
  with pytest.raises(ValueError, match="Scene.camera"):
    Blender(kb.Scene(resolution=(8, 8))).render_still()


# ---- flow against geometry: moving camera, moving objects, first and last frames ---------------------------------

def world_points(camera, frame, depth):
  """The world point seen through each pixel centre at `frame`, from ray depth (H, W, 1) -> (H, W, 3)."""
  height, width = depth.shape[:2]
  f = camera.focal_length / camera.sensor_width * width
  ys, xs = np.mgrid[0:height, 0:width] + 0.5
  rays = np.stack([(xs - width / 2) / f, -(ys - height / 2) / f, -np.ones_like(xs)], -1)  # Blender camera axes
  rays /= np.linalg.norm(rays, axis=-1, keepdims=True)
  with camera.at_frame(frame):
    matrix = camera.matrix_world
  return (rays * depth) @ matrix[:3, :3].T + matrix[:3, 3]


def rigid_flow(scene, depth, frame, other_frame, obj=None):
  """Expected flow (H, W, 2) from `frame` to `other_frame` of points that move with `obj` (static if None);
  NaN where the pixel sees nothing."""
  hit = np.isfinite(depth[..., 0])
  points = world_points(scene.camera, frame, np.where(hit[..., None], depth, 1.0)).reshape(-1, 3)
  if obj is not None:
    with obj.at_frame(frame):
      start = obj.matrix_world
    with obj.at_frame(other_frame):
      end = obj.matrix_world
    points = (np.c_[points, np.ones(len(points))] @ (end @ np.linalg.inv(start)).T)[:, :3]
  moved = scene.camera.project_points_pixels(points, other_frame).reshape(depth.shape[:2] + (2,))
  ys, xs = np.mgrid[0:depth.shape[0], 0:depth.shape[1]] + 0.5
  return np.where(hit[..., None], moved - np.stack([xs, ys], -1), np.nan)


def orbiting_camera(scene, frames, radius=7.0):
  camera = kb.PerspectiveCamera(name="camera", focal_length=35, sensor_width=32)
  scene.camera = camera
  for frame in frames:
    angle = -0.8 + 0.05 * frame
    camera.position = (radius * np.cos(angle), radius * np.sin(angle), 4 + 0.3 * frame)
    camera.look_at((0, 0, 0))
    camera.keyframe_insert("position", frame)
    camera.keyframe_insert("quaternion", frame)
  return camera


def test_background_flow_under_a_moving_camera_is_the_reprojection_and_backward_inverts_forward():
  scene = kb.Scene(resolution=(RES, RES), frame_start=1, frame_end=3)
  scene += kb.Cube(name="floor", scale=(20, 20, 0.1), position=(0, 0, -0.1), background=True)
  scene += [kb.Cube(name="a", position=(0.5, 0.3, 0.4), scale=0.4), kb.Sphere(name="b", position=(-1, -0.5, 0.5),
                                                                            scale=0.5)]
  scene += kb.DirectionalLight(position=(1, 1, 3), look_at=(0, 0, 0))
  orbiting_camera(scene, range(0, 5))
  data = Blender(scene, samples_per_pixel=4).render()
  ids, forward, backward = data["segmentation"][..., 0], data["forward_flow"], data["backward_flow"]
  ys, xs = np.mgrid[0:RES, 0:RES] + 0.5
  for t in range(2):  # rendered frames 1 -> 2 and 2 -> 3
    floor = np.isfinite(data["depth"][t][..., 0])
    background = floor & ~ndimage.binary_dilation(ids[t] > 0, iterations=2)  # the floor, away from object edges
    expected = rigid_flow(scene, data["depth"][t], t + 1, t + 2)
    assert np.abs(expected[background]).mean() > 1.0  # the camera really moves the background
    error = np.abs(forward[t] - expected)[background]
    assert np.median(error) < 0.05 and error.max() < 0.25
    # Follow each background pixel to the next frame and read the backward flow there (bilinear): it points back.
    tx, ty = xs + forward[t][..., 0] - 0.5, ys + forward[t][..., 1] - 0.5  # array coordinates of the target
    inside = (tx >= 0) & (tx <= RES - 1) & (ty >= 0) & (ty <= RES - 1)
    next_floor = ndimage.binary_erosion(np.isfinite(data["depth"][t + 1][..., 0]), iterations=2, border_value=1)
    next_background = next_floor & ~ndimage.binary_dilation(ids[t + 1] > 0, iterations=2)
    usable = background & inside & (ndimage.map_coordinates(next_background.astype(float), [ty, tx], order=0) > 0)
    assert usable.sum() > 0.5 * RES * RES
    sampled = np.stack([ndimage.map_coordinates(backward[t + 1][..., c], [ty, tx], order=1) for c in range(2)], -1)
    round_trip = np.abs(forward[t] + sampled)[usable]
    assert np.median(round_trip) < 0.05 and round_trip.max() < 0.25


def movi_a_style_scene(beyond: bool):
  """A ball thrown through the air over a floor, simulated with PyBullet; camera and ball keyframed one frame
  beyond the rendered range 1..3 when `beyond` (as scenes/movi_a.py does), else only over 1..3."""
  from kubricgen.simulator.pybullet import PyBullet  # pylint: disable=import-outside-toplevel
  scene = kb.Scene(resolution=(RES, RES), frame_start=1, frame_end=3, frame_rate=12)
  scene += kb.Cube(name="floor", scale=(20, 20, 0.1), position=(0, 0, -0.1), static=True, background=True)
  ball = kb.Cube(name="ball", scale=0.5, position=(-0.8, -0.4, 1.5), velocity=(2.4, 1.2, 1.0),
                 angular_velocity=(0, 0, 2.0))
  scene += [ball, kb.DirectionalLight(position=(1, 1, 3), look_at=(0, 0, 0))]
  first, last = (0, 4) if beyond else (1, 3)
  orbiting_camera(scene, range(first, last + 1))
  with PyBullet(scene) as simulator:
    simulator.run(frame_start=first, frame_end=last)
  return scene, ball


def test_flow_is_defined_at_the_first_and_last_frames_of_movi_a_style_keyframing():
  scene, ball = movi_a_style_scene(beyond=True)
  data = Blender(scene, samples_per_pixel=2).render()
  ids = data["segmentation"][..., 0]
  for t, layer, other in ((0, "backward_flow", 0), (2, "forward_flow", 4)):  # first frame back, last frame on
    frame = t + 1
    on_ball = ndimage.binary_erosion(ids[t] == ball.segmentation_id, iterations=1)
    on_floor = np.isfinite(data["depth"][t][..., 0]) & ~ndimage.binary_dilation(ids[t] > 0, iterations=2)
    assert on_ball.sum() > 20
    flow = data[layer][t]
    expected_ball = rigid_flow(scene, data["depth"][t], frame, other, obj=ball)
    expected_floor = rigid_flow(scene, data["depth"][t], frame, other)
    assert np.linalg.norm(flow[on_ball], axis=-1).min() > 1.0  # non-zero where things move ...
    assert np.median(np.linalg.norm(flow[on_floor], axis=-1)) > 1.0
    np.testing.assert_allclose(flow[on_ball], expected_ball[on_ball], atol=0.5)  # ... and the right amount
    np.testing.assert_allclose(flow[on_floor], expected_floor[on_floor], atol=0.25)
  # Keyframed only over the rendered range, Blender holds the last pose: no forward flow at the last frame.
  scene, _ = movi_a_style_scene(beyond=False)
  data = Blender(scene, samples_per_pixel=2).render()
  assert np.abs(data["forward_flow"][2]).max() < 1e-3 and np.abs(data["backward_flow"][0]).max() < 1e-3


def test_quality_presets_set_cycles_and_explicit_arguments_win():
  import bpy  # pylint: disable=import-outside-toplevel
  from kubricgen.renderer.blender import QUALITY_PRESETS  # pylint: disable=import-outside-toplevel
  scene, _ = top_down_scene()
  fast = Blender(scene, quality="fast")
  assert (fast.samples_per_pixel, fast.use_denoising) == (QUALITY_PRESETS["fast"].samples_per_pixel, True)
  fast.render_still(return_layers=("rgba",))
  assert fast.last_render_info["quality"] == "fast"
  assert bpy.context.scene.cycles.samples == QUALITY_PRESETS["fast"].samples_per_pixel
  kubric = Blender(scene, quality="kubric", samples_per_pixel=3, use_denoising=False)
  assert (kubric.samples_per_pixel, kubric.use_denoising) == (3, False)
  kubric.render_still(return_layers=("rgba",))
  cycles = bpy.context.scene.cycles
  assert (cycles.samples, cycles.max_bounces, cycles.diffuse_bounces, cycles.transparent_max_bounces) == (3, 12, 4, 8)
  assert not bpy.context.scene.render.use_persistent_data
  default = Blender(scene, max_bounces=1)
  assert (default.settings.diffuse_bounces, default.settings.transmission_bounces) == (1, 4)
  with pytest.raises(ValueError, match="Blender.quality"):
    Blender(scene, quality="ultra")


def test_opengl_engines_refuse_a_process_with_tensorflow_instead_of_crashing(tmp_path):
  import subprocess
  import sys
  code = """
import tensorflow
import kubricgen as kb
from kubricgen.renderer.blender import Blender
scene = kb.Scene(resolution=(8, 8))
try:
  Blender(scene, engine="workbench")
except RuntimeError as error:
  print("refused:", error)
"""
  result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
  assert result.returncode == 0 and "refused: Blender.engine: 'workbench' crashes" in result.stdout, result.stderr


@pytest.mark.parametrize("with_uvs", [False, True])
def test_a_mesh_with_uvs_but_no_texture_keeps_its_material_colour_and_nothing_is_written_beside_it(tmp_path,
                                                                                                    with_uvs):
  """A one-quad OBJ with `vt` lines and no material file rendered grey (106, 106, 106): trimesh's 2x2 placeholder
  texture was taken for the file's, and saved as <mesh>.texture.png next to the user's file. Expected: the red
  material's colour under white ambient light, as without `vt` lines."""
  lines = ["v -1 -1 0", "v 1 -1 0", "v 1 1 0", "v -1 1 0"]
  lines += ["vt 0 0", "vt 1 0", "vt 1 1", "vt 0 1", "f 1/1 2/2 3/3 4/4"] if with_uvs else ["f 1 2 3 4"]
  mesh = tmp_path / "quad.obj"
  mesh.write_text("\n".join(lines) + "\n")
  scene = kb.Scene(resolution=(RES, RES), frame_start=1, frame_end=1)
  scene.camera = kb.OrthographicCamera(name="camera", position=(0, 0, 5), look_at=(0, 0, 0), orthographic_scale=1.0)
  scene.ambient_illumination = (1.0, 1.0, 1.0, 1.0)
  scene += kb.FileBasedObject(name="quad", render_filename=str(mesh), asset_id="quad", static=True,
                              material=kb.PrincipledBSDFMaterial(color=(0.8, 0.05, 0.05), roughness=1.0,
                                                                 specular=0.0))
  centre = render(scene, use_denoising=False)["rgba"][RES // 2, RES // 2, :3].astype(int)
  assert centre[0] > 2 * centre[1] and centre[0] > 2 * centre[2], centre  # red, not grey
  assert sorted(p.name for p in tmp_path.iterdir()) == ["quad.obj"]


def test_a_texture_the_mesh_file_references_is_rendered_and_nothing_is_written_beside_it(tmp_path):
  """OBJ + MTL `map_Kd` (a file name with a space and a non-ASCII letter): the texture's colour shows."""
  from PIL import Image
  Image.new("RGB", (4, 4), (20, 180, 40)).save(tmp_path / "grün tex.png")
  (tmp_path / "quad.mtl").write_text("newmtl skin\nKd 1 1 1\nmap_Kd grün tex.png\n", encoding="utf-8")
  (tmp_path / "quad.obj").write_text("mtllib quad.mtl\nv -1 -1 0\nv 1 -1 0\nv 1 1 0\nv -1 1 0\nvt 0 0\nvt 1 0\n"
                                     "vt 1 1\nvt 0 1\nusemtl skin\nf 1/1 2/2 3/3 4/4\n", encoding="utf-8")
  before = sorted(p.name for p in tmp_path.iterdir())
  scene = kb.Scene(resolution=(RES, RES), frame_start=1, frame_end=1)
  scene.camera = kb.OrthographicCamera(name="camera", position=(0, 0, 5), look_at=(0, 0, 0), orthographic_scale=1.0)
  scene.ambient_illumination = (1.0, 1.0, 1.0, 1.0)
  scene += kb.FileBasedObject(name="quad", render_filename=str(tmp_path / "quad.obj"), asset_id="quad", static=True,
                              material=kb.PrincipledBSDFMaterial(color=(1, 1, 1), roughness=1.0, specular=0.0))
  red, green, blue = render(scene, use_denoising=False)["rgba"][RES // 2, RES // 2, :3].astype(int)
  assert green > 2 * red and green > 2 * blue, (red, green, blue)
  assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_save_state_creates_folders_and_leaves_no_backup(tmp_path):
  """Kubric's `renderer.save_state("output/x.blend")` creates output/; saving again left a .blend1 backup here."""
  scene, _ = top_down_scene()
  renderer = Blender(scene, samples_per_pixel=1)
  target = tmp_path / "output" / "deeper" / "x.blend"
  renderer.save_state(target)
  renderer.save_state(target)
  assert sorted(p.name for p in target.parent.iterdir()) == ["x.blend"]


def test_a_truncated_render_output_is_an_error_not_silent_pixels(tmp_path, capfd):
  """OpenEXR's bindings read a truncated EXR (Blender writing to a full disk) with a printed warning and pixels that
  are not the file's; read_exr refuses it in one line and nothing reaches the terminal."""
  from kubricgen.output.images import write_exr
  from kubricgen.renderer import passes
  write_exr(str(tmp_path / "full.exr"), np.random.RandomState(0).rand(64, 64, 3).astype(np.float32))
  data = (tmp_path / "full.exr").read_bytes()
  (tmp_path / "half.exr").write_bytes(data[:len(data) // 2])
  assert len(passes.read_exr(str(tmp_path / "full.exr"))) == 3
  with pytest.raises(OSError, match=r"half.exr: the rendered EXR does not read \(.*\); is the disk full\?"):
    passes.read_exr(str(tmp_path / "half.exr"))
  captured = capfd.readouterr()
  assert not captured.out.strip() and not captured.err.strip(), captured
