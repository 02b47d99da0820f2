"""`kb.AssetSource` on Kubric's own manifests: KuBasic-style primitives, GSO-style tar.gz assets (OBJ + URDF), local
and through a GCS emulator; Kubric's split; our manifests through the same call; one-line errors; a MOVi-style
worker port."""
import io
import json
import os
import subprocess
import tarfile

import numpy as np
import pytest

import kubricgen as kb
from kubricgen import storage
from kubricgen.assets import (AssetError, AssetFileNotFoundError, IntegrityError, ManifestError, ManifestSource,
                              StorageError, UnknownAssetError)
from kubricgen.assets.kubric_manifest import KubricSource, parse
from kubricgen.output.reader import load_scene
from tests.conftest import kubricgen_command

URDF = """<?xml version="1.0"?>
<robot name="{asset_id}">
  <link name="body">
    <contact><lateral_friction value="0.5"/></contact>
    <inertial>
      <origin xyz="0 0 0"/>
      <mass value="{mass}"/>
      <inertia ixx="{inertia}" ixy="0" ixz="0" iyy="{inertia}" iyz="0" izz="{inertia}"/>
    </inertial>
    <visual><geometry><mesh filename="visual_geometry.obj"/></geometry></visual>
    <collision><geometry><mesh filename="{collision}"/></geometry></collision>
  </link>
</robot>
"""

GSO_SHAPES = {  # asset id -> (trimesh factory, archive layout)
    "Blue_Box": (lambda t: t.creation.box((0.2, 0.1, 0.1)), "flat"),
    "Red_Tin": (lambda t: t.creation.cylinder(0.05, 0.12), "folder"),
    "Toy_Ball": (lambda t: t.creation.icosphere(2, 0.06), "flat"),
    "Book": (lambda t: t.creation.box((0.15, 0.2, 0.03)), "folder"),
    "Brick": (lambda t: t.creation.box((0.2, 0.09, 0.06)), "flat"),
}


def add_member(tar: tarfile.TarFile, name: str, data: bytes, kind=tarfile.REGTYPE, link: str = "") -> None:
  info = tarfile.TarInfo(name)
  info.size, info.type, info.linkname = (len(data) if kind == tarfile.REGTYPE else 0), kind, link
  tar.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)


def file_asset(folder, asset_id: str, mesh, layout: str = "flat", category: str = "toy", collision=True) -> dict:
  """Write `<folder>/<asset_id>.tar.gz` as Kubric's converters do (visual + collision OBJ, URDF, data.json) and
  return its manifest entry."""
  import trimesh
  mesh = mesh.copy()
  mesh.apply_translation(-mesh.center_mass)
  obj = trimesh.exchange.obj.export_obj(mesh).encode()
  mass = float(mesh.volume * 500)
  entry = {"id": asset_id, "asset_type": "FileBasedObject", "license": "CC BY 4.0",
           "kwargs": {"bounds": mesh.bounds.tolist(), "mass": mass,
                      "render_filename": "{asset_dir}/visual_geometry.obj",
                      "simulation_filename": "{asset_dir}/object.urdf"},
           "metadata": {"category": category, "description": f"a {asset_id}", "nr_faces": len(mesh.faces)}}
  files = {"visual_geometry.obj": obj,
           "object.urdf": URDF.format(asset_id=asset_id, mass=mass, inertia=mass * 1e-3,
                                      collision="collision_geometry.obj").encode(),
           "data.json": json.dumps(entry).encode()}
  if collision:
    files["collision_geometry.obj"] = trimesh.exchange.obj.export_obj(mesh.convex_hull).encode()
  folder.mkdir(parents=True, exist_ok=True)
  with tarfile.open(folder / f"{asset_id}.tar.gz", "w:gz") as tar:
    for name, data in files.items():
      add_member(tar, f"{asset_id}/{name}" if layout == "folder" else name, data)
  return entry


