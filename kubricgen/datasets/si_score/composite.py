"""Composite mode: paste a rendered object cut-out onto a background photo at given SI-Score factors (numpy + PIL).

The cut-out is the object's canvas (its tight silhouette box, RGBA with straight alpha). Scaling and rotation are done
in premultiplied alpha (PIL's "RGBa" mode) so edges do not pick up dark fringes.
"""
from __future__ import annotations

import dataclasses
import functools

import numpy as np
from PIL import Image

from kubricgen.datasets.si_score import factors


@dataclasses.dataclass
class Composite:
  image: np.ndarray  # (H, W, 3) uint8
  mask: np.ndarray  # (H, W, 1) uint8 alpha coverage of the object, 0..255
  pct_inside_image: float
  box: tuple[float, float, float, float]  # transformed silhouette box (x0, y0, x1, y1), pixels, may leave the image


def canvas_size(cutout_shape, area: float, width: int, height: int) -> tuple[int, int]:
  """(w, h) in pixels of the canvas scaled so w * h = area * width * height (aspect kept, at least 1 pixel)."""
  ch, cw = cutout_shape[:2]
  scale = np.sqrt(area * width * height / (cw * ch))
  return max(1, int(round(cw * scale))), max(1, int(round(ch * scale)))


@functools.lru_cache(maxsize=256)
def _transformed(cutout_key, cutout_bytes: bytes, shape, size, rotation) -> tuple[np.ndarray, np.ndarray, tuple]:
  """Scaled and rotated cut-out: (premultiplied rgb float32, alpha float32 in [0,1], silhouette box in canvas px)."""
  del cutout_key
  image = Image.frombuffer("RGBA", (shape[1], shape[0]), cutout_bytes, "raw", "RGBA", 0, 1).convert("RGBa")
  image = image.resize(size, Image.BILINEAR, reducing_gap=2.0 if min(size) * 2 < min(shape[:2]) else None)
  if rotation % 360:
    image = image.rotate(rotation, resample=Image.BILINEAR, expand=True)
  premultiplied = np.asarray(image, dtype=np.float32)
  alpha = premultiplied[..., 3] / 255.0
  rows, cols = np.nonzero(alpha > 0)
  box = (cols.min(), rows.min(), cols.max() + 1, rows.max() + 1) if len(rows) else (0, 0, 0, 0)
  return premultiplied[..., :3], alpha, box


def transform(cutout: np.ndarray, area: float, rotation: float, width: int, height: int, key=None):
  size = canvas_size(cutout.shape, area, width, height)
  key = key if key is not None else id(cutout)
  return _transformed(key, np.ascontiguousarray(cutout).tobytes(), cutout.shape, size, float(rotation))


@dataclasses.dataclass
class Placement:
  """Where a transformed cut-out lands: its premultiplied pixels, top-left corner, silhouette box, share inside."""
  rgb: np.ndarray
  alpha: np.ndarray
  left: int
  top: int
  box: tuple[float, float, float, float]
  pct_inside_image: float


def place(cutout: np.ndarray, x: float, y: float, area: float, rotation: float, width: int, height: int,
          key=None) -> Placement:
  """Scale, rotate and position `cutout` per the factors (see `factors`' module docstring for the definitions)."""
  factors.validate(x, y, area, rotation)
  rgb, alpha, box = transform(cutout, area, rotation, width, height, key)
  th, tw = alpha.shape
  left = int(round(x * width - tw / 2))
  top = int(round(y * height - th / 2))
  bx0, by0, bx1, by1 = box[0] + left, box[1] + top, box[2] + left, box[3] + top
  box_area = max((bx1 - bx0) * (by1 - by0), 1)
  inside = max(0, min(bx1, width) - max(bx0, 0)) * max(0, min(by1, height) - max(by0, 0))
  return Placement(rgb, alpha, left, top, (float(bx0), float(by0), float(bx1), float(by1)), float(inside / box_area))


def composite(cutout: np.ndarray, background: np.ndarray, x: float, y: float, area: float, rotation: float,
              key=None) -> Composite:
  """Place `cutout` (RGBA canvas) on `background` (H, W, 3) with its canvas centre at (x, y) (normalised, top-left).

  `key` identifies the cut-out for caching its scaled/rotated versions (pass a stable id when compositing the same
  cut-out many times, e.g. over a location grid).
  """
  height, width = background.shape[:2]
  placed = place(cutout, x, y, area, rotation, width, height, key)
  th, tw = placed.alpha.shape
  left, top = placed.left, placed.top
  # Region of the image covered by the transformed canvas, clipped to the image.
  x0, y0, x1, y1 = max(left, 0), max(top, 0), min(left + tw, width), min(top + th, height)
  image = background.copy()
  mask = np.zeros((height, width, 1), np.uint8)
  if x1 > x0 and y1 > y0:
    a = placed.alpha[y0 - top:y1 - top, x0 - left:x1 - left, None]
    fg = placed.rgb[y0 - top:y1 - top, x0 - left:x1 - left]
    region = image[y0:y1, x0:x1].astype(np.float32)
    image[y0:y1, x0:x1] = np.clip(fg + region * (1 - a) + 0.5, 0, 255).astype(np.uint8)
    mask[y0:y1, x0:x1] = np.clip(a * 255 + 0.5, 0, 255).astype(np.uint8)
  return Composite(image=image, mask=mask, pct_inside_image=placed.pct_inside_image, box=placed.box)
