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
  """Write an image as PNG, converting as Kubric does (same bytes): uint8 -> 8 bit; uint16 -> 16 bit; uint32/uint64
  -> 16 bit (ValueError for values above 65535); float -> 16 bit as `(data * 65535).astype(uint16)` (ValueError
  outside [0, 1]). Channels: 1 grey, 3 RGB, 4 RGBA; 2 channels are padded with a zero third channel (RGB)."""
  import png  # pylint: disable=import-outside-toplevel
  data = _as_hwc(data, "write_png")
  if data.dtype in (np.uint32, np.uint64):
    if data.size and data.max() > 65535:
      raise ValueError(f"write_png: values up to 65535 fit a 16-bit PNG, got {data.max()}")
    data = data.astype(np.uint16)
  elif np.issubdtype(data.dtype, np.floating):
    if data.size and (np.nanmin(data) < 0 or np.nanmax(data) > 1 or np.isnan(data).any()):
      raise ValueError("write_png: float images must lie in [0, 1] (use write_scaled_png for other ranges)")
    data = (data * 65535).astype(np.uint16)
  elif data.dtype not in (np.uint8, np.uint16):
    raise ValueError(f"write_png: unsupported dtype {data.dtype}")
  if data.shape[-1] == 2:
    data = np.concatenate([data, np.zeros_like(data[..., :1])], axis=-1)
  height, width, channels = data.shape
  writer = png.Writer(width=width, height=height, greyscale=channels == 1, alpha=channels == 4,
                      bitdepth=16 if data.dtype == np.uint16 else 8)
  with open(_folder_for(filename), "wb") as handle:
    writer.write(handle, data.reshape(height, width * channels).tolist())


def read_png(filename, rescale_range: tuple[float, float] | None = None) -> np.ndarray:
  """A PNG as an (H, W, C) array: uint8 or uint16 as stored (palette PNGs give their indices, C = 1). With
  `rescale_range=(low, high)` (what write_scaled_png returns), float64 `value / 2**bitdepth * (high - low) + low`:
  Kubric's formula, so data Kubric wrote reads back as Kubric reads it (its top value comes back 1/65536 of the range
  short of `high`)."""
  import png  # pylint: disable=import-outside-toplevel
  reader = png.Reader(filename=os.fspath(filename))
  width, height, rows, info = reader.read()
  dtype = np.uint16 if info["bitdepth"] > 8 else np.uint8
  data = np.vstack([np.asarray(row, dtype) for row in rows]).reshape(height, width, -1)
  if rescale_range is not None:
    low, high = rescale_range
    data = data / 2 ** info["bitdepth"] * (high - low) + low
  return data


def write_scaled_png(data: np.ndarray, filename) -> dict[str, float]:
  """Write a float array as a 16-bit PNG of `(data - min) * 65535 / (max - min)` (Kubric's arithmetic, truncated);
  returns {"min", "max"} (Kubric keeps these in data_ranges.json) for `read_png(filename, rescale_range=...)`,
  which restores the values to within 2 (max - min) / 65535. A constant array is written as zeros."""
  data = np.asarray(data)
  if not np.issubdtype(data.dtype, np.floating):
    raise ValueError(f"write_scaled_png: expected a float array, got {data.dtype}")
  low, high = np.min(data), np.max(data)
  scaled = (data - low) * 65535 / (high - low) if high > low else np.zeros_like(data)
  write_png(scaled.astype(np.uint16), filename)
  return {"min": low.item(), "max": high.item()}


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


def write_tiff(data: np.ndarray, filename, compression: str | None = None) -> None:
  """Write an (H, W, C) array (C in 1, 3, 4; float32 for depth-like data) as TIFF, values unchanged.
  `compression`: None (uncompressed, as Kubric writes) or "zlib" (deflate, which tifffile, and so Kubric's
  `read_tiff`, decodes with the standard library alone)."""
  import tifffile  # pylint: disable=import-outside-toplevel
  data = _as_hwc(data, "write_tiff")
  if data.shape[-1] == 2:
    raise ValueError("write_tiff: expected 1, 3 or 4 channels, got 2")
  if data.shape[-1] == 1:
    data = data[..., 0]  # one grey plane (tifffile would take (H, W, 1) for separate colour planes)
  tifffile.imwrite(_folder_for(filename), data, compression=compression)


def read_tiff(filename) -> np.ndarray:
  """A TIFF as an (H, W, C) array, values unchanged."""
  import tifffile  # pylint: disable=import-outside-toplevel
  return _as_hwc(tifffile.imread(os.fspath(filename)), "read_tiff")


def write_pkl(data: Any, filename) -> None:
  """Pickle `data` to a file (Kubric's format for its per-scene data). Read it only from sources you trust:
  unpickling runs code."""
  with open(_folder_for(filename), "wb") as handle:
    pickle.dump(data, handle)