def write_library(root):
  """A KuBasic-style manifest (primitive asset types + one Kubric file asset, data_dir = its folder) and a
  GSO-style one (five tar.gz assets in a relative data_dir). Returns (kubasic.json, gso.json)."""
  import trimesh
  kubasic = root / "KuBasic"
  assets = {
      "cube": {"asset_type": "Cube", "license": "CC BY-SA 4.0", "path": None,
               "kwargs": {"mass": 2.0, "bounds": [[-1, -1, -1], [1, 1, 1]]}, "metadata": {"shape": "cube"}},
      "sphere": {"asset_type": "Sphere", "kwargs": {"mass": 1.5}, "metadata": {"shape": "sphere"}},
      "cylinder": {"asset_type": "Cylinder", "metadata": {"shape": "cylinder"}},
      "cone": {"asset_type": "Cone", "kwargs": {"friction": 0.9}},
      "torus": {"asset_type": "Torus", "kwargs": {"minor_radius": 0.3}, "license": "CC0"},
  }
  bar = trimesh.creation.box((0.6, 0.2, 0.2))
  post = trimesh.creation.box((0.2, 0.2, 0.6))
  post.apply_translation((-0.2, 0, 0.4))
  assets["ell"] = file_asset(kubasic, "ell", trimesh.util.concatenate([bar, post]), category="")
  kubasic.mkdir(parents=True, exist_ok=True)
  (kubasic / "KuBasic.json").write_text(json.dumps({"name": "KuBasic", "version": "1.0", "assets": assets}))
  gso = root / "GSO"
  objects = {asset_id: file_asset(gso / "objects", asset_id, make(trimesh), layout, category=asset_id.split("_")[0])
             for asset_id, (make, layout) in GSO_SHAPES.items()}
  (gso / "GSO.json").write_text(json.dumps({"name": "GSO", "data_dir": "objects", "version": "1.0",
                                            "assets": objects}))
  return kubasic / "KuBasic.json", gso / "GSO.json"


@pytest.fixture(scope="module")
def library(tmp_path_factory):
  return write_library(tmp_path_factory.mktemp("kubric-lib"))


def test_kubasic_style_primitives_carry_their_kwargs_and_metadata(library):
  kubasic = kb.AssetSource.from_manifest(library[0])
  assert isinstance(kubasic, kb.AssetSource) and isinstance(kubasic, KubricSource)
  assert kubasic.name == "KuBasic" and kubasic.data_dir == library[0].parent
  assert kubasic.all_asset_ids == ["cone", "cube", "cylinder", "ell", "sphere", "torus"]
  cube = kubasic.create(asset_id="cube", scale=0.5, name="small cube")
  assert type(cube) is kb.Cube and cube.asset_id == "cube" and cube.name == "small cube"
  assert tuple(cube.scale) == (0.5, 0.5, 0.5) and cube.mass == 2.0
  assert cube.metadata == {"shape": "cube"}
  assert type(kubasic.create("sphere")) is kb.Sphere and kubasic.create("sphere").mass == 1.5
  assert type(kubasic.create("cylinder")) is kb.Cylinder
  assert kubasic.create("cone").friction == 0.9
  assert kubasic.create("torus").minor_radius == 0.3
  assert kubasic.info("torus").license == "CC0" and kubasic.info("cube").license == "CC BY-SA 4.0"
  # an override changes this object only (Kubric's create updates the manifest entry's kwargs in place)
  assert kubasic.create("cube", mass=9.0, metadata={"shape": "box"}).metadata == {"shape": "box"}
  assert kubasic.create("cube").mass == 2.0 and kubasic.create("cube", add_metadata=False).metadata == {}
  assert kubasic.create("cube").metadata["shape"] == "cube"


def test_gso_style_archives_extract_once_in_both_layouts_and_give_file_objects(library, fresh_cache):
  gso = kb.AssetSource.from_manifest(library[1])
  assert gso.data_dir == library[1].parent / "objects"  # relative data_dir: next to the manifest
  assert gso.all_asset_ids == sorted(GSO_SHAPES) and gso.categories == ["Blue", "Book", "Brick", "Red", "Toy"]
  for asset_id, (_, layout) in GSO_SHAPES.items():
    obj = gso.create(asset_id=asset_id)
    assert type(obj) is kb.FileBasedObject and obj.asset_id == asset_id, layout
    assert obj.render_filename.startswith(str(fresh_cache / "kubric" / "extracted"))
    assert obj.render_filename.endswith("visual_geometry.obj") and obj.simulation_filename.endswith("object.urdf")
    assert os.path.dirname(obj.simulation_filename) == os.path.dirname(obj.render_filename)
    entry = json.loads(library[1].read_text())["assets"][asset_id]
    assert obj.mass == pytest.approx(entry["kwargs"]["mass"])
    assert np.allclose(obj.bounds, entry["kwargs"]["bounds"], atol=1e-6)  # computed from the mesh, as listed
    assert obj.metadata == entry["metadata"]
  extracted = sorted((fresh_cache / "kubric" / "extracted").iterdir())
  assert len(extracted) == len(GSO_SHAPES)
  stamps = [p.stat().st_mtime_ns for p in extracted]
  again = kb.AssetSource.from_manifest(library[1]).create("Red_Tin")  # a new source reuses the extraction
  assert again.render_filename.startswith(str(extracted[0].parent))
  assert [p.stat().st_mtime_ns for p in sorted((fresh_cache / "kubric" / "extracted").iterdir())] == stamps


