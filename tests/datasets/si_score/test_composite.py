"""Every image honours its factors, checked on its own mask; composite and full-3D modes agree."""
import numpy as np
import pytest

from kubricgen.datasets.si_score import composite, cutouts, full3d
from tests.datasets.si_score.small_library import SmallLibrary

W = 96


def box_of(mask):
  rows, cols = np.nonzero(mask[..., 0] > 127)
  return cols.min(), rows.min(), cols.max() + 1, rows.max() + 1


def orientation(mask):
  """Angle (degrees, counter-clockwise as seen in the image) of the mask's principal axis."""
  rows, cols = np.nonzero(mask[..., 0] > 127)
  x, y = cols - cols.mean(), -(rows - rows.mean())  # y up
  cov = np.cov(np.stack([x, y]))
  values, vectors = np.linalg.eigh(cov)
  major = vectors[:, np.argmax(values)]
  return np.degrees(np.arctan2(major[1], major[0])) % 180


def bar_cutout(width=40, height=12):
  cutout = np.zeros((height, width, 4), np.uint8)
  cutout[..., 0] = 200
  cutout[..., 3] = 255
  return cutout


@pytest.mark.parametrize("x, y, area", [(0.5, 0.5, 0.2), (0.35, 0.7, 0.1), (0.8, 0.3, 0.05), (0.5, 0.5, 0.25)])
def test_location_and_area_are_the_masks_box_centre_and_size(x, y, area):
  result = composite.composite(bar_cutout(), np.zeros((W, W, 3), np.uint8), x, y, area, 0)
  x0, y0, x1, y1 = box_of(result.mask)
  assert abs((x0 + x1) / 2 - x * W) <= 1 and abs((y0 + y1) / 2 - y * W) <= 1
  assert (x1 - x0) * (y1 - y0) == pytest.approx(area * W * W, rel=0.05)
  assert result.pct_inside_image == 1.0


def test_rotation_is_counter_clockwise_and_keeps_the_area():
  upright = composite.composite(bar_cutout(), np.zeros((W, W, 3), np.uint8), 0.5, 0.5, 0.1, 0)
  for angle in (21, 41, 121):
    turned = composite.composite(bar_cutout(), np.zeros((W, W, 3), np.uint8), 0.5, 0.5, 0.1, angle)
    assert orientation(turned.mask) == pytest.approx(angle, abs=2)
    assert (turned.mask > 127).sum() == pytest.approx((upright.mask > 127).sum(), rel=0.05)
  assert orientation(upright.mask) == pytest.approx(0, abs=1) or orientation(upright.mask) == pytest.approx(180, abs=1)


def test_pct_inside_image_falls_towards_the_border():
  values = [composite.composite(bar_cutout(), np.zeros((W, W, 3), np.uint8), x, 0.5, 0.2, 0).pct_inside_image
            for x in (0.5, 0.8, 0.9, 1.0)]
  assert values[0] == 1.0 and values[0] >= values[1] > values[2] > values[3]
  assert values[3] == pytest.approx(0.5, abs=0.05)  # centred on the right edge: half inside


def test_composite_and_full3d_agree_on_factor_semantics(tmp_path):
  library = SmallLibrary()
  pose = cutouts.Pose(azimuth=20.0, elevation=20.0)
  cutout = cutouts.render_cutout(library, "teapot_test", pose, resolution=2 * W, samples=4, cache_dir=str(tmp_path))
  points = [(0.5, 0.5, 0.2, 0.0), (0.3, 0.7, 0.1, 0.0), (0.6, 0.4, 0.3, 41.0), (0.5, 0.5, 0.5, 121.0)]
  background = np.full((W, W, 3), 40, np.uint8)
  rendered = full3d.render_images(library, cutout, [background] * len(points), points, W, samples=4)
  for (x, y, area, rotation), result in zip(points, rendered):
    pasted = composite.composite(cutout.rgba, background, x, y, area, rotation, key=cutout.key)
    a, b = pasted.mask[..., 0] > 127, result.mask[..., 0] > 127
    iou = (a & b).sum() / (a | b).sum()
    assert iou > 0.85, ((x, y, area, rotation), iou)
    box_a, box_b = np.array(box_of(pasted.mask)), np.array(box_of(result.mask))
    assert np.abs(box_a - box_b).max() <= 2, (box_a, box_b)
    assert result.pct_inside_image == pasted.pct_inside_image
  # The cut-out cache holds the render: a second call renders nothing and returns the same pixels.
  again = cutouts.render_cutout(library, "teapot_test", pose, resolution=2 * W, samples=4, cache_dir=str(tmp_path))
  np.testing.assert_array_equal(again.rgba, cutout.rgba)


