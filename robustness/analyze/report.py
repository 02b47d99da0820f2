"""The analysis folder: summary.json, CSV tables, PNG plots, misclassified thumbnails and a static index.html.

    OUT/summary.json            robustness_metrics keys per model (`metrics`: location(0.05,0.40), size_average, ...)
                                + per factor value n, correct, accuracy, Wilson and bootstrap intervals, top-5 alike
    OUT/tables/*.csv            one row per factor value (per model and config), per class, paired differences,
                                visibility slices
    OUT/plots/*.png             heatmaps and curves with interval bands (see `plots`)
    OUT/gallery/MODEL/CONFIG/   JPEG thumbnails of misclassified examples in the worst factor cells
    OUT/index.html              everything above on one page; no script, images by relative path
A config analysed as slices (lighting: direction and irradiance sweeps; occlusion: one curve per occluder kind) has
one CONFIG_SLICE entry per slice (lighting_direction, occlusion_bar, ...) wherever a config name appears above.
Cue-conflict configs add shape bias (`cue_conflict`): summary `metrics` `<config>_shape_bias`, tables/*__shape_bias
*.csv, plots/<config>__shape_bias*.png.
Input: `ModelResult`s (one per model: its predictions per config) and the `ImageSource`s they were scored on.
"""
from __future__ import annotations

import csv
import dataclasses
import html
import json
import os
import re

import numpy as np

from kubricgen_robustness.analyze import aggregate, cue_conflict, plots, stats

GALLERY_CELLS, GALLERY_PER_CELL, THUMBNAIL = 12, 6, 96


@dataclasses.dataclass
class ModelResult:
  """One model's predictions: `predictions` {config: dict of numpy columns}, `info` {config: evaluation record}."""
  name: str
  predictions: dict
  info: dict


def slug(text: str) -> str:
  return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_") or "x"


def _write_csv(path: str, rows: list[dict]) -> str:
  os.makedirs(os.path.dirname(path), exist_ok=True)
  with open(path, "w", newline="", encoding="utf-8") as handle:
    if rows:
      writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
      writer.writeheader()
      writer.writerows(rows)
  return path


def _finite(value):
  return None if value is None or (isinstance(value, float) and not np.isfinite(value)) else value


def _clean(tree):
  """NaN -> None so summary.json is strict JSON."""
  if isinstance(tree, dict):
    return {k: _clean(v) for k, v in tree.items()}
  if isinstance(tree, list):
    return [_clean(v) for v in tree]
  return _finite(tree)


def _thumbnails(source, columns, table, config, folder, relative, use_names: bool) -> list[dict]:
  """Misclassified examples of the worst cells (lowest accuracy first) as JPEG thumbnails."""
  from kubricgen_robustness.data.source import decode_image  # pylint: disable=import-outside-toplevel
  keys, index = aggregate.group(columns, table.factors)
  cells = [g for g in np.argsort(table.accuracy, kind="stable") if table.correct[g] < table.n[g]][:GALLERY_CELLS]
  names = list(source.class_names)
  out = []
  for g in cells:
    wrong = np.flatnonzero((index == g) & ~columns["correct"].astype(bool))[:GALLERY_PER_CELL]
    items = []
    for row in wrong:
      position = int(columns["index"][row])
      image = decode_image(source[position]["image"])
      image.thumbnail((THUMBNAIL, THUMBNAIL))
      file_name = f"{slug(aggregate.metric_key(config, table.factors, keys[g]))}_{position}.jpg"
      os.makedirs(folder, exist_ok=True)
      image.save(os.path.join(folder, file_name), quality=85)
      label, prediction = int(columns["label"][row]), int(columns["prediction"][row])
      name = (lambda i: names[i] if use_names and 0 <= i < len(names) else f"ImageNet #{i}")
      items.append(dict(src=f"{relative}/{file_name}", label=name(label), prediction=name(prediction),
                        confidence=float(columns["confidence"][row]), instance=str(columns["object_instance"][row])))
    out.append(dict(key=aggregate.metric_key(config, table.factors, keys[g]), n=int(table.n[g]),
                    correct=int(table.correct[g]), items=items))
  return out


