"""Shape bias on cue-conflict images: an object of one class (its shape) rendered with the surface of another class
(its texture); si_score's `cue_conflict` config.

Definition (Geirhos et al. 2019, "ImageNet-trained CNNs are biased towards texture; increasing shape bias improves
accuracy and robustness", ICLR; the measure Dehghani et al. 2023, "Scaling Vision Transformers to 22 Billion
Parameters", report against humans):

    shape bias = shape decisions / (shape decisions + texture decisions)

A decision is a top-1 prediction equal to the image's shape class or to its texture class; a prediction of any other
class is no decision and counts in neither. As in Geirhos et al., images whose shape and texture class are the same
are left out (no conflict); so are those whose texture class has no index in the model's label space (a texture
decision is impossible there). Also reported: shape share and texture share = shape (texture) decisions among all
kept predictions; 1 - both = the share of other classes.

Intervals: the cluster bootstrap over object instances of `stats` (the draw every accuracy uses): resample b takes
the drawn instances' examples and recomputes the ratio; the percentile interval over resamples (resamples without a
decision left out). The Wilson interval (`ci_low`, `ci_high`) treats decisions as independent, narrower.

Label spaces: `shape_label` and `texture_label` are indices into the dataset's `label` names and `label` ==
`shape_label`. The comparison is made in the space of the table's `label` (the model's): `evaluate` writes
`shape_label`/`texture_label` mapped into that space (the dataset's indices kept as `dataset_shape_label`,
`dataset_texture_label`) as it does for `label`/`dataset_label`; a table with `dataset_label` but without them (the
dataset's indices, e.g. written before) is mapped here with the (dataset_label -> label) pairs it holds.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from kubricgen_robustness.analyze import stats

CLASS_FIELDS = ("shape_label", "texture_label")  # dataset class indices, mapped like `label` (see evaluate)
DEFINITION = ("shape bias = shape decisions / (shape + texture decisions), top-1; predictions of other classes are "
              "not decisions (Geirhos et al. 2019, ICLR; Dehghani et al. 2023, ViT-22B)")


def has_cue_conflict(columns: dict) -> bool:
  """Whether a predictions table carries cue-conflict class columns."""
  return all(f in columns for f in CLASS_FIELDS)


def class_targets(dataset_labels, targets, num_classes: int) -> np.ndarray:
  """(num_classes,) int64: the target index (e.g. imagenet_label) of each dataset class, from the (N,) pairs
  (dataset label, target) of the examples; -1 where no example of the class has a target >= 0; a class seen with
  several targets gets its most frequent (ties: the lowest)."""
  dataset_labels = np.asarray(dataset_labels, np.int64)
  targets = np.asarray(targets, np.int64)
  mapping = np.full(num_classes, -1, np.int64)
  known = targets >= 0
  pairs, counts = np.unique(np.stack([dataset_labels[known], targets[known]], axis=1), axis=0, return_counts=True)
  for (label, target), _ in sorted(zip(map(tuple, pairs), counts), key=lambda item: (item[1], -item[0][1])):
    mapping[label] = target  # ascending count: the most frequent pair is written last
  return mapping


def cue_labels(columns: dict) -> tuple[np.ndarray, np.ndarray]:
  """(shape (N,), texture (N,)) int64 class indices in the label space of `label`, -1 where the class has none
  (module docstring). Raises ValueError when the shape class is not `label` (mixed-up label spaces)."""
  shape, texture = (np.asarray(columns[f], np.int64) for f in CLASS_FIELDS)
  if "dataset_label" in columns and "dataset_shape_label" not in columns:
    dataset_labels = np.asarray(columns["dataset_label"], np.int64)
    size = int(max(dataset_labels.max(initial=-1), shape.max(initial=-1), texture.max(initial=-1))) + 1
    mapping = class_targets(dataset_labels, columns["label"], size)
    shape, texture = (np.where(v >= 0, mapping[np.maximum(v, 0)], -1) for v in (shape, texture))
  label = np.asarray(columns["label"], np.int64)
  if np.any(shape != label):
    raise ValueError(f"shape_label differs from label in {int(np.sum(shape != label))} examples: cue-conflict "
                     "labels must be in the label space of `label` (see evaluate)")
  return shape, texture


@dataclasses.dataclass
class ShapeBias:
  """Shape bias per group (one group: the whole table). `keys` (G,) group keys (shape class, or [0]); counts (G,)
  int64: examples (kept), excluded (no conflict or no texture index), shape, texture (decisions), instances;
  float64 (G,): bias, boot_low, boot_high (bootstrap 95%), ci_low, ci_high (Wilson 95%), shape_share, shape_low,
  shape_high, texture_share, texture_low, texture_high; `samples` (B, G) resampled shape bias."""
  keys: np.ndarray
  examples: np.ndarray
  excluded: np.ndarray
  shape: np.ndarray
  texture: np.ndarray
  instances: np.ndarray
  bias: np.ndarray
  boot_low: np.ndarray
  boot_high: np.ndarray
  ci_low: np.ndarray
  ci_high: np.ndarray
  shape_share: np.ndarray
  shape_low: np.ndarray
  shape_high: np.ndarray
  texture_share: np.ndarray
  texture_low: np.ndarray
  texture_high: np.ndarray
  samples: np.ndarray
  resamples: int
  seed: int

  @property
  def decisions(self) -> np.ndarray:
    """(G,) n: predictions equal to the shape or the texture class."""
    return self.shape + self.texture

  def row(self, g: int = 0) -> dict:
    """Group g as a JSON/CSV row."""
    return dict(shape_bias=float(self.bias[g]), boot_low=float(self.boot_low[g]), boot_high=float(self.boot_high[g]),
                ci_low=float(self.ci_low[g]), ci_high=float(self.ci_high[g]), n=int(self.decisions[g]),
                shape_decisions=int(self.shape[g]), texture_decisions=int(self.texture[g]),
                other_predictions=int(self.examples[g] - self.decisions[g]), examples=int(self.examples[g]),
                excluded=int(self.excluded[g]), instances=int(self.instances[g]),
                shape_share=float(self.shape_share[g]), shape_share_low=float(self.shape_low[g]),
                shape_share_high=float(self.shape_high[g]), texture_share=float(self.texture_share[g]),
                texture_share_low=float(self.texture_low[g]), texture_share_high=float(self.texture_high[g]))


def shape_bias(columns: dict, by: str | None = None, *, resamples: int = 2000, seed: int = 0,
               clusters=None) -> ShapeBias:
  """Shape bias of a predictions table (module docstring), overall or per value of column `by` (e.g.
  "dataset_shape_label"; keys sorted). clusters: the object-instance universe of the draw (default: the table's
  instances; pass the same for two models to pair their resamples). Raises ValueError on an empty table."""
  columns = {k: np.asarray(v) for k, v in columns.items()}
  if len(columns["prediction"]) == 0:
    raise ValueError("no predictions to compute a shape bias from")
  shape, texture = cue_labels(columns)
  prediction = np.asarray(columns["prediction"], np.int64)
  conflict = (texture >= 0) & (texture != shape)
  instance = np.asarray(columns["object_instance"]).astype(str)
  clusters = np.unique(instance) if clusters is None else np.asarray(clusters)
  if by is None:
    keys, index = np.zeros(1, np.int64), np.zeros(len(prediction), np.int64)
  else:
    keys, index = np.unique(np.asarray(columns[by]), return_inverse=True)
    index = index.reshape(-1)
  groups = len(keys)
  is_shape, is_texture = conflict & (prediction == shape), conflict & (prediction == texture)
  count = lambda mask: np.bincount(index[mask], minlength=groups).astype(np.int64)  # noqa: E731
  weights = stats.resample_weights(len(clusters), resamples, seed)
  decided = is_shape | is_texture
  samples = stats.resampled_accuracy(stats.cluster_counts(is_shape[decided], index[decided], instance[decided], groups,
                                                          clusters), weights)
  boot_low, boot_high = stats.percentile_interval(samples)
  shares = {}
  for name, hits in (("shape", is_shape), ("texture", is_texture)):
    resampled = stats.resampled_accuracy(stats.cluster_counts(hits[conflict], index[conflict], instance[conflict],
                                                              groups, clusters), weights)
    shares[name] = stats.percentile_interval(resampled)
  shape_count, texture_count, examples = count(is_shape), count(is_texture), count(conflict)
  ci_low, ci_high = stats.wilson_interval(shape_count, shape_count + texture_count)
  pairs = np.unique(np.stack([index[conflict], np.searchsorted(clusters, instance[conflict])], axis=1), axis=0)
  with np.errstate(divide="ignore", invalid="ignore"):
    bias = np.where(shape_count + texture_count > 0, shape_count / (shape_count + texture_count), np.nan)
    shape_share = np.where(examples > 0, shape_count / np.maximum(examples, 1), np.nan)
    texture_share = np.where(examples > 0, texture_count / np.maximum(examples, 1), np.nan)
  return ShapeBias(keys=keys, examples=examples, excluded=count(~conflict), shape=shape_count, texture=texture_count,
                   instances=np.bincount(pairs[:, 0], minlength=groups) if len(pairs) else np.zeros(groups, np.int64),
                   bias=bias, boot_low=boot_low, boot_high=boot_high, ci_low=ci_low, ci_high=ci_high,
                   shape_share=shape_share, shape_low=shares["shape"][0], shape_high=shares["shape"][1],
                   texture_share=texture_share, texture_low=shares["texture"][0], texture_high=shares["texture"][1],
                   samples=samples, resamples=resamples, seed=seed)


def paired_difference(a: ShapeBias, b: ShapeBias) -> dict:
  """Shape bias of A minus B (group 0) with the percentile interval of the resample-by-resample difference; valid
  only when both were computed with the same cluster universe and seed (then each resample draws the same
  instances for both)."""
  low, high = stats.percentile_interval(a.samples[:, 0] - b.samples[:, 0])
  return dict(difference=float(a.bias[0] - b.bias[0]), boot_low=float(low), boot_high=float(high))
