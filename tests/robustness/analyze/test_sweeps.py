"""The 3-D configs without a model: predictions tables made by hand (as test_aggregate does) for lighting (two
one-factor-at-a-time sweeps sharing a nominal condition), occlusion (one curve per occluder kind, level 0 shared),
clutter and cue_conflict, then the report written from them."""
import json

import numpy as np
import pytest

from kubricgen_robustness.analyze import aggregate, report
from tests.robustness.analyze.test_cue_conflict import HAND

INSTANCES = 6
AZIMUTHS, ELEVATIONS = (-90.0, 0.0, 90.0, 180.0), (15.0, 45.0)
IRRADIANCES = (1.0, 3.1623, 10.0, 31.623, 100.0)


def _columns(rows: list[dict]) -> dict:
  """Rows with `correct` and the factors -> predictions columns (labels, instances, outcomes filled in)."""
  columns = {k: np.asarray([r[k] for r in rows]) for k in rows[0]}
  n = len(rows)
  instance = np.array([r.get("instance", 0) for r in rows])
  label = instance % 3
  columns.update(index=np.arange(n), object_instance=np.array([f"obj{i}" for i in instance]), label=label,
                 prediction=np.where(columns["correct"], label, (label + 1) % 3), top5_correct=columns["correct"],
                 confidence=np.full(n, 0.9, np.float32), pct_inside_image=np.ones(n, np.float32),
                 x=np.full(n, 0.5, np.float32), y=np.full(n, 0.5, np.float32))
  columns.pop("instance", None)
  return columns


def lighting(nominal_irradiance=10.0, nominal_direction=(0.0, 45.0), flip=False) -> dict:
  """Direction sweep all right, irradiance sweep wrong away from the nominal level (`flip`: the other way round
  for instances 0-2, a second model)."""
  rows = []
  for i in range(INSTANCES):
    for azimuth in AZIMUTHS:
      for elevation in ELEVATIONS:
        rows.append(dict(light_azimuth=azimuth, light_elevation=elevation, light_irradiance=nominal_irradiance,
                         correct=not (flip and i < 3 and azimuth == 180.0), instance=i))
    for irradiance in IRRADIANCES:
      if irradiance != nominal_irradiance:
        rows.append(dict(light_azimuth=nominal_direction[0], light_elevation=nominal_direction[1],
                         light_irradiance=irradiance, correct=flip and i < 3, instance=i))
  columns = _columns(rows)
  for name in ("light_azimuth", "light_elevation", "light_irradiance"):
    columns[name] = columns[name].astype(np.float32)
  return columns


BAR = {0.3: 6, 0.6: 4, 0.9: 2}  # instances (of 6) right per level
OBJECT = {0.3: 3, 0.6: 1, 0.9: 0}


def occlusion(shift=0) -> dict:
  rows = []
  for i in range(INSTANCES):
    rows.append(dict(occlusion=0.0, occluder="none", correct=i < 5 - shift, instance=i))
    for kind, right in (("bar", BAR), ("object", OBJECT)):
      for level, k in right.items():
        rows.append(dict(occlusion=level, occluder=kind, correct=i < k - shift, instance=i))
  columns = _columns(rows)
  columns["occlusion"] = columns["occlusion"].astype(np.float32)
  columns["occluded_fraction"] = (columns["occlusion"] + np.linspace(-0.02, 0.02, len(rows))).clip(0, 1)
  return columns


