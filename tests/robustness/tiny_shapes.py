"""A tiny TFDS image-classification dataset built by the tests: 4 shape classes on noise, 32x32, with factors.

`build(data_dir, file_format)` writes `tiny_shapes/1.0.0` (splits train 320, test 96) in either TFDS file format.
Deterministic: the same bytes every time. Shapes are learnable in a few dozen steps, so "loss goes down" is real.
"""
from __future__ import annotations

import numpy as np
import tensorflow_datasets as tfds

CLASSES = ("square", "disk", "triangle", "cross")
SIZE = 32


def _draw(label: int, rng: np.random.Generator):
  image = (rng.random((SIZE, SIZE, 3)) * 80).astype(np.uint8)
  yy, xx = np.mgrid[0:SIZE, 0:SIZE]
  cx, cy = rng.uniform(10, 22, size=2)
  r = rng.uniform(5, 8)
  dx, dy = xx - cx, yy - cy
  mask = {0: (np.abs(dx) < r) & (np.abs(dy) < r),
          1: dx ** 2 + dy ** 2 < r ** 2,
          2: (dy < r) & (dy > -r) & (np.abs(dx) < (dy + r) / 2),
          3: ((np.abs(dx) < r / 3) & (np.abs(dy) < r)) | ((np.abs(dy) < r / 3) & (np.abs(dx) < r))}[label]
  image[mask] = rng.integers(150, 256, size=3).astype(np.uint8)
  return image, cx / SIZE, cy / SIZE, float(mask.mean())


class TinyShapes(tfds.core.GeneratorBasedBuilder):
  """4 classes of bright shapes on dark noise."""
  VERSION = tfds.core.Version("1.0.0")

  def _info(self):
    return self.dataset_info_from_configs(
        features=tfds.features.FeaturesDict({
            "image": tfds.features.Image(shape=(SIZE, SIZE, 3), encoding_format="png"),
            "label": tfds.features.ClassLabel(names=list(CLASSES)),
            "object_instance": tfds.features.Text(),
            "x": tfds.features.Scalar(np.float32), "y": tfds.features.Scalar(np.float32),
            "area": tfds.features.Scalar(np.float32),
        }), supervised_keys=("image", "label"))

  def _split_generators(self, dl_manager):
    return {"train": self._generate_examples("train", 320), "test": self._generate_examples("test", 96)}

  def _generate_examples(self, split, count):
    for index in range(count):
      rng = np.random.default_rng([0 if split == "train" else 1, index])
      label = index % len(CLASSES)
      image, x, y, area = _draw(label, rng)
      yield f"{split}-{index}", {"image": image, "label": label, "x": x, "y": y, "area": area,
                                 "object_instance": f"{CLASSES[label]}_{index % 3 + (0 if split == 'train' else 3)}"}


def build(data_dir: str, file_format: str = "array_record") -> str:
  """Build into data_dir (idempotent); returns the dataset's version folder."""
  builder = TinyShapes(data_dir=data_dir, file_format=file_format)
  builder.download_and_prepare()
  return str(builder.data_dir)