def test_scratch_dir_and_data_dir_arguments(library, tmp_path, fresh_cache):
  moved = tmp_path / "elsewhere"
  os.rename(library[1].parent / "objects", moved)
  try:
    with pytest.raises(FileNotFoundError, match="Blue_Box.tar.gz not found"):
      kb.AssetSource.from_manifest(library[1]).create("Blue_Box")
    source = kb.AssetSource.from_manifest(library[1], data_dir=moved, scratch_dir=tmp_path / "scratch")
    assert source.data_dir == moved
    obj = source.create("Blue_Box")
    assert obj.render_filename.startswith(str(tmp_path / "scratch" / "extracted"))
    assert not (fresh_cache / "kubric").exists()
  finally:
    os.rename(moved, library[1].parent / "objects")


def test_a_path_naming_a_folder_is_used_in_place(library, tmp_path):
  folder = tmp_path / "unpacked" / "Book"
  folder.mkdir(parents=True)
  with tarfile.open(library[1].parent / "objects" / "Book.tar.gz") as tar:
    for member in tar.getmembers():
      (folder / os.path.basename(member.name)).write_bytes(tar.extractfile(member).read())
  data = json.loads(library[1].read_text())
  data["data_dir"] = str(tmp_path / "unpacked")
  data["assets"] = {"Book": dict(data["assets"]["Book"], path="Book")}
  (tmp_path / "m.json").write_text(json.dumps(data))
  obj = kb.AssetSource.from_manifest(tmp_path / "m.json").create("Book")
  assert obj.render_filename == str(folder / "visual_geometry.obj")


def test_get_test_split_is_kubrics(tmp_path):
  ids = [f"a{i}" for i in range(10)]
  entries = {i: {"asset_type": "Cube", "path": None} for i in reversed(ids)}  # listing order does not matter
  source = KubricSource(parse({"assets": entries}, str(tmp_path / "split.json")))
  # Kubric: np.random.default_rng(42).choice(sorted ids, round(0.3 * 10), replace=False), test ids in draw order
  assert source.get_test_split(fraction=0.3) == (["a1", "a2", "a3", "a4", "a5", "a7", "a8"], ["a9", "a0", "a6"])
  train, test = source.get_test_split()  # Kubric's default: 10%
  assert len(test) == 1 and sorted(train + test) == ids
  assert source.get_test_split(0.0) == (ids, []) and source.get_test_split(1)[0] == []
  with pytest.raises(ValueError, match="fraction must be in"):
    source.get_test_split(1.5)
  assert source.name == "split" and source.data_dir == tmp_path  # defaults: file stem and the manifest's folder


def test_our_manifests_keep_working_through_the_same_call(tmp_path, mesh_folder, fresh_cache):
  from kubricgen.assets import importer, locations
  kubasic = kb.AssetSource.from_manifest(locations.bundled_manifest("kubasic"))
  assert type(kubasic) is ManifestSource and "teapot" in kubasic.all_asset_ids
  assert isinstance(kubasic.create("cube"), kb.Cube)
  report = importer.import_folder(mesh_folder, tmp_path / "lib" / "toys.json",
                                  importer.ImportOptions(class_name="toy", vhacd_resolution=20000, thumbnails=False))
  toys = kb.AssetSource.from_manifest(str(report.manifest))
  assert type(toys) is ManifestSource and toys.create("ell").asset_id == "ell"
  with pytest.raises(ManifestError, match="data_dir applies to Kubric manifests"):
    kb.AssetSource.from_manifest(report.manifest, data_dir=tmp_path)
  with pytest.raises(ManifestError, match="a kubricgen manifest, not a Kubric one"):
    KubricSource.from_manifest(report.manifest)


