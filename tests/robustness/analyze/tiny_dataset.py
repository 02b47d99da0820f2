"""A tiny SI-Score-like TFDS dataset for analyzer tests: 32x32 JPEGs of a coloured square (one colour per class) on
grey, with our real si_score features (kubricgen.datasets.si_score.schema), and entry-point models for it."""
import numpy as np
import tensorflow_datasets as tfds
import torch

from kubricgen.datasets.si_score import schema

CLASSES = ["red_thing", "green_thing", "blue_thing"]
COLOURS = np.array([[220, 30, 30], [30, 200, 30], [30, 30, 220]], np.float32)
GREY = np.array([128, 128, 128], np.float32)
SIZE = 32
GRIDS = {
    "location": [dict(x=x, y=y, area=0.1, rotation=1.0) for y in (0.0, 0.5, 1.0) for x in (0.0, 0.5, 1.0)],
    "size": [dict(x=0.5, y=0.5, area=a, rotation=1.0) for a in (0.01, 0.1, 0.3, 0.6)],
    "rotation": [dict(x=0.5, y=0.5, area=0.2, rotation=r) for r in (1.0, 181.0, 341.0)],
}
INSTANCES = [(c, f"{name}_{i}") for c, name in enumerate(CLASSES) for i in range(2)]


def render(x, y, area, instance):
  image = np.tile(GREY, (SIZE, SIZE, 1))
  half = np.sqrt(area) * SIZE / 2
  cx, cy = x * SIZE, y * SIZE
  box = (cx - half, cy - half, cx + half, cy + half)
  x0, y0, x1, y1 = (int(round(np.clip(v, 0, SIZE))) for v in box)
  shade = 1.0 - 0.15 * int(instance[-1])
  image[y0:y1, x0:x1] = COLOURS[CLASSES.index(instance.rsplit("_", 1)[0])] * shade
  inside = max(0, x1 - x0) * max(0, y1 - y0) / (4 * half * half)
  return image.astype(np.uint8), min(1.0, inside)


class TinySiScore(tfds.core.GeneratorBasedBuilder):
  VERSION = tfds.core.Version("1.0.0")
  BUILDER_CONFIGS = [tfds.core.BuilderConfig(name=name) for name in GRIDS]

  def _info(self):
    return tfds.core.DatasetInfo(builder=self, features=schema.features(CLASSES))

  def _split_generators(self, dl_manager):
    return {"test": self._generate_examples()}

  def _generate_examples(self, grid=None):
    image_id = 0
    for cell in GRIDS[grid or self.builder_config.name]:
      for label, instance in INSTANCES:
        image, inside = render(cell["x"], cell["y"], cell["area"], instance)
        image_id += 1
        yield image_id, {
            "image": image, "mask": (image[..., :1] != 128).astype(np.uint8) * 255, "label": label,
            "imagenet_label": [948, -1, 954][label], "image_id": image_id, "x": cell["x"], "y": cell["y"],
            "area": cell["area"], "rotation": cell["rotation"], "pct_inside_image": inside,
            "visibility_threshold": 0.0, "object_instance": instance, "background": "grey",
            "azimuth": 0.0, "elevation": 0.0, "seed": image_id, "content_hash": "-"}


def build(data_dir, configs=("location", "size", "rotation")):
  for config in configs:
    TinySiScore(config=config, data_dir=str(data_dir)).download_and_prepare()


class ColourVotes(torch.nn.Module):
  """Counts the pixels of each class colour in the central half of the image; no class pixel -> class 0.
  So it is right in the centre and for large objects, wrong at the borders and for small objects of classes 1, 2."""

  def __init__(self, order=(0, 1, 2)):
    super().__init__()
    colours = torch.as_tensor(COLOURS[list(order)] / 255.0 * 2 - 1)  # inputs normalised with mean = std = 0.5
    self.register_buffer("colours", colours)

  def forward(self, images):
    size = images.shape[-1]
    centre = images[:, :, size // 4: 3 * size // 4, size // 4: 3 * size // 4]
    pixels = centre.flatten(2).transpose(1, 2)  # (B, P, 3)
    distance = torch.cdist(pixels, self.colours[None].expand(len(images), -1, -1))  # (B, P, K)
    grey = pixels.abs().sum(-1) < 0.3
    votes = torch.nn.functional.one_hot(distance.argmin(-1), len(self.colours)).float() * (~grey)[..., None]
    logits = votes.sum(1)
    logits[:, 0] += 0.5
    return logits


def colour_model():
  return dict(module=ColourVotes(), input_size=SIZE, mean=(0.5,) * 3, std=(0.5,) * 3, class_names=list(CLASSES))


def colour_model_reordered():
  order = (2, 0, 1)
  return dict(module=ColourVotes(order), input_size=SIZE, mean=(0.5,) * 3, std=(0.5,) * 3,
              class_names=[CLASSES[i] for i in order])


def wrong_classes_model():
  return dict(module=ColourVotes(), input_size=SIZE, mean=(0.5,) * 3, std=(0.5,) * 3,
              class_names=["red_thing", "green_thing", "purple_thing"])


def imagenet_model():
  """An ImageNet-1k model (1000 outputs) whose only signal is the colour votes, written into the logits of
  ImageNet indices 948, 0, 954 (the dataset's imagenet_label of red and blue; green has none)."""
  votes = ColourVotes()

  class Wrapped(torch.nn.Module):
    def __init__(self):
      super().__init__()
      self.votes = votes

    def forward(self, images):
      logits = torch.zeros(len(images), 1000)
      logits[:, [948, 0, 954]] = self.votes(images)
      return logits

  return dict(module=Wrapped(), input_size=SIZE, mean=(0.5,) * 3, std=(0.5,) * 3, label_space="imagenet1k")
