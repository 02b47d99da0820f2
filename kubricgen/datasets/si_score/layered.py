"""Layered composites for the occlusion and clutter configs: several cut-outs (and plain bars) pasted in depth order
on a background photo, with each instance's whole silhouette (amodal mask) and the topmost instance per pixel.

Pasting, not a 3D render: the backgrounds are photographs with no geometry to receive a shadow or to stand on, so a
3D render would add a shadow catcher of arbitrary placement; pasting keeps SI-Score's look, gives exact per-instance
masks, and lets an occluder be slid to a pixel-exact occluded share. Depth order is the paste order.

Conventions: images (H, W, 3) uint8 sRGB; alphas (H, W) uint8 coverage 0..255; an instance covers a pixel where its
alpha is > 127; `segmentation` (H, W) uint8 holds the id of the topmost instance covering each pixel (0: none).
"""
from __future__ import annotations

import dataclasses

import numpy as np
from PIL import Image

from kubricgen.datasets.si_score import composite as composite_mode

BAR_COLOUR = (128, 128, 128)  # the plain occluder: mid-grey in sRGB
# Object occluders grow (canvas area x the target's) until they can hide enough, first as they are, then turned by
# 90 degrees: a thin occluder (a banana over a tall flowerpot) hides more of a tall target standing upright.
OCCLUDER_SCALES = (1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 9.0, 16.0, 25.0)
OCCLUDER_ROTATIONS = (0.0, 90.0)


@dataclasses.dataclass
class Layer:
  """One pasted instance: `straight` a PIL RGBA image (straight alpha), its top-left corner in the image (may be
  negative), and its instance id (>= 1)."""
  straight: Image.Image
  left: int
  top: int
  instance: int

  def alpha(self, width: int, height: int) -> np.ndarray:
    """(height, width) uint8: this layer's coverage over the whole image (the amodal mask)."""
    full = np.zeros((height, width), np.uint8)
    canvas = np.asarray(self.straight.getchannel("A"))
    x0, y0 = max(self.left, 0), max(self.top, 0)
    x1, y1 = min(self.left + canvas.shape[1], width), min(self.top + canvas.shape[0], height)
    if x1 > x0 and y1 > y0:
      full[y0:y1, x0:x1] = canvas[y0 - self.top:y1 - self.top, x0 - self.left:x1 - self.left]
    return full


@dataclasses.dataclass
class Layered:
  image: np.ndarray  # (H, W, 3) uint8
  segmentation: np.ndarray  # (H, W) uint8 topmost instance id
  amodal: dict  # instance id -> (H, W) uint8 whole coverage
  visible: dict  # instance id -> (H, W) uint8 coverage left after the layers in front (alpha x prod(1 - alpha))

  def visible_fraction(self, instance: int) -> float:
    """|segmentation == instance| / |amodal > 127|: the share of the instance's pixels that are topmost."""
    whole = int((self.amodal[instance] > 127).sum())
    return float((self.segmentation == instance).sum() / whole) if whole else 0.0


def cutout_layer(cutout: np.ndarray, key: str, x: float, y: float, area: float, instance: int, width: int,
                 height: int) -> tuple[Layer, composite_mode.Placement]:
  """A cut-out (h, w, 4) uint8 scaled to `area` (canvas area / image area) with its canvas centre at (x, y)
  (fractions of the image from its top-left), as composite mode places it."""
  placement = composite_mode.place(cutout, x, y, area, 0.0, width, height, key=key)
  return Layer(placement.transformed.straight, placement.left, placement.top, instance), placement


def bar_layer(x0: int, x1: int, height: int, instance: int) -> Layer:
  """A plain opaque bar covering image columns [x0, x1) over the full height."""
  bar = Image.new("RGBA", (max(x1 - x0, 1), height), (*BAR_COLOUR, 255))
  return Layer(bar, x0, 0, instance)


def stack(background: np.ndarray, layers: list[Layer]) -> Layered:
  """Paste `layers` back to front on `background` (PIL's uint8 alpha paste, as composite mode)."""
  height, width = background.shape[:2]
  pasted = Image.fromarray(np.ascontiguousarray(background[..., :3]))
  segmentation = np.zeros((height, width), np.uint8)
  amodal, remaining = {}, {}
  for layer in layers:
    pasted.paste(layer.straight, (layer.left, layer.top), layer.straight)
    alpha = layer.alpha(width, height)
    amodal[layer.instance] = alpha
    cover = alpha.astype(np.float32) / 255
    for other in remaining:
      remaining[other] *= 1 - cover
    remaining[layer.instance] = cover
    segmentation[alpha > 127] = layer.instance
  visible = {k: np.clip(v * 255 + 0.5, 0, 255).astype(np.uint8) for k, v in remaining.items()}
  return Layered(np.array(pasted), segmentation, amodal, visible)


