"""The 3D-factor configs lighting, occlusion, clutter and cue_conflict: their grids, a build that plain TFDS loads in a
fresh interpreter, and each factor checked from the stored pixels and masks (not from the spec that asked for it):
the key light's direction and irradiance from a sphere's shading, the occluded share from the instance masks, the
number of distractors from the instance ids, and the worn surface from the object's colour."""
import functools
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from kubricgen.datasets.si_score import build, cutouts, factors, generate, specs
from tests.datasets.si_score import small_library

pytestmark = pytest.mark.slow  # more than a few seconds: outside the fast subset (pytest -m 'not slow')

RES = 96
SETTINGS = specs.Settings(resolution=RES, samples=4, train_examples=8)
FACTORY = functools.partial(generate.Generator, make_library=small_library.make_library,
                            make_backgrounds=small_library.make_backgrounds)
CONFIGS = ("lighting", "occlusion", "clutter", "cue_conflict")


@pytest.fixture(scope="module")
def published(tmp_path_factory):
  root = tmp_path_factory.mktemp("tfds")
  results = build.build(list(CONFIGS), SETTINGS, data_dir=str(root), progress=False, generator_factory=FACTORY,
                        cache_dir=str(root / "cache"), beam_args=["--direct_num_workers=2"])
  return root, {r.config: r for r in results}


def examples(root, config):
  import tensorflow_datasets as tfds
  source = tfds.data_source(f"si_score/{config}", split="test", data_dir=str(root))
  return [source[i] for i in range(len(source))]


def test_the_grids_hold_one_factor_at_a_time():
  generator = FACTORY(SETTINGS)
  library, backgrounds = generator.library, generator.backgrounds.ids
  lighting = factors.GRIDS_3D["default"]["lighting"]
  conditions = lighting.conditions()
  assert len(conditions) == 4 * 2 + 5 and len(set(conditions)) == len(conditions)
  assert {c for c in conditions if c[2] != lighting.nominal_irradiance} == {
      (*lighting.nominal_direction, i) for i in lighting.irradiances if i != lighting.nominal_irradiance}
  per_config = {c: specs.subset_specs(c, SETTINGS, library, backgrounds) for c in CONFIGS}
  assert len(per_config["lighting"]) == 3 * 13 * 2
  assert len(per_config["occlusion"]) == 3 * 2 * (1 + 3 * 2)  # level 0 once, 3 levels x 2 occluders
  assert len(per_config["clutter"]) == 3 * 2 * 4
  assert len(per_config["cue_conflict"]) == 3 * 2 * 2
  for config, found in per_config.items():
    assert {(s.x, s.y, s.rotation) for s in found} == {(0.5, 0.5, 0.0)}, config  # centred, unrotated
    assert len({s.key for s in found}) == len(found) and [s.image_id for s in found] == list(range(len(found)))
    assert {s.instance_id for s in found} == {"cube_test", "orange_test", "teapot_test"}  # held-out only
    assert len({(s.instance_id, s.pose.azimuth, s.pose.elevation) for s in found}) == 3  # one pose per instance
    jobs = specs.group_into_jobs(found, SETTINGS.job_size)
    assert [j.instance_id for j in jobs] == ["cube_test", "orange_test", "teapot_test"], config
  for spec in per_config["occlusion"]:
    if spec.parameter("occluder") == "object":
      assert spec.parameter("occluder_class") != spec.class_name
  for spec in per_config["clutter"]:
    assert spec.class_name not in [d[1] for d in spec.parameter("distractors")]
  assert len(factors.GRIDS_3D["full"]["lighting"]) == 12 * 6 + 11
  assert factors.GRIDS_3D["full"]["clutter"].counts == tuple(range(9))
  too_many = {**factors.GRIDS_3D["default"], "clutter": factors.ClutterGrid("clutter", counts=(0, 9))}
  with pytest.MonkeyPatch.context() as patch, pytest.raises(ValueError, match="at most 8 distractors"):
    patch.setitem(factors.GRIDS_3D, "default", too_many)
    specs.subset_specs("clutter", SETTINGS, library, backgrounds)


