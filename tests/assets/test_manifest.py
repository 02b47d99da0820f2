"""The manifest format: what is accepted, what is refused (with the field named), and atomic writes."""
import copy
import dataclasses
import json
import os

import pytest

from kubricgen.assets import locations, manifest
from kubricgen.assets.errors import AssetError, ManifestError

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
  """valid() changed by `change`, or `change` itself when it is a whole document (not a function)."""
  if not callable(change):
    return copy.deepcopy(change)
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
    # One case (at least) for every constraint of the schema file: see test_every_schema_rule_has_a_refused_case.
    (["not", "an object"], "top level: expected an object, got ['not', 'an object']"),
    (lambda d: d.pop("schema"), "top level: missing 'schema'"),
    (lambda d: d.pop("name"), "top level: missing 'name'"),
    (lambda d: d.update(name="bad name"), "name: 'bad name' is not a valid value"),
    (lambda d: d.update(name=7), "name: expected a string, got 7"),
    (lambda d: d.update(description=3), "description: expected a string, got 3"),
    (lambda d: d.update(root=""), "root: expected a non-empty string, got ''"),
    (lambda d: d.update(root=5), "root: expected a string or null, got 5"),
    (lambda d: d.update(root="/abs"), "root: '/abs' is absolute"),
    (lambda d: d.update(splits=[0]), "splits: expected an object, got [0]"),
    (lambda d: d.update(splits={"seed": 1.5}), "splits.seed: expected an integer, got 1.5"),
    (lambda d: d.update(splits={"test_fraction": -0.5}), "splits.test_fraction: must be in [0, 1], got -0.5"),
    (lambda d: d.update(splits={"test_fraction": "half"}), "splits.test_fraction: expected a finite number"),
    (lambda d: d.update(assets=[7]), "assets[0]: expected an object, got 7"),
    (lambda d: d["assets"][0].update(extra=1), "assets[0]: unknown keys ['extra']"),
    (lambda d: d["assets"][0].update(id=5), "assets[0].id: expected a string, got 5"),
    (lambda d: d["assets"][0].update(class_name=""), "asset 'duck'.class_name: expected a non-empty string"),
    (lambda d: d["assets"][0].update(class_name=None), "asset 'duck'.class_name: expected a non-empty string"),
    (lambda d: d["assets"][0].update(license=""), "asset 'duck'.license: expected a non-empty string"),
    (lambda d: d["assets"][0].update(license=3), "asset 'duck'.license: expected a non-empty string"),
    (lambda d: d["assets"][0].update(imagenet_index=-1), "imagenet_index: expected an ImageNet-1k index"),
    (lambda d: d["assets"][0].update(files=None), "asset 'duck'.files: expected a list, got None"),
    (lambda d: d["assets"][0]["files"].append(3), "asset 'duck'.files[1]: expected an object, got 3"),
    (lambda d: d["assets"][0]["files"][0].update(mtime=1), "asset 'duck'.files[0]: unknown keys ['mtime']"),
    (lambda d: d["assets"][0]["files"][0].update(sha256=None), "files[0].sha256: expected 64 lowercase hex"),
    (lambda d: d["assets"][0]["files"][0].update(size=10.0), "files[0].size: expected a byte count >= 0, got 10.0"),
    (lambda d: d["assets"][0]["files"][0].update(path=""), "files[0].path: expected a non-empty string, got ''"),
    (lambda d: d["assets"][0]["files"][0].update(path=5), "files[0].path: expected a non-empty string, got 5"),
    (lambda d: d["assets"][0]["files"][0].update(path="duck//duck.obj"), "not a plain relative file path"),
    (lambda d: d["assets"][0]["files"][0].update(path="duck/"), "not a plain relative file path"),
    (lambda d: d["assets"][0]["files"][0].update(path="duck\x00.obj"), "contains a backslash or NUL"),
    (lambda d: d["assets"][0].update(archive=5), "asset 'duck'.archive: expected an object or null, got 5"),
    (lambda d: d["assets"][0].update(archive={"path": "a.zip", "sha256": SHA}), "archive: missing 'size'"),
    (lambda d: d["assets"][0].update(thumbnail="../t.png"), "asset 'duck'.thumbnail: '../t.png' escapes its folder"),
    (lambda d: d["assets"][0].update(thumbnail=[]), "asset 'duck'.thumbnail: expected a string or null, got []"),
    (lambda d: d["assets"][0].update(render_file=None), "asset 'duck': kind 'mesh' needs a render_file"),
    (lambda d: d["assets"][1].update(generator=None), "asset 'teapot': kind 'procedural' needs a generator"),
    (lambda d: d["assets"][1].update(generator=""), "asset 'teapot'.generator: expected a non-empty string, got ''"),
    (lambda d: d["assets"][1].update(generator=3), "asset 'teapot'.generator: expected a non-empty string, got 3"),
    (lambda d: d["assets"][1].update(kind="primitive", generator=None), "kind 'primitive' needs a generator"),
    (lambda d: d["assets"][0].update(kind="image", render_file=None), "kind 'image' needs a render_file"),
    (lambda d: d["assets"][0].update(scale="2"), "asset 'duck'.scale: expected a finite number, got '2'"),
    (lambda d: d["assets"][0].update(scale=float("nan")), "asset 'duck'.scale: expected a finite number, got nan"),
    (lambda d: d["assets"][0].update(front_axis="up"), "front_axis: expected one of ['+x', '-x', '+y', '-y', '+z', "
     "'-z'] or null, got 'up'"),
    (lambda d: d["assets"][0].update(normalized="yes"), "asset 'duck'.normalized: expected true or false, got 'yes'"),
    (lambda d: d["assets"][0].update(mass_properties=[]), "mass_properties: expected an object or null, got []"),
    (lambda d: d["assets"][0]["mass_properties"].update(density=-1), "mass_properties.density: must be >= 0"),
    (lambda d: d["assets"][0]["mass_properties"].update(density="x"), "mass_properties.density: expected a finite"),
    (lambda d: d["assets"][0]["mass_properties"].update(mass=None), "mass_properties.mass: expected a finite number"),
    (lambda d: d["assets"][0]["mass_properties"].update(volume=-1), "mass_properties.volume: must be >= 0, got -1"),
    (lambda d: d["assets"][0]["mass_properties"].update(volume="1"), "mass_properties.volume: expected a finite"),
    (lambda d: d["assets"][0].update(params=[]), "asset 'duck'.params: expected an object, got []"),
    (lambda d: d["assets"][0].update(metadata="x"), "asset 'duck'.metadata: expected an object, got 'x'"),
    (lambda d: d["assets"][0].update(material=None), "asset 'duck'.material: expected an object, got None"),
    (lambda d: d["assets"][0]["material"].update(color="red"), "material.color: expected [r, g, b] or [r, g, b, a]"),
    (lambda d: d["assets"][0]["material"].update(color=[1, 1]), "material.color: expected [r, g, b] or [r, g, b, a]"),
    (lambda d: d["assets"][0]["material"].update(color=[1] * 5), "material.color: expected [r, g, b] or [r, g, b, a]"),
    (lambda d: d["assets"][0]["material"].update(color=[0, -1, 0]), "material.color[1]: must be in [0, 1], got -1"),
    (lambda d: d["assets"][0]["material"].update(texture_tint=[0, 0, "x"]), "material.texture_tint[2]: expected a "
     "finite number, got 'x'"),
    (lambda d: d["assets"][0]["material"].update(roughness=1.5), "asset 'duck'.material.roughness: must be in [0, 1], "
     "got 1.5"),
    (lambda d: d["assets"][0]["material"].update(roughness=-0.1), "material.roughness: must be in [0, 1], got -0.1"),
    (lambda d: d["assets"][0]["material"].update(roughness=None), "material.roughness: expected a finite number"),
    (lambda d: d["assets"][0]["material"].update(metallic=-0.1), "material.metallic: must be in [0, 1], got -0.1"),
    (lambda d: d["assets"][0]["material"].update(metallic=2), "material.metallic: must be in [0, 1], got 2"),
    (lambda d: d["assets"][0]["material"].update(metallic="x"), "material.metallic: expected a finite number"),
    (lambda d: d["assets"][0]["material"].update(specular=-1), "material.specular: must be in [0, 1], got -1"),
    (lambda d: d["assets"][0]["material"].update(specular=2), "material.specular: must be in [0, 1], got 2"),
    (lambda d: d["assets"][0]["material"].update(specular="x"), "material.specular: expected a finite number"),
    (lambda d: d["assets"][0]["material"].update(texture_tint=[1]), "material.texture_tint: expected [r, g, b]"),
    (lambda d: d["assets"][0]["mass_properties"].update(mass=-0.5), "mass_properties.mass: must be >= 0, got -0.5"),
    (lambda d: d["assets"][0].update(collision_file="duck/hull.obj"), "asset 'duck'.collision_file: 'duck/hull.obj' "
     "is not listed in files"),
    (lambda d: d.update(version=True), "version: this kubricgen reads version 1, got True"),
    # The format's identity comes first: a newer manifest is named as such, not by its unknown keys.
    (lambda d: d.update(version=2, newer_key=1), "version: this kubricgen reads version 1, got 2"),
]

