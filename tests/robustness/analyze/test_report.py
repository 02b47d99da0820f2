"""End to end on a tiny TFDS dataset through the CLI: predictions files, summary.json, the heatmap's orientation in
the rendered PNG, the HTML report in real headless Chromium, and one-line errors for bad input."""
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pyarrow.parquet as pq
import pytest

from kubricgen.cli.main import main
from kubricgen_robustness.analyze import aggregate, plots
from tests.robustness.analyze import tiny_dataset

pytestmark = pytest.mark.slow  # more than a few seconds: outside the fast subset (pytest -m 'not slow')

ENTRY = "tests.robustness.analyze.tiny_dataset"


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
  path = tmp_path_factory.mktemp("tfds")
  tiny_dataset.build(path)
  return str(path)


def _analyze(data_dir, out, *extra):
  return main(["analyze", "--model", f"{ENTRY}:colour_model", "--dataset", "tiny_si_score", "--data_dir", data_dir,
               "--out", str(out), "--resamples", "200", "--num_workers", "0", "--no_progress", *extra])


@pytest.fixture(scope="module")
def report_dir(data_dir, tmp_path_factory):
  out = tmp_path_factory.mktemp("report")
  code = _analyze(data_dir, out, "--model", f"{ENTRY}:colour_model_reordered", "--name", "colour", "--name",
                  "reordered", "--num_workers", "2")
  assert code == 0
  return out


def test_predictions_file_has_outcomes_and_every_factor(report_dir):
  table = pq.read_table(report_dir / "predictions" / "colour" / "location.parquet")
  for column in ("config", "image_id", "object_instance", "label", "prediction", "correct", "confidence",
                 "top5_correct", "x", "y", "area", "rotation", "pct_inside_image", "visibility_threshold",
                 "background", "azimuth"):
    assert column in table.column_names, column
  columns = table.to_pydict()
  assert len(columns["x"]) == 9 * len(tiny_dataset.INSTANCES)
  for x, y, correct, label, prediction in zip(columns["x"], columns["y"], columns["correct"], columns["label"],
                                              columns["prediction"]):
    assert correct == (label == prediction)
    if (x, y) == (0.5, 0.5):
      assert correct  # the centre cell: the colour model sees the object
    else:
      assert prediction == 0  # nothing in the central half: the model's default class
  other = pq.read_table(report_dir / "predictions" / "reordered" / "location.parquet").to_pydict()
  # the reordered model's outputs were mapped back to the dataset's class order by name
  centre = [i for i, (x, y) in enumerate(zip(other["x"], other["y"])) if (x, y) == (0.5, 0.5)]
  assert all(other["correct"][i] for i in centre)
  assert {other["prediction"][i] for i in range(len(other["x"])) if i not in centre} == {2}


def test_summary_has_robustness_metrics_keys_and_counts(report_dir):
  summary = json.loads((report_dir / "summary.json").read_text())
  metrics = summary["models"]["colour"]["metrics"]
  assert metrics["location(0.50,0.50)"] == 1.0
  assert metrics["location(0.00,0.00)"] == pytest.approx(1 / 3)  # red objects only (the default class)
  assert metrics["location_average"] == pytest.approx((1 + 8 / 3) / 9)
  assert {"size(0.01)", "size(0.60)", "size_average", "rotation(1)", "rotation(341)", "rotation_average"} <= set(
      metrics)
  location = summary["models"]["colour"]["configs"]["location"]
  assert location["n"] == 54 and location["correct"] == 6 + 8 * 2
  row = next(r for r in location["values"] if r["key"] == "location(0.00,1.00)")
  assert (row["n"], row["correct"], row["instances"]) == (6, 2, 6)
  assert row["boot_low"] <= row["accuracy"] <= row["boot_high"] and row["ci_low"] < row["accuracy"]
  assert location["evaluation"]["preprocessing"] == "resize" and summary["bootstrap"]["resamples"] == 200
  assert summary["comparisons"][0]["model_a"] == "colour"


