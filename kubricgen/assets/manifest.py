"""The asset manifest (JSON, schema `kubricgen-asset-manifest` version 1): parsing, validation and atomic writing.

A manifest names a set of assets and where their files live (`root`: the manifest's own folder by default, an
installed package `package:NAME`, or a `gs://bucket/prefix`). Each asset has an id, a class name, an ImageNet-1k
index where one applies, a license, its files with sha256 and size, units and scale, render and collision files,
mass properties and free-form metadata. The published JSON Schema is `assets/schema/manifest.v1.schema.json`; this
module enforces the same rules and names the offending field in every error.
"""
from __future__ import annotations

import dataclasses
import json
import math
import re
from typing import Any

from kubricgen.assets import atomic
from kubricgen.assets.errors import IntegrityError, ManifestError
from kubricgen.assets.integrity import SHA256, check_relative_path

SCHEMA = "kubricgen-asset-manifest"
VERSION = 1
KINDS = ("mesh", "procedural", "primitive", "image")
UNITS = {"m": 1.0, "cm": 0.01, "mm": 0.001, "in": 0.0254}
UP_AXES = ("+x", "-x", "+y", "-y", "+z", "-z")
ASSET_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
TOP_LEVEL = {"schema", "version", "name", "description", "root", "splits", "assets"}
ASSET_FIELDS = {"id", "kind", "class_name", "imagenet_index", "license", "files", "archive", "render_file",
                "collision_file", "texture_file", "thumbnail", "units", "scale", "up_axis", "front_axis", "normalized",
                "mass_properties", "generator", "params", "material", "metadata"}
MATERIAL_FIELDS = {"color", "metallic", "roughness", "specular", "texture_tint"}


@dataclasses.dataclass(frozen=True)
class FileEntry:
  path: str
  sha256: str
  size: int

  def to_json(self) -> dict:
    return {"path": self.path, "sha256": self.sha256, "size": self.size}


@dataclasses.dataclass(frozen=True)
class AssetEntry:
  """One asset of a manifest (see the schema for each field's meaning)."""
  id: str
  kind: str
  class_name: str
  license: str
  imagenet_index: int | None = None
  files: tuple[FileEntry, ...] = ()
  archive: FileEntry | None = None
  render_file: str | None = None
  collision_file: str | None = None
  texture_file: str | None = None
  thumbnail: str | None = None
  units: str = "m"
  scale: float = 1.0
  up_axis: str = "+z"
  front_axis: str | None = None   # file axis that should face -Y (towards a default camera); None: keep
  normalized: bool = False
  mass_properties: dict | None = None
  generator: str | None = None
  params: dict = dataclasses.field(default_factory=dict)
  material: dict = dataclasses.field(default_factory=dict)
  metadata: dict = dataclasses.field(default_factory=dict)

  def file(self, path: str) -> FileEntry:
    for entry in self.files:
      if entry.path == path:
        return entry
    raise ManifestError(f"asset {self.id!r}: {path!r} is not listed in its files")

  def to_json(self) -> dict:
    out: dict[str, Any] = {"id": self.id, "kind": self.kind, "class_name": self.class_name,
                           "imagenet_index": self.imagenet_index, "license": self.license}
    if self.files:
      out["files"] = [f.to_json() for f in self.files]
    if self.archive:
      out["archive"] = self.archive.to_json()
    for key in ("render_file", "collision_file", "texture_file", "thumbnail", "generator"):
      if getattr(self, key) is not None:
        out[key] = getattr(self, key)
    if self.kind in ("mesh", "image"):
      out.update(units=self.units, scale=self.scale)
    if self.kind == "mesh":
      out.update(up_axis=self.up_axis, normalized=self.normalized)
      if self.front_axis is not None:
        out["front_axis"] = self.front_axis
    for key in ("mass_properties",):
      if getattr(self, key) is not None:
        out[key] = getattr(self, key)
    for key in ("params", "material", "metadata"):
      if getattr(self, key):
        out[key] = getattr(self, key)
    return out


@dataclasses.dataclass(frozen=True)
class Manifest:
  """A parsed manifest. `location` is where it was read from (a local path or a gs:// URL), for messages and roots."""
  name: str
  assets: tuple[AssetEntry, ...]
  root: str | None = None
  description: str = ""
  splits: dict = dataclasses.field(default_factory=lambda: {"seed": 0, "test_fraction": 0.25})
  location: str = "<memory>"

  def asset(self, asset_id: str) -> AssetEntry:
    for entry in self.assets:
      if entry.id == asset_id:
        return entry
    raise KeyError(asset_id)

  @property
  def ids(self) -> list[str]:
    return [entry.id for entry in self.assets]

  def to_json(self) -> dict:
    out: dict[str, Any] = {"schema": SCHEMA, "version": VERSION, "name": self.name}
    if self.description:
      out["description"] = self.description
    if self.root is not None:
      out["root"] = self.root
    out["splits"] = self.splits
    out["assets"] = [entry.to_json() for entry in self.assets]
    return out


