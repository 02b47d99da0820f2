"""Aggregates and intervals against independent references: statsmodels' Wilson interval and a cluster bootstrap
recomputed with plain Python loops from the documented draw."""
import numpy as np
import pytest
from statsmodels.stats.proportion import proportion_confint

from kubricgen_robustness.analyze import aggregate, stats


def _predictions(seed=3):
  """A predictions table with known counts: 3 x 2 factor grid, 7 object instances, varied accuracy per cell, one
  cell all wrong (k = 0) and one all right (k = n)."""
  rng = np.random.default_rng(seed)
  rows = []
  for x in (0.0, 0.5, 1.0):
    for y in (0.0, 0.05):
      for instance in range(7):
        for repeat in range(rng.integers(1, 4)):
          if (x, y) == (0.0, 0.0):
            correct = False
          elif (x, y) == (1.0, 0.05):
            correct = True
          else:
            correct = bool(rng.random() < 0.3 + 0.4 * x + instance * 0.03)
          rows.append(dict(x=np.float32(x), y=np.float32(y), object_instance=f"obj{instance}", correct=correct,
                           top5_correct=correct or bool(rng.random() < 0.5), index=len(rows)))
  return {k: np.asarray([r[k] for r in rows]) for k in rows[0]}


def test_counts_accuracy_and_wilson_match_statsmodels():
  columns = _predictions()
  table = aggregate.factor_table(columns, ("x", "y"), resamples=200, seed=1)
  assert len(table.n) == 6
  for g, (x, y) in enumerate(table.keys):
    cell = (np.round(columns["x"], 4) == x) & (np.round(columns["y"], 4) == y)
    n, k = int(cell.sum()), int(columns["correct"][cell].sum())
    assert (table.n[g], table.correct[g]) == (n, k)
    assert table.accuracy[g] == pytest.approx(k / n)
    low, high = proportion_confint(k, n, alpha=0.05, method="wilson")
    assert table.ci_low[g] == pytest.approx(low, abs=1e-12)
    assert table.ci_high[g] == pytest.approx(high, abs=1e-12)
    k5 = int(columns["top5_correct"][cell].sum())
    low5, high5 = proportion_confint(k5, n, alpha=0.05, method="wilson")
    assert (table.top5_correct[g], table.top5_ci_low[g], table.top5_ci_high[g]) == (
        k5, pytest.approx(low5, abs=1e-12), pytest.approx(high5, abs=1e-12))
    assert table.instances[g] == len(set(columns["object_instance"][cell]))
  assert table.correct[0] == 0 and table.ci_low[0] == 0.0 and table.ci_high[0] > 0
  assert table.correct[-1] == table.n[-1] and table.ci_high[-1] == 1.0 and table.ci_low[-1] < 1


@pytest.mark.parametrize("k,n", [(0, 1), (0, 40), (1, 1), (40, 40), (17, 40), (1, 1000)])
def test_wilson_edges_match_statsmodels(k, n):
  low, high = stats.wilson_interval(k, n)
  ref_low, ref_high = proportion_confint(k, n, alpha=0.05, method="wilson")
  assert (float(low), float(high)) == (pytest.approx(ref_low, abs=1e-12), pytest.approx(ref_high, abs=1e-12))


def _loop_bootstrap(columns, resamples, seed):
  """Cluster bootstrap written independently: concatenate the rows of the drawn instances, count per cell."""
  clusters = sorted(set(columns["object_instance"]))
  rows_of = {c: np.flatnonzero(columns["object_instance"] == c) for c in clusters}
  cells = sorted(set(zip(np.round(columns["x"], 4).tolist(), np.round(columns["y"], 4).tolist())))
  rng = np.random.default_rng(seed)
  picks = rng.integers(0, len(clusters), size=(resamples, len(clusters)))
  values = np.full((resamples, len(cells)), np.nan)
  for b in range(resamples):
    rows = np.concatenate([rows_of[clusters[c]] for c in picks[b]])
    for g, (x, y) in enumerate(cells):
      in_cell = rows[(np.round(columns["x"][rows], 4) == x) & (np.round(columns["y"][rows], 4) == y)]
      if len(in_cell):
        values[b, g] = columns["correct"][in_cell].mean()
  return values


def test_cluster_bootstrap_matches_loop_reference():
  columns = _predictions()
  table = aggregate.factor_table(columns, ("x", "y"), resamples=300, seed=7)
  reference = _loop_bootstrap(columns, 300, 7)
  np.testing.assert_allclose(table.samples, reference, atol=1e-12)
  np.testing.assert_allclose(table.boot_low, np.nanpercentile(reference, 2.5, axis=0), atol=1e-12)
  np.testing.assert_allclose(table.boot_high, np.nanpercentile(reference, 97.5, axis=0), atol=1e-12)
  average = aggregate.subset_average(table)
  assert average.value == pytest.approx(np.mean(table.correct / table.n))
  assert average.low == pytest.approx(np.nanpercentile(np.nanmean(reference, axis=1), 2.5))
  # resampling instances is wider than treating images as independent where instances differ
  middle = 2  # cell (0.5, 0.0)
  assert table.boot_low[middle] <= table.accuracy[middle] <= table.boot_high[middle]


