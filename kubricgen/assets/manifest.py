"""The asset manifest (JSON, schema `kubricgen-asset-manifest` version 1): parsing, validation and atomic writing.

A manifest names a set of assets and where their files live (`root`: the manifest's own folder by default, an
installed package `package:NAME`, or a `gs://bucket/prefix`). Each asset has an id, a class name, an ImageNet-1k
index where one applies, a license, its files with sha256 and size, units and scale, render and collision files,
mass properties and free-form metadata.

The published JSON Schema `assets/schema/manifest.v1.schema.json` is the one statement of the format's structure
(types, required and unknown keys, enums, ranges, patterns, what each kind needs): a decoded manifest is validated
against that file with `jsonschema`, and the first error becomes a one-line ManifestError naming the field. Python
checks only what a schema cannot say: unique asset ids, each file path listed once, render/collision/texture/
thumbnail files listed in `files`, front_axis not parallel to up_axis, and (again, for the detailed message and as a
safety net) safe relative paths.
"""
from __future__ import annotations

import dataclasses
import functools
import json
import math
import numbers
from typing import Any

import jsonschema

from kubricgen import atomic
from kubricgen.assets import locations
from kubricgen.assets.errors import AssetError, IntegrityError, ManifestError, ManifestNotFoundError
from kubricgen.assets.integrity import check_relative_path

SCHEMA = "kubricgen-asset-manifest"  # what writers put in "schema"/"version"; tests check the schema file agrees
VERSION = 1
UNITS = {"m": 1.0, "cm": 0.01, "mm": 0.001, "in": 0.0254}  # metres per unit (the schema lists the same names)


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


def _is_integer(_checker, value) -> bool:
  # An integer as the JSON text writes it: 10, not 10.0 (json.loads gives a float) and not true.
  return isinstance(value, int) and not isinstance(value, bool)


def _is_number(_checker, value) -> bool:
  # A finite number: json.loads also accepts NaN and Infinity, which are not JSON.
  if isinstance(value, bool) or not isinstance(value, numbers.Real):
    return False
  try:
    return math.isfinite(value)
  except OverflowError:  # an integer too large for a float
    return False


@functools.lru_cache(maxsize=None)
def _validator_for_file(path: str):
  try:
    with open(path, encoding="utf-8") as handle:
      schema = json.load(handle)
    base = jsonschema.validators.validator_for(schema)  # the Draft the schema declares in "$schema"
    base.check_schema(schema)
  except (OSError, ValueError, jsonschema.exceptions.SchemaError) as error:
    message = getattr(error, "message", None) or str(error)
    raise AssetError(f"manifest schema {path}: {type(error).__name__}: {message}".replace("\n", " ")) from None
  checker = base.TYPE_CHECKER.redefine_many({"integer": _is_integer, "number": _is_number})
  return jsonschema.validators.extend(base, type_checker=checker)(schema)


def schema_validator(path=None):
  """The jsonschema validator of the published manifest schema (`locations.schema_path()` unless `path` is given),
  built once per schema file."""
  return _validator_for_file(str(path if path is not None else locations.schema_path()))


_TYPE_WORDS = {"string": "a string", "integer": "an integer", "number": "a finite number", "object": "an object",
               "array": "a list", "boolean": "true or false", "null": "null"}
_KEYWORD_ORDER = {"type": 0, "const": 1, "enum": 1, "required": 2, "additionalProperties": 3}


def _show(value) -> str:
  if isinstance(value, dict):
    return "an object"
  text = repr(value)
  if isinstance(value, list) and len(text) > 60:
    return f"a list of {len(value)} items"
  return text if len(text) <= 80 else text[:77] + "..."


def _types(names) -> str:
  names = [names] if isinstance(names, str) else list(names)
  words = [_TYPE_WORDS.get(n, n) for n in names if n != "null"] + (["null"] if "null" in names else [])
  return " or ".join(words)


def _position(data, path) -> tuple:
  """Where `path` lies in the document: keys in the order the file writes them, list items by index."""
  out, node = [], data
  for part in path:
    if isinstance(node, dict):
      keys = list(node)
      out.append(keys.index(part) if part in node else len(keys))
      node = node.get(part)
    elif isinstance(node, list) and isinstance(part, int):
      out.append(part)
      node = node[part] if part < len(node) else None
    else:
      out.append(0)
      node = None
  return tuple(out)


def _order(data):
  """Sort key of errors: the format's identity (top-level `const`: schema, version) first, then document order,
  an object's own errors before its members', the `if`/`then` rules last, then a fixed keyword order."""
  def key(error):
    path = list(error.absolute_path)
    return (not (error.validator == "const" and len(path) == 1), _position(data, path),
            "then" in error.absolute_schema_path, _KEYWORD_ORDER.get(error.validator, 9),
            [str(p) for p in error.absolute_schema_path], error.message)
  return key


