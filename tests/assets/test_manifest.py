"""The manifest format: what is accepted, what is refused (with the field named), and atomic writes."""
import copy
import json
import os

import pytest

from kubricgen.assets import locations, manifest
from kubricgen.assets.errors import ManifestError

SHA = "0" * 64


def valid():
  return {"schema": "kubricgen-asset-manifest", "version": 1, "name": "toys", "assets": [
      {"id": "duck", "kind": "mesh", "class_name": "duck", "imagenet_index": None, "license": "CC0",
       "files": [{"path": "duck/duck.obj", "sha256": SHA, "size": 10}], "render_file": "duck/duck.obj",
       "units": "cm", "scale": 2.0, "up_axis": "+y", "mass_properties": {"density": 500},
       "material": {"color": [1, 0.8, 0], "roughness": 0.3}, "metadata": {"anything": [1, 2]}},
      {"id": "teapot", "kind": "procedural", "class_name": "teapot", "imagenet_index": 849, "license": "CC0",
       "generator": "teapot", "params": {"knob": 1.2}},
  ]}


def test_valid_manifest_round_trips():
  parsed = manifest.parse_manifest(valid(), "toys.json")
  assert parsed.ids == ["duck", "teapot"]
  duck = parsed.asset("duck")
  assert (duck.units, duck.scale, duck.up_axis, duck.file("duck/duck.obj").size) == ("cm", 2.0, "+y", 10)
  assert parsed.asset("teapot").imagenet_index == 849
  assert manifest.parse_manifest(parsed.to_json(), "again").to_json() == parsed.to_json()


def broken(change):
  data = copy.deepcopy(valid())
  change(data)
  return data


REFUSED = [
    (lambda d: d.update(schema="kubric"), "schema"),
    (lambda d: d.update(version=2), "version"),
    (lambda d: d.update(extra=1), "unknown keys"),
    (lambda d: d["assets"][0].pop("license"), "missing 'license'"),
    (lambda d: d["assets"][0].update(kind="sound"), "kind"),
    (lambda d: d["assets"][0]["files"][0].update(sha256="abc"), "sha256"),
    (lambda d: d["assets"][0]["files"][0].update(sha256=SHA.upper().replace("0", "A")), "sha256"),
    (lambda d: d["assets"][0]["files"][0].update(size=-1), "size"),
    (lambda d: d["assets"][0]["files"][0].pop("size"), "missing 'size'"),
    (lambda d: d["assets"][0]["files"][0].update(path="../duck.obj"), "escapes its folder"),
    (lambda d: d["assets"][0]["files"][0].update(path="/etc/passwd"), "absolute"),
    (lambda d: d["assets"][0]["files"][0].update(path="C:/duck.obj"), "absolute"),
    (lambda d: d["assets"][0]["files"][0].update(path="duck\\duck.obj"), "backslash"),
    (lambda d: d["assets"][0]["files"][0].update(path="duck/./duck.obj"), "plain relative"),
    (lambda d: d["assets"][0].update(render_file="other.obj"), "not listed in files"),
    (lambda d: d["assets"][0].pop("render_file"), "needs a render_file"),
    (lambda d: d["assets"][1].pop("generator"), "needs a generator"),
    (lambda d: d["assets"][1].update(id="duck"), "duplicate asset id"),
    (lambda d: d["assets"][1].update(id="bad id!"), "not a valid value"),
    (lambda d: d["assets"][1].update(imagenet_index=1000), "imagenet_index"),
    (lambda d: d["assets"][1].update(imagenet_index=True), "imagenet_index"),
    (lambda d: d["assets"][0].update(units="furlong"), "units"),
    (lambda d: d["assets"][0].update(scale=0), "scale"),
    (lambda d: d["assets"][0].update(up_axis="up"), "up_axis"),
    (lambda d: d["assets"][0].update(front_axis="-y"), "parallel to up_axis"),
    (lambda d: d["assets"][0]["material"].update(color=[2, 0, 0]), "material.color"),
    (lambda d: d["assets"][0]["material"].update(glow=1), "material"),
    (lambda d: d["assets"][0]["mass_properties"].update(mass=-3), "mass"),
    (lambda d: d["assets"][0]["files"].append(dict(d["assets"][0]["files"][0])), "lists a path twice"),
    (lambda d: d.update(root="../elsewhere"), "root"),
    (lambda d: d.update(splits={"seed": 0, "test_fraction": 2}), "test_fraction"),
    (lambda d: d.update(assets={}), "expected a list"),
]


@pytest.mark.parametrize("change, words", REFUSED, ids=[w for _, w in REFUSED])
def test_schema_violations_are_refused_naming_the_field(change, words):
  with pytest.raises(ManifestError) as error:
    manifest.parse_manifest(broken(change), "toys.json")
  message = str(error.value)
  assert words in message and "toys.json" in message and "\n" not in message


def test_not_json_and_missing_file_are_clear(tmp_path):
  path = tmp_path / "m.json"
  path.write_text("{not json")
  with pytest.raises(ManifestError, match="not valid JSON"):
    manifest.load_local(path)
  with pytest.raises(ManifestError, match="file not found"):
    manifest.load_local(tmp_path / "absent.json")


def test_write_is_atomic_and_refuses_invalid(tmp_path):
  path = tmp_path / "m.json"
  good = manifest.parse_manifest(valid(), "toys")
  manifest.write(good, path)
  before = path.read_bytes()
  bad = manifest.Manifest(name="toys", assets=good.assets + good.assets)  # duplicate ids
  with pytest.raises(ManifestError, match="duplicate"):
    manifest.write(bad, path)
  assert path.read_bytes() == before
  assert os.listdir(tmp_path) == ["m.json"]  # no temporary files left
  assert manifest.load_local(path).ids == ["duck", "teapot"]


def test_published_schema_matches_the_validator():
  schema = json.loads(locations.schema_path().read_text())
  assert schema["properties"]["schema"]["const"] == manifest.SCHEMA
  assert schema["properties"]["version"]["const"] == manifest.VERSION
  asset = schema["$defs"]["asset"]
  assert set(asset["properties"]) == manifest.ASSET_FIELDS
  assert set(asset["properties"]["kind"]["enum"]) == set(manifest.KINDS)
  assert set(asset["properties"]["units"]["enum"]) == set(manifest.UNITS)
  assert set(asset["properties"]["up_axis"]["enum"]) == set(manifest.UP_AXES)
  assert set(asset["properties"]["material"]["properties"]) == manifest.MATERIAL_FIELDS
  assert set(schema["properties"]) == manifest.TOP_LEVEL


def test_bundled_manifests_are_valid_and_up_to_date():
  for name in ("kubasic", "pybullet_data", "classes"):
    manifest.load_local(locations.bundled_manifest(name))
  manifest.load_local(locations.bundled_dir() / "backgrounds" / "manifest.json")
  import subprocess
  import sys
  script = locations.bundled_dir() / "tools" / "make_manifests.py"
  result = subprocess.run([sys.executable, str(script), "--check"], capture_output=True, text=True, check=False)
  assert result.returncode == 0, result.stdout + result.stderr