def _hidden_counts(target: np.ndarray, occluder: np.ndarray, top: int) -> tuple[np.ndarray, np.ndarray]:
  """For every left offset at which the occluder (h, w) bool, placed with its top row at `top`, overlaps the
  target's (H, W) bool mask: (lefts, number of target pixels under the occluder)."""
  height, width = target.shape
  h, w = occluder.shape
  r0, r1 = max(top, 0), min(top + h, height)
  lefts = np.arange(-w + 1, width)
  counts = np.zeros(len(lefts), np.int64)
  if r1 <= r0:
    return lefts, counts
  rows_t = target[r0:r1].astype(np.int64)
  rows_o = occluder[r0 - top:r1 - top].astype(np.int64)
  for i, left in enumerate(lefts):
    x0, x1 = max(left, 0), min(left + w, width)
    counts[i] = (rows_t[:, x0:x1] * rows_o[:, x0 - left:x1 - left]).sum()
  return lefts, counts


def bar_for(target: np.ndarray, level: float, side: str) -> tuple[int, int]:
  """Image columns [x0, x1) of a full-height bar that hides the share of `target` ((H, W) bool) nearest `level`,
  entering from `side` ("left" or "right"); its outer edge sits 10% of the width beyond the target."""
  height, width = target.shape
  columns = target.sum(0)
  total = columns.sum()
  xs = np.nonzero(columns)[0]
  margin = int(round(0.1 * width))
  if side == "left":
    hidden = np.concatenate([[0], np.cumsum(columns)]) / total  # hidden[c]: columns [0, c) covered
    edge = int(np.argmin(np.abs(hidden - level)))
    return max(xs[0] - margin, 0), edge
  hidden = np.concatenate([np.cumsum(columns[::-1])[::-1], [0]]) / total  # hidden[c]: columns [c, W) covered
  edge = int(np.argmin(np.abs(hidden - level)))
  return edge, min(xs[-1] + 1 + margin, width)


def _centroid_row(mask: np.ndarray) -> float:
  rows = np.nonzero(mask)[0]
  return float(rows.mean())


def occluder_placement(target: np.ndarray, occluder_cutout: np.ndarray, key: str, level: float, side: str,
                       target_area: float, width: int, height: int, tolerance: float):
  """(area, rotation, left, top) for an object occluder: the smallest OCCLUDER_SCALES x `target_area` (canvas area /
  image area; above 1 the occluder is larger than the image), each tried in OCCLUDER_ROTATIONS (degrees,
  counter-clockwise), at which sliding it in horizontally from `side`, its mask's centroid row on the target's,
  hides a share of `target` ((H, W) bool) within `tolerance` of `level`, at the offset nearest `level`. Raises
  ValueError if nothing gets within 2x the tolerance."""
  total = int(target.sum())
  target_row = _centroid_row(target)
  best = None
  for scale in OCCLUDER_SCALES:
    for rotation in OCCLUDER_ROTATIONS:
      area = target_area * scale
      mask = np.asarray(composite_mode.scaled(occluder_cutout, area, width, height, key=key, rotation=rotation)
                        .straight.getchannel("A")) > 127
      top = int(round(target_row - _centroid_row(mask)))
      lefts, counts = _hidden_counts(target, mask, top)
      shares = counts / total
      peak = int(np.argmax(shares))
      part = slice(0, peak + 1) if side == "left" else slice(peak, len(shares))
      index = part.start + int(np.argmin(np.abs(shares[part] - level)))
      error = abs(shares[index] - level)
      if best is None or error < best[0]:
        best = (error, area, rotation, int(lefts[index]), top, shares[index])
      if error <= tolerance:
        return best[1:5]
  if best[0] > 2 * tolerance:
    raise ValueError(f"no placement of the occluder hides {level:g} of the object (closest: {best[5]:.3f}, at "
                     f"{best[1] / target_area:g}x the object's area)")
  return best[1:5]
