"""Shape bias (Geirhos et al. 2019) on cue-conflict predictions: hand-counted decisions, the object-instance
bootstrap interval, and the label-space mapping of shape/texture classes for ImageNet-1k models."""
import numpy as np
import pytest
import torch

from kubricgen_robustness.analyze import cue_conflict, evaluate, stats
from kubricgen_robustness.analyze.models import EvalModel


def _table(rows, instance_of=None):
  """rows: (shape, texture, prediction) triples -> predictions columns in one label space."""
  shape, texture, prediction = (np.array(v, np.int64) for v in zip(*rows))
  instance = np.array([instance_of(i) if instance_of else f"obj{i % 4}" for i in range(len(rows))])
  return dict(label=shape, shape_label=shape, texture_label=texture, prediction=prediction,
              correct=prediction == shape, top5_correct=prediction == shape, object_instance=instance,
              index=np.arange(len(rows)))


HAND = [  # (shape, texture, prediction)
    (0, 1, 0), (0, 1, 0), (0, 1, 1), (0, 1, 5), (0, 1, 4),  # shape, shape, texture, other, other
    (1, 2, 1), (1, 2, 2), (1, 2, 2), (1, 2, 1),  # shape, texture, texture, shape
    (2, 0, 2), (2, 0, 2), (2, 0, 0), (2, 0, 3),  # shape, shape, texture, other
    (3, 3, 3), (3, 3, 3),  # shape == texture: no conflict, left out
]


def test_hand_counted_shape_bias_ignores_other_classes_and_no_conflict():
  bias = cue_conflict.shape_bias(_table(HAND), resamples=300, seed=0)
  row = bias.row()
  # 6 shape and 4 texture decisions (10 = n); 3 predictions of other classes are not decisions
  assert (row["shape_decisions"], row["texture_decisions"], row["n"]) == (6, 4, 10)
  assert row["shape_bias"] == pytest.approx(0.6)
  assert (row["other_predictions"], row["examples"], row["excluded"]) == (3, 13, 2)
  assert row["shape_share"] == pytest.approx(6 / 13) and row["texture_share"] == pytest.approx(4 / 13)
  assert row["ci_low"] < 0.6 < row["ci_high"]
  assert row["boot_low"] <= 0.6 <= row["boot_high"] and row["boot_low"] < row["boot_high"]
  assert row["shape_share_low"] <= 6 / 13 <= row["shape_share_high"]


def test_per_class_shape_bias():
  bias = cue_conflict.shape_bias(_table(HAND), "shape_label", resamples=100, seed=0)
  assert list(bias.keys) == [0, 1, 2, 3]
  np.testing.assert_allclose(bias.bias[:3], [2 / 3, 0.5, 2 / 3])
  assert np.isnan(bias.bias[3]) and bias.decisions[3] == 0 and bias.excluded[3] == 2


def test_bootstrap_matches_an_instance_loop():
  """The interval is the cluster bootstrap of `stats` (same draw): recomputed here by concatenating instances."""
  columns = _table(HAND)
  bias = cue_conflict.shape_bias(columns, resamples=200, seed=5)
  clusters = np.unique(columns["object_instance"])
  picks = np.random.default_rng(5).integers(0, len(clusters), size=(200, len(clusters)))
  conflict = columns["shape_label"] != columns["texture_label"]
  shape = conflict & (columns["prediction"] == columns["shape_label"])
  texture = conflict & (columns["prediction"] == columns["texture_label"])
  expected = []
  for b in range(200):
    rows = np.concatenate([np.flatnonzero(columns["object_instance"] == clusters[c]) for c in picks[b]])
    s, t = shape[rows].sum(), texture[rows].sum()
    expected.append(s / (s + t) if s + t else np.nan)
  np.testing.assert_allclose(bias.samples[:, 0], expected)
  low, high = stats.percentile_interval(np.array(expected))
  assert (bias.boot_low[0], bias.boot_high[0]) == (pytest.approx(low), pytest.approx(high))


def test_interval_contains_the_estimate_and_narrows_with_more_instances():
  """Instances alternate between a shape-leaning (4 of 5 shape) and a texture-leaning (2 of 5) pattern: shape bias
  0.6 whatever the number of instances, while the interval narrows as instances are added."""
  lean = {0: [0, 0, 0, 0, 1], 1: [0, 0, 1, 1, 1]}
  widths = []
  for instances in (4, 16, 64):
    rows, owner = [], []
    for i in range(instances):
      for p in lean[i % 2]:
        rows.append((0, 1, p))
        owner.append(f"obj{i:03d}")
    bias = cue_conflict.shape_bias(_table(rows, lambda k, owner=owner: owner[k]), resamples=1000, seed=1)
    assert bias.bias[0] == pytest.approx(0.6)
    assert bias.boot_low[0] <= 0.6 <= bias.boot_high[0]
    widths.append(bias.boot_high[0] - bias.boot_low[0])
  assert widths[0] > widths[1] > widths[2] > 0


