"""Blender view of a scene: render settings, the render loop, and read-back of every pass as numpy arrays.

`Blender(scene, ...)` resets Blender's state, so one process can render many scenes one after another. The scene is
translated to Blender data at each `render()` (objects added late are included).

Colour and ground truth come from two view layers of one Cycles render: the colour layer at the chosen samples (and
denoiser), and a data layer at 1 sample per pixel whose only ray goes through the pixel centre, so depth, z,
segmentation, normals, object coordinates and flow at a pixel all describe the one surface that ray hits. Workbench
and EEVEE render colour only, and the same Cycles data layer, rendered alone, supplies the ground truth.
"""
from __future__ import annotations

import contextlib
import dataclasses
import glob
import os
import resource
import shutil
import sys
import tempfile
import time
from typing import Iterable

try:
  import bpy
except ImportError as error:  # pragma: no cover - depends on the environment
  raise ImportError("kubricgen.renderer.blender needs Blender as a module: pip install 'bpy==5.0.1' "
                    "(CPython 3.11 only)") from error
import numpy as np

from kubricgen import console
from kubricgen import scene as kbs
from kubricgen.renderer import blender_scene, defaults, passes

ENGINES = {"cycles": "CYCLES", "eevee": "BLENDER_EEVEE", "workbench": "BLENDER_WORKBENCH"}
DATA_LAYERS = ("depth", "z", "segmentation", "normal", "object_coordinates", "forward_flow", "backward_flow")
DATA_PASSES = ("use_pass_z", "use_pass_normal", "use_pass_object_index", "use_pass_vector")
ALL_LAYERS = ("rgba",) + DATA_LAYERS


def _declare_object_coordinates(layer) -> None:
  """Give a view layer the object-coordinates AOV pass (a colour AOV named as the materials' AOV output)."""
  if blender_scene.OBJECT_COORDINATES_AOV not in [aov.name for aov in layer.aovs]:
    aov = layer.aovs.add()
    aov.name, aov.type = blender_scene.OBJECT_COORDINATES_AOV, "COLOR"


@contextlib.contextmanager
def quiet_blender():
  """Silence Blender's chatter on file descriptors 1 and 2; yields a text stream on the real stderr for progress."""
  sys.stderr.flush()
  progress_stream = os.fdopen(os.dup(2), "w", buffering=1)  # the real stderr, taken before it is redirected
  try:
    with console.silenced():
      yield progress_stream
  finally:
    progress_stream.close()


def gpu_device_type() -> str | None:
  """The first GPU backend Cycles can use here (OPTIX, CUDA, HIP, ONEAPI, METAL), or None."""
  preferences = bpy.context.preferences.addons["cycles"].preferences
  for backend in ("OPTIX", "CUDA", "HIP", "ONEAPI", "METAL"):
    try:
      preferences.compute_device_type = backend
    except TypeError:
      continue
    preferences.get_devices()
    devices = [d for d in preferences.devices if d.type == backend]
    if devices:
      for device in preferences.devices:
        device.use = device.type == backend
      return backend
  preferences.compute_device_type = "NONE"
  return None


@dataclasses.dataclass(frozen=True)
class Quality:
  """A named set of Cycles settings; `Blender(..., quality=NAME)` starts from it (see QUALITY_PRESETS)."""
  samples_per_pixel: int
  use_denoising: bool
  denoise_quality: str = "FAST"  # OpenImageDenoise: FAST (with the FAST prefilter), BALANCED or HIGH (ACCURATE)
  max_bounces: int = 4
  diffuse_bounces: int = 2
  glossy_bounces: int = 2
  transmission_bounces: int = 4
  transparent_bounces: int = 4
  adaptive_sampling: bool = False
  persistent_data: bool = True  # keep Blender's render data (BVH, shaders) between frames
  light_tree: bool = True