def test_heatmap_png_puts_cell_xy_where_the_paper_does(tmp_path):
  """Only cell (x=0.25, y=0) is right: in the PNG it must be in the top row, second column."""
  xs = np.array([0.0, 0.25, 0.5, 0.75])
  ys = np.array([0.0, 0.5, 1.0])
  rows = [dict(x=x, y=y, correct=(x, y) == (0.25, 0.0), top5_correct=False, object_instance="a") for y in ys
          for x in xs]
  columns = {k: np.array([r[k] for r in rows]) for k in rows[0]}
  table = aggregate.factor_table(columns, ("x", "y"), resamples=100)
  plt = plots._pyplot()
  figure, axes = plt.subplots(figsize=(4, 3))
  plots.heatmap_axes(axes, aggregate.heatmap(table)[0], xs, ys)
  figure.canvas.draw()
  pixels = np.asarray(figure.canvas.buffer_rgba())[..., :3].astype(int)
  bright = np.array(plt.get_cmap("viridis")(1.0)[:3]) * 255
  dark = np.array(plt.get_cmap("viridis")(0.0)[:3]) * 255
  height = pixels.shape[0]
  for x in xs:
    for y in ys:
      px, py = axes.transData.transform((x, y))
      colour = pixels[int(round(height - py)), int(round(px))]
      expected = bright if (x, y) == (0.25, 0.0) else dark
      assert np.abs(colour - expected).max() < 8, (x, y, colour)
  top_left = axes.transData.transform((0.0, 0.0))
  assert top_left[1] > axes.transData.transform((0.0, 1.0))[1]  # y = 0 is drawn above y = 1
  plt.close(figure)


def test_html_report_in_headless_chromium(report_dir):
  chromium = shutil.which("chromium")
  if chromium is None:
    pytest.skip("Debian's chromium package is not installed (CI installs it)")
  from playwright.sync_api import sync_playwright
  errors, failed = [], []
  with sync_playwright() as playwright:
    browser = playwright.chromium.launch(executable_path=chromium, args=["--headless", "--no-sandbox",
                                                                         "--disable-gpu"])
    page = browser.new_page(viewport=dict(width=1300, height=900))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("requestfailed", lambda request: failed.append(request.url))
    page.goto((report_dir / "index.html").as_uri())
    page.wait_for_load_state("load")
    images = page.eval_on_selector_all("img", "els => els.map(e => [e.getAttribute('src'), e.complete, "
                                       "e.naturalWidth])")
    if os.environ.get("KUBRICGEN_SCREENSHOT"):
      page.screenshot(path=os.environ["KUBRICGEN_SCREENSHOT"], full_page=True)
    browser.close()
  assert not errors and not failed, (errors, failed)
  sources = [src for src, _, _ in images]
  assert any(s.startswith("plots/location__colour__heatmap") for s in sources)
  assert any(s.startswith("gallery/colour/location/") for s in sources)
  assert any(s.startswith("plots/compare__location__colour_minus_reordered") for s in sources)
  broken = [src for src, complete, width in images if not complete or width == 0]
  assert not broken and len(images) > 20


def _cli(*args):
  env = dict(os.environ, PYTHONPATH=os.getcwd())
  return subprocess.run([sys.executable, "-m", "kubricgen.cli.main", "analyze", *args], capture_output=True,
                        text=True, env=env, timeout=120, check=False)


@pytest.mark.parametrize("case", ["missing_dataset", "class_mismatch", "empty_config", "empty_split",
                                  "unknown_model"])
