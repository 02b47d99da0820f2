"""Robustness analyzer: accuracy per SI-Score factor value, with intervals a reader can trust.

models (what to evaluate, label spaces) -> evaluate (predictions per example, Parquet) -> aggregate + stats (per
factor value: Wilson and object-instance cluster-bootstrap intervals, averages, heatmaps, paired differences; sweeps
of configs that are not one grid) + cue_conflict (shape bias on cue-conflict images) -> plots + report
(summary.json, CSVs, PNGs, index.html). `study.run_study` runs them all (`kubricgen analyze`).
"""
