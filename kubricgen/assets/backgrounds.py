"""Background images: square crops (largest square anchored at the top-left, then resized, as SI-Score does) from
the bundled set, image folders, gs:// buckets, procedural Blender renders, and HDRI environment maps.

    bg = BackgroundLibrary.default()                 # bundled: Blender sky and textures, no download
    bg.load("meadow", 224)                           # uint8 (224, 224, 3)
    BackgroundLibrary.from_folder("~/photos")        # JPEG/PNG/WebP/BMP; .hdr/.exr are HDRI maps
    BackgroundLibrary.from_folder("gs://bucket/backgrounds")   # listed, downloaded once into the cache
    BackgroundLibrary.from_manifest("gs://bucket/bg/manifest.json")  # with sha256 checks
    BackgroundLibrary.procedural(seeds=range(5))     # Blender renders (subprocess), cached
    bg + other                                        # a library holding both (ids must not clash)

An HDRI map loads as a tone-mapped perspective view of its horizon; `environment_path(id)` gives the file for
world lighting.
"""
from __future__ import annotations

import collections
import hashlib
import os
import pathlib
import threading

import numpy as np
from PIL import Image

from kubricgen import storage
from kubricgen.assets import fetch, hdri, integrity, locations
from kubricgen.assets import manifest as manifest_lib
from kubricgen.assets.errors import AssetError, UnknownAssetError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp")


def square_crop(image: np.ndarray, size: int) -> np.ndarray:
  """SI-Score's background crop: the largest square anchored at the top-left corner, resized to size x size."""
  if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
    raise ValueError(f"background size must be a positive integer, got {size!r}")
  side = min(image.shape[0], image.shape[1])
  square = Image.fromarray(np.ascontiguousarray(image[:side, :side, :3]))
  if side != size:
    square = square.resize((size, size), Image.BICUBIC)
  return np.asarray(square, dtype=np.uint8)