def test_our_own_reader_points_kubric_manifests_to_kb_asset_source(library):
  with pytest.raises(ManifestError, match=r"GSO.json: top level: a Kubric manifest .*open it with "
                                          r"kb.AssetSource.from_manifest$"):
    ManifestSource.from_manifest(library[1])


def test_kubric_manifest_gives_one_line_errors_naming_manifest_and_field(library, tmp_path):
  kubasic = kb.AssetSource.from_manifest(library[0])
  with pytest.raises(KeyError, match="unknown asset id 'cuube'.*did you mean 'cube'") as error:
    kubasic.create("cuube")
  assert isinstance(error.value, UnknownAssetError) and str(library[0]) in str(error.value)
  missing = tmp_path / "nothing.json"
  with pytest.raises(FileNotFoundError, match=f"manifest {missing}: file not found"):
    kb.AssetSource.from_manifest(missing)

  def broken(change, name="m.json"):
    data = json.loads(library[0].read_text())
    data["data_dir"] = str(library[0].parent)
    change(data)
    (tmp_path / name).write_text(json.dumps(data))
    return tmp_path / name

  cases = [
      (lambda d: d.update(assets=[1]), "top level: neither a kubricgen manifest"),
      (lambda d: d.pop("assets"), "top level: neither"),
      (lambda d: d.update(name=""), "name: expected a non-empty string"),
      (lambda d: d.update(data_dir=3), "data_dir: expected a string, got 3"),
      (lambda d: d["assets"].update(cube=[]), "asset 'cube': expected an object"),
      (lambda d: d["assets"]["cube"].pop("asset_type"), "asset 'cube': missing 'asset_type'"),
      (lambda d: d["assets"]["cube"].update(asset_type="Blob"), r"asset 'cube'.asset_type: expected one of"),
      (lambda d: d["assets"]["cube"].update(kwargs=[1]), r"asset 'cube'.kwargs: expected an object"),
      (lambda d: d["assets"]["cube"].update(metadata="x"), r"asset 'cube'.metadata: expected an object"),
      (lambda d: d["assets"]["cube"].update(license=1), r"asset 'cube'.license: expected a string"),
      (lambda d: d["assets"]["cube"].update(id="cone"), r"asset 'cube'.id: 'cone' differs from its key"),
      (lambda d: d["assets"]["cube"].update(path="/etc/cube.tar.gz"), r"asset 'cube'.path: .* is absolute"),
      (lambda d: d["assets"]["cube"].update(path="../cube.tar.gz"), r"asset 'cube'.path: .* escapes its folder"),
      (lambda d: d["assets"]["ell"]["kwargs"].update(render_filename="{asset_dir}/../../x.obj"),
       r"asset 'ell'.kwargs.render_filename: .* escapes its folder"),
  ]
  for change, message in cases:
    path = broken(change)
    with pytest.raises(ManifestError) as error:
      kb.AssetSource.from_manifest(path)
    assert f"manifest {path}: " in str(error.value) and "\n" not in str(error.value), message
    assert error.match(message)
  (tmp_path / "bad.json").write_text("{")
  with pytest.raises(ManifestError, match="bad.json: not valid JSON"):
    kb.AssetSource.from_manifest(tmp_path / "bad.json")
  with pytest.raises(ManifestError, match="render_filename: missing"):
    kb.AssetSource.from_manifest(broken(lambda d: d["assets"]["ell"]["kwargs"].pop("render_filename"))).create("ell")
  with pytest.raises(AssetError, match=r"asset 'cube': Cube: unknown argument 'colour'"):
    kubasic.create("cube", colour="red")
  with pytest.raises(ManifestError, match="needs the asset's files, but its path is null"):
    kubasic.create("cube", render_filename="{asset_dir}/x.obj")
  hdri = broken(lambda d: d["assets"]["cube"].update(asset_type="Texture"))
  with pytest.raises(AssetError, match="asset_type 'Texture' is an image"):
    kb.AssetSource.from_manifest(hdri).create("cube")


