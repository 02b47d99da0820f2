"""Thumbnails and contact sheets of assets, rendered with Blender (Cycles) one asset at a time.

`thumbnail(obj, size)` renders one normalised object on a light backdrop from a fixed three-quarter view (the same
view for every asset, so sheets compare like with like). `contact_sheet(groups, ...)` lays labelled thumbnails out
one row per group (a class, or a source), and `cached_thumbnail` caches each image under the asset cache, keyed by
the asset's definition and the render settings.
"""
from __future__ import annotations

import hashlib
import io
import json

import numpy as np
from PIL import Image

from kubricgen import atomic
from kubricgen.assets import locations
from kubricgen.output.sheet import font as sheet_font
from kubricgen.output.sheet import grid_sheet

VIEW = (0.9, -2.6, 1.25)  # camera direction: a three-quarter view from the front (-Y), slightly above
BACKDROP = (0.82, 0.84, 0.86, 1.0)


def thumbnail(obj, size: int = 128, samples: int = 16, transparent: bool = False) -> np.ndarray:
  """RGB(A) uint8 image of one object (normalised, centred on the origin) seen from VIEW."""
  import kubricgen.scene as kbs  # pylint: disable=import-outside-toplevel
  from kubricgen.renderer.blender import Blender  # pylint: disable=import-outside-toplevel
  scene = kbs.Scene(resolution=(size, size), background=BACKDROP, ambient_illumination=(0.45, 0.45, 0.47, 1.0))
  obj.position = (0.0, 0.0, 0.0)
  scene += obj
  scene += kbs.DirectionalLight(name="key", position=(2.0, -3.0, 4.0), look_at=(0, 0, 0), intensity=2.6)
  scene += kbs.DirectionalLight(name="fill", position=(-3.0, -1.0, 1.5), look_at=(0, 0, 0), intensity=0.7)
  direction = np.asarray(VIEW) / np.linalg.norm(VIEW)
  low, high = obj.aabbox
  centre, radius = (low + high) / 2, float(np.linalg.norm(high - low) / 2)
  camera = kbs.PerspectiveCamera(name="camera", focal_length=40)
  half_fov = np.arctan(camera.sensor_width / 2 / camera.focal_length)
  camera.position = tuple(centre + direction * radius / np.sin(half_fov) * 1.02)  # the bounding sphere fills the view
  camera.look_at(tuple(centre))
  scene.camera = camera
  renderer = Blender(scene, samples_per_pixel=samples, use_denoising=samples >= 8, background_transparency=transparent,
                     engine="cycles")
  try:
    image = renderer.render_still(return_layers=["rgba"], progress=False)["rgba"]
  finally:
    renderer.close()
  return image if transparent else image[..., :3]


def cached_thumbnail(key: dict, make, size: int, samples: int) -> np.ndarray:
  """The cached thumbnail for `key` (a JSON-able description of the asset), rendering it with `make()` once."""
  digest = hashlib.sha256(json.dumps({**key, "size": size, "samples": samples, "view": VIEW},
                                     sort_keys=True, default=str).encode()).hexdigest()[:32]
  path = locations.cache_dir() / "thumbnails" / f"{digest}.png"
  if path.exists():
    return np.asarray(Image.open(path).convert("RGB"))
  image = thumbnail(make(), size, samples)
  buffer = io.BytesIO()
  Image.fromarray(image).save(buffer, format="PNG")
  atomic.write_bytes(path, buffer.getvalue())
  return image


def contact_sheet(rows: list[tuple[str, list[tuple[str, np.ndarray]]]], tile: int) -> Image.Image:
  """A sheet with one row per (title, [(label, image), ...]); the title (lines separated by newlines) sits left of
  its row, each label under its thumbnail."""
  tiles = [[image for _, image in items] for _, items in rows]
  captions = [[(label[:int(tile / 6.2)],) for label, _ in items] for _, items in rows]
  return grid_sheet(tiles, tile, row_labels=[title for title, _ in rows], row_label_width=190, captions=captions,
                    caption_lines=1, gap=6, resample=Image.LANCZOS, label_font=sheet_font(11),
                    row_font=sheet_font(15), background=(250, 250, 250)).image
