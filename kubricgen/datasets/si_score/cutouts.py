"""Object cut-outs: each object instance x pose rendered once by Blender with a transparent film.

The camera is orthographic, looking at the object's centre from (azimuth, elevation); the object (largest half-extent
1) always fits in the `VIEW_SIZE`-wide view. The cut-out is cropped to the object's canvas (tight silhouette box).
Its geometry (view size, resolution, canvas box) is kept so full-3D renders can reproduce the same framing.
Cut-outs are cached by content key in a folder or a gs:// prefix (`cache_dir`) that every worker can reach, so
each one is rendered once across a cluster and re-running a job renders nothing twice.

Every cache entry is checked before use: the PNG carries the sha256 of its pixels (shape, dtype and bytes) in a text
chunk, and a reader recomputes it from the decoded pixels. An entry that does not decode, lacks the digest or does
not match is logged, deleted and rendered again; PNG files hold only pixels, so nothing in a shared cache can run
code.
"""
from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import logging
import os

import numpy as np

import kubricgen as kb
from kubricgen import atomic

log = logging.getLogger(__name__)

VIEW_SIZE = 3.6  # metres visible across the cut-out render; > 2 * sqrt(3), so a unit-half-extent object always fits
CAMERA_DISTANCE = 10.0
CACHE_VERSION = 3  # 3: entries carry the sha256 of their pixels
DIGEST_KEY = "kubricgen:sha256"


@dataclasses.dataclass(frozen=True)
class Pose:
  azimuth: float  # degrees, about world Z, 0 = camera on -Y looking towards +Y
  elevation: float  # degrees above the horizontal
  # "world": the lights stay where LIGHTS puts them, whatever the pose (SI-Score's configs: each instance has its
  # own pose). "camera": the lights turn with the camera, so the object is lit the same way relative to the
  # viewer in every pose, as if the object turned in front of a fixed camera and rig (the viewpoint config).
  lights: str = "world"
  # The lighting config: one key light instead of LIGHTS and AMBIENT, as (light_azimuth relative to the camera,
  # light_elevation, irradiance W/m^2, ambient radiance); see factors.LightingGrid for the conventions.
  light: tuple[float, float, float, float] | None = None
  # The cue_conflict config: the surface (material, texture) of this other instance on this instance's shape.
  texture_from: str | None = None


@dataclasses.dataclass
class Cutout:
  instance_id: str
  pose: Pose
  rgba: np.ndarray  # canvas crop, (h, w, 4) uint8 straight alpha
  resolution: int  # square render size in pixels
  canvas_box: tuple[int, int, int, int]  # (x0, y0, x1, y1) of the canvas in the render, pixels

  @property
  def key(self) -> str:
    lights = "" if self.pose.lights == "world" else f",{self.pose.lights}-lit"
    if self.pose.light is not None:
      lights += ",key" + ",".join(f"{v:g}" for v in self.pose.light)
    surface = f"+{self.pose.texture_from}" if self.pose.texture_from else ""
    return f"{self.instance_id}{surface}@{self.pose.azimuth:g},{self.pose.elevation:g}{lights}/{self.resolution}"


def camera_for(pose: Pose, view_size: float = VIEW_SIZE, roll_degrees: float = 0.0) -> kb.OrthographicCamera:
  """The orthographic camera of `pose`, optionally rolled about its viewing axis (positive = image turns CCW)."""
  az, el = np.radians(pose.azimuth), np.radians(pose.elevation)
  direction = np.array([np.sin(az) * np.cos(el), -np.cos(az) * np.cos(el), np.sin(el)])
  camera = kb.OrthographicCamera(name="camera", orthographic_scale=view_size, position=CAMERA_DISTANCE * direction,
                                 look_at=(0, 0, 0))
  if roll_degrees:
    # A right-handed turn of the camera about its forward axis (clockwise as the camera sees it) turns the image
    # content counter-clockwise.
    forward = -direction
    roll = kb.transforms.axis_angle_to_quaternion(forward, np.radians(roll_degrees))
    camera.quaternion = kb.transforms.quaternion_multiply(roll, camera.quaternion)
  return camera


# The cut-out lighting (directional lights aimed at the origin, ambient grey), as data so cache keys cover it.
LIGHTS = (dict(name="key", position=(-3, -4, 6), intensity=3.5, shadow_softness=0.3),
          dict(name="rim", position=(4, 3, 2), intensity=1.0, shadow_softness=0.2))
AMBIENT = (0.35, 0.35, 0.35, 1.0)


REFERENCE_ELEVATION = 20.0  # camera-frame lights are LIGHTS as placed for a camera at azimuth 0, this elevation


