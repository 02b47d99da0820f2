"""Asset sources: KuBasic, pybullet_data, user folders and local manifests (checksums, archives, splits)."""
import json
import shutil
import tarfile

import numpy as np
import pytest

import kubricgen as kb
from kubricgen.assets import AssetError, FolderSource, IntegrityError, ManifestSource, ProceduralSource
from kubricgen.assets import UnknownAssetError, integrity, locations
from kubricgen.assets.sources import held_out_split, AssetInfo

KUBASIC = ["cube", "cylinder", "sphere", "cone", "torus", "gear", "torus_knot", "sponge", "suzanne", "teapot"]


def half_extent(obj):
  low, high = obj.bounds
  return (high - low) / 2, (high + low) / 2


def test_kubasic_holds_kubrics_shapes_normalised_like_the_primitives():
  source = ProceduralSource.kubasic()
  assert source.ids == KUBASIC
  for asset_id in KUBASIC:
    obj = source.create(asset_id)
    assert isinstance(obj, kb.PhysicalObject) and obj.asset_id == asset_id
    half, centre = half_extent(obj)
    assert half.max() == pytest.approx(1.0, abs=1e-5), asset_id
    assert np.allclose(centre, 0, atol=1e-5), asset_id
    assert obj.metadata["size_m"] == pytest.approx(0.1)
  assert isinstance(source.create("cube"), kb.Cube)
  assert isinstance(source.create("teapot"), kb.FileBasedObject)


def test_procedural_parameters_vary_the_shape_and_overrides_set_properties():
  source = ProceduralSource.kubasic()
  twelve = source.create("gear", params={"teeth": 12})
  twenty = source.create("gear", params={"teeth": 20}, position=(1, 2, 3), mass=2.5)
  assert twelve.render_filename != twenty.render_filename
  assert len(twelve.mesh()[0]) != len(twenty.mesh()[0])
  assert tuple(twenty.position) == (1, 2, 3) and twenty.mass == 2.5
  assert source.create("torus", minor_radius=0.4).minor_radius == 0.4
  with pytest.raises(AssetError, match="unknown parameters"):
    source.create("gear", params={"cogs": 3})
  with pytest.raises(AssetError, match="teeth must be >= 3"):
    source.create("gear", params={"teeth": 2})
  with pytest.raises(UnknownAssetError, match="unknown asset id 'dragon'"):
    source.create("dragon")


def test_pybullet_data_meshes_are_verified_used_in_place_and_z_up():
  source = ManifestSource.pybullet_data()
  for asset_id in ("duck", "teddy", "mug", "bunny", "soccerball", "lego", "jenga", "domino", "table", "tray"):
    assert asset_id in source
  duck = source.create("duck")
  half, _ = half_extent(duck)
  assert half.max() == pytest.approx(1.0, abs=1e-5)
  assert duck.material.texture and duck.material.texture.endswith(".png")
  table = source.create("table")  # assembled from the URDF's five visuals
  half, _ = half_extent(table)
  assert half[0] == pytest.approx(1.0, abs=1e-4) and half[2] < half[0]  # wider than tall, Z up
  files = source.fetch("duck")
  assert files["duck.obj"] == locations.package_dir("pybullet_data") / "duck.obj"  # used in place, not copied


def served_from_its_archive(path, data: bytes):
  """Rewrite the one-asset manifest at `path` (made by local_manifest from one archive) so its asset comes from that
  archive, which holds box/box.obj with bytes `data`; returns (manifest, its asset entry) as written."""
  manifest = json.loads(path.read_text())
  entry = manifest["assets"][0]
  entry["archive"] = entry["files"][0]
  entry["files"] = [{"path": "box/box.obj", "sha256": integrity.sha256_bytes(data), "size": len(data)}]
  entry["render_file"] = "box/box.obj"
  path.write_text(json.dumps(manifest))
  return manifest, entry


def local_manifest(tmp_path, files: dict, **entry):
  """A manifest beside `files` (name -> bytes) with correct checksums, plus the folder it lives in."""
  folder = tmp_path / "lib"
  folder.mkdir(exist_ok=True)
  listed = []
  for name, data in files.items():
    (folder / name).parent.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)
    listed.append({"path": name, "sha256": integrity.sha256_bytes(data), "size": len(data)})
  asset = {"id": "thing", "kind": "mesh", "class_name": "thing", "license": "CC0", "files": listed,
           "render_file": next(iter(files)), **entry}
  path = folder / "manifest.json"
  path.write_text(json.dumps({"schema": "kubricgen-asset-manifest", "version": 1, "name": "lib",
                              "assets": [asset]}))
  return path


