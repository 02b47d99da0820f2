"""Per-frame image files of a scene folder, written and read without loss.

  rgba_00000.png                 uint8 RGBA
  segmentation_00000.png         uint16 instance ids (0 = background)
  <layer>_00000.exr              float32 layers (depth, z, normal, object_coordinates, forward_flow, backward_flow):
                                 single-part OpenEXR, ZIP compressed, channels Y (1 channel) or R, G, B (2-3)
File numbers count rendered frames from 0 (file 00000 is the first rendered frame), as in Kubric.
"""
from __future__ import annotations

import os
import re
from typing import Mapping

import imageio.v3 as iio
import numpy as np
import OpenEXR

FLOAT_CHANNELS = {1: ("Y",), 2: ("R", "G"), 3: ("R", "G", "B")}
FILE_PATTERN = re.compile(r"^(?P<layer>[a-z_]+)_(?P<index>\d{5})\.(?P<ext>png|exr)$")


def write_exr(path: str, array: np.ndarray) -> None:
  array = np.asarray(array, dtype=np.float32)
  if array.ndim == 2:
    array = array[..., None]
  names = FLOAT_CHANNELS.get(array.shape[-1])
  if names is None:
    raise ValueError(f"write_exr: 1-3 channels supported, got shape {array.shape}")
  header = {"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage}
  channels = {name: np.ascontiguousarray(array[..., i]) for i, name in enumerate(names)}
  with OpenEXR.File(header, channels) as exr:
    exr.write(path)


def read_exr(path: str) -> np.ndarray:
  with OpenEXR.File(str(path), separate_channels=True) as exr:
    channels = exr.channels()
    for names in FLOAT_CHANNELS.values():
      if set(names) == set(channels):
        return np.stack([np.asarray(channels[n].pixels, dtype=np.float32) for n in names], axis=-1)
  raise ValueError(f"{path}: unexpected channels {sorted(channels)}")


def write_image_dict(data: Mapping[str, np.ndarray], output_dir, max_write_threads: int = 4) -> list[str]:
  """Write every layer of `data` ({layer: (frames, H, W, C)}) into `output_dir`; returns the file names."""
  del max_write_threads  # kept for Kubric signature compatibility
  os.makedirs(output_dir, exist_ok=True)
  written = []
  for layer, frames in data.items():
    frames = np.asarray(frames)
    if frames.ndim != 4:
      raise ValueError(f"write_image_dict: {layer!r} must have shape (frames, H, W, C), got {frames.shape}")
    for index, image in enumerate(frames):
      if layer == "rgba" or frames.dtype == np.uint8:
        name = f"{layer}_{index:05d}.png"
        iio.imwrite(os.path.join(output_dir, name), image.astype(np.uint8))
      elif layer == "segmentation" or np.issubdtype(frames.dtype, np.integer):
        if image.max(initial=0) > 65535 or image.min(initial=0) < 0:
          raise ValueError(f"write_image_dict: {layer!r} ids must be in [0, 65535]")
        name = f"{layer}_{index:05d}.png"
        iio.imwrite(os.path.join(output_dir, name), image[..., 0].astype(np.uint16))
      else:
        name = f"{layer}_{index:05d}.exr"
        write_exr(os.path.join(output_dir, name), image)
      written.append(name)
  return written


def read_image_dict(folder) -> dict[str, np.ndarray]:
  """Every per-frame layer in a scene folder, stacked as {layer: (frames, H, W, C)} with the written dtypes."""
  files: dict[str, dict[int, str]] = {}
  for name in sorted(os.listdir(folder)):
    match = FILE_PATTERN.match(name)
    if match:
      files.setdefault(match["layer"], {})[int(match["index"])] = name
  data = {}
  for layer, by_index in files.items():
    if sorted(by_index) != list(range(len(by_index))):
      raise ValueError(f"{folder}: frames of {layer!r} are not numbered 0..{len(by_index) - 1}")
    frames = []
    for index in range(len(by_index)):
      path = os.path.join(folder, by_index[index])
      if path.endswith(".exr"):
        frames.append(read_exr(path))
      else:
        image = iio.imread(path)
        frames.append(image[..., None].astype(np.int32) if image.ndim == 2 else image)
    data[layer] = np.stack(frames)
  return data
