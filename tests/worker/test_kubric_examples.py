"""Workers in the style of Kubric's public examples run as Kubric users run them (`python worker.py`), with only
their import lines changed, and write Kubric's file formats (tests/data/kubric_examples/)."""
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

import kubricgen as kb

pytest.importorskip("bpy")


def run_worker(repo_root, name, folder, cli_env):
  folder.mkdir(parents=True, exist_ok=True)
  script = os.path.join(repo_root, "tests", "data", "kubric_examples", name)
  result = subprocess.run([sys.executable, script], cwd=folder, env=cli_env, capture_output=True, text=True,
                          timeout=300, check=False)
  assert result.returncode == 0, result.stderr[-3000:]
  return result


def test_helloworld_style_worker_writes_kubrics_files(tmp_path, repo_root, cli_env):
  result = run_worker(repo_root, "helloworld_style.py", tmp_path, cli_env)
  output = tmp_path / "output"
  rgba = kb.read_png(output / "helloworld.png")
  assert rgba.shape == (40, 48, 4) and rgba.dtype == np.uint8
  segmentation = Image.open(output / "helloworld_segmentation.png")
  assert segmentation.mode == "P"  # a palette PNG, as Kubric's write_palette_png
  ids = np.asarray(segmentation)
  assert set(np.unique(ids)) == {1, 2}  # the floor fills the view around the ball
  depth_range = json.loads(result.stdout.strip().splitlines()[-1])["depth_range"]
  depth = kb.read_png(output / "helloworld_depth.png", rescale_range=(depth_range["min"], depth_range["max"]))
  assert depth.shape == (40, 48, 1)
  # The nearest point of the ball (radius 0.8 m) is its distance from the camera's centre less 0.8 m.
  nearest = np.linalg.norm(np.subtract((3, -1, 4), (0, 0, 0.8))) - 0.8
  np.testing.assert_allclose(depth[ids == 2].min(), nearest, atol=0.01)
  assert depth_range["min"] == pytest.approx(depth[np.isfinite(depth)].min(), abs=1e-3)
  assert (output / "helloworld.blend").is_file()
  run_worker(repo_root, "helloworld_style.py", tmp_path, cli_env)  # saving again leaves no .blend1 backup
  assert sorted(p.name for p in output.iterdir() if ".blend" in p.name) == ["helloworld.blend"]


def test_simulator_style_worker_relies_on_kubrics_default_rng_and_is_reproducible(tmp_path, repo_root, cli_env):
  scenes = []
  for attempt in ("first", "second"):
    run_worker(repo_root, "simulator_style.py", tmp_path / attempt, cli_env)
    scenes.append(tmp_path / attempt / "output")
  first, second = (kb.read_image_dict(folder) for folder in scenes)
  assert first["rgba"].shape == (5, 32, 40, 4)
  for layer in first:
    np.testing.assert_array_equal(first[layer], second[layer], err_msg=layer)  # the fixed-seed fallback rng
  segmentation = first["segmentation"][..., 0]
  floor = segmentation == 1  # the floor is the first instance; the camera is static
  for layer in ("forward_flow", "backward_flow"):
    assert np.all(first[layer][floor] == 0.0), layer
  assert set(np.unique(segmentation)) == {1, 2, 3, 4, 5}  # four balls, each seen
  assert (scenes[0] / "simulator.blend").is_file()
  shutil.rmtree(tmp_path / "second")