def box_obj() -> bytes:
  import trimesh
  return trimesh.exchange.obj.export_obj(trimesh.creation.box((2, 1, 0.5))).encode()


def test_local_manifest_creates_and_refuses_a_tampered_file(tmp_path, fresh_cache):
  path = local_manifest(tmp_path, {"box.obj": box_obj()}, units="cm", scale=10.0)
  source = ManifestSource.from_manifest(path)
  obj = source.create("thing")
  assert obj.metadata["size_m"] == pytest.approx(0.1)  # half-extent 1 unit * 10 * 1 cm
  (tmp_path / "lib" / "box.obj").write_bytes(box_obj().replace(b"v ", b"v  ", 1))
  integrity.forget_verified()
  with pytest.raises(IntegrityError, match="size mismatch|sha256 mismatch"):
    ManifestSource.from_manifest(path).create("thing")
  (tmp_path / "lib" / "box.obj").unlink()
  with pytest.raises(IntegrityError, match="missing file box.obj"):
    ManifestSource.from_manifest(path).create("thing")


def test_archive_assets_extract_safely_and_escaping_archives_are_refused(tmp_path, fresh_cache):
  data = box_obj()
  staging = tmp_path / "staging"
  (staging / "box").mkdir(parents=True)
  (staging / "box" / "box.obj").write_bytes(data)
  archive = tmp_path / "lib" / "thing.tar.gz"
  archive.parent.mkdir()
  with tarfile.open(archive, "w:gz") as tar:
    tar.add(staging / "box" / "box.obj", arcname="box/box.obj")
  blob = archive.read_bytes()
  path = local_manifest(tmp_path, {"thing.tar.gz": blob})
  manifest, entry = served_from_its_archive(path, data)
  obj = ManifestSource.from_manifest(path).create("thing")
  assert obj.asset_id == "thing" and (fresh_cache / "extracted").is_dir()
  # the same manifest shape with an archive whose entry escapes its folder
  with tarfile.open(archive, "w:gz") as tar:
    tar.add(staging / "box" / "box.obj", arcname="../box.obj")
  entry["archive"] = {"path": "thing.tar.gz", "sha256": integrity.sha256_file(archive),
                      "size": archive.stat().st_size}
  path.write_text(json.dumps(manifest))
  shutil.rmtree(fresh_cache / "extracted")
  with pytest.raises(IntegrityError, match="escapes its folder"):
    ManifestSource.from_manifest(path).create("thing")
  assert not any((fresh_cache / "extracted").iterdir())


def test_up_and_front_axes_orient_the_mesh(tmp_path, fresh_cache):
  import trimesh
  wedge = trimesh.creation.box((1, 3, 9))  # file: x 1 wide, y 3 deep, z 9 tall
  data = trimesh.exchange.obj.export_obj(wedge).encode()
  path = local_manifest(tmp_path, {"w.obj": data}, up_axis="+x", front_axis="+y")
  low, high = ManifestSource.from_manifest(path).create("thing").bounds
  assert np.allclose((high - low) * 9 / 2, [9, 3, 1], atol=1e-4)  # file z -> asset x, file y -> -y, file x -> up


def test_folder_source_uses_files_as_they_are(mesh_folder):
  source = FolderSource(mesh_folder, class_name="toy")
  assert source.ids == ["ball", "box", "ell"]
  ball = source.create("ball")
  assert ball.metadata["class_name"] == "toy"
  assert ball.material.color[0] > ball.material.color[1]  # the PLY's red vertex colour became the material
  with pytest.raises(AssetError, match="asset folder not found"):
    FolderSource(mesh_folder / "absent")


def test_held_out_split_is_per_class_deterministic_and_order_free():
  infos = [AssetInfo(f"{c}_{i}", c) for c in ("a", "b", "c") for i in range(4)] + [AssetInfo("solo", "d")]
  split = held_out_split(infos, seed=0, test_fraction=0.25)
  assert split == held_out_split(list(reversed(infos)), seed=0, test_fraction=0.25)
  for c in ("a", "b", "c"):
    assert [split[f"{c}_{i}"] for i in range(4)].count("test") == 1
  assert split["solo"] == "train"
  other = held_out_split(infos, seed=1, test_fraction=0.25)
  assert other != split  # the seed matters
  assert held_out_split(infos, seed=0, test_fraction=0.5)["solo"] == "train"