def test_paired_difference_uses_the_same_resamples():
  a = _predictions(seed=3)
  b = dict(a, correct=~a["correct"])  # B right exactly where A is wrong
  diff = aggregate.paired_difference(a, b, ("x", "y"), names=("a", "b"), resamples=300, seed=7)
  reference = _loop_bootstrap(a, 300, 7)
  expected = reference - (1 - reference)
  np.testing.assert_allclose(diff.difference, 2 * (a_table := aggregate.factor_table(a, ("x", "y"), resamples=10)
                                                   ).accuracy - 1)
  np.testing.assert_allclose(diff.boot_low, np.nanpercentile(expected, 2.5, axis=0), atol=1e-12)
  np.testing.assert_allclose(diff.boot_high, np.nanpercentile(expected, 97.5, axis=0), atol=1e-12)
  assert diff.n.tolist() == a_table.n.tolist()


def test_keys_heatmap_orientation_and_normalisation():
  columns = _predictions()
  table = aggregate.factor_table(columns, ("x", "y"), resamples=50)
  grid, xs, ys = aggregate.heatmap(table)
  assert grid.shape == (2, 3) and xs.tolist() == [0.0, 0.5, 1.0] and ys.tolist() == pytest.approx([0.0, 0.05])
  assert grid[0, 0] == 0.0  # top-left = (x 0, y 0), all wrong
  assert grid[1, 2] == 1.0  # bottom-right = (x 1, y 0.05), all right
  assert aggregate.metric_key("location", ("x", "y"), table.keys[1]) == "location(0.00,0.05)"
  assert aggregate.metric_key("size", ("area",), [0.83]) == "size(0.83)"
  assert aggregate.metric_key("rotation", ("rotation",), [161.0]) == "rotation(161)"
  value, low, high = aggregate.normalised_by_max(table)
  assert np.nanmax(value) == 1.0 and value[0] == 0.0
  partial = {k: v[~((columns["x"] == 1.0) & (columns["y"] == 0.0))] for k, v in columns.items()}
  grid, _, _ = aggregate.heatmap(aggregate.factor_table(partial, ("x", "y"), resamples=10))
  assert np.isnan(grid[0, 2]) and np.isfinite(grid).sum() == 5


def _grid_predictions(accuracy_of, values=(0.0, 0.25, 0.5, 0.75, 1.0), instances=6, seed=0):
  """Every (x, y) cell of a 5 x 5 grid, `instances` object instances x 2 images per cell; each image is right with
  probability accuracy_of(x, y)."""
  rng = np.random.default_rng(seed)
  rows = []
  for x in values:
    for y in values:
      for instance in range(instances):
        for _ in range(2):
          correct = bool(rng.random() < accuracy_of(x, y))
          rows.append(dict(x=x, y=y, object_instance=f"obj{instance}", correct=correct, top5_correct=True,
                           index=len(rows)))
  return {k: np.asarray([r[k] for r in rows]) for k in rows[0]}


def test_border_minus_centre_contrast_against_a_loop_reference():
  columns = _grid_predictions(lambda x, y: 0.2 if max(abs(x - 0.5), abs(y - 0.5)) == 0.5 else 0.8)
  table = aggregate.factor_table(columns, ("x", "y"), resamples=300, seed=5)
  (border,) = aggregate.trend_contrasts(table)
  assert border.name == "border - centre"
  cells = [(x, y) for x, y in table.keys]
  outer = np.asarray([max(abs(x - 0.5), abs(y - 0.5)) == 0.5 for x, y in cells])
  assert border.first.tolist() == outer.tolist() and outer.sum() == 16
  assert border.second.tolist() == (~outer).tolist()  # 5 x 5: rings 0 and 1 are the centre
  accuracy = table.correct / table.n
  assert border.estimate.value == pytest.approx(accuracy[outer].mean() - accuracy[~outer].mean())
  assert border.estimate.value < -0.3  # the data were drawn with a 0.6 drop at the border
  reference = _loop_bootstrap(columns, 300, 5)
  resampled = np.nanmean(reference[:, outer], axis=1) - np.nanmean(reference[:, ~outer], axis=1)
  assert border.estimate.low == pytest.approx(np.percentile(resampled, 2.5), abs=1e-12)
  assert border.estimate.high == pytest.approx(np.percentile(resampled, 97.5), abs=1e-12)


