"""Asset sources: one interface (Kubric's `AssetSource.create(asset_id, **overrides)`) over every kind of asset.

- `AssetSource.from_manifest(path_or_url)` (`kb.AssetSource`): a manifest in either format; ours gives a
  `ManifestSource`, Kubric's (KuBasic, GSO, ShapeNet) a `KubricSource` (kubric_manifest.py).
- `ManifestSource`: any manifest (local file, or gs:// URL) of meshes, procedural shapes and primitives.
- `ProceduralSource.kubasic()`: Kubric's KuBasic set (cube, cylinder, sphere, cone, torus, gear, torus knot, sponge,
  Suzanne, teapot), from the bundled `kubasic` manifest.
- `ManifestSource.pybullet_data()`: the meshes that ship inside the `pybullet_data` package (duck, teddy, mug, ...),
  verified against the bundled checksums and used in place.
- `FolderSource(path)`: a folder of OBJ/GLB/GLTF/STL/PLY files, used as they are (convex-hull collision); run
  `kubricgen assets import` for a manifest with checksums, convex decomposition and mass properties.

Every object our manifests create is normalised like the primitives (bounding box centred, largest half-extent 1 at
scale 1), has its `asset_id` set and its metadata filled (class, ImageNet index, real size in metres: `obj.scale =
size_m` restores the real size). Objects from Kubric's manifests keep their files' own size and frame, as in Kubric.
"""
from __future__ import annotations

import dataclasses
import hashlib
import os
import pathlib

from kubricgen.assets import fetch, locations, meshes, prepare
from kubricgen.assets import manifest as manifest_lib
from kubricgen.assets.errors import AssetError, UnknownAssetError
from kubricgen.assets.manifest import UNITS, AssetEntry, Manifest
from kubricgen.scene.color import srgb_to_linear

PRIMITIVES = ("cube", "sphere", "cylinder", "cone", "torus")


@dataclasses.dataclass(frozen=True)
class AssetInfo:
  """What a source knows about an asset without building it."""
  id: str
  class_name: str
  imagenet_index: int | None = None
  kind: str = "mesh"
  license: str = ""
  source: str = ""
  metadata: dict = dataclasses.field(default_factory=dict)
  split: str | None = None   # "train" or "test" where the source holds a class split


def linear_rgba(color) -> tuple:
  """An sRGB-encoded manifest colour (r, g, b[, a]) -> the linear RGBA a material takes (alpha unchanged)."""
  rgba = list(color) + [1.0] * (4 - len(color))
  return tuple(float(c) for c in srgb_to_linear(rgba[:3])) + (float(rgba[3]),)


def held_out_split(infos: list[AssetInfo], seed: int, test_fraction: float) -> dict[str, str]:
  """{asset_id: 'train' | 'test'}: per class, a fixed-seed share of the instances is held out for testing.

  Instances are ordered by sha256(f"{seed}/{id}") (independent of listing order and of other assets); a class with
  n >= 2 instances gets max(1, round(test_fraction * n)) test instances, never all of them.
  """
  by_class: dict[str, list[str]] = {}
  for info in infos:
    by_class.setdefault(info.class_name, []).append(info.id)
  split = {}
  for ids in by_class.values():
    ordered = sorted(ids, key=lambda i: hashlib.sha256(f"{seed}/{i}".encode()).hexdigest())
    n_test = 0 if len(ids) < 2 or test_fraction <= 0 else min(len(ids) - 1, max(1, round(test_fraction * len(ids))))
    for rank, asset_id in enumerate(ordered):
      split[asset_id] = "test" if rank < n_test else "train"
  return split