# What the hand-written validator accepted stays accepted (nulls for optional fields, keys it ignored).
ACCEPTED = [
    lambda d: d.update(root=None), lambda d: d.update(root="package:pybullet_data"),
    lambda d: d.update(root="gs://bucket/prefix"), lambda d: d.update(root="lib/meshes"),
    lambda d: d.update(version=1.0), lambda d: d.update(splits={"seed": 3, "note": "ignored"}),
    lambda d: d["assets"][0].update(archive=None, thumbnail=None, collision_file=None, texture_file=None),
    lambda d: d["assets"][0].update(mass_properties=None, front_axis=None, imagenet_index=None),
    lambda d: d["assets"][0].update(front_axis="-x", generator=None),
    lambda d: d["assets"][0]["mass_properties"].update(center_of_mass=[0, 0, 0.1], inertia_per_kg=[[1, 0, 0]] * 3),
    lambda d: d["assets"][1].update(render_file=None, units="mm", scale=3),
]


@pytest.mark.parametrize("change", ACCEPTED)
def test_optional_nulls_and_ignored_keys_are_accepted(change):
  manifest.parse_manifest(broken(change), "toys.json")


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


def test_published_schema_matches_the_writers_and_the_dataclasses():
  schema = json.loads(locations.schema_path().read_text())
  assert schema["properties"]["schema"]["const"] == manifest.SCHEMA
  assert schema["properties"]["version"]["const"] == manifest.VERSION
  asset = schema["$defs"]["asset"]["properties"]
  assert asset["units"]["enum"] == list(manifest.UNITS)
  assert set(asset) == {f.name for f in dataclasses.fields(manifest.AssetEntry)}
  defaults = {f.name: f.default for f in dataclasses.fields(manifest.AssetEntry)}
  for key, value in asset.items():
    if "default" in value:
      assert defaults[key] == value["default"], key
  split_defaults = {k: v["default"] for k, v in schema["properties"]["splits"]["properties"].items()}
  assert split_defaults == manifest.Manifest(name="x", assets=()).splits


