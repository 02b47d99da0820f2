"""Accuracy per factor value with intervals, subset averages, heatmaps and paired model differences.

Input: a predictions table (see `evaluate`), as a pyarrow.Table or a dict of numpy columns holding at least
`correct`, `top5_correct`, `object_instance` and the factor columns. Which factors a config varies comes from
`CONFIG_FACTORS` (the SI-Score grids: location -> x, y; size -> area; rotation -> rotation; the 3-D configs:
viewpoint, lighting, occlusion, clutter; cue_conflict has no factor grid, it is summarised by its shape bias, see
`cue_conflict`); any other config is grouped by every numeric column with 2..MAX_LEVELS distinct values that is not
an id, an outcome or a measurement (`NOT_FACTORS`), so a new factor config needs no change here. Factor values are
grouped after rounding to 4 decimals (float32 read-back).

A config that is not one full grid is analysed as `Sweep`s, slices of its rows each with its own factors
(`sweeps_for`, `CONFIG_SWEEPS`):
- lighting: two one-factor-at-a-time sweeps sharing one nominal condition, found from the data (the irradiance that
  occurs most often; the (azimuth, elevation) pair that occurs with every irradiance level): "direction" = accuracy
  per (light_azimuth, light_elevation) at the nominal irradiance, "irradiance" = accuracy per light_irradiance in
  the nominal direction. The nominal condition's examples belong to both.
- occlusion: accuracy per `occlusion` level, one sweep per `occluder` kind ("bar", "object"); the level-0 examples
  (occluder "none") belong to every kind's sweep, as the curves' common start.

Every accuracy has a Wilson 95% interval (independent images) and a cluster-bootstrap 95% interval over object
instances (`stats`; the one to lead with). robustness_metrics' keys (`location(0.05,0.40)`, `size(0.83)`,
`rotation(161)`, `<config>_average` = unweighted mean over factor values) are made by `metric_key`.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from kubricgen_robustness.analyze import stats

CONFIG_FACTORS = {"location": ("x", "y"), "size": ("area",), "rotation": ("rotation",),
                  "viewpoint": ("azimuth", "elevation"),
                  "lighting": ("light_azimuth", "light_elevation", "light_irradiance"),  # analysed as two sweeps
                  "occlusion": ("occlusion",), "clutter": ("num_distractors",), "cue_conflict": ()}
NOT_FACTORS = {"index", "image_id", "label", "dataset_label", "imagenet_label", "prediction", "correct", "confidence",
               "top5_correct", "seed", "content_hash", "object_instance", "background", "model", "config",
               "pct_inside_image", "azimuth", "elevation",
               # measurements that follow a factor, and cue_conflict's class indices: never grouped by
               "occluded_fraction", "visible_fraction", "shape_label", "texture_label", "dataset_shape_label",
               "dataset_texture_label"}
MAX_LEVELS = 441
DECIMALS = 4


def as_columns(table) -> dict:
  """A pyarrow.Table or dict -> dict of numpy arrays."""
  if isinstance(table, dict):
    return {k: np.asarray(v) for k, v in table.items()}
  return {name: table.column(name).to_numpy(zero_copy_only=False) for name in table.column_names}


def factors_for(config: str, columns: dict) -> tuple:
  """The factors `config` varies: CONFIG_FACTORS, else every numeric column with 2..MAX_LEVELS values."""
  if config in CONFIG_FACTORS and all(f in columns for f in CONFIG_FACTORS[config]):
    return CONFIG_FACTORS[config]
  found = []
  for name, values in columns.items():
    if name in NOT_FACTORS or not np.issubdtype(np.asarray(values).dtype, np.number):
      continue
    if 2 <= len(np.unique(np.round(values.astype(np.float64), DECIMALS))) <= MAX_LEVELS:
      found.append(name)
  return tuple(found)


@dataclasses.dataclass(frozen=True)
class Sweep:
  """One analysed slice of a config's rows. `name`: "" = the whole config, else the slice ("direction", "bar");
  `factors`: what the slice is grouped by; `where`: ((column, values), ...), a row is kept when every column's value
  is among its values (numeric columns compared after rounding to DECIMALS); `description`: one line for readers."""
  name: str
  factors: tuple
  where: tuple = ()
  description: str = ""

  def label(self, config: str) -> str:
    """The slice's name in file names, metric keys and summary.json: `config` or `config_name`."""
    return f"{config}_{self.name}" if self.name else config

  def mask(self, columns: dict) -> np.ndarray:
    """(N,) bool: the rows of `columns` in the slice."""
    columns = as_columns(columns)
    keep = np.ones(len(columns["correct"]), bool)
    for column, values in self.where:
      data = np.asarray(columns[column])
      if np.issubdtype(data.dtype, np.number):
        keep &= np.isin(np.round(data.astype(np.float64), DECIMALS), np.asarray(values, np.float64))
      else:
        keep &= np.isin(data.astype(str), np.asarray(values, str))
    return keep

  def select(self, columns: dict) -> dict:
    """`columns` restricted to the slice's rows."""
    columns = as_columns(columns)
    keep = self.mask(columns)
    return {k: v[keep] for k, v in columns.items()}