# ---- validation -----------------------------------------------------------------------------------------------------


class _Checker:
  def __init__(self, where: str):
    self.where = where

  def fail(self, field: str, message: str):
    raise ManifestError(f"{self.where}: {field}: {message}")

  def string(self, value, field: str, pattern=None, allow_empty=False) -> str:
    if not isinstance(value, str) or (not value and not allow_empty):
      self.fail(field, f"expected a non-empty string, got {value!r}")
    if pattern is not None and not pattern.match(value):
      self.fail(field, f"{value!r} is not a valid value")
    return value

  def number(self, value, field: str, low=None, high=None, positive=False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
      self.fail(field, f"expected a finite number, got {value!r}")
    if positive and value <= 0:
      self.fail(field, f"must be > 0, got {value!r}")
    if (low is not None and value < low) or (high is not None and value > high):
      self.fail(field, f"must be in [{low}, {high}], got {value!r}")
    return float(value)

  def mapping(self, value, field: str) -> dict:
    if not isinstance(value, dict):
      self.fail(field, f"expected an object, got {type(value).__name__}")
    return value

  def path(self, value, field: str) -> str:
    self.string(value, field)
    try:
      return check_relative_path(value, f"{self.where}: {field}")
    except IntegrityError as error:
      raise ManifestError(str(error)) from None

  def file(self, value, field: str) -> FileEntry:
    value = self.mapping(value, field)
    unknown = set(value) - {"path", "sha256", "size"}
    if unknown:
      self.fail(field, f"unknown keys {sorted(unknown)}")
    for key in ("path", "sha256", "size"):
      if key not in value:
        self.fail(field, f"missing {key!r}")
    sha = value["sha256"]
    if not isinstance(sha, str) or not SHA256.match(sha):
      self.fail(f"{field}.sha256", f"expected 64 lowercase hex digits, got {sha!r}")
    size = value["size"]
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
      self.fail(f"{field}.size", f"expected a byte count >= 0, got {size!r}")
    return FileEntry(self.path(value["path"], f"{field}.path"), sha, size)


def _asset(value, index: int, check: _Checker) -> AssetEntry:
  field = f"assets[{index}]"
  value = check.mapping(value, field)
  unknown = set(value) - ASSET_FIELDS
  if unknown:
    check.fail(field, f"unknown keys {sorted(unknown)}")
  for key in ("id", "kind", "class_name", "license"):
    if key not in value:
      check.fail(field, f"missing {key!r}")
  asset_id = check.string(value["id"], f"{field}.id", ASSET_ID)
  field = f"asset {asset_id!r}"
  kind = value["kind"]
  if kind not in KINDS:
    check.fail(f"{field}.kind", f"expected one of {list(KINDS)}, got {kind!r}")
  kwargs: dict[str, Any] = {"id": asset_id, "kind": kind,
                            "class_name": check.string(value["class_name"], f"{field}.class_name"),
                            "license": check.string(value["license"], f"{field}.license")}
  index_value = value.get("imagenet_index")
  if index_value is not None:
    if isinstance(index_value, bool) or not isinstance(index_value, int) or not 0 <= index_value <= 999:
      check.fail(f"{field}.imagenet_index", f"expected an ImageNet-1k index 0..999 or null, got {index_value!r}")
    kwargs["imagenet_index"] = index_value
  files = value.get("files", [])
  if not isinstance(files, list):
    check.fail(f"{field}.files", "expected a list")
  kwargs["files"] = tuple(check.file(f, f"{field}.files[{i}]") for i, f in enumerate(files))
  paths = [f.path for f in kwargs["files"]]
  if len(set(paths)) != len(paths):
    check.fail(f"{field}.files", "lists a path twice")
  if value.get("archive") is not None:
    kwargs["archive"] = check.file(value["archive"], f"{field}.archive")
  for key in ("render_file", "collision_file", "texture_file", "thumbnail"):
    if value.get(key) is not None:
      kwargs[key] = check.path(value[key], f"{field}.{key}")
      if kwargs[key] not in paths:
        check.fail(f"{field}.{key}", f"{kwargs[key]!r} is not listed in files")
  if kind in ("mesh", "image"):
    if "render_file" not in kwargs:
      check.fail(field, f"kind {kind!r} needs a render_file")
  if kind in ("procedural", "primitive"):
    if "generator" not in value:
      check.fail(field, f"kind {kind!r} needs a generator")
    kwargs["generator"] = check.string(value["generator"], f"{field}.generator")
  units = value.get("units", "m")
  if units not in UNITS:
    check.fail(f"{field}.units", f"expected one of {sorted(UNITS)}, got {units!r}")
  kwargs["units"] = units
  kwargs["scale"] = check.number(value.get("scale", 1.0), f"{field}.scale", positive=True)
  up_axis = value.get("up_axis", "+z")
  if up_axis not in UP_AXES:
    check.fail(f"{field}.up_axis", f"expected one of {list(UP_AXES)}, got {up_axis!r}")
  kwargs["up_axis"] = up_axis
  front_axis = value.get("front_axis")
  if front_axis is not None:
    if front_axis not in UP_AXES:
      check.fail(f"{field}.front_axis", f"expected one of {list(UP_AXES)} or null, got {front_axis!r}")
    if front_axis[1] == up_axis[1]:
      check.fail(f"{field}.front_axis", f"{front_axis!r} is parallel to up_axis {up_axis!r}")
    kwargs["front_axis"] = front_axis
  normalized = value.get("normalized", False)
  if not isinstance(normalized, bool):
    check.fail(f"{field}.normalized", f"expected true or false, got {normalized!r}")
  kwargs["normalized"] = normalized
  if value.get("mass_properties") is not None:
    mass = check.mapping(value["mass_properties"], f"{field}.mass_properties")
    for key in ("mass", "density", "volume"):
      if key in mass:
        check.number(mass[key], f"{field}.mass_properties.{key}", low=0)
    kwargs["mass_properties"] = mass
  for key in ("params", "metadata"):
    kwargs[key] = dict(check.mapping(value.get(key, {}), f"{field}.{key}"))
  material = dict(check.mapping(value.get("material", {}), f"{field}.material"))
  unknown = set(material) - MATERIAL_FIELDS
  if unknown:
    check.fail(f"{field}.material", f"unknown keys {sorted(unknown)} (known: {sorted(MATERIAL_FIELDS)})")
  for key in ("color", "texture_tint"):
    if key in material:
      color = material[key]
      if not isinstance(color, list) or len(color) not in (3, 4):
        check.fail(f"{field}.material.{key}", f"expected [r, g, b] or [r, g, b, a], got {color!r}")
      for channel in color:
        check.number(channel, f"{field}.material.{key}", 0, 1)
  for key in ("metallic", "roughness", "specular"):
    if key in material:
      check.number(material[key], f"{field}.material.{key}", 0, 1)
  kwargs["material"] = material
  return AssetEntry(**kwargs)


def parse_manifest(data: Any, location: str = "<memory>") -> Manifest:
  """Validate a decoded manifest; raise ManifestError naming `location` and the field at fault."""
  check = _Checker(f"manifest {location}")
  data = check.mapping(data, "top level")
  if data.get("schema") != SCHEMA:
    check.fail("schema", f"expected {SCHEMA!r}, got {data.get('schema')!r}")
  version = data.get("version")
  if version != VERSION:
    check.fail("version", f"this kubricgen reads version {VERSION}, got {version!r}")
  unknown = set(data) - TOP_LEVEL
  if unknown:
    check.fail("top level", f"unknown keys {sorted(unknown)}")
  name = check.string(data.get("name"), "name", ASSET_ID)
  root = data.get("root")
  if root is not None:
    check.string(root, "root")
    if not (root.startswith("package:") or root.startswith("gs://")):
      check.path(root, "root")
  splits = dict(check.mapping(data.get("splits", {"seed": 0, "test_fraction": 0.25}), "splits"))
  seed = splits.get("seed", 0)
  if isinstance(seed, bool) or not isinstance(seed, int):
    check.fail("splits.seed", f"expected an integer, got {seed!r}")
  splits = {"seed": seed, "test_fraction": check.number(splits.get("test_fraction", 0.25), "splits.test_fraction",
                                                          0, 1)}
  assets = data.get("assets")
  if not isinstance(assets, list):
    check.fail("assets", "expected a list")
  entries = tuple(_asset(value, i, check) for i, value in enumerate(assets))
  seen: set[str] = set()
  for entry in entries:
    if entry.id in seen:
      check.fail("assets", f"duplicate asset id {entry.id!r}")
    seen.add(entry.id)
  description = data.get("description", "")
  if not isinstance(description, str):
    check.fail("description", "expected a string")
  return Manifest(name=name, assets=entries, root=root, description=description, splits=splits, location=location)


def loads(text: str | bytes, location: str = "<memory>") -> Manifest:
  try:
    data = json.loads(text)
  except (json.JSONDecodeError, UnicodeDecodeError) as error:
    raise ManifestError(f"manifest {location}: not valid JSON: {error}") from None
  return parse_manifest(data, location)


def load_local(path) -> Manifest:
  """Read a manifest from a local file."""
  try:
    with open(path, "rb") as handle:
      text = handle.read()
  except FileNotFoundError:
    raise ManifestError(f"manifest {path}: file not found") from None
  except IsADirectoryError:
    raise ManifestError(f"manifest {path}: is a folder, expected a JSON file") from None
  return loads(text, str(path))


def write(manifest: Manifest, path) -> None:
  """Write atomically (temp file + os.replace): readers see the old manifest or the new one, never half of one."""
  parse_manifest(manifest.to_json(), str(path))  # never write what we would refuse to read
  atomic.write_json(path, manifest.to_json())
