"""Per-frame image files of a scene folder, in one of three file formats, and the reader that undoes each.

`write_image_dict(data, folder, file_format=...)` (a run's `--output_format` flag picks the default):

  exr32 (default)  lossless. rgba_00000.png uint8 RGBA; segmentation_00000.png uint16 instance ids;
                   <layer>_00000.exr float32 single-part OpenEXR, ZIP compressed, channels Y (1 channel), R, G (2) or
                   R, G, B (3), for depth, z, normal, object_coordinates, forward_flow and backward_flow.
  exr16            as exr32 with half-float EXRs: each value rounded to the nearest half float (relative error
                   <= 2**-11 above 6.1e-5, absolute <= 2**-25 below; inf and NaN kept). Finite values beyond
                   +-65504 do not fit and are refused.
  kubric           Kubric's files, readable by Kubric's readers (`kb.read_png`, `kb.read_tiff`, MOVi's TFDS builder):
                   rgba_00000.png uint8 RGBA; segmentation_00000.png 8-bit palette PNG (ids 0..255);
                   depth_00000.tiff and z_00000.tiff float32 TIFF (deflate), values unchanged; 16-bit PNGs
                   (Sub-filtered) for normal_00000.png, uint16 RGB, n = v / 65535 * 2 - 1, for
                   object_coordinates_00000.png, uint16 RGB, c = v / 65535, and for forward_flow_00000.png and
                   backward_flow_00000.png, uint16 RGB (third channel 0) in Kubric's convention: (delta_row,
                   delta_column) pixels, backward flow the motion from the previous frame to this one (the negative
                   of ours), scaled per scene, f = v / 65535 * (max - min) + min, with {"forward_flow": {"min",
                   "max"}, "backward_flow": {...}} in data_ranges.json. Other float layers (1, 3 or 4 channels) are
                   scaled the same way under their own name in data_ranges.json. Values are rounded to the nearest
                   step: error <= half a step (1/65535 for normals, 0.5/65535 for object coordinates,
                   (max - min) / 131070 for flows).

File numbers count rendered frames from 0 (file 00000 is the first rendered frame), as in Kubric.
`read_image_dict` reads any of the three back to the same layers, dtypes and units: rgba uint8, segmentation int32,
every float layer float32 in our conventions (flow (dx, dy) pixels, x right, y down, towards the next / previous
frame's position).
"""
from __future__ import annotations

import os
import re
from typing import Mapping

import imageio.v3 as iio
import numpy as np
import OpenEXR

from kubricgen.output import kubric_io
from kubricgen.output.metadata import read_json, write_json

FILE_FORMATS = ("exr32", "exr16", "kubric")
DEFAULT_FORMAT = "exr32"
FLOAT_CHANNELS = {1: ("Y",), 2: ("R", "G"), 3: ("R", "G", "B")}
FILE_PATTERN = re.compile(r"^(?P<layer>[a-z_]+)_(?P<index>\d{5})\.(?P<ext>png|exr|tiff)$")
DATA_RANGES = "data_ranges.json"  # Kubric's name for the per-scene ranges of scaled layers
HALF_MAX = 65504.0
KUBRIC_TIFF_LAYERS = ("depth", "z")
KUBRIC_FLOW_LAYERS = ("forward_flow", "backward_flow")
UINT16_STEPS = 65535


def write_exr(path: str, array: np.ndarray, half: bool = False) -> None:
  """Write an (H, W) or (H, W, C) array, C in 1..3, as a single-part ZIP-compressed OpenEXR file: float32 pixels,
  or half floats with `half=True` (values as numpy's float16 cast rounds them). ValueError for other shapes."""
  array = np.asarray(array, dtype=np.float16 if half else np.float32)
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
  """A file of `write_exr` as an (H, W, C) float32 array (half floats converted exactly)."""
  with OpenEXR.File(str(path), separate_channels=True) as exr:
    channels = exr.channels()
    for names in FLOAT_CHANNELS.values():
      if set(names) == set(channels):
        return np.stack([np.asarray(channels[n].pixels, dtype=np.float32) for n in names], axis=-1)
  raise ValueError(f"{path}: unexpected channels {sorted(channels)}")


