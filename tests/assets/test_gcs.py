"""gs:// manifests, files and backgrounds against a real gcp-storage-emulator process: read, verify, cache; and a
clear error after bounded retries when storage is down."""
import json
import subprocess
import time

import numpy as np
import pytest
from PIL import Image

from kubricgen.assets import BackgroundLibrary, ClassLibrary, IntegrityError, ManifestSource, StorageError
from kubricgen import storage
from kubricgen.assets import importer, integrity
from tests.conftest import free_port
from tests.conftest import kubricgen_command


@pytest.fixture(scope="module")
def bucket(gcs_emulator, tmp_path_factory):
  """A bucket holding an imported mesh library (manifest + files) and a few background images."""
  from tests.assets.conftest import write_meshes
  client = storage.default_storage()
  client.create_bucket("assets")
  folder = tmp_path_factory.mktemp("gcs-src")
  meshes = write_meshes(folder / "meshes")
  report = importer.import_folder(meshes, folder / "bundle" / "toys.json",
                                  importer.ImportOptions(class_name="toy", vhacd_resolution=20000, thumbnails=False))
  bundle = report.manifest.parent
  for path in sorted(bundle.rglob("*")):
    if path.is_file():
      client.upload_file(path, f"gs://assets/lib/{path.relative_to(bundle).as_posix()}")
  for name, color in (("red", (200, 20, 20)), ("green", (20, 200, 20))):
    image = np.zeros((30, 50, 3), dtype=np.uint8)
    image[:] = color
    image[:, 40:] = 255
    Image.fromarray(image).save(folder / f"{name}.png")
    client.upload_file(folder / f"{name}.png", f"gs://assets/backgrounds/{name}.png")
  return "gs://assets"


def test_gs_manifest_files_are_verified_cached_and_used_offline(bucket, fresh_cache):
  source = ManifestSource.from_manifest(f"{bucket}/lib/toys.json")
  assert source.ids == ["ball", "box", "ell"]
  obj = source.create("ell")
  assert obj.asset_id == "ell" and str(fresh_cache) in obj.render_filename
  low, high = obj.bounds
  assert np.max((high - low) / 2) == pytest.approx(1.0, abs=1e-4)
  # delete the files from the bucket: a new source (same manifest) is served from the cache
  client = storage.default_storage()
  entry = source.entry("ell")
  blobs = [client.client().bucket("assets").blob(f"lib/{f.path}") for f in entry.files]
  contents = {blob.name: blob.download_as_bytes() for blob in blobs}
  for blob in blobs:
    blob.delete()
  try:
    integrity.forget_verified()
    again = ManifestSource.from_manifest(f"{bucket}/lib/toys.json").create("ell")
    assert again.render_filename == obj.render_filename
  finally:
    for name, data in contents.items():
      client.upload(data, f"gs://assets/{name}")


def test_gs_checksum_mismatch_is_refused_and_nothing_is_cached(bucket, fresh_cache):
  client = storage.default_storage()
  data = json.loads(client.read_bytes(f"{bucket}/lib/toys.json"))
  entry = next(a for a in data["assets"] if a["id"] == "box")
  first = entry["files"][0]
  first["sha256"] = "f" * 64
  client.upload(json.dumps(data).encode(), f"{bucket}/lib/tampered.json")
  with pytest.raises(IntegrityError, match="sha256 mismatch"):
    ManifestSource.from_manifest(f"{bucket}/lib/tampered.json").create("box")
  assert not (fresh_cache / "remote").exists() or not any((fresh_cache / "remote").iterdir())
  first["sha256"] = integrity.sha256_bytes(b"")
  entry["render_file"] = first["path"] = first["path"].replace("render", "absent")
  client.upload(json.dumps(data).encode(), f"{bucket}/lib/missing.json")
  with pytest.raises(StorageError, match="not found"):
    ManifestSource.from_manifest(f"{bucket}/lib/missing.json").create("box")
  with pytest.raises(StorageError, match="not found"):
    ManifestSource.from_manifest(f"{bucket}/lib/none.json")


def test_gs_backgrounds_from_a_prefix_and_a_class_library_from_a_manifest(bucket, fresh_cache):
  library = BackgroundLibrary.from_folder(f"{bucket}/backgrounds")
  assert library.ids == ["green", "red"]
  red = library.load("red", 10)
  assert red.shape == (10, 10, 3) and tuple(red[5, 5]) == (200, 20, 20)  # top-left square: no white strip
  classes = ClassLibrary.from_manifest(f"{bucket}/lib/toys.json")
  assert [c.name for c in classes.classes] == ["toy"]
  assert len(classes.instances("test")) == 1 and len(classes.instances("train")) == 2


def test_cli_lists_a_gs_manifest(bucket, cli_env, gcs_emulator):
  env = dict(cli_env, STORAGE_EMULATOR_HOST=gcs_emulator)
  result = subprocess.run(kubricgen_command("assets", "list", "--source", f"{bucket}/lib/toys.json", "--json"),
                          capture_output=True, text=True, env=env, timeout=120)
  assert result.returncode == 0, result.stderr
  assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == ["ball", "box", "ell"]


def test_storage_down_gives_a_clear_error_after_bounded_retries(monkeypatch, cli_env):
  port = free_port()  # nothing listens here
  monkeypatch.setenv("STORAGE_EMULATOR_HOST", f"http://127.0.0.1:{port}")
  monkeypatch.setenv("KUBRICGEN_GCS_RETRY_S", "2")  # the library's policy, bounded: 30 s by default
  start = time.perf_counter()
  with pytest.raises(StorageError) as error:
    ManifestSource.from_manifest("gs://assets/lib/toys.json")
  elapsed = time.perf_counter() - start
  assert f"127.0.0.1:{port}" in str(error.value) and "unreachable: still failing after 2 s of retries" in str(error.value)
  assert elapsed < 15  # bounded: the library policy alone would retry for 120 s
  env = dict(cli_env, STORAGE_EMULATOR_HOST=f"http://127.0.0.1:{port}", KUBRICGEN_GCS_RETRY_S="2")
  result = subprocess.run(kubricgen_command("assets", "list", "--source", "gs://assets/lib/toys.json"),
                          capture_output=True, text=True, env=env, timeout=120)
  assert result.returncode == 1 and result.stderr.startswith("kubricgen: error: gs://assets/lib/toys.json")
  assert result.stderr.count("\n") == 1


def test_a_gs_background_replaced_in_its_bucket_is_noticed(gcs_emulator, tmp_path, fresh_cache):
  import io
  client = storage.default_storage()
  client.create_bucket("swap")

  def put(color):
    buffer = io.BytesIO()
    Image.fromarray(np.full((20, 20, 3), color, np.uint8)).save(buffer, format="PNG")
    client.upload(buffer.getvalue(), "gs://swap/bg/wall.png")

  put((200, 20, 20))
  first = BackgroundLibrary.from_folder("gs://swap/bg")
  assert tuple(first.load("wall", 8)[4, 4]) == (200, 20, 20)
  put((20, 20, 200))  # same name, new bytes
  second = BackgroundLibrary.from_folder("gs://swap/bg")
  assert second.version != first.version  # cache keys built from the version change
  assert tuple(second.load("wall", 8)[4, 4]) == (20, 20, 200)  # not the cached old download