def light_rotation(pose: Pose) -> np.ndarray:
  """(3, 3) rotation taking the reference camera direction (azimuth 0, REFERENCE_ELEVATION) to `pose`'s: a turn by
  (REFERENCE_ELEVATION - elevation) about world X, then by azimuth about world Z. Identity for world-frame lights."""
  if pose.lights == "world":
    return np.eye(3)
  if pose.lights != "camera":
    raise ValueError(f"pose lights must be 'world' or 'camera', got {pose.lights!r}")
  tilt, turn = np.radians(REFERENCE_ELEVATION - pose.elevation), np.radians(pose.azimuth)
  about_x = np.array([[1, 0, 0], [0, np.cos(tilt), -np.sin(tilt)], [0, np.sin(tilt), np.cos(tilt)]])
  about_z = np.array([[np.cos(turn), -np.sin(turn), 0], [np.sin(turn), np.cos(turn), 0], [0, 0, 1]])
  return about_z @ about_x


def key_light_direction(pose: Pose) -> np.ndarray:
  """(3,) float64 unit vector from the object towards `pose.light`'s key light, world frame: azimuth
  pose.azimuth + light_azimuth about world Z (the camera's azimuth convention, so +90 is the image's right),
  elevation light_elevation above the horizontal."""
  azimuth, elevation = np.radians(pose.azimuth + pose.light[0]), np.radians(pose.light[1])
  return np.array([np.sin(azimuth) * np.cos(elevation), -np.cos(azimuth) * np.cos(elevation), np.sin(elevation)])


KEY_LIGHT_SOFTNESS = 0.05  # radians: the key light's angular diameter (a sun, sharp shadows)


def add_lights(scene: kb.Scene, pose: Pose | None = None) -> None:
  """LIGHTS (directional, aimed at the origin) and the ambient grey; turned with the camera for a camera-frame
  `pose` (see Pose.lights). A pose with a `light` (the lighting config) gets that one key light and its ambient
  instead."""
  if pose is not None and pose.light is not None:
    _, _, irradiance, ambient = pose.light
    scene += kb.DirectionalLight(name="key", position=tuple(CAMERA_DISTANCE * key_light_direction(pose)),
                                 look_at=(0, 0, 0), intensity=float(irradiance), shadow_softness=KEY_LIGHT_SOFTNESS)
    scene.ambient_illumination = (ambient, ambient, ambient, 1.0)
    return
  rotation = light_rotation(pose) if pose is not None else np.eye(3)
  for light in LIGHTS:
    position = rotation @ np.asarray(light["position"], np.float64)
    scene += kb.DirectionalLight(look_at=(0, 0, 0), **{**light, "position": tuple(position)})
  scene.ambient_illumination = AMBIENT


def cache_key(library, instance_id: str, pose: Pose, resolution: int, samples: int) -> str:
  """Digest of everything that shapes a cut-out's pixels: the asset's manifest entry (its files' sha256, material,
  scale, generator parameters; `library.asset_digest`, else the whole library's version), pose, resolution,
  samples, lighting, camera framing, the renderer's version and settings, and this module's CACHE_VERSION. Names
  and paths of the cache or of the asset files are not part of it."""
  from importlib import metadata  # pylint: disable=import-outside-toplevel
  digest = getattr(library, "asset_digest", None)
  asset = digest(instance_id) if digest else str(getattr(library, "version", ""))
  try:
    bpy_version = metadata.version("bpy")
  except metadata.PackageNotFoundError:
    bpy_version = "unknown"
  lights = [] if pose.lights == "world" else [pose.lights, REFERENCE_ELEVATION]  # world-lit keys as before
  if pose.light is not None:
    lights += ["key", list(pose.light), KEY_LIGHT_SOFTNESS]
  if pose.texture_from:
    lights += ["surface", pose.texture_from, digest(pose.texture_from) if digest else ""]
  parts = [CACHE_VERSION, instance_id, asset, pose.azimuth, pose.elevation, *lights, resolution, samples, LIGHTS,
           AMBIENT,
           VIEW_SIZE, CAMERA_DISTANCE, dict(engine="cycles", denoising=True, transparent=True, seed=0,
                                            bpy=bpy_version)]
  return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:24]


def _cache_path(cache_dir: str, key: str) -> str:
  if cache_dir.startswith("gs://"):
    return f"{cache_dir.rstrip('/')}/{key}.png"
  return os.path.join(cache_dir, f"{key}.png")


def pixel_digest(rgba: np.ndarray) -> str:
  """sha256 (hex) of an image's shape, dtype and pixel bytes."""
  digest = hashlib.sha256(f"{rgba.shape}:{rgba.dtype}:".encode())
  digest.update(np.ascontiguousarray(rgba).tobytes())
  return digest.hexdigest()


def encode_entry(rgba: np.ndarray) -> bytes:
  """A cache entry: the RGBA cut-out as PNG with its `pixel_digest` in a tEXt chunk."""
  from PIL import Image, PngImagePlugin  # pylint: disable=import-outside-toplevel
  info = PngImagePlugin.PngInfo()
  info.add_text(DIGEST_KEY, pixel_digest(rgba))
  buffer = io.BytesIO()
  Image.fromarray(rgba, "RGBA").save(buffer, format="PNG", pnginfo=info)
  return buffer.getvalue()


class DamagedEntry(ValueError):
  """A cut-out cache entry that does not decode or whose pixels do not match its digest."""


