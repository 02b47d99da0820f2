"""Make the examples of one job: render (or load) the cut-out, then composite or render every spec of the job.

`Generator` is what a worker holds: picklable (it stores how to build the libraries, not the libraries), it loads
the class and background libraries lazily in the process where it runs. In composite mode, `processes` >= 1 spreads
compositing and encoding over that many spawned child processes while the calling process keeps writing (TFDS's
serialisation and shuffling stay there); the examples come out in the same order with the same bytes.
"""
from __future__ import annotations

import contextlib
import dataclasses
import functools
import logging
import pickle
import sys
import types
import weakref
from typing import Callable, Iterator

import numpy as np

from kubricgen.datasets.si_score import composite as composite_mode
from kubricgen.datasets.si_score import cutouts, schema
from kubricgen.datasets.si_score.specs import Job, Settings

EXAMPLE_FORMAT_VERSION = 3  # bump whenever the bytes of an example would change for the same spec (2: PNG masks; 3: uint8 paste)
log = logging.getLogger("kubricgen")
LAYERED_SUBSETS = ("occlusion", "clutter")  # several instances per image (`layered`)
SPECS_PER_TASK = 32  # with several processes: specs composited per task (small, so a job's first results come soon)


def default_class_library():
  from kubricgen.assets import ClassLibrary  # pylint: disable=import-outside-toplevel
  return ClassLibrary.default()


def default_background_library():
  from kubricgen.assets import BackgroundLibrary  # pylint: disable=import-outside-toplevel
  return BackgroundLibrary.default()


