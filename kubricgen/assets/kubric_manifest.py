"""Kubric's own asset manifests (KuBasic, GSO, ShapeNet, HDRI Haven): reading them, checking them, and creating
kubricgen scene objects from their entries.

Owns the Kubric format and `KubricSource`; `AssetSource.from_manifest` (sources.py) reads a manifest once and hands
it here when it is in Kubric's format. The format, as Kubric writes it:

    {"name": "GSO", "data_dir": "gs://bucket/GSO", "version": "1.0",
     "assets": {"mug": {"asset_type": "FileBasedObject", "license": "CC BY-SA 4.0",
                        "kwargs": {"render_filename": "{asset_dir}/visual_geometry.obj",
                                   "simulation_filename": "{asset_dir}/object.urdf", "mass": 0.3, "bounds": ...},
                        "metadata": {"category": "Mug", ...}}}}

- `name` defaults to the manifest's file name without its suffix; `data_dir` to the manifest's folder. A relative
  `data_dir` is taken relative to the manifest's folder (Kubric: to the working directory), so a manifest and its
  folder can move together; `from_manifest(..., data_dir=...)` overrides it.
- An entry's files: `path` absent or "" means `<data_dir>/<asset_id>.tar.gz`; `null` means the asset has no files;
  any other value is a path relative to `data_dir`, a .tar.gz (or .tar/.zip) archive, or a local folder used in
  place. Archives are extracted safely (absolute paths, `..`, links and special files refused, all or nothing) into
  a folder named by the archive's sha256, under `scratch_dir` or the asset cache, so a later run reuses it.
  Flat archives and archives holding one folder named after the asset both work, as in Kubric.
- `kwargs` values that start with `{asset_dir}/` name files in the asset's (extracted) folder; the archive is
  fetched only when a value needs it.
- `asset_type`: Kubric's `FileBasedObject` (render mesh + URDF) and `Texture` (listed, split, not created), and, for
  manifests written for kubricgen, the primitives of our scene API: `Cube`, `Sphere`, `Cylinder`, `Cone`, `Torus`.
"""
from __future__ import annotations

import copy
import dataclasses
import difflib
import os
import pathlib
import posixpath
import tarfile
import tempfile
import zlib
from typing import Any

import numpy as np

from kubricgen import storage
from kubricgen.assets import locations
from kubricgen.assets.errors import (AssetError, AssetFileNotFoundError, IntegrityError, ManifestError,
                                     UnknownAssetError)
from kubricgen.assets.integrity import check_relative_path, resolve_inside, safe_extract, verified_sha256
from kubricgen.assets.sources import AssetInfo, AssetSource

PRIMITIVE_TYPES = ("Cube", "Sphere", "Cylinder", "Cone", "Torus")
ASSET_TYPES = ("FileBasedObject", "Texture") + PRIMITIVE_TYPES
ASSET_DIR = "{asset_dir}/"
# Kubric kwargs that describe how Blender imports a file or repeat what the mesh says: our objects read the file
# themselves (trimesh, file coordinates as they are) and compute `bounds` from the render mesh.
IGNORED_KWARGS = ("bounds", "render_import_kwargs", "glb_do_transform_apply_after_import",
                  "use_parenting_instead_of_join")
FILE_KWARGS = ("render_filename", "simulation_filename", "collision_filename")
SPLIT_SEED = 42  # Kubric's get_test_split seed


@dataclasses.dataclass(frozen=True)
class KubricEntry:
  """One asset of a Kubric manifest. `path`: its archive or folder relative to data_dir; None: no files."""
  id: str
  asset_type: str
  kwargs: dict
  metadata: dict
  license: str
  path: str | None


@dataclasses.dataclass(frozen=True)
class KubricManifest:
  """A parsed Kubric manifest. `data_dir`: an absolute local folder or a gs:// URL; `location`: where it was read."""
  name: str
  data_dir: str
  assets: dict[str, KubricEntry]
  location: str
  version: str | None = None
  raw: dict = dataclasses.field(default_factory=dict, repr=False)


def is_kubric_manifest(data: Any) -> bool:
  """True for a decoded manifest in Kubric's layout (`assets` an object of id -> entry, no kubricgen `schema`)."""
  return isinstance(data, dict) and isinstance(data.get("assets"), dict) and "schema" not in data