def test_class_targets_maps_dataset_classes_to_the_target_space():
  mapping = cue_conflict.class_targets([0, 0, 1, 1, 2, 3, 3, 3], [948, 948, -1, -1, 954, 7, 7, 8], 5)
  assert list(mapping) == [948, -1, 954, 7, -1]  # class 3: most frequent; class 4 never seen


def test_old_imagenet_table_is_mapped_with_its_label_pairs():
  """A table scored in ImageNet space whose shape/texture columns still hold dataset indices: mapped through the
  (dataset_label -> label) pairs; a texture class without an ImageNet index is no conflict it can decide."""
  to_imagenet = {0: 948, 1: 954, 2: 950}
  rows = [(0, 1, 948), (0, 1, 954), (1, 0, 954), (1, 2, 950), (0, 3, 948), (2, 0, 950)]  # class 3: no index
  columns = dict(dataset_label=np.array([r[0] for r in rows]), label=np.array([to_imagenet[r[0]] for r in rows]),
                 shape_label=np.array([r[0] for r in rows]), texture_label=np.array([r[1] for r in rows]),
                 prediction=np.array([r[2] for r in rows]), object_instance=np.array(list("abcdef")))
  shape, texture = cue_conflict.cue_labels(columns)
  assert list(shape) == [948, 948, 954, 954, 948, 950] and list(texture) == [954, 954, 948, 950, -1, 948]
  row = cue_conflict.shape_bias(columns, resamples=50).row()
  assert (row["shape_decisions"], row["texture_decisions"], row["excluded"]) == (3, 2, 1)


def test_mixed_up_label_spaces_are_refused():
  columns = _table(HAND)
  columns["label"] = columns["label"] + 100  # label in another space than shape_label, no dataset_label to map
  with pytest.raises(ValueError, match="shape_label differs from label"):
    cue_conflict.shape_bias(columns, resamples=10)


class _Source:
  """A cue-conflict split in memory (the ImageSource interface `evaluate` reads): the red value of each image is
  the index of the class the test model will predict."""
  name, split, data_dir, label_key = "fake/cue_conflict", "test", "-", "label"
  class_names = ["cat", "dog", "car", "teapot"]
  scalar_fields = ["label", "imagenet_label", "shape_label", "texture_label", "object_instance"]
  imagenet = [281, 207, 817, -1]  # teapot: no ImageNet index here

  def __init__(self, triples):
    self.records = []
    for i, (shape, texture, predicted) in enumerate(triples):
      image = np.zeros((8, 8, 3), np.uint8)
      image[..., 0] = predicted * 40
      self.records.append(dict(image=image, label=np.int64(shape), imagenet_label=np.int64(self.imagenet[shape]),
                               shape_label=np.int64(shape), texture_label=np.int64(texture),
                               object_instance=f"{self.class_names[shape]}_{i % 2}".encode()))

  def __len__(self):
    return len(self.records)

  def __getitem__(self, i):
    return self.records[i]


class _ColourToImageNet(torch.nn.Module):
  def forward(self, images):
    code = torch.round(images[:, 0].mean(dim=(1, 2)) * 255 / 40).long()
    logits = torch.zeros(len(images), 1000)
    logits[torch.arange(len(images)), torch.as_tensor([281, 207, 817, 999])[code]] = 1.0
    return logits


def test_evaluate_maps_shape_and_texture_into_the_imagenet_space():
  triples = [(0, 1, 0), (0, 1, 1), (1, 2, 2), (1, 0, 1), (2, 0, 0), (2, 3, 3), (3, 0, 0)]
  model = EvalModel(name="inet", spec="-", module=_ColourToImageNet().eval(), input_size=8, mean=(0.0,) * 3,
                    std=(1.0,) * 3, label_space="imagenet1k", class_names=None)
  table = evaluate.evaluate(model, _Source(triples), batch_size=4, num_workers=0, progress=False)
  columns = {name: table.column(name).to_numpy(zero_copy_only=False) for name in table.column_names}
  assert len(columns["label"]) == 6  # the teapot-shaped example has no ImageNet target and is not scored
  assert list(columns["dataset_shape_label"]) == [0, 0, 1, 1, 2, 2]
  assert list(columns["shape_label"]) == list(columns["label"]) == [281, 281, 207, 207, 817, 817]
  assert list(columns["texture_label"]) == [207, 207, 817, 281, 281, -1]
  assert list(columns["prediction"]) == [281, 207, 817, 207, 281, 999]
  row = cue_conflict.shape_bias(columns, resamples=50).row()
  # shape: rows 0, 3; texture: rows 1, 2, 4; row 5 (teapot texture, no ImageNet index) left out
  assert (row["shape_decisions"], row["texture_decisions"], row["excluded"]) == (2, 3, 1)
  assert row["shape_bias"] == pytest.approx(0.4)
