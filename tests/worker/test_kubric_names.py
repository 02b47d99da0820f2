"""Kubric's remaining top-level helpers, with Kubric's signatures and behaviour: Color and get_color,
adjust_segmentation_idxs, setup_directories and log_my_flags (a Kubric worker that uses them ports by its imports)."""
import logging
import os

import numpy as np
import pytest

import kubricgen as kb


def test_colors_from_names_hex_strings_integers_and_tuples():
  assert kb.get_color("green") == kb.Color(0, 128 / 255, 0, 1.0)  # CSS's green, as Kubric's
  assert kb.get_color("#FF8000") == kb.Color(1.0, 128 / 255, 0.0, 1.0)
  assert kb.get_color("#f80") == kb.get_color("#ff8800") and kb.get_color("#ff880080").a == 128 / 255
  assert kb.get_color(0x0000FF) == kb.Color(0, 0, 1)
  assert kb.get_color((0.1, 0.2, 0.3)) == (0.1, 0.2, 0.3, 1.0)
  color = kb.Color.from_hsv(1 / 3, 1.0, 0.5)
  assert color.rgb == pytest.approx((0.0, 0.5, 0.0)) and color.hsv == pytest.approx((1 / 3, 1.0, 0.5))
  assert kb.get_color("red").hexstr == "#ff0000ff" and kb.get_color("red").hexstr_short == "#ff0000"
  for bad in ("#12", "#gggggg", "mauve", 0x1000000):
    with pytest.raises(ValueError):
      kb.get_color(bad)
  hue = kb.random_hue_color(rng=np.random.RandomState(0))
  assert isinstance(hue, kb.Color) and max(hue.rgb) == pytest.approx(1.0)
  kb.PrincipledBSDFMaterial(color=kb.get_color("teal"))  # a Color is a colour tuple wherever one is taken


def test_adjust_segmentation_idxs_keeps_the_new_list_order_and_drops_the_rest():
  scene = kb.Scene()
  floor, a, b, c = (kb.Cube(name=n) for n in ("floor", "a", "b", "c"))
  for obj in (floor, a, b, c):
    scene += obj
  segmentation = np.array([[[0], [1], [2]], [[3], [4], [7]]], np.uint32)  # ids are 1-based in scene.assets' order
  renumbered = kb.adjust_segmentation_idxs(segmentation, [floor, a, b, c], [c, a])
  assert renumbered.dtype == np.uint32
  assert renumbered[..., 0].tolist() == [[0, 0, 2], [0, 1, 0]]  # a -> 2, c -> 1; floor, b, background, 7 -> 0
  assert kb.adjust_segmentation_idxs(segmentation, [floor, a, b, c], [], ignored_label=9).max() == 9


def test_adjust_segmentation_idxs_as_kubrics_movi_workers_call_it():
  """With scene.assets (lights, camera and a background floor among them) as the old list, each instance is found by
  the id the renderer wrote for it, its segmentation_id."""
  scene = kb.Scene()
  scene += kb.Cube(name="floor", static=True, background=True)
  scene += kb.DirectionalLight(name="sun")
  a, b, c = (kb.Sphere(name=n) for n in ("a", "b", "c"))
  scene += [a, b, c]
  scene.camera = kb.PerspectiveCamera(name="camera")
  assert [a.segmentation_id, b.segmentation_id, c.segmentation_id] == [1, 2, 3]
  segmentation = np.array([[[0], [1], [2], [3]]], np.int32)  # background, a, b, c as the renderer writes them
  renumbered = kb.adjust_segmentation_idxs(segmentation, scene.assets, [c, a])
  assert renumbered[..., 0].tolist() == [[0, 2, 0, 1]]  # a -> 2, c -> 1, b (not visible) -> 0


