"""Where asset data lives on this machine: the bundled `assets/` folder, installed packages, and the local cache.

- Bundled data (manifests, schema, backgrounds) lives in the repository's top-level `assets/` folder;
  `$KUBRICGEN_ASSETS_DIR` points elsewhere (e.g. in an image that installs the package without the repository).
- A manifest root `package:NAME` means the folder of the installed Python package NAME (e.g. `pybullet_data`), so
  meshes that ship inside our pip dependencies are used in place, never copied into the repository.
- Derived files (normalised meshes, collision pieces, downloads, thumbnails) go to the cache:
  `$KUBRICGEN_ASSET_CACHE`, else `$XDG_CACHE_HOME/kubricgen/assets`, else `~/.cache/kubricgen/assets`.
"""
from __future__ import annotations

import importlib.util
import os
import pathlib

from kubricgen.assets.errors import AssetError

_REPOSITORY_ASSETS = pathlib.Path(__file__).resolve().parents[2] / "assets"


def bundled_dir() -> pathlib.Path:
  """The folder of bundled manifests, schema and backgrounds."""
  override = os.environ.get("KUBRICGEN_ASSETS_DIR")
  folder = pathlib.Path(override) if override else _REPOSITORY_ASSETS
  if not (folder / "manifests").is_dir():
    raise AssetError(f"bundled assets folder not found at {folder} (set KUBRICGEN_ASSETS_DIR to the repository's "
                     "assets/ folder)")
  return folder


def bundled_manifest(name: str) -> pathlib.Path:
  """Path of a bundled manifest, e.g. `bundled_manifest("kubasic")`."""
  return bundled_dir() / "manifests" / f"{name}.json"


def schema_path() -> pathlib.Path:
  return bundled_dir() / "schema" / "manifest.v1.schema.json"


def package_dir(name: str) -> pathlib.Path:
  """Folder of an installed package (for manifest roots `package:NAME`)."""
  spec = importlib.util.find_spec(name)
  if spec is None or not spec.submodule_search_locations:
    raise AssetError(f"package {name!r} is not installed (needed by a manifest root 'package:{name}')")
  return pathlib.Path(list(spec.submodule_search_locations)[0]).resolve()


def cache_dir() -> pathlib.Path:
  """The asset cache folder (created on first use)."""
  override = os.environ.get("KUBRICGEN_ASSET_CACHE")
  if override:
    folder = pathlib.Path(override)
  else:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    folder = pathlib.Path(base) / "kubricgen" / "assets"
  folder.mkdir(parents=True, exist_ok=True)
  return folder
