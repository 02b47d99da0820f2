"""Preview contact sheets of built SI-Score configs: images with the object's mask outlined and factors captioned."""
from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw


def outline(mask: np.ndarray) -> np.ndarray:
  """Boolean edge pixels of a mask (> 127)."""
  inside = mask > 127
  edge = np.zeros_like(inside)
  edge[1:] |= inside[1:] != inside[:-1]
  edge[:, 1:] |= inside[:, 1:] != inside[:, :-1]
  return edge & inside


def contact_sheet(examples, class_names, columns: int = 8, tile: int = 128, title: str = "",
                  captions: str = "placement") -> Image.Image:
  """A grid of examples (dicts with numpy image/mask and factors) with mask outlines and captions (`captions`:
  "placement" = x, y, area, rotation; "pose" = azimuth, elevation)."""
  examples = list(examples)
  rows = max(1, -(-len(examples) // columns))
  caption_h, title_h = 24, 18
  sheet = Image.new("RGB", (columns * tile, title_h + rows * (tile + caption_h)), "white")
  draw = ImageDraw.Draw(sheet)
  draw.text((4, 3), title, fill=(0, 0, 0))
  for index, example in enumerate(examples):
    image = np.array(example["image"])
    mask = np.asarray(example["mask"])[..., 0]
    image[outline(mask)] = (255, 255, 0)
    picture = Image.fromarray(image).resize((tile, tile), Image.BILINEAR)
    column, row = index % columns, index // columns
    left, top = column * tile, title_h + row * (tile + caption_h)
    sheet.paste(picture, (left, top))
    cx, cy = float(example["x"]) * tile, float(example["y"]) * tile
    draw.line([(left + cx - 4, top + cy), (left + cx + 4, top + cy)], fill=(255, 0, 255))
    draw.line([(left + cx, top + cy - 4), (left + cx, top + cy + 4)], fill=(255, 0, 255))
    label = class_names[int(example["label"])]
    draw.text((left + 2, top + tile + 1), f"{label[:18]}", fill=(0, 0, 0))
    factors = (f"az{float(example['azimuth']):.0f} el{float(example['elevation']):.0f}" if captions == "pose" else
               f"x{float(example['x']):.2f} y{float(example['y']):.2f} a{float(example['area']):.2f} "
               f"r{float(example['rotation']):.0f}")
    draw.text((left + 2, top + tile + 12), factors, fill=(60, 60, 60))
  return sheet


def preview_viewpoint(builder, split: str, instances: int = 4) -> Image.Image:
  """The viewpoint config: one row per (instance, elevation), azimuth varying along the row, for `instances` object
  instances spread over the config (each on its first background)."""
  import tensorflow_datasets as tfds  # pylint: disable=import-outside-toplevel
  skip = {k: tfds.decode.SkipDecoding() for k in ("image", "mask")}
  index = builder.as_data_source(split=split, decoders=skip)
  rows = {}
  for i in range(len(index)):
    example = index[i]
    instance = example["object_instance"]
    rows.setdefault(instance, {}).setdefault(example["background"], []).append(
        (float(example["elevation"]), float(example["azimuth"]), i))
  chosen = list(rows)[::max(1, len(rows) // instances)][:instances]
  source = builder.as_data_source(split=split)
  picked = [i for instance in chosen for _, _, i in sorted(next(iter(rows[instance].values())))]
  azimuths = len({a for instance in chosen for _, a, _ in next(iter(rows[instance].values()))})
  names = builder.info.features["label"].names
  return contact_sheet([source[i] for i in picked], names, columns=max(1, azimuths), captions="pose",
                       title=f"{builder.info.full_name} ({split}, {len(index)} examples): each row one instance at "
                       "one elevation, azimuth varying along the row; yellow: mask outline")


def preview_dataset(version_dir: str, count: int = 32) -> Image.Image:
  """Contact sheet of `count` examples spread evenly over a built config (read with plain TFDS); for the viewpoint
  config, `preview_viewpoint`'s rows."""
  import tensorflow_datasets as tfds  # pylint: disable=import-outside-toplevel
  builder = tfds.builder_from_directory(version_dir)
  split = next(iter(builder.info.splits))
  if builder.info.config_name == "viewpoint":
    return preview_viewpoint(builder, split)
  source = builder.as_data_source(split=split)
  indices = np.linspace(0, len(source) - 1, min(count, len(source))).round().astype(int)
  examples = sorted((source[int(i)] for i in indices), key=lambda e: int(e["image_id"]))
  names = builder.info.features["label"].names
  return contact_sheet(examples, names, title=f"{builder.info.full_name} ({split}, {len(source)} examples; "
                       "yellow: mask outline, magenta: factor centre)")