def write_report(out: str, results: list[ModelResult], sources: dict, *, resamples: int = 2000, seed: int = 0,
                 factors: dict | None = None) -> str:
  """Write the analysis folder for `results` (scored on `sources` {config: ImageSource}); returns index.html's path.

  A config analysed as several slices (`aggregate.sweeps_for`: lighting's direction and irradiance sweeps, one
  occlusion curve per occluder kind) gets one entry per slice, named `config_slice` (lighting_direction,
  occlusion_bar) in file names, metric keys, summary.json's `configs` and comparisons (with `dataset_config`,
  `sweep`, `selection`), and one HTML section per slice after a header section for the config. A config with
  cue-conflict columns (`cue_conflict.has_cue_conflict`) gets its shape bias (summary `metrics`
  `<config>_shape_bias`, `configs[<config>].shape_bias`).

  factors: {config: tuple of factor names} overriding `aggregate.sweeps_for` (one whole-config slice). Raises
  ValueError when a config has no factor to group by and no cue-conflict columns."""
  os.makedirs(out, exist_ok=True)
  summary = dict(bootstrap=dict(method="percentile, clusters = object_instance resampled with replacement",
                                resamples=resamples, seed=seed, level=0.95,
                                note="collapses to a point where k = 0 or k = n; read the Wilson interval there"),
                 wilson=dict(level=0.95, note="treats images as independent; narrower than the bootstrap"),
                 models={}, comparisons=[])
  configs = list(dict.fromkeys(c for r in results for c in r.predictions))
  sections = []
  for config in configs:
    scored = [r for r in results if config in r.predictions]
    some = scored[0].predictions[config]
    override = (factors or {}).get(config)
    units = [aggregate.Sweep("", tuple(override))] if override else aggregate.sweeps_for(config, some)
    cue = cue_conflict.has_cue_conflict(some)
    if not units and not cue:
      raise ValueError(f"config {config}: no factor varies (nothing to group by)")
    unit_sections, unit_tables = [], {}
    for unit in units:
      section, unit_tables[unit.name] = _analyse_unit(out, config, unit, scored, sources, summary, resamples, seed)
      unit_sections.append(section)
    if any(unit.name for unit in units):
      unit_sections.insert(0, _sweeps_header(out, config, units, unit_tables))
    if cue:
      unit_sections.append(_cue_conflict_section(out, config, scored, sources, summary, resamples, seed))
    sections += unit_sections
  with open(os.path.join(out, "summary.json"), "w", encoding="utf-8") as handle:
    json.dump(_clean(summary), handle, indent=1)
  path = os.path.join(out, "index.html")
  with open(path, "w", encoding="utf-8") as handle:
    handle.write(_page(summary, sections))
  return path


