"""Contact sheets: every layer of a scene folder as a picture, one row per frame, one column per layer.

Depth uses inverse-depth grey, segmentation a fixed palette, normals and object coordinates their RGB mapping,
flow the usual colour wheel (hue = direction, saturation = magnitude relative to the largest motion). Rows are labelled
with the file index and scene frame; 2D boxes, when given, are outlined on the colour image.
"""
from __future__ import annotations

import colorsys

import numpy as np
from PIL import Image

from kubricgen.output.sheet import grid_sheet

COLUMNS = ("rgba", "depth", "segmentation", "normal", "object_coordinates", "forward_flow", "backward_flow")


def palette(count: int) -> np.ndarray:
  """Distinct colours for ids 0..count-1 (0 = black background); golden-ratio hues, deterministic."""
  colors = [(0, 0, 0)] + [colorsys.hsv_to_rgb((i * 0.618034) % 1, 0.75, 0.95) for i in range(count - 1)]
  return (np.asarray(colors) * 255).astype(np.uint8)


def hsv_to_rgb(h: np.ndarray, s: np.ndarray, v: np.ndarray) -> np.ndarray:
  """Vectorised HSV -> RGB, all in [0, 1]."""
  i = np.floor(h * 6).astype(int) % 6
  f = h * 6 - np.floor(h * 6)
  p, q, t = v * (1 - s), v * (1 - f * s), v * (1 - (1 - f) * s)
  table = np.stack([np.stack(c, -1) for c in ((v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q))])
  return np.take_along_axis(table, i[None, ..., None].repeat(3, -1), 0)[0]


def visualize(layer: str, image: np.ndarray, scale: dict) -> np.ndarray:
  """One layer of one frame -> RGB uint8."""
  if layer == "rgba":
    rgb, alpha = image[..., :3].astype(np.float32), image[..., 3:].astype(np.float32) / 255
    checker = ((np.indices(image.shape[:2]).sum(0) // 8) % 2 * 60 + 130)[..., None]
    return (rgb * alpha + checker * (1 - alpha)).astype(np.uint8)
  if layer in ("depth", "z"):
    depth = image[..., 0]
    finite = np.isfinite(depth) & (depth > 0)
    inverse = np.zeros_like(depth)
    inverse[finite] = 1 / depth[finite]
    low, high = scale.get(layer, (0, 1))
    grey = np.clip((inverse - low) / max(high - low, 1e-9), 0, 1) * 230 + 25 * finite
    return np.repeat(grey[..., None], 3, -1).astype(np.uint8)
  if layer == "segmentation":
    ids = image[..., 0].astype(np.int64)
    return palette(max(int(scale.get("segmentation", 1)) + 1, 2))[np.clip(ids, 0, None)]
  if layer == "normal":
    return ((image + 1) / 2 * 255).clip(0, 255).astype(np.uint8)
  if layer == "object_coordinates":
    return (image * 255).clip(0, 255).astype(np.uint8)
  if layer.endswith("flow"):
    dx, dy = image[..., 0], image[..., 1]
    magnitude = np.hypot(dx, dy) / max(scale.get("flow", 1.0), 1e-6)
    hue = (np.arctan2(-dy, dx) / (2 * np.pi)) % 1
    return (hsv_to_rgb(hue, np.clip(magnitude, 0, 1), np.ones_like(hue)) * 255).astype(np.uint8)
  raise ValueError(f"no visualisation for layer {layer!r}")


def contact_sheet(data: dict[str, np.ndarray], max_frames: int = 6, tile: int = 160,
                  frame_numbers: list[int] | None = None, boxes: dict[int, list] | None = None) -> Image.Image:
  """A labelled grid image of `data` ({layer: (frames, H, W, C)}): one row per shown frame, one column per layer.

  Rows are labelled with the file index (`#i`, as in `rgba_0000i.png`) and, given `frame_numbers` (the scene frame
  of each file), the scene frame. `boxes` ({segmentation id: per-frame pixel box (xmin, ymin, xmax, ymax) or None},
  e.g. metadata.json's `bboxes_2d`) are drawn on the rgba tiles in the instance's segmentation colour.
  """
  columns = [c for c in COLUMNS if c in data]
  if not columns:
    raise ValueError("contact_sheet: no known layers in data")
  frames = len(data[columns[0]])
  rows = sorted(set(np.linspace(0, frames - 1, min(frames, max_frames)).round().astype(int).tolist()))
  scale = {}
  for layer in ("depth", "z"):
    if layer in data:
      finite = data[layer][np.isfinite(data[layer]) & (data[layer] > 0)]
      scale[layer] = (float((1 / finite).min()), float((1 / finite).max())) if finite.size else (0, 1)
  count = int(data["segmentation"].max()) if "segmentation" in data else 0
  count = max([count] + [int(k) for k in (boxes or {})])
  scale["segmentation"] = count
  colors = palette(max(count + 1, 2))
  flows = [data[k] for k in ("forward_flow", "backward_flow") if k in data]
  scale["flow"] = float(max(np.abs(f).max() for f in flows)) if flows else 1.0
  height, width = data[columns[0]].shape[1:3]
  tile_w, tile_h = tile, max(1, round(tile * height / width))
  labels = [f"#{frame}" + (f"\nframe {frame_numbers[frame]}" if frame_numbers is not None and
                            frame < len(frame_numbers) else "") for frame in rows]
  tiles = [[visualize(layer, data[layer][frame], scale) for layer in columns] for frame in rows]
  sheet = grid_sheet(tiles, (tile_w, tile_h), column_labels=columns, row_labels=labels, row_label_width=64,
                     resample=Image.NEAREST)
  if boxes and "rgba" in columns:
    c = columns.index("rgba")
    for r, frame in enumerate(rows):
      left, top = sheet.origin(r, c)
      for instance, per_frame in boxes.items():
        box = per_frame[frame] if frame < len(per_frame) else None
        if box is not None:
          xmin, ymin, xmax, ymax = box
          sheet.draw.rectangle((left + xmin * tile_w / width, top + ymin * tile_h / height,
                                left + xmax * tile_w / width - 1, top + ymax * tile_h / height - 1),
                               outline=tuple(int(v) for v in colors[int(instance)]))
  return sheet.image