class BackgroundLibrary:
  """Background ids -> image files (local, or fetched and cached on first use)."""

  def __init__(self, resolvers: dict, name: str = "backgrounds", cache_size: int = 64, version: str = ""):
    self._resolvers = dict(resolvers)  # id -> callable returning a local path
    self.name = name
    self.version = version or f"{name}@{hashlib.sha256(' '.join(sorted(resolvers)).encode()).hexdigest()[:12]}"
    self._paths: dict[str, pathlib.Path] = {}
    self._cache: collections.OrderedDict = collections.OrderedDict()
    self._cache_size = cache_size
    self._lock = threading.Lock()

  # ---- constructors ---------------------------------------------------------------------------------------------

  @classmethod
  def default(cls) -> "BackgroundLibrary":
    """The bundled set (rendered with Blender's sky and procedural textures; sha256-checked, no download)."""
    return cls.from_manifest(locations.bundled_dir() / "backgrounds" / "manifest.json")

  @classmethod
  def from_manifest(cls, location) -> "BackgroundLibrary":
    """Images listed in a manifest (kind 'image'), local or gs://, each checked against its sha256."""
    text = str(location)
    if text.startswith("gs://"):
      manifest = manifest_lib.loads(storage.default_storage().read_bytes(text), text)
    else:
      manifest = manifest_lib.load_local(os.fspath(location))
    resolvers = {}
    for entry in manifest.assets:
      if entry.kind != "image":
        raise AssetError(f"manifest {manifest.location}: asset {entry.id!r} is a {entry.kind}, not an image")
      resolvers[entry.id] = (lambda e=entry: fetch.asset_files(manifest, e)[e.render_file])
    digest = hashlib.sha256(repr(manifest.to_json()).encode()).hexdigest()[:12]
    return cls(resolvers, manifest.name, version=f"{manifest.name}@{digest}")

  @classmethod
  def from_folder(cls, folder) -> "BackgroundLibrary":
    """Every image (and .hdr/.exr map) in a local folder or under a gs:// prefix; id = file name without suffix."""
    text = os.path.expanduser(str(folder))
    suffixes = IMAGE_SUFFIXES + hdri.HDRI_SUFFIXES
    if text.startswith("gs://"):
      client = storage.default_storage()
      hashes = {u: h for u, h in client.list_hashes(text).items() if u.lower().endswith(suffixes)}
      resolvers = {}
      for url, content_hash in hashes.items():
        stem = url.rsplit("/", 1)[-1].rsplit(".", 1)[0]
        if stem in resolvers:
          raise AssetError(f"{folder}: two images are named {stem!r}")
        resolvers[stem] = (lambda u=url, h=content_hash: _download_cached(client, u, h))
      name = text.rstrip("/").rsplit("/", 1)[-1]
      stamp = " ".join(f"{u.rsplit('/', 1)[-1]}:{h}" for u, h in hashes.items())
      version = f"{name}@{hashlib.sha256(stamp.encode()).hexdigest()[:12]}"
    else:
      path = pathlib.Path(text)
      if not path.is_dir():
        raise AssetError(f"background folder not found: {path}")
      files = sorted(p for p in path.iterdir() if p.suffix.lower() in suffixes and p.is_file())
      resolvers = {p.stem: (lambda p=p: p) for p in files}
      if len(resolvers) != len(files):
        raise AssetError(f"{folder}: two images share a name (ids are file names without their suffix)")
      name = path.name
      stamp = " ".join(f"{p.name}:{integrity.verified_sha256(p)}" for p in files)  # content, not mtimes
      version = f"{name}@{hashlib.sha256(stamp.encode()).hexdigest()[:12]}"
    if not resolvers:
      raise AssetError(f"{folder}: no images ({', '.join(suffixes)})")
    return cls(resolvers, name, version=version)

  @classmethod
  def procedural(cls, kinds=None, seeds=(0,), size: int = 512, samples: int = 32) -> "BackgroundLibrary":
    """Blender-rendered backgrounds `<kind>-<seed>` (see `blender_backgrounds.KINDS`), rendered on first use in a
    subprocess and cached (a few seconds each)."""
    from kubricgen.assets import blender_backgrounds  # pylint: disable=import-outside-toplevel
    kinds = list(kinds or blender_backgrounds.KINDS)
    folder = locations.cache_dir() / "backgrounds" / f"{size}px-{samples}spp"
    resolvers = {}
    for kind in kinds:
      if kind not in blender_backgrounds.KINDS:
        raise AssetError(f"unknown procedural background {kind!r}; known: {list(blender_backgrounds.KINDS)}")
      for seed in seeds:
        def resolve(kind=kind, seed=int(seed)):
          path = folder / f"{kind}-{seed}.png"
          if not path.exists():
            staging = folder / f".render-{os.getpid()}-{threading.get_ident()}"
            made = blender_backgrounds.render([(kind, seed)], staging, size, samples)[0]
            os.replace(made, path)
            os.rmdir(staging)
          return path
        resolvers[f"{kind}-{int(seed)}"] = resolve
    digest = hashlib.sha256(f"{sorted(resolvers)} {size} {samples}".encode()).hexdigest()[:12]
    return cls(resolvers, "procedural", version=f"procedural@{digest}")

  def __add__(self, other: "BackgroundLibrary") -> "BackgroundLibrary":
    clash = set(self._resolvers) & set(other._resolvers)  # pylint: disable=protected-access
    if clash:
      raise AssetError(f"background ids in both libraries: {sorted(clash)[:5]}")
    return BackgroundLibrary({**self._resolvers, **other._resolvers},  # pylint: disable=protected-access
                             f"{self.name}+{other.name}", version=f"{self.version}+{other.version}")

  # ---- queries --------------------------------------------------------------------------------------------------

  @property
  def ids(self) -> list[str]:
    return sorted(self._resolvers)

  def __len__(self) -> int:
    return len(self._resolvers)

  def __contains__(self, background_id) -> bool:
    return background_id in self._resolvers

  def path(self, background_id: str) -> pathlib.Path:
    """The local file of a background (verified and/or downloaded on first use)."""
    if background_id not in self._resolvers:
      raise UnknownAssetError(f"{self.name}: unknown background {background_id!r} ({len(self)} backgrounds)")
    with self._lock:
      known = self._paths.get(background_id)
    if known is None:
      known = pathlib.Path(self._resolvers[background_id]())
      with self._lock:
        self._paths[background_id] = known
    return known

  def is_hdri(self, background_id: str) -> bool:
    return self.path(background_id).suffix.lower() in hdri.HDRI_SUFFIXES

  def environment_path(self, background_id: str) -> pathlib.Path:
    """The HDRI file of an environment-map background (for world lighting)."""
    if not self.is_hdri(background_id):
      raise AssetError(f"{self.name}: background {background_id!r} is an image, not an HDRI environment map")
    return self.path(background_id)

  def image(self, background_id: str) -> np.ndarray:
    """The full image as uint8 RGB (an HDRI: a tone-mapped 90-degree view of its horizon)."""
    path = self.path(background_id)
    if path.suffix.lower() in hdri.HDRI_SUFFIXES:
      radiance = hdri.read(path)
      side = max(64, radiance.shape[0] // 2)
      return hdri.tone_map(hdri.perspective_view(radiance, side))
    try:
      with Image.open(path) as opened:
        return np.asarray(opened.convert("RGB"))
    except (OSError, SyntaxError) as error:
      raise AssetError(f"{self.name}: background {background_id!r}: cannot read {path}: {error}") from None

  def load(self, background_id: str, size: int) -> np.ndarray:
    """uint8 (size, size, 3): the largest top-left square of the image, resized (SI-Score's crop).

    Results are kept in a small LRU cache; each call returns its own (writable) copy."""
    key = (background_id, int(size) if isinstance(size, (int, np.integer)) else size)
    with self._lock:
      if key in self._cache:
        self._cache.move_to_end(key)
        return self._cache[key].copy()
    result = square_crop(self.image(background_id), size)
    result.setflags(write=False)
    with self._lock:
      self._cache[key] = result
      while len(self._cache) > self._cache_size:
        self._cache.popitem(last=False)
    return result.copy()


def _download_cached(client, url: str, content_hash: str = "") -> pathlib.Path:
  """Download a gs:// object once per content into the cache (the client checks its transfer checksum); an object
  replaced in its bucket has another `content_hash` (from the listing), so it is downloaded again."""
  digest = hashlib.sha256(f"{url}|{content_hash}".encode()).hexdigest()[:24]
  target = locations.cache_dir() / "remote-images" / f"{digest}-{url.rsplit('/', 1)[-1]}"
  if not target.exists():
    client.download(url, target)
  return target
