"""Composite mode: paste a rendered object cut-out onto a background photo at given SI-Score factors (numpy + PIL).

The cut-out is the object's canvas (its tight silhouette box, RGBA with straight alpha). Scaling and rotation are done
in premultiplied alpha (PIL's "RGBa" mode) so edges do not pick up dark fringes. A scaled and rotated cut-out is
cached (per cut-out `key`, size and angle), so pasting it again over a factor grid only blends the pixels under the
object's silhouette box, with PIL's uint8 alpha paste.
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
  """A scaled and rotated cut-out, ready to paste: the whole transformed canvas as a PIL image in straight alpha
  (RGBA: scaled and rotated in premultiplied alpha, then converted back once), its size and the silhouette box in
  canvas pixels. Float copies of the premultiplied canvas (`rgb`, `alpha`) are made only when asked for."""

  def __init__(self, source: np.ndarray, image: Image.Image):
    self.source = source  # the caller's cut-out array (identity check; kept alive so its id stays unique)
    self.premultiplied = image  # RGBa
    self.straight = image.convert("RGBA")
    box = image.getchannel(3).getbbox()  # the box of alpha > 0
    self.box = tuple(int(v) for v in box) if box else (0, 0, 0, 0)
    self.size = image.size  # (w, h)

  @functools.cached_property
  def rgb(self) -> np.ndarray:
    return np.asarray(self.premultiplied)[..., :3].astype(np.float32)

  @functools.cached_property
  def alpha(self) -> np.ndarray:
    return np.asarray(self.premultiplied)[..., 3].astype(np.float32) / 255.0

  def nbytes(self) -> int:
    extra = sum(self.__dict__[k].nbytes for k in ("rgb", "alpha") if k in self.__dict__)
    return 8 * self.size[0] * self.size[1] + extra


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


def scaled(cutout: np.ndarray, area: float, width: int, height: int, key=None, rotation: float = 0.0
           ) -> _Transformed:
  """The cached `cutout` scaled so its canvas covers `area` x the image (any area > 0: above 1 the canvas is larger
  than the image, e.g. an occluder close to the camera), then rotated counter-clockwise by `rotation` degrees.
  `.straight` is a PIL RGBA image."""
  if not (np.isfinite(area) and area > 0):
    raise ValueError(f"a canvas area must be > 0, got {area}")
  return _transformed(cutout, canvas_size(cutout.shape, area, width, height), float(rotation), key)


def transform(cutout: np.ndarray, area: float, rotation: float, width: int, height: int, key=None):
  """Scaled and rotated cut-out: (premultiplied rgb float32, alpha float32 in [0,1], silhouette box in canvas px)."""
  entry = _transformed(cutout, canvas_size(cutout.shape, area, width, height), rotation, key)
  return entry.rgb, entry.alpha, entry.box


@dataclasses.dataclass
class Placement:
  """Where a transformed cut-out lands: the transformed cut-out, its top-left corner, silhouette box, share inside."""
  transformed: _Transformed
  left: int
  top: int
  box: tuple[float, float, float, float]
  pct_inside_image: float

  @property
  def rgb(self) -> np.ndarray:
    """(h, w, 3) float32 premultiplied colour of the transformed canvas."""
    return self.transformed.rgb

  @property
  def alpha(self) -> np.ndarray:
    """(h, w) float32 alpha in [0, 1] of the transformed canvas."""
    return self.transformed.alpha


def _place(entry: _Transformed, x: float, y: float, width: int, height: int) -> Placement:
  tw, th = entry.size
  left = int(round(x * width - tw / 2))
  top = int(round(y * height - th / 2))
  bx0, by0, bx1, by1 = entry.box[0] + left, entry.box[1] + top, entry.box[2] + left, entry.box[3] + top
  box_area = max((bx1 - bx0) * (by1 - by0), 1)
  inside = max(0, min(bx1, width) - max(bx0, 0)) * max(0, min(by1, height) - max(by0, 0))
  return Placement(entry, left, top, (float(bx0), float(by0), float(bx1), float(by1)),
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
  # Only pixels under the silhouette box change: outside it the cut-out is fully transparent. PIL blends in C on
  # uint8 (out = (fg * a + bg * (255 - a)) / 255, rounded), as si-score's own generator pastes.
  x0, y0, x1, y1 = (int(v) for v in placed.box)
  cx0, cy0, cx1, cy1 = max(x0, 0), max(y0, 0), min(x1, width), min(y1, height)
  mask = np.zeros((height, width, 1), np.uint8)
  if cx1 > cx0 and cy1 > cy0:
    pasted = Image.fromarray(np.ascontiguousarray(background[..., :3]))
    piece = entry.straight.crop((cx0 - placed.left, cy0 - placed.top, cx1 - placed.left, cy1 - placed.top))
    pasted.paste(piece, (cx0, cy0), piece)
    image = np.array(pasted)
    mask[cy0:cy1, cx0:cx1, 0] = np.asarray(piece.getchannel(3))
  else:
    image = background.copy()
  return Composite(image=image, mask=mask, pct_inside_image=placed.pct_inside_image, box=placed.box)
