"""`run_study`: evaluate several models on several dataset configs and write the report (what `kubricgen analyze`
runs). Every dataset and model is opened before anything is evaluated, so bad input fails in seconds.

    OUT/predictions/MODEL/CONFIG.parquet   one row per example (see `evaluate`)
    OUT/index.html, summary.json, ...      the report (see `report`)
"""
from __future__ import annotations

import dataclasses
import logging
import os

from kubricgen_robustness.analyze import evaluate, models, report
from kubricgen_robustness.analyze.models import AnalyzeError

log = logging.getLogger("kubricgen")
CONFIGS = ("location", "rotation", "size")


@dataclasses.dataclass
class StudyResult:
  """Paths written: `report` (index.html), `summary` (summary.json), `predictions` {(model, config): parquet}."""
  report: str
  summary: str
  predictions: dict


def open_sources(dataset: str, configs, split: str = "test", data_dir: str | None = None) -> dict:
  """{config: ImageSource} of `dataset/config` for each config. Raises AnalyzeError (one line) when one is missing
  or empty, or when no config is given."""
  from kubricgen_robustness.data.source import DataError, open_source  # pylint: disable=import-outside-toplevel
  configs = [c for c in configs if c]
  if not configs:
    raise AnalyzeError("no dataset config given (e.g. --configs location,rotation,size)")
  sources = {}
  for config in configs:
    try:
      source = open_source(f"{dataset}/{config}", split, data_dir)
    except DataError as error:
      raise AnalyzeError(str(error)) from None
    if len(source) == 0:
      raise AnalyzeError(f"{dataset}/{config} split {split!r} has no examples")
    sources[config] = source
  return sources


def run_study(model_specs, *, dataset: str = "si_score", configs=CONFIGS, split: str = "test",
              data_dir: str | None = None, out: str = os.path.join("output", "analysis"), names=None,
              preprocessing: str = "resize", batch_size: int = 64, num_workers: int = 2,
              restrict_to_dataset_classes: bool = False, limit: int | None = None, resamples: int = 2000,
              seed: int = 0, progress: bool | None = True) -> StudyResult:
  """Evaluate `model_specs` (see `models.load_model`) on `dataset/config` for each config and write the report.

  names: display names, one per spec (default: derived from the spec; duplicates get a numeric suffix).
  limit: evaluate `limit` evenly spaced examples of each config only (a quick look; intervals get wide).
  Raises AnalyzeError with a one-line message for bad input.
  """
  if not model_specs:
    raise AnalyzeError("no model given (--model RUN_DIR | timm:NAME[:WEIGHTS] | MODULE:FUNCTION)")
  if names and len(names) != len(model_specs):
    raise AnalyzeError(f"{len(names)} names for {len(model_specs)} models")
  sources = open_sources(dataset, configs, split, data_dir)
  loaded, seen = [], {}
  for i, spec in enumerate(model_specs):
    model = models.load_model(spec, names[i] if names else None)
    if model.name in seen:
      seen[model.name] += 1
      model.name = f"{model.name}-{seen[model.name]}"
    seen.setdefault(model.name, 1)
    loaded.append(model)
  for model in loaded:  # label spaces checked for every pair before the first (slow) evaluation
    for source in sources.values():
      if model.label_space == models.CLASSES:
        evaluate.label_mapping(model, source, {source.label_key: []}, False)
      elif "imagenet_label" not in source.scalar_fields and len(source.class_names) != 1000:
        raise AnalyzeError(f"{source.name} has no imagenet_label and its label is not ImageNet-1k: model "
                           f"{model.name} (ImageNet-1k) cannot be scored on it")
  results, written = [], {}
  for model in loaded:
    result = report.ModelResult(name=model.name, predictions={}, info={})
    for config, source in sources.items():
      table = evaluate.evaluate(model, source, preprocessing=preprocessing, batch_size=batch_size,
                                num_workers=num_workers, restrict_to_dataset_classes=restrict_to_dataset_classes,
                                limit=limit, progress=progress)
      path = evaluate.write_predictions(table, os.path.join(out, "predictions", report.slug(model.name),
                                                                    f"{config}.parquet"))
      written[(model.name, config)] = path
      log.info("%s on %s/%s: %d examples, top-1 %.3f -> %s", model.name, dataset, config, table.num_rows,
               sum(table.column("correct").to_pylist()) / max(1, table.num_rows), path)
      result.predictions[config] = report.load_columns(table)
      result.info[config] = evaluate.table_info(table)
    results.append(result)
  index = report.write_report(out, results, sources, resamples=resamples, seed=seed)
  return StudyResult(report=index, summary=os.path.join(out, "summary.json"), predictions=written)