def _analyse_unit(out, config, unit: aggregate.Sweep, scored, sources, summary, resamples, seed) -> tuple[str, dict]:
  """Tables, plots, comparisons, galleries and summary entries of one slice of a config; (HTML section, {model:
  FactorTable})."""
  label, config_factors = unit.label(config), tuple(unit.factors)
  predictions = {r.name: unit.select(r.predictions[config]) if unit.where else r.predictions[config] for r in scored}
  tables, class_tables, galleries, visibility, contrasts = {}, {}, {}, {}, {}
  for result in scored:
    columns = predictions[result.name]
    info = result.info[config]
    table = aggregate.factor_table(columns, config_factors, resamples=resamples, seed=seed)
    tables[result.name] = table
    rows = table.rows(label)
    stem = f"{slug(result.name)}__{label}"
    _write_csv(os.path.join(out, "tables", f"{stem}.csv"), rows)
    class_table = aggregate.factor_table(columns, ("label",), resamples=resamples, seed=seed)
    class_tables[result.name] = class_table
    class_rows = class_table.rows()
    for row in class_rows:
      row["class_name"] = (info["class_names"][int(row["label"])] if info.get("class_names")
                           else f"ImageNet #{int(row['label'])}")
    _write_csv(os.path.join(out, "tables", f"{stem}__per_class.csv"), class_rows)
    visibility[result.name] = aggregate.visibility_slices(columns, config_factors, resamples=resamples, seed=seed)
    _write_csv(os.path.join(out, "tables", f"{stem}__visibility.csv"), visibility[result.name])
    average, top5_average = aggregate.subset_average(table), aggregate.subset_average(table, top5=True)
    contrasts[result.name] = aggregate.trend_contrasts(table)
    model_summary = summary["models"].setdefault(result.name, dict(metrics={}, configs={}))
    model_summary["metrics"].update({row["key"]: row["accuracy"] for row in rows})
    model_summary["metrics"][f"{label}_average"] = average.value
    model_summary["configs"][label] = dict(
        evaluation=info, factors=list(config_factors), n=int(table.n.sum()), correct=int(table.correct.sum()),
        accuracy=float(table.correct.sum() / table.n.sum()),
        top5_accuracy=float(table.top5_correct.sum() / table.n.sum()), average=average.as_dict(),
        top5_average=top5_average.as_dict(), contrasts=[c.as_dict() for c in contrasts[result.name]], values=rows,
        per_class=class_rows, visibility=visibility[result.name], **_sweep_fields(config, unit))
    relative = f"gallery/{slug(result.name)}/{label}"
    galleries[result.name] = _thumbnails(sources[config], columns, table, label, os.path.join(out, relative),
                                         relative, info.get("class_names") is not None)
  images = _config_plots(out, label, config_factors, tables, class_tables, scored, config)
  comparisons = []
  for i, a in enumerate(scored):
    for b in scored[i + 1:]:
      diff = aggregate.paired_difference(predictions[a.name], predictions[b.name], config_factors,
                                         names=(a.name, b.name), resamples=resamples, seed=seed)
      comparison = _comparison(out, label, diff)
      comparison["summary"].update(_sweep_fields(config, unit))
      comparison["summary"]["contrast_differences"] = _contrast_differences(
          contrasts[a.name], contrasts[b.name], predictions[a.name], predictions[b.name])
      comparisons.append(comparison)
  summary["comparisons"] += [c["summary"] for c in comparisons]
  return _section(label, config_factors, tables, scored, images, comparisons, galleries, visibility, contrasts,
                  dataset_config=config, note=unit.description, predictions=predictions), tables


def _sweep_fields(config: str, unit: aggregate.Sweep) -> dict:
  """summary.json fields naming the slice of a config analysed as several (none for a whole config)."""
  return dict(dataset_config=config, sweep=unit.name, selection=unit.description) if unit.name else {}


def _sweeps_header(out, config, units, unit_tables) -> str:
  """The section introducing a config analysed as slices: what each slice holds, and for occlusion the curves of
  every occluder kind in one plot."""
  e = html.escape
  parts = [f'<section id="{e(config)}"><h2>{e(config)}</h2><p>Analysed as {len(units)} slices, each in its own '
           "section below:</p><ul>"]
  parts += [f'<li><a href="#{e(u.label(config))}">{e(u.label(config))}</a>: {e(u.description)}</li>' for u in units]
  parts.append("</ul>")
  single = [u for u in units if len(u.factors) == 1]
  if len(single) > 1 and len({u.factors for u in single}) == 1:
    file_name = f"{config}__by_{slug(single[0].factors[0])}_kind.png"
    plots.curves_by_kind({u.name: unit_tables[u.name] for u in single}, os.path.join(out, "plots", file_name),
                         f"{config}: top-1 accuracy")
    caption = (f"top-1 accuracy vs {plots.LABELS.get(single[0].factors[0], single[0].factors[0])}, one line per "
               f"{'occluder' if config == 'occlusion' else 'slice'} ({', '.join(u.name for u in single)}); the "
               "first point is shared")
    parts.append(f'<div class=plots><figure><img src="plots/{e(file_name)}" alt="{e(caption)}"><figcaption>'
                 f"{e(caption)}</figcaption></figure></div>")
  parts.append("</section>")
  return "\n".join(parts)