def _show(value) -> str:
  text = "an object" if isinstance(value, dict) else repr(value)
  return text if len(text) <= 60 else text[:57] + "..."


def _manifest_folder(location: str) -> str:
  if location.startswith("gs://"):
    return storage.parent(location)
  return os.path.dirname(os.path.abspath(location))


def _join(base: str, relative: str, what: str) -> str:
  """`relative` (may hold `..`) under `base` (a local folder or gs:// URL)."""
  if base.startswith("gs://"):
    bucket, prefix = storage.split_url(base)
    joined = posixpath.normpath(posixpath.join(prefix, relative))
    if joined.startswith(".."):
      raise ManifestError(f"{what}: {relative!r} leads above the bucket of {base}")
    return f"gs://{bucket}" if joined == "." else f"gs://{bucket}/{joined}"
  return os.path.normpath(os.path.join(base, relative))


def resolve_data_dir(location: str, declared, override=None) -> str:
  """The folder (absolute local path or gs:// URL) an asset's `path` is relative to.

  `override` (the caller's data_dir) wins and is taken relative to the working directory; else the manifest's
  `data_dir`, relative to the manifest's folder; else the manifest's folder.
  """
  if override is not None:
    text = os.fspath(override) if isinstance(override, os.PathLike) else str(override)
    return text.rstrip("/") if text.startswith("gs://") else os.path.abspath(os.path.expanduser(text))
  folder = _manifest_folder(location)
  if declared is None or declared == "":
    return folder
  if declared.startswith("gs://"):
    try:
      storage.split_url(declared)
    except storage.StorageError as error:
      raise ManifestError(f"manifest {location}: data_dir: {error}") from None
    return declared.rstrip("/")
  if os.path.isabs(declared) and not location.startswith("gs://"):
    return os.path.normpath(declared)
  if os.path.isabs(declared):
    raise ManifestError(f"manifest {location}: data_dir: {declared!r} is a local path in a gs:// manifest")
  return _join(folder, declared, f"manifest {location}: data_dir")


def _check_asset_dir_values(value, field: str) -> None:
  """Every `{asset_dir}/...` string inside `value` must name a file inside the asset's folder."""
  if isinstance(value, str) and value.startswith(ASSET_DIR):
    try:
      check_relative_path(value[len(ASSET_DIR):], field)
    except IntegrityError as error:
      raise ManifestError(str(error)) from None
  elif isinstance(value, dict):
    for key, item in value.items():
      _check_asset_dir_values(item, f"{field}.{key}")
  elif isinstance(value, list):
    for index, item in enumerate(value):
      _check_asset_dir_values(item, f"{field}[{index}]")


def _entry(asset_id: str, value, where: str) -> KubricEntry:
  field = f"{where}: asset {asset_id!r}"
  if not asset_id:
    raise ManifestError(f"{where}: assets: an asset id is empty")
  if not isinstance(value, dict):
    raise ManifestError(f"{field}: expected an object, got {_show(value)}")
  if "asset_type" not in value:
    raise ManifestError(f"{field}: missing 'asset_type'")
  asset_type = value["asset_type"]
  if asset_type not in ASSET_TYPES:
    raise ManifestError(f"{field}.asset_type: expected one of {list(ASSET_TYPES)}, got {_show(asset_type)}")
  if value.get("id") is not None and value["id"] != asset_id:
    raise ManifestError(f"{field}.id: {_show(value['id'])} differs from its key {asset_id!r}")
  parts = {}
  for key in ("kwargs", "metadata"):
    part = value.get(key)
    if part is None:
      part = {}
    if not isinstance(part, dict):
      raise ManifestError(f"{field}.{key}: expected an object, got {_show(part)}")
    parts[key] = part
  license_text = value.get("license", "")
  if license_text is None:
    license_text = ""
  if not isinstance(license_text, str):
    raise ManifestError(f"{field}.license: expected a string, got {_show(license_text)}")
  path = value.get("path", "")
  if path == "":
    path = f"{asset_id}.tar.gz"
    what = f"{field}: its default archive path"
  else:
    what = f"{field}.path"
  if path is not None:
    if not isinstance(path, str):
      raise ManifestError(f"{field}.path: expected a string or null, got {_show(path)}")
    try:
      check_relative_path(path, what)
    except IntegrityError as error:
      raise ManifestError(str(error)) from None
  _check_asset_dir_values(parts["kwargs"], f"{field}.kwargs")
  return KubricEntry(asset_id, asset_type, parts["kwargs"], parts["metadata"], license_text, path)