def test_missing_files_inside_an_archive_are_named(library, tmp_path, fresh_cache):
  import trimesh
  folder = tmp_path / "lib"
  entries = {"nocoll": file_asset(folder, "nocoll", trimesh.creation.box((1, 1, 1)), collision=False),
             "norender": file_asset(folder, "norender", trimesh.creation.box((1, 1, 1)))}
  entries["norender"]["kwargs"]["render_filename"] = "{asset_dir}/model.obj"
  entries["absent"] = dict(entries["nocoll"], id="absent")
  (folder / "m.json").write_text(json.dumps({"assets": entries}))
  source = kb.AssetSource.from_manifest(folder / "m.json")
  where = f"manifest {folder / 'm.json'}: asset"
  with pytest.raises(FileNotFoundError, match=f"{where} 'nocoll': kwargs.simulation_filename: .*object.urdf names "
                                              "mesh 'collision_geometry.obj', which is not beside it"):
    source.create("nocoll")
  with pytest.raises(FileNotFoundError, match=f"{where} 'norender': kwargs.render_filename: .*model.obj not found"):
    source.create("norender")
  with pytest.raises(AssetFileNotFoundError, match=f"{where} 'absent': archive absent.tar.gz not found in data_dir"):
    source.create("absent")
  (folder / "absent.tar.gz").write_bytes(b"not a tar file")
  with pytest.raises(IntegrityError, match=f"{where} 'absent': .*not a zip or tar archive"):
    kb.AssetSource.from_manifest(folder / "m.json").create("absent")


@pytest.mark.parametrize("name, kind, link", [("../evil.obj", tarfile.REGTYPE, ""),
                                              ("/tmp/evil.obj", tarfile.REGTYPE, ""),
                                              ("evil.obj", tarfile.SYMTYPE, "/etc/passwd"),
                                              ("sub/../../evil.obj", tarfile.REGTYPE, "")])
def test_archives_with_escaping_members_are_refused_whole(tmp_path, fresh_cache, name, kind, link):
  import trimesh
  folder = tmp_path / "lib"
  entry = file_asset(folder, "box", trimesh.creation.box((1, 1, 1)))
  with tarfile.open(folder / "box.tar.gz", "r:gz") as tar:
    members = [(m.name, tar.extractfile(m).read()) for m in tar.getmembers()]
  with tarfile.open(folder / "box.tar.gz", "w:gz") as tar:
    for member, data in members:
      add_member(tar, member, data)
    add_member(tar, name, b"v 0 0 0\n", kind, link)
  (folder / "m.json").write_text(json.dumps({"assets": {"box": entry}}))
  with pytest.raises(IntegrityError, match="asset 'box': box.tar.gz: archive entry.*(escapes its folder|is "
                                           "absolute|is a link)"):
    kb.AssetSource.from_manifest(folder / "m.json").create("box")
  extracted = fresh_cache / "kubric" / "extracted"
  assert not extracted.exists() or not any(extracted.iterdir())  # nothing half-extracted
  assert not (tmp_path / "evil.obj").exists() and not os.path.lexists(folder / "evil.obj")


@pytest.fixture(scope="module")
def gcs_library(gcs_emulator, library):
  """The GSO-style library uploaded to gs://kubric-lib/assets/GSO/ (manifest + objects/*.tar.gz)."""
  client = storage.default_storage()
  client.create_bucket("kubric-lib")
  root = library[1].parent
  for path in sorted(root.rglob("*")):
    if path.is_file():
      client.upload_file(path, f"gs://kubric-lib/assets/GSO/{path.relative_to(root).as_posix()}")
  return "gs://kubric-lib/assets/GSO/GSO.json"


