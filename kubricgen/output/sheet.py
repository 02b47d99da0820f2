"""One contact-sheet layout for every picture kubricgen makes: a scene folder's layers (`output/preview.py`), SI-Score
examples (`datasets/si_score/preview.py`) and asset thumbnails (`assets/preview.py`).

A sheet is a grid of equal tiles with an optional title above it, a header over each column, a label left of each
row and caption lines under each tile. Callers mark their tiles (2D boxes, mask outlines) through `Sheet.origin`.
"""
from __future__ import annotations

import dataclasses
import textwrap
from typing import Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont

LINE = 12  # pixels per line of PIL's default bitmap font


def font(size: int | None = None):
  """PIL's default font: the bitmap one (size None), or the scalable one at `size` px (Pillow >= 10.1)."""
  if size is None:
    return ImageFont.load_default()
  try:
    return ImageFont.load_default(size=size)
  except TypeError:  # Pillow < 10.1
    return ImageFont.load_default()


@dataclasses.dataclass
class Sheet:
  """A laid-out sheet: the image, a drawing context on it, and where each tile sits."""
  image: Image.Image
  draw: ImageDraw.ImageDraw
  left: int  # x of column 0's tile
  top: int  # y of row 0's tile
  tile_width: int
  tile_height: int
  cell_width: int  # tile plus gap: the distance between columns
  cell_height: int  # tile plus caption and gap: the distance between rows

  def origin(self, row: int, column: int) -> tuple[int, int]:
    """The (x, y) pixel of the top-left corner of the tile at (row, column)."""
    return self.left + column * self.cell_width, self.top + row * self.cell_height


def grid_sheet(tiles: Sequence[Sequence[np.ndarray | None]], tile_size: int | tuple[int, int], *, title: str = "",
               column_labels: Sequence[str] = (), row_labels: Sequence[str] = (), row_label_width: int = 0,
               captions: Sequence[Sequence[Sequence[str]]] | None = None, caption_lines: int = 0, gap: int = 0,
               resample=Image.BILINEAR, label_font=None, row_font=None, background=(255, 255, 255)) -> Sheet:
  """Lay out `tiles` (rows of (H, W, 3) uint8 images, None for an empty cell), each resized to `tile_size` (width,
  height, or one int for squares), in a grid.

  Above the grid: `title` (wrapped to the grid's width), then `column_labels` (one per column). Left of each row:
  `row_labels[r]` (lines separated by newlines; the first in `row_font`) in a column `row_label_width` px wide. Under
  each tile: `caption_lines` lines of `captions[r][c]`. `gap` px separate the cells and frame the grid.
  """
  tile_w, tile_h = (tile_size, tile_size) if isinstance(tile_size, int) else tile_size
  columns = max((len(row) for row in tiles), default=0)
  label_font = label_font or font()
  width = row_label_width + gap + columns * (tile_w + gap)
  title_lines = textwrap.wrap(title, max(20, (width - 8) // 6)) if title else []  # the bitmap font: ~6 px a letter
  header = (4 + LINE * len(title_lines) if title_lines else 0) + (16 if column_labels else 0)
  cell_w, cell_h = tile_w + gap, tile_h + caption_lines * LINE + gap
  height = header + gap + len(tiles) * cell_h
  image = Image.new("RGB", (width, max(height, 1)), background)
  draw = ImageDraw.Draw(image)
  sheet = Sheet(image, draw, row_label_width + gap, header + gap, tile_w, tile_h, cell_w, cell_h)
  if title_lines:
    draw.text((4, 3), "\n".join(title_lines), fill=(0, 0, 0), spacing=2, font=label_font)
  for c, text in enumerate(column_labels):
    draw.text((sheet.left + c * cell_w + 4, header - 14), text, fill=(0, 0, 0), font=label_font)
  for r, row in enumerate(tiles):
    left, top = sheet.origin(r, 0)
    if r < len(row_labels):
      for line, text in enumerate(row_labels[r].split("\n")):
        draw.text((4, top + 4 + 14 * line), text, fill=(20, 20, 20) if line == 0 else (90, 90, 90),
                  font=(row_font or label_font) if line == 0 else label_font)
    for c, picture in enumerate(row):
      if picture is None:
        continue
      left, top = sheet.origin(r, c)
      tile = Image.fromarray(np.asarray(picture))
      if tile.size != (tile_w, tile_h):
        tile = tile.resize((tile_w, tile_h), resample)
      image.paste(tile.convert("RGB"), (left, top))
      lines = captions[r][c] if captions is not None else ()
      for line, text in enumerate(list(lines)[:caption_lines]):
        draw.text((left + 2, top + tile_h + 1 + LINE * line), text, fill=(0, 0, 0) if line == 0 else (60, 60, 60),
                  font=label_font)
  return sheet
