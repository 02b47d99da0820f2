"""`kubricgen assets import`: a folder of user meshes becomes a checked manifest that simulates and renders;
re-running does no work; bad archives and escaping links are refused with nothing written."""
import json
import os
import subprocess
import zipfile

import numpy as np
import pytest

import kubricgen as kb
from kubricgen.assets import IntegrityError, ManifestSource, importer, manifest
from tests.conftest import kubricgen_command

OPTIONS = dict(vhacd_resolution=20000, thumbnail_size=32)


def run_cli(*args, env=None):
  return subprocess.run(kubricgen_command("assets", *args), capture_output=True, text=True, env=env, timeout=300)


@pytest.fixture
def imported(mesh_folder, tmp_path, cli_env):
  out = tmp_path / "lib" / "mine.json"
  result = run_cli("import", str(mesh_folder), "--out", str(out), "--class-name", "toy", "--units", "m",
                   "--vhacd-resolution", "20000", "--thumbnail-size", "32", env=cli_env)
  assert result.returncode == 0, result.stderr
  assert "3 imported, 0 unchanged" in result.stdout
  return out


def test_import_writes_a_checked_normalised_manifest(imported):
  source = ManifestSource.from_manifest(imported)
  assert source.ids == ["ball", "box", "ell"]
  for asset_id in source.ids:
    entry = source.entry(asset_id)
    assert entry.normalized and entry.collision_file and entry.thumbnail and entry.class_name == "toy"
    assert entry.mass_properties["mass"] > 0 and entry.mass_properties["density"] == 1000.0
    assert len(source.fetch(asset_id)) == len(entry.files)  # every file verified
    obj = source.create(asset_id)
    low, high = obj.bounds
    assert np.max((high - low) / 2) == pytest.approx(1.0, abs=1e-4)
  assert source.entry("box").scale == pytest.approx(0.1)  # real half-extent: the box is 0.2 m long
  assert source.entry("ell").metadata["collision_pieces"] >= 2  # concave: V-HACD split it
  assert source.entry("box").metadata["collision_pieces"] == 1


def test_rerunning_does_no_work_and_changes_are_picked_up(imported, mesh_folder, cli_env):
  before = imported.read_bytes()
  stamp = imported.stat().st_mtime_ns
  again = run_cli("import", str(mesh_folder), "--out", str(imported), "--class-name", "toy",
                  "--vhacd-resolution", "20000", "--thumbnail-size", "32", env=cli_env)
  assert again.returncode == 0 and "0 imported, 3 unchanged, 0 removed" in again.stdout
  assert imported.read_bytes() == before and imported.stat().st_mtime_ns == stamp
  import trimesh
  old_files = set((imported.parent / "mine" / "box").iterdir())
  trimesh.creation.box((0.3, 0.2, 0.05)).export(mesh_folder / "box.stl")
  (mesh_folder / "ball.ply").unlink()
  report = importer.import_folder(mesh_folder, imported, importer.ImportOptions(class_name="toy", **OPTIONS))
  assert (report.imported, report.unchanged, report.removed) == (["box"], ["ell"], ["ball"])
  assert not (imported.parent / "mine" / "ball").exists()
  assert set((imported.parent / "mine" / "box").iterdir()).isdisjoint(old_files)  # old versions deleted
  assert ManifestSource.from_manifest(imported).entry("box").scale == pytest.approx(0.15)


def test_imported_assets_fall_and_rest_on_a_floor_and_render(imported):
  from kubricgen.renderer.blender import Blender
  from kubricgen.simulator.pybullet import PyBullet
  source = ManifestSource.from_manifest(imported)
  scene = kb.Scene(resolution=(48, 48), frame_end=48)
  scene += kb.Cube(name="floor", scale=(10, 10, 0.1), position=(0, 0, -0.1), static=True)
  objects = []
  for index, asset_id in enumerate(source.ids):
    obj = source.create(asset_id, name=asset_id, position=(index * 1.5 - 1.5, 0, 1.5), scale=0.5)
    scene += obj
    objects.append(obj)
  scene += kb.DirectionalLight(position=(1, -1, 3), look_at=(0, 0, 0), intensity=3)
  scene.camera = kb.PerspectiveCamera(position=(0, -9, 4), look_at=(0, 0, 0.3))
  with PyBullet(scene) as simulator:
    _, collisions = simulator.run()
  assert {e["instances"][1] for e in collisions} | {e["instances"][0] for e in collisions} >= {"floor"}
  for obj in objects:
    low, _ = obj.aabbox
    assert -0.15 < low[2] < 0.3, (obj.name, low)       # resting on the floor's top (z = 0), not through it
    assert np.linalg.norm(obj.velocity) < 0.2, obj.name  # and at rest
  renderer = Blender(scene, samples_per_pixel=2, use_denoising=False)
  frame = renderer.render_still(frame=scene.frame_end, return_layers=["rgba", "segmentation"])
  ids = set(np.unique(frame["segmentation"]))
  assert {o.segmentation_id for o in objects} <= ids
  assert frame["rgba"][..., :3].std() > 5