def _cue_conflict_section(out, config, scored, sources, summary, resamples, seed) -> str:
  """Shape bias per model (`cue_conflict`): summary entries, CSVs, the two plots and the HTML section."""
  e = html.escape
  names = list(getattr(sources.get(config), "class_names", None) or [])
  biases, per_class, rows = {}, {}, {}
  for result in scored:
    columns = result.predictions[config]
    biases[result.name] = cue_conflict.shape_bias(columns, resamples=resamples, seed=seed)
    by = next(f for f in ("dataset_shape_label", "dataset_label", "shape_label") if f in columns)
    per_class[result.name] = cue_conflict.shape_bias(columns, by, resamples=resamples, seed=seed)
    row = biases[result.name].row()
    rows[result.name] = row
    class_rows = [dict(shape_class=int(k), class_name=names[int(k)] if 0 <= int(k) < len(names) else str(int(k)),
                       **per_class[result.name].row(g)) for g, k in enumerate(per_class[result.name].keys)]
    stem = f"{slug(result.name)}__{config}"
    _write_csv(os.path.join(out, "tables", f"{stem}__shape_bias.csv"), [row])
    _write_csv(os.path.join(out, "tables", f"{stem}__shape_bias_per_class.csv"), class_rows)
    correct = np.asarray(columns["correct"], bool)
    model_summary = summary["models"].setdefault(result.name, dict(metrics={}, configs={}))
    model_summary["metrics"][f"{config}_shape_bias"] = row["shape_bias"]
    model_summary["configs"][config] = dict(
        evaluation=result.info[config], factors=[], n=len(correct), correct=int(correct.sum()),
        accuracy=float(correct.mean()), top5_accuracy=float(np.mean(np.asarray(columns["top5_correct"], bool))),
        shape_bias=dict(row, definition=cue_conflict.DEFINITION), per_class=class_rows)
  plots.shape_bias(biases, os.path.join(out, "plots", f"{config}__shape_bias.png"), f"{config}: shape bias")
  plots.shape_bias_per_class({m: (per_class[m], biases[m]) for m in biases}, names,
                             os.path.join(out, "plots", f"{config}__shape_bias_per_class.png"),
                             f"{config}: shape bias per shape class")
  differences = []
  for i, a in enumerate(scored):
    for b in scored[i + 1:]:
      same = np.array_equal(np.unique(a.predictions[config]["object_instance"]),
                            np.unique(b.predictions[config]["object_instance"]))
      difference = (cue_conflict.paired_difference(biases[a.name], biases[b.name]) if same else
                    dict(difference=rows[a.name]["shape_bias"] - rows[b.name]["shape_bias"]))
      differences.append(dict(config=config, metric="shape_bias", model_a=a.name, model_b=b.name,
                              shape_bias_difference=difference))
  summary["comparisons"] += differences
  parts = [f'<section id="{e(config)}"><h2>{e(config)}: shape bias</h2>',
           f"<p>{e(cue_conflict.DEFINITION)}. n = shape + texture decisions; shares are among all kept predictions "
           "(images whose shape and texture class are the same, or whose texture class has no index in the model's "
           "label space, are left out). [interval] = object-instance cluster bootstrap 95%, (Wilson 95%).</p>",
           "<table><tr><th>model</th><th>examples</th><th>instances</th><th>shape bias [95%] (Wilson)</th><th>n</th>"
           "<th>shape share [95%]</th><th>texture share [95%]</th><th>other-class predictions</th><th>top-1 = shape "
           "class (all examples)</th><th>left out</th></tr>"]
  for name, row in rows.items():
    accuracy = summary["models"][name]["configs"][config]["accuracy"]
    parts.append(
        f"<tr><td>{e(name)}</td><td>{row['examples']}</td><td>{row['instances']}</td><td>{_fmt(row['shape_bias'])} "
        f"[{_fmt(row['boot_low'])}, {_fmt(row['boot_high'])}] ({_fmt(row['ci_low'])}, {_fmt(row['ci_high'])})</td>"
        f"<td>{row['n']}</td><td>{_fmt(row['shape_share'])} [{_fmt(row['shape_share_low'])}, "
        f"{_fmt(row['shape_share_high'])}]</td><td>{_fmt(row['texture_share'])} [{_fmt(row['texture_share_low'])}, "
        f"{_fmt(row['texture_share_high'])}]</td><td>{row['other_predictions']}</td><td>{_fmt(accuracy)}</td>"
        f"<td>{row['excluded']}</td></tr>")
  parts += [f"<tr><td>{e(d['model_a'])} - {e(d['model_b'])}</td><td colspan=2>paired</td><td>"
            f"{_fmt(d['shape_bias_difference']['difference'])} [{_fmt(d['shape_bias_difference'].get('boot_low'))}, "
            f"{_fmt(d['shape_bias_difference'].get('boot_high'))}]</td><td colspan=6>difference of shape bias, same "
            "resampled instances (no interval when the models were scored on different instances)</td></tr>"
            for d in differences]
  parts.append("</table><div class=plots>")
  for file_name, caption in ((f"{config}__shape_bias.png", "shape bias per model (bootstrap 95%)"),
                             (f"{config}__shape_bias_per_class.png", "fraction of shape decisions per shape class "
                              "(Geirhos et al. 2019 style); vertical lines: each model's overall shape bias")):
    parts.append(f'<figure><img src="plots/{e(file_name)}" alt="{e(caption)}"><figcaption>{e(caption)}'
                 "</figcaption></figure>")
  parts.append("</div></section>")
  return "\n".join(parts)