def _rounded(columns: dict, name: str) -> np.ndarray:
  return np.round(np.asarray(columns[name], np.float64), DECIMALS)


def lighting_sweeps(columns: dict) -> list[Sweep] | None:
  """The lighting config's two sweeps (module docstring), None without the light_* columns.

  Nominal irradiance = the most frequent light_irradiance (ties: the lowest). Nominal direction = the (light_azimuth,
  light_elevation) pair seen with the most irradiance levels (normally: with every level); ties -> the pair with the
  most examples, then the first in sorted order."""
  if not all(f in columns for f in CONFIG_FACTORS["lighting"]):
    return None
  irradiance = _rounded(columns, "light_irradiance")
  levels, counts = np.unique(irradiance, return_counts=True)
  nominal_irradiance = float(levels[np.argmax(counts)])
  pairs, pair_index = np.unique(np.stack([_rounded(columns, "light_azimuth"), _rounded(columns, "light_elevation")],
                                         axis=1), axis=0, return_inverse=True)
  pair_index = pair_index.reshape(-1)
  seen = np.unique(np.stack([pair_index, np.searchsorted(levels, irradiance)], axis=1), axis=0)
  levels_per_pair = np.bincount(seen[:, 0], minlength=len(pairs))
  examples_per_pair = np.bincount(pair_index, minlength=len(pairs))
  best = np.lexsort((np.arange(len(pairs)), -examples_per_pair, -levels_per_pair))[0]
  azimuth, elevation = (float(v) for v in pairs[best])
  return [
      Sweep("direction", ("light_azimuth", "light_elevation"), (("light_irradiance", (nominal_irradiance,)),),
            f"direction sweep: every (light_azimuth, light_elevation) at the nominal light_irradiance "
            f"{nominal_irradiance:g} W/m^2"),
      Sweep("irradiance", ("light_irradiance",), (("light_azimuth", (azimuth,)), ("light_elevation", (elevation,))),
            f"irradiance sweep: every light_irradiance in the nominal direction (light_azimuth {azimuth:g}, "
            f"light_elevation {elevation:g}; seen with {int(levels_per_pair[best])} of {len(levels)} irradiance "
            "levels)"),
  ]


def occlusion_sweeps(columns: dict) -> list[Sweep] | None:
  """One sweep along `occlusion` per `occluder` kind (sorted), each holding the level-0 examples (occluder "none")
  too; None without an occlusion column, one whole-config sweep without an occluder column or kind."""
  if "occlusion" not in columns:
    return None
  kinds = sorted(set(np.asarray(columns["occluder"]).astype(str)) - {"none"}) if "occluder" in columns else []
  if not kinds:
    return [Sweep("", ("occlusion",))]
  return [Sweep(kind, ("occlusion",), (("occluder", (kind, "none")),),
                f"occluder {kind!r}: accuracy per occlusion level; level 0 (occluder 'none') is shared by every "
                "occluder kind") for kind in kinds]


CONFIG_SWEEPS = {"lighting": lighting_sweeps, "occlusion": occlusion_sweeps}


def sweeps_for(config: str, columns: dict) -> list[Sweep]:
  """How `config` is analysed: its `CONFIG_SWEEPS` slices, else one whole-config Sweep of `factors_for`, else []
  (no factor grid, e.g. cue_conflict)."""
  columns = as_columns(columns)
  if config in CONFIG_SWEEPS:
    sweeps = CONFIG_SWEEPS[config](columns)
    if sweeps is not None:
      return sweeps
  factors = factors_for(config, columns)
  return [Sweep("", tuple(factors))] if factors else []