def test_bad_input_is_one_line_and_non_zero(case, data_dir, tmp_path):
  base = ["--dataset", "tiny_si_score", "--data_dir", data_dir, "--out", str(tmp_path / "r"), "--no_progress",
          "--num_workers", "0"]
  args = {
      "missing_dataset": ["--model", f"{ENTRY}:colour_model", "--dataset", "tiny_si_score", "--data_dir",
                          str(tmp_path / "nothing"), "--out", str(tmp_path / "r")],
      "class_mismatch": ["--model", f"{ENTRY}:wrong_classes_model", *base],
      "empty_config": ["--model", f"{ENTRY}:colour_model", *base, "--configs", ","],
      "empty_split": ["--model", f"{ENTRY}:colour_model", *base, "--split", "test[:0]"],
      "unknown_model": ["--model", "no_such_module_xyz:model", *base],
  }[case]
  result = _cli(*args)
  lines = result.stderr.strip().splitlines()
  assert result.returncode == 1, result.stderr
  assert lines and lines[-1].startswith("kubricgen: error: analyze: "), result.stderr
  assert "Traceback" not in result.stderr
  expected = {"missing_dataset": "not", "class_mismatch": "purple_thing", "empty_config": "no dataset config",
              "empty_split": "no examples", "unknown_model": "no_such_module_xyz"}[case]
  assert expected in lines[-1]
  assert not (tmp_path / "r" / "index.html").exists()


def test_imagenet_model_scored_against_imagenet_label(data_dir, tmp_path):
  """An ImageNet-1k model is scored over 1000 classes against imagenet_label; examples without one (-1) are left
  out; --restrict_to_dataset_classes argmaxes over the dataset's ImageNet classes only."""
  for restrict in (False, True):
    out = tmp_path / f"r{restrict}"
    code = main(["analyze", "--model", f"{ENTRY}:imagenet_model", "--name", "inet", "--dataset", "tiny_si_score",
                 "--data_dir", data_dir, "--configs", "location", "--out", str(out), "--resamples", "100",
                 "--num_workers", "0", "--no_progress"] + (["--restrict_to_dataset_classes"] if restrict else []))
    assert code == 0
    columns = pq.read_table(out / "predictions" / "inet" / "location.parquet").to_pydict()
    assert len(columns["label"]) == 9 * 4 and set(columns["label"]) == {948, 954}  # green (-1) left out
    centre = [(x, y) == (0.5, 0.5) for x, y in zip(columns["x"], columns["y"])]
    assert all(c for c, m in zip(columns["correct"], centre) if m)
    assert {p for p, m in zip(columns["prediction"], centre) if not m} == {948}
    assert all(t for t, c in zip(columns["top5_correct"], columns["correct"]) if c)
    # restricted to the dataset's two ImageNet classes, both are always in the top 5; over all 1000 classes the
    # unvoted true class ties with 997 others at 0 and is not
    assert all(columns["top5_correct"]) == restrict
    summary = json.loads((out / "summary.json").read_text())
    assert summary["models"]["inet"]["configs"]["location"]["evaluation"]["target"] == "imagenet_label"
    assert summary["models"]["inet"]["configs"]["location"]["evaluation"]["restrict_to_dataset_classes"] == restrict


def test_limit_takes_evenly_spaced_examples_across_every_object(data_dir, tmp_path):
  """Datasets store records object by object (one shard per job), so `--limit` spreads its examples over the split
  instead of taking the first ones (which would all be one object instance)."""
  code = main(["analyze", "--model", f"{ENTRY}:colour_model", "--name", "colour", "--dataset", "tiny_si_score",
               "--data_dir", data_dir, "--configs", "location", "--out", str(tmp_path / "r"), "--resamples", "100",
               "--num_workers", "0", "--no_progress", "--limit", "12"])
  assert code == 0
  columns = pq.read_table(tmp_path / "r" / "predictions" / "colour" / "location.parquet").to_pydict()
  assert len(columns["label"]) == 12
  from kubricgen_robustness.analyze import evaluate
  chosen = evaluate.spread(np.arange(100, 154), 12)  # 54 records stored as 6 objects x 9
  assert len(chosen) == 12 and chosen[0] == 100 and chosen[-1] == 153 and np.all(np.diff(chosen) >= 4)
  assert len({(int(i) - 100) // 9 for i in chosen}) == 6  # every object, where the first 12 would be 2
  assert list(evaluate.spread(np.arange(5), 12)) == [0, 1, 2, 3, 4]