def _config_plots(out, config, factors, tables, class_tables, scored, dataset_config=None) -> list[tuple[str, str]]:
  """(relative path, caption) of each plot of one config (or slice `config` of `dataset_config`)."""
  folder, images = os.path.join(out, "plots"), []
  dataset_config = dataset_config or config
  if len(factors) == 2:
    if tuple(factors) in plots.CATEGORY_GRIDS:  # a few categories per axis: cells labelled with their intervals
      draw, where = plots.direction_heatmap, "[object-instance bootstrap 95%] in each cell (grey = no example)"
    else:
      draw, where = plots.location_heatmap, "(top-left = (0, 0); grey = no example)"
    for name, table in tables.items():
      average = aggregate.subset_average(table)
      file_name = f"{config}__{slug(name)}__heatmap.png"
      draw(table, os.path.join(folder, file_name), f"{name}: {config} top-1 accuracy\nmean {average.value:.3f} "
           f"[{average.low:.3f}, {average.high:.3f}] (bootstrap 95%)")
      images.append((f"plots/{file_name}", f"{name}: accuracy per {factors[0]}, {factors[1]} cell {where}"))
  elif len(factors) == 1:
    plots.curve(tables, os.path.join(folder, f"{config}__accuracy.png"), f"{config}: top-1 accuracy")
    images.append((f"plots/{config}__accuracy.png", f"top-1 accuracy vs {plots.LABELS.get(factors[0], factors[0])}"))
    plots.curve(tables, os.path.join(folder, f"{config}__top5.png"), f"{config}: top-5 accuracy", top5=True)
    images.append((f"plots/{config}__top5.png", "top-5 accuracy"))
    if factors[0] == "rotation":
      plots.curve(tables, os.path.join(folder, f"{config}__normalised.png"), f"{config}: normalised by maximum",
                  normalise=True)
      images.append((f"plots/{config}__normalised.png", "accuracy / its maximum (each resample normalised by its "
                     "own maximum)"))
  names = next((r.info[dataset_config].get("class_names") for r in scored if r.info[dataset_config].get("class_names")),
               None)
  plots.per_class(class_tables, names, os.path.join(folder, f"{config}__per_class.png"), f"{config}: per class")
  images.append((f"plots/{config}__per_class.png", "per-class top-1 accuracy"))
  return images


