"""`kubricgen train` on bad input: one line naming the problem, a non-zero exit, no checkpoint overwritten."""
import os
import pickle

import pytest

from kubricgen.cli.main import main
from tests.robustness.conftest import TINY_CONFIG


def train(capsys, workdir, data_dir, *overrides, config=TINY_CONFIG):
  code = main(["train", "--config", config, "--workdir", str(workdir), "--data_dir", data_dir, "--no_progress",
               *overrides])
  captured = capsys.readouterr()
  errors = [l for l in captured.err.splitlines() if l.startswith("kubricgen") and "error" in l]
  return code, errors


@pytest.mark.parametrize("overrides, code, message", [
    (["--config.model.name=not_a_model"], 1, "unknown model name 'not_a_model'"),
    (["--config.dataset=no_such_dataset"], 1, "dataset 'no_such_dataset' not found"),
    (["--config.train_split=validation"], 1, "has no split 'validation' (it has: train, test)"),
    (["--config.eval.split=validation"], 1, "has no split 'validation'"),
    (["--config.optimizer.lrr=0.1"], 2, "unknown config key 'optimizer.lrr'"),
    (["--config.nothing.lr=0.1"], 2, "unknown config key 'nothing'"),
    (["--config.batch_size=many"], 2, "config key 'batch_size': cannot set 'many'"),
    (["--config.batch_size=0"], 2, "config key 'batch_size' must be > 0"),
    (["--config.label_key=x"], 1, "has no ClassLabel feature 'x'"),
    (["--config.model.pretrained_file=/no/such/weights.safetensors"], 1, "weights not found"),
])
def test_bad_input_is_one_line_and_writes_nothing(capsys, tiny_data_dir, tmp_path, overrides, code, message):
  workdir = tmp_path / "run"
  got, errors = train(capsys, workdir, tiny_data_dir, *overrides)
  assert got == code
  assert len(errors) == 1 and message in errors[0], errors
  assert not workdir.exists()


def test_unknown_config_file(capsys, tiny_data_dir, tmp_path):
  got, errors = train(capsys, tmp_path / "run", tiny_data_dir, config="no_such_config")
  assert got == 2 and "config not found: 'no_such_config'" in errors[0] and "vit_ti8_cpu" in errors[0]


@pytest.fixture
def short_run(capsys, tiny_data_dir, tmp_path):
  workdir = tmp_path / "run"
  assert train(capsys, workdir, tiny_data_dir, "--config.total_steps=3", "--config.eval.dataset=")[0] == 0
  return workdir


def test_another_runs_checkpoint_is_refused_and_kept(capsys, short_run, tiny_data_dir):
  before = (short_run / "last.pt").read_bytes()
  got, errors = train(capsys, short_run, tiny_data_dir, "--config.total_steps=3", "--config.eval.dataset=",
                      "--config.optimizer.lr=0.5")
  assert got == 1
  assert "holds a checkpoint of another run (optimizer.lr: checkpoint has 0.001, this run 0.5)" in errors[0]
  assert (short_run / "last.pt").read_bytes() == before


def test_corrupt_checkpoint_is_refused_and_kept(capsys, short_run, tiny_data_dir):
  damaged = (short_run / "last.pt").read_bytes()[:5000]
  (short_run / "last.pt").write_bytes(damaged)
  got, errors = train(capsys, short_run, tiny_data_dir, "--config.total_steps=3", "--config.eval.dataset=")
  assert got == 1 and "last.pt is damaged" in errors[0], errors
  assert (short_run / "last.pt").read_bytes() == damaged


def test_a_byte_flipped_anywhere_in_a_checkpoint_is_caught_by_name(short_run, tmp_path):
  """torch's zip container does not check itself (a flipped byte in the weights loads silently): the stored sha256
  does, wherever the byte is (header, pickle, tensor data, zip directory)."""
  from kubricgen_robustness.train.checkpoint import CheckpointError, load
  intact = (short_run / "last.pt").read_bytes()
  for where in (0.0, 0.001, 0.3, 0.5, 0.9, 0.999, 1.0):  # local header, pickle, tensor data, zip directory, digest
    data = bytearray(intact)
    data[int(where * (len(data) - 1))] ^= 0x01
    damaged = tmp_path / "flipped.pt"
    damaged.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match=r"flipped.pt is damaged"):
      load(str(damaged))
  assert load(str(short_run / "last.pt"))["step"] >= 1  # the intact file loads


class RunsCode:
  def __init__(self, marker):
    self.marker = marker

  def __reduce__(self):
    return (open, (self.marker, "w"))  # loading this pickle would create the marker file


def test_checkpoint_crafted_to_run_code_is_refused_not_run(capsys, tiny_data_dir, tmp_path):
  workdir, marker = tmp_path / "run", tmp_path / "ran"
  workdir.mkdir()
  import io
  import torch
  from kubricgen_robustness.train import checkpoint
  buffer = io.BytesIO()  # with a valid sha256: the digest only proves the bytes are unchanged, not that they are safe
  torch.save({"format": checkpoint.FORMAT, "version": checkpoint.VERSION, "payload": RunsCode(str(marker))}, buffer)
  (workdir / "last.pt").write_bytes(checkpoint.with_digest(buffer.getvalue()))
  got, errors = train(capsys, workdir, tiny_data_dir, "--config.total_steps=3", "--config.eval.dataset=")
  assert got == 1 and "corrupt or not plain data" in errors[0]
  assert not marker.exists()
  from kubricgen_robustness.train.checkpoint import CheckpointError, load_trained_model
  with pytest.raises(CheckpointError):
    load_trained_model(str(workdir), "last")
  assert not marker.exists()


@pytest.mark.slow
def test_gpu_and_cpu_configs_build_and_train_two_steps_here(capsys, tiny_data_dir, tmp_path):
  """Every bundled config is valid: its model and recipe run two steps on the tiny data (32 px, fp32, no compile)."""
  from kubricgen_robustness.train.config import CONFIG_DIR
  names = sorted(f[:-3] for f in os.listdir(CONFIG_DIR) if f.endswith(".py") and not f.startswith("_"))
  assert {"vit_ti8_cpu", "resnet18_cpu", "vit_s16_gpu", "resnet50_bit_gpu"} <= set(names)
  for name in names:
    got, errors = train(capsys, tmp_path / name, tiny_data_dir, "--config.dataset=tiny_shapes",
                        "--config.eval.dataset=tiny_shapes", "--config.input_size=32", "--config.batch_size=8",
                        "--config.total_steps=2", "--config.precision=fp32", "--config.compile=False",
                        "--config.channels_last=False", "--config.num_workers=0", "--config.eval.max_examples=16",
                        config=name)
    assert got == 0, (name, errors)
