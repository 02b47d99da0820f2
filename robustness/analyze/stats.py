"""Intervals for accuracies: Wilson score intervals and a cluster bootstrap over object instances.

Images of one object instance are correlated (the same object at 441 locations), so an interval that treats every
image as independent is too narrow. The cluster bootstrap resamples whole object instances with replacement and
recomputes every accuracy from the resampled instances; the same resampled instances serve every factor value and
both models of a paired comparison, so derived quantities (an average over factor values, a curve normalised by its
maximum, a difference between two models) get their intervals from the same resamples.

Draw (documented so that it can be recomputed independently): `rng = numpy.random.default_rng(seed)`;
`picks = rng.integers(0, C, size=(B, C))` - resample b takes clusters picks[b] (C clusters, with replacement).
Interval: percentile interval, the (1 - level) / 2 and (1 + level) / 2 quantiles of the B resampled values
(numpy's default linear interpolation), resamples where a value is undefined (no example) left out.
"""
from __future__ import annotations

import dataclasses

import numpy as np

Z95 = 1.959963984540054  # the 0.975 quantile of the standard normal


def wilson_interval(correct, n, z: float = Z95) -> tuple[np.ndarray, np.ndarray]:
  """Wilson score interval (Wilson 1927; Agresti & Coull 1998, eq. 2) for k successes out of n.

  centre = (k + z^2/2) / (n + z^2), half = z / (n + z^2) * sqrt(k (n - k) / n + z^2 / 4).
  k = 0 gives a lower bound of exactly 0 and k = n an upper bound of exactly 1; n = 0 gives NaN.
  Args: correct, n: int arrays (any matching shape). Returns: (low, high) float64 arrays of that shape.
  """
  k = np.asarray(correct, np.float64)
  n = np.asarray(n, np.float64)
  with np.errstate(divide="ignore", invalid="ignore"):
    centre = (k + z * z / 2) / (n + z * z)
    half = z / (n + z * z) * np.sqrt(k * (n - k) / n + z * z / 4)
    low, high = centre - half, centre + half
  low = np.where(k <= 0, 0.0, np.clip(low, 0.0, 1.0))
  high = np.where(k >= n, 1.0, np.clip(high, 0.0, 1.0))
  empty = n <= 0
  return np.where(empty, np.nan, low), np.where(empty, np.nan, high)


@dataclasses.dataclass
class ClusterCounts:
  """Per-(cluster, group) counts: `correct` and `total` are (C, G) float64; `clusters` (C,) cluster ids; `groups`
  (G,) group keys (row positions into the caller's group table)."""
  correct: np.ndarray
  total: np.ndarray
  clusters: np.ndarray


def cluster_counts(correct, group_index, cluster_ids, num_groups: int, clusters=None) -> ClusterCounts:
  """Count correct and total per (cluster, group).

  Args:
    correct: (N,) bool/int, 1 where the example is right. group_index: (N,) int in [0, num_groups).
    cluster_ids: (N,) cluster of each example (object instance). clusters: the cluster universe (default: the
      sorted unique ids); pass the same universe for two models to pair them.
  """
  correct = np.asarray(correct, np.float64)
  group_index = np.asarray(group_index, np.int64)
  cluster_ids = np.asarray(cluster_ids)
  clusters = np.unique(cluster_ids) if clusters is None else np.asarray(clusters)
  cluster_index = np.searchsorted(clusters, cluster_ids)
  if np.any(cluster_index >= len(clusters)) or np.any(clusters[np.minimum(cluster_index, len(clusters) - 1)]
                                                      != cluster_ids):
    raise ValueError("cluster ids outside the given cluster universe")
  flat = cluster_index * num_groups + group_index
  size = len(clusters) * num_groups
  total = np.bincount(flat, minlength=size).reshape(len(clusters), num_groups).astype(np.float64)
  hits = np.bincount(flat, weights=correct, minlength=size).reshape(len(clusters), num_groups)
  return ClusterCounts(correct=hits, total=total, clusters=clusters)


def resample_weights(num_clusters: int, resamples: int, seed: int) -> np.ndarray:
  """(B, C) float64: how many times resample b draws cluster c (the draw in the module docstring)."""
  rng = np.random.default_rng(seed)
  picks = rng.integers(0, num_clusters, size=(resamples, num_clusters))
  weights = np.zeros((resamples, num_clusters))
  np.add.at(weights, (np.repeat(np.arange(resamples), num_clusters), picks.ravel()), 1.0)
  return weights


def resampled_accuracy(counts: ClusterCounts, weights: np.ndarray) -> np.ndarray:
  """(B, G) accuracy per resample and group; NaN where a resample holds no example of the group."""
  hits, total = weights @ counts.correct, weights @ counts.total
  with np.errstate(divide="ignore", invalid="ignore"):
    return np.where(total > 0, hits / np.where(total > 0, total, 1.0), np.nan)


def percentile_interval(samples: np.ndarray, level: float = 0.95, axis: int = 0) -> tuple[np.ndarray, np.ndarray]:
  """Percentile interval of resampled values along `axis`, NaN resamples left out (all NaN -> NaN)."""
  samples = np.asarray(samples, np.float64)
  alpha = (1.0 - level) / 2
  with np.errstate(invalid="ignore"), _quiet_nan_warnings():
    low = np.nanquantile(samples, alpha, axis=axis)
    high = np.nanquantile(samples, 1 - alpha, axis=axis)
  return low, high


class _quiet_nan_warnings:  # pylint: disable=invalid-name
  """All-NaN slices are expected (an empty group) and give NaN; numpy's RuntimeWarning about them is noise."""

  def __enter__(self):
    import warnings  # pylint: disable=import-outside-toplevel
    self._context = warnings.catch_warnings()
    self._context.__enter__()
    warnings.simplefilter("ignore", RuntimeWarning)

  def __exit__(self, *args):
    return self._context.__exit__(*args)
