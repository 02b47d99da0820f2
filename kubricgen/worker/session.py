"""`setup(flags)` and `done()`: a worker's seeded scene, its staging folder, and the atomic publish at the end.

The output folder only ever appears complete: files are written to a hidden staging folder beside it, which is
renamed into place by `done()`. A failed or killed run leaves at most a `.<name>.partial-*` folder, never `<name>`.
"""
from __future__ import annotations

import logging
import os
import pathlib
import shutil
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from kubricgen import scene as kbs
from kubricgen.output import annotations
from kubricgen.output import metadata as md
from kubricgen.renderer import defaults as renderer_defaults

log = logging.getLogger("kubricgen")


class OutputError(RuntimeError):
  """The output folder cannot be written."""


@dataclass
class Session:
  flags: Any
  scene: kbs.Scene
  rng: np.random.RandomState
  seed: int
  output_dir: str  # the staging folder the script writes into
  final_dir: str
  scratch_dir: str
  started: float = field(default_factory=time.time)
  extra_metadata: dict = field(default_factory=dict)

  @property
  def renderer(self) -> Any:
    """The last renderer made for this run's scene (views link themselves to their scene), or None."""
    return next((view for view in reversed(self.scene.views) if hasattr(view, "last_render_info")), None)


_CURRENT: Session | None = None


def current() -> Session | None:
  return _CURRENT


def _staging_for(final_dir: str) -> str:
  parent, name = os.path.split(os.path.abspath(final_dir))
  try:
    os.makedirs(parent, exist_ok=True)
  except OSError as error:
    raise OutputError(f"cannot create output folder {parent}: {error.strerror}") from None
  if not os.access(parent, os.W_OK):
    raise OutputError(f"output folder {parent} is not writable")
  if os.path.exists(final_dir) and not os.path.isdir(final_dir):
    raise OutputError(f"output path {final_dir} exists and is not a folder")
  staging = os.path.join(parent, f".{name}.partial-{uuid.uuid4().hex[:8]}")
  os.makedirs(staging)
  return staging


def setup(flags) -> tuple[kbs.Scene, np.random.RandomState, pathlib.Path, pathlib.Path]:
  """Kubric's `kb.setup`: (scene, rng, output_dir, scratch_dir) from the parsed flags; the folders as
  `pathlib.Path`s, as Kubric's (`output_dir / "metadata.json"` works), output_dir being the run's staging folder.

  `--seed 0` is a seed like any other; with no seed a random one is drawn, logged and recorded in metadata.json.
  `resolution` may be WxH or, as Kubric's MOVi workers set it with `parser.set_defaults(resolution=256)`, one int
  for a square image.
  """
  global _CURRENT
  seed = flags.seed if flags.seed is not None else int(np.random.SeedSequence().entropy % 2**32)
  if flags.seed is None:
    log.warning("no --seed given: using seed %d (recorded in metadata.json)", seed)
  final_dir = os.path.abspath(flags.job_dir)
  if os.path.isdir(final_dir) and os.listdir(final_dir) and not getattr(flags, "overwrite", False):
    raise OutputError(f"output folder {final_dir} already exists (pass --overwrite to replace it)")
  resolution = flags.resolution
  resolution = (resolution, resolution) if isinstance(resolution, (int, np.integer)) else tuple(resolution)
  scene = kbs.Scene(frame_start=flags.frame_start, frame_end=flags.frame_end, frame_rate=flags.frame_rate,
                    step_rate=flags.step_rate, resolution=resolution)
  scratch_dir = flags.scratch_dir or tempfile.mkdtemp(prefix="kubricgen-scratch-")
  os.makedirs(scratch_dir, exist_ok=True)
  _CURRENT = Session(flags=flags, scene=scene, rng=np.random.RandomState(seed), seed=seed,
                     output_dir=_staging_for(final_dir), final_dir=final_dir, scratch_dir=scratch_dir)
  from kubricgen.scene import randomness  # pylint: disable=import-outside-toplevel
  randomness.set_default_rng(_CURRENT.rng)  # Kubric's helpers default to the run's generator, as in Kubric
  renderer_defaults.set_defaults(  # a script's own Blender(...) honours the run's render flags
      engine=getattr(flags, "engine", None), quality=getattr(flags, "quality", None),
      samples_per_pixel=getattr(flags, "samples", None), use_denoising=getattr(flags, "denoise", None),
      device=getattr(flags, "device", None), progress=getattr(flags, "progress", None))
  return scene, _CURRENT.rng, pathlib.Path(_CURRENT.output_dir), pathlib.Path(scratch_dir)