def _schema_rules(schema) -> set:
  """(id of a subschema, keyword) for every constraint in the schema file (not the conditions of `if`)."""
  rules = set()
  keywords = {"type", "enum", "const", "minimum", "maximum", "exclusiveMinimum", "minLength", "pattern", "minItems",
              "maxItems", "required", "not"}

  def walk(node):
    if isinstance(node, dict):
      rules.update((id(node), k) for k in node if k in keywords)
      if node.get("additionalProperties") is False:
        rules.add((id(node), "additionalProperties"))
      for key, value in node.items():
        if key not in ("if", "not", "default", "x-message", "enum", "const"):
          walk(value)
    elif isinstance(node, list):
      for value in node:
        walk(value)

  walk(schema)
  return rules


def test_every_schema_rule_has_a_refused_case():
  """Each constraint the schema file states is hit by a case of REFUSED (and so refused in one line), so a rule
  added to the schema without a case here fails this test."""
  validator = manifest.schema_validator()
  hit = set()

  def collect(errors):
    for error in errors:
      hit.add((id(error.schema), error.validator))
      collect(error.context or ())

  for change, _ in REFUSED:
    collect(validator.iter_errors(broken(change)))
  missing = _schema_rules(validator.schema) - hit
  described = sorted(f"{keyword} in {json.dumps(node)[:80]}" for node_id, keyword in missing
                     for node in _nodes(validator.schema) if id(node) == node_id)
  assert not missing, described


