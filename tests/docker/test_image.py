"""The Docker image, built for real from this checkout by `docker/build.sh --offline` (base made from Debian's
packages, as on machines that reach no image registry): it renders scenes/helloworld.py to the same bytes as the
local install, and its containers serve as the Dask workers of a gs://-to-gs:// SI-Score build that publishes the
bytes of a local build. Needs a running Docker engine (CI installs and starts one); the image is removed at the end."""
import json
import os
import shutil
import subprocess
import sys
import time

import pytest

from tests.sharding.test_pipeline import ROOT, environment, files_of
from tests.conftest import free_port

IMAGE = "kubricgen:test"


def _engine_running() -> bool:
  try:
    return subprocess.run(["docker", "info"], capture_output=True, timeout=60).returncode == 0
  except (OSError, subprocess.TimeoutExpired):
    return False


def _docker_disk_gib() -> float:
  root = subprocess.run(["docker", "info", "--format", "{{.DockerRootDir}}"], capture_output=True, text=True,
                        timeout=60).stdout.strip() or "/var/lib/docker"
  return shutil.disk_usage(root if os.path.isdir(root) else "/").free / 2**30


NEEDED_GIB = 12  # measured: the image is 4.3 GB, and committing its largest layer briefly needs about twice that

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not _engine_running(), reason="no Docker engine running")]


@pytest.fixture(scope="module")
def image():
  free = _docker_disk_gib()
  if free < NEEDED_GIB:
    pytest.skip(f"building the image needs {NEEDED_GIB} GiB free for Docker, found {free:.1f} GiB")
  built = subprocess.run([os.path.join(ROOT, "docker", "build.sh"), "--offline", IMAGE], capture_output=True,
                         text=True, timeout=2400, cwd=ROOT)
  assert built.returncode == 0, (built.stdout[-3000:], built.stderr[-3000:])
  try:
    yield IMAGE
  finally:
    subprocess.run(["docker", "rmi", "-f", IMAGE], capture_output=True, timeout=300)
    subprocess.run(["docker", "image", "prune", "-f"], capture_output=True, timeout=300)  # its dangling layers


def tree(folder):
  return {os.path.relpath(os.path.join(d, n), folder): open(os.path.join(d, n), "rb").read()
          for d, _, names in os.walk(folder) for n in names}


def test_the_image_renders_helloworld_to_the_bytes_of_a_local_install(image, tmp_path):
  out = tmp_path / "helloworld"  # the same --out inside and outside: it is recorded in the scene's metadata
  flags = ["render", "scenes/helloworld.py", "--out", str(out), "--resolution", "64x64", "--samples", "4",
           "--seed", "3"]
  local = subprocess.run([sys.executable, "-m", "kubricgen.cli.main", *flags], capture_output=True, text=True,
                         timeout=600, cwd=ROOT, env=environment())
  assert local.returncode == 0, local.stderr[-3000:]
  expected = tree(out)
  shutil.rmtree(out)
  inside = subprocess.run(["docker", "run", "--rm", "-v", f"{tmp_path}:{tmp_path}", image, "kubricgen", *flags],
                          capture_output=True, text=True, timeout=600)
  assert inside.returncode == 0, inside.stderr[-3000:]
  produced = tree(out)
  assert sorted(produced) == sorted(expected)
  different = [name for name in expected if produced[name] != expected[name] and name != "metadata.json"]
  assert not different, different  # every image and ground-truth layer, byte for byte
  assert any(name.endswith(".png") for name in expected) and any(name.endswith(".exr") for name in expected)

  def without_telemetry(data):  # the render's measured time and memory (docs/metadata.md, `render`) vary per run
    metadata = json.loads(data)
    for key in ("seconds_build", "seconds_per_frame", "peak_memory_mb"):
      metadata["render"].pop(key)
    return metadata
  assert without_telemetry(produced["metadata.json"]) == without_telemetry(expected["metadata.json"])


def test_containers_from_the_image_are_dask_workers_that_build_the_local_bytes(image, tmp_path, gcs_emulator):
  from kubricgen.storage import default_storage
  default_storage().create_bucket("docker-workers")
  port = free_port()
  dask = os.path.join(os.path.dirname(sys.executable), "dask")
  scheduler = subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
                               cwd="/", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=environment())
  names = [f"kubricgen-test-worker-{port}-{i}" for i in range(2)]
  # The containers see the emulator over the host's loopback and this checkout's tests/ (the small test library the
  # jobs import), nothing of the driver's folders.
  for name in names:
    subprocess.run(["docker", "run", "-d", "--rm", "--name", name, "--network", "host",
                    "-e", f"STORAGE_EMULATOR_HOST={gcs_emulator}", "-e", "PYTHONPATH=/work",
                    "-v", f"{os.path.join(ROOT, 'tests')}:/work/tests:ro", image,
                    "dask", "worker", f"tcp://127.0.0.1:{port}", "--no-nanny", "--nthreads", "1", "--no-dashboard"],
                   check=True, capture_output=True, timeout=120)
  try:
    time.sleep(8)
    reference = subprocess.run([sys.executable, "-m", "tests.sharding.build_small", str(tmp_path / "local"),
                                str(tmp_path / "local-cache"), "--config", "rotation"], capture_output=True,
                               text=True, timeout=600, env=environment(), cwd=ROOT)
    assert reference.returncode == 0, reference.stderr[-3000:]
    result = subprocess.run([sys.executable, "-m", "tests.sharding.build_small", "gs://docker-workers/tfds",
                             "gs://docker-workers/cache", "--config", "rotation", "--runner", "DaskRunner",
                             f"--dask_client_address=127.0.0.1:{port}", "--dask_npartitions=4"],
                            capture_output=True, text=True, timeout=900, cwd=ROOT,
                            env=environment(STORAGE_EMULATOR_HOST=gcs_emulator))
    logs = [subprocess.run(["docker", "logs", name], capture_output=True, text=True).stderr[-1500:] for name in names]
    assert result.returncode == 0, (result.stderr[-3000:], logs)
  finally:
    subprocess.run(["docker", "rm", "-f", *names], capture_output=True, timeout=120)
    scheduler.terminate()
    scheduler.wait(timeout=30)
  output = json.loads(result.stdout.strip().splitlines()[-1])
  assert output["summary"]["runner"] == "DaskRunner" and output["driver_imported_bpy"] is False
  assert output["driver"] not in output["summary"]["shard_writers"]
  from kubricgen_sharding import gcs
  copy = gcs.download_dataset(output["path"], str(tmp_path / "copy"))
  assert files_of(copy) == files_of(json.loads(reference.stdout.strip().splitlines()[-1])["path"])
