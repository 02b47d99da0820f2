"""Matplotlib PNGs of the aggregates, in the SI-Score paper's terms, every accuracy drawn with its cluster-bootstrap
95% interval (a band for curves, error bars for bars).

- location: 21x21 heatmap, axes "normalised x/y of object centre", rows = y with (0, 0) at the top-left, cells
  without examples grey; the paired difference of two models as a diverging heatmap, cells whose interval excludes 0
  marked with a dot.
- size: accuracy vs object area; rotation: accuracy vs angle (shown from -179 to 181) raw and normalised by its
  maximum; other single factors: accuracy vs the factor (log x for `LOG_FACTORS`: light_irradiance). Several models
  are overlaid in one axes.
- lighting direction sweep (`CATEGORY_GRIDS`): a heatmap of light_azimuth x light_elevation with one cell per grid
  value (cells need not be evenly spaced), higher elevation on top, each cell annotated with its accuracy and interval;
  the paired difference alike.
- occlusion: accuracy vs occlusion level, one line per occluder kind (and model), sharing the level-0 point.
- cue_conflict: shape bias per model with its interval; a Geirhos et al. (2019)-style plot of shape bias per class.
Every function writes one PNG and returns its path.
"""
from __future__ import annotations

import os

import numpy as np

from kubricgen_robustness.analyze import aggregate

LABELS = {"x": "normalised x of object centre", "y": "normalised y of object centre",
          "area": "object area (fraction of the image, before rotation)",
          "rotation": "rotation angle (degrees, counter-clockwise)", "label": "class",
          "light_azimuth": "key light azimuth (degrees from the camera's side; 0 front-lit, +90 from the right, "
                           "180 back-lit)",
          "light_elevation": "key light elevation (degrees above the horizontal)",
          "light_irradiance": "key light irradiance (W/m\u00b2, log scale)",
          "occlusion": "occlusion level (share of the object's pixels hidden)",
          "num_distractors": "number of distractor objects"}
SHORT_LABELS = {"light_azimuth": "light azimuth (degrees; 0 front-lit, 180 back-lit, +90 from the right)",
                "light_elevation": "light elevation (degrees above horizontal)",
                "azimuth": "viewpoint azimuth (degrees about the up axis)",
                "elevation": "viewpoint elevation (degrees above horizontal)"}  # heatmap axes
LOG_FACTORS = {"light_irradiance"}  # log-spaced levels: drawn on a log x axis
# 2-factor grids of a few values per axis, drawn cell by cell (not to scale) with each cell's value and interval
CATEGORY_GRIDS = {("light_azimuth", "light_elevation"), ("azimuth", "elevation")}
DPI = 110


def _pyplot():
  import matplotlib  # pylint: disable=import-outside-toplevel
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel
  return plt


def _save(figure, path: str) -> str:
  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  figure.savefig(path, dpi=DPI, bbox_inches="tight")
  _pyplot().close(figure)
  return path


def _extent(xs, ys):
  dx = (xs[1] - xs[0]) if len(xs) > 1 else 1.0
  dy = (ys[1] - ys[0]) if len(ys) > 1 else 1.0
  return [xs[0] - dx / 2, xs[-1] + dx / 2, ys[-1] + dy / 2, ys[0] - dy / 2]  # top edge = smallest y


def heatmap_axes(axes, grid, xs, ys, *, vmin=0.0, vmax=1.0, cmap="viridis"):
  """Draw `grid` (rows = ys top to bottom, cols = xs) so that data coordinates are the factor values."""
  plt = _pyplot()
  colormap = plt.get_cmap(cmap).copy()
  colormap.set_bad("#bbbbbb")
  image = axes.imshow(np.ma.masked_invalid(grid), origin="upper", extent=_extent(xs, ys), cmap=colormap,
                      vmin=vmin, vmax=vmax, interpolation="nearest", aspect="equal")
  return image


def location_heatmap(table: aggregate.FactorTable, path: str, title: str) -> str:
  plt = _pyplot()
  grid, xs, ys = aggregate.heatmap(table)
  figure, axes = plt.subplots(figsize=(5.6, 4.8))
  image = heatmap_axes(axes, grid, xs, ys)
  axes.set_xlabel(LABELS.get(table.factors[0], table.factors[0]))
  axes.set_ylabel(LABELS.get(table.factors[1], table.factors[1]))
  axes.set_title(title, fontsize=10)
  figure.colorbar(image, ax=axes, label="top-1 accuracy")
  return _save(figure, path)