def _comparison(out, config, diff: aggregate.PairedDifference) -> dict:
  stem = f"{config}__{slug(diff.model_a)}_minus_{slug(diff.model_b)}"
  rows = []
  for g in range(len(diff.n)):
    row = {f: float(diff.keys[g, i]) for i, f in enumerate(diff.factors)}
    row.update(key=aggregate.metric_key(config, diff.factors, diff.keys[g]), n=int(diff.n[g]),
               difference=float(diff.difference[g]), boot_low=float(diff.boot_low[g]),
               boot_high=float(diff.boot_high[g]))
    rows.append(row)
  _write_csv(os.path.join(out, "tables", f"compare__{stem}.csv"), rows)
  if tuple(diff.factors) in plots.CATEGORY_GRIDS:
    plots.direction_difference_heatmap(diff, os.path.join(out, "plots", f"compare__{stem}.png"))
  elif len(diff.factors) == 2:
    plots.difference_heatmap(diff, os.path.join(out, "plots", f"compare__{stem}.png"))
  else:
    plots.difference_curve(diff, os.path.join(out, "plots", f"compare__{stem}.png"))
  sure = int(np.sum((diff.boot_low > 0) | (diff.boot_high < 0)))
  return dict(image=f"plots/compare__{stem}.png", rows=rows, excluding_zero=sure,
              summary=dict(config=config, model_a=diff.model_a, model_b=diff.model_b,
                           average_difference=diff.average.as_dict(), factor_values=len(rows),
                           values_excluding_zero=sure, values=rows))


def _contrast_differences(contrasts_a, contrasts_b, columns_a, columns_b) -> list[dict]:
  """Model A's contrast minus model B's, paired resample by resample. Valid only when both tables were resampled
  over the same object instances with the same seed (then resample b draws the same instances for both); otherwise
  the interval is left out."""
  same = np.array_equal(np.unique(columns_a["object_instance"]), np.unique(columns_b["object_instance"]))
  out = []
  for a, b in zip(contrasts_a, contrasts_b):
    row = dict(name=a.name, difference=a.estimate.value - b.estimate.value)
    if same:
      row["boot_low"], row["boot_high"] = (float(v) for v in stats.percentile_interval(a.samples - b.samples))
    out.append(row)
  return out


def _fmt(value, digits=3):
  return "-" if value is None or not np.isfinite(value) else f"{value:.{digits}f}"