class AssetSource:
  """Base class: a named set of assets that can be listed, described and created (Kubric's `kb.AssetSource`)."""

  name = "assets"

  @classmethod
  def from_manifest(cls, manifest_path, data_dir=None, scratch_dir=None) -> "AssetSource":
    """The source a manifest describes, in either format, read from a local path or a gs:// URL.

    The content decides: a kubricgen manifest (`"schema": "kubricgen-asset-manifest"`, which Kubric's lack) gives a
    checksum-verified `ManifestSource`; a Kubric manifest (`assets` an object of id -> entry: KuBasic, GSO,
    ShapeNet) gives a `KubricSource` (see kubric_manifest.py). data_dir: overrides a Kubric manifest's `data_dir`
    (a kubricgen manifest names its folder in `root`, so ValueError there). scratch_dir: where a Kubric manifest's
    archives are extracted (default: the asset cache); kubricgen manifests always use the verified cache.

    Raises ManifestNotFoundError (a FileNotFoundError) for a missing local manifest, StorageError for gs://
    failures, ManifestError (a ValueError) for a manifest in neither format or with a bad field, naming the
    manifest and the field.
    """
    from kubricgen.assets import kubric_manifest  # pylint: disable=import-outside-toplevel
    from kubricgen.assets.errors import ManifestError  # pylint: disable=import-outside-toplevel
    import json  # pylint: disable=import-outside-toplevel
    location = str(os.fspath(manifest_path) if isinstance(manifest_path, os.PathLike) else manifest_path)
    text = manifest_lib.read_manifest_file(location)
    try:
      data = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
      raise ManifestError(f"manifest {location}: not valid JSON: {error}") from None
    if kubric_manifest.is_kubric_manifest(data):
      return kubric_manifest.KubricSource(kubric_manifest.parse(data, location, data_dir), scratch_dir)
    if isinstance(data, dict) and "schema" in data:
      if data_dir is not None:
        raise ManifestError(f"manifest {location}: data_dir applies to Kubric manifests; a kubricgen manifest "
                            "names its files' folder in 'root'")
      return ManifestSource(manifest_lib.parse_manifest(data, location))
    raise ManifestError(f"manifest {location}: top level: neither a kubricgen manifest ('schema': "
                        f"{manifest_lib.SCHEMA!r}, 'assets' a list) nor a Kubric manifest ('assets' an object of "
                        "asset id -> entry)")

  def close(self) -> None:
    """Kubric's API; nothing to release (extracted and downloaded files live in a shared, content-addressed
    cache)."""

  def __enter__(self):
    return self

  def __exit__(self, *exc_info):
    self.close()

  @property
  def ids(self) -> list[str]:
    return [info.id for info in self.infos]

  all_asset_ids = ids  # Kubric's name

  @property
  def infos(self) -> list[AssetInfo]:
    raise NotImplementedError

  def info(self, asset_id: str) -> AssetInfo:
    for info in self.infos:
      if info.id == asset_id:
        return info
    raise UnknownAssetError(f"{self.name}: unknown asset id {asset_id!r} ({len(self.infos)} assets; see "
                            "`kubricgen assets list`)")

  def create(self, asset_id: str, **overrides):
    """A scene object for `asset_id`; `overrides` set object properties (position, scale, mass, material, ...)."""
    raise NotImplementedError

  def splits(self) -> dict[str, str]:
    return held_out_split(self.infos, 0, 0.0)

  def get_test_split(self, fraction: float | None = None) -> tuple[list[str], list[str]]:
    """(train ids, test ids), as in Kubric (the split is per class and deterministic)."""
    split = self.splits() if fraction is None else held_out_split(self.infos, 0, fraction)
    return ([i for i in self.ids if split[i] == "train"], [i for i in self.ids if split[i] == "test"])

  def __len__(self) -> int:
    return len(self.infos)

  def __contains__(self, asset_id) -> bool:
    return asset_id in self.ids


def material_for(entry: AssetEntry, texture: pathlib.Path | None, fallback_color=None):
  """The PrincipledBSDFMaterial of an asset: its manifest material, texture (tinted if asked) or mesh colour."""
  from kubricgen.scene.materials import PrincipledBSDFMaterial  # pylint: disable=import-outside-toplevel
  spec = entry.material
  if texture is not None and spec.get("texture_tint"):
    texture = prepare.tinted_texture(texture, spec["texture_tint"])
  color = spec.get("color") or fallback_color or (0.8, 0.8, 0.8)
  return PrincipledBSDFMaterial(color=linear_rgba(color), metallic=float(spec.get("metallic", 0.0)),
                                roughness=float(spec.get("roughness", 0.5)), specular=float(spec.get("specular", 0.5)),
                                texture=str(texture) if texture is not None else None, name=entry.id)


def _metadata(entry: AssetEntry, source: str, size_m: float) -> dict:
  return {"asset_id": entry.id, "class_name": entry.class_name, "imagenet_index": entry.imagenet_index,
          "source": source, "license": entry.license, "size_m": round(size_m, 6), **entry.metadata}