def test_setup_directories_and_log_my_flags(tmp_path, caplog):
  flags = kb.ArgumentParser().parse_args(["--out", str(tmp_path / "job"), "--scratch_dir", str(tmp_path / "s")])
  os.makedirs(tmp_path / "s")
  (tmp_path / "s" / "old.txt").write_text("stale")
  scratch, output = kb.setup_directories(flags)
  assert scratch == tmp_path / "s" and output == tmp_path / "job" and output.is_dir()
  assert not (tmp_path / "s" / "old.txt").exists()  # Kubric empties an old scratch folder
  scene, _, staging, run_scratch = kb.setup(kb.ArgumentParser().parse_args(["--out", str(tmp_path / "run"),
                                                                            "--seed", "1"]))
  try:
    assert kb.setup_directories(flags) == (type(scratch)(run_scratch), type(scratch)(staging))  # inside a run
  finally:
    kb.worker.session.abort()
  with caplog.at_level(logging.INFO, logger="kubricgen"):
    kb.log_my_flags(flags)
  assert "resolution" in caplog.text and str(tmp_path / "job") in caplog.text


def test_kubrics_movi_sampling_helpers():
  """kb.randomness.sample_color / sample_sizes draw as Kubric's (rng.choice over its label order), and
  kb.sample_point_in_half_sphere_shell keeps to its shell and fills it uniformly in volume."""
  labels = [kb.randomness.sample_color("clevr", np.random.RandomState(seed))[0] for seed in range(20)]
  kubric_labels = [np.random.RandomState(seed).choice(list(kb.CLEVR_COLORS)) for seed in range(20)]
  assert labels == kubric_labels
  assert kb.CLEVR_COLORS["blue"][:3] == (42 / 255, 75 / 255, 215 / 255)  # CLEVR's own colours
  assert kb.randomness.sample_sizes("clevr", np.random.RandomState(1))[0] in ("small", "large")
  label, size = kb.randomness.sample_sizes("uniform", np.random.RandomState(1))
  assert label is None and 0.7 <= size < 1.4 and kb.randomness.sample_sizes("const")[1] == 1.0
  with pytest.raises(ValueError, match="unknown strategy 'rainbow'"):
    kb.randomness.sample_color("rainbow")
  rng = np.random.RandomState(3)
  points = np.array([kb.sample_point_in_half_sphere_shell(7.0, 9.0, offset=0.1, rng=rng) for _ in range(4000)])
  radii = np.linalg.norm(points, axis=1)
  assert radii.min() >= 7.0 and radii.max() <= 9.0 and (points[:, 2] > 0).all()
  median = ((7.0 ** 3 + 9.0 ** 3) / 2) ** (1 / 3)  # uniform in volume: half the shell's volume lies within this
  assert abs(np.mean(radii < median) - 0.5) < 0.03


def test_clevr_lights_and_a_saved_physics_state(tmp_path):
  lights = kb.assets.utils.get_clevr_lights(light_jitter=1.0, rng=np.random.RandomState(0))
  assert [light.name for light in lights] == ["sun", "lamp_back", "lamp_key", "lamp_fill"]
  assert [type(light).__name__ for light in lights] == ["DirectionalLight"] + ["RectAreaLight"] * 3
  offsets = lights[0].position - np.array([11.6608, -6.62799, 25.8232])
  assert ((0 <= offsets) & (offsets < 1)).all()  # jittered by [0, 1) m on each axis, as Kubric's
  for light in lights:  # each turned to the origin: its -Z axis points there
    forward = -(light.matrix_world[:3, :3] @ np.array([0.0, 0.0, 1.0]))
    np.testing.assert_allclose(forward, -light.position / np.linalg.norm(light.position), atol=1e-9)
  from kubricgen.simulator.pybullet import PyBullet
  scene = kb.Scene()
  scene += kb.Cube(name="floor", static=True)
  with PyBullet(scene) as simulator:
    simulator.save_state(tmp_path / "state" / "scene.bullet")
  assert (tmp_path / "state" / "scene.bullet").read_bytes()[:6] == b"BULLET"