def _section(config, factors, tables, scored, images, comparisons, galleries, visibility, contrasts, *,
             dataset_config=None, note="", predictions=None) -> str:
  """The HTML section of one config, or of slice `config` of `dataset_config` described by `note` (`predictions`
  {model: the slice's columns})."""
  dataset_config = dataset_config or config
  predictions = predictions or {r.name: r.predictions[config] for r in scored}
  e = html.escape
  parts = [f'<section id="{e(config)}"><h2>{e(config)}</h2>', *([f"<p>Slice: {e(note)}.</p>"] if note else []),
           f"<p>Factors: {e(', '.join(factors))}. Average = unweighted mean of the accuracy over "
           f"{len(next(iter(tables.values())).n)} factor values (robustness_metrics' <code>{e(config)}_average"
           "</code>); [interval] = object-instance cluster bootstrap 95%.</p>",
           "<table><tr><th>model</th><th>examples</th><th>instances</th><th>preprocessing</th><th>average top-1</th>"
           "<th>average top-5</th><th>worst value</th><th>best value</th></tr>"]
  for result in scored:
    table, info = tables[result.name], result.info[dataset_config]
    average, top5 = aggregate.subset_average(table), aggregate.subset_average(table, top5=True)
    worst, best = int(np.argmin(table.accuracy)), int(np.argmax(table.accuracy))
    key = lambda g: aggregate.metric_key(config, factors, table.keys[g])  # noqa: E731
    parts.append(
        f"<tr><td>{e(result.name)}</td><td>{int(table.n.sum())}</td><td>"
        f"{len(np.unique(predictions[result.name]['object_instance']))}</td>"
        f"<td>{e(info.get('preprocessing', '?'))}, {info.get('input_size', '?')} px, {e(info.get('label_space', ''))}"
        f" vs {e(str(info.get('target', '')))}</td><td>{_fmt(average.value)} [{_fmt(average.low)}, "
        f"{_fmt(average.high)}]</td><td>{_fmt(top5.value)} [{_fmt(top5.low)}, {_fmt(top5.high)}]</td>"
        f"<td>{e(key(worst))}: {_fmt(table.accuracy[worst])} [{_fmt(table.boot_low[worst])}, "
        f"{_fmt(table.boot_high[worst])}] ({table.correct[worst]}/{table.n[worst]})</td>"
        f"<td>{e(key(best))}: {_fmt(table.accuracy[best])} ({table.correct[best]}/{table.n[best]})</td></tr>")
  parts.append("</table>")
  if any(contrasts.values()):
    parts.append("<h3>Trends</h3><table><tr><th>model</th><th>contrast</th><th>difference of mean accuracy "
                 "[bootstrap 95%]</th><th>what is compared</th></tr>")
    for name, items in contrasts.items():
      parts += [f"<tr><td>{e(name)}</td><td>{e(c.name)}</td><td>{_fmt(c.estimate.value)} [{_fmt(c.estimate.low)}, "
                f"{_fmt(c.estimate.high)}]</td><td>{e(c.description)}</td></tr>" for c in items]
    for comparison in comparisons:
      s = comparison["summary"]
      parts += [f"<tr><td>{e(s['model_a'])} - {e(s['model_b'])}</td><td>{e(d['name'])} (paired)</td><td>"
                f"{_fmt(d['difference'])} [{_fmt(d.get('boot_low'))}, {_fmt(d.get('boot_high'))}]</td>"
                "<td>difference of the two models' contrasts, same resampled instances</td></tr>"
                for d in s.get("contrast_differences", [])]
    parts.append("</table>")
  parts.append("<div class=plots>")
  parts += [f'<figure><img src="{e(src)}" alt="{e(caption)}"><figcaption>{e(caption)}</figcaption></figure>'
            for src, caption in images]
  for comparison in comparisons:
    s = comparison["summary"]
    caption = (f"{s['model_a']} - {s['model_b']}: mean difference {_fmt(s['average_difference']['value'])} "
               f"[{_fmt(s['average_difference']['boot_low'])}, {_fmt(s['average_difference']['boot_high'])}]; "
               f"{s['values_excluding_zero']} of {s['factor_values']} factor values have a paired interval "
               "excluding 0")
    parts.append(f'<figure><img src="{e(comparison["image"])}" alt="{e(caption)}"><figcaption>{e(caption)}'
                 "</figcaption></figure>")
  parts.append("</div>")
  for result in scored:
    rows = visibility.get(result.name) or []
    if rows:
      parts.append(f"<h3>{e(result.name)}: visibility threshold (keep pct_inside_image &ge; t)</h3><table><tr>"
                   "<th>t</th><th>examples</th><th>factor values</th><th>average [95%]</th></tr>")
      parts += [f"<tr><td>{r['threshold']:.2f}</td><td>{r['n']}</td><td>{r['factor_values']}</td><td>"
                f"{_fmt(r['average'])} [{_fmt(r['boot_low'])}, {_fmt(r['boot_high'])}]</td></tr>" for r in rows]
      parts.append("</table>")
  for result in scored:
    table = tables[result.name]
    parts.append(f"<details><summary>{e(result.name)}: every factor value</summary><table><tr><th>key</th>"
                 "<th>n</th><th>correct</th><th>accuracy</th><th>bootstrap 95%</th><th>Wilson 95%</th>"
                 "<th>top-5</th><th>instances</th></tr>")
    for row in table.rows(config):
      parts.append(f"<tr><td>{e(row['key'])}</td><td>{row['n']}</td><td>{row['correct']}</td><td>"
                   f"{_fmt(row['accuracy'])}</td><td>[{_fmt(row['boot_low'])}, {_fmt(row['boot_high'])}]</td><td>"
                   f"[{_fmt(row['ci_low'])}, {_fmt(row['ci_high'])}]</td><td>{_fmt(row['top5_accuracy'])}</td>"
                   f"<td>{row['instances']}</td></tr>")
    parts.append("</table></details>")
    cells = galleries.get(result.name) or []
    parts.append(f"<h3>{e(result.name)}: misclassified examples, worst cells first</h3>")
    if not cells:
      parts.append("<p>No misclassified example.</p>")
    for cell in cells:
      parts.append(f"<div class=cell><h4>{e(cell['key'])}: {cell['correct']}/{cell['n']} correct</h4>")
      parts += [f'<figure class=thumb><img src="{e(i["src"])}" alt="{e(i["label"])}"><figcaption>'
                f"{e(i['label'])} &rarr; {e(i['prediction'])} ({i['confidence']:.2f})<br>{e(i['instance'])}"
                "</figcaption></figure>" for i in cell["items"]]
      parts.append("</div>")
  parts.append("</section>")
  return "\n".join(parts)