def clutter(shift=0) -> dict:
  rows = [dict(num_distractors=d, correct=i < INSTANCES - d // 2 - shift, instance=i) for i in range(INSTANCES)
          for d in range(9)]
  columns = _columns(rows)
  columns["visible_fraction"] = np.linspace(0.3, 1.0, len(rows)).astype(np.float32)
  return columns


def cue(flip=False) -> dict:
  shape, texture, prediction = (np.array(v, np.int64) for v in zip(*HAND))
  if flip:  # a texture-biased model: predicts the texture class wherever it predicted the shape class
    prediction = np.where(prediction == shape, texture, prediction)
  n = len(shape)
  return dict(index=np.arange(n), label=shape, shape_label=shape, texture_label=texture, prediction=prediction,
              correct=prediction == shape, top5_correct=prediction == shape, confidence=np.full(n, 0.8, np.float32),
              object_instance=np.array([f"obj{i % 4}" for i in range(n)]), x=np.full(n, 0.5, np.float32))


def test_lighting_sweeps_are_split_and_each_gets_its_own_accuracy():
  columns = lighting()
  direction, irradiance = aggregate.sweeps_for("lighting", columns)
  assert (direction.name, direction.factors) == ("direction", ("light_azimuth", "light_elevation"))
  assert (irradiance.name, irradiance.factors) == ("irradiance", ("light_irradiance",))
  by_direction = aggregate.factor_table(direction.select(columns), direction.factors, resamples=50)
  by_irradiance = aggregate.factor_table(irradiance.select(columns), irradiance.factors, resamples=50)
  assert len(by_direction.n) == 8 and np.all(by_direction.accuracy == 1.0) and np.all(by_direction.n == INSTANCES)
  np.testing.assert_allclose(by_irradiance.keys[:, 0], IRRADIANCES, rtol=1e-6)
  np.testing.assert_allclose(by_irradiance.accuracy, [0, 0, 1, 0, 0])
  # the nominal condition's examples are in both sweeps
  assert by_irradiance.n[2] == by_direction.n[3] == INSTANCES
  # grouped over the whole config, the nominal direction would mix both sweeps
  whole = aggregate.factor_table(columns, direction.factors, resamples=50)
  assert whole.accuracy[list(map(tuple, whole.keys)).index((0.0, 45.0))] == pytest.approx(1 / 5)


@pytest.mark.parametrize("nominal_irradiance,nominal_direction", [(31.623, (90.0, 15.0)), (1.0, (-90.0, 45.0))])
def test_nominal_condition_is_found_in_the_data(nominal_irradiance, nominal_direction):
  columns = lighting(nominal_irradiance, nominal_direction)
  direction, irradiance = aggregate.sweeps_for("lighting", columns)
  assert direction.where == (("light_irradiance", (pytest.approx(nominal_irradiance, rel=1e-6),)),)
  assert irradiance.where == (("light_azimuth", (nominal_direction[0],)), ("light_elevation", (nominal_direction[1],)))
  assert direction.mask(columns).sum() == 8 * INSTANCES
  assert irradiance.mask(columns).sum() == len(IRRADIANCES) * INSTANCES


def test_occlusion_curves_per_occluder_share_level_zero():
  columns = occlusion()
  sweeps = aggregate.sweeps_for("occlusion", columns)
  assert [s.name for s in sweeps] == ["bar", "object"] and all(s.factors == ("occlusion",) for s in sweeps)
  bar, obj = (aggregate.factor_table(s.select(columns), s.factors, resamples=50) for s in sweeps)
  np.testing.assert_allclose(bar.keys[:, 0], [0, 0.3, 0.6, 0.9], atol=1e-6)
  np.testing.assert_allclose(bar.accuracy, [5 / 6, 1, 4 / 6, 2 / 6])
  np.testing.assert_allclose(obj.accuracy, [5 / 6, 3 / 6, 1 / 6, 0])
  # level 0 (occluder "none") is the same examples in both curves
  assert bar.n[0] == obj.n[0] == INSTANCES and bar.boot_low[0] == obj.boot_low[0]
  assert np.all(bar.n[1:] == INSTANCES) and np.all(obj.n[1:] == INSTANCES)


def test_measurements_and_cue_classes_are_never_factors():
  assert aggregate.factors_for("clutter", clutter()) == ("num_distractors",)
  assert aggregate.factors_for("some_new_config", clutter()) == ("num_distractors",)  # not visible_fraction
  assert "occluded_fraction" not in aggregate.factors_for("some_new_config", occlusion())
  assert aggregate.factors_for("cue_conflict", cue()) == () and aggregate.sweeps_for("cue_conflict", cue()) == []
  generic = aggregate.factors_for("some_new_config", cue())
  assert "shape_label" not in generic and "texture_label" not in generic


def test_lighting_contrast_is_front_lit_minus_back_lit():
  columns = lighting(flip=True)
  direction = aggregate.sweeps_for("lighting", columns)[0]
  table = aggregate.factor_table(direction.select(columns), direction.factors, resamples=100)
  (contrast,) = aggregate.trend_contrasts(table)
  assert contrast.name == "front-lit - back-lit"
  assert contrast.estimate.value == pytest.approx(1 - 0.5)  # azimuth 0 all right, 180 right for 3 of 6


class _Images:
  """Stands in for an ImageSource in the report (class names and grey thumbnails)."""
  class_names = ["cat", "dog", "car", "teapot", "boat", "cup"]

  def __getitem__(self, i):
    return dict(image=np.full((8, 8, 3), 128, np.uint8))


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory):
  out = tmp_path_factory.mktemp("report3d")
  tables = {"a": dict(lighting=lighting(), occlusion=occlusion(), clutter=clutter(), cue_conflict=cue()),
            "b": dict(lighting=lighting(flip=True), occlusion=occlusion(1), clutter=clutter(1),
                      cue_conflict=cue(flip=True))}
  results = [report.ModelResult(name=name, predictions=by_config,
                                info={c: dict(preprocessing="resize", class_names=_Images.class_names[:3])
                                      for c in by_config}) for name, by_config in tables.items()]
  report.write_report(str(out), results, {c: _Images() for c in tables["a"]}, resamples=200, seed=0)
  return out


