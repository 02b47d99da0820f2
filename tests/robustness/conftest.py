"""Fixtures for the trainer and analyzer tests: the tiny_shapes TFDS dataset, built once per session."""
import os

import pytest


@pytest.fixture(scope="session")
def tiny_data_dir(tmp_path_factory):
  """A TFDS data_dir holding tiny_shapes in array_record (read with tfds.data_source)."""
  from tests.robustness import tiny_shapes
  data_dir = str(tmp_path_factory.mktemp("tfds"))
  tiny_shapes.build(data_dir, "array_record")
  return data_dir


@pytest.fixture(scope="session")
def tiny_tfrecord_data_dir(tmp_path_factory):
  """The same dataset written as tfrecord only (read with tfds.load)."""
  from tests.robustness import tiny_shapes
  data_dir = str(tmp_path_factory.mktemp("tfds_tfrecord"))
  tiny_shapes.build(data_dir, "tfrecord")
  return data_dir


@pytest.fixture(scope="session")
def train_env():
  """Environment for `python -m kubricgen.cli.main train ...` subprocesses (session-scoped cli_env)."""
  from tests.conftest import ROOT
  env = dict(os.environ)
  env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
  env.pop("KUBRICGEN_DEBUG", None)
  env["TF_CPP_MIN_LOG_LEVEL"] = "2"
  return env


TINY_CONFIG = os.path.join(os.path.dirname(os.path.abspath(__file__)), "train", "tiny_config.py")
