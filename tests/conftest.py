"""Shared fixtures: small scenes that render in well under a second."""
import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def repo_root():
  return ROOT


@pytest.fixture
def cli_env():
  """Environment for running `python -m kubricgen.cli.main` in a subprocess."""
  env = dict(os.environ)
  env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
  env.pop("KUBRICGEN_DEBUG", None)
  return env


def kubricgen_command(*args):
  return [sys.executable, "-m", "kubricgen.cli.main", *args]