def test_report_writes_the_new_figures(report_dir):
  for name in ("lighting_direction__a__heatmap.png", "lighting_direction__b__heatmap.png",
               "lighting_irradiance__accuracy.png", "compare__lighting_direction__a_minus_b.png",
               "compare__lighting_irradiance__a_minus_b.png", "occlusion__by_occlusion_kind.png",
               "occlusion_bar__accuracy.png", "occlusion_object__accuracy.png", "clutter__accuracy.png",
               "compare__clutter__a_minus_b.png", "cue_conflict__shape_bias.png",
               "cue_conflict__shape_bias_per_class.png"):
    path = report_dir / "plots" / name
    assert path.exists() and path.stat().st_size > 5000, name
    assert f'src="plots/{name}"' in (report_dir / "index.html").read_text()
  page = (report_dir / "index.html").read_text()
  for section in ("lighting", "lighting_direction", "lighting_irradiance", "occlusion", "occlusion_bar",
                  "occlusion_object", "clutter", "cue_conflict"):
    assert f'<section id="{section}">' in page


def test_report_summary_has_sweeps_and_shape_bias(report_dir):
  summary = json.loads((report_dir / "summary.json").read_text())
  a, b = summary["models"]["a"], summary["models"]["b"]
  assert a["metrics"]["lighting_direction_average"] == 1.0
  assert a["metrics"]["lighting_irradiance_average"] == pytest.approx(1 / 5)
  assert a["metrics"]["lighting_irradiance(10)"] == 1.0 and a["metrics"]["lighting_irradiance(100)"] == 0.0
  assert a["metrics"]["occlusion_object(0.3)"] == pytest.approx(0.5)
  assert a["metrics"]["occlusion_bar(0)"] == a["metrics"]["occlusion_object(0)"] == pytest.approx(5 / 6)
  assert a["metrics"]["clutter(8)"] == pytest.approx(2 / 6)
  irradiance = a["configs"]["lighting_irradiance"]
  assert (irradiance["dataset_config"], irradiance["sweep"], irradiance["factors"]) == (
      "lighting", "irradiance", ["light_irradiance"])
  assert "sweep" not in a["configs"]["clutter"]
  bias = a["configs"]["cue_conflict"]["shape_bias"]
  assert a["metrics"]["cue_conflict_shape_bias"] == bias["shape_bias"] == pytest.approx(0.6)
  assert bias["n"] == 10 and bias["boot_low"] <= 0.6 <= bias["boot_high"] and "Geirhos" in bias["definition"]
  assert b["metrics"]["cue_conflict_shape_bias"] == 0.0  # every shape decision turned into a texture decision
  assert {row["class_name"] for row in a["configs"]["cue_conflict"]["per_class"]} == {"cat", "dog", "car", "teapot"}
  pair = next(c for c in summary["comparisons"] if c["config"] == "cue_conflict")
  assert pair["shape_bias_difference"]["difference"] == pytest.approx(0.6)
  assert pair["shape_bias_difference"]["boot_low"] <= 0.6 <= pair["shape_bias_difference"]["boot_high"]
  sweeps = {(c["config"], c.get("sweep")) for c in summary["comparisons"]}
  assert {("lighting_direction", "direction"), ("occlusion_bar", "bar"), ("clutter", None)} <= sweeps