def _run_format() -> str:
  from kubricgen.worker import session  # pylint: disable=import-outside-toplevel
  run = session.current()
  chosen = getattr(run.flags, "output_format", None) if run is not None else None
  return chosen or DEFAULT_FORMAT


def _record_format(output_dir, file_format: str) -> None:
  """Note the format in the run's metadata.json (`output_format`) when writing into the run's output folder."""
  from kubricgen.worker import session  # pylint: disable=import-outside-toplevel
  run = session.current()
  if run is not None and os.path.abspath(output_dir) == os.path.abspath(run.output_dir):
    run.extra_metadata["output_format"] = file_format


def write_image_dict(data: Mapping[str, np.ndarray], output_dir, max_write_threads: int = 4, *,
                     file_format: str | None = None) -> list[str]:
  """Write every layer of `data` ({layer: (frames, H, W, C) array}) into `output_dir`, one file per layer and frame.

  `file_format`: "exr32", "exr16" or "kubric" (module docstring); None takes the run's `--output_format` inside a
  run, else "exr32". uint8 layers (and "rgba") are PNGs, integer layers (and "segmentation") id PNGs, float layers
  as the format says. The kubric format scales flows over all frames given, so write a scene's frames in one call.
  Returns the names of the files written (data_ranges.json excluded).

  Raises ValueError (one line): an unknown format, a layer not shaped (frames, H, W, C), ids outside [0, 65535]
  (outside [0, 255] for kubric's palette PNGs), finite values beyond +-65504 for exr16, non-finite values in a
  scaled kubric layer, or a 2-channel float layer other than flow for kubric.
  """
  del max_write_threads  # kept for Kubric signature compatibility
  file_format = _run_format() if file_format is None else file_format
  if file_format not in FILE_FORMATS:
    raise ValueError(f"write_image_dict: unknown file_format {file_format!r} (expected one of "
                     f"{', '.join(FILE_FORMATS)})")
  layers = {}
  for layer, frames in data.items():
    frames = np.asarray(frames)
    if frames.ndim != 4:
      raise ValueError(f"write_image_dict: {layer!r} must have shape (frames, H, W, C), got {frames.shape}")
    layers[layer] = frames
  os.makedirs(output_dir, exist_ok=True)
  write = _write_kubric_layer if file_format == "kubric" else _write_exr_layer
  written, ranges = [], {}
  for layer, frames in layers.items():
    written += write(layer, frames, output_dir, half=file_format == "exr16", ranges=ranges)
  if ranges:
    path = os.path.join(output_dir, DATA_RANGES)
    write_json({**(read_json(path) if os.path.isfile(path) else {}), **ranges}, path)
  _record_format(output_dir, file_format)
  return written


def _check_ids(layer: str, frames: np.ndarray, top: int) -> None:
  if frames.size and (frames.max() > top or frames.min() < 0):
    raise ValueError(f"write_image_dict: {layer!r} ids must be in [0, {top}], got [{frames.min()}, {frames.max()}]")