def test_archives_import_and_escaping_archives_are_refused(mesh_folder, tmp_path, cli_env):
  good = tmp_path / "meshes.zip"
  with zipfile.ZipFile(good, "w") as archive:
    archive.write(mesh_folder / "box.stl", "toys/box.stl")
  report = importer.import_folder(good, tmp_path / "z" / "m.json", importer.ImportOptions(thumbnails=False,
                                                                                         **OPTIONS))
  assert report.imported == ["toys_box"]
  bad = tmp_path / "bad.zip"
  with zipfile.ZipFile(bad, "w") as archive:
    archive.write(mesh_folder / "box.stl", "toys/box.stl")
    archive.writestr("../../escape.stl", b"solid x\nendsolid x\n")
  out = tmp_path / "bad" / "m.json"
  result = run_cli("import", str(bad), "--out", str(out), "--no-thumbnails", env=cli_env)
  assert result.returncode == 1
  assert result.stderr.startswith("kubricgen: error: ") and "escapes its folder" in result.stderr
  assert result.stderr.count("\n") == 1 and not out.exists() and not out.parent.exists()


def test_links_out_of_the_folder_and_broken_meshes_are_refused(mesh_folder, tmp_path, cli_env):
  outside = tmp_path / "outside.stl"
  (mesh_folder / "box.stl").rename(outside)
  os.symlink(outside, mesh_folder / "box.stl")
  with pytest.raises(IntegrityError, match="through a link"):
    importer.import_folder(mesh_folder, tmp_path / "x" / "m.json", importer.ImportOptions(thumbnails=False))
  (mesh_folder / "box.stl").unlink()
  (mesh_folder / "zebra.ply").write_bytes(b"ply\nthis is not a mesh\n")  # fails after ball and ell were built
  out = tmp_path / "y" / "m.json"
  result = run_cli("import", str(mesh_folder), "--out", str(out), "--no-thumbnails", env=cli_env)
  assert result.returncode == 1 and "zebra.ply" in result.stderr and result.stderr.count("\n") == 1
  assert not out.exists() and not out.parent.exists()  # nothing half-written: the built assets' files are gone
  result = run_cli("import", str(mesh_folder), "--out", str(tmp_path / "m.txt"), env=cli_env)
  assert result.returncode == 1 and ".json" in result.stderr
  result = run_cli("import", str(tmp_path / "nowhere"), "--out", str(out), env=cli_env)
  assert result.returncode == 1 and "not a folder" in result.stderr


def test_a_tampered_imported_file_is_refused(imported):
  entry = ManifestSource.from_manifest(imported).entry("ell")
  collision = imported.parent / entry.collision_file
  collision.write_text(collision.read_text().replace("o piece_1", "o piece_one"))
  from kubricgen.assets import integrity
  integrity.forget_verified()
  with pytest.raises(IntegrityError, match="mismatch"):
    ManifestSource.from_manifest(imported).create("ell")
  data = json.loads(imported.read_text())
  assert manifest.parse_manifest(data, str(imported)).ids == ["ball", "box", "ell"]


def test_every_file_a_mesh_references_is_part_of_its_checksum(tmp_path):
  """A texture whose file name holds a space and a non-ASCII letter (MTL map options too) was not tracked: changing
  only that PNG and importing again said "0 imported, 1 unchanged" and kept the old texture."""
  from PIL import Image
  folder = tmp_path / "meshes"
  (folder / "tex").mkdir(parents=True)
  (folder / "cube.obj").write_text(
      "mtllib cube.mtl\nv -1 -1 -1\nv 1 -1 -1\nv 1 1 -1\nv -1 1 -1\nv -1 -1 1\nv 1 -1 1\nv 1 1 1\nv -1 1 1\n"
      "vt 0 0\nvt 1 0\nvt 1 1\nvt 0 1\nusemtl skin\nf 1/1 2/2 3/3 4/4\nf 5/1 6/2 7/3 8/4\nf 1/1 2/2 6/3 5/4\n"
      "f 2/1 3/2 7/3 6/4\nf 3/1 4/2 8/3 7/4\nf 4/1 1/2 5/3 8/4\n", encoding="utf-8")
  Image.new("RGB", (8, 8), (200, 30, 30)).save(folder / "tex" / "grün tex.png")
  references = importer._references  # pylint: disable=protected-access
  (folder / "cube.mtl").write_text("newmtl skin\nKd 1 1 1\nmap_Kd -s 1 1 1 -clamp on tex/grün tex.png\n",
                                   encoding="utf-8")
  assert references(folder / "cube.obj") == ["cube.mtl", "tex/grün tex.png"]  # map options skipped
  (folder / "cube.mtl").write_text("newmtl skin\nKd 1 1 1\nmap_Kd tex/grün tex.png\n", encoding="utf-8")
  assert references(folder / "cube.obj") == ["cube.mtl", "tex/grün tex.png"]
  out = tmp_path / "lib" / "m.json"
  options = importer.ImportOptions(class_name="toy", thumbnails=False, **{k: v for k, v in OPTIONS.items()
                                                                          if k != "thumbnail_size"})
  first = importer.import_folder(folder, out, options)
  assert first.imported == ["cube"]
  entry = ManifestSource.from_manifest(out).entry("cube")
  assert entry.texture_file is not None
  Image.new("RGB", (8, 8), (30, 30, 200)).save(folder / "tex" / "grün tex.png")  # only the texture changes
  again = importer.import_folder(folder, out, options)
  assert again.imported == ["cube"], (again.imported, again.unchanged)
  texture = ManifestSource.from_manifest(out).entry("cube").texture_file
  assert texture is not None
  pixel = np.asarray(__import__("PIL.Image", fromlist=["Image"]).open(out.parent / texture).convert("RGB"))[0, 0]
  assert pixel[2] > pixel[0], pixel  # the new, blue texture