# Speed and quality of each preset, measured side by side: BENCHMARKS.md, "Rendering (issue 3)".
QUALITY_PRESETS = {
    # 16 spp + OpenImageDenoise (fast mode), light paths capped at 4 bounces (diffuse and glossy at 2).
    "default": Quality(samples_per_pixel=16, use_denoising=True),
    # 2 spp + the same denoiser and caps: 37-38 dB against a 2 x 1024-spp render of the same frame on helloworld,
    # movi_a and Kubric's simulator example, at about a quarter of the default's CPU time.
    "fast": Quality(samples_per_pixel=2, use_denoising=True),
    # Kubric's renderer defaults (128 spp, denoised, no adaptive sampling) on Blender's default light paths
    # (12 bounces, diffuse and glossy 4, transmission 12, transparent 8) without persistent data.
    "kubric": Quality(samples_per_pixel=128, use_denoising=True, denoise_quality="HIGH", max_bounces=12,
                      diffuse_bounces=4, glossy_bounces=4, transmission_bounces=12, transparent_bounces=8,
                      persistent_data=False),
}


class Blender:
  """Kubric's renderer API.

  Args:
    scene: the scene to render.
    scratch_dir: where Blender writes its EXR frames (a temporary folder by default, removed on close).
    engine: "cycles" (default), "eevee" or "workbench".
    quality: a named preset of QUALITY_PRESETS ("default", "fast", "kubric"): samples, denoising, light paths.
      Without it, samples and denoising follow the worker's --samples/--no_denoise flags over the "default" preset;
      with it, the preset's samples and denoising win over those flags. Explicit arguments below win over both.
    samples_per_pixel: Cycles/EEVEE samples.
    use_denoising: OpenImageDenoise on the colour image (Cycles only).
    denoise_quality: "FAST" (default; measured near-identical on our scenes at a third of the cost), "BALANCED",
      "HIGH".
    adaptive_sampling: stop sampling pixels whose noise is below `adaptive_threshold`.
    background_transparency: transparent film (alpha 0 where no object is).
    device: "cpu", "gpu" or "auto" (GPU if Cycles finds one); default from $KUBRICGEN_DEVICE, else "auto".
    max_bounces: cap on light bounces (diffuse and glossy are capped at min(preset's, max_bounces)).
    seed: Cycles' sampling seed (renders are deterministic for a given seed).
  """

  def __init__(self, scene: kbs.Scene, scratch_dir=None, engine: str | None = None,
               samples_per_pixel: int | None = None, use_denoising: bool | None = None,
               denoise_quality: str | None = None, adaptive_sampling: bool | None = None,
               adaptive_threshold: float = 0.05, background_transparency: bool = False, device: str | None = None,
               max_bounces: int | None = None, seed: int = 0, motion_blur: bool = False, quality: str | None = None):
    # Unset arguments take the run's defaults (kubricgen.renderer.defaults: `kubricgen render` sets them from its
    # --engine, --quality, --samples, --no_denoise and --device flags), so a ported Kubric script honours them;
    # otherwise the quality preset's values.
    engine = engine or defaults.default("engine") or "cycles"
    quality = quality or defaults.default("quality")
    if quality is not None and quality not in QUALITY_PRESETS:
      raise ValueError(f"Blender.quality: expected one of {sorted(QUALITY_PRESETS)}, got {quality!r}")
    settings = QUALITY_PRESETS[quality or "default"]
    if quality is None:
      run_samples, run_denoising = defaults.default("samples_per_pixel"), defaults.default("use_denoising")
      settings = dataclasses.replace(
          settings, samples_per_pixel=run_samples or settings.samples_per_pixel,
          use_denoising=settings.use_denoising if run_denoising is None else run_denoising)
    explicit = dict(samples_per_pixel=samples_per_pixel, use_denoising=use_denoising,
                    denoise_quality=denoise_quality, adaptive_sampling=adaptive_sampling)
    settings = dataclasses.replace(settings, **{k: v for k, v in explicit.items() if v is not None})
    if max_bounces is not None:
      settings = dataclasses.replace(
          settings, max_bounces=max_bounces, diffuse_bounces=min(settings.diffuse_bounces, max_bounces),
          glossy_bounces=min(settings.glossy_bounces, max_bounces),
          transmission_bounces=max(settings.transmission_bounces, max_bounces),
          transparent_bounces=max(settings.transparent_bounces, max_bounces))
    device = device or defaults.default("device")
    if engine in ("eevee", "workbench") and "tensorflow" in sys.modules and not os.environ.get(
        "KUBRICGEN_ALLOW_GL_WITH_TF"):
      # Measured here: with TensorFlow loaded, Blender's OpenGL engines crash the process (segmentation fault) on
      # Mesa's llvmpipe driver. Fail with a reason instead; Cycles, and a process without TensorFlow, are fine.
      raise RuntimeError(f"Blender.engine: {engine!r} crashes in a process that has imported TensorFlow (Mesa "
                         "llvmpipe); render in a separate process or use engine='cycles' (set "
                         "KUBRICGEN_ALLOW_GL_WITH_TF=1 to try anyway, e.g. on a GPU driver)")
    if engine not in ENGINES:
      raise ValueError(f"Blender.engine: expected one of {sorted(ENGINES)}, got {engine!r}")
    if not isinstance(settings.samples_per_pixel, int) or settings.samples_per_pixel < 1:
      raise ValueError(f"Blender.samples_per_pixel: must be a positive integer, got {settings.samples_per_pixel!r}")
    if settings.denoise_quality not in ("FAST", "BALANCED", "HIGH"):
      raise ValueError(f"Blender.denoise_quality: expected FAST, BALANCED or HIGH, got {settings.denoise_quality!r}")
    if motion_blur:
      raise ValueError("Blender.motion_blur: not supported (Blender's vector pass, used for flow, excludes it)")
    device = (device or os.environ.get("KUBRICGEN_DEVICE", "auto")).lower()
    if device not in ("cpu", "gpu", "auto"):
      raise ValueError(f"Blender.device: expected cpu, gpu or auto, got {device!r}")
    self.scene = scene
    self.engine = engine
    self.quality = quality or "default"
    self.settings = settings  # the Cycles settings in force (a Quality)
    self.samples_per_pixel = settings.samples_per_pixel
    self.use_denoising = settings.use_denoising
    self.denoise_quality = settings.denoise_quality
    self.adaptive_sampling = settings.adaptive_sampling
    self.adaptive_threshold = adaptive_threshold
    self.background_transparency = background_transparency
    self.max_bounces = settings.max_bounces
    self.seed = seed
    self._own_scratch = scratch_dir is None
    self.scratch_dir = tempfile.mkdtemp(prefix="kubricgen-blender-") if scratch_dir is None else str(scratch_dir)
    os.makedirs(self.scratch_dir, exist_ok=True)
    scene.link_view(self)
    bpy.ops.wm.read_factory_settings(use_empty=True)  # forget any earlier scene in this process
    self.blender_scene = bpy.context.scene
    self.device = "cpu"
    if device != "cpu":
      with quiet_blender():  # Cycles prints a warning for every GPU library it does not find
        backend = gpu_device_type()
      if backend:
        self.device = f"gpu ({backend})"
      elif device == "gpu":
        raise RuntimeError("Blender.device: 'gpu' requested but Cycles found no GPU")
    self.last_render_info: dict = {}
    self.last_timings: dict = {}
    self.last_frames: list[int] = []  # the frames of the last render, and its segmentation (for kb.done()'s
    self.last_segmentation: np.ndarray | None = None  # default annotations: boxes, visibility)
    self._objects: dict = {}

  # ---- translation ----------------------------------------------------------------------------------------------

  def _build(self) -> None:
    """(Re)create the Blender scene from the kubricgen scene."""
    self.scene.check()
    for collection in (bpy.data.objects, bpy.data.meshes, bpy.data.materials, bpy.data.lights, bpy.data.cameras,
                       bpy.data.worlds, bpy.data.images, bpy.data.actions):
      for item in list(collection):
        collection.remove(item)
    scene, blender = self.scene, self.blender_scene
    mesh_cache: dict = {}
    self._objects = {}
    for asset in scene.assets:
      if isinstance(asset, kbs.PhysicalObject):
        blender_object = blender_scene.build_object(asset, mesh_cache)
      elif isinstance(asset, kbs.Light):
        blender_object = blender_scene.build_light(asset)
      elif isinstance(asset, kbs.Camera) and not isinstance(asset, kbs.UndefinedCamera):
        blender_object = blender_scene.build_camera(asset)
      else:
        continue
      blender.collection.objects.link(blender_object)
      blender_scene.apply_pose_and_keyframes(asset, blender_object)
      self._objects[asset] = blender_object
    for mesh in mesh_cache.values():
      bpy.data.meshes.remove(mesh)
    if isinstance(scene.camera, kbs.UndefinedCamera):
      raise ValueError("Scene.camera: the scene has no camera to render from")
    blender.camera = self._objects[scene.camera]
    blender.world = blender_scene.build_world(scene)
    blender.frame_start, blender.frame_end = scene.frame_start, scene.frame_end
    blender.render.fps = scene.frame_rate
    blender.render.resolution_x, blender.render.resolution_y = scene.resolution
    blender.render.resolution_percentage = 100
    blender.render.film_transparent = self.background_transparency
    blender.render.use_motion_blur = False
    try:
      blender.view_settings.view_transform = "Standard"  # colours come out as given, not tone-mapped
    except TypeError:
      pass

  def _ensure_data_layer(self):
    """The view layer of the data passes: 1 sample per pixel, through the pixel centre (Cycles' first sample), so
    every data pass at a pixel describes the one surface that ray hits; no colour, no denoising."""
    layers = self.blender_scene.view_layers
    layer = layers[passes.DATA_LAYER] if passes.DATA_LAYER in layers else layers.new(passes.DATA_LAYER)
    layer.samples = 1
    layer.cycles.use_denoising = False
    layer.use_pass_combined = False
    for name in DATA_PASSES:
      setattr(layer, name, True)
    _declare_object_coordinates(layer)
    return layer

  def _configure(self, engine: str, samples: int, denoise: bool, data_passes: bool, color: bool = True) -> None:
    """Engine, samples and passes. The colour layer renders `samples` (unless `color` is False); with
    `data_passes`, a second view layer renders the data passes at 1 sample (Cycles only)."""
    blender = self.blender_scene
    blender.render.engine = ENGINES[engine]
    if engine == "cycles":
      cycles = blender.cycles
      cycles.device = "GPU" if self.device.startswith("gpu") else "CPU"
      cycles.samples = samples
      cycles.use_adaptive_sampling = self.adaptive_sampling and samples > 1
      cycles.adaptive_threshold = self.adaptive_threshold
      cycles.use_denoising = denoise
      if denoise:
        cycles.denoiser = "OPENIMAGEDENOISE"
        cycles.denoising_prefilter = "FAST" if self.denoise_quality == "FAST" else "ACCURATE"
        cycles.denoising_quality = self.denoise_quality
      paths = self.settings
      cycles.max_bounces = self.max_bounces
      cycles.diffuse_bounces, cycles.glossy_bounces = paths.diffuse_bounces, paths.glossy_bounces
      cycles.transmission_bounces = paths.transmission_bounces
      cycles.transparent_max_bounces = paths.transparent_bounces
      cycles.use_light_tree = paths.light_tree
      cycles.seed, cycles.use_animated_seed = self.seed, False
      cycles.pixel_filter_type = "BLACKMAN_HARRIS"
      blender.render.use_persistent_data = paths.persistent_data
    elif engine == "eevee":
      blender.eevee.taa_render_samples = samples
    else:
      shading = blender.display.shading
      shading.light, shading.color_type = "STUDIO", "MATERIAL"
      blender.display.render_aa = "8" if samples >= 8 else "OFF"
    colour = blender.view_layers[passes.LAYER]
    colour.use = color
    for name in DATA_PASSES:
      setattr(colour, name, False)
    if data_passes:
      self._ensure_data_layer()
      # Cycles compiles the shaders once per render, for the first view layer, and drops AOV outputs that layer
      # has no pass for (measured: the data layer's object coordinates came out all 0): declare it there too.
      _declare_object_coordinates(colour)
    else:
      if passes.DATA_LAYER in blender.view_layers:
        blender.view_layers.remove(blender.view_layers[passes.DATA_LAYER])
      while len(colour.aovs):
        colour.aovs.remove(colour.aovs[0])
    settings = blender.render.image_settings
    settings.media_type = "MULTI_LAYER_IMAGE"
    settings.file_format = "OPEN_EXR_MULTILAYER"
    settings.color_depth = "32"
    settings.exr_codec = "NONE" if hasattr(settings, "exr_codec") else settings.exr_codec

  def _render_frames(self, frames: list[int], prefix: str, progress) -> dict[int, str]:
    """Render `frames` into EXR files; returns frame -> path. Contiguous frames go through one animation render.

    Call inside `quiet_blender()`: Blender prints a line per tile and frame."""
    blender = self.blender_scene
    blender.render.filepath = os.path.join(self.scratch_dir, prefix + "_")
    blender.render.use_file_extension = True
    def on_frame(*_):
      if progress is not None:
        progress.update(1)
    bpy.app.handlers.render_write.append(on_frame)
    try:
      if frames == list(range(frames[0], frames[-1] + 1)):
        blender.frame_start, blender.frame_end = frames[0], frames[-1]
        bpy.ops.render.render(animation=True)
      else:
        for frame in frames:
          blender.frame_start = blender.frame_end = frame
          bpy.ops.render.render(animation=True)
    finally:
      bpy.app.handlers.render_write.remove(on_frame)
    paths = {}
    for frame in frames:
      matches = glob.glob(os.path.join(self.scratch_dir, f"{prefix}_{frame:04d}.exr"))
      if not matches:
        raise RuntimeError(f"Blender wrote no image for frame {frame} (engine {self.engine})")
      paths[frame] = matches[0]
    return paths

  def _camera_relative_poses(self, frame: int) -> dict[int, list[np.ndarray]]:
    """Segmentation id -> the 4x4 poses relative to the camera at `frame` of the objects drawn with that id (id 0:
    every background object)."""
    camera = self.scene.camera
    with camera.at_frame(frame):
      view = np.linalg.inv(camera.matrix_world)
    poses: dict[int, list[np.ndarray]] = {}
    for asset in self.scene.assets:
      if isinstance(asset, kbs.PhysicalObject):
        with asset.at_frame(frame):
          poses.setdefault(asset.segmentation_id, []).append(view @ asset.matrix_world)
    return poses

  def _zero_static_flow(self, layers: dict, frame: int, poses: dict) -> None:
    """Set flow to exactly 0 at pixels whose surface does not move relative to the camera between `frame` and the
    next (forward) or previous (backward) frame. Blender's vector pass gives such surfaces float noise (measured:
    median 7e-6 px on a static floor), which costs bytes in every flow file and is not what a static point does.
    The comparison allows 1e-9 (metres, and the same in rotation) for poses computed two ways. `poses` caches
    `_camera_relative_poses` by frame for the whole render (each frame's are needed for up to three frames)."""
    if "forward_flow" not in layers:
      return
    for needed in (frame - 1, frame, frame + 1):
      if needed not in poses:
        poses[needed] = self._camera_relative_poses(needed)
    here = poses[frame]
    segmentation = layers["segmentation"][..., 0]
    for layer, other in (("forward_flow", frame + 1), ("backward_flow", frame - 1)):
      there = poses[other]
      static = [i for i, poses in here.items()
                if all(np.allclose(a, b, rtol=0, atol=1e-9) for a, b in zip(poses, there[i]))]
      mask = np.isin(segmentation, static)
      if 0 in static:
        mask |= ~np.isfinite(layers["depth"][..., 0])  # nothing hit: the world does not move either
      layers[layer][mask] = 0.0

  # ---- public API ---------------------------------------------------------------------------------------------------

  def render(self, frames: Iterable[int] | None = None, return_layers: Iterable[str] = ALL_LAYERS,
             progress: bool | None = None) -> dict[str, np.ndarray]:
    """Render frames (default: the scene's range) and return {layer: array of shape (frames, H, W, C)}.

    Layers and conventions are documented in `kubricgen.renderer.passes`. `progress` shows a bar on stderr
    (default: the run's --progress/--no_progress, else on when stderr is a terminal or $KUBRICGEN_PROGRESS=1).
    """
    from tqdm.auto import tqdm  # pylint: disable=import-outside-toplevel
    return_layers = tuple(return_layers)
    unknown = set(return_layers) - set(ALL_LAYERS)
    if unknown:
      raise ValueError(f"Blender.render: unknown layers {sorted(unknown)}; known: {list(ALL_LAYERS)}")
    frames = list(self.scene.frames if frames is None else frames)
    if not frames:
      raise ValueError("Blender.render: no frames to render")
    if progress is None:
      progress = console.progress_wanted(defaults.default("progress"))
    need_data = any(layer in DATA_LAYERS for layer in return_layers)
    start = time.perf_counter()
    self._build()
    build_seconds = time.perf_counter() - start
    separate_data = self.engine != "cycles" and need_data
    total = len(frames) * (2 if separate_data else 1)
    with quiet_blender() as stderr, tqdm(total=total, desc=f"render {self.engine}", unit="frame",
                                         disable=not progress, leave=False, file=stderr) as bar:
      self._configure(self.engine, self.samples_per_pixel, self.use_denoising and self.engine == "cycles",
                      data_passes=need_data and not separate_data)
      color_paths = self._render_frames(frames, "color", bar)
      data_paths = color_paths
      if separate_data:  # the other engines render colour only: the data layer alone, in Cycles
        self._configure("cycles", 1, False, data_passes=True, color=False)
        data_paths = self._render_frames(frames, "data", bar)
    render_seconds = time.perf_counter() - start - build_seconds
    readback_start = time.perf_counter()
    relative_poses: dict = {}  # frame -> poses relative to the camera, shared by the frames' flow checks
    result: dict[str, list] = {layer: [] for layer in return_layers}
    for frame in frames:
      channels = passes.read_exr(color_paths[frame])
      if "rgba" in result:
        result["rgba"].append(passes.color_layer(channels))
      if need_data:
        if data_paths is not color_paths:
          channels = passes.read_exr(data_paths[frame])
        with self.scene.camera.at_frame(frame):
          layers = passes.data_layers(channels, self.scene.camera)
        self._zero_static_flow(layers, frame, relative_poses)
        for layer in return_layers:
          if layer != "rgba":
            if layer not in layers:
              raise RuntimeError(f"Blender wrote no {layer!r} pass")
            result[layer].append(layers[layer])
    for path in set(color_paths.values()) | set(data_paths.values()):
      os.remove(path)
    readback_seconds = time.perf_counter() - readback_start
    self.last_timings = {"build": build_seconds, "render": render_seconds, "readback": readback_seconds,
                         "frames": len(frames)}  # seconds, for benchmarks
    self.last_render_info = {
        "engine": self.engine, "device": self.device, "samples_per_pixel": self.samples_per_pixel,
        "use_denoising": self.use_denoising and self.engine == "cycles", "quality": self.quality,
        "frames": len(frames),
        "seconds_build": round(build_seconds, 4),
        "seconds_per_frame": round((render_seconds + readback_seconds) / len(frames), 4),
        "peak_memory_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "resolution": list(self.scene.resolution),
    }
    stacked = {layer: np.stack(arrays) for layer, arrays in result.items()}
    self.last_frames = frames
    self.last_segmentation = stacked.get("segmentation")
    return stacked

  def render_still(self, frame: int | None = None, return_layers: Iterable[str] = ALL_LAYERS,
                   progress: bool | None = None) -> dict[str, np.ndarray]:
    """Render one frame (default: frame_start); arrays have shape (H, W, C)."""
    frame = self.scene.frame_start if frame is None else frame
    data = self.render([frame], return_layers=return_layers, progress=progress)
    return {layer: array[0] for layer, array in data.items()}

  def save_state(self, path) -> None:
    """Save the translated scene as a .blend file, to inspect it in Blender. As Kubric's: missing folders are
    created; unlike Blender's default, saving again leaves no `.blend1` backup beside it."""
    self._build()
    self._configure(self.engine, self.samples_per_pixel, self.use_denoising, data_passes=True)
    path = os.path.abspath(os.fspath(path))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    bpy.context.preferences.filepaths.save_version = 0  # Blender keeps 1 numbered backup per save by default
    bpy.ops.wm.save_as_mainfile(filepath=path, check_existing=False)

  def close(self) -> None:
    if getattr(self, "_own_scratch", False) and os.path.isdir(self.scratch_dir):
      shutil.rmtree(self.scratch_dir, ignore_errors=True)

  def __del__(self):
    self.close()