STYLE = """body{font-family:sans-serif;margin:1.5em;max-width:1300px}table{border-collapse:collapse;margin:.5em 0}
td,th{border:1px solid #ccc;padding:2px 6px;font-size:13px;text-align:left}figure{display:inline-block;margin:6px;
vertical-align:top}figure img{max-width:600px}figcaption{font-size:12px;max-width:600px}.thumb img{width:96px}
.thumb figcaption{max-width:110px;font-size:11px;overflow-wrap:anywhere}.cell{border-top:1px solid #eee}"""


def _page(summary, sections) -> str:
  boot = summary["bootstrap"]
  head = (f"<p>Intervals: cluster bootstrap over object instances ({boot['resamples']} resamples, seed "
          f"{boot['seed']}, percentile 95%), the interval to read; Wilson 95% intervals (images as independent, "
          "narrower) are in the tables and CSVs. Where every image of a cell is right (or wrong) every resample agrees "
          "and the bootstrap interval collapses to a point: read the Wilson interval there. Data: <a href=\"summary.json\">summary.json</a>, tables/*.csv.</p>")
  nav = " &middot; ".join(f'<a href="#{m}">{m}</a>' for m in re.findall(r'<section id="([^"]+)"', "".join(sections)))
  return (f"<!DOCTYPE html><html lang=en><head><meta charset=utf-8><title>SI-Score robustness report</title>"
          f"<style>{STYLE}</style></head><body><h1>SI-Score robustness report</h1>"
          f"<p>Models: {html.escape(', '.join(summary['models']))}. Configs: {nav}</p>{head}"
          + "\n".join(sections) + "</body></html>\n")


def load_columns(table) -> dict:
  """A predictions pyarrow.Table -> dict of numpy columns (object_instance as str)."""
  columns = aggregate.as_columns(table)
  columns["object_instance"] = columns["object_instance"].astype(str)
  return columns