def parse(data: Any, location: str, data_dir=None) -> KubricManifest:
  """Check a decoded Kubric manifest; raise ManifestError naming `location` and the field at fault (one line).

  data_dir: overrides the manifest's `data_dir` (see `resolve_data_dir`).
  """
  where = f"manifest {location}"
  if not isinstance(data, dict):
    raise ManifestError(f"{where}: top level: expected an object, got {_show(data)}")
  if not isinstance(data.get("assets"), dict):
    raise ManifestError(f"{where}: assets: expected an object of asset id -> entry, got "
                        f"{_show(data.get('assets')) if 'assets' in data else 'nothing'}")
  name = data.get("name")
  if name is None:
    name = pathlib.PurePosixPath(location).stem
  if not isinstance(name, str) or not name:
    raise ManifestError(f"{where}: name: expected a non-empty string, got {_show(name)}")
  declared = data.get("data_dir")
  if declared is not None and not isinstance(declared, str):
    raise ManifestError(f"{where}: data_dir: expected a string, got {_show(declared)}")
  version = data.get("version")
  assets = {asset_id: _entry(asset_id, value, where) for asset_id, value in data["assets"].items()}
  return KubricManifest(name=name, data_dir=resolve_data_dir(location, declared, data_dir), assets=assets,
                        location=location, version=None if version is None else str(version), raw=data)


def _urdf_meshes(urdf: str, what: str) -> None:
  """Refuse a URDF that is not XML or names mesh files that are not beside it (PyBullet would only warn)."""
  import xml.etree.ElementTree as ElementTree  # pylint: disable=import-outside-toplevel
  try:
    root = ElementTree.parse(urdf).getroot()
  except ElementTree.ParseError as error:
    raise AssetError(f"{what}: {urdf} is not valid URDF (XML): {error}") from None
  for mesh in root.iter("mesh"):
    name = mesh.get("filename")
    if not name or "://" in name:
      continue
    if not os.path.isfile(os.path.join(os.path.dirname(urdf), name)):
      raise AssetFileNotFoundError(f"{what}: {urdf} names mesh {name!r}, which is not beside it")