@dataclasses.dataclass
class Generator:
  settings: Settings
  cache_dir: str | None = None
  make_library: Callable = default_class_library
  make_backgrounds: Callable = default_background_library
  processes: int | None = None  # composite mode: child processes compositing + encoding (None or 0: none)

  @functools.cached_property
  def library(self):
    return self.make_library()

  @functools.cached_property
  def backgrounds(self):
    return self.make_backgrounds()

  @functools.cached_property
  def imagenet_labels(self) -> dict[str, int | None]:
    return {c.name: c.imagenet_index for c in self.library.classes}

  def identity(self) -> dict:
    """Everything that shapes this generator's examples, as JSON-able values: example format version, settings,
    the library factories and the libraries' content versions. Recorded beside a published config."""
    import json  # pylint: disable=import-outside-toplevel
    libraries = [f"{getattr(f, '__module__', '')}.{getattr(f, '__qualname__', repr(f))}"
                 for f in (self.make_library, self.make_backgrounds)]
    versions = [str(getattr(self.library, "version", "")), str(getattr(self.backgrounds, "version", ""))]
    settings = json.loads(json.dumps(dataclasses.asdict(self.settings), default=str))
    return dict(example_format=EXAMPLE_FORMAT_VERSION, settings=settings, libraries=libraries,
                library_versions=versions)

  def fingerprint(self) -> str:
    """`identity()` as one string (for result caches)."""
    import json  # pylint: disable=import-outside-toplevel
    identity = self.identity()
    return json.dumps([identity["example_format"], identity["settings"], identity["libraries"],
                       identity["library_versions"]], sort_keys=True, default=str)

  def __getstate__(self):  # ship the recipe, not the loaded libraries
    state = dict(self.__dict__)
    for cached in ("library", "backgrounds", "imagenet_labels", "_background_cache", "_process_pool",
                   "_spawnable", "_other_cutouts"):
      state.pop(cached, None)
    state["processes"] = None  # a pickled copy (a worker's) composites in its own process
    return state

  def start(self) -> None:
    """Start the compositing processes now (if any), so they load while the caller sets up."""
    if self.settings.mode == "composite" and self._use_processes() and "_process_pool" not in self.__dict__:
      pool = self._pool()
      with _main_module_hidden():
        for _ in range(self.processes):
          pool.submit(int)

  def close(self) -> None:
    """Stop the compositing processes, if any (they are also stopped when the generator is garbage-collected)."""
    pool = self.__dict__.pop("_process_pool", None)
    if pool is not None:
      pool.shutdown(wait=True, cancel_futures=True)

  def _use_processes(self) -> bool:
    """Whether examples are made in child processes: `processes` >= 1, and a child can rebuild this generator from
    importable modules (a factory defined in the caller's `__main__`, e.g. a notebook, cannot be sent)."""
    if not self.processes:
      return False
    if "_spawnable" not in self.__dict__:
      try:
        spawnable = b"__main__" not in pickle.dumps(self)
      except (pickle.PicklingError, TypeError, AttributeError):
        spawnable = False
      if not spawnable:
        log.warning("SI-Score: the class/background library factories cannot be sent to other processes (defined "
                    "in __main__?); generating in this process only")
      self.__dict__["_spawnable"] = spawnable
    return self.__dict__["_spawnable"]

  def _pool(self):
    pool = self.__dict__.get("_process_pool")
    if pool is None:
      import concurrent.futures  # pylint: disable=import-outside-toplevel
      import multiprocessing  # pylint: disable=import-outside-toplevel
      # Spawned, not forked: this process runs TensorFlow's threads and holds file locks. The children import only
      # what compositing needs and get this generator's recipe once.
      pool = concurrent.futures.ProcessPoolExecutor(self.processes, mp_context=multiprocessing.get_context("spawn"),
                                                    initializer=_start_worker, initargs=(self,))
      weakref.finalize(self, pool.shutdown, wait=False, cancel_futures=True)
      self.__dict__["_process_pool"] = pool
    return pool

  def background(self, background_id: str) -> np.ndarray:
    cache = self.__dict__.setdefault("_background_cache", {})
    if background_id not in cache:
      if len(cache) > 64:
        cache.clear()
      cache[background_id] = self.backgrounds.load(background_id, self.settings.resolution)
    return cache[background_id]

  def cutout(self, job: Job, pose=None) -> cutouts.Cutout:
    """The cut-out of `job`'s instance in `pose` (default: the job's one pose)."""
    pose = pose or job.pose
    if pose is None:
      raise ValueError(f"job {job.key} holds several poses: name the pose")
    return cutouts.render_cutout(self.library, job.instance_id, pose, self.settings.render_resolution,
                                 self.settings.samples, self.cache_dir)

  def examples(self, job: Job) -> Iterator[tuple[str, dict]]:
    """(key, TFDS example) for every spec of `job` that passes its visibility threshold, in spec order: each pose's
    cut-out is rendered (or loaded) when its first spec comes."""
    if job.pose is not None:
      yield from self._examples_in_pose(job, job.pose, job.specs)
      return
    start = 0
    while start < len(job.specs):
      pose = job.specs[start].pose
      end = start
      while end < len(job.specs) and job.specs[end].pose == pose:
        end += 1
      yield from self._examples_in_pose(job, pose, job.specs[start:end])
      start = end

  def _examples_in_pose(self, job: Job, pose, specs) -> Iterator[tuple[str, dict]]:
    job = dataclasses.replace(job, pose=pose, specs=tuple(specs))
    cutout = self.cutout(job)
    layered = job.specs[0].subset in LAYERED_SUBSETS  # composited in both modes (see `layered`)
    if self.settings.mode == "full3d" and not layered:
      from kubricgen.datasets.si_score import full3d  # pylint: disable=import-outside-toplevel
      points = [(s.x, s.y, s.area, s.rotation) for s in job.specs]
      rendered = full3d.render_images(self.library, cutout, [self.background(s.background_id) for s in job.specs],
                                      points, self.settings.resolution, self.settings.samples)
      for spec, result in zip(job.specs, rendered):
        if result.pct_inside_image >= spec.visibility_threshold:
          yield spec.key, schema.example(spec, result.image, result.mask, result.pct_inside_image,
                                         self.imagenet_labels[spec.class_name], self._extra(spec))
    elif len(job.specs) > SPECS_PER_TASK and not layered and self._use_processes():
      pool = self._pool()
      with _main_module_hidden():  # children are started by submit()
        tasks = [pool.submit(_composite_in_worker, cutout, job.specs[start:start + SPECS_PER_TASK])
                 for start in range(0, len(job.specs), SPECS_PER_TASK)]
      try:
        for task in tasks:
          yield from task.result()
      finally:
        for task in tasks:
          task.cancel()
    else:
      yield from self.composite_examples(cutout, job.specs)

  def serialized_examples(self, job: Job) -> list[bytes]:
    """The job's examples as the records a TFDS shard stores: serialized tf.train.Examples of `schema.features`
    (deterministic map order), in spec order. What the job pipeline's workers write as the job's shard."""
    encode = schema.encoder(tuple(sorted(c.name for c in self.library.classes)), job.specs[0].subset)
    return [encode(example) for _, example in self.examples(job)]

  def composite_examples(self, cutout: cutouts.Cutout, specs) -> Iterator[tuple[str, dict]]:
    """Composite mode in this process: (key, TFDS example) of each spec that passes its visibility threshold."""
    for spec in specs:
      if spec.subset in LAYERED_SUBSETS:
        result, extra = self._layered(cutout, spec)
      else:
        result = composite_mode.composite(cutout.rgba, self.background(spec.background_id), spec.x, spec.y,
                                          spec.area, spec.rotation, key=cutout.key)
        extra = self._extra(spec)
      if result.pct_inside_image >= spec.visibility_threshold:
        yield spec.key, schema.example(spec, result.image, result.mask, result.pct_inside_image,
                                       self.imagenet_labels[spec.class_name], extra)

  @staticmethod
  def _extra(spec) -> dict | None:
    """The EXTRA_FIELDS of a spec whose config's fields follow from the spec alone (lighting, cue_conflict)."""
    if spec.subset == "lighting":
      azimuth, elevation, irradiance, ambient = spec.pose.light
      return dict(light_azimuth=azimuth, light_elevation=elevation, light_irradiance=irradiance,
                  ambient_radiance=ambient)
    if spec.subset == "cue_conflict":
      return dict(shape_label=spec.class_name, texture_label=spec.parameter("texture_class"),
                  texture_instance=spec.pose.texture_from)
    return None

  def other_cutout(self, instance_id: str, pose) -> cutouts.Cutout:
    """The cut-out of another instance (an occluder or distractor), rendered or loaded once per process."""
    cache = self.__dict__.setdefault("_other_cutouts", {})
    key = (instance_id, pose)
    if key not in cache:
      if len(cache) > 64:
        cache.clear()
      cache[key] = cutouts.render_cutout(self.library, instance_id, pose, self.settings.render_resolution,
                                         self.settings.samples, self.cache_dir)
    return cache[key]

  def _layered(self, cutout: cutouts.Cutout, spec) -> tuple[composite_mode.Composite, dict]:
    """An occlusion or clutter example: the target (instance 1) and the other layers, composited; returns the
    target's composite (visible mask) and the config's EXTRA_FIELDS, measured from the instance masks."""
    from kubricgen.datasets.si_score import factors, layered  # pylint: disable=import-outside-toplevel
    background = self.background(spec.background_id)
    height, width = background.shape[:2]
    target, placement = layered.cutout_layer(cutout.rgba, cutout.key, spec.x, spec.y, spec.area, 1, width, height)
    if spec.subset == "occlusion":
      grid = factors.grid_3d("occlusion", self.settings.grids)
      level, occluder = spec.parameter("occlusion"), spec.parameter("occluder")
      whole = target.alpha(width, height) > 127
      layers = [target]
      if occluder == "bar":
        layers.append(layered.bar_layer(*layered.bar_for(whole, level, spec.parameter("side")), height, 2))
      elif occluder == "object":
        other = self.other_cutout(spec.parameter("occluder_instance"), spec.parameter("occluder_pose"))
        area, rotation, left, top = layered.occluder_placement(whole, other.rgba, other.key, level,
                                                               spec.parameter("side"), spec.area, width, height,
                                                               grid.tolerance)
        straight = composite_mode.scaled(other.rgba, area, width, height, key=other.key, rotation=rotation).straight
        layers.append(layered.Layer(straight, left, top, 2))
      stacked = layered.stack(background, layers)
      extra = dict(occlusion=level, occluded_fraction=round(1 - stacked.visible_fraction(1), 6), occluder=occluder,
                   occluder_class=spec.parameter("occluder_class") if occluder == "object" else "")
    else:
      grid = factors.grid_3d("clutter", self.settings.grids)
      behind, in_front, classes = [], [], []
      for number, (instance_id, class_name, pose, x, y, front) in enumerate(spec.parameter("distractors"), start=2):
        other = self.other_cutout(instance_id, pose)
        layer, _ = layered.cutout_layer(other.rgba, other.key, x, y, grid.distractor_area, number, width, height)
        (in_front if front else behind).append(layer)
        classes.append(class_name)
      layers = behind + [target] + in_front
      stacked = layered.stack(background, layers)
      for layer in list(layers):  # a distractor hidden too much comes to the front (seeded order otherwise kept)
        if layer.instance > 1 and stacked.visible_fraction(layer.instance) < grid.min_distractor_visible:
          layers.remove(layer)
          layers.append(layer)
          stacked = layered.stack(background, layers)
      extra = dict(num_distractors=spec.parameter("num_distractors"),
                   visible_fraction=round(stacked.visible_fraction(1), 6), distractor_classes=",".join(classes))
    extra.update(amodal_mask=stacked.amodal[1][..., None], segmentation=stacked.segmentation[..., None])
    result = composite_mode.Composite(image=stacked.image, mask=stacked.visible[1][..., None],
                                      pct_inside_image=placement.pct_inside_image, box=placement.box)
    return result, extra


@contextlib.contextmanager
def _main_module_hidden():
  """Spawned children re-run the parent's main script unless `__main__` has no file: the caller's script must not run
  again (or need an `if __name__ == "__main__"` guard) just because examples are made in parallel, and the children
  need nothing from it (`_use_processes` checked that). multiprocessing has no public switch for this: spawn's
  get_preparation_data reads sys.modules['__main__'].__file__ (checked against CPython 3.11; the swap lasts only
  while children start, and tests/datasets/si_score/test_generate.py runs an unguarded script to pin it)."""
  main = sys.modules.get("__main__")
  sys.modules["__main__"] = types.ModuleType("__main__")
  try:
    yield
  finally:
    sys.modules["__main__"] = main


_worker_generator: Generator | None = None  # in a compositing process: its copy of the generator


def _start_worker(generator: Generator) -> None:
  global _worker_generator  # pylint: disable=global-statement
  _worker_generator = generator
  _worker_generator.imagenet_labels  # pylint: disable=pointless-statement  (loads the class library now)


def _composite_in_worker(cutout: cutouts.Cutout, specs) -> list[tuple[str, dict]]:
  return list(_worker_generator.composite_examples(cutout, specs))
