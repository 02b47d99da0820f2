"""Fixtures for the asset tests: an isolated asset cache and tiny meshes (the GCS emulator is in tests/conftest.py)."""

import numpy as np
import pytest

from tests.conftest import environment_variable


@pytest.fixture(scope="session", autouse=True)
def asset_cache(tmp_path_factory):
  """Every asset test shares one fresh cache folder (so results never depend on the user's ~/.cache)."""
  folder = tmp_path_factory.mktemp("asset-cache")
  with environment_variable("KUBRICGEN_ASSET_CACHE", str(folder)):
    yield folder


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