class ManifestSource(AssetSource):
  """Assets described by a manifest (local path or gs:// URL)."""

  def __init__(self, manifest: Manifest, vhacd_resolution: int | None = None):
    self.manifest = manifest
    self.name = manifest.name
    self.vhacd_resolution = vhacd_resolution
    self._infos = [AssetInfo(e.id, e.class_name, e.imagenet_index, e.kind, e.license, manifest.name,
                             dict(e.metadata)) for e in manifest.assets]
    self._entries = {e.id: e for e in manifest.assets}

  @property
  def version(self) -> str:
    """Changes whenever anything that shapes the created objects changes (manifest, generators, derivation)."""
    from kubricgen.assets import shapes  # pylint: disable=import-outside-toplevel
    import json  # pylint: disable=import-outside-toplevel
    text = json.dumps([self.manifest.to_json(), shapes.VERSION, prepare.VERSION], sort_keys=True)
    return f"{self.name}@{hashlib.sha256(text.encode()).hexdigest()[:12]}"

  @classmethod
  def from_manifest(cls, location) -> "ManifestSource":
    """Load a manifest from a local path or a gs:// URL (verified, cached)."""
    text = str(location)
    if text.startswith("gs://"):
      from kubricgen import storage  # pylint: disable=import-outside-toplevel
      data = storage.default_storage().read_bytes(text)
      return cls(manifest_lib.loads(data, text))
    return cls(manifest_lib.load_local(os.fspath(location)))

  @classmethod
  def bundled(cls, name: str) -> "ManifestSource":
    return cls.from_manifest(locations.bundled_manifest(name))

  @classmethod
  def pybullet_data(cls) -> "ManifestSource":
    return cls.bundled("pybullet_data")

  @property
  def infos(self) -> list[AssetInfo]:
    return list(self._infos)

  def entry(self, asset_id: str) -> AssetEntry:
    if asset_id not in self._entries:
      self.info(asset_id)  # raises UnknownAssetError with the message
    return self._entries[asset_id]

  def splits(self) -> dict[str, str]:
    return held_out_split(self._infos, self.manifest.splits["seed"], self.manifest.splits["test_fraction"])

  def fetch(self, asset_id: str) -> dict[str, pathlib.Path]:
    """Verified local paths of the asset's files (downloaded and cached for gs:// manifests)."""
    return fetch.asset_files(self.manifest, self.entry(asset_id))

  def prepare(self, asset_id: str) -> prepare.Prepared | None:
    """The asset's normalised, cached files (None for primitives)."""
    entry = self.entry(asset_id)
    if entry.kind == "primitive":
      return None
    if entry.kind == "procedural":
      size = entry.scale * UNITS[entry.units]
      density = float((entry.mass_properties or {}).get("density", prepare.DEFAULT_DENSITY))
      return prepare.prepare_procedural(entry.generator, entry.params, size, density)
    if entry.kind != "mesh":
      raise AssetError(f"{self.name}: asset {asset_id!r} is a {entry.kind}, not an object")
    files = self.fetch(asset_id)
    if entry.normalized:
      info = {"size_m": entry.scale * UNITS[entry.units], "mass_properties": entry.mass_properties or {}}
      texture = files.get(entry.texture_file) if entry.texture_file else None
      collision = files[entry.collision_file] if entry.collision_file else None
      if collision is None:
        return prepare.prepare_mesh(entry, files, self.vhacd_resolution)
      return prepare.Prepared(files[entry.render_file], collision, texture, info)
    return prepare.prepare_mesh(entry, files, self.vhacd_resolution)

  def create(self, asset_id: str, params: dict | None = None, texture_from: str | None = None, **overrides):
    """A scene object for `asset_id`. `params`: a procedural asset's generator parameters to override.
    `texture_from`: another asset whose surface this one wears (shape-texture cue conflict): for two procedural
    assets, this shape painted with the other's skin (`shapes.skin`) and given its material; otherwise the other
    asset's material (colour, finish, texture image through this mesh's UVs)."""
    import kubricgen.scene as kbs  # pylint: disable=import-outside-toplevel
    entry = self.entry(asset_id)
    surface = self.entry(texture_from) if texture_from is not None else None
    repaint = surface is not None and entry.kind == surface.kind == "procedural"
    if params:
      if entry.kind not in ("procedural", "primitive"):
        raise AssetError(f"{self.name}: asset {asset_id!r} is a {entry.kind}; only procedural assets take params")
      entry = dataclasses.replace(entry, params={**entry.params, **params})
    if entry.kind == "primitive":
      if entry.generator not in PRIMITIVES:
        raise AssetError(f"{self.name}: asset {asset_id!r}: unknown primitive {entry.generator!r}; "
                         f"known: {list(PRIMITIVES)}")
      klass = {"cube": kbs.Cube, "sphere": kbs.Sphere, "cylinder": kbs.Cylinder, "cone": kbs.Cone,
               "torus": kbs.Torus}[entry.generator]
      size = entry.scale * UNITS[entry.units]
      kwargs = {"material": material_for(entry, None), "asset_id": entry.id,
                "metadata": _metadata(entry, self.name, size), **dict(entry.params)}
      kwargs.update(overrides)
      obj = klass(**kwargs)
    else:
      if entry.kind == "procedural" and (params or repaint):
        size = entry.scale * UNITS[entry.units]
        density = float((entry.mass_properties or {}).get("density", prepare.DEFAULT_DENSITY))
        prepared = prepare.prepare_procedural(entry.generator, entry.params, size, density,
                                              surface=(surface.generator, dict(surface.params)) if repaint else None)
      else:
        prepared = self.prepare(asset_id)
      mass = (entry.mass_properties or {}).get("mass") or prepared.info.get("mass_properties", {}).get("mass") or 1.0
      metadata = _metadata(entry, self.name, prepared.size_m)
      material = material_for(surface if repaint else entry, prepared.texture, prepared.info.get("mesh_color"))
      kwargs = {"render_filename": str(prepared.render), "collision_filename": str(prepared.collision),
                "material": material, "mass": float(mass), "asset_id": entry.id, "metadata": metadata}
      kwargs.update(overrides)
      obj = kbs.FileBasedObject(**kwargs)
    if surface is not None:
      if not repaint and "material" not in overrides:
        obj.material = self.create(texture_from).material
      obj.metadata["texture_from"] = texture_from
    return obj


