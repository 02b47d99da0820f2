"""The scene-folder file formats (exr32, exr16, kubric): each reads back within what it promises, the kubric files
mean to Kubric's readers what they mean to ours, and `--output_format` reaches the files of a real render."""
import json
import subprocess

import numpy as np
import OpenEXR
import png
import pytest

import kubricgen as kb
from kubricgen.output import images
from kubricgen.output.reader import load_scene
from tests.conftest import kubricgen_command


def scene_layers(rng, frames=3, height=6, width=5):
  """Layers as the renderer returns them, with the awkward values: inf depth, zero normals, flows of both signs."""
  shape = (frames, height, width)
  normal = rng.randn(*shape, 3)
  normal /= np.linalg.norm(normal, axis=-1, keepdims=True)
  normal[:, 0, 0] = 0  # no hit
  depth = rng.uniform(0.5, 40, (*shape, 1))
  depth[:, -1, -1] = np.inf
  return {
      "rgba": rng.randint(0, 256, (*shape, 4)).astype(np.uint8),
      "segmentation": rng.randint(0, 12, (*shape, 1)).astype(np.int32),
      "depth": depth.astype(np.float32),
      "z": (depth * 0.9).astype(np.float32),
      "normal": normal.astype(np.float32),
      "object_coordinates": rng.uniform(0, 1, (*shape, 3)).astype(np.float32),
      "forward_flow": rng.uniform(-30, 12, (*shape, 2)).astype(np.float32),
      "backward_flow": rng.uniform(-7, 25, (*shape, 2)).astype(np.float32),
  }


def finite_error(written, read):
  """max |read - written| over finite values, after checking the non-finite ones came back unchanged."""
  finite = np.isfinite(written)
  np.testing.assert_array_equal(read[~finite], written[~finite])
  return np.abs(read[finite].astype(np.float64) - written[finite].astype(np.float64)).max()


def check_common(data, back):
  assert sorted(back) == sorted(data)
  for layer, array in data.items():
    assert back[layer].shape == array.shape, layer
  assert back["rgba"].dtype == np.uint8 and back["segmentation"].dtype == np.int32
  np.testing.assert_array_equal(back["rgba"], data["rgba"])
  np.testing.assert_array_equal(back["segmentation"], data["segmentation"])
  for layer in ("depth", "z", "normal", "object_coordinates", "forward_flow", "backward_flow"):
    assert back[layer].dtype == np.float32, layer


def test_exr32_is_bit_exact(tmp_path):
  data = scene_layers(np.random.RandomState(0))
  names = images.write_image_dict(data, tmp_path, file_format="exr32")
  assert "depth_00002.exr" in names and "segmentation_00000.png" in names
  back = images.read_image_dict(tmp_path)
  check_common(data, back)
  for layer, array in data.items():
    np.testing.assert_array_equal(back[layer], array)


def test_exr16_is_half_float_and_rounds_to_the_nearest_half(tmp_path):
  data = scene_layers(np.random.RandomState(1))
  data["object_coordinates"][0, 0, 0] = (1e-6, 3e-5, 0.0)  # half-float subnormals
  images.write_image_dict(data, tmp_path, file_format="exr16")
  with OpenEXR.File(str(tmp_path / "depth_00000.exr"), separate_channels=True) as exr:
    assert exr.channels()["Y"].pixels.dtype == np.float16
  back = images.read_image_dict(tmp_path)
  check_common(data, back)
  for layer in ("depth", "z", "normal", "object_coordinates", "forward_flow", "backward_flow"):
    written, read = data[layer].astype(np.float64), back[layer].astype(np.float64)
    finite = np.isfinite(written)
    np.testing.assert_array_equal(read[~finite], written[~finite])
    bound = np.maximum(np.abs(written[finite]) * 2.0 ** -11, 2.0 ** -25)
    assert (np.abs(read[finite] - written[finite]) <= bound).all(), layer
    assert finite_error(data[layer], back[layer]) > 0, layer  # really rounded: half floats, not float32


def test_exr16_refuses_values_a_half_float_cannot_hold(tmp_path):
  with pytest.raises(ValueError, match=r"half-float range .*exr32") as error:
    images.write_image_dict({"depth": np.full((1, 2, 2, 1), 70000.0, np.float32)}, tmp_path, file_format="exr16")
  assert "\n" not in str(error.value)
  images.write_image_dict({"depth": np.full((1, 2, 2, 1), np.inf, np.float32)}, tmp_path, file_format="exr16")


def test_kubric_reads_back_within_half_a_16_bit_step(tmp_path):
  data = scene_layers(np.random.RandomState(2))
  names = images.write_image_dict(data, tmp_path, file_format="kubric")
  assert {"depth_00000.tiff", "z_00000.tiff", "normal_00000.png", "forward_flow_00002.png",
          "segmentation_00001.png"} <= set(names)
  back = images.read_image_dict(tmp_path)
  check_common(data, back)
  float32_slack = 1e-6  # the float32 result of the float64 decoding
  assert finite_error(data["depth"], back["depth"]) == 0
  assert finite_error(data["z"], back["z"]) == 0
  assert finite_error(data["normal"], back["normal"]) <= 1 / 65535 + float32_slack
  assert finite_error(data["object_coordinates"], back["object_coordinates"]) <= 0.5 / 65535 + float32_slack
  for layer in ("forward_flow", "backward_flow"):
    span = data[layer].max() - data[layer].min()
    assert finite_error(data[layer], back[layer]) <= span / 131070 + float32_slack * np.abs(data[layer]).max()