def test_size_and_rotation_contrasts_pick_the_right_values():
  rng = np.random.default_rng(1)
  areas = np.repeat(np.arange(1, 21) / 20, 12)  # 20 sizes, 4 instances x 3 images each
  instances = np.tile([f"o{i}" for i in range(4)], len(areas) // 4)
  keep = ~((areas >= 0.9) & (instances == "o3"))  # the largest sizes lose an instance (a visibility threshold)
  columns = dict(area=areas[keep], object_instance=instances[keep], correct=rng.random(keep.sum()) < areas[keep],
                 top5_correct=np.ones(keep.sum(), bool))
  table = aggregate.factor_table(columns, ("area",), resamples=100)
  (size,) = aggregate.trend_contrasts(table)
  assert size.name == "lowest tenth - rest"
  assert size.first.tolist() == [True, True] + [False] * 18  # 0.05, 0.1
  assert size.second.tolist() == [False, False] + [True] * 15 + [False] * 3  # 0.9..1.0 lack o3: not the reference
  assert size.estimate.value == pytest.approx(table.accuracy[:2].mean() - table.accuracy[2:17].mean())
  rotations = np.repeat(np.arange(0, 360, 20), 4).astype(float)
  columns = dict(rotation=rotations, object_instance=np.tile(["a", "b"], len(rotations) // 2),
                 correct=np.ones(len(rotations), bool), top5_correct=np.ones(len(rotations), bool))
  (rotation,) = aggregate.trend_contrasts(aggregate.factor_table(columns, ("rotation",), resamples=100))
  keys = np.arange(0, 360, 20)
  assert keys[rotation.first].tolist() == [0, 20, 340] and keys[rotation.second].tolist() == [160, 180, 200]
  assert rotation.estimate.value == 0.0


def test_the_3d_factor_contrasts_compare_the_right_levels_and_viewpoint_has_none():
  def table_of(factor, values, accuracy_of):
    rng = np.random.default_rng(2)
    levels = np.repeat(np.asarray(values, float), 40)
    columns = {factor: levels, "object_instance": np.tile([f"o{i}" for i in range(4)], len(levels) // 4),
               "correct": rng.random(len(levels)) < np.vectorize(accuracy_of)(levels),
               "top5_correct": np.ones(len(levels), bool)}
    return aggregate.factor_table(columns, (factor,), resamples=100)

  occlusion = table_of("occlusion", (0.0, 0.3, 0.6, 0.9), lambda v: 0.9 - v)
  (hidden,) = aggregate.trend_contrasts(occlusion)
  assert hidden.name == "none - most" and hidden.first.tolist() == [True, False, False, False]
  assert hidden.second.tolist() == [False, False, False, True] and hidden.estimate.value > 0.6
  (clutter,) = aggregate.trend_contrasts(table_of("num_distractors", (0, 2, 4, 8), lambda v: 0.5))
  assert clutter.first.tolist() == [True, False, False, False] and clutter.second.tolist()[-1]
  irradiance = table_of("light_irradiance", (0.25, 1, 4, 16, 64), lambda v: 0.8 if v == 4 else 0.2)
  (exposure,) = aggregate.trend_contrasts(irradiance)
  assert exposure.name == "extremes - middle" and exposure.first.tolist() == [True, False, False, False, True]
  assert exposure.second.tolist() == [False, False, True, False, False] and exposure.estimate.value < -0.4
  columns = _grid_predictions(lambda x, y: 0.5)
  columns = {"azimuth": columns.pop("x") * 300, "elevation": columns.pop("y") * 40 + 10, **columns}
  assert aggregate.trend_contrasts(aggregate.factor_table(columns, ("azimuth", "elevation"), resamples=50)) == []


def test_paired_difference_of_contrasts_uses_the_same_resamples():
  from kubricgen_robustness.analyze import report
  a = _grid_predictions(lambda x, y: 0.3 if max(abs(x - 0.5), abs(y - 0.5)) == 0.5 else 0.9, seed=1)
  b = dict(a, correct=_grid_predictions(lambda x, y: 0.6, seed=2)["correct"])
  table_a, table_b = (aggregate.factor_table(c, ("x", "y"), resamples=300, seed=5) for c in (a, b))
  contrast_a, contrast_b = aggregate.trend_contrasts(table_a), aggregate.trend_contrasts(table_b)
  (row,) = report._contrast_differences(contrast_a, contrast_b, a, b)  # pylint: disable=protected-access
  assert row["difference"] == pytest.approx(contrast_a[0].estimate.value - contrast_b[0].estimate.value)
  paired = contrast_a[0].samples - contrast_b[0].samples
  assert (row["boot_low"], row["boot_high"]) == (pytest.approx(np.percentile(paired, 2.5)),
                                                  pytest.approx(np.percentile(paired, 97.5)))
  other = dict(b, object_instance=np.char.add(b["object_instance"].astype(str), "x"))
  (unpaired,) = report._contrast_differences(contrast_a, contrast_b, a, other)  # pylint: disable=protected-access
  assert "boot_low" not in unpaired