def _leaf(error, data):
  """For an anyOf, the error of the branch that fits the value's type (e.g. the path rules of an optional path)."""
  while error.validator in ("anyOf", "oneOf") and error.context:
    branches: dict[Any, list] = {}
    for child in error.context:
      branches.setdefault(child.relative_schema_path[0], []).append(child)
    fitting = [errors for _, errors in sorted(branches.items())
               if not any(e.validator == "type" and not e.relative_path for e in errors)]
    if not fitting:
      break
    error = min(fitting[0], key=_order(data))
  return error


def _needs(error) -> bool:
  """An error of the asset's `if kind ... then` rules: the key that kind needs is missing or null."""
  return "then" in error.absolute_schema_path and (
      error.validator == "required" or (error.validator == "type" and error.instance is None))


def _parent(error, data):
  node = data
  for part in list(error.absolute_path)[:-1]:
    node = node[part]
  return node


def _message(error, data, field: str, where: str) -> str:
  """The part after `field: ` of the one-line message for one jsonschema error."""
  schema, value, rule, instance = error.schema, error.validator_value, error.validator, error.instance
  if _needs(error):  # an `if kind ... then required` rule: the key is missing or null
    asset = _parent(error, data) if rule == "type" else instance
    name = error.absolute_path[-1] if rule == "type" else [k for k in value if k not in instance][0]
    if isinstance(asset, dict) and "kind" in asset:
      return f"kind {asset['kind']!r} needs a {name}"
    return f"missing {name!r}"
  if rule == "required":
    return f"missing {[key for key in value if key not in instance][0]!r}"
  if rule == "additionalProperties":
    known = schema.get("properties", {})
    return f"unknown keys {sorted(key for key in instance if key not in known)}"
  if isinstance(schema, dict) and "x-message" in schema:
    return f"{schema['x-message']}, got {_show(instance)}"
  if rule == "not" and isinstance(instance, str):
    try:  # a path the schema refuses: say why, as the integrity checks do
      check_relative_path(instance, f"{where}: {field}")
    except IntegrityError as failure:
      raise ManifestError(str(failure)) from None
    return f"{instance!r} is not allowed"
  if rule == "type":
    words = _types(value)
    if words == "a string" and schema.get("minLength") == 1:
      words = "a non-empty string"
    return f"expected {words}, got {_show(instance)}"
  if rule in ("anyOf", "oneOf"):  # no branch takes this type of value (see _leaf)
    types = [t for e in error.context if e.validator == "type" and not e.relative_path
             for t in ([e.validator_value] if isinstance(e.validator_value, str) else e.validator_value)]
    if types:
      return f"expected {_types(types)}, got {_show(instance)}"
  if rule == "const":
    return f"expected {value!r}, got {_show(instance)}"
  if rule == "enum":
    listed = [v for v in value if v is not None]
    return f"expected one of {listed}{' or null' if None in value else ''}, got {_show(instance)}"
  if rule in ("minimum", "maximum") and "minimum" in schema and "maximum" in schema:
    return f"must be in [{schema['minimum']}, {schema['maximum']}], got {instance!r}"
  bounds = {"minimum": ">=", "maximum": "<=", "exclusiveMinimum": ">", "exclusiveMaximum": "<"}
  if rule in bounds:
    return f"must be {bounds[rule]} {value}, got {instance!r}"
  if rule == "minLength" and value == 1:
    return f"expected a non-empty string, got {instance!r}"
  if rule == "pattern":
    return f"{instance!r} is not a valid value (expected to match {value})"
  if rule in ("minItems", "maxItems"):
    return f"expected {schema.get('minItems', 0)} to {schema.get('maxItems', 'any number of')} items, got " \
           f"{_show(instance)}"
  return error.message


def _field(error, data, invalid_ids: set[int]) -> str:
  """How today's messages name a place: `top level`, `splits.test_fraction`, `assets[3]`, `asset 'mug'.scale`."""
  path = list(error.absolute_path)
  if _needs(error) and error.validator == "type":
    path = path[:-1]  # named at the asset, as a missing key is
  if not path:
    return "top level"
  head, rest = str(path[0]), path[1:]
  if head == "assets" and rest and isinstance(rest[0], int):
    index, rest = rest[0], rest[1:]
    asset = data["assets"][index]
    own = not rest and not _needs(error)  # the asset's own type, required or unknown keys: by index
    if own or index in invalid_ids or not isinstance(asset, dict) or "id" not in asset or rest[:1] == ["id"]:
      head = f"assets[{index}]"
    else:
      head = f"asset {asset['id']!r}"
  return head + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in rest)


def check_schema(data: Any, location: str = "<memory>", schema_path=None) -> None:
  """Validate `data` against the published JSON Schema; raise ManifestError for the first error, in one line."""
  errors = list(schema_validator(schema_path).iter_errors(data))
  if not errors:
    return
  where = f"manifest {location}"
  error = _leaf(min(errors, key=_order(data)), data)
  invalid_ids = {e.absolute_path[1] for e in errors if len(e.absolute_path) >= 3 and e.absolute_path[0] == "assets"
                 and e.absolute_path[2] == "id"}
  field = _field(error, data, invalid_ids)
  message = _message(error, data, field, where).replace("\n", " ")
  raise ManifestError(f"{where}: {field}: {message}")