def _write_exr_layer(layer, frames, output_dir, half, ranges) -> list[str]:
  del ranges
  names = []
  if not (layer == "rgba" or frames.dtype == np.uint8
          or layer == "segmentation" or np.issubdtype(frames.dtype, np.integer)):
    if half:
      finite = frames[np.isfinite(frames)]
      if finite.size and np.abs(finite).max() > HALF_MAX:
        raise ValueError(f"write_image_dict: {layer!r} has finite values beyond the half-float range "
                         f"(|x| <= {HALF_MAX:g}, got {np.abs(finite).max():g}); use file_format='exr32'")
    for index, image in enumerate(frames):
      names.append(f"{layer}_{index:05d}.exr")
      write_exr(os.path.join(output_dir, names[-1]), image, half=half)
    return names
  if not (layer == "rgba" or frames.dtype == np.uint8):
    _check_ids(layer, frames, 65535)
  for index, image in enumerate(frames):
    names.append(f"{layer}_{index:05d}.png")
    if layer == "rgba" or frames.dtype == np.uint8:
      # pypng, not Pillow: measured 18% fewer bytes on rendered frames (no PNG filter suits noisy renders better)
      kubric_io.write_png(image.astype(np.uint8), os.path.join(output_dir, names[-1]))
    else:
      iio.imwrite(os.path.join(output_dir, names[-1]), image[..., 0].astype(np.uint16))
  return names


def write_png16(image: np.ndarray, path: str) -> None:
  """Write a uint16 (H, W, C) image, C in 1..4, as a 16-bit PNG with every row Sub-filtered (2 channels padded with
  a zero third one, as Kubric pads them). Any PNG reader reads it (pypng, so Kubric's `read_png`, included); the
  filter makes smooth 16-bit layers ~6x smaller than pypng's unfiltered rows (object coordinates at 224x224: 38 KB
  against 236 KB)."""
  import imagecodecs  # pylint: disable=import-outside-toplevel
  if image.shape[-1] == 2:
    image = np.concatenate([image, np.zeros_like(image[..., :1])], axis=-1)
  encoded = imagecodecs.png_encode(np.ascontiguousarray(image[..., 0] if image.shape[-1] == 1 else image),
                                   filter=imagecodecs.PNG.FILTER.SUB)
  with open(path, "wb") as handle:
    handle.write(encoded)


def _quantize(values: np.ndarray, low: float, high: float) -> np.ndarray:
  """round((values - low) / (high - low) * 65535) as uint16, computed in float64 (zeros when high == low)."""
  if high <= low:
    return np.zeros(values.shape, np.uint16)
  scaled = (values.astype(np.float64) - low) / (high - low) * UINT16_STEPS
  return np.clip(np.rint(scaled), 0, UINT16_STEPS).astype(np.uint16)


def _write_kubric_layer(layer, frames, output_dir, half, ranges) -> list[str]:
  del half
  path = lambda index, ext: os.path.join(output_dir, f"{layer}_{index:05d}.{ext}")  # noqa: E731
  if layer == "rgba" or frames.dtype == np.uint8:
    for index, image in enumerate(frames):
      kubric_io.write_png(image.astype(np.uint8), path(index, "png"))
    return [f"{layer}_{i:05d}.png" for i in range(len(frames))]
  if layer == "segmentation" or np.issubdtype(frames.dtype, np.integer):
    _check_ids(layer, frames, 255 if layer == "segmentation" else 65535)
    palette = kubric_io.default_palette(int(frames.max(initial=0)) + 1)
    for index, image in enumerate(frames):
      if layer == "segmentation":
        kubric_io.write_palette_png(image, path(index, "png"), palette=palette)
      else:
        write_png16(image.astype(np.uint16), path(index, "png"))
    return [f"{layer}_{i:05d}.png" for i in range(len(frames))]
  if layer in KUBRIC_TIFF_LAYERS:
    for index, image in enumerate(frames):
      kubric_io.write_tiff(image.astype(np.float32), path(index, "tiff"), compression="zlib")
    return [f"{layer}_{i:05d}.tiff" for i in range(len(frames))]
  if layer == "normal":
    stored = _quantize(np.clip(frames, -1.0, 1.0), -1.0, 1.0)
  elif layer == "object_coordinates":
    stored = _quantize(np.clip(frames, 0.0, 1.0), 0.0, 1.0)
  else:
    if frames.shape[-1] == 2 and layer not in KUBRIC_FLOW_LAYERS:
      raise ValueError(f"write_image_dict: {layer!r}: a 2-channel float layer other than flow has no Kubric file "
                       "form; use file_format='exr32'")
    if layer == "forward_flow":
      frames = frames[..., ::-1]  # (dx, dy) -> Kubric's (delta_row, delta_column)
    elif layer == "backward_flow":
      frames = -frames[..., ::-1]  # Kubric's backward flow: previous frame -> this one
    if not np.isfinite(frames).all():
      raise ValueError(f"write_image_dict: {layer!r} has non-finite values, which a scaled PNG cannot hold; use "
                       "file_format='exr32'")
    low, high = (float(frames.min()), float(frames.max())) if frames.size else (0.0, 0.0)
    ranges[layer] = {"min": low, "max": high}
    stored = _quantize(frames, low, high)
  for index, image in enumerate(stored):
    write_png16(image, path(index, "png"))
  return [f"{layer}_{i:05d}.png" for i in range(len(frames))]


