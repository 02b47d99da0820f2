"""Make the examples of one job: render (or load) the cut-out, then composite or render every spec of the job.

`Generator` is what a worker holds: picklable (it stores how to build the libraries, not the libraries), it loads
the class and background libraries lazily in the process where it runs.
"""
from __future__ import annotations

import dataclasses
import functools
from typing import Callable, Iterator

import numpy as np

from kubricgen.datasets.si_score import composite as composite_mode
from kubricgen.datasets.si_score import cutouts, schema
from kubricgen.datasets.si_score.specs import Job, Settings

EXAMPLE_FORMAT_VERSION = 2  # bump whenever the bytes of an example would change for the same spec (2: PNG masks)


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

  @functools.cached_property
  def library(self):
    return self.make_library()

  @functools.cached_property
  def backgrounds(self):
    return self.make_backgrounds()

  @functools.cached_property
  def imagenet_labels(self) -> dict[str, int | None]:
    return {c.name: c.imagenet_index for c in self.library.classes}

  def fingerprint(self) -> str:
    """Everything that shapes this generator's examples (for result caches): settings, libraries, code version."""
    import json  # pylint: disable=import-outside-toplevel
    libraries = [f"{getattr(f, '__module__', '')}.{getattr(f, '__qualname__', repr(f))}"
                 for f in (self.make_library, self.make_backgrounds)]
    versions = [str(getattr(self.library, "version", "")), str(getattr(self.backgrounds, "version", ""))]
    return json.dumps([EXAMPLE_FORMAT_VERSION, dataclasses.asdict(self.settings), libraries, versions],
                      sort_keys=True, default=str)

  def __getstate__(self):  # ship the recipe, not the loaded libraries
    state = dict(self.__dict__)
    for cached in ("library", "backgrounds", "imagenet_labels", "_background_cache"):
      state.pop(cached, None)
    return state

  def background(self, background_id: str) -> np.ndarray:
    cache = self.__dict__.setdefault("_background_cache", {})
    if background_id not in cache:
      if len(cache) > 64:
        cache.clear()
      cache[background_id] = self.backgrounds.load(background_id, self.settings.resolution)
    return cache[background_id]

  def cutout(self, job: Job) -> cutouts.Cutout:
    return cutouts.render_cutout(self.library, job.instance_id, job.pose, self.settings.render_resolution,
                                 self.settings.samples, self.cache_dir)

  def examples(self, job: Job) -> Iterator[tuple[str, dict]]:
    """(key, TFDS example) for every spec of `job` that passes its visibility threshold."""
    cutout = self.cutout(job)
    resolution = self.settings.resolution
    if self.settings.mode == "full3d":
      from kubricgen.datasets.si_score import full3d  # pylint: disable=import-outside-toplevel
      points = [(s.x, s.y, s.area, s.rotation) for s in job.specs]
      rendered = full3d.render_images(self.library, cutout, [self.background(s.background_id) for s in job.specs],
                                      points, resolution, self.settings.samples)
    else:
      rendered = (composite_mode.composite(cutout.rgba, self.background(s.background_id), s.x, s.y, s.area,
                                           s.rotation, key=cutout.key) for s in job.specs)
    for spec, result in zip(job.specs, rendered):
      if result.pct_inside_image < spec.visibility_threshold:
        continue
      yield spec.key, schema.example(spec, result.image, result.mask, result.pct_inside_image,
                                     self.imagenet_labels[spec.class_name])