def test_a_fresh_interpreter_loads_each_with_plain_tfds(published):
  root, results = published
  assert {c: r.examples for c, r in results.items()} == {"lighting": 78, "occlusion": 42, "clutter": 24,
                                                         "cue_conflict": 12}
  code = f"""
import sys, tensorflow_datasets as tfds
for config, field in [("lighting", "light_irradiance"), ("occlusion", "occluded_fraction"),
                      ("clutter", "num_distractors"), ("cue_conflict", "texture_label")]:
  ds = tfds.load("si_score/" + config, split="test", data_dir={str(root)!r})
  values = sorted({{float(e[field]) for e in tfds.as_numpy(ds)}})
  print(config, len(values))
assert "kubricgen" not in sys.modules
"""
  out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=str(root))
  assert out.returncode == 0, out.stderr[-2000:]
  counts = dict(line.split() for line in out.stdout.splitlines())
  assert counts["lighting"] == "5" and counts["clutter"] == "4" and counts["cue_conflict"] == "3"
  assert int(counts["occlusion"]) > 7  # measured shares, one per image


def linear(image: np.ndarray) -> np.ndarray:
  """sRGB uint8 -> linear luminance (Rec. 709)."""
  c = image.astype(np.float64) / 255
  c = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
  return c @ [0.2126, 0.7152, 0.0722]


def light_from_shading(example) -> np.ndarray:
  """The key light's direction (unit, camera frame: x right, y up, z towards the camera) fitted to a sphere's
  shading: inside the silhouette, the normal of an orthographic sphere is ((u - cx) / r, -(v - cy) / r, nz); on
  the lit side a Lambertian surface's linear radiance is c + n . v with v along the light."""
  mask = example["mask"][..., 0] > 250
  rows, cols = np.nonzero(mask)
  cx, cy = (cols.min() + cols.max() + 1) / 2, (rows.min() + rows.max() + 1) / 2
  r = (cols.max() + 1 - cols.min() + rows.max() + 1 - rows.min()) / 4
  nx, ny = (cols + 0.5 - cx) / r, -(rows + 0.5 - cy) / r
  inside = nx ** 2 + ny ** 2 < 0.85
  normals = np.stack([nx, ny, np.sqrt(np.clip(1 - nx ** 2 - ny ** 2, 0, 1))], 1)[inside]
  luminance = linear(example["image"][rows, cols])[inside]
  lit = luminance > np.percentile(luminance, 40)
  solution, *_ = np.linalg.lstsq(np.c_[np.ones(lit.sum()), normals[lit]], luminance[lit], rcond=None)
  return solution[1:] / np.linalg.norm(solution[1:])


def recorded_light(example) -> np.ndarray:
  """The recorded key-light direction in the cut-out camera's frame (x right, y up, z towards the camera)."""
  pose = cutouts.Pose(float(example["azimuth"]), float(example["elevation"]),
                      light=(float(example["light_azimuth"]), float(example["light_elevation"]),
                             float(example["light_irradiance"]), float(example["ambient_radiance"])))
  camera = cutouts.camera_for(pose)
  from kubricgen.scene import transforms
  rotation = transforms.quaternion_to_matrix(camera.quaternion)  # columns: camera x, y, z in the world
  return rotation.T @ cutouts.key_light_direction(pose)