def _difference_table(diff: aggregate.PairedDifference) -> aggregate.FactorTable:
  """A FactorTable holding only the factors, keys and (as `accuracy`) the paired differences: what `heatmap` and
  the cell texts read."""
  fake = aggregate.FactorTable.__new__(aggregate.FactorTable)
  fake.factors, fake.keys, fake.accuracy = diff.factors, diff.keys, diff.difference
  return fake


def difference_heatmap(diff: aggregate.PairedDifference, path: str) -> str:
  plt = _pyplot()
  fake = _difference_table(diff)
  grid, xs, ys = aggregate.heatmap(fake)
  figure, axes = plt.subplots(figsize=(5.6, 4.8))
  limit = max(0.05, float(np.nanmax(np.abs(diff.difference))))
  image = heatmap_axes(axes, grid, xs, ys, vmin=-limit, vmax=limit, cmap="RdBu")
  sure = (diff.boot_low > 0) | (diff.boot_high < 0)
  if sure.any():
    axes.scatter(diff.keys[sure, 0], diff.keys[sure, 1], s=6, c="black", label="95% interval excludes 0")
    axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.13), fontsize=8, frameon=False)
  axes.set_xlabel(LABELS["x"])
  axes.set_ylabel(LABELS["y"])
  axes.set_title(f"accuracy {diff.model_a} - {diff.model_b}\nmean {diff.average.value:+.3f} "
                 f"[{diff.average.low:+.3f}, {diff.average.high:+.3f}] (paired bootstrap 95%)", fontsize=9)
  figure.colorbar(image, ax=axes, label=f"top-1 accuracy difference ({diff.model_a} - {diff.model_b})")
  return _save(figure, path)


def display_angle(values):
  """Angles in degrees shown from -179 to 181 (the paper's rotation plots)."""
  values = np.asarray(values, np.float64)
  return np.where(values > 181, values - 360, values)


def curve(tables: dict, path: str, title: str, *, normalise: bool = False, top5: bool = False) -> str:
  """Accuracy vs the single factor of each table in `tables` ({model: FactorTable}), bands = bootstrap 95%."""
  plt = _pyplot()
  figure, axes = plt.subplots(figsize=(6.4, 4.0))
  factor = None
  for name, table in tables.items():
    factor = table.factors[0]
    xs = display_angle(table.keys[:, 0]) if factor == "rotation" else table.keys[:, 0]
    if normalise:
      value, low, high = aggregate.normalised_by_max(table)
    elif top5:
      value, low, high = table.top5_accuracy, table.top5_boot_low, table.top5_boot_high
    else:
      value, low, high = table.accuracy, table.boot_low, table.boot_high
    order = np.argsort(xs)
    line, = axes.plot(xs[order], value[order], marker="o", markersize=3, label=name)
    axes.fill_between(xs[order], low[order], high[order], color=line.get_color(), alpha=0.2, linewidth=0)
  if factor in LOG_FACTORS:
    axes.set_xscale("log")
  axes.set_xlabel(LABELS.get(factor, factor))
  what = "top-5 accuracy" if top5 else "top-1 accuracy"
  axes.set_ylabel(f"{what} / its maximum" if normalise else what)
  axes.set_ylim(0, 1.05)
  axes.grid(alpha=0.3)
  axes.set_title(f"{title} (bands: object-instance bootstrap 95%)", fontsize=10)
  axes.legend(fontsize=8)
  return _save(figure, path)


def difference_curve(diff: aggregate.PairedDifference, path: str) -> str:
  plt = _pyplot()
  figure, axes = plt.subplots(figsize=(6.4, 3.6))
  factor = diff.factors[0]
  xs = display_angle(diff.keys[:, 0]) if factor == "rotation" else diff.keys[:, 0]
  order = np.argsort(xs)
  axes.plot(xs[order], diff.difference[order], marker="o", markersize=3, color="#333333")
  axes.fill_between(xs[order], diff.boot_low[order], diff.boot_high[order], color="#888888", alpha=0.3,
                    linewidth=0, label="paired bootstrap 95%")
  axes.axhline(0, color="black", linewidth=0.8)
  if factor in LOG_FACTORS:
    axes.set_xscale("log")
  axes.set_xlabel(LABELS.get(factor, factor))
  axes.set_ylabel(f"accuracy {diff.model_a} - {diff.model_b}")
  axes.grid(alpha=0.3)
  axes.legend(fontsize=8)
  return _save(figure, path)


