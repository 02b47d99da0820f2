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



def stop_processes(processes) -> None:
  """Terminate processes (cluster schedulers, workers) and wait; kill any that take over 30 s (a busy worker may take
  its time to shut down gracefully)."""
  import subprocess
  for process in processes:
    process.terminate()
  for process in processes:
    try:
      process.wait(timeout=30)
    except subprocess.TimeoutExpired:
      process.kill()
      process.wait()


def free_port() -> int:
  """A TCP port on 127.0.0.1 that nothing listens on right now."""
  import contextlib
  import socket
  with contextlib.closing(socket.socket()) as probe:
    probe.bind(("127.0.0.1", 0))
    return probe.getsockname()[1]


@pytest.fixture(scope="module")
def gcs_emulator():
  """A real `gcp-storage-emulator` on a free local port (in memory), stopped at the end of the module.

  Sets STORAGE_EMULATOR_HOST for the tests; yields the endpoint URL."""
  import socket
  import subprocess
  import time
  port = free_port()
  executable = os.path.join(os.path.dirname(sys.executable), "gcp-storage-emulator")
  process = subprocess.Popen([executable, "start", "--host=127.0.0.1", f"--port={port}", "--in-memory"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
  endpoint = f"http://127.0.0.1:{port}"
  deadline = time.time() + 20
  while True:
    try:
      socket.create_connection(("127.0.0.1", port), 0.2).close()
      break
    except OSError:
      if process.poll() is not None or time.time() > deadline:
        process.kill()
        pytest.fail("gcp-storage-emulator did not start")
      time.sleep(0.05)
  saved = os.environ.get("STORAGE_EMULATOR_HOST")
  os.environ["STORAGE_EMULATOR_HOST"] = endpoint
  try:
    yield endpoint
  finally:
    process.kill()
    process.wait()
    if saved is None:
      os.environ.pop("STORAGE_EMULATOR_HOST", None)
    else:
      os.environ["STORAGE_EMULATOR_HOST"] = saved