def metric_key(config: str, factors: tuple, values) -> str:
  """robustness_metrics' key of one factor value: location(0.05,0.40), size(0.83), rotation(161), else
  `<config>(v1,v2,...)` with %g values."""
  if config == "location" and tuple(factors) == ("x", "y"):
    return f"location({values[0]:.2f},{values[1]:.2f})"
  if config == "size" and tuple(factors) == ("area",):
    return f"size({values[0]:.2f})"
  if config == "rotation" and tuple(factors) == ("rotation",):
    return f"rotation({int(round(values[0]))})"
  return f"{config}({','.join(format(float(v), 'g') for v in values)})"


@dataclasses.dataclass
class FactorTable:
  """Accuracy per factor value. `keys` (G, F) float64 factor values in sorted order; n, correct (G,) int64;
  accuracy (G,) float64; Wilson ci_low/ci_high; cluster-bootstrap boot_low/boot_high; top5_* alike; instances (G,)
  distinct object instances; `samples` (B, G) bootstrap accuracies (top-1), `top5_samples` (B, G)."""
  factors: tuple
  keys: np.ndarray
  n: np.ndarray
  correct: np.ndarray
  accuracy: np.ndarray
  ci_low: np.ndarray
  ci_high: np.ndarray
  boot_low: np.ndarray
  boot_high: np.ndarray
  top5_correct: np.ndarray
  top5_accuracy: np.ndarray
  top5_ci_low: np.ndarray
  top5_ci_high: np.ndarray
  top5_boot_low: np.ndarray
  top5_boot_high: np.ndarray
  instances: np.ndarray
  samples: np.ndarray
  top5_samples: np.ndarray
  resamples: int
  seed: int

  def rows(self, config: str = "") -> list[dict]:
    """One dict per factor value (CSV/JSON rows); `key` is robustness_metrics' key when config is given."""
    out = []
    for g in range(len(self.n)):
      row = {f: float(self.keys[g, i]) for i, f in enumerate(self.factors)}
      if config:
        row["key"] = metric_key(config, self.factors, self.keys[g])
      row.update(n=int(self.n[g]), correct=int(self.correct[g]), accuracy=float(self.accuracy[g]),
                 boot_low=float(self.boot_low[g]), boot_high=float(self.boot_high[g]),
                 ci_low=float(self.ci_low[g]), ci_high=float(self.ci_high[g]),
                 top5_correct=int(self.top5_correct[g]), top5_accuracy=float(self.top5_accuracy[g]),
                 top5_boot_low=float(self.top5_boot_low[g]), top5_boot_high=float(self.top5_boot_high[g]),
                 top5_ci_low=float(self.top5_ci_low[g]), top5_ci_high=float(self.top5_ci_high[g]),
                 instances=int(self.instances[g]))
      out.append(row)
    return out


def group(columns: dict, factors: tuple) -> tuple[np.ndarray, np.ndarray]:
  """(keys (G, F) float64 sorted lexicographically, group_index (N,) int64) of the examples' factor values."""
  if not factors:
    raise ValueError("no factor to group by")
  values = np.stack([np.round(np.asarray(columns[f], np.float64), DECIMALS) for f in factors], axis=1)
  keys, index = np.unique(values, axis=0, return_inverse=True)
  return keys, index.reshape(-1)


def factor_table(columns: dict, factors: tuple, *, resamples: int = 2000, seed: int = 0,
                 clusters=None) -> FactorTable:
  """Aggregate `columns` per value of `factors` (see the module docstring). Raises ValueError with no rows."""
  columns = as_columns(columns)
  if len(columns["correct"]) == 0:
    raise ValueError("no predictions to aggregate")
  keys, index = group(columns, factors)
  groups = len(keys)
  instance = np.asarray(columns["object_instance"]).astype(str)
  clusters = np.unique(instance) if clusters is None else clusters
  weights = stats.resample_weights(len(clusters), resamples, seed)
  result = {}
  for prefix, column in (("", "correct"), ("top5_", "top5_correct")):
    hits = np.asarray(columns[column], bool)
    n = np.bincount(index, minlength=groups)
    k = np.bincount(index, weights=hits, minlength=groups).round().astype(np.int64)
    low, high = stats.wilson_interval(k, n)
    samples = stats.resampled_accuracy(stats.cluster_counts(hits, index, instance, groups, clusters), weights)
    boot_low, boot_high = stats.percentile_interval(samples)
    result.update({f"{prefix}correct": k, f"{prefix}accuracy": k / n, f"{prefix}ci_low": low,
                   f"{prefix}ci_high": high, f"{prefix}boot_low": boot_low, f"{prefix}boot_high": boot_high,
                   f"{prefix}samples": samples})
  pairs = np.unique(np.stack([index, np.searchsorted(clusters, instance)], axis=1), axis=0)
  return FactorTable(factors=tuple(factors), keys=keys, n=np.bincount(index, minlength=groups),
                     instances=np.bincount(pairs[:, 0], minlength=groups), resamples=resamples, seed=seed, **result)


