"""Derived, cached files for an asset: a normalised render mesh (Z-up, centred, largest half-extent 1), its
texture, convex collision pieces and mass properties.

Each derived folder `<cache>/derived/<key>/` is keyed by everything it depends on (source checksums, orientation,
units, generator parameters, code version), built in a temporary folder and renamed into place, so it is computed
once and a half-built folder is never seen. `info.json` inside records the real size and the mass properties.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import pathlib

import numpy as np

from kubricgen import atomic
from kubricgen.assets import locations, meshes
from kubricgen.assets.errors import AssetError
from kubricgen.assets.manifest import UNITS, AssetEntry

VERSION = 1
DEFAULT_DENSITY = 1000.0  # kg/m^3 when a manifest gives none


@dataclasses.dataclass(frozen=True)
class Prepared:
  render: pathlib.Path
  collision: pathlib.Path
  texture: pathlib.Path | None
  info: dict

  @property
  def size_m(self) -> float:
    return float(self.info["size_m"])


def _load(folder: pathlib.Path) -> Prepared:
  info = json.loads((folder / "info.json").read_text())
  texture = folder / "texture.png"
  return Prepared(folder / "render.obj", folder / "collision.obj", texture if texture.exists() else None, info)


def _key(parts: dict) -> str:
  return hashlib.sha256(json.dumps({**parts, "version": VERSION}, sort_keys=True).encode()).hexdigest()[:32]


def _finish(staging: pathlib.Path, vertices, faces, uv, texture, pieces, size_m: float, density: float,
            extra: dict) -> None:
  from PIL import Image  # pylint: disable=import-outside-toplevel
  meshes.write_obj(staging / "render.obj", vertices, faces, uv if texture is not None else None)
  if texture is not None:
    Image.fromarray(np.asarray(texture)).save(staging / "texture.png")
  meshes.write_pieces(staging / "collision.obj", pieces)
  info = {"size_m": size_m, "mass_properties": meshes.mass_properties(pieces, size_m, density), **extra}
  atomic.write_json(staging / "info.json", info)


def prepare_mesh(entry: AssetEntry, files: dict[str, pathlib.Path], vhacd_resolution: int | None = None) -> Prepared:
  """Normalise a mesh asset's verified files (OBJ/GLB/STL/PLY or a URDF's visuals) into the cache."""
  key = _key({"kind": "mesh", "files": sorted((f.path, f.sha256) for f in entry.files), "render": entry.render_file,
              "collision": entry.collision_file, "texture": entry.texture_file, "up": entry.up_axis,
              "front": entry.front_axis,
              "units": entry.units, "scale": entry.scale, "vhacd": vhacd_resolution})
  folder = locations.cache_dir() / "derived" / key
  if (folder / "info.json").exists():
    return _load(folder)
  mesh = meshes.load_mesh(files[entry.render_file], allowed=set(p.resolve() for p in files.values()))
  rotation = meshes.orientation(entry.up_axis, entry.front_axis)
  vertices, centre, half = meshes.normalise(np.asarray(mesh.vertices) @ rotation.T)
  size_m = half * entry.scale * UNITS[entry.units]
  uv = meshes.uv_of(mesh)
  texture = None
  if entry.texture_file:
    from PIL import Image  # pylint: disable=import-outside-toplevel
    texture = np.asarray(Image.open(files[entry.texture_file]).convert("RGB"))
  else:
    image = meshes.texture_image(mesh)
    texture = None if image is None else np.asarray(image)
  if uv is None:
    texture = None
  if entry.collision_file:
    pieces = [((v @ rotation.T - centre) / half, f) for v, f in meshes.read_pieces(files[entry.collision_file])]
  elif vhacd_resolution and not meshes.nearly_convex(vertices, np.asarray(mesh.faces)):
    pieces = meshes.convex_decomposition(vertices, np.asarray(mesh.faces), vhacd_resolution)
  else:
    pieces = [meshes.hull(vertices)]
  density = float((entry.mass_properties or {}).get("density", DEFAULT_DENSITY))
  color = meshes.mean_color(mesh)
  with atomic.staged_folder(folder) as staging:
    _finish(staging, vertices, np.asarray(mesh.faces), uv, texture, pieces, size_m, density,
            {"source": entry.render_file, "mesh_color": color})
  return _load(folder)


def prepare_procedural(generator: str, params: dict, size_m: float = 0.2, density: float = DEFAULT_DENSITY,
                       surface: tuple[str, dict] | None = None) -> Prepared:
  """Build a procedural shape (see `kubricgen.assets.shapes`) into the cache, normalised; `surface` = (generator,
  params) of another shape whose skin paints this one (`shapes.generate`)."""
  from kubricgen.assets import shapes  # pylint: disable=import-outside-toplevel
  description = {"kind": "procedural", "generator": generator, "params": params, "size": size_m, "density": density,
                 "shapes": shapes.VERSION}
  if surface is not None:
    description["surface"] = [surface[0], surface[1]]
  key = _key(description)
  folder = locations.cache_dir() / "derived" / key
  if (folder / "info.json").exists():
    return _load(folder)
  built = shapes.generate(generator, params, surface=surface)
  vertices, centre, half = meshes.normalise(built.vertices)
  pieces = [((v - centre) / half, f) for v, f in built.pieces]
  if not pieces:
    raise AssetError(f"generator {generator!r}: no collision parts")
  with atomic.staged_folder(folder) as staging:
    _finish(staging, vertices, built.faces, built.uv, built.texture, pieces, size_m, density,
            {"generator": generator, "params": params})
  return _load(folder)


def tinted_texture(texture: pathlib.Path, tint) -> pathlib.Path:
  """A copy of `texture` multiplied by an sRGB tint, cached next to the other derived files."""
  from PIL import Image  # pylint: disable=import-outside-toplevel
  tint = [round(float(c), 4) for c in tint[:3]]
  target = texture.parent / f"texture-tint-{'-'.join(f'{c:.4f}' for c in tint)}.png"
  if not target.exists():
    image = np.asarray(Image.open(texture).convert("RGB"), dtype=np.float64) * np.asarray(tint)
    import io  # pylint: disable=import-outside-toplevel
    buffer = io.BytesIO()
    Image.fromarray(np.clip(image + 0.5, 0, 255).astype(np.uint8)).save(buffer, format="PNG")
    atomic.write_bytes(target, buffer.getvalue())
  return target
