"""The trainer with real (tiny) training: loss goes down, kill -9 + resume equals an uninterrupted run bit for bit,
checkpoints load in a fresh process, and bad input gets one line and a non-zero exit with nothing overwritten."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from tests.conftest import kubricgen_command
from tests.robustness.conftest import TINY_CONFIG

pytestmark = pytest.mark.slow


def train_command(workdir, data_dir, *overrides, config=TINY_CONFIG):
  return kubricgen_command("train", "--config", config, "--workdir", str(workdir), "--data_dir", data_dir,
                           "--no_progress", *overrides)


def metrics_lines(workdir):
  with open(os.path.join(workdir, "metrics.jsonl"), encoding="utf-8") as handle:
    return [json.loads(line) for line in handle]


def without_timing(lines):
  return [{k: v for k, v in line.items() if not k.startswith("perf/")} for line in lines]


@pytest.fixture(scope="module")
def uninterrupted(tiny_data_dir, tmp_path_factory, train_env):
  workdir = tmp_path_factory.mktemp("run") / "uninterrupted"
  result = subprocess.run(train_command(workdir, tiny_data_dir), env=train_env, capture_output=True, text=True,
                          timeout=600, check=False)
  assert result.returncode == 0, result.stderr[-2000:]
  assert "run folder:" in result.stdout
  (workdir.parent / "stderr.txt").write_text(result.stderr)
  return workdir


def test_run_folder_holds_config_metrics_checkpoints_and_curves(uninterrupted):
  names = set(os.listdir(uninterrupted))
  assert {"config.json", "preprocessing.json", "metrics.jsonl", "last.pt", "best.pt", "curves.png"} <= names
  assert not [n for n in names if ".tmp" in n]
  preprocessing = json.load(open(os.path.join(uninterrupted, "preprocessing.json")))
  assert preprocessing["class_names"] == ["square", "disk", "triangle", "cross"]
  assert any("RandAugment" in step for step in preprocessing["train"])
  assert any("RandomResizedCrop" in step for step in preprocessing["train"])
  assert json.load(open(os.path.join(uninterrupted, "config.json")))["mixup_p"] == 0.2


def test_loss_goes_down_and_every_step_is_logged_once(uninterrupted):
  lines = metrics_lines(uninterrupted)
  train = [l for l in lines if l["kind"] == "train"]
  assert [l["step"] for l in train] == list(range(2, 25, 2))
  assert [l["step"] for l in lines if l["kind"] == "eval"] == [8, 16, 24]
  first, last = sum(l["train/loss"] for l in train[:2]) / 2, sum(l["train/loss"] for l in train[-2:]) / 2
  assert last < first * 0.9, (first, last)


def test_best_checkpoint_is_the_best_evaluation(uninterrupted):
  from kubricgen_robustness.train import checkpoint
  evals = [l for l in metrics_lines(uninterrupted) if l["kind"] == "eval"]
  best = max(evals, key=lambda l: l["eval/accuracy"])  # first of equals wins, as the trainer keeps the first
  state = checkpoint.load(os.path.join(uninterrupted, "best.pt"))
  assert state["step"] == best["step"]
  assert state["best"]["value"] == best["eval/accuracy"]


def test_kill_9_mid_epoch_then_resume_equals_the_uninterrupted_run(uninterrupted, tiny_data_dir, tmp_path, train_env):
  workdir = tmp_path / "interrupted"
  process = subprocess.Popen(train_command(workdir, tiny_data_dir), env=train_env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, start_new_session=True)
  deadline = time.time() + 300
  metrics = os.path.join(workdir, "metrics.jsonl")
  while time.time() < deadline:  # kill once step 13 is logged: last.pt is then at step 12, mid-epoch (10 steps each)
    if os.path.exists(metrics) and any(json.loads(l)["step"] >= 13 for l in open(metrics) if l.endswith("\n")):
      break
    assert process.poll() is None, process.stderr.read().decode()[-2000:]
    time.sleep(0.05)
  os.killpg(process.pid, signal.SIGKILL)  # the trainer and its loader workers, at once
  process.wait()
  from kubricgen_robustness.train import checkpoint
  killed_at = checkpoint.load(os.path.join(workdir, "last.pt"))["step"]
  assert 12 <= killed_at < 24 and killed_at % 10 != 0
  result = subprocess.run(train_command(workdir, tiny_data_dir), env=train_env, capture_output=True, text=True,
                          timeout=600, check=False)
  assert result.returncode == 0, result.stderr[-2000:]
  assert f"resuming {workdir} from step {killed_at}" in result.stderr
  resumed = checkpoint.load(os.path.join(workdir, "last.pt"))
  reference = checkpoint.load(os.path.join(uninterrupted, "last.pt"))
  assert resumed["step"] == reference["step"] == 24
  for name, tensor in reference["model"].items():
    assert torch.equal(tensor, resumed["model"][name]), name  # bit for bit
  for index, state in reference["optimizer"]["state"].items():
    for key, value in state.items():
      assert torch.equal(value, resumed["optimizer"]["state"][index][key]), (index, key)
  assert resumed["best"] == reference["best"]
  assert without_timing(metrics_lines(workdir)) == without_timing(metrics_lines(uninterrupted))


def test_decoded_image_cache_changes_no_bit(uninterrupted, tiny_data_dir, tmp_path, train_env):
  assert "tiny_shapes: decoded 320 images" in (uninterrupted.parent / "stderr.txt").read_text()  # default: cached
  workdir = tmp_path / "no_cache"
  result = subprocess.run(train_command(workdir, tiny_data_dir, "--config.cache_decoded_mb=0"), env=train_env,
                          capture_output=True, text=True, timeout=600, check=False)
  assert result.returncode == 0, result.stderr[-2000:]
  assert "decoded" not in result.stderr
  uncached, reference = (torch.load(os.path.join(w, "last.pt"), weights_only=True) for w in (workdir, uninterrupted))
  for name, tensor in reference["model"].items():
    assert torch.equal(tensor, uncached["model"][name]), name
  assert without_timing(metrics_lines(workdir)) == without_timing(metrics_lines(uninterrupted))


def test_checkpoint_loads_into_a_fresh_process(uninterrupted, tiny_data_dir, train_env):
  best_accuracy = torch.load(os.path.join(uninterrupted, "best.pt"), weights_only=True)["best"]["value"]
  script = f"""
