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


def _free_port() -> int:
  import socket
  with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    return s.getsockname()[1]


@pytest.fixture(scope="session")
def gcs_emulator():
  """A real gcp-storage-emulator process on 127.0.0.1 (in memory); yields its URL for STORAGE_EMULATOR_HOST."""
  import subprocess
  import time
  import urllib.request
  port = _free_port()
  executable = os.path.join(os.path.dirname(sys.executable), "gcp-storage-emulator")
  process = subprocess.Popen([executable, "start", "--host=127.0.0.1", f"--port={port}", "--in-memory"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
  url = f"http://127.0.0.1:{port}"
  deadline = time.time() + 30
  while True:
    try:
      urllib.request.urlopen(f"{url}/storage/v1/b?project=test", timeout=1)
      break
    except OSError:
      if time.time() > deadline or process.poll() is not None:
        process.kill()
        raise RuntimeError("gcp-storage-emulator did not start")
      time.sleep(0.2)
  try:
    yield url
  finally:
    process.terminate()
    process.wait(timeout=10)

