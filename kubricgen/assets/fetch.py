"""From a manifest entry to verified local files: in place for local and package roots, cached for gs:// roots.

- Local root (the manifest's folder, or `root` relative to it) and `package:NAME`: files are used where they are,
  after their size and sha256 match (hashed once per process per file version).
- `gs://` root: the asset's files are downloaded into `<cache>/remote/<digest>/`, verified, and the folder published
  atomically; a later run finds it there (cached) and downloads nothing.
- `archive`: the archive is fetched and verified like a file, then extracted safely into
  `<cache>/extracted/<sha256>/` (entries that escape, links and special files are refused), and the asset's files
  are verified inside it.
"""
from __future__ import annotations

import hashlib
import pathlib

from kubricgen import atomic, storage
from kubricgen.assets import locations
from kubricgen.assets.errors import IntegrityError
from kubricgen.assets.integrity import resolve_inside, safe_extract, verify_file
from kubricgen.assets.manifest import AssetEntry, FileEntry, Manifest


def root_of(manifest: Manifest) -> str:
  """The manifest's root as a local folder path or a gs:// URL."""
  location, root = manifest.location, manifest.root
  if root and root.startswith("package:"):
    return str(locations.package_dir(root[len("package:"):]))
  if root and root.startswith("gs://"):
    return root.rstrip("/")
  if location.startswith("gs://"):
    base = storage.parent(location)
    return storage.join(base, root) if root else base
  base = pathlib.Path(location).resolve().parent
  return str(base / root) if root else str(base)


def _digest(entries) -> str:
  text = "\n".join(f"{e.path} {e.sha256} {e.size}" for e in sorted(entries, key=lambda e: e.path))
  return hashlib.sha256(text.encode()).hexdigest()[:32]


def _remote_folder(root_url: str, entries: tuple[FileEntry, ...], what: str) -> pathlib.Path:
  folder = locations.cache_dir() / "remote" / _digest(entries)
  if folder.is_dir():
    return folder
  client = storage.default_storage()
  with atomic.staged_folder(folder) as staging:
    for entry in entries:
      target = resolve_inside(staging, entry.path, what)
      client.download(storage.join(root_url, entry.path), target)
      verify_file(target, entry.sha256, entry.size, f"{what}: {entry.path}")
  return folder


def _fetch_one(root: str, entry: FileEntry, what: str) -> pathlib.Path:
  if root.startswith("gs://"):
    return _remote_folder(root, (entry,), what) / entry.path
  path = resolve_inside(pathlib.Path(root), entry.path, what)
  return verify_file(path, entry.sha256, entry.size, f"{what}: {entry.path}")


def asset_files(manifest: Manifest, asset: AssetEntry) -> dict[str, pathlib.Path]:
  """Every file of `asset` as a verified local path, keyed by its manifest path."""
  what = f"asset {asset.id!r} ({manifest.location})"
  root = root_of(manifest)
  if asset.archive is not None:
    archive = _fetch_one(root, asset.archive, what)
    folder = locations.cache_dir() / "extracted" / asset.archive.sha256
    if not folder.is_dir():
      safe_extract(archive, folder)
    root = str(folder)
  elif root.startswith("gs://") and asset.files:
    folder = _remote_folder(root, asset.files, what)
    return {e.path: verify_file(folder / e.path, e.sha256, e.size, f"{what}: {e.path}") for e in asset.files}
  files = {}
  for entry in asset.files:
    path = resolve_inside(pathlib.Path(root), entry.path, what)
    if not path.exists():
      raise IntegrityError(f"{what}: missing file {entry.path} (looked in {root})")
    files[entry.path] = verify_file(path, entry.sha256, entry.size, f"{what}: {entry.path}")
  return files
