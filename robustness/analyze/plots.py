"""Matplotlib PNGs of the aggregates, in the SI-Score paper's terms, every accuracy drawn with its cluster-bootstrap
95% interval (a band for curves, error bars for bars).

- location: 21x21 heatmap, axes "normalised x/y of object centre", rows = y with (0, 0) at the top-left, cells
  without examples grey; the paired difference of two models as a diverging heatmap, cells whose interval excludes 0
  marked with a dot.
- size: accuracy vs object area; rotation: accuracy vs angle (shown from -179 to 181) raw and normalised by its
  maximum; other single factors: accuracy vs the factor. Several models are overlaid in one axes.
Every function writes one PNG and returns its path.
"""
from __future__ import annotations

import os

import numpy as np

from kubricgen_robustness.analyze import aggregate

LABELS = {"x": "normalised x of object centre", "y": "normalised y of object centre",
          "area": "object area (fraction of the image, before rotation)",
          "rotation": "rotation angle (degrees, counter-clockwise)", "label": "class"}
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


def difference_heatmap(diff: aggregate.PairedDifference, path: str) -> str:
  plt = _pyplot()
  fake = aggregate.FactorTable.__new__(aggregate.FactorTable)
  fake.factors, fake.keys, fake.accuracy = diff.factors, diff.keys, diff.difference
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
