"""Composite mode: paste a rendered object cut-out onto a background photo at given SI-Score factors (numpy + PIL).

The cut-out is the object's canvas (its tight silhouette box, RGBA with straight alpha). Scaling and rotation are done
in premultiplied alpha (PIL's "RGBa" mode) so edges do not pick up dark fringes. A scaled and rotated cut-out is
cached (per cut-out `key`, size and angle) with everything compositing needs, so pasting it again over a factor grid
only blends the pixels under the object's silhouette box.
"""
from __future__ import annotations

import collections
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


class _Transformed:
  """A scaled and rotated cut-out, ready to blend: its premultiplied RGBa pixels (uint8, the whole transformed canvas),
  the silhouette box in canvas pixels, and, inside that box only, premultiplied rgb and 1 - alpha (float32) and the
  uint8 coverage mask. Float copies of the whole canvas (`rgb`, `alpha`) are made only when asked for."""

  def __init__(self, source: np.ndarray, image: Image.Image):
    self.source = source  # the caller's cut-out array (identity check; kept alive so its id stays unique)
    self.pixels = np.asarray(image)  # (h, w, 4) uint8 premultiplied RGBa
    box = image.getchannel(3).getbbox()  # the box of alpha > 0
    self.box = tuple(int(v) for v in box) if box else (0, 0, 0, 0)
    inside = self.pixels[self.box[1]:self.box[3], self.box[0]:self.box[2]]
    a = inside[..., 3:].astype(np.float32) / 255.0
    self.rgb_in_box = inside[..., :3].astype(np.float32)
    self.keep_in_box = np.ascontiguousarray(np.broadcast_to(1 - a, self.rgb_in_box.shape))  # a broadcast multiply
    self.coverage_in_box = np.clip(a * 255 + 0.5, 0, 255).astype(np.uint8)                  # is 7x slower
    # False when premultiplied rgb <= alpha everywhere: a blend then never exceeds 255.5, so needs no clip.
    self.needs_clip = bool((inside[..., :3] > inside[..., 3:]).any())

  @functools.cached_property
  def rgb(self) -> np.ndarray:
    return self.pixels[..., :3].astype(np.float32)

  @functools.cached_property
  def alpha(self) -> np.ndarray:
    return self.pixels[..., 3].astype(np.float32) / 255.0

  def nbytes(self) -> int:
    extra = sum(self.__dict__[k].nbytes for k in ("rgb", "alpha") if k in self.__dict__)
    return self.pixels.nbytes + self.rgb_in_box.nbytes + self.keep_in_box.nbytes + self.coverage_in_box.nbytes + extra


CACHE_ENTRIES = 256
CACHE_BYTES = 256 << 20
_cache: collections.OrderedDict = collections.OrderedDict()
_cache_bytes = 0
_premultiplied: collections.OrderedDict = collections.OrderedDict()  # a few cut-outs as PIL RGBa images


def _source_image(cutout: np.ndarray, key) -> Image.Image:
  """`cutout` as a premultiplied PIL image, converted once per cut-out."""
  source_key = (key if key is not None else id(cutout), cutout.shape)
  cached = _premultiplied.get(source_key)
  if cached is not None and (cached[0] is cutout or (key is not None and np.array_equal(cached[0], cutout))):
    return cached[1]
  shape = cutout.shape
  image = Image.frombuffer("RGBA", (shape[1], shape[0]), np.ascontiguousarray(cutout), "raw", "RGBA", 0,
                           1).convert("RGBa")
  _premultiplied[source_key] = (cutout, image)
  while len(_premultiplied) > 8:
    _premultiplied.popitem(last=False)
  return image


def _make(cutout: np.ndarray, size: tuple[int, int], rotation: float, key) -> _Transformed:
  shape = cutout.shape
  image = _source_image(cutout, key).resize(size, Image.BILINEAR,
                                            reducing_gap=2.0 if min(size) * 2 < min(shape[:2]) else None)
  if rotation % 360:
    image = image.rotate(rotation, resample=Image.BILINEAR, expand=True)
  return _Transformed(cutout, image)