def test_cutout_cache_key_covers_what_shapes_the_pixels(monkeypatch):
  class Library:
    def __init__(self, digest):
      self.digest = digest

    def asset_digest(self, asset_id):
      return f"{asset_id}:{self.digest}"

  pose = cutouts.Pose(azimuth=20.0, elevation=10.0)
  key = cutouts.cache_key(Library("a"), "mug", pose, 64, 16)
  assert key == cutouts.cache_key(Library("a"), "mug", pose, 64, 16)  # stable, no paths or times in it
  assert key != cutouts.cache_key(Library("b"), "mug", pose, 64, 16)  # the asset's content
  assert key != cutouts.cache_key(Library("a"), "mug", cutouts.Pose(20.0, 11.0), 64, 16)
  assert key != cutouts.cache_key(Library("a"), "mug", pose, 64, 32)  # renderer settings
  monkeypatch.setattr(cutouts, "LIGHTS", cutouts.LIGHTS[:1])
  assert key != cutouts.cache_key(Library("a"), "mug", pose, 64, 16)  # lighting


def entry_without_digest(rgba):
  import io
  from PIL import Image
  buffer = io.BytesIO()
  Image.fromarray(rgba, "RGBA").save(buffer, format="PNG")
  return buffer.getvalue()


def test_a_damaged_cutout_cache_entry_is_deleted_and_rendered_again(tmp_path, caplog):
  """Each kind of damage to a cache entry: the next render logs it, renders again and stores a good entry; the
  pixels are the clean render's. A pickle crafted to run code is just bytes that do not decode."""
  import logging
  import pickle

  class RunsCode:
    def __reduce__(self):
      return (open, (str(tmp_path / "ran"), "w"))

  library, pose = SmallLibrary(), cutouts.Pose(azimuth=30.0, elevation=10.0)
  clean = cutouts.render_cutout(library, "cube_test", pose, resolution=48, samples=2, cache_dir=str(tmp_path))
  (entry,) = [p for p in tmp_path.iterdir() if p.suffix == ".png"]
  good = entry.read_bytes()
  assert cutouts.decode_entry(good, str(entry)).shape == (48, 48, 4)
  wrong_pixels = cutouts.decode_entry(good, str(entry)).copy()
  wrong_pixels[24, 24, 0] ^= 1
  damages = {
      "flipped byte": bytes(b ^ 1 if i == len(good) // 2 else b for i, b in enumerate(good)),
      "truncated": good[:len(good) // 3],
      "empty": b"",
      "no digest": entry_without_digest(cutouts.decode_entry(good, str(entry))),
      "digest of other pixels": _swap_digest(good, wrong_pixels),
      "a pickle that would run code": pickle.dumps(RunsCode()),
  }
  for name, data in damages.items():
    entry.write_bytes(data)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="kubricgen.datasets.si_score.cutouts"):
      again = cutouts.render_cutout(library, "cube_test", pose, resolution=48, samples=2, cache_dir=str(tmp_path))
    assert "rendering it again" in caplog.text and entry.name in caplog.text, name
    np.testing.assert_array_equal(again.rgba, clean.rgba, err_msg=name)
    assert entry.read_bytes() == good, name  # healed: the entry a clean render stores
  assert not (tmp_path / "ran").exists()


def _swap_digest(good, other_pixels):
  """An entry with `good`'s pixels but the digest of `other_pixels`."""
  import io
  from PIL import Image, PngImagePlugin
  info = PngImagePlugin.PngInfo()
  info.add_text(cutouts.DIGEST_KEY, cutouts.pixel_digest(other_pixels))
  buffer = io.BytesIO()
  Image.open(io.BytesIO(good)).save(buffer, format="PNG", pnginfo=info)
  return buffer.getvalue()