@dataclasses.dataclass
class Estimate:
  """A point estimate with its cluster-bootstrap percentile interval."""
  value: float
  low: float
  high: float

  def as_dict(self) -> dict:
    return dict(value=self.value, boot_low=self.low, boot_high=self.high)


def subset_average(table: FactorTable, top5: bool = False) -> Estimate:
  """Unweighted mean of the accuracy over factor values (robustness_metrics' `<config>_average`), with the
  percentile interval of the same mean over resamples (values absent from a resample are left out of its mean)."""
  accuracy, samples = (table.top5_accuracy, table.top5_samples) if top5 else (table.accuracy, table.samples)
  with stats._quiet_nan_warnings():  # pylint: disable=protected-access
    boot = np.nanmean(samples, axis=1)
  low, high = stats.percentile_interval(boot)
  return Estimate(float(np.mean(accuracy)), float(low), float(high))


def normalised_by_max(table: FactorTable) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
  """(accuracy / max accuracy, low, high) per factor value; each resample is normalised by its own maximum, so
  the interval includes the uncertainty of the maximum. All-zero accuracy gives NaN."""
  top = np.max(table.accuracy)
  with np.errstate(divide="ignore", invalid="ignore"), stats._quiet_nan_warnings():  # pylint: disable=protected-access
    value = table.accuracy / top if top > 0 else np.full_like(table.accuracy, np.nan)
    boot = table.samples / np.nanmax(table.samples, axis=1, keepdims=True)
  low, high = stats.percentile_interval(boot)
  return value, low, high