def setup_directories(flags) -> tuple[pathlib.Path, pathlib.Path]:
  """Kubric's `kb.setup_directories`: (scratch_dir, output_dir), both existing folders.

  Inside a run (after `kb.setup`) these are the run's scratch folder and its output folder, the staging folder that
  `kb.done()` publishes, so a worker that writes there keeps the atomic publish. Outside one: `flags.scratch_dir`
  emptied and created (a fresh temporary folder when None) and `flags.job_dir` created.
  """
  if _CURRENT is not None:
    return pathlib.Path(_CURRENT.scratch_dir), pathlib.Path(_CURRENT.output_dir)
  scratch_dir = getattr(flags, "scratch_dir", None)
  if scratch_dir:
    if os.path.isdir(scratch_dir):
      log.info("emptying the old scratch folder %s", scratch_dir)
      shutil.rmtree(scratch_dir)
    os.makedirs(scratch_dir)
  else:
    scratch_dir = tempfile.mkdtemp(prefix="kubricgen-scratch-")
  os.makedirs(flags.job_dir, exist_ok=True)
  return pathlib.Path(scratch_dir), pathlib.Path(flags.job_dir)


def log_my_flags(flags) -> None:
  """Kubric's `kb.log_my_flags`: log every parsed flag (name: value, sorted) at INFO level."""
  log.info("flags:\n%s", "\n".join(f"  {k}: {v!r}" for k, v in flags_dict(flags).items()))


def _clear_run_defaults() -> None:
  from kubricgen.scene import randomness  # pylint: disable=import-outside-toplevel
  randomness.set_default_rng(None)  # a later run in this process must not draw from this one's generator
  renderer_defaults.clear_defaults()  # nor render with its flags


def flags_dict(flags) -> dict[str, Any]:
  return {k: (list(v) if isinstance(v, tuple) else v) for k, v in sorted(vars(flags).items())}


def default_metadata(session: Session) -> dict[str, Any]:
  """metadata.json for a script that did not write its own (fields: docs/metadata.md).

  Per-frame lists run over the frames of the renderer's last render (the scene's range if nothing was rendered).
  2D boxes and visibility come from that render's segmentation, unless the script computed them itself
  (`kb.compute_bboxes`, `kb.compute_visibility`)."""
  scene = session.scene
  renderer = session.renderer
  frames = list(getattr(renderer, "last_frames", None) or scene.frames)
  segmentation = getattr(renderer, "last_segmentation", None)
  has_camera = not isinstance(scene.camera, kbs.UndefinedCamera)
  if segmentation is not None and has_camera:
    missing = [obj for obj in scene.instances if any(k not in obj.metadata for k in annotations.ANNOTATION_FIELDS)]
    if missing:
      annotations.compute_bboxes_of_instances(segmentation, missing)
      annotations.compute_visibility(segmentation, missing, frames=frames)
  data: dict[str, Any] = {
      "flags": flags_dict(session.flags), "seed": session.seed,
      "scene": md.get_scene_metadata(scene),
      "frames": frames,
      "camera": md.get_camera_info(scene.camera, frames) if has_camera else None,
      "instances": md.get_instance_info(scene, frames=frames),
  }
  if session.renderer is not None and session.renderer.last_render_info:
    data["render"] = session.renderer.last_render_info
  data.update(session.extra_metadata)
  return data


def write_preview(folder: str) -> None:
  """preview.png: a contact sheet of the folder's layers, rows labelled with frames, 2D boxes on the colour image."""
  from kubricgen.output import images, preview  # pylint: disable=import-outside-toplevel
  data = images.read_image_dict(folder)
  if not data:
    return
  metadata = md.read_json(os.path.join(folder, "metadata.json"))
  boxes = {i["segmentation_id"]: i["bboxes_2d"] for i in metadata.get("instances") or []
           if "bboxes_2d" in i and "segmentation_id" in i}
  preview.contact_sheet(data, frame_numbers=metadata.get("frames"), boxes=boxes).save(
      os.path.join(folder, "preview.png"))


def publish(staging: str, final_dir: str) -> None:
  """Atomically put a complete staging folder at `final_dir`, replacing an older one in one step
  (`atomic.replace_folder`)."""
  from kubricgen import atomic  # pylint: disable=import-outside-toplevel
  atomic.replace_folder(staging, final_dir)


def done() -> str:
  """Kubric's `kb.done`: write metadata.json unless the script wrote it, then publish the folder."""
  global _CURRENT
  session = _CURRENT
  if session is None:
    raise RuntimeError("kb.done() called without kb.setup()")
  metadata_path = os.path.join(session.output_dir, "metadata.json")
  if not os.path.exists(metadata_path):
    md.write_json(default_metadata(session), metadata_path)
  if getattr(session.flags, "preview", False):
    write_preview(session.output_dir)
  publish(session.output_dir, session.final_dir)
  if not session.flags.scratch_dir:
    shutil.rmtree(session.scratch_dir, ignore_errors=True)
  log.info("wrote %s", session.final_dir)
  _CURRENT = None
  _clear_run_defaults()
  return session.final_dir


def abort() -> None:
  """Drop the staging folder of a failed run (called by the CLI on any error)."""
  global _CURRENT
  session = _CURRENT
  if session is not None:
    shutil.rmtree(session.output_dir, ignore_errors=True)
    if not session.flags.scratch_dir:
      shutil.rmtree(session.scratch_dir, ignore_errors=True)
  _CURRENT = None
  _clear_run_defaults()