class ProceduralSource(ManifestSource):
  """Procedural shapes and primitives (no files): `ProceduralSource.kubasic()` is Kubric's KuBasic set."""

  @classmethod
  def kubasic(cls) -> "ProceduralSource":
    return cls(manifest_lib.load_local(locations.bundled_manifest("kubasic")))


class FolderSource(AssetSource):
  """Every OBJ/GLB/GLTF/STL/PLY file in a folder (not recursive); the id is the file name without its suffix.

  Files are used as they are: no checksums, class name = id, collision = convex hull (or V-HACD pieces with
  `vhacd_resolution`). `kubricgen assets import` turns such a folder into a checked manifest.
  """

  def __init__(self, folder, class_name: str | None = None, license: str = "unknown",
               vhacd_resolution: int | None = None):
    self.folder = pathlib.Path(folder)
    if not self.folder.is_dir():
      raise AssetError(f"asset folder not found: {self.folder}")
    self.name = self.folder.name
    self.class_name, self.license, self.vhacd_resolution = class_name, license, vhacd_resolution
    self.files = {p.stem: p for p in sorted(self.folder.iterdir())
                  if p.suffix.lower() in meshes.MESH_SUFFIXES and p.is_file()}
    if len(self.files) != len([p for p in self.folder.iterdir() if p.suffix.lower() in meshes.MESH_SUFFIXES]):
      raise AssetError(f"{self.folder}: mesh entries that are not regular files")

  @property
  def infos(self) -> list[AssetInfo]:
    return [AssetInfo(stem, self.class_name or stem, None, "mesh", self.license, self.name,
                      {"file": path.name}) for stem, path in self.files.items()]

  def _entry(self, asset_id: str) -> tuple[AssetEntry, dict]:
    from kubricgen.assets.integrity import sha256_file  # pylint: disable=import-outside-toplevel
    self.info(asset_id)
    path = self.files[asset_id]
    file = manifest_lib.FileEntry(path.name, sha256_file(path), path.stat().st_size)
    entry = AssetEntry(id=asset_id, kind="mesh", class_name=self.class_name or asset_id, license=self.license,
                       files=(file,), render_file=path.name)
    return entry, {path.name: path}

  def prepare(self, asset_id: str) -> prepare.Prepared:
    entry, files = self._entry(asset_id)
    return prepare.prepare_mesh(entry, files, self.vhacd_resolution)

  def create(self, asset_id: str, **overrides):
    import kubricgen.scene as kbs  # pylint: disable=import-outside-toplevel
    entry, files = self._entry(asset_id)
    prepared = prepare.prepare_mesh(entry, files, self.vhacd_resolution)
    kwargs = {"render_filename": str(prepared.render), "collision_filename": str(prepared.collision),
              "material": material_for(entry, prepared.texture, prepared.info.get("mesh_color")),
              "mass": float(prepared.info["mass_properties"]["mass"]), "asset_id": asset_id,
              "metadata": _metadata(entry, self.name, prepared.size_m)}
    kwargs.update(overrides)
    return kbs.FileBasedObject(**kwargs)
