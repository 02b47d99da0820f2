"""Scene-folder files round-trip without loss; contact sheets draw every layer."""
import numpy as np
import pytest

from kubricgen.output import images, preview
from kubricgen.output.reader import load_scene
from kubricgen.output.metadata import write_json


def sample_data(rng):
  return {
      "rgba": rng.randint(0, 256, (2, 6, 5, 4)).astype(np.uint8),
      "segmentation": rng.randint(0, 65536, (2, 6, 5, 1)).astype(np.int32),
      "depth": np.where(rng.rand(2, 6, 5, 1) > 0.2, rng.rand(2, 6, 5, 1) * 100, np.inf).astype(np.float32),
      "normal": rng.randn(2, 6, 5, 3).astype(np.float32),
      "forward_flow": (rng.randn(2, 6, 5, 2) * 1e3).astype(np.float32),
  }


def test_layers_round_trip_bit_exactly(tmp_path):
  data = sample_data(np.random.RandomState(0))
  images.write_image_dict(data, tmp_path)
  write_json({"seed": 0}, tmp_path / "metadata.json")
  loaded = load_scene(tmp_path)
  for layer, array in data.items():
    assert loaded[layer].dtype == array.dtype
    np.testing.assert_array_equal(loaded[layer], array)
  assert loaded.metadata == {"seed": 0} and loaded.events == {}


def test_out_of_range_ids_and_missing_frames_are_refused(tmp_path):
  with pytest.raises(ValueError, match="65535"):
    images.write_image_dict({"segmentation": np.full((1, 2, 2, 1), 70000, np.int32)}, tmp_path)
  images.write_image_dict(sample_data(np.random.RandomState(1)), tmp_path)
  (tmp_path / "depth_00000.exr").unlink()
  with pytest.raises(ValueError, match="not numbered"):
    images.read_image_dict(tmp_path)
  with pytest.raises(FileNotFoundError, match="metadata.json"):
    load_scene(tmp_path)


def test_contact_sheet_has_a_tile_per_layer_and_frame():
  data = sample_data(np.random.RandomState(2))
  sheet = preview.contact_sheet(data, tile=40)
  assert sheet.size == (40 * 5, 16 + 2 * 48)
  flow = preview.visualize("forward_flow", np.array([[[1.0, 0.0], [0.0, 0.0]]], np.float32), {"flow": 1.0})
  np.testing.assert_array_equal(flow[0, 0], [255, 0, 0])  # rightward motion is red, as in Middlebury's wheel
  np.testing.assert_array_equal(flow[0, 1], [255, 255, 255])  # no motion is white
