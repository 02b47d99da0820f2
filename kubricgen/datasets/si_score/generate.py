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
                   "_spawnable"):
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
    if self.settings.mode == "full3d":
      from kubricgen.datasets.si_score import full3d  # pylint: disable=import-outside-toplevel
      points = [(s.x, s.y, s.area, s.rotation) for s in job.specs]
      rendered = full3d.render_images(self.library, cutout, [self.background(s.background_id) for s in job.specs],
                                      points, self.settings.resolution, self.settings.samples)
      for spec, result in zip(job.specs, rendered):
        if result.pct_inside_image >= spec.visibility_threshold:
          yield spec.key, schema.example(spec, result.image, result.mask, result.pct_inside_image,
                                         self.imagenet_labels[spec.class_name])
    elif len(job.specs) > SPECS_PER_TASK and self._use_processes():
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
    encode = schema.encoder(tuple(sorted(c.name for c in self.library.classes)))
    return [encode(example) for _, example in self.examples(job)]

  def composite_examples(self, cutout: cutouts.Cutout, specs) -> Iterator[tuple[str, dict]]:
    """Composite mode in this process: (key, TFDS example) of each spec that passes its visibility threshold."""
    for spec in specs:
      result = composite_mode.composite(cutout.rgba, self.background(spec.background_id), spec.x, spec.y, spec.area,
                                        spec.rotation, key=cutout.key)
      if result.pct_inside_image >= spec.visibility_threshold:
        yield spec.key, schema.example(spec, result.image, result.mask, result.pct_inside_image,
                                       self.imagenet_labels[spec.class_name])


@contextlib.contextmanager
def _main_module_hidden():
  """Spawned children re-run the parent's main script unless `__main__` has no file: the caller's script must not run
  again (or need an `if __name__ == "__main__"` guard) just because examples are made in parallel, and the children
  need nothing from it (`_use_processes` checked that)."""
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