def test_kubric_files_mean_to_kubrics_readers_what_they_mean_to_ours(tmp_path):
  data = scene_layers(np.random.RandomState(3))
  images.write_image_dict(data, tmp_path, file_format="kubric")
  ranges = json.loads((tmp_path / "data_ranges.json").read_text())
  assert sorted(ranges) == ["backward_flow", "forward_flow"] and sorted(ranges["forward_flow"]) == ["max", "min"]
  # MOVi's reader: png[..., :2] / 65535 * (max - min) + min gives (delta_row, delta_column); Kubric's backward
  # flow is the motion from the previous frame, the negative of ours.
  for layer, sign in (("forward_flow", 1), ("backward_flow", -1)):
    stored = kb.read_png(tmp_path / f"{layer}_00001.png")
    assert stored.dtype == np.uint16 and stored.shape == (6, 5, 3) and (stored[..., 2] == 0).all()
    low, high = ranges[layer]["min"], ranges[layer]["max"]
    row_col = stored[..., :2] / 65535 * (high - low) + low
    expected = sign * data[layer][1][..., ::-1]
    np.testing.assert_allclose(row_col, expected, atol=(high - low) / 131070 + 1e-5)
    assert (low, high) == (np.min(sign * data[layer]), np.max(sign * data[layer]))  # over the scene's frames
  normal = kb.read_png(tmp_path / "normal_00000.png")
  np.testing.assert_allclose(normal / 65535 * 2 - 1, data["normal"][0], atol=1 / 65535 + 1e-6)
  depth = kb.read_tiff(tmp_path / "depth_00000.tiff")
  assert depth.dtype == np.float32 and depth.shape == (6, 5, 1)
  np.testing.assert_array_equal(depth, data["depth"][0])
  _, _, _, info = png.Reader(filename=str(tmp_path / "segmentation_00000.png")).read()
  assert "palette" in info and info["bitdepth"] == 8  # a palette PNG, as Kubric's
  np.testing.assert_array_equal(kb.read_png(tmp_path / "segmentation_00000.png"), data["segmentation"][0])


def test_bad_formats_and_ids_are_refused_in_one_line(tmp_path):
  data = {"segmentation": np.zeros((1, 2, 2, 1), np.int32)}
  with pytest.raises(ValueError, match=r"unknown file_format 'png' \(expected one of exr32, exr16, kubric\)") as error:
    images.write_image_dict(data, tmp_path / "a", file_format="png")
  assert "\n" not in str(error.value) and not (tmp_path / "a").exists()
  with pytest.raises(ValueError, match=r"\[0, 255\]"):
    images.write_image_dict({"segmentation": np.full((1, 2, 2, 1), 256, np.int32)}, tmp_path, file_format="kubric")
  with pytest.raises(ValueError, match="non-finite"):
    images.write_image_dict({"forward_flow": np.full((1, 2, 2, 2), np.nan, np.float32)}, tmp_path,
                            file_format="kubric")
  images.write_image_dict({"forward_flow": np.ones((1, 2, 2, 2), np.float32)}, tmp_path / "b", file_format="kubric")
  (tmp_path / "b" / "data_ranges.json").unlink()
  with pytest.raises(ValueError, match="data_ranges.json has no range for 'forward_flow'"):
    images.read_image_dict(tmp_path / "b")


def test_a_constant_flow_reads_back_exactly(tmp_path):
  still = {"forward_flow": np.zeros((2, 3, 3, 2), np.float32), "backward_flow": np.full((2, 3, 3, 2), 1.5, np.float32)}
  images.write_image_dict(still, tmp_path, file_format="kubric")
  back = images.read_image_dict(tmp_path)
  np.testing.assert_array_equal(back["forward_flow"], still["forward_flow"])
  np.testing.assert_array_equal(back["backward_flow"], still["backward_flow"])


@pytest.mark.slow
def test_the_output_format_flag_reaches_a_rendered_scene(tmp_path, cli_env, repo_root):
  """movi_a rendered twice with one seed, as exr32 and as kubric: the kubric folder has Kubric's files, records its
  format, and reads back to the exr32 folder's arrays within the format's steps."""
  folders = {}
  for file_format in ("exr32", "kubric"):
    out = tmp_path / file_format
    result = subprocess.run(kubricgen_command(
        "render", f"{repo_root}/scenes/movi_a.py", "--seed", "3", "--out", str(out), "--frame_end", "2",
        "--min_objects", "2", "--max_objects", "2", "--resolution", "24x24", "--samples", "1",
        "--output_format", file_format), env=cli_env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    folders[file_format] = load_scene(out)
  exact, compact = folders["exr32"], folders["kubric"]
  assert exact.metadata["output_format"] == "exr32" and compact.metadata["output_format"] == "kubric"
  assert compact.metadata["flags"]["output_format"] == "kubric"
  files = sorted(p.name for p in (tmp_path / "kubric").iterdir())
  assert "data_ranges.json" in files and "depth_00001.tiff" in files and not any(f.endswith(".exr") for f in files)
  assert sorted(compact.layers) == sorted(exact.layers)
  for layer in ("rgba", "segmentation", "depth", "z"):
    np.testing.assert_array_equal(compact[layer], exact[layer])
  assert np.abs(exact["forward_flow"]).max() > 0.1  # the objects move: the flow checks below check something
  ranges = json.loads((tmp_path / "kubric" / "data_ranges.json").read_text())
  for layer in ("forward_flow", "backward_flow"):
    step = (ranges[layer]["max"] - ranges[layer]["min"]) / 65535
    np.testing.assert_allclose(compact[layer], exact[layer], atol=step / 2 + 1e-5)
  np.testing.assert_allclose(compact["normal"], exact["normal"], atol=1 / 65535 + 1e-6)
  np.testing.assert_allclose(compact["object_coordinates"], exact["object_coordinates"], atol=0.5 / 65535 + 1e-6)