def test_the_key_light_direction_shows_in_the_shading(published):
  root, _ = published
  spheres = [e for e in examples(root, "lighting") if e["object_instance"] == b"orange_test"
             and float(e["light_irradiance"]) == 4.0]
  assert len(spheres) == (8 + 1) * 2
  directions = sorted({(float(e["light_azimuth"]), float(e["light_elevation"])) for e in spheres})
  for example in spheres:
    fitted, expected = light_from_shading(example), recorded_light(example)
    if expected[2] < 0.2:  # lit mostly from behind: too little of the lit side faces the camera to fit
      continue
    error = np.degrees(np.arccos(np.clip(fitted @ expected, -1, 1)))
    assert error < 15, (float(example["light_azimuth"]), float(example["light_elevation"]), error)
    # The check can fail: the other grid directions fit the shading worse.
    for azimuth, elevation in directions:
      if (azimuth, elevation) != (float(example["light_azimuth"]), float(example["light_elevation"])):
        other = dict(example, light_azimuth=azimuth, light_elevation=elevation)
        assert fitted @ recorded_light(other) < fitted @ expected


def test_the_irradiance_scales_the_linear_radiance_until_it_clips(published):
  root, _ = published
  lighting = factors.GRIDS_3D["default"]["lighting"]
  sweep = {}
  for example in examples(root, "lighting"):
    if (example["object_instance"] == b"orange_test" and example["background"] == b"checker"
        and (float(example["light_azimuth"]), float(example["light_elevation"])) == lighting.nominal_direction):
      sweep[float(example["light_irradiance"])] = example
  assert sorted(sweep) == [0.25, 1.0, 4.0, 16.0, 64.0]
  mask = sweep[1.0]["mask"][..., 0] > 250
  mean = {level: linear(e["image"][mask]).mean() for level, e in sweep.items()}
  # radiance = ambient part + irradiance x (BRDF . cos): linear in the irradiance below the white point
  assert 3.2 < (mean[4.0] - mean[1.0]) / (mean[1.0] - mean[0.25]) < 4.8, mean
  clipped = {level: (e["image"][mask] >= 250).any(axis=-1).mean() for level, e in sweep.items()}  # a channel at white
  assert clipped[0.25] == clipped[1.0] == 0 and clipped[16.0] < clipped[64.0] and clipped[64.0] > 0.5, clipped


def measured_occlusion(example) -> float:
  whole = (example["amodal_mask"][..., 0] > 127).sum()
  return 1 - (example["segmentation"][..., 0] == 1).sum() / whole


def test_the_occluded_share_is_measured_from_the_masks_and_lands_on_the_grid(published):
  root, _ = published
  found = examples(root, "occlusion")
  assert {e["occluder"] for e in found} == {b"none", b"bar", b"object"}
  for example in found:
    share, level = measured_occlusion(example), float(example["occlusion"])
    assert abs(share - level) <= 0.02, (example["object_instance"], example["occluder"], level, share)
    assert abs(float(example["occluded_fraction"]) - share) < 1e-5
    segmentation = example["segmentation"][..., 0]
    assert set(np.unique(segmentation)) == ({0, 1} if level == 0 else {0, 1, 2})
    amodal, visible = example["amodal_mask"][..., 0] > 127, example["mask"][..., 0] > 127
    assert not (visible & ~amodal).any()  # the visible mask lies inside the whole silhouette
    assert (visible != (segmentation == 1))[amodal].mean() < 0.02
    if example["occluder"] == b"bar":  # the bar is a plain grey in the picture wherever it is the top surface
      grey = example["image"][segmentation == 2].astype(np.int16)
      assert np.abs(np.median(grey, axis=0) - 128).max() <= 3
    if example["occluder"] == b"object":
      assert example["occluder_class"] and example["occluder_class"].decode() != example["object_instance"][:4]


def test_the_number_of_distractors_is_the_number_of_instance_ids(published):
  root, _ = published
  names = ["cube", "orange", "teapot"]
  for example in examples(root, "clutter"):
    count = int(example["num_distractors"])
    segmentation = example["segmentation"][..., 0]
    ids, pixels = np.unique(segmentation, return_counts=True)
    assert list(ids) == list(range(count + 2)), (count, ids)  # background, target, each distractor visible
    assert pixels.min() >= 20
    classes = example["distractor_classes"].decode().split(",") if count else []
    assert len(classes) == count and names[int(example["label"])] not in classes
    whole = (example["amodal_mask"][..., 0] > 127).sum()
    assert abs(float(example["visible_fraction"]) - (segmentation == 1).sum() / whole) < 1e-5