class KubricSource(AssetSource):
  """The assets of a Kubric manifest, with Kubric's `AssetSource` API (`create`, `all_asset_ids`,
  `get_test_split`, `name`, `data_dir`)."""

  def __init__(self, manifest: KubricManifest, scratch_dir=None):
    """scratch_dir: where archives are extracted (default: the asset cache, `locations.cache_dir()/kubric`)."""
    self.kubric_manifest = manifest
    self.name = manifest.name
    self.scratch_dir = None if scratch_dir is None else pathlib.Path(scratch_dir)
    self._assets = copy.deepcopy(manifest.raw.get("assets", {}))  # Kubric's raw entries (its examples read them)
    self._dirs: dict[str, pathlib.Path | None] = {}
    kinds = {"FileBasedObject": "mesh", "Texture": "image"}
    self._infos = [AssetInfo(e.id, str(e.metadata.get("category") or e.id), None, kinds.get(e.asset_type, "primitive"),
                             e.license, manifest.name, dict(e.metadata))
                   for e in sorted(manifest.assets.values(), key=lambda e: e.id)]

  @classmethod
  def from_manifest(cls, manifest_path, data_dir=None, scratch_dir=None) -> "KubricSource":
    """A source from a Kubric manifest only (local path or gs:// URL); `AssetSource.from_manifest` takes either
    format."""
    source = AssetSource.from_manifest(manifest_path, data_dir=data_dir, scratch_dir=scratch_dir)
    if not isinstance(source, KubricSource):
      raise ManifestError(f"manifest {manifest_path}: a kubricgen manifest, not a Kubric one (open it with "
                          "AssetSource.from_manifest)")
    return source

  @property
  def data_dir(self):
    """The folder the assets' paths are relative to: a pathlib.Path, or a `storage.GsPath` for gs:// (`kb.as_path`)."""
    import kubricgen  # pylint: disable=import-outside-toplevel
    return kubricgen.as_path(self.kubric_manifest.data_dir)

  @property
  def infos(self) -> list[AssetInfo]:
    return list(self._infos)

  @property
  def ids(self) -> list[str]:
    """Asset ids, sorted (Kubric's `all_asset_ids`)."""
    return [info.id for info in self._infos]

  all_asset_ids = ids

  @property
  def categories(self) -> list[str]:
    """The sorted, non-empty `metadata.category` values (Kubric's `categories`)."""
    return sorted({str(e.metadata["category"]) for e in self.kubric_manifest.assets.values()
                   if e.metadata.get("category")})

  def _where(self, asset_id: str) -> str:
    return f"manifest {self.kubric_manifest.location}: asset {asset_id!r}"

  def entry(self, asset_id: str) -> KubricEntry:
    """The manifest entry of `asset_id`; UnknownAssetError (a KeyError, as in Kubric) if there is none."""
    entry = self.kubric_manifest.assets.get(asset_id)
    if entry is None:
      close = difflib.get_close_matches(str(asset_id), self.ids, n=1)
      hint = f"; did you mean {close[0]!r}?" if close else ""
      raise UnknownAssetError(f"manifest {self.kubric_manifest.location}: unknown asset id {asset_id!r} "
                              f"({len(self.ids)} assets{hint})")
    return entry

  def splits(self) -> dict[str, str]:
    _, test = self.get_test_split()
    held_out = set(test)
    return {i: "test" if i in held_out else "train" for i in self.ids}

  def get_test_split(self, fraction: float = 0.1) -> tuple[list[str], list[str]]:
    """(train ids, test ids) exactly as Kubric splits: round(fraction * n) ids drawn without replacement by
    `np.random.default_rng(42)` from the sorted ids (test ids in draw order, train ids sorted). Depends only on the
    set of ids and `fraction` in [0, 1]; ValueError otherwise."""
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not 0 <= fraction <= 1:
      raise ValueError(f"{self.name}.get_test_split: fraction must be in [0, 1], got {fraction!r}")
    ids = self.ids
    size = int(round(len(ids) * fraction))
    test = [str(i) for i in np.random.default_rng(SPLIT_SEED).choice(ids, size=size, replace=False)] if size else []
    held_out = set(test)
    return [i for i in ids if i not in held_out], test

  # ---- files ------------------------------------------------------------------------------------------------------

  def _extract_root(self) -> pathlib.Path:
    return self.scratch_dir if self.scratch_dir is not None else locations.cache_dir() / "kubric"

  def _extract(self, archive: pathlib.Path, what: str) -> pathlib.Path:
    folder = self._extract_root() / "extracted" / verified_sha256(archive)
    if not folder.is_dir():
      try:
        safe_extract(archive, folder)
      except IntegrityError as error:
        raise IntegrityError(f"{what}: {error}") from None
      except (tarfile.TarError, EOFError, zlib.error) as error:
        raise IntegrityError(f"{what}: {archive.name}: broken archive ({type(error).__name__}: {error})") from None
    return folder

  def asset_dir(self, asset_id: str) -> pathlib.Path | None:
    """The local folder holding the asset's files (its archive fetched and extracted once per source; a local
    folder is used in place); None for an asset whose `path` is null. AssetFileNotFoundError (a FileNotFoundError)
    if the archive is not there."""
    entry = self.entry(asset_id)
    if asset_id in self._dirs:
      return self._dirs[asset_id]
    if entry.path is None:
      return None
    what = self._where(asset_id)
    data_dir = self.kubric_manifest.data_dir
    location = _join(data_dir, entry.path, what)
    if location.startswith("gs://"):
      root = self._extract_root()
      root.mkdir(parents=True, exist_ok=True)
      handle, temporary = tempfile.mkstemp(prefix=".download-", suffix=posixpath.basename(entry.path), dir=root)
      os.close(handle)
      try:
        try:
          storage.default_storage().download(location, temporary)  # streamed to disk, not held in memory
        except storage.StorageNotFoundError:
          raise AssetFileNotFoundError(f"{what}: archive {location} not found") from None
        folder = self._extract(pathlib.Path(temporary), what)
      finally:
        if os.path.exists(temporary):
          os.unlink(temporary)
    else:
      path = pathlib.Path(location)
      if path.is_dir():
        folder = path
      elif path.is_file():
        folder = self._extract(path, what)
      else:
        raise AssetFileNotFoundError(f"{what}: archive {entry.path} not found in data_dir {data_dir}")
    if (folder / asset_id).is_dir() and [p.name for p in folder.iterdir()] == [pathlib.PurePath(asset_id).parts[0]]:
      folder = folder / asset_id  # the archive holds one folder named after the asset
    self._dirs[asset_id] = folder
    return folder

  def _resolve(self, value, asset_id: str, field: str):
    """`value` with every `{asset_dir}/x` string replaced by the local path of x (fetching the archive)."""
    if isinstance(value, str) and value.startswith(ASSET_DIR):
      folder = self.asset_dir(asset_id)
      if folder is None:
        raise ManifestError(f"{self._where(asset_id)}.{field}: {value!r} needs the asset's files, but its path is "
                            "null")
      return str(resolve_inside(folder, value[len(ASSET_DIR):], f"{self._where(asset_id)}.{field}"))
    if isinstance(value, dict):
      return {key: self._resolve(item, asset_id, f"{field}.{key}") for key, item in value.items()}
    if isinstance(value, list):
      return [self._resolve(item, asset_id, f"{field}[{index}]") for index, item in enumerate(value)]
    return value

  def resolved_kwargs(self, asset_id: str, **overrides) -> dict[str, Any]:
    """The entry's kwargs updated by `overrides` (never changing the manifest), `{asset_dir}` paths made local."""
    merged = {**copy.deepcopy(self.entry(asset_id).kwargs), **overrides}
    return {key: self._resolve(value, asset_id, f"kwargs.{key}") for key, value in merged.items()}

  # ---- objects ----------------------------------------------------------------------------------------------------

  def create(self, asset_id: str, add_metadata: bool = True, **kwargs):
    """A scene object for `asset_id` (Kubric's `AssetSource.create`).

    The entry's kwargs, updated by `kwargs` (position, scale, mass, material, name, static, ...), become the
    object's properties; `{asset_dir}` paths point into the extracted archive. FileBasedObject entries give a
    `kb.FileBasedObject` (render mesh + `simulation_filename` URDF) with `asset_id` set; Cube/Sphere/Cylinder/Cone/
    Torus give our primitives. With `add_metadata`, the entry's metadata is copied into `obj.metadata` (a
    `metadata=` argument's keys win). Kubric's Blender-import kwargs and `bounds` (computed from the mesh here) are
    ignored.

    Raises UnknownAssetError (a KeyError) for an unknown id; AssetFileNotFoundError (a FileNotFoundError) for a
    missing archive, file or URDF mesh; AssetError (a ValueError) for Texture entries, bad kwargs or unreadable
    files; each message names the manifest, the asset and the field.
    """
    import kubricgen.scene as kbs  # pylint: disable=import-outside-toplevel
    entry = self.entry(asset_id)
    what = self._where(asset_id)
    if entry.asset_type == "Texture":
      raise AssetError(f"{what}: asset_type 'Texture' is an image, not a scene object; its files are in "
                       "source.asset_dir(asset_id) and source.resolved_kwargs(asset_id) names them")
    values = self.resolved_kwargs(asset_id, **kwargs)
    for key in IGNORED_KWARGS:
      values.pop(key, None)
    for key in FILE_KWARGS:
      path = values.get(key)
      if path is not None and not os.path.isfile(os.fspath(path)):
        raise AssetFileNotFoundError(f"{what}: kwargs.{key}: {os.fspath(path)} not found")
    if entry.asset_type == "FileBasedObject":
      if values.get("render_filename") is None:
        raise ManifestError(f"{what}: kwargs.render_filename: missing (a FileBasedObject needs its render mesh)")
      if values.get("simulation_filename") is not None:
        _urdf_meshes(os.fspath(values["simulation_filename"]), f"{what}: kwargs.simulation_filename")
      values["asset_id"] = asset_id
      klass = kbs.FileBasedObject
    else:
      values.setdefault("asset_id", asset_id)
      klass = getattr(kbs, entry.asset_type)
    if add_metadata:
      values["metadata"] = {**copy.deepcopy(entry.metadata), **(values.get("metadata") or {})}
    try:
      return klass(**values)
    except (TypeError, ValueError) as error:
      raise AssetError(f"{what}: {error}".replace("\n", " ")) from None
