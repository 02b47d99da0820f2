"""Torch datasets and loaders over an `ImageSource`, with a data order that can be resumed mid-epoch.

Determinism: the order of epoch e is `numpy.random.default_rng([seed, e]).permutation(N)`, and every example's
augmentation is seeded from (seed, epoch, index) inside `__getitem__`, so a batch's content does not depend on which
loader worker decoded it nor on where a run was interrupted. Training drops the last partial batch of each epoch.
"""
from __future__ import annotations

import random

import numpy as np
import torch

from kubricgen_robustness.data.decoded import DecodedImages
from kubricgen_robustness.data.source import ImageSource, decode_image


def _item_seed(seed: int, epoch: int, index: int) -> int:
  return int(np.random.SeedSequence([seed, epoch, index]).generate_state(1, np.uint32)[0])


def _image_and_label(source: ImageSource, decoded: DecodedImages | None, index: int, position: int):
  if decoded is not None:
    return decode_image(decoded.images[position]), int(decoded.labels[position])
  record = source[index]
  return decode_image(record["image"]), int(record[source.label_key])


class TrainDataset(torch.utils.data.Dataset):
  """Keys are (epoch, index) pairs; items are ((3, S, S) float32 image, int64 label).

  decoded: the whole split decoded in advance (`decoded.decode_all(source)`), or None to decode per item."""

  def __init__(self, source: ImageSource, transform, seed: int, decoded: DecodedImages | None = None):
    self.source, self.transform, self.seed, self.decoded = source, transform, seed, decoded

  def __len__(self) -> int:
    return len(self.source)

  def __getitem__(self, key):
    epoch, index = key
    image, label = _image_and_label(self.source, self.decoded, index, index)
    state = random.getstate(), np.random.get_state(), torch.get_rng_state()
    item_seed = _item_seed(self.seed, epoch, index)
    random.seed(item_seed)
    np.random.seed(item_seed)
    # The CPU generator only: transforms draw from it, and torch.manual_seed also queues CUDA/XPU/MTIA seeding with
    # a formatted stack trace each call (0.64 ms, measured: half of an item's cost).
    torch.default_generator.manual_seed(item_seed)
    try:
      tensor = self.transform(image)
    finally:  # leave the caller's RNGs as they were (matters when decoding in the main process)
      random.setstate(state[0])
      np.random.set_state(state[1])
      torch.set_rng_state(state[2])
    return tensor, label


class EvalDataset(torch.utils.data.Dataset):
  """Items are ((3, S, S) float32 image, int64 label, int64 index into the source).

  decoded: the images at `indices` decoded in advance (`decoded.decode_all(source, indices)`), or None."""

  def __init__(self, source: ImageSource, transform, indices=None, decoded: DecodedImages | None = None):
    self.source, self.transform, self.decoded = source, transform, decoded
    self.indices = np.arange(len(source)) if indices is None else np.asarray(indices)

  def __len__(self) -> int:
    return len(self.indices)

  def __getitem__(self, position):
    index = int(self.indices[position])
    image, label = _image_and_label(self.source, self.decoded, index, position)
    return self.transform(image), label, index


class ResumableBatchSampler(torch.utils.data.Sampler):
  """Yields the batches of steps start_step .. total_steps - 1 as lists of (epoch, index) keys.

  Step s is batch s % steps_per_epoch of epoch s // steps_per_epoch, steps_per_epoch = N // batch_size.
  Raises ValueError when the dataset holds fewer examples than one batch."""

  def __init__(self, num_examples: int, batch_size: int, seed: int, start_step: int, total_steps: int):
    if num_examples < batch_size:
      raise ValueError(f"the training split has {num_examples} examples, fewer than one batch of {batch_size}")
    self.num_examples, self.batch_size, self.seed = num_examples, batch_size, seed
    self.start_step, self.total_steps = start_step, total_steps
    self.steps_per_epoch = num_examples // batch_size

  def order(self, epoch: int) -> np.ndarray:
    return np.random.default_rng([self.seed, epoch]).permutation(self.num_examples)

  def __len__(self) -> int:
    return max(0, self.total_steps - self.start_step)

  def __iter__(self):
    epoch, order = None, None
    for step in range(self.start_step, self.total_steps):
      if step // self.steps_per_epoch != epoch:
        epoch = step // self.steps_per_epoch
        order = self.order(epoch)
      first = (step % self.steps_per_epoch) * self.batch_size
      yield [(epoch, int(i)) for i in order[first:first + self.batch_size]]


def worker_start_method() -> str:
  """"fork" (fast) unless TensorFlow is loaded in this process: its runtime's threads and locks do not survive a
  fork (loader workers segfault), so workers then come from a clean "forkserver" process. TFDS's array_record and
  our tfrecord readers never load TensorFlow, so `kubricgen train` forks."""
  import sys  # pylint: disable=import-outside-toplevel
  return "forkserver" if "tensorflow" in sys.modules else "fork"


def loader(dataset, *, batch_sampler=None, batch_size=None, num_workers: int = 2, pin_memory: bool = False):
  """A DataLoader with `num_workers` decoding processes (0: decode in this process)."""
  kwargs = dict(num_workers=num_workers, pin_memory=pin_memory)
  if num_workers > 0:
    kwargs.update(persistent_workers=True, prefetch_factor=4, multiprocessing_context=worker_start_method())
  if batch_sampler is not None:
    return torch.utils.data.DataLoader(dataset, batch_sampler=batch_sampler, **kwargs)
  return torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=False, **kwargs)
