"""Preview contact sheets of built SI-Score configs: images with the object's mask outlined and factors captioned."""
from __future__ import annotations

import numpy as np
from PIL import Image

from kubricgen.datasets.si_score import schema
from kubricgen.output.sheet import grid_sheet


def outline(mask: np.ndarray) -> np.ndarray:
  """Boolean edge pixels of a mask (> 127)."""
  inside = mask > 127
  edge = np.zeros_like(inside)
  edge[1:] |= inside[1:] != inside[:-1]
  edge[:, 1:] |= inside[:, 1:] != inside[:, :-1]
  return edge & inside


def contact_sheet(examples, class_names, columns: int = 8, tile: int = 128, title: str = "",
                  captions="placement") -> Image.Image:
  """A grid of examples (dicts with numpy image/mask and factors) with mask outlines and captions. `captions`:
  "placement" (x, y, area, rotation), "pose" (azimuth, elevation) or a function example -> text. Where an example
  has an `amodal_mask`, the hidden part of the object's outline is drawn in cyan."""
  examples = list(examples)
  rows = max(1, -(-len(examples) // columns))
  tiles = [[None] * columns for _ in range(rows)]
  lines = [[()] * columns for _ in range(rows)]
  for index, example in enumerate(examples):
    if example is None:
      continue
    image = np.array(example["image"])
    mask = np.asarray(example["mask"])[..., 0]
    if "amodal_mask" in example:
      image[outline(np.asarray(example["amodal_mask"])[..., 0]) & ~(mask > 127)] = (0, 255, 255)
    image[outline(mask)] = (255, 255, 0)
    tiles[index // columns][index % columns] = image
    if callable(captions):
      factors = captions(example)
    elif captions == "pose":
      factors = f"az{float(example['azimuth']):.0f} el{float(example['elevation']):.0f}"
    else:
      factors = (f"x{float(example['x']):.2f} y{float(example['y']):.2f} a{float(example['area']):.2f} "
                 f"r{float(example['rotation']):.0f}")
    lines[index // columns][index % columns] = (class_names[int(example["label"])][:18], factors)
  sheet = grid_sheet(tiles, tile, title=title, captions=lines, caption_lines=2)
  for index, example in enumerate(examples):
    if example is not None:  # the object's centre, as a magenta cross
      left, top = sheet.origin(index // columns, index % columns)
      cx, cy = float(example["x"]) * tile, float(example["y"]) * tile
      sheet.draw.line([(left + cx - 4, top + cy), (left + cx + 4, top + cy)], fill=(255, 0, 255))
      sheet.draw.line([(left + cx, top + cy - 4), (left + cx, top + cy + 4)], fill=(255, 0, 255))
  return sheet.image


def _text(value) -> str:
  return value.decode() if isinstance(value, bytes) else str(value)


# Per 3D-factor config: (row of an example given the lighting's nominal direction (None for other configs): what
# stays fixed along a row, column order: the factor varying along it, caption, what a row shows). Rows are chosen
# for a few instances, each on its first background.
ROW_LAYOUTS = {
    "viewpoint": (lambda e, _: float(e["elevation"]), lambda e: float(e["azimuth"]), "pose",
                  "each row one instance at one elevation, azimuth varying along the row"),
    "lighting": (lambda e, nominal: "irradiance" if _direction(e) == nominal else
                 f"elevation {float(e['light_elevation']):g}",
                 lambda e: (float(e["light_irradiance"]), float(e["light_azimuth"])),
                 lambda e: (f"az{float(e['light_azimuth']):.0f} el{float(e['light_elevation']):.0f} "
                            f"{float(e['light_irradiance']):g}W/m2"),
                 "each row one instance: key-light azimuth at one elevation, or irradiance (dim to over-exposed)"),
    "occlusion": (lambda e, _: _text(e["occluder"]), lambda e: float(e["occlusion"]),
                  lambda e: f"{_text(e['occluder'])} {float(e['occlusion']):.2f} ({float(e['occluded_fraction']):.3f})",
                  "each row one instance and occluder, the hidden share growing along the row (measured in "
                  "brackets; cyan: hidden outline)"),
    "clutter": (lambda e, _: 0, lambda e: int(e["num_distractors"]),
                lambda e: f"n={int(e['num_distractors'])} visible {float(e['visible_fraction']):.2f}",
                "each row one instance, the number of distractors growing along the row"),
    "cue_conflict": (lambda e, _: 0, lambda e: _text(e["texture_instance"]), None,
                     "each row one shape instance wearing other classes' surfaces (caption: shape / surface)"),
}


def _direction(example) -> tuple[float, float]:
  return float(example["light_azimuth"]), float(example["light_elevation"])


def _nominal_direction(metadata) -> tuple[float, float]:
  """The lighting config's nominal direction: the (light_azimuth, light_elevation) seen with the most irradiances."""
  levels: dict = {}
  for example in metadata:
    levels.setdefault(_direction(example), set()).add(float(example["light_irradiance"]))
  return max(levels, key=lambda d: len(levels[d]))


def preview_rows(builder, split: str, instances: int = 4) -> Image.Image:
  """A 3D-factor config's preview: ROW_LAYOUTS' rows for `instances` object instances spread over the config (each
  on its first background), the factor varying along each row."""
  import tensorflow_datasets as tfds  # pylint: disable=import-outside-toplevel
  name = builder.info.config_name
  row_of, column_of, captions, shows = ROW_LAYOUTS[name]
  skip = {k: tfds.decode.SkipDecoding() for k in schema.IMAGE_FIELDS if k in builder.info.features}
  index = builder.as_data_source(split=split, decoders=skip)
  metadata = [index[i] for i in range(len(index))]
  nominal = _nominal_direction(metadata) if name == "lighting" else None
  rows: dict = {}
  for i, example in enumerate(metadata):
    instance, background = _text(example["object_instance"]), _text(example["background"])
    rows.setdefault(instance, {}).setdefault(background, {}).setdefault(row_of(example, nominal), []).append(
        (column_of(example), i))
  chosen = list(rows)[::max(1, len(rows) // instances)][:instances]
  picked_rows = []
  for instance in chosen:
    first = dict(next(iter(rows[instance].values())))
    shared = first.pop("none", []) if name == "occlusion" else []  # level 0 starts every occluder's row
    picked_rows += [sorted(shared + cells) for cells in first.values()]
  columns = max(len(r) for r in picked_rows)
  source = builder.as_data_source(split=split)
  names = builder.info.features["label"].names
  if captions is None:
    captions = lambda e: f"{names[int(e['label'])][:9]} / {names[int(e['texture_label'])][:9]}"
  picked = []
  for row in picked_rows:
    picked += [source[i] for _, i in row] + [None] * (columns - len(row))
  return contact_sheet(picked, names, columns=columns, captions=captions,
                       title=f"{builder.info.full_name} ({split}, {len(index)} examples): {shows}; yellow: mask outline")


def preview_dataset(version_dir: str, count: int = 32) -> Image.Image:
  """Contact sheet of `count` examples spread evenly over a built config (read with plain TFDS); for the 3D-factor
  configs, `preview_rows`."""
  import tensorflow_datasets as tfds  # pylint: disable=import-outside-toplevel
  builder = tfds.builder_from_directory(version_dir)
  split = next(iter(builder.info.splits))
  if builder.info.config_name in ROW_LAYOUTS:
    return preview_rows(builder, split)
  source = builder.as_data_source(split=split)
  indices = np.linspace(0, len(source) - 1, min(count, len(source))).round().astype(int)
  examples = sorted((source[int(i)] for i in indices), key=lambda e: int(e["image_id"]))
  names = builder.info.features["label"].names
  return contact_sheet(examples, names, title=f"{builder.info.full_name} ({split}, {len(source)} examples; "
                       "yellow: mask outline, magenta: factor centre)")
