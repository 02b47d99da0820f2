"""Fixtures for the asset tests: an isolated asset cache, tiny meshes, and a real gcp-storage-emulator process."""
import contextlib
import os
import socket
import subprocess
import sys
import time

import numpy as np
import pytest


@pytest.fixture(scope="session", autouse=True)
def asset_cache(tmp_path_factory):
  """Every asset test shares one fresh cache folder (so results never depend on the user's ~/.cache)."""
  folder = tmp_path_factory.mktemp("asset-cache")
  saved = os.environ.get("KUBRICGEN_ASSET_CACHE")
  os.environ["KUBRICGEN_ASSET_CACHE"] = str(folder)
  yield folder
  if saved is None:
    os.environ.pop("KUBRICGEN_ASSET_CACHE", None)
  else:
    os.environ["KUBRICGEN_ASSET_CACHE"] = saved


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch):
  """A cache folder of this test only."""
  from kubricgen.assets import integrity
  folder = tmp_path / "cache"
  monkeypatch.setenv("KUBRICGEN_ASSET_CACHE", str(folder))
  integrity.forget_verified()
  return folder


def write_meshes(folder):
  """Three small meshes: a box (STL), a concave L-shape (OBJ) and a coloured ball (PLY)."""
  import trimesh
  folder.mkdir(parents=True, exist_ok=True)
  trimesh.creation.box((0.1, 0.2, 0.05)).export(folder / "box.stl")
  bar = trimesh.creation.box((0.3, 0.1, 0.1))
  post = trimesh.creation.box((0.1, 0.1, 0.3))
  post.apply_translation((-0.1, 0, 0.2))
  trimesh.util.concatenate([bar, post]).export(folder / "ell.obj")
  ball = trimesh.creation.icosphere(2, 0.05)
  ball.visual.vertex_colors = np.tile([200, 30, 30, 255], (len(ball.vertices), 1))
  ball.export(folder / "ball.ply")
  return folder


@pytest.fixture
def mesh_folder(tmp_path):
  return write_meshes(tmp_path / "meshes")


def free_port() -> int:
  with contextlib.closing(socket.socket()) as probe:
    probe.bind(("127.0.0.1", 0))
    return probe.getsockname()[1]


@pytest.fixture(scope="module")
def gcs_emulator():
  """A real `gcp-storage-emulator` on a free local port (in memory), stopped at the end of the module.

  Sets STORAGE_EMULATOR_HOST for the tests; yields the endpoint URL."""
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