def per_class(tables: dict, class_names: list, path: str, title: str) -> str:
  """Horizontal bars of per-class accuracy per model with bootstrap error bars."""
  plt = _pyplot()
  classes = sorted({int(k) for t in tables.values() for k in t.keys[:, 0]})
  height = 0.8 / max(1, len(tables))
  figure, axes = plt.subplots(figsize=(6.4, 1.2 + 0.28 * len(classes) * max(1, len(tables)) ** 0.5))
  for m, (name, table) in enumerate(tables.items()):
    position = {int(k): g for g, k in enumerate(table.keys[:, 0])}
    rows = [position.get(c) for c in classes]
    value = np.array([table.accuracy[r] if r is not None else np.nan for r in rows])
    low = np.array([table.boot_low[r] if r is not None else np.nan for r in rows])
    high = np.array([table.boot_high[r] if r is not None else np.nan for r in rows])
    y = np.arange(len(classes)) + m * height
    axes.barh(y, value, height=height, xerr=np.abs(np.stack([value - low, high - value])), label=name,
              error_kw=dict(elinewidth=0.8, capsize=2))
  axes.set_yticks(np.arange(len(classes)) + 0.4 - height / 2)
  axes.set_yticklabels([class_names[c] if class_names and c < len(class_names) else str(c) for c in classes],
                       fontsize=7)
  axes.invert_yaxis()
  axes.set_xlim(0, 1)
  axes.set_xlabel("top-1 accuracy (error bars: object-instance bootstrap 95%)")
  axes.set_title(title, fontsize=10)
  axes.legend(fontsize=8, loc="lower right")
  return _save(figure, path)


def category_heatmap_axes(axes, grid, xs, ys, *, text=None, vmin=0.0, vmax=1.0, cmap="viridis"):
  """Draw `grid` (Ny, Nx) one cell per (xs[col], ys[row]) at integer positions, row 0 (the smallest y) at the
  bottom, ticks labelled with the values; `text` (Ny, Nx) strings written in the cells."""
  plt = _pyplot()
  colormap = plt.get_cmap(cmap).with_extremes(bad="#bbbbbb")
  image = axes.imshow(np.ma.masked_invalid(grid), origin="lower", cmap=colormap, vmin=vmin, vmax=vmax,
                      interpolation="nearest", aspect="auto")
  axes.set_xticks(np.arange(len(xs)), [f"{v:g}" for v in xs], fontsize=8)
  axes.set_yticks(np.arange(len(ys)), [f"{v:g}" for v in ys], fontsize=8)
  if text is not None:
    for row in range(len(ys)):
      for col in range(len(xs)):
        if text[row][col]:
          value = grid[row, col]
          light = np.isfinite(value) and (value - vmin) / (vmax - vmin) < 0.6
          axes.text(col, row, text[row][col], ha="center", va="center", fontsize=6.5,
                    color="white" if light else "black")
  return image


def _cell_text(table: aggregate.FactorTable, values, low, high):
  """(Ny, Nx) cell labels "value\n[low, high]" in `aggregate.heatmap`'s layout ("" where no example)."""
  fake = aggregate.FactorTable.__new__(aggregate.FactorTable)
  fake.factors, fake.keys = table.factors, table.keys
  grids = [aggregate.heatmap(fake, np.asarray(v, np.float64))[0] for v in (values, low, high)]
  return [[("" if not np.isfinite(grids[0][r, c]) else
            f"{grids[0][r, c]:.2f}\n[{grids[1][r, c]:.2f}, {grids[2][r, c]:.2f}]") for c in range(grids[0].shape[1])]
          for r in range(grids[0].shape[0])]


