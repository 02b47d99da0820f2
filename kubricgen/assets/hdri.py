"""High-dynamic-range environment maps (.hdr Radiance RGBE, .exr OpenEXR): reading, tone mapping, and a perspective
view of an equirectangular map for use as a flat background.
"""
from __future__ import annotations

import re

import numpy as np

from kubricgen.assets.errors import AssetError
from kubricgen.scene.color import linear_to_srgb

HDRI_SUFFIXES = (".hdr", ".exr")


def read_radiance(path) -> np.ndarray:
  """float32 (H, W, 3) linear RGB from a Radiance .hdr file (flat or run-length encoded scanlines)."""
  with open(path, "rb") as handle:
    data = handle.read()
  header_end = data.find(b"\n\n")
  if not data.startswith((b"#?RADIANCE", b"#?RGBE")) or header_end < 0:
    raise AssetError(f"{path}: not a Radiance .hdr file")
  line_end = data.find(b"\n", header_end + 2)
  match = re.match(rb"-Y (\d+) \+X (\d+)", data[header_end + 2:line_end])
  if not match:
    raise AssetError(f"{path}: unsupported .hdr orientation (expected '-Y H +X W')")
  height, width = int(match.group(1)), int(match.group(2))
  body = np.frombuffer(data, dtype=np.uint8, offset=line_end + 1)
  pixels = np.empty((height, width, 4), dtype=np.uint8)
  position = 0
  try:
    for row in range(height):
      if 8 <= width < 32768 and body[position] == 2 and body[position + 1] == 2 and body[position + 2] < 128:
        position += 4
        for channel in range(4):
          column = 0
          while column < width:
            count = int(body[position])
            position += 1
            if count > 128:
              count -= 128
              pixels[row, column:column + count, channel] = body[position]
              position += 1
            else:
              pixels[row, column:column + count, channel] = body[position:position + count]
              position += count
            column += count
      else:
        pixels[row] = body[position:position + 4 * width].reshape(width, 4)
        position += 4 * width
  except (IndexError, ValueError):
    raise AssetError(f"{path}: truncated .hdr data") from None
  exponent = pixels[..., 3:4].astype(np.int32)
  scale = np.where(exponent > 0, np.ldexp(1.0, exponent - 136), 0.0)
  return (pixels[..., :3].astype(np.float64) * scale).astype(np.float32)


def read_exr(path) -> np.ndarray:
  import OpenEXR  # pylint: disable=import-outside-toplevel
  try:
    with OpenEXR.File(str(path), separate_channels=True) as exr:
      channels = exr.parts[0].channels
      names = list(channels)
      pick = [next((n for n in names if n.split(".")[-1] == c), None) for c in "RGB"]
      if None in pick:
        raise AssetError(f"{path}: EXR has no R, G, B channels (has {names})")
      return np.stack([np.asarray(channels[n].pixels, dtype=np.float32) for n in pick], -1)
  except AssetError:
    raise
  except Exception as error:  # OpenEXR raises RuntimeError/OSError variants
    raise AssetError(f"{path}: cannot read EXR: {error}") from None


def read(path) -> np.ndarray:
  return read_exr(path) if str(path).lower().endswith(".exr") else read_radiance(path)


def write_radiance(path, image: np.ndarray) -> None:
  """Write float RGB as a flat (uncompressed) Radiance .hdr file."""
  image = np.asarray(image, dtype=np.float64)
  brightest = image.max(-1)
  mantissa, exponent = np.frexp(brightest)
  scale = np.where(brightest > 1e-32, mantissa * 256.0 / np.maximum(brightest, 1e-32), 0)
  rgbe = np.zeros(image.shape[:2] + (4,), dtype=np.uint8)
  rgbe[..., :3] = np.clip(image * scale[..., None], 0, 255).astype(np.uint8)
  rgbe[..., 3] = np.where(brightest > 1e-32, exponent + 128, 0).astype(np.uint8)
  header = f"#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n-Y {image.shape[0]} +X {image.shape[1]}\n".encode()
  with open(path, "wb") as handle:
    handle.write(header + rgbe.tobytes())


def tone_map(image: np.ndarray, exposure: float | None = None) -> np.ndarray:
  """Linear HDR -> sRGB uint8 (Reinhard on luminance, exposure from the log-average by default)."""
  image = np.maximum(np.asarray(image, dtype=np.float64), 0)
  luminance = image @ np.array([0.2126, 0.7152, 0.0722])
  if exposure is None:
    exposure = 0.18 / max(float(np.exp(np.mean(np.log(luminance + 1e-6)))), 1e-6)
  scaled = image * exposure
  mapped = scaled / (1 + (luminance * exposure)[..., None])
  return (linear_to_srgb(mapped) * 255 + 0.5).astype(np.uint8)


def perspective_view(equirect: np.ndarray, size: int, yaw_degrees: float = 0.0, pitch_degrees: float = 0.0,
                     fov_degrees: float = 90.0) -> np.ndarray:
  """A square pinhole view (nearest-neighbour) into an equirectangular map; yaw 0 looks at the map's centre."""
  height, width = equirect.shape[:2]
  half = np.tan(np.radians(fov_degrees) / 2)
  grid = (np.arange(size) + 0.5) / size * 2 - 1
  x, y = np.meshgrid(grid * half, -grid * half)
  directions = np.stack([x, np.ones_like(x), y], -1)
  pitch, yaw = np.radians(pitch_degrees), np.radians(yaw_degrees)
  rotate_x = np.array([[1, 0, 0], [0, np.cos(pitch), -np.sin(pitch)], [0, np.sin(pitch), np.cos(pitch)]])
  rotate_z = np.array([[np.cos(yaw), -np.sin(yaw), 0], [np.sin(yaw), np.cos(yaw), 0], [0, 0, 1]])
  directions = directions @ (rotate_z @ rotate_x).T
  directions /= np.linalg.norm(directions, axis=-1, keepdims=True)
  longitude = np.arctan2(directions[..., 0], directions[..., 1])
  latitude = np.arcsin(np.clip(directions[..., 2], -1, 1))
  column = ((longitude / (2 * np.pi) + 0.5) * width).astype(int) % width
  row = np.clip(((0.5 - latitude / np.pi) * height).astype(int), 0, height - 1)
  return equirect[row, column]