def _read_png_layer(layer: str, path: str, folder, data_ranges) -> np.ndarray:
  if layer == "rgba":
    return iio.imread(path)
  if layer == "segmentation":
    image = kubric_io.read_png(path)  # pypng gives a palette PNG's indices (Pillow and imagecodecs give colours)
  else:
    import imagecodecs  # pylint: disable=import-outside-toplevel  # 16-bit colour: Pillow reads it as 8 bit
    with open(path, "rb") as handle:
      image = imagecodecs.png_decode(handle.read())
    image = image[..., None] if image.ndim == 2 else image
  if layer == "segmentation" or image.dtype == np.uint8 or (
      image.shape[-1] == 1 and layer not in data_ranges and layer not in ("normal", "object_coordinates")):
    return image.astype(np.int32) if image.shape[-1] == 1 else image
  steps = image.astype(np.float64) / UINT16_STEPS
  if layer == "normal":
    return (steps * 2 - 1).astype(np.float32)
  if layer == "object_coordinates":
    return steps.astype(np.float32)
  if layer not in data_ranges:
    raise ValueError(f"{folder}: {os.path.basename(path)} is a scaled PNG but {DATA_RANGES} has no range for "
                     f"{layer!r}")
  low, high = data_ranges[layer]["min"], data_ranges[layer]["max"]
  values = steps * (high - low) + low
  if layer == "forward_flow":
    values = values[..., 1::-1]  # Kubric's (delta_row, delta_column) -> (dx, dy)
  elif layer == "backward_flow":
    values = -values[..., 1::-1]
  return values.astype(np.float32)


def read_image_dict(folder) -> dict[str, np.ndarray]:
  """Every per-frame layer in a scene folder of any format, stacked as {layer: (frames, H, W, C)}: rgba uint8,
  segmentation (and other id layers) int32, float layers float32 in the units of docs/metadata.md (the kubric
  format's scaling undone with data_ranges.json).

  Raises ValueError: a layer's frames not numbered 0..N-1, an EXR with unexpected channels, a scaled PNG without
  its range in data_ranges.json."""
  files: dict[str, dict[int, str]] = {}
  for name in sorted(os.listdir(folder)):
    match = FILE_PATTERN.match(name)
    if match:
      files.setdefault(match["layer"], {})[int(match["index"])] = name
  ranges_path = os.path.join(folder, DATA_RANGES)
  data_ranges = read_json(ranges_path) if os.path.isfile(ranges_path) else {}
  data = {}
  for layer, by_index in files.items():
    if sorted(by_index) != list(range(len(by_index))):
      raise ValueError(f"{folder}: frames of {layer!r} are not numbered 0..{len(by_index) - 1}")
    frames = []
    for index in range(len(by_index)):
      path = os.path.join(folder, by_index[index])
      if path.endswith(".exr"):
        frames.append(read_exr(path))
      elif path.endswith(".tiff"):
        frames.append(kubric_io.read_tiff(path).astype(np.float32))
      else:
        frames.append(_read_png_layer(layer, path, folder, data_ranges))
    data[layer] = np.stack(frames)
  return data