def decode_entry(data: bytes, path: str) -> np.ndarray:
  """A cache entry's (h, w, 4) uint8 pixels. Raises DamagedEntry (naming `path` and what was expected) if it does not
  decode as an RGBA PNG, carries no digest, or its pixels do not match the digest."""
  from PIL import Image  # pylint: disable=import-outside-toplevel
  try:
    with Image.open(io.BytesIO(data), formats=["PNG"]) as image:
      image.load()
      stored = image.text.get(DIGEST_KEY) if hasattr(image, "text") else None
      rgba = np.asarray(image) if image.mode == "RGBA" else None
  except Exception as error:  # pylint: disable=broad-except  # PIL raises OSError, SyntaxError, zlib.error, ...
    raise DamagedEntry(f"cut-out cache entry {path} does not decode as PNG ({type(error).__name__}: "
                       f"{str(error)[:120]})") from None
  if rgba is None or stored is None:
    raise DamagedEntry(f"cut-out cache entry {path} is not an RGBA PNG carrying {DIGEST_KEY}")
  computed = pixel_digest(rgba)
  if computed != stored:
    raise DamagedEntry(f"cut-out cache entry {path}: pixels hash to {computed[:16]}…, stored {stored[:16]}…")
  return rgba


def _cache_read(path: str) -> np.ndarray | None:
  """The cached cut-out at `path`; None if there is none or it was damaged (then it is logged and deleted)."""
  from kubricgen.storage import read_if_exists, remove  # pylint: disable=import-outside-toplevel
  data = read_if_exists(path)
  if data is None:
    return None
  try:
    return decode_entry(data, path)
  except DamagedEntry as damage:
    log.warning("%s; deleting it and rendering it again", damage)
    remove(path)
    return None


def _cache_write(path: str, rgba: np.ndarray) -> np.ndarray:
  """Store a rendered cut-out; returns the cut-out to use: on gs:// the first stored copy wins, so every worker
  composites from the same bytes even if two rendered the same key at once."""
  data = encode_entry(rgba)
  if path.startswith("gs://"):
    import tempfile  # pylint: disable=import-outside-toplevel
    from kubricgen.storage import StorageError  # pylint: disable=import-outside-toplevel
    from kubricgen.storage import default_storage  # pylint: disable=import-outside-toplevel
    with tempfile.TemporaryDirectory(prefix="kubricgen-cutout-") as scratch:
      local = os.path.join(scratch, "cutout.png")
      with open(local, "wb") as handle:
        handle.write(data)
      try:
        default_storage().upload_file(local, path, if_absent=True)
      except StorageError:  # another worker stored this key first (other bytes only if Blender is not bit-exact)
        stored = _cache_read(path)
        return rgba if stored is None else stored
    return rgba
  atomic.write_bytes(path, data)
  return rgba


def crop_to_canvas(rgba: np.ndarray, instance_id: str) -> tuple[np.ndarray, tuple[int, int, int, int]]:
  alpha = rgba[..., 3]
  rows, cols = np.nonzero(alpha > 0)
  if not len(rows):
    raise ValueError(f"object {instance_id!r} is not visible in its cut-out render")
  if rows.min() == 0 or cols.min() == 0 or rows.max() == alpha.shape[0] - 1 or cols.max() == alpha.shape[1] - 1:
    raise ValueError(f"object {instance_id!r} touches the border of its cut-out render: is it normalised to a "
                     "largest half-extent of 1?")
  box = (int(cols.min()), int(rows.min()), int(cols.max()) + 1, int(rows.max()) + 1)
  return rgba[box[1]:box[3], box[0]:box[2]].copy(), box


def create_object(library, instance_id: str, pose: Pose):
  """The scene object of `instance_id` as `pose` shows it: wearing `pose.texture_from`'s surface when set (only
  then is the library asked for `texture_from`, so a library without it renders every other config)."""
  if pose.texture_from:
    return library.create(instance_id, texture_from=pose.texture_from)
  return library.create(instance_id)


def render_cutout(library, instance_id: str, pose: Pose, resolution: int, samples: int = 16,
                  cache_dir: str | None = None) -> Cutout:
  """Render (or load from `cache_dir`, a folder or gs:// prefix) the cut-out of one instance in one pose."""
  path = _cache_path(cache_dir, cache_key(library, instance_id, pose, resolution, samples)) if cache_dir else None
  rgba = _cache_read(path) if path else None
  if rgba is None:
    from kubricgen.renderer.blender import Blender  # pylint: disable=import-outside-toplevel
    scene = kb.Scene(resolution=(resolution, resolution), frame_start=1, frame_end=1)
    obj = create_object(library, instance_id, pose)
    obj.name = "object"
    scene += obj
    add_lights(scene, pose)
    scene.camera = camera_for(pose)
    renderer = Blender(scene, samples_per_pixel=samples, background_transparency=True, use_denoising=True, seed=0)
    rgba = renderer.render_still(return_layers=("rgba",), progress=False)["rgba"]
    renderer.close()
    if path:
      rgba = _cache_write(path, rgba)
  canvas, box = crop_to_canvas(rgba, instance_id)
  return Cutout(instance_id=instance_id, pose=pose, rgba=canvas, resolution=resolution, canvas_box=box)