def heatmap(table: FactorTable, values: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
  """(grid (Ny, Nx) float64, xs (Nx,), ys (Ny,)) for a two-factor table (x, y): grid[row, col] is the value at
  y = ys[row], x = xs[col], rows top to bottom in increasing y (the paper's orientation: top-left = (0, 0)). Cells
  without examples are NaN. `values` (G,) defaults to the accuracy."""
  if len(table.factors) != 2:
    raise ValueError(f"a heatmap needs two factors, got {table.factors}")
  values = table.accuracy if values is None else values
  xs, ys = np.unique(table.keys[:, 0]), np.unique(table.keys[:, 1])
  grid = np.full((len(ys), len(xs)), np.nan)
  grid[np.searchsorted(ys, table.keys[:, 1]), np.searchsorted(xs, table.keys[:, 0])] = values
  return grid, xs, ys


def visibility_slices(columns: dict, factors: tuple, thresholds=(0.0, 0.25, 0.5, 0.75, 0.95), *,
                      resamples: int = 2000, seed: int = 0) -> list[dict]:
  """Subset average and counts when only examples with pct_inside_image >= t are kept, per threshold t (the
  paper's visibility filter; a non-zero threshold changes which objects are scored at the borders)."""
  columns = as_columns(columns)
  if "pct_inside_image" not in columns:
    return []
  rows = []
  for threshold in thresholds:
    keep = np.asarray(columns["pct_inside_image"], np.float64) >= threshold - 1e-6
    if not keep.any():
      continue
    table = factor_table({k: v[keep] for k, v in columns.items()}, factors, resamples=resamples, seed=seed)
    average = subset_average(table)
    rows.append(dict(threshold=float(threshold), n=int(keep.sum()), factor_values=len(table.n),
                     accuracy=float(table.correct.sum() / table.n.sum()), average=average.value,
                     boot_low=average.low, boot_high=average.high))
  return rows


@dataclasses.dataclass
class PairedDifference:
  """Model A minus model B per factor value, on the examples both scored. `keys` (G, F); difference, boot_low,
  boot_high (G,); `average` the difference of subset averages; n (G,) paired examples."""
  model_a: str
  model_b: str
  factors: tuple
  keys: np.ndarray
  n: np.ndarray
  difference: np.ndarray
  boot_low: np.ndarray
  boot_high: np.ndarray
  average: Estimate


def paired_difference(columns_a: dict, columns_b: dict, factors: tuple, *, names=("A", "B"), resamples: int = 2000,
                      seed: int = 0) -> PairedDifference:
  """Accuracy of A minus B per factor value with a paired cluster bootstrap: both models' counts are resampled
  with the same object instances in each resample. Examples are paired by `index` (position in the split);
  examples only one model scored are left out. Raises ValueError when no example is shared."""
  a, b = as_columns(columns_a), as_columns(columns_b)
  shared, in_a, in_b = np.intersect1d(a["index"], b["index"], return_indices=True)
  if len(shared) == 0:
    raise ValueError(f"models {names[0]} and {names[1]} share no evaluated example")
  a = {k: v[in_a] for k, v in a.items()}
  b = {k: v[in_b] for k, v in b.items()}
  keys, index = group(a, factors)
  instance = a["object_instance"].astype(str)
  clusters = np.unique(instance)
  weights = stats.resample_weights(len(clusters), resamples, seed)
  n = np.bincount(index, minlength=len(keys))
  accuracy, samples = [], []
  for columns in (a, b):
    hits = columns["correct"].astype(bool)
    accuracy.append(np.bincount(index, weights=hits, minlength=len(keys)) / n)
    samples.append(stats.resampled_accuracy(stats.cluster_counts(hits, index, instance, len(keys), clusters),
                                            weights))
  difference = accuracy[0] - accuracy[1]
  low, high = stats.percentile_interval(samples[0] - samples[1])
  with stats._quiet_nan_warnings():  # pylint: disable=protected-access
    boot_average = np.nanmean(samples[0] - samples[1], axis=1)
  average_low, average_high = stats.percentile_interval(boot_average)
  return PairedDifference(model_a=names[0], model_b=names[1], factors=tuple(factors), keys=keys, n=n,
                          difference=difference, boot_low=low, boot_high=high,
                          average=Estimate(float(np.mean(difference)), float(average_low), float(average_high)))


@dataclasses.dataclass
class Contrast:
  """Mean accuracy over the factor values in `first` minus the mean over those in `second` (unweighted means, as
  the subset averages), with the cluster-bootstrap percentile interval of the same contrast over the table's
  resamples. `samples` (B,) keeps the resampled contrasts, so two models' contrasts evaluated with the same
  instances and seed can be differenced resample by resample (a paired interval)."""
  name: str
  description: str
  first: np.ndarray
  second: np.ndarray
  estimate: Estimate
  samples: np.ndarray

  def as_dict(self) -> dict:
    return dict(name=self.name, description=self.description, first_values=int(self.first.sum()),
                second_values=int(self.second.sum()), **self.estimate.as_dict())


def contrast(table: FactorTable, first: np.ndarray, second: np.ndarray, name: str = "",
             description: str = "") -> Contrast:
  """`first`, `second`: (G,) bool masks over the table's factor values. Raises ValueError if either is empty."""
  first, second = np.asarray(first, bool), np.asarray(second, bool)
  if not first.any() or not second.any():
    raise ValueError(f"contrast {name!r}: a side selects no factor value")
  with stats._quiet_nan_warnings():  # pylint: disable=protected-access
    samples = np.nanmean(table.samples[:, first], axis=1) - np.nanmean(table.samples[:, second], axis=1)
  low, high = stats.percentile_interval(samples)
  value = float(np.mean(table.accuracy[first]) - np.mean(table.accuracy[second]))
  return Contrast(name, description, first, second, Estimate(value, float(low), float(high)), samples)


def trend_contrasts(table: FactorTable) -> list[Contrast]:
  """The contrasts that answer "does accuracy fall toward X" for SI-Score's factors:

  - (light_azimuth, light_elevation): "front-lit - back-lit" = azimuths within 45 degrees of 0 minus those within
    45 of 180, all elevations.

  - (x, y) in [0, 1]: ring = Chebyshev distance of the cell from the grid's centre in grid steps;
    "border - centre" = outermost ring minus the rings within a fifth of the way out (21 x 21 grid: the 80
    border cells minus the central 5 x 5).
  - `rotation` (degrees): "upright - upside down" = values within 30 degrees of 0/360 minus those within 30 of 180.
  - `occlusion`, `num_distractors`: "none - most" = the lowest value (nothing hidden, no distractor) minus the
    highest (negative = occlusion or clutter hurts).
  - `light_irradiance`: "extremes - middle" = the dimmest and brightest levels minus the middle one of the sorted
    levels (the nominal exposure in the lighting grid; negative = under- and over-exposure hurt).
  - other factor pairs (e.g. viewpoint's azimuth x elevation): none.
  - any other single numeric factor (e.g. `area`): "lowest tenth - rest" = the lowest tenth of its sorted values
    minus the other values at which every object instance is scored (size: smallest objects minus mid sizes;
    negative = small objects are harder). Values where a visibility threshold left out some instances (SI-Score's
    largest sizes: 23 instances at area 0.2, 5 at 0.97) are not used as the reference, since a different instance
    mix, not the factor, would move their mean; where none is left the reference is the highest quarter.
  """
  keys, out = table.keys, []
  if tuple(table.factors) == ("light_azimuth", "light_elevation"):
    off_axis = np.abs((keys[:, 0] + 180) % 360 - 180)  # degrees from the camera's side: 0 front-lit, 180 back-lit
    front, back = off_axis <= 45, off_axis >= 135
    if front.any() and back.any():
      out.append(contrast(table, front, back, "front-lit - back-lit",
                          f"light_azimuth within 45 degrees of 0 ({int(front.sum())} directions) minus within 45 of "
                          f"180 ({int(back.sum())} directions), every elevation"))
  elif tuple(table.factors) == ("x", "y"):
    centre = (keys.min(axis=0) + keys.max(axis=0)) / 2
    steps = [np.min(np.diff(np.unique(keys[:, i]))) if len(np.unique(keys[:, i])) > 1 else 1.0 for i in (0, 1)]
    ring = np.round(np.max(np.abs(keys - centre) / np.asarray(steps), axis=1)).astype(int)
    if ring.max() >= 2:
      inner = ring <= max(1, ring.max() // 5)
      out.append(contrast(table, ring == ring.max(), inner, "border - centre",
                          f"outermost ring ({int((ring == ring.max()).sum())} cells) minus the centre "
                          f"({int(inner.sum())} cells within {max(1, ring.max() // 5)} steps of the middle)"))
  elif len(table.factors) == 1 and len(keys) >= 4:
    values = keys[:, 0]
    if table.factors[0] == "rotation":
      distance_up = np.minimum(values % 360, 360 - values % 360)
      distance_down = np.abs(values % 360 - 180)
      up, down = distance_up <= 30, distance_down <= 30
      if up.any() and down.any():
        out.append(contrast(table, up, down, "upright - upside down",
                            f"rotations within 30 degrees of 0 ({int(up.sum())} values) minus within 30 of 180 "
                            f"({int(down.sum())} values)"))
    elif table.factors[0] in ("occlusion", "num_distractors"):
      none, most = values == values.min(), values == values.max()
      what = "hidden share" if table.factors[0] == "occlusion" else "distractors"
      out.append(contrast(table, none, most, "none - most",
                          f"{table.factors[0]} {values.min():g} minus {values.max():g} (the most {what})"))
    elif table.factors[0] == "light_irradiance":
      order = np.argsort(values)
      middle = np.zeros(len(values), bool)
      middle[order[len(values) // 2]] = True
      extremes = (values == values.min()) | (values == values.max())
      out.append(contrast(table, extremes, middle, "extremes - middle",
                          f"the dimmest and brightest irradiance ({values.min():g}, {values.max():g} W/m^2) minus "
                          f"the middle level ({values[middle][0]:g} W/m^2)"))
    else:
      order = np.argsort(values)
      low = np.zeros(len(values), bool)
      low[order[:max(1, len(values) // 10)]] = True
      rest = (table.instances == table.instances.max()) & ~low
      what = f"the other values scored on all {int(table.instances.max())} instances"
      if not rest.any():
        rest = np.zeros(len(values), bool)
        rest[order[-max(1, len(values) // 4):]] = True
        what = "the highest quarter"
      out.append(contrast(table, low, rest, "lowest tenth - rest",
                          f"{table.factors[0]} {values[low].min():g}..{values[low].max():g} ({int(low.sum())} "
                          f"values) minus {what} ({values[rest].min():g}..{values[rest].max():g}, "
                          f"{int(rest.sum())} values)"))
  return out
