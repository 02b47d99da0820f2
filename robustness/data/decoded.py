"""Decode a split's images once and keep them in memory, so loader workers only augment (tf.data's `cache()` placed
after decoding; big_vision's `cache_raw` idea).

On 2 CPU cores the decoding workers and the model share the cores: decoding a 224 px PNG per training image per epoch
cost our trainer ~10% of its images/s against timm's synthetic-data step (BENCHMARKS.md). Decoded pixels are exactly
the pixels a worker would decode, so a run with the cache is bit-identical to one without (tested).
The images sit in this process before the loader forks its workers, so they share them copy-on-write.
"""
from __future__ import annotations

import concurrent.futures
import dataclasses
import logging
import os
import time

import numpy as np

from kubricgen_robustness.data.source import ImageSource, decode_image

log = logging.getLogger("kubricgen")


@dataclasses.dataclass
class DecodedImages:
  """images[p]: (H, W, 3) uint8 RGB of the p-th requested example; labels[p]: its int64 label."""
  images: list
  labels: np.ndarray


def decode_all(source: ImageSource, indices=None, *, max_mb: float = 2048, progress: bool | None = False,
               threads: int | None = None) -> DecodedImages | None:
  """Decode the images at `indices` (default: every example) of `source`, or return None if they do not fit.

  Args:
    indices: (P,) positions in `source`; the result's position p holds source[indices[p]].
    max_mb: memory budget in MiB for the decoded uint8 pixels (0: never cache). The estimate is the first image's
      size x P; decoding stops and returns None if the real total passes the budget.
    progress: show a progress bar (None: only on a terminal).
    threads: decoding threads (Pillow releases the GIL while decoding); default os.cpu_count().
  Returns:
    DecodedImages, or None when the split does not fit (the caller then decodes per item, as before).
  """
  indices = np.arange(len(source)) if indices is None else np.asarray(indices)
  if max_mb <= 0 or len(indices) == 0:
    return None
  budget = max_mb * 2 ** 20
  first = np.asarray(decode_image(source[int(indices[0])]["image"]))
  estimate = first.nbytes * len(indices)
  if estimate > budget:
    log.info("%s: %d decoded images would take ~%.0f MiB > cache_decoded_mb=%g; decoding per step", source.name,
             len(indices), estimate / 2 ** 20, max_mb)
    return None

  def load(index):
    record = source[int(index)]
    return np.asarray(decode_image(record["image"])), int(record[source.label_key])

  from tqdm import tqdm  # pylint: disable=import-outside-toplevel
  started = time.perf_counter()
  images, labels, total = [], [], 0
  chunk = 256  # bounded look-ahead: a split that turns out too big stops within one chunk
  disable = None if progress is None else not progress
  with concurrent.futures.ThreadPoolExecutor(threads or os.cpu_count() or 1) as pool, \
      tqdm(total=len(indices), desc=f"decode {source.name}", unit="img", disable=disable, leave=False) as bar:
    for start in range(0, len(indices), chunk):
      for image, label in pool.map(load, indices[start:start + chunk]):
        total += image.nbytes
        images.append(image)
        labels.append(label)
      bar.update(min(chunk, len(indices) - start))
      if total > budget:
        log.info("%s: decoded images pass cache_decoded_mb=%g; decoding per step", source.name, max_mb)
        return None
  log.info("%s: decoded %d images (%.0f MiB) in %.1f s; workers now only augment", source.name, len(images),
           total / 2 ** 20, time.perf_counter() - started)
  return DecodedImages(images, np.asarray(labels, np.int64))
