"""From Blender's multilayer EXR frames to kubricgen's ground-truth layers (numpy, documented conventions).

Layers returned per frame (H = height, W = width):
  rgba                uint8  (H, W, 4)  sRGB colour, straight (un-premultiplied) alpha
  depth               float32 (H, W, 1) distance from the camera centre along each pixel's ray, metres; inf = no hit
  z                   float32 (H, W, 1) planar depth along the camera's view axis, metres; inf = no hit
  segmentation        int32  (H, W, 1)  instance id: 0 background, i = scene.instances[i - 1]
  normal              float32 (H, W, 3) unit surface normal in world coordinates; 0 where nothing was hit
  object_coordinates  float32 (H, W, 3) position inside the object's bounding box, each axis in [0, 1]
  forward_flow        float32 (H, W, 2) (dx, dy) pixels to where this point is in the next frame (x right, y down)
  backward_flow       float32 (H, W, 2) (dx, dy) pixels to where this point was in the previous frame
"""
from __future__ import annotations

import contextlib
import tempfile

import numpy as np
import OpenEXR

from kubricgen.console import output_to
from kubricgen.scene.color import linear_to_srgb

LAYER = "ViewLayer"  # the colour view layer (Blender's default name)
DATA_LAYER = "data"  # the view layer of the data passes: 1 sample per pixel, through the pixel centre
BACKGROUND_Z = 1e9  # Cycles writes 1e10 where a ray hits nothing


def read_exr(path: str) -> dict[str, np.ndarray]:
  """All channels of a (multi-part) EXR file, keyed by full channel name.

  Raises:
    OSError: the file does not read, or reads only in part (e.g. Blender wrote it to a full disk): one line with
      OpenEXR's own message. Its bindings print such messages (measured: a truncated file gave "Warning: Exception
      raised reading pixel data ..." on stdout and pixels that were not the file's, with no exception), so every
      message the reader writes counts as a failure.
  """
  import io  # pylint: disable=import-outside-toplevel
  channels: dict[str, np.ndarray] = {}
  failure = None
  printed = io.StringIO()  # what the bindings print through Python's sys.stdout/sys.stderr
  with tempfile.TemporaryFile(mode="w+b") as messages:  # what C code writes to the file descriptors
    try:
      with output_to(messages), contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
        with OpenEXR.File(str(path), separate_channels=True) as exr:
          for part in exr.parts:
            for name, channel in part.channels.items():
              channels[name] = np.asarray(channel.pixels, dtype=np.float32)
    except Exception as error:  # pylint: disable=broad-except  # OpenEXR raises RuntimeError/OSError variants
      failure = f"{type(error).__name__}: {str(error)[:200]}"
    messages.seek(0)
    said = (messages.read().decode(errors="replace") + printed.getvalue()).strip().splitlines()
  if said or failure:
    detail = said[0][-200:] if said else failure
    raise OSError(f"{path}: the rendered EXR does not read ({detail}); is the disk full?")
  return channels


def _stack(channels, pass_name, suffixes, layer=LAYER):
  return np.stack([channels[f"{layer}.{pass_name}.{s}"] for s in suffixes], axis=-1)


def color_layer(channels) -> np.ndarray:
  """Premultiplied linear RGBA -> straight-alpha sRGB uint8."""
  rgba = _stack(channels, "Combined", "RGBA")
  alpha = np.clip(rgba[..., 3:], 0.0, 1.0)
  rgb = np.divide(rgba[..., :3], alpha, out=np.zeros_like(rgba[..., :3]), where=alpha > 1e-6)
  out = np.concatenate([linear_to_srgb(rgb), alpha], axis=-1)
  return np.round(out * 255).astype(np.uint8)


def data_layers(channels, camera) -> dict[str, np.ndarray]:
  """Depth, segmentation, normals, object coordinates and flow from one frame's data layer.

  The data layer is rendered at 1 sample per pixel, and Cycles' first sample goes through the pixel centre, so all
  of a pixel's layers describe the first surface hit by the ray through its centre (the one its segmentation id
  names); they are never averages over the surfaces a pixel covers, whatever the colour samples."""
  layers: dict[str, np.ndarray] = {}
  prefix = f"{DATA_LAYER}."
  z = channels[f"{prefix}Depth.Z"][..., None]
  hit = z < BACKGROUND_Z
  z = np.where(hit, z, np.inf).astype(np.float32)
  layers["z"] = z
  layers["depth"] = camera.z_to_depth(z).astype(np.float32)
  layers["segmentation"] = np.rint(channels[f"{prefix}Object Index.X"])[..., None].astype(np.int32)
  if f"{prefix}Normal.X" in channels:
    normal = _stack(channels, "Normal", "XYZ", DATA_LAYER)
    norm = np.linalg.norm(normal, axis=-1, keepdims=True)
    layers["normal"] = np.divide(normal, norm, out=np.zeros_like(normal), where=norm > 1e-6).astype(np.float32)
  if f"{prefix}object_coordinates.R" in channels:
    layers["object_coordinates"] = np.clip(_stack(channels, "object_coordinates", "RGB", DATA_LAYER), 0,
                                           1).astype(np.float32)
  if f"{prefix}Vector.X" in channels:
    vector = _stack(channels, "Vector", "XYZW", DATA_LAYER)
    # Blender's vector pass, in pixels with y up: XY = previous position - current, ZW = current - next position.
    layers["backward_flow"] = (vector[..., 0:2] * np.array([1.0, -1.0], np.float32)).astype(np.float32)
    layers["forward_flow"] = (vector[..., 2:4] * np.array([-1.0, 1.0], np.float32)).astype(np.float32)
  return layers