def direction_heatmap(table: aggregate.FactorTable, path: str, title: str) -> str:
  """Accuracy per cell of a CATEGORY_GRIDS grid (lighting direction, viewpoint), annotated with the accuracy and
  its bootstrap 95%."""
  plt = _pyplot()
  grid, xs, ys = aggregate.heatmap(table)
  figure, axes = plt.subplots(figsize=(max(6.4, 0.75 * len(xs) + 2.2), max(3.8, 0.5 * len(ys) + 1.8)))
  image = category_heatmap_axes(axes, grid, xs, ys, text=_cell_text(table, table.accuracy, table.boot_low,
                                                                    table.boot_high))
  axes.set_xlabel(SHORT_LABELS.get(table.factors[0], table.factors[0]), fontsize=9)
  axes.set_ylabel(SHORT_LABELS.get(table.factors[1], table.factors[1]), fontsize=9)
  axes.set_title(title, fontsize=10)
  figure.colorbar(image, ax=axes, label="top-1 accuracy; in cells [bootstrap 95%]")
  return _save(figure, path)


def direction_difference_heatmap(diff: aggregate.PairedDifference, path: str) -> str:
  """Model A - B per lighting direction cell; cells whose paired interval excludes 0 are marked with *."""
  plt = _pyplot()
  fake = _difference_table(diff)
  grid, xs, ys = aggregate.heatmap(fake)
  text = _cell_text(fake, diff.difference, diff.boot_low, diff.boot_high)
  sure = aggregate.heatmap(fake, ((diff.boot_low > 0) | (diff.boot_high < 0)).astype(np.float64))[0]
  text = [[t + (" *" if t and sure[r, c] == 1 else "") for c, t in enumerate(line)] for r, line in enumerate(text)]
  limit = max(0.05, float(np.nanmax(np.abs(diff.difference))))
  figure, axes = plt.subplots(figsize=(max(6.4, 0.75 * len(xs) + 2.2), max(3.8, 0.5 * len(ys) + 1.8)))
  image = category_heatmap_axes(axes, grid, xs, ys, text=None, vmin=-limit, vmax=limit, cmap="RdBu")
  for r, line in enumerate(text):
    for c, t in enumerate(line):
      if t:
        axes.text(c, r, t, ha="center", va="center", fontsize=6.5,
                  color="white" if abs(grid[r, c]) > 0.6 * limit else "black")
  axes.set_xlabel(SHORT_LABELS.get(diff.factors[0], diff.factors[0]), fontsize=9)
  axes.set_ylabel(SHORT_LABELS.get(diff.factors[1], diff.factors[1]), fontsize=9)
  axes.set_title(f"accuracy {diff.model_a} - {diff.model_b} (* = paired 95% interval excludes 0)\nmean "
                 f"{diff.average.value:+.3f} [{diff.average.low:+.3f}, {diff.average.high:+.3f}]", fontsize=9)
  figure.colorbar(image, ax=axes, label="top-1 accuracy difference")
  return _save(figure, path)


def curves_by_kind(tables: dict, path: str, title: str) -> str:
  """Accuracy vs the single factor, one line per (kind, model): `tables` {kind: {model: FactorTable}}. One model:
  a colour per kind; several: a colour per model and a line style per kind. Bands = bootstrap 95%."""
  plt = _pyplot()
  figure, axes = plt.subplots(figsize=(6.4, 4.0))
  models = list(dict.fromkeys(m for by_model in tables.values() for m in by_model))
  colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
  styles, markers = ["-", "--", ":", "-."], ["o", "s", "^", "D"]
  factor = None
  for k, (kind, by_model) in enumerate(tables.items()):
    for name, table in by_model.items():
      factor = table.factors[0]
      colour = colours[(k if len(models) == 1 else models.index(name)) % len(colours)]
      xs = table.keys[:, 0]
      order = np.argsort(xs)
      axes.plot(xs[order], table.accuracy[order], linestyle=styles[k % len(styles)], marker=markers[k % 4],
                markersize=3.5, color=colour, label=kind if len(models) == 1 else f"{name}, {kind}")
      axes.fill_between(xs[order], table.boot_low[order], table.boot_high[order], color=colour, alpha=0.15,
                        linewidth=0)
  if factor in LOG_FACTORS:
    axes.set_xscale("log")
  axes.set_xlabel(LABELS.get(factor, factor))
  axes.set_ylabel("top-1 accuracy")
  axes.set_ylim(0, 1.05)
  axes.grid(alpha=0.3)
  axes.set_title(f"{title} (bands: object-instance bootstrap 95%)", fontsize=10)
  axes.legend(fontsize=8, title="occluder" if factor == "occlusion" else None, title_fontsize=8)
  return _save(figure, path)