import numpy as np, torch
from kubricgen_robustness.train.checkpoint import load_trained_model
from kubricgen_robustness.train.trainer import evaluate
from kubricgen_robustness.data import loader, source, transforms
trained = load_trained_model({str(uninterrupted)!r}, "best")
test = source.open_source("tiny_shapes", "test", {tiny_data_dir!r})
data = loader.loader(loader.EvalDataset(test, transforms.eval_transform(trained.input_size, trained.mean,
                                        trained.std)), batch_size=64, num_workers=0)
print(repr(evaluate(trained.model, data, torch.device("cpu"), "fp32", 4)["eval/accuracy"]))
"""
  result = subprocess.run([sys.executable, "-c", script], env=train_env, capture_output=True, text=True, timeout=300,
                          check=False)
  assert result.returncode == 0, result.stderr[-2000:]
  assert float(result.stdout.strip().splitlines()[-1]) == best_accuracy


def test_rerunning_a_finished_run_changes_nothing(uninterrupted, tiny_data_dir, train_env):
  before = open(os.path.join(uninterrupted, "last.pt"), "rb").read()
  result = subprocess.run(train_command(uninterrupted, tiny_data_dir), env=train_env, capture_output=True, text=True,
                          timeout=300, check=False)
  assert result.returncode == 0, result.stderr[-2000:]
  assert open(os.path.join(uninterrupted, "last.pt"), "rb").read() == before
  assert "step 24/24" in result.stdout


def test_tfrecord_only_dataset_trains_through_tfds_load(tiny_tfrecord_data_dir, tmp_path, train_env):
  result = subprocess.run(train_command(tmp_path / "run", tiny_tfrecord_data_dir, "--config.total_steps=4",
                                        "--config.eval.every_steps=4"),
                          env=train_env, capture_output=True, text=True, timeout=300, check=False)
  assert result.returncode == 0, result.stderr[-2000:]
  assert json.load(open(tmp_path / "run" / "preprocessing.json"))["train_file_format"] == "tfrecord"