def test_gs_manifest_reads_archives_from_the_bucket(gcs_library, fresh_cache, library):
  gso = kb.AssetSource.from_manifest(gcs_library)
  assert isinstance(gso, KubricSource) and gso.name == "GSO"
  assert str(gso.data_dir) == "gs://kubric-lib/assets/GSO/objects"
  assert gso.get_test_split(0.4) == kb.AssetSource.from_manifest(library[1]).get_test_split(0.4)
  obj = gso.create("Red_Tin", scale=2.0)
  assert type(obj) is kb.FileBasedObject and obj.asset_id == "Red_Tin" and obj.metadata["category"] == "Red"
  assert obj.render_filename.startswith(str(fresh_cache / "kubric" / "extracted"))
  assert tuple(obj.scale) == (2.0, 2.0, 2.0) and os.path.isfile(obj.simulation_filename)
  assert not [p for p in (fresh_cache / "kubric").iterdir() if p.name.startswith(".download")]  # no leftovers
  client = storage.default_storage()
  data = json.loads(client.read_bytes(gcs_library))
  data["assets"]["Gone"] = dict(data["assets"]["Book"], id="Gone")
  data["data_dir"] = "gs://kubric-lib/assets/GSO/objects"  # absolute data_dir
  del data["name"]  # defaults to the manifest's file name
  client.upload(json.dumps(data).encode(), "gs://kubric-lib/assets/other.json")
  other = kb.AssetSource.from_manifest("gs://kubric-lib/assets/other.json")
  assert other.create("Book").asset_id == "Book" and other.name == "other"
  with pytest.raises(FileNotFoundError, match="manifest gs://kubric-lib/assets/other.json: asset 'Gone': archive "
                                              "gs://kubric-lib/assets/GSO/objects/Gone.tar.gz not found"):
    other.create("Gone")
  with pytest.raises(StorageError, match="not found"):
    kb.AssetSource.from_manifest("gs://kubric-lib/assets/none.json")


def test_a_movi_style_kubric_worker_runs_on_kubric_manifests(library, tmp_path, cli_env, repo_root):
  out = tmp_path / "movi"
  env = dict(cli_env, KUBRICGEN_ASSET_CACHE=str(tmp_path / "cache"))
  result = subprocess.run(kubricgen_command("render", f"{repo_root}/tests/data/kubric_movi_port.py", "--seed", "3",
                                            "--out", str(out), "--kubasic_assets", str(library[0]),
                                            "--gso_assets", str(library[1]), "--frame_end", "4",
                                            "--samples", "2", "--save_state"),
                          env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
  assert result.returncode == 0, result.stderr
  scene = load_scene(out)
  assert scene["rgba"].shape == (4, 32, 32, 4)  # resolution=32, an int default as in Kubric's MOVi workers
  instances = scene.metadata["instances"]  # the visible ones, most visible first, as Kubric's MOVi workers keep them
  visibility = [sum(i["visibility"]) for i in instances]
  assert instances and visibility == sorted(visibility, reverse=True) and min(visibility) > 0
  gso = [i for i in instances if i["type"] == "FileBasedObject"]
  shapes = [i for i in instances if i["type"] != "FileBasedObject"]
  train, _ = kb.AssetSource.from_manifest(library[1]).get_test_split(fraction=0.4)
  assert {i["asset_id"] for i in gso} <= set(train)
  assert all(i["category"] == i["asset_id"].split("_")[0] and "scale" in i for i in gso)  # manifest metadata kept
  assert {i["asset_id"] for i in shapes} <= {"cube", "sphere", "cylinder", "cone", "torus"}
  segmentation = scene["segmentation"][..., 0]
  assert set(np.unique(segmentation)) - {0} == set(range(1, len(instances) + 1))  # renumbered to the visible list
  for k, instance in enumerate(instances, start=1):  # each box is that instance's pixels in the renumbered images
    assert instance["bbox_frames"] == [t for t in range(4) if (segmentation[t] == k).any()]
    for t, box in zip(instance["bbox_frames"], instance["bboxes"]):
      rows, cols = np.nonzero(segmentation[t] == k)
      assert box == [rows.min() / 32, cols.min() / 32, (rows.max() + 1) / 32, (cols.max() + 1) / 32]
  for event in scene.events["collisions"]:
    assert all(-1 <= index < len(instances) for index in event["instance_indices"])
  assert scene.metadata["metadata"]["num_instances"] == len(instances)
  assert scene.metadata["metadata"]["background"] == "clevr"
  assert (out / "scene.bullet").read_bytes()[:6] == b"BULLET" and (out / "scene.blend").is_file()
  assert all(i["color_label"] in kb.CLEVR_COLORS and i["size_label"] in ("small", "large") for i in shapes)
  heights = np.array([i["positions"] for i in instances])[..., 2]
  assert (heights[:, 0] - heights[:, -1] > 0.01).all(), heights  # everything falls towards the floor
  assert (tmp_path / "cache" / "kubric" / "extracted").is_dir()  # archives were extracted for the GSO objects
