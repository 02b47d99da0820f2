"""gs:// output against a real local GCS emulator: the workers write the shards into the bucket in place, the
driver adds dataset_info.json last; the result equals a local build byte for byte and loads back with plain TFDS; a
rebuild with the same settings reuses it, and a published dataset is never overwritten."""
import json
import os
import subprocess
import sys

import pytest

from tests.sharding.test_pipeline import ROOT, environment, files_of

pytestmark = pytest.mark.slow  # more than a few seconds: outside the fast subset (pytest -m 'not slow')


def test_dataset_is_published_to_a_bucket_and_loads_back(gcs_emulator, tmp_path, monkeypatch):
  monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcs_emulator)
  from kubricgen.storage import GcsStorage
  storage = GcsStorage()
  storage.create_bucket("kubricgen-test")
  env = environment(STORAGE_EMULATOR_HOST=gcs_emulator)
  command = [sys.executable, "-m", "tests.sharding.build_small", "gs://kubricgen-test/tfds", str(tmp_path / "cache"),
             "--config", "rotation"]
  result = subprocess.run(command, capture_output=True, text=True, timeout=400, env=env, cwd=ROOT)
  assert result.returncode == 0, result.stderr[-3000:]
  output = json.loads(result.stdout.strip().splitlines()[-1])
  assert output["path"] == "gs://kubricgen-test/tfds/si_score/rotation/1.0.0"
  names = [url.rsplit("/", 1)[1] for url in storage.list(output["path"] + "/")]
  assert {"dataset_info.json", "features.json"} <= set(names)
  assert any(n.startswith("si_score-test.tfrecord") for n in names)
  assert any(n.startswith("si_score-test.array_record") for n in names)
  everything = storage.list("gs://kubricgen-test/tfds/")
  assert not [url for url in everything if "staging" in url]  # the shard markers are gone once published
  assert "gs://kubricgen-test/tfds/si_score/rotation/job_summary-1.0.0.json" in everything

  from kubricgen_sharding import gcs
  local = gcs.download_dataset(output["path"], str(tmp_path / "copy" / "si_score" / "rotation" / "1.0.0"), storage)
  code = f"""
import tensorflow_datasets as tfds
ds = tfds.load("si_score/rotation", split="test", data_dir={str(tmp_path / 'copy')!r})
print("examples", sum(1 for _ in ds))
"""
  loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                          env=environment())
  assert loaded.returncode == 0, loaded.stderr[-2000:]
  assert f"examples {output['examples']}" in loaded.stdout
  assert os.path.isfile(os.path.join(local, "dataset_info.json"))
  built_here = subprocess.run([sys.executable, "-m", "tests.sharding.build_small", str(tmp_path / "local"),
                               str(tmp_path / "local-cache"), "--config", "rotation"], capture_output=True, text=True,
                              timeout=400, env=environment(), cwd=ROOT)
  assert built_here.returncode == 0, built_here.stderr[-3000:]
  here = json.loads(built_here.stdout.strip().splitlines()[-1])["path"]
  assert files_of(local) == files_of(here)  # the bucket holds exactly what a local build publishes

  again = subprocess.run(command, capture_output=True, text=True, timeout=400, env=env, cwd=ROOT)
  assert again.returncode == 0, again.stderr[-2000:]
  assert json.loads(again.stdout.strip().splitlines()[-1])["examples"] == -1  # same settings: already built
  replace = subprocess.run(command + ["--overwrite"], capture_output=True, text=True, timeout=400, env=env, cwd=ROOT)
  assert replace.returncode != 0 and "never overwritten in place" in replace.stderr


def test_an_unreachable_bucket_fails_clearly(tmp_path):
  from kubricgen_sharding import gcs
  from kubricgen.storage import StorageError
  from kubricgen.storage import GcsStorage
  os.environ["STORAGE_EMULATOR_HOST"] = "http://127.0.0.1:9"  # nothing listens on the discard port
  try:
    with pytest.raises(StorageError, match="unreachable"):
      gcs.download_dataset("gs://nowhere/tfds/x/1.0.0", str(tmp_path / "x"), GcsStorage(retry_s=0.5, backoff_s=0.01))
  finally:
    del os.environ["STORAGE_EMULATOR_HOST"]
