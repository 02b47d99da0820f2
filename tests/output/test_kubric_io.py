"""Kubric's file helpers (kb.write_png, write_scaled_png, write_palette_png, write_tiff, write_pkl, read_png): the
formats Kubric writes, read back exactly (or to within one 16-bit step where values are scaled)."""
import pickle

import numpy as np
import pytest
from PIL import Image

import kubricgen as kb


def test_png_round_trips_in_8_and_16_bit_and_floats_become_16_bit(tmp_path):
  rng = np.random.RandomState(0)
  rgb8 = rng.randint(0, 256, (5, 7, 3)).astype(np.uint8)
  kb.write_png(rgb8, tmp_path / "a" / "rgb8.png")  # folders are created
  np.testing.assert_array_equal(kb.read_png(tmp_path / "a" / "rgb8.png"), rgb8)
  assert Image.open(tmp_path / "a" / "rgb8.png").mode == "RGB"
  rgba16 = rng.randint(0, 65536, (5, 7, 4)).astype(np.uint16)
  kb.write_png(rgba16, tmp_path / "rgba16.png")
  np.testing.assert_array_equal(kb.read_png(tmp_path / "rgba16.png"), rgba16)
  grey = rng.uniform(0, 1, (4, 6)).astype(np.float32)
  kb.write_png(grey, tmp_path / "grey.png")
  back = kb.read_png(tmp_path / "grey.png")
  assert back.dtype == np.uint16 and back.shape == (4, 6, 1)
  np.testing.assert_array_equal(back[..., 0], (grey * 65535).astype(np.uint16))  # Kubric's truncation
  ids = np.array([[0, 70000]], np.uint32)
  with pytest.raises(ValueError, match="up to 65535"):
    kb.write_png(ids, tmp_path / "ids.png")
  with pytest.raises(ValueError, match=r"\[0, 1\]"):
    kb.write_png(np.array([[1.5]], np.float32), tmp_path / "big.png")
  kb.write_png(rng.randint(0, 256, (3, 3, 2)).astype(np.uint8), tmp_path / "two.png")
  assert kb.read_png(tmp_path / "two.png").shape == (3, 3, 3)  # padded to RGB, as Kubric does


def test_scaled_png_returns_its_range_and_reads_back_within_one_step(tmp_path):
  depth = np.linspace(2.0, 12.0, 60, dtype=np.float32).reshape(6, 10, 1)
  ranges = kb.write_scaled_png(depth, tmp_path / "depth.png")
  assert ranges == {"min": 2.0, "max": 12.0}
  back = kb.read_png(tmp_path / "depth.png", rescale_range=(ranges["min"], ranges["max"]))
  np.testing.assert_allclose(back, depth, atol=2 * (12.0 - 2.0) / 65535)


def test_palette_png_shows_colours_and_reads_back_as_labels(tmp_path):
  labels = np.array([[0, 1, 2], [3, 0, 1]], np.uint8)
  kb.write_palette_png(labels, tmp_path / "segmentation.png")
  image = Image.open(tmp_path / "segmentation.png")
  assert image.mode == "P"
  np.testing.assert_array_equal(np.asarray(image), labels)
  np.testing.assert_array_equal(kb.read_png(tmp_path / "segmentation.png")[..., 0], labels)
  assert np.asarray(image.convert("RGB"))[0, 0].tolist() == [0, 0, 0]  # background black
  with pytest.raises(ValueError, match="labels must lie in"):
    kb.write_palette_png(np.array([[3]]), tmp_path / "x.png", palette=[(0, 0, 0), (255, 0, 0)])


def test_tiff_and_pickle_keep_values_exactly(tmp_path):
  depth = np.random.RandomState(1).uniform(0, 100, (4, 5, 1)).astype(np.float32)
  kb.write_tiff(depth, tmp_path / "depth.tiff")
  np.testing.assert_array_equal(kb.read_tiff(tmp_path / "depth.tiff"), depth)
  kb.write_pkl({"depth": depth}, tmp_path / "data.pkl")
  with open(tmp_path / "data.pkl", "rb") as handle:
    np.testing.assert_array_equal(pickle.load(handle)["depth"], depth)
