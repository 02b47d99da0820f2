"""Kubric's file helpers under Kubric's names and file formats (`kb.write_png`, `kb.write_scaled_png`, ...), so a
Kubric worker that writes its own files ports by changing only its imports. PNGs go through pypng (what Kubric
uses: 16-bit colour and palette PNGs, which Pillow cannot write), TIFFs through tifffile.

Conventions: images are (H, W) or (H, W, C) arrays with C in 1..4; file names may be str or os.PathLike.
"""
from __future__ import annotations

import os
import pickle
from typing import Any

import numpy as np


def _as_hwc(data: np.ndarray, name: str) -> np.ndarray:
  data = np.asarray(data)
  if data.ndim == 2:
    data = data[..., None]
  if data.ndim != 3 or not 1 <= data.shape[-1] <= 4:
    raise ValueError(f"{name}: expected an (H, W) or (H, W, C) array with C in 1..4, got shape {data.shape}")
  return data


def _folder_for(filename) -> str:
  path = os.fspath(filename)
  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  return path


def write_png(data: np.ndarray, filename) -> None:
  """Write an image as PNG, converting as Kubric does: uint8 -> 8 bit; uint16 -> 16 bit; uint32/uint64 -> 16 bit
  (ValueError for values above 65535); float -> 16 bit after scaling [0, 1] to [0, 65535] (ValueError outside
  [0, 1]). Channels: 1 grey, 2 grey + alpha, 3 RGB, 4 RGBA."""
  import png  # pylint: disable=import-outside-toplevel
  data = _as_hwc(data, "write_png")
  if data.dtype in (np.uint32, np.uint64):
    if data.size and data.max() > 65535:
      raise ValueError(f"write_png: values up to 65535 fit a 16-bit PNG, got {data.max()}")
    data = data.astype(np.uint16)
  elif np.issubdtype(data.dtype, np.floating):
    if data.size and (np.nanmin(data) < 0 or np.nanmax(data) > 1 or np.isnan(data).any()):
      raise ValueError("write_png: float images must lie in [0, 1] (use write_scaled_png for other ranges)")
    data = np.round(data * 65535).astype(np.uint16)
  elif data.dtype not in (np.uint8, np.uint16):
    raise ValueError(f"write_png: unsupported dtype {data.dtype}")
  height, width, channels = data.shape
  writer = png.Writer(width=width, height=height, greyscale=channels <= 2, alpha=channels in (2, 4),
                      bitdepth=16 if data.dtype == np.uint16 else 8)
  with open(_folder_for(filename), "wb") as handle:
    writer.write(handle, data.reshape(height, width * channels).tolist())


def read_png(filename, rescale_range: tuple[float, float] | None = None) -> np.ndarray:
  """A PNG as an (H, W, C) array: uint8 or uint16 as stored (palette PNGs give their indices, C = 1). With
  `rescale_range=(low, high)`, a float32 array mapped back from [0, max] to [low, high] (what write_scaled_png
  returns)."""
  import png  # pylint: disable=import-outside-toplevel
  reader = png.Reader(filename=os.fspath(filename))
  width, height, rows, info = reader.read()
  dtype = np.uint16 if info["bitdepth"] > 8 else np.uint8
  data = np.vstack([np.asarray(row, dtype) for row in rows]).reshape(height, width, -1)
  if rescale_range is not None:
    low, high = rescale_range
    data = data.astype(np.float32) / np.iinfo(dtype).max * (high - low) + low
  return data


def write_scaled_png(data: np.ndarray, filename) -> dict[str, float]:
  """Scale an array to [0, 1] by its minimum and maximum and write it as a 16-bit PNG; returns {"min", "max"} (Kubric
  keeps these in data_ranges.json) so `read_png(filename, rescale_range=(min, max))` restores the values to within
  (max - min) / 65535."""
  data = np.asarray(data, dtype=np.float64)
  low, high = (float(np.min(data)), float(np.max(data))) if data.size else (0.0, 0.0)
  scaled = (data - low) / (high - low) if high > low else np.zeros_like(data)
  write_png(scaled, filename)
  return {"min": low, "max": high}


def default_palette(count: int = 256) -> np.ndarray:
  """(count, 3) uint8 colours: index 0 black (background), then well-separated hues (golden-angle steps)."""
  import colorsys  # pylint: disable=import-outside-toplevel
  colours = [(0, 0, 0)]
  for index in range(1, count):
    r, g, b = colorsys.hsv_to_rgb((index * 0.618033988749895) % 1.0, 0.65 + 0.35 * (index % 2), 0.95)
    colours.append((round(255 * r), round(255 * g), round(255 * b)))
  return np.asarray(colours, np.uint8)


def write_palette_png(data: np.ndarray, filename, palette=None) -> None:
  """Write integer labels (H, W) or (H, W, 1) (e.g. a segmentation) as an 8-bit palette PNG: viewers show colours,
  `read_png` gives the labels back. `palette`: (N, 3) uint8 colours, default `default_palette()`; ValueError for a
  label without a colour."""
  import png  # pylint: disable=import-outside-toplevel
  data = _as_hwc(data, "write_palette_png")
  if data.shape[-1] != 1:
    raise ValueError(f"write_palette_png: expected one channel of labels, got shape {data.shape}")
  palette = default_palette() if palette is None else np.asarray(palette, np.uint8)
  if data.size and (data.min() < 0 or data.max() >= min(len(palette), 256)):
    raise ValueError(f"write_palette_png: labels must lie in [0, {min(len(palette), 256) - 1}], got "
                     f"[{data.min()}, {data.max()}]")
  height, width, _ = data.shape
  writer = png.Writer(width=width, height=height, palette=[tuple(int(v) for v in c) for c in palette[:256]],
                      bitdepth=8)
  with open(_folder_for(filename), "wb") as handle:
    writer.write(handle, data[..., 0].astype(np.uint8).tolist())


def write_tiff(data: np.ndarray, filename) -> None:
  """Write an (H, W, C) array (C in 1, 3, 4; float32 for depth-like data) as TIFF, values unchanged."""
  import tifffile  # pylint: disable=import-outside-toplevel
  data = _as_hwc(data, "write_tiff")
  if data.shape[-1] == 2:
    raise ValueError("write_tiff: expected 1, 3 or 4 channels, got 2")
  tifffile.imwrite(_folder_for(filename), data)


def read_tiff(filename) -> np.ndarray:
  """A TIFF as an (H, W, C) array, values unchanged."""
  import tifffile  # pylint: disable=import-outside-toplevel
  return _as_hwc(tifffile.imread(os.fspath(filename)), "read_tiff")


def write_pkl(data: Any, filename) -> None:
  """Pickle `data` to a file (Kubric's format for its per-scene data). Read it only from sources you trust:
  unpickling runs code."""
  with open(_folder_for(filename), "wb") as handle:
    pickle.dump(data, handle)