def test_the_shape_wears_the_other_class_surface(published):
  root, _ = published
  found = examples(root, "cue_conflict")
  colours = {name: np.array(colour) for name, (_, colour, _) in small_library.CLASSES.items()}
  names = ["cube", "orange", "teapot"]
  masks = {}
  for example in found:
    shape, texture = names[int(example["shape_label"])], names[int(example["texture_label"])]
    assert int(example["label"]) == int(example["shape_label"]) and shape != texture
    assert example["texture_instance"].decode() == f"{texture}_test"
    srgb = example["image"][example["mask"][..., 0] > 250].astype(np.float64) / 255
    rgb = np.median(np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4), axis=0)
    chroma = rgb / rgb.mean()  # the material's colours are linear; shading scales all channels alike
    distance = {name: np.linalg.norm(chroma - c / c.mean()) for name, c in colours.items()}
    assert min(distance, key=distance.get) == texture, (shape, texture, distance)
    masks.setdefault((shape, example["background"]), []).append(example["mask"][..., 0] > 127)
  for pair in masks.values():  # the silhouette is the shape's whatever surface it wears
    assert len(pair) == 2 and (pair[0] == pair[1]).mean() > 0.99


def test_the_previews_vary_the_factor_along_each_row(published, tmp_path):
  from kubricgen.datasets.si_score import preview
  _, results = published
  widths = {"lighting": 5, "occlusion": 4, "clutter": 4, "cue_conflict": 2}
  for config, result in results.items():
    sheet = preview.preview_dataset(result.path)
    assert sheet.size[0] == widths[config] * 128, config
    sheet.save(tmp_path / f"preview_{config}.png")


def test_verify_checks_every_field_and_the_stock_export_refuses_them(published, capsys):
  from kubricgen.cli.main import main
  from kubricgen.datasets import verify
  root, results = published
  for result in results.values():
    report = verify.verify(result.path, progress=False)
    assert report.ok, report.problems
  status = main(["export", "siscore", "--configs", "occlusion,clutter", "--data_dir", str(root), "--out",
                 str(root / "siscore")])
  errors = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
  assert status == 2 and len(errors) == 1 and "occlusion,clutter are kubricgen configs" in errors[0], errors


def test_a_thin_occluder_grows_until_it_can_hide_the_level():
  """The default main job's case: a thin occluder (a banana over a tall flowerpot) cannot hide 90% of the target at
  the target's size or lying flat; it grows (past the image's size if needed), stands upright and hides 0.9 within
  the tolerance."""
  from kubricgen.datasets.si_score import composite, layered
  size = 96
  target = np.zeros((size, size), bool)
  target[18:78, 33:63] = True  # a tall box, 60 x 30 px
  thin = np.zeros((12, 60, 4), np.uint8)
  thin[4:8, :, 3] = 255  # a thin horizontal stick: at 1x it covers a fraction of the box's height
  for side in ("left", "right"):
    area, rotation, left, top = layered.occluder_placement(target, thin, "stick", 0.9, side, 0.2, size, size, 0.01)
    assert area > 0.2 * 4 and rotation == 90  # it had to grow and stand upright
    occluder = layered.Layer(composite.scaled(thin, area, size, size, key="stick", rotation=rotation).straight,
                             left, top, 2)
    whole = layered.Layer(Image.fromarray(np.dstack([np.zeros((size, size, 3), np.uint8),
                                                     target.astype(np.uint8) * 255])), 0, 0, 1)
    stacked = layered.stack(np.zeros((size, size, 3), np.uint8), [whole, occluder])
    assert abs(1 - stacked.visible_fraction(1) - 0.9) <= 0.01, side
