"""Thumbnails and contact sheets of assets, rendered with Blender (Cycles) one asset at a time.

`thumbnail(obj, size)` renders one normalised object on a light backdrop from a fixed three-quarter view (the same
view for every asset, so sheets compare like with like). `contact_sheet(groups, ...)` lays labelled thumbnails out
one row per group (a class, or a source), and `render_thumbnails` caches each image under the asset cache, keyed by
the asset's definition and the render settings.
"""
from __future__ import annotations

import hashlib
import io
import json

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from kubricgen.assets import atomic, locations

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


def _font(size: int):
  try:
    return ImageFont.load_default(size=size)
  except TypeError:  # Pillow < 10.1
    return ImageFont.load_default()


def contact_sheet(rows: list[tuple[str, list[tuple[str, np.ndarray]]]], tile: int) -> Image.Image:
  """A sheet with one row per (title, [(label, image), ...]); the title sits left of its row."""
  columns = max(len(items) for _, items in rows)
  title_width, label_height, pad = 190, 18, 6
  width = title_width + columns * (tile + pad) + pad
  height = len(rows) * (tile + label_height + pad) + pad
  sheet = Image.new("RGB", (width, height), (250, 250, 250))
  draw = ImageDraw.Draw(sheet)
  title_font, label_font = _font(15), _font(11)
  for r, (title, items) in enumerate(rows):
    top = pad + r * (tile + label_height + pad)
    for line, text in enumerate(title.split("\n")):
      draw.text((pad, top + tile // 2 - 14 + 18 * line), text, fill=(20, 20, 20) if line == 0 else (90, 90, 90),
                font=title_font if line == 0 else label_font)
    for c, (label, image) in enumerate(items):
      left = title_width + pad + c * (tile + pad)
      picture = Image.fromarray(image).resize((tile, tile), Image.LANCZOS) if image.shape[0] != tile else \
          Image.fromarray(image)
      sheet.paste(picture, (left, top))
      draw.text((left + 2, top + tile + 2), label[:int(tile / 6.2)], fill=(60, 60, 60), font=label_font)
  return sheet
