"""`kubricgen study` end to end on a tiny dataset named si_score (its four configs prebuilt, so the build stage is
skipped): both CPU configs train for a few steps, the analyzer compares them, and the stage timings are recorded."""
import json
import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT, kubricgen_command

pytestmark = pytest.mark.slow

BUILD = """
import sys
import tensorflow_datasets as tfds
from tests.robustness.analyze import tiny_dataset

with tfds.core.registered.skip_registration():
  class TinyAsSiScore(tiny_dataset.TinySiScore):
    name = "si_score"
    BUILDER_CONFIGS = [tfds.core.BuilderConfig(name=n) for n in (*tiny_dataset.GRIDS, "train")]

    def _split_generators(self, dl_manager):
      if self.builder_config.name == "train":  # every location cell as training images
        return {"train": self._generate_examples("location")}
      return super()._split_generators(dl_manager)

for config in (*tiny_dataset.GRIDS, "train"):
  TinyAsSiScore(config=config, data_dir=sys.argv[1]).download_and_prepare()
"""


def test_study_trains_both_models_and_writes_the_report(tmp_path, train_env):
  data_dir, out = tmp_path / "tfds", tmp_path / "study"
  subprocess.run([sys.executable, "-c", BUILD, str(data_dir)], env=train_env, cwd=ROOT, check=True,
                 capture_output=True, timeout=300)
  assert sorted(p for p in os.listdir(data_dir / "si_score") if not p.startswith(".")) == [
      "location", "rotation", "size", "train"]
  result = subprocess.run(
      kubricgen_command("study", "--data_dir", str(data_dir), "--out", str(out), "--resamples", "100",
                        "--configs", "location,rotation,size",
                        "--train_override", "total_steps=3", "--train_override", "batch_size=16",
                        "--train_override", "input_size=32", "--train_override", "eval.every_steps=3"),
      env=train_env, capture_output=True, text=True, timeout=900, check=False)
  assert result.returncode == 0, result.stderr[-3000:]
  assert f"study report: {out / 'report' / 'index.html'}" in result.stdout
  assert "build si_score" not in result.stderr  # every config was there
  for config in ("vit_ti8_cpu", "resnet18_cpu"):
    resolved = json.loads((out / "train" / config / "config.json").read_text())
    assert (resolved["total_steps"], resolved["input_size"]) == (3, 32)
    assert (out / "train" / config / "best.pt").exists()
  summary = json.loads((out / "report" / "summary.json").read_text())
  assert sorted(summary["models"]) == ["ResNet-18", "ViT-Ti/8"]
  assert {c["config"] for c in summary["comparisons"]} == {"location", "rotation", "size"}
  size = summary["models"]["ResNet-18"]["configs"]["size"]
  assert [c["name"] for c in size["contrasts"]] == ["lowest tenth - rest"]
  assert [d["name"] for d in summary["comparisons"][-1]["contrast_differences"]] == ["lowest tenth - rest"]
  timings = json.loads((out / "timings.json").read_text())
  assert [s["stage"] for s in timings["stages"]] == ["train vit_ti8_cpu", "train resnet18_cpu", "analyze"]
  assert all(s["exit_code"] == 0 and s["seconds"] > 0 for s in timings["stages"])