def _nodes(node):
  if isinstance(node, dict):
    yield node
    for value in node.values():
      yield from _nodes(value)
  elif isinstance(node, list):
    for value in node:
      yield from _nodes(value)


def _edited_schema(tmp_path, edit):
  schema = json.loads(locations.schema_path().read_text())
  edit(schema)
  folder = tmp_path / "assets"
  (folder / "manifests").mkdir(parents=True)
  (folder / "schema").mkdir()
  path = folder / "schema" / "manifest.v1.schema.json"
  path.write_text(json.dumps(schema))
  return path


SCHEMA_EDITS = [  # (edit of the schema file, the message valid() then gets)
    (lambda s: s["$defs"]["asset"]["properties"]["material"]["properties"]["roughness"].update(maximum=0.25),
     "manifest toys.json: asset 'duck'.material.roughness: must be in [0, 0.25], got 0.3"),
    (lambda s: s["$defs"]["asset"]["properties"]["kind"]["enum"].remove("procedural"),
     "manifest toys.json: asset 'teapot'.kind: expected one of ['mesh', 'primitive', 'image'], got 'procedural'"),
    (lambda s: s["required"].append("description"), "manifest toys.json: top level: missing 'description'"),
    (lambda s: s["$defs"]["file"]["properties"]["size"].update(minimum=11),
     "manifest toys.json: asset 'duck'.files[0].size: expected a byte count >= 0, got 10"),
    (lambda s: s["$defs"]["asset"]["properties"]["units"]["enum"].remove("cm"),
     "manifest toys.json: asset 'duck'.units: expected one of ['m', 'mm', 'in'], got 'cm'"),
    (lambda s: s["$defs"]["path"]["not"].update(pattern="[.]obj$"),
     "manifest toys.json: asset 'duck'.files[0].path: 'duck/duck.obj' is not allowed"),
]


@pytest.mark.parametrize("edit, message", SCHEMA_EDITS, ids=[m.split(": ")[1] for _, m in SCHEMA_EDITS])
def test_the_schema_file_is_the_one_source_of_truth(tmp_path, monkeypatch, edit, message):
  manifest.parse_manifest(valid(), "toys.json")  # the published schema accepts it
  path = _edited_schema(tmp_path, edit)
  with pytest.raises(ManifestError) as error:
    manifest.parse_manifest(valid(), "toys.json", schema_path=path)
  assert str(error.value) == message
  monkeypatch.setenv("KUBRICGEN_ASSETS_DIR", str(path.parents[1]))  # the default schema is the bundled folder's
  with pytest.raises(ManifestError) as error:
    manifest.parse_manifest(valid(), "toys.json")
  assert str(error.value) == message


def test_a_broken_schema_file_is_one_clear_line(tmp_path):
  path = _edited_schema(tmp_path, lambda s: s["properties"]["name"].update(type="text"))
  with pytest.raises(AssetError, match=r"^manifest schema .*manifest.v1.schema.json: SchemaError: ") as error:
    manifest.parse_manifest(valid(), "toys.json", schema_path=path)
  assert "\n" not in str(error.value)


def test_bundled_manifests_are_valid_and_up_to_date():
  for name in ("kubasic", "pybullet_data", "classes"):
    manifest.load_local(locations.bundled_manifest(name))
  manifest.load_local(locations.bundled_dir() / "backgrounds" / "manifest.json")
  import subprocess
  import sys
  script = locations.bundled_dir() / "tools" / "make_manifests.py"
  result = subprocess.run([sys.executable, str(script), "--check"], capture_output=True, text=True, check=False)
  assert result.returncode == 0, result.stdout + result.stderr