def _transformed(cutout: np.ndarray, size: tuple[int, int], rotation: float, key) -> _Transformed:
  """The cached transform of `cutout`. With a `key` the cut-out is identified by it (and checked to be the same
  pixels when a different array comes with the same key); without one, by the array object itself."""
  global _cache_bytes  # pylint: disable=global-statement
  cache_key = (key if key is not None else id(cutout), cutout.shape, size, float(rotation))
  entry = _cache.get(cache_key)
  if entry is not None and (entry.source is cutout or (key is not None and np.array_equal(entry.source, cutout))):
    _cache.move_to_end(cache_key)
    return entry
  entry = _make(cutout, size, float(rotation), key)
  if cache_key in _cache:
    _cache_bytes -= _cache.pop(cache_key).nbytes()
  _cache[cache_key] = entry
  _cache_bytes += entry.nbytes()
  while len(_cache) > CACHE_ENTRIES or (_cache_bytes > CACHE_BYTES and len(_cache) > 1):
    _cache_bytes -= _cache.popitem(last=False)[1].nbytes()
  return entry


def transform(cutout: np.ndarray, area: float, rotation: float, width: int, height: int, key=None):
  """Scaled and rotated cut-out: (premultiplied rgb float32, alpha float32 in [0,1], silhouette box in canvas px)."""
  entry = _transformed(cutout, canvas_size(cutout.shape, area, width, height), rotation, key)
  return entry.rgb, entry.alpha, entry.box


@dataclasses.dataclass
class Placement:
  """Where a transformed cut-out lands: its premultiplied pixels, top-left corner, silhouette box, share inside."""
  rgb: np.ndarray
  alpha: np.ndarray
  left: int
  top: int
  box: tuple[float, float, float, float]
  pct_inside_image: float


def _place(entry: _Transformed, x: float, y: float, width: int, height: int) -> Placement:
  th, tw = entry.alpha.shape
  left = int(round(x * width - tw / 2))
  top = int(round(y * height - th / 2))
  bx0, by0, bx1, by1 = entry.box[0] + left, entry.box[1] + top, entry.box[2] + left, entry.box[3] + top
  box_area = max((bx1 - bx0) * (by1 - by0), 1)
  inside = max(0, min(bx1, width) - max(bx0, 0)) * max(0, min(by1, height) - max(by0, 0))
  return Placement(entry.rgb, entry.alpha, left, top, (float(bx0), float(by0), float(bx1), float(by1)),
                   float(inside / box_area))


def place(cutout: np.ndarray, x: float, y: float, area: float, rotation: float, width: int, height: int,
          key=None) -> Placement:
  """Scale, rotate and position `cutout` per the factors (see `factors`' module docstring for the definitions)."""
  factors.validate(x, y, area, rotation)
  entry = _transformed(cutout, canvas_size(cutout.shape, area, width, height), rotation, key)
  return _place(entry, x, y, width, height)


def composite(cutout: np.ndarray, background: np.ndarray, x: float, y: float, area: float, rotation: float,
              key=None) -> Composite:
  """Place `cutout` (RGBA canvas) on `background` (H, W, 3) with its canvas centre at (x, y) (normalised, top-left).

  `key` identifies the cut-out for caching its scaled/rotated versions (pass a stable id when compositing the same
  cut-out many times, e.g. over a location grid; the cut-out must not be changed in place while it is in use).
  """
  height, width = background.shape[:2]
  factors.validate(x, y, area, rotation)
  entry = _transformed(cutout, canvas_size(cutout.shape, area, width, height), rotation, key)
  placed = _place(entry, x, y, width, height)
  # Only pixels under the silhouette box change: outside it the cut-out is fully transparent.
  x0, y0, x1, y1 = (int(v) for v in placed.box)
  cx0, cy0, cx1, cy1 = max(x0, 0), max(y0, 0), min(x1, width), min(y1, height)
  image = background.copy()
  mask = np.zeros((height, width, 1), np.uint8)
  if cx1 > cx0 and cy1 > cy0:
    inside = (slice(cy0 - y0, cy1 - y0), slice(cx0 - x0, cx1 - x0))
    blended = image[cy0:cy1, cx0:cx1].astype(np.float32)
    blended *= entry.keep_in_box[inside]
    blended += entry.rgb_in_box[inside]
    blended += 0.5
    if entry.needs_clip:
      np.clip(blended, 0, 255, out=blended)
    image[cy0:cy1, cx0:cx1] = blended  # truncates like astype(np.uint8)
    mask[cy0:cy1, cx0:cx1] = entry.coverage_in_box[inside]
  return Composite(image=image, mask=mask, pct_inside_image=placed.pct_inside_image, box=placed.box)