def _path(value: str, what: str) -> str:
  try:
    return check_relative_path(value, what)
  except IntegrityError as error:
    raise ManifestError(str(error)) from None


def _file(value: dict, what: str) -> FileEntry:
  return FileEntry(_path(value["path"], f"{what}.path"), value["sha256"], value["size"])


def _asset(value: dict, where: str) -> AssetEntry:
  """Build one asset that the schema accepted, checking what the schema cannot."""
  field = f"{where}: asset {value['id']!r}"
  kind = value["kind"]
  files = tuple(_file(f, f"{field}.files[{i}]") for i, f in enumerate(value.get("files", [])))
  paths = [f.path for f in files]
  if len(set(paths)) != len(paths):
    raise ManifestError(f"{field}.files: lists a path twice")
  kwargs: dict[str, Any] = {"id": value["id"], "kind": kind, "class_name": value["class_name"],
                            "license": value["license"], "imagenet_index": value.get("imagenet_index"),
                            "files": files}
  if value.get("archive") is not None:
    kwargs["archive"] = _file(value["archive"], f"{field}.archive")
  for key in ("render_file", "collision_file", "texture_file", "thumbnail"):
    if value.get(key) is not None:
      kwargs[key] = _path(value[key], f"{field}.{key}")
      if kwargs[key] not in paths:
        raise ManifestError(f"{field}.{key}: {kwargs[key]!r} is not listed in files")
  if kind in ("procedural", "primitive"):
    kwargs["generator"] = value["generator"]
  up_axis = value.get("up_axis", "+z")
  front_axis = value.get("front_axis")
  if front_axis is not None and front_axis[1] == up_axis[1]:
    raise ManifestError(f"{field}.front_axis: {front_axis!r} is parallel to up_axis {up_axis!r}")
  kwargs.update(units=value.get("units", "m"), scale=float(value.get("scale", 1.0)), up_axis=up_axis,
                front_axis=front_axis, normalized=value.get("normalized", False),
                mass_properties=value.get("mass_properties"), params=dict(value.get("params", {})),
                material=dict(value.get("material", {})), metadata=dict(value.get("metadata", {})))
  return AssetEntry(**kwargs)


def parse_manifest(data: Any, location: str = "<memory>", schema_path=None) -> Manifest:
  """Validate a decoded manifest; raise ManifestError naming `location` and the field at fault.

  `schema_path`: the JSON Schema to validate against (default: the published one, `locations.schema_path()`)."""
  where = f"manifest {location}"
  if isinstance(data, dict) and "schema" not in data and isinstance(data.get("assets"), dict):
    raise ManifestError(f"{where}: top level: a Kubric manifest (no 'schema', assets keyed by id); open it with "
                        "kb.AssetSource.from_manifest")
  check_schema(data, location, schema_path)
  root = data.get("root")
  if root is not None and not root.startswith(("package:", "gs://")):
    _path(root, f"{where}: root")
  splits = data.get("splits", {})
  splits = {"seed": splits.get("seed", 0), "test_fraction": float(splits.get("test_fraction", 0.25))}
  entries = tuple(_asset(value, where) for value in data["assets"])
  seen: set[str] = set()
  for entry in entries:
    if entry.id in seen:
      raise ManifestError(f"{where}: assets: duplicate asset id {entry.id!r}")
    seen.add(entry.id)
  return Manifest(name=data["name"], assets=entries, root=root, description=data.get("description", ""),
                  splits=splits, location=location)


def loads(text: str | bytes, location: str = "<memory>") -> Manifest:
  try:
    data = json.loads(text)
  except (json.JSONDecodeError, UnicodeDecodeError) as error:
    raise ManifestError(f"manifest {location}: not valid JSON: {error}") from None
  return parse_manifest(data, location)


def read_manifest_file(location: str) -> bytes:
  """The bytes of a manifest file, local or gs:// (either format: ours or Kubric's).

  Raises:
    ManifestNotFoundError: no file there (also a FileNotFoundError). ManifestError: a folder.
    StorageError: gs:// that cannot be read.
  """
  if location.startswith("gs://"):
    from kubricgen import storage  # pylint: disable=import-outside-toplevel
    return storage.default_storage().read_bytes(location)
  try:
    with open(location, "rb") as handle:
      return handle.read()
  except FileNotFoundError:
    raise ManifestNotFoundError(f"manifest {location}: file not found") from None
  except IsADirectoryError:
    raise ManifestError(f"manifest {location}: is a folder, expected a JSON file") from None


def load_local(path) -> Manifest:
  """Read a manifest from a local file (errors: `read_manifest_file`, `parse_manifest`)."""
  return loads(read_manifest_file(str(path)), str(path))


def write(manifest: Manifest, path) -> None:
  """Write atomically (temp file + os.replace): readers see the old manifest or the new one, never half of one."""
  parse_manifest(manifest.to_json(), str(path))  # never write what we would refuse to read
  atomic.write_json(path, manifest.to_json())
