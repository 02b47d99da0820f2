"""Backgrounds: the bundled set, SI-Score's square crop, folders, HDRI maps, and refusals."""
import json

import numpy as np
import pytest
from PIL import Image

from kubricgen.assets import AssetError, BackgroundLibrary, IntegrityError, UnknownAssetError, hdri, locations
from kubricgen.assets.backgrounds import square_crop


def test_bundled_set_has_at_least_eight_backgrounds_that_load_square():
  library = BackgroundLibrary.default()
  assert len(library.ids) >= 8
  for background_id in library.ids:
    image = library.load(background_id, 32)
    assert image.shape == (32, 32, 3) and image.dtype == np.uint8
    assert image.std() > 1.0, background_id  # not a flat fill
  first = library.load(library.ids[0], 32)
  first[:] = 0  # callers get their own copy; the cached image is untouched
  assert library.load(library.ids[0], 32).std() > 1.0
  assert library.version.startswith("backgrounds@")
  with pytest.raises(UnknownAssetError, match="unknown background"):
    library.load("nowhere", 32)


def quadrants(height, width):
  image = np.zeros((height, width, 3), dtype=np.uint8)
  image[: height // 2, : width // 2] = (255, 0, 0)
  image[: height // 2, width // 2:] = (0, 255, 0)
  image[height // 2:, : width // 2] = (0, 0, 255)
  image[height // 2:, width // 2:] = (255, 255, 255)
  return image


def test_square_crop_is_the_largest_top_left_square_resized():
  wide = quadrants(100, 300)  # the square is the left 100 columns: red above blue
  crop = square_crop(wide, 10)
  assert crop.shape == (10, 10, 3)
  assert tuple(crop[0, 0]) == (255, 0, 0) and tuple(crop[-1, 0]) == (0, 0, 255)
  assert tuple(crop[0, -1]) == (255, 0, 0)  # the green half is cropped away
  tall = quadrants(300, 100)  # the square is the top 100 rows: red and green
  crop = square_crop(tall, 10)
  assert tuple(crop[0, 0]) == (255, 0, 0) and tuple(crop[0, -1]) == (0, 255, 0)
  assert tuple(crop[-1, 0]) == (255, 0, 0)
  with pytest.raises(ValueError):
    square_crop(wide, 0)


def test_folder_of_images_and_hdri(tmp_path):
  Image.fromarray(quadrants(40, 60)).save(tmp_path / "wall.png")
  Image.fromarray(quadrants(50, 50)).save(tmp_path / "floor.jpg", quality=95)
  sky = np.zeros((32, 64, 3), dtype=np.float32)
  sky[:16] = (2.0, 3.0, 6.0)    # bright blue sky above the horizon
  sky[16:] = (0.3, 0.2, 0.1)    # dark ground below
  hdri.write_radiance(tmp_path / "outdoor.hdr", sky)
  (tmp_path / "notes.txt").write_text("ignored")
  library = BackgroundLibrary.from_folder(tmp_path)
  assert library.ids == ["floor", "outdoor", "wall"]
  assert tuple(library.load("wall", 8)[0, 0]) == (255, 0, 0)
  assert np.allclose(hdri.read_radiance(tmp_path / "outdoor.hdr"), sky, rtol=0.01)
  view = library.load("outdoor", 16)
  assert view[2].mean(0)[2] > view[2].mean(0)[0]  # sky (top rows) is blue
  assert view[-2].mean() < view[2].mean()          # the ground is darker
  assert library.is_hdri("outdoor") and not library.is_hdri("wall")
  assert library.environment_path("outdoor").name == "outdoor.hdr"
  with pytest.raises(AssetError, match="not an HDRI"):
    library.environment_path("wall")
  (tmp_path / "broken.png").write_bytes(b"not a png")
  with pytest.raises(AssetError, match="cannot read"):
    BackgroundLibrary.from_folder(tmp_path).load("broken", 8)
  Image.fromarray(quadrants(8, 8)).save(tmp_path / "wall.jpg")
  with pytest.raises(AssetError, match="share a name"):
    BackgroundLibrary.from_folder(tmp_path)
  (tmp_path / "empty").mkdir()
  with pytest.raises(AssetError, match="no images"):
    BackgroundLibrary.from_folder(tmp_path / "empty")


def test_a_tampered_bundled_image_is_refused(tmp_path):
  folder = tmp_path / "bg"
  folder.mkdir()
  manifest = json.loads((locations.bundled_dir() / "backgrounds" / "manifest.json").read_text())
  first = manifest["assets"][0]
  source = locations.bundled_dir() / "backgrounds" / first["render_file"]
  data = bytearray(source.read_bytes())
  data[len(data) // 2] ^= 0xFF
  (folder / first["render_file"]).write_bytes(bytes(data))
  manifest["assets"] = [first]
  (folder / "manifest.json").write_text(json.dumps(manifest))
  library = BackgroundLibrary.from_manifest(folder / "manifest.json")
  with pytest.raises(IntegrityError, match="sha256 mismatch"):
    library.load(first["id"], 16)


def test_libraries_combine_without_clashes(tmp_path):
  Image.fromarray(quadrants(20, 20)).save(tmp_path / "meadow.png")
  bundled = BackgroundLibrary.default()
  with pytest.raises(AssetError, match="in both libraries"):
    bundled + BackgroundLibrary.from_folder(tmp_path)
  (tmp_path / "meadow.png").rename(tmp_path / "mine.png")
  both = bundled + BackgroundLibrary.from_folder(tmp_path)
  assert "mine" in both and len(both) == len(bundled) + 1


def test_exr_environment_maps_load_like_hdr(tmp_path):
  import OpenEXR
  sky = np.zeros((16, 32, 3), dtype=np.float32)
  sky[:8] = (1.0, 2.0, 4.0)
  sky[8:] = (0.2, 0.1, 0.05)
  channels = {c: np.ascontiguousarray(sky[..., i]) for i, c in enumerate("RGB")}
  with OpenEXR.File({"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage}, channels) as exr:
    exr.write(str(tmp_path / "studio.exr"))
  assert np.allclose(hdri.read(tmp_path / "studio.exr"), sky)
  view = BackgroundLibrary.from_folder(tmp_path).load("studio", 16)
  assert view[1].mean(0)[2] > view[1].mean(0)[0] and view[-2].mean() < view[1].mean()
  (tmp_path / "studio.exr").write_bytes(b"not an exr")
  with pytest.raises(AssetError, match="cannot read EXR"):
    BackgroundLibrary.from_folder(tmp_path).load("studio", 16)


def test_procedural_backgrounds_render_in_blender_once_and_are_cached(fresh_cache):
  library = BackgroundLibrary.procedural(kinds=["brick_wall"], seeds=[3], size=32, samples=2)
  assert library.ids == ["brick_wall-3"]
  image = library.load("brick_wall-3", 16)
  assert image.shape == (16, 16, 3) and image.std() > 2  # bricks and mortar, not a flat colour
  path = library.path("brick_wall-3")
  stamp = path.stat().st_mtime_ns
  again = BackgroundLibrary.procedural(kinds=["brick_wall"], seeds=[3], size=32, samples=2)
  assert again.path("brick_wall-3") == path and path.stat().st_mtime_ns == stamp  # not rendered again
  with pytest.raises(AssetError, match="unknown procedural background"):
    BackgroundLibrary.procedural(kinds=["volcano"])


def test_folder_version_follows_content_not_times(tmp_path):
  import os
  import shutil
  folder = tmp_path / "walls"
  folder.mkdir()
  Image.fromarray(quadrants(40, 60)).save(folder / "wall.png")
  Image.fromarray(quadrants(50, 50)).save(folder / "floor.png")
  version = BackgroundLibrary.from_folder(folder).version
  copy = tmp_path / "checkout" / "walls"  # a fresh checkout: same bytes, other times
  shutil.copytree(folder, copy)
  for path in copy.iterdir():
    os.utime(path, (1_000_000, 1_000_000))
  assert BackgroundLibrary.from_folder(copy).version == version
  Image.fromarray(255 - quadrants(40, 60)).save(copy / "wall.png")
  assert BackgroundLibrary.from_folder(copy).version != version
