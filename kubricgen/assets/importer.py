"""`kubricgen assets import`: a folder (or .zip/.tar archive) of user meshes -> a simulation-ready manifest.

For each OBJ/GLB/GLTF/STL/PLY file (searched recursively) it writes, next to the manifest in `<stem>/<id>/`: the
mesh normalised (Z-up, centred, largest half-extent 1), its texture, V-HACD convex collision pieces, and a
thumbnail; the manifest records every file's sha256 and size, the real size (`scale`, metres), mass properties and
the source's checksum. Files are content-addressed (`<sha256[:12]>-render.obj`, ...), so re-running does no work for
unchanged meshes (their digest matches the manifest), the manifest is replaced atomically as the last step, and
files of removed or changed assets are deleted only after that.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import pathlib
import re

from kubricgen import atomic
from kubricgen.assets import integrity, locations, meshes, prepare
from kubricgen.assets import manifest as manifest_lib
from kubricgen.assets.errors import AssetError, IntegrityError
from kubricgen.assets.manifest import UNITS, AssetEntry, FileEntry, Manifest

ARCHIVE_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz")
IMPORTER_VERSION = 1


@dataclasses.dataclass
class ImportOptions:
  class_name: str | None = None     # default: the asset id
  license: str = "unknown"
  units: str = "m"
  scale: float = 1.0
  up_axis: str = "+z"
  front_axis: str | None = None     # the file axis that should face -Y
  density: float = prepare.DEFAULT_DENSITY
  vhacd_resolution: int = 100_000
  thumbnails: bool = True
  thumbnail_size: int = 128

  def key(self) -> dict:
    return {k: v for k, v in dataclasses.asdict(self).items() if k != "thumbnails"} | {"version": IMPORTER_VERSION}


@dataclasses.dataclass
class ImportReport:
  imported: list[str]
  unchanged: list[str]
  removed: list[str]
  manifest: pathlib.Path


def _asset_id(relative: pathlib.PurePosixPath) -> str:
  text = str(relative.with_suffix("")).replace("/", "_")
  text = re.sub(r"[^A-Za-z0-9_.\-]", "_", text).strip("._-") or "asset"
  return text if re.match(r"^[A-Za-z0-9]", text) else f"a{text}"


def _references(mesh: pathlib.Path) -> list[str]:
  """Files a mesh names, relative to the mesh: an OBJ's material libraries (`mtllib`) and their texture maps
  (`map_*`, `bump`, `disp`, `decal`, `refl`, with options and spaces in names), a glTF's external buffers and images
  (URIs, percent-decoded)."""
  import urllib.parse  # pylint: disable=import-outside-toplevel
  found = []
  suffix = mesh.suffix.lower()
  if suffix == ".obj":
    found += [reference for _, reference in meshes.obj_references(mesh)]
  elif suffix == ".gltf":
    data = json.loads(mesh.read_text(encoding="utf-8"))
    found += [urllib.parse.unquote(b["uri"]) for b in data.get("buffers", []) + data.get("images", [])
              if "uri" in b and not b["uri"].startswith("data:")]
  return found


def _sources(folder: pathlib.Path, mesh: pathlib.Path) -> list[pathlib.Path]:
  """The mesh and the files it references, each checked to stay inside `folder` (links included)."""
  files = [integrity.resolve_inside(folder, mesh.relative_to(folder).as_posix(), "import")]
  for reference in _references(mesh):
    relative = (mesh.parent.relative_to(folder) / reference).as_posix()
    relative = os.path.normpath(relative).replace(os.sep, "/")
    path = integrity.resolve_inside(folder, relative, f"import: {mesh.name} references")
    if path.is_file():
      files.append(path)
  return files


def _digest(paths: list[pathlib.Path], options: ImportOptions) -> str:
  digest = hashlib.sha256(json.dumps(options.key(), sort_keys=True).encode())
  for path in paths:
    digest.update(path.name.encode() + b"\0" + integrity.sha256_file(path).encode())
  return digest.hexdigest()


def find_meshes(folder: pathlib.Path) -> dict[str, pathlib.Path]:
  """{asset id: mesh path} for every mesh file under `folder` (refusing links that lead outside it)."""
  found: dict[str, pathlib.Path] = {}
  for root, directories, files in os.walk(folder):
    directories[:] = sorted(d for d in directories if not d.startswith("."))
    for name in sorted(files):
      path = pathlib.Path(root) / name
      if path.suffix.lower() not in meshes.MESH_SUFFIXES or name.startswith("."):
        continue
      relative = pathlib.PurePosixPath(path.relative_to(folder).as_posix())
      integrity.resolve_inside(folder, str(relative), "import")
      asset_id = _asset_id(relative)
      if asset_id in found:
        raise AssetError(f"import: {relative} and {found[asset_id].relative_to(folder)} both map to id {asset_id!r}")
      found[asset_id] = path
  return found


def _unpack(source: pathlib.Path) -> pathlib.Path:
  archive_sha = integrity.sha256_file(source)
  folder = locations.cache_dir() / "extracted" / archive_sha
  if not folder.is_dir():
    integrity.safe_extract(source, folder)
  return folder


def _file(bundle_root: pathlib.Path, path: pathlib.Path) -> FileEntry:
  return FileEntry(path.relative_to(bundle_root).as_posix(), integrity.sha256_file(path), path.stat().st_size)


def _thumbnail(entry: AssetEntry, render: pathlib.Path, texture: pathlib.Path | None, color, size: int) -> bytes:
  import io  # pylint: disable=import-outside-toplevel
  from PIL import Image  # pylint: disable=import-outside-toplevel
  import kubricgen.scene as kbs  # pylint: disable=import-outside-toplevel
  from kubricgen.assets import preview  # pylint: disable=import-outside-toplevel
  from kubricgen.assets.sources import material_for  # pylint: disable=import-outside-toplevel
  obj = kbs.FileBasedObject(render_filename=str(render), material=material_for(entry, texture, color))
  buffer = io.BytesIO()
  Image.fromarray(preview.thumbnail(obj, size, 16)).save(buffer, format="PNG")
  return buffer.getvalue()


def _build_asset(asset_id: str, mesh: pathlib.Path, sources: list[pathlib.Path], digest: str,
                 options: ImportOptions, bundle_root: pathlib.Path, stem: str, written: list) -> AssetEntry:
  folder = pathlib.Path(mesh).resolve().parent
  files = {(p.relative_to(folder).as_posix() if folder in p.parents else p.name): p for p in sources}
  render_name = mesh.name
  entry = AssetEntry(id=asset_id, kind="mesh", class_name=options.class_name or asset_id, license=options.license,
                     files=tuple(FileEntry(name, integrity.sha256_file(p), p.stat().st_size)
                                 for name, p in files.items()),
                     render_file=render_name, units=options.units, scale=options.scale, up_axis=options.up_axis,
                     front_axis=options.front_axis,
                     mass_properties={"density": options.density})
  prepared = prepare.prepare_mesh(entry, files, options.vhacd_resolution)
  target = bundle_root / stem / asset_id
  target.mkdir(parents=True, exist_ok=True)
  short = digest[:12]
  outputs = {"render": target / f"{short}-render.obj", "collision": target / f"{short}-collision.obj"}
  if prepared.texture is not None:
    outputs["texture"] = target / f"{short}-texture.png"
  for role, path in outputs.items():
    if not path.exists():
      source = {"render": prepared.render, "collision": prepared.collision, "texture": prepared.texture}[role]
      atomic.write_bytes(path, pathlib.Path(source).read_bytes())
      written.append(path)
  if options.thumbnails:
    thumbnail = target / f"{short}-thumbnail.png"
    if not thumbnail.exists():
      atomic.write_bytes(thumbnail, _thumbnail(entry, outputs["render"], outputs.get("texture"),
                                               prepared.info.get("mesh_color"), options.thumbnail_size))
      written.append(thumbnail)
    outputs["thumbnail"] = thumbnail
  listed = {role: _file(bundle_root, path) for role, path in outputs.items()}
  color = prepared.info.get("mesh_color")
  return AssetEntry(
      id=asset_id, kind="mesh", class_name=options.class_name or asset_id, license=options.license,
      files=tuple(listed.values()), render_file=listed["render"].path, collision_file=listed["collision"].path,
      texture_file=listed["texture"].path if "texture" in listed else None,
      thumbnail=listed["thumbnail"].path if "thumbnail" in listed else None,
      units="m", scale=round(prepared.size_m, 9), up_axis="+z", normalized=True,
      mass_properties=prepared.info["mass_properties"],
      material={"color": [round(c, 4) for c in color]} if color else {},
      metadata={"source": mesh.name, "source_digest": digest, "vhacd_resolution": options.vhacd_resolution,
                "collision_pieces": len(meshes.read_pieces(outputs["collision"]))})


def import_folder(source, out, options: ImportOptions | None = None, progress: bool = False) -> ImportReport:
  """Import every mesh under `source` (a folder or a .zip/.tar archive) into the manifest `out`."""
  options = options or ImportOptions()
  if options.units not in UNITS:
    raise AssetError(f"import: unknown units {options.units!r}; expected one of {sorted(UNITS)}")
  if options.front_axis is not None and options.front_axis[1] == options.up_axis[1]:
    raise AssetError(f"import: front axis {options.front_axis} is parallel to up axis {options.up_axis}")
  source, out = pathlib.Path(source), pathlib.Path(out)
  if source.is_file() and source.name.lower().endswith(ARCHIVE_SUFFIXES):
    folder = _unpack(source)
  elif source.is_dir():
    folder = source.resolve()
  else:
    raise AssetError(f"import: {source} is not a folder or a .zip/.tar archive")
  if out.suffix.lower() != ".json":
    raise AssetError(f"import: --out must name a .json manifest, got {out}")
  found = find_meshes(folder)
  if not found:
    raise AssetError(f"import: no mesh files ({', '.join(meshes.MESH_SUFFIXES)}) under {source}")
  bundle_root, stem = out.resolve().parent, out.stem
  previous: dict[str, AssetEntry] = {}
  if out.exists():
    try:
      previous = {e.id: e for e in manifest_lib.load_local(out).assets}
    except AssetError:
      previous = {}  # an unreadable old manifest is replaced
  from tqdm.auto import tqdm  # pylint: disable=import-outside-toplevel
  entries, imported, unchanged, written = [], [], [], []
  new_root = not bundle_root.exists()
  try:
    for asset_id, mesh in tqdm(found.items(), desc="import", unit="mesh", disable=not progress, leave=False):
      sources = _sources(folder, mesh)
      digest = _digest(sources, options)
      old = previous.get(asset_id)
      if old is not None and old.metadata.get("source_digest") == digest and _intact(bundle_root, old, options):
        entries.append(old)
        unchanged.append(asset_id)
        continue
      entries.append(_build_asset(asset_id, mesh, sources, digest, options, bundle_root, stem, written))
      imported.append(asset_id)
  except BaseException:  # leave the previous manifest and its files as they were
    for path in written:
      path.unlink(missing_ok=True)
    _prune_empty(bundle_root / stem)
    if new_root and bundle_root.is_dir() and not any(bundle_root.iterdir()):
      bundle_root.rmdir()
    raise
  removed = sorted(set(previous) - set(found))
  manifest = Manifest(name=re.sub(r"[^A-Za-z0-9_.\-]", "_", stem) or "imported", assets=tuple(entries),
                      description=f"Imported by kubricgen from {source.name}")
  if imported or removed or not out.exists():
    manifest_lib.write(manifest, out)
  _remove_unlisted(bundle_root / stem, bundle_root, entries)
  return ImportReport(imported, unchanged, removed, out)


def _intact(bundle_root: pathlib.Path, entry: AssetEntry, options: ImportOptions) -> bool:
  if options.thumbnails and entry.thumbnail is None:
    return False
  try:
    for file in entry.files:
      integrity.verify_file(integrity.resolve_inside(bundle_root, file.path), file.sha256, file.size)
  except IntegrityError:
    return False
  return True


def _prune_empty(folder: pathlib.Path) -> None:
  if folder.is_dir():
    for path in sorted(folder.rglob("*"), reverse=True):
      if path.is_dir() and not any(path.iterdir()):
        path.rmdir()
    if not any(folder.iterdir()):
      folder.rmdir()


def _remove_unlisted(bundle: pathlib.Path, bundle_root: pathlib.Path, entries: list[AssetEntry]) -> None:
  """Delete files under the bundle folder that the (new) manifest no longer lists."""
  if not bundle.is_dir():
    return
  keep = {(bundle_root / f.path).resolve() for e in entries for f in e.files}
  for path in sorted(bundle.rglob("*"), reverse=True):
    if path.is_file() and path.resolve() not in keep:
      path.unlink()
    elif path.is_dir() and not any(path.iterdir()):
      path.rmdir()
