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
  assert sheet.size == (64 + 40 * 5, 16 + 2 * 48)  # a label column, then one tile per layer
  flow = preview.visualize("forward_flow", np.array([[[1.0, 0.0], [0.0, 0.0]]], np.float32), {"flow": 1.0})
  np.testing.assert_array_equal(flow[0, 0], [255, 0, 0])  # rightward motion is red, as in Middlebury's wheel
  np.testing.assert_array_equal(flow[0, 1], [255, 255, 255])  # no motion is white


def test_contact_sheet_outlines_boxes_on_the_colour_tiles():
  data = {"rgba": np.zeros((2, 10, 10, 4), np.uint8), "segmentation": np.zeros((2, 10, 10, 1), np.int32)}
  data["rgba"][..., 3] = 255
  sheet = np.asarray(preview.contact_sheet(data, tile=100, frame_numbers=[5, 6], boxes={1: [[2, 3, 6, 8], None]}))
  colour = preview.palette(2)[1]
  left, top = 64, 16  # the first rgba tile; 10 px per image pixel
  np.testing.assert_array_equal(sheet[top + 50, left + 20], colour)  # left edge of the box at x = 2 px
  np.testing.assert_array_equal(sheet[top + 30, left + 40], colour)  # top edge at y = 3 px
  np.testing.assert_array_equal(sheet[top + 50, left + 40], 0)  # inside the box: the black image
  assert (sheet[top + 100:top + 200, left:left + 100] == 0).all()  # no box in the second frame