def shape_bias(biases: dict, path: str, title: str) -> str:
  """One point per model ({model: cue_conflict.ShapeBias}, group 0) with its bootstrap 95% interval; 0.5 = as
  many shape as texture decisions."""
  plt = _pyplot()
  names = list(biases)
  figure, axes = plt.subplots(figsize=(6.4, 1.4 + 0.45 * len(names)))
  for i, name in enumerate(names):
    bias = biases[name]
    value, low, high = bias.bias[0], bias.boot_low[0], bias.boot_high[0]
    axes.errorbar([value], [i], xerr=np.abs([[value - low], [high - value]]), fmt="o", capsize=4, color="C0")
    axes.annotate(f"{value:.2f} [{low:.2f}, {high:.2f}], n = {int(bias.decisions[0])}",
                  (min(max(value, 0.15), 0.85), i), textcoords="offset points", xytext=(0, 7), ha="center",
                  fontsize=7.5)
  axes.axvline(0.5, color="#888888", linewidth=0.8, linestyle="--")
  axes.set_yticks(np.arange(len(names)), names, fontsize=8)
  axes.set_ylim(len(names) - 0.4, -0.6)
  axes.set_xlim(-0.03, 1.03)
  axes.set_xlabel("shape bias = shape / (shape + texture) decisions (0 texture, 1 shape)")
  top = axes.secondary_xaxis("top", functions=(lambda v: 1 - v, lambda v: 1 - v))
  top.set_xlabel("texture bias", fontsize=8)
  axes.set_title(f"{title} (error bars: object-instance bootstrap 95%)", fontsize=10)
  return _save(figure, path)


def shape_bias_per_class(biases: dict, class_names: list, path: str, title: str) -> str:
  """Geirhos et al. (2019), Fig. 4 style: per shape class (rows) the fraction of shape decisions (bottom axis,
  texture = 1 - it on the top axis), one marker per model with its bootstrap 95% interval, and a vertical line at
  each model's overall shape bias. `biases` {model: (per-class ShapeBias, overall ShapeBias)}."""
  plt = _pyplot()
  classes = sorted({int(k) for per_class, _ in biases.values() for k in per_class.keys})
  figure, axes = plt.subplots(figsize=(6.4, 1.4 + 0.3 * len(classes)))
  markers = ["o", "s", "^", "D", "v", "P"]
  offset = 0.5 / max(1, len(biases))
  for m, (name, (per_class, overall)) in enumerate(biases.items()):
    colour = f"C{m % 10}"
    rows = {int(k): g for g, k in enumerate(per_class.keys)}
    y = np.array([classes.index(c) for c in rows]) + (m - (len(biases) - 1) / 2) * offset
    g = np.array(list(rows.values()))
    value = per_class.bias[g]
    axes.errorbar(value, y, xerr=np.abs(np.stack([value - per_class.boot_low[g], per_class.boot_high[g] - value])),
                  fmt=markers[m % len(markers)], color=colour, markersize=4, capsize=2, elinewidth=0.8,
                  label=f"{name} (overall {overall.bias[0]:.2f})")
    axes.axvline(overall.bias[0], color=colour, linewidth=1)
  axes.set_yticks(np.arange(len(classes)),
                  [class_names[c] if class_names and c < len(class_names) else str(c) for c in classes], fontsize=7)
  axes.set_ylim(len(classes) - 0.5, -0.5)
  axes.set_xlim(-0.03, 1.03)
  axes.set_xlabel("fraction of shape decisions (per shape class)")
  top = axes.secondary_xaxis("top", functions=(lambda v: 1 - v, lambda v: 1 - v))
  top.set_xlabel("fraction of texture decisions", fontsize=8)
  axes.grid(alpha=0.3, axis="x")
  axes.set_title(title, fontsize=10)
  axes.legend(fontsize=7, loc="lower right")
  return _save(figure, path)
