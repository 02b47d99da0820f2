"""The `viewpoint` config (a 3D factor of ours): its grid and jobs, a build that plain TFDS loads in a fresh
interpreter, and the viewpoint of every cube image checked from its pixels: the mask's silhouette is the orthographic
projection of the cube's corners seen from the recorded azimuth and elevation (not from the spec that asked)."""
import functools
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image, ImageDraw

from kubricgen.datasets.si_score import build, factors, generate, specs
from tests.datasets.si_score import small_library

RES = 64
SETTINGS = specs.Settings(resolution=RES, samples=2, train_examples=8)
FACTORY = functools.partial(generate.Generator, make_library=small_library.make_library,
                            make_backgrounds=small_library.make_backgrounds)


@pytest.fixture(scope="module")
def published(tmp_path_factory):
  root = tmp_path_factory.mktemp("tfds")
  result = build.build(["viewpoint"], SETTINGS, data_dir=str(root), progress=False, generator_factory=FACTORY,
                       cache_dir=str(root / "cache"), beam_args=["--direct_num_workers=2"])[0]
  return root, result


def test_the_grid_holds_everything_but_the_pose_fixed_and_jobs_hold_one_instance_each():
  generator = FACTORY(SETTINGS)
  all_specs = specs.subset_specs("viewpoint", SETTINGS, generator.library, generator.backgrounds.ids)
  grid = factors.VIEWPOINT_GRIDS["default"]
  assert len(all_specs) == 3 * len(grid) * SETTINGS.backgrounds_per_instance == 3 * 12 * 2
  assert {(s.x, s.y, s.area, s.rotation) for s in all_specs} == {(0.5, 0.5, grid.area, 0.0)}
  assert len({s.key for s in all_specs}) == len(all_specs)
  assert {s.instance_id for s in all_specs} == {"cube_test", "orange_test", "teapot_test"}  # held-out only
  jobs = specs.group_into_jobs(all_specs, SETTINGS.job_size)
  assert [j.instance_id for j in jobs] == ["cube_test", "orange_test", "teapot_test"]
  assert all(j.pose is None and len(j.poses()) == 12 for j in jobs)
  assert len(factors.VIEWPOINT_GRIDS["full"]) == 24 * 7
  with pytest.raises(ValueError, match="grids must be one of"):
    specs.Settings(grids="huge")


def test_a_fresh_interpreter_loads_it_with_plain_tfds(published):
  root, result = published
  assert result.examples == 72
  code = f"""
import sys, tensorflow_datasets as tfds
ds = tfds.load("si_score/viewpoint", split="test", data_dir={str(root)!r})
poses = sorted({{(float(e["azimuth"]), float(e["elevation"])) for e in tfds.as_numpy(ds)}})
assert "kubricgen" not in sys.modules
print(len(poses), poses[0], poses[-1])
"""
  out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=str(root))
  assert out.returncode == 0, out.stderr[-2000:]
  assert out.stdout.split() == ["12", "(0.0,", "10.0)", "(300.0,", "50.0)"]


def projected_cube(azimuth: float, elevation: float) -> np.ndarray:
  """(8, 2) image-plane positions (x right, y down) of a unit-half-extent cube's corners, seen by the orthographic
  cut-out camera at (azimuth, elevation) (cutouts.camera_for: camera on -Y at azimuth 0, looking at the origin)."""
  az, el = np.radians(azimuth), np.radians(elevation)
  towards_camera = np.array([np.sin(az) * np.cos(el), -np.cos(az) * np.cos(el), np.sin(el)])
  forward = -towards_camera
  right = np.cross(forward, [0.0, 0.0, 1.0])
  right /= np.linalg.norm(right)
  up = np.cross(right, forward)
  corners = np.array([[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)], np.float64)
  return np.stack([corners @ right, -(corners @ up)], axis=1)


def silhouette(points: np.ndarray, width: int, height: int) -> np.ndarray:
  """The convex hull of `points` scaled into a width x height box, rasterised (bool, (height, width))."""
  from scipy.spatial import ConvexHull
  hull = points[ConvexHull(points).vertices]
  low, high = hull.min(0), hull.max(0)
  scaled = (hull - low) / (high - low) * [width, height]
  canvas = Image.new("L", (width, height), 0)
  ImageDraw.Draw(canvas).polygon([tuple(p) for p in scaled], fill=255)
  return np.asarray(canvas) > 127


def test_each_cube_image_shows_the_recorded_viewpoint(published):
  import tensorflow_datasets as tfds
  root, _ = published
  source = tfds.data_source("si_score/viewpoint", split="test", data_dir=str(root))
  checked = 0
  for index in range(len(source)):
    example = source[index]
    if example["object_instance"] != b"cube_test":
      continue
    mask = example["mask"][..., 0] > 127
    rows, cols = np.nonzero(mask)
    crop = mask[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
    height, width = crop.shape
    azimuth, elevation = float(example["azimuth"]), float(example["elevation"])
    points = projected_cube(azimuth, elevation)
    extent = points.max(0) - points.min(0)
    assert abs(width / height - extent[0] / extent[1]) < 0.08 * extent[0] / extent[1], (azimuth, elevation)
    iou = lambda a, b: (a & b).sum() / (a | b).sum()
    expected = iou(crop, silhouette(points, width, height))
    assert expected > 0.9, (azimuth, elevation, expected)
    # The check can fail: the silhouette seen from the neighbouring grid pose fits the image worse.
    wrong = iou(crop, silhouette(projected_cube(azimuth + 30, elevation + 25), width, height))
    assert wrong < expected, (azimuth, elevation, expected, wrong)
    checked += 1
  assert checked == 12 * SETTINGS.backgrounds_per_instance


def test_the_lights_turn_with_the_camera(published):
  """Only the pose changes: a sphere, which looks the same from every side, gives the same picture at every azimuth
  of an elevation (the rig turns with the camera); with lights fixed in the world its lit side would turn away."""
  import tensorflow_datasets as tfds
  root, _ = published
  source = tfds.data_source("si_score/viewpoint", split="test", data_dir=str(root))
  spheres = {}
  for index in range(len(source)):
    example = source[index]
    if example["object_instance"] == b"orange_test":
      key = (example["background"], float(example["elevation"]))
      spheres.setdefault(key, []).append(example["image"].astype(np.int16))
  assert len(spheres) == 4
  for images in spheres.values():
    for image in images[1:]:
      assert np.abs(image - images[0]).mean() < 2.0  # 0-255 scale: Cycles noise and the mesh's facets only


def test_the_preview_rows_vary_the_azimuth(published, tmp_path):
  from kubricgen.datasets.si_score import preview
  _, result = published
  sheet = preview.preview_dataset(result.path)
  assert sheet.size[0] == 6 * 128  # one column per azimuth
  sheet.save(tmp_path / "preview_viewpoint.png")


def test_the_stock_export_refuses_it_with_one_line(published, capsys):
  from kubricgen.cli.main import main
  root, _ = published
  status = main(["export", "siscore", "--configs", "viewpoint", "--data_dir", str(root), "--out",
                 str(root / "siscore")])
  errors = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
  assert status == 2 and len(errors) == 1 and "viewpoint is a kubricgen config" in errors[0], errors


def test_the_analyzer_groups_it_by_azimuth_and_elevation():
  from kubricgen_robustness.analyze import aggregate
  columns = {"azimuth": np.array([0.0, 60.0, 0.0]), "elevation": np.array([10.0, 10.0, 50.0]),
             "x": np.full(3, 0.5), "correct": np.array([1, 0, 1])}
  assert aggregate.factors_for("viewpoint", columns) == ("azimuth", "elevation")
