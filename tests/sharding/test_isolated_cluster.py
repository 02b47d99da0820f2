"""A real Dask cluster whose workers cannot see the driver's folders: each worker runs in its own mount namespace
with a private empty tmpfs over the session's temporary folders (where the driver keeps its data and caches), so the
GCS emulator on loopback is the only storage they share with the driver. From gs:// (background photos) to gs://
(dataset, cut-out cache), the build publishes exactly the bytes of a local build, the driver writes no shard and
renders nothing; a local cache folder the workers cannot see is refused before any job runs, naming the path."""
import json
import os
import shlex
import signal
import subprocess
import sys
import time

import pytest
from PIL import Image

from tests.sharding.test_pipeline import ROOT, environment, files_of
from tests.conftest import free_port, stop_processes


def _can_unshare() -> bool:
  try:
    return subprocess.run(["unshare", "--mount", "true"], capture_output=True, timeout=30).returncode == 0
  except (OSError, subprocess.TimeoutExpired):
    return False


pytestmark = pytest.mark.skipif(not _can_unshare(), reason="needs mount namespaces (root or CAP_SYS_ADMIN)")


@pytest.fixture(scope="module")
def isolated_cluster(tmp_path_factory, gcs_emulator):
  hidden = str(tmp_path_factory.getbasetemp())  # every tmp_path of this session lives below it
  port = free_port()
  dask = os.path.join(os.path.dirname(sys.executable), "dask")
  env = environment(STORAGE_EMULATOR_HOST=gcs_emulator)
  scheduler = subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
                               env=env, cwd="/", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
  worker = (f"mount -t tmpfs kubricgen-hidden {shlex.quote(hidden)} && cd / && exec {shlex.quote(dask)} worker "
            f"tcp://127.0.0.1:{port} --no-nanny --nthreads 1 --no-dashboard "
            f"--local-directory {shlex.quote(hidden)}/dask")
  workers = [subprocess.Popen(["unshare", "--mount", "--propagation", "private", "sh", "-c", worker], env=env,
                              cwd="/", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(2)]
  from kubricgen.storage import default_storage
  storage = default_storage()
  storage.create_bucket("isolated")
  photos = tmp_path_factory.mktemp("photos")
  from tests.datasets.si_score.small_library import SmallBackgrounds
  for name in SmallBackgrounds.ids:  # the test backgrounds as photo files in the bucket, the jobs' only input files
    Image.fromarray(SmallBackgrounds().load(name, 48)).save(photos / f"{name}.png")
    storage.upload_file(photos / f"{name}.png", f"gs://isolated/backgrounds/{name}.png")
  time.sleep(4)
  try:
    yield f"127.0.0.1:{port}", env
  finally:
    stop_processes(workers + [scheduler])


def run_build(data_dir, cache_dir, *args, env):
  return subprocess.run([sys.executable, "-m", "tests.sharding.build_small", str(data_dir), str(cache_dir),
                         "--config", "rotation", "--backgrounds", "gs://isolated/backgrounds", *args], capture_output=True, text=True, timeout=600, env=env,
                        cwd=ROOT)


def test_isolated_workers_build_from_gcs_to_gcs_the_bytes_of_a_local_build(isolated_cluster, tmp_path):
  address, env = isolated_cluster
  local = run_build(tmp_path / "local", tmp_path / "local-cache", env=env)  # same inputs, local runner and folders
  assert local.returncode == 0, local.stderr[-3000:]
  reference = json.loads(local.stdout.strip().splitlines()[-1])

  result = run_build("gs://isolated/tfds", "gs://isolated/cache", "--runner", "DaskRunner",
                     f"--dask_client_address={address}", "--dask_npartitions=4", env=env)
  assert result.returncode == 0, result.stderr[-3000:]
  output = json.loads(result.stdout.strip().splitlines()[-1])
  summary = output["summary"]
  assert summary["runner"] == "DaskRunner" and summary["jobs_rendered"] == summary["jobs"] > 1
  assert output["driver_imported_bpy"] is False  # no Blender render on the driver
  assert summary["shard_writers"] and output["driver"] not in summary["shard_writers"]  # no shard written there
  from kubricgen_sharding import gcs
  copy = gcs.download_dataset(output["path"], str(tmp_path / "copy"))
  assert files_of(copy) == files_of(reference["path"])


def test_a_folder_the_workers_cannot_see_is_refused_before_any_job(isolated_cluster, tmp_path):
  address, env = isolated_cluster
  cache = tmp_path / "driver-only-cache"
  result = run_build("gs://isolated/refused", cache, "--runner", "DaskRunner", f"--dask_client_address={address}",
                     env=env)
  assert result.returncode != 0
  last = result.stderr.strip().splitlines()[-1]
  assert "NotShared" in last and f"--cache_dir {cache} is not shared with the workers" in last, last
  from kubricgen.storage import default_storage
  assert default_storage().list("gs://isolated/refused/") == []  # no job ran, nothing was written


def test_kill_9_of_a_worker_mid_build_changes_no_byte(isolated_cluster, tmp_path, tmp_path_factory):
  """A third isolated worker joins, takes jobs, and is killed with SIGKILL (it and its job processes) once the first
  shards are committed; Dask hands its tasks to the others, and the published bytes equal the local build's."""
  address, env = isolated_cluster
  hidden = str(tmp_path_factory.getbasetemp())
  dask = os.path.join(os.path.dirname(sys.executable), "dask")
  worker = (f"mount -t tmpfs kubricgen-hidden {shlex.quote(hidden)} && cd / && exec {shlex.quote(dask)} worker "
            f"tcp://{address} --no-nanny --nthreads 1 --no-dashboard --local-directory {shlex.quote(hidden)}/dask")
  victim = subprocess.Popen(["unshare", "--mount", "--propagation", "private", "sh", "-c", worker], env=env, cwd="/",
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
  time.sleep(4)
  local = run_build(tmp_path / "local", tmp_path / "local-cache", env=env)
  assert local.returncode == 0, local.stderr[-3000:]
  reference = json.loads(local.stdout.strip().splitlines()[-1])
  build = subprocess.Popen([sys.executable, "-m", "tests.sharding.build_small", "gs://isolated/killed",
                            "gs://isolated/killed-cache", "--config", "rotation", "--backgrounds",
                            "gs://isolated/backgrounds", "--runner", "DaskRunner", f"--dask_client_address={address}",
                            "--dask_npartitions=6"], env=env, cwd=ROOT, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
  from kubricgen.storage import default_storage
  storage = default_storage()
  deadline = time.time() + 300
  while time.time() < deadline and build.poll() is None:
    if [u for u in storage.list("gs://isolated/killed/") if "/shards/" in u]:
      break
    time.sleep(0.1)
  assert build.poll() is None, "the build ended before the kill"
  os.killpg(victim.pid, signal.SIGKILL)  # the worker and any job process it started
  victim.wait()
  stdout, stderr = build.communicate(timeout=600)
  assert build.returncode == 0, stderr[-3000:]
  output = json.loads(stdout.strip().splitlines()[-1])
  from kubricgen_sharding import gcs
  copy = gcs.download_dataset(output["path"], str(tmp_path / "copy"))
  assert files_of(copy) == files_of(reference["path"])
