"""Shared fixtures: small scenes that render in well under a second."""
import contextlib
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


@contextlib.contextmanager
def environment_variable(name: str, value: str):
  """Set $name to `value` for the block, then restore what was there (or unset it)."""
  saved = os.environ.get(name)
  os.environ[name] = value
  try:
    yield
  finally:
    if saved is None:
      os.environ.pop(name, None)
    else:
      os.environ[name] = saved


@contextlib.contextmanager
def gcs_emulator_process():
  """A real `gcp-storage-emulator` (in memory) on a free local port, for tests and benchmarks; yields its endpoint
  URL and stops it on exit. RuntimeError if it does not start within 20 s."""
  import socket
  import subprocess
  import time
  port = free_port()
  executable = os.path.join(os.path.dirname(sys.executable), "gcp-storage-emulator")
  process = subprocess.Popen([executable, "start", "--host=127.0.0.1", f"--port={port}", "--in-memory"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
  try:
    deadline = time.time() + 20
    while True:
      try:
        socket.create_connection(("127.0.0.1", port), 0.2).close()
        break
      except OSError:
        if process.poll() is not None or time.time() > deadline:
          raise RuntimeError("gcp-storage-emulator did not start") from None
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
  finally:
    process.kill()
    process.wait()


@pytest.fixture(scope="module")
def gcs_emulator():
  """A real `gcp-storage-emulator` on a free local port (in memory), stopped at the end of the module.

  Sets STORAGE_EMULATOR_HOST for the tests; yields the endpoint URL."""
  with gcs_emulator_process() as endpoint, environment_variable("STORAGE_EMULATOR_HOST", endpoint):
    yield endpoint
