"""The Beam job pipeline end to end (real runners, real processes): workers write the shards; the published dataset
is the same, byte for byte, with 1 or 2 local workers, on a Dask cluster, after injected worker faults and after the
driver is killed; reruns render only the shards not yet written; Dataflow's job graph builds offline."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.conftest import free_port, stop_processes

pytestmark = pytest.mark.slow  # more than a few seconds: outside the fast subset (pytest -m 'not slow')

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def environment(**extra):
  env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""), TF_CPP_MIN_LOG_LEVEL="3")
  env.update(extra)
  return env


def build(data_dir, cache_dir, *beam_args, env=None, timeout=400):
  result = subprocess.run([sys.executable, "-m", "tests.sharding.build_small", str(data_dir), str(cache_dir),
                           *beam_args], capture_output=True, text=True, timeout=timeout, env=env or environment(),
                          cwd=ROOT)
  assert result.returncode == 0, result.stderr[-3000:]
  return json.loads(result.stdout.strip().splitlines()[-1])


def files_of(version_dir):
  return {name: open(os.path.join(version_dir, name), "rb").read() for name in sorted(os.listdir(version_dir))}


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
  root = tmp_path_factory.mktemp("reference")
  output = build(root / "data", root / "cache", "--direct_num_workers=2")
  return output, files_of(output["path"])


def test_two_local_workers_share_the_jobs_and_verify(reference):
  output, files = reference
  summary = output["summary"]
  assert output["examples"] == 441 * 6 and summary["jobs"] == summary["jobs_rendered"] == 15
  assert summary["runner"] == "FnApiRunner" and summary["retries"] == 0
  assert len(summary["workers"]) >= 2  # jobs ran in more than one child process
  assert output["driver_imported_bpy"] is False  # every Blender render (the cut-outs too) ran in the workers
  verified = subprocess.run([sys.executable, "-m", "kubricgen.cli.main", "verify", output["path"]],
                            capture_output=True, text=True, env=environment(), timeout=300)
  assert verified.returncode == 0 and "OK" in verified.stdout, verified.stderr[-2000:]
  assert {"dataset_info.json", "features.json"} <= set(files)


def test_one_worker_gives_the_same_bytes(reference, tmp_path):
  output = build(tmp_path / "data", tmp_path / "cache", "--direct_num_workers=1")
  assert files_of(output["path"]) == reference[1]


def test_worker_faults_are_retried_and_change_nothing(reference, tmp_path):
  faults = "kill:cube_test/,hang:orange_test/,raise:teapot_test/"
  env = environment(KUBRICGEN_FAULTS=faults, KUBRICGEN_FAULTS_DIR=str(tmp_path))
  output = build(tmp_path / "data", tmp_path / "cache", "--timeout=20", env=env)
  assert output["summary"]["retries"] >= 3
  assert files_of(output["path"]) == reference[1]
  assert len([p for p in os.listdir(tmp_path) if p.startswith("fault-")]) >= 3  # every kind fired


def test_killing_the_driver_then_rerunning_renders_only_what_is_missing_or_damaged(reference, tmp_path):
  data, cache = tmp_path / "data", tmp_path / "cache"
  # Slow every job down (each hangs once, for the length of the timeout) so the driver dies mid-run.
  env = environment(KUBRICGEN_FAULTS="hang:/", KUBRICGEN_FAULTS_DIR=str(tmp_path))
  process = subprocess.Popen([sys.executable, "-m", "tests.sharding.build_small", str(data), str(cache),
                              "--timeout=3", "--direct_num_workers=2"], env=env, cwd=ROOT,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
  deadline = time.time() + 300
  results = lambda: list(data.glob(".si_score-location-staging-*/shards/*.json"))  # committed shards
  while time.time() < deadline and len(results()) < 3 and process.poll() is None:
    time.sleep(0.2)
  os.killpg(process.pid, signal.SIGKILL)  # the driver and every worker it started
  process.wait()
  done_before = len(results())
  assert 3 <= done_before < 15, done_before
  assert not (data / "si_score").exists()  # nothing published
  # Damage two committed shards: a byte of one's tfrecord flipped, the other's marker cut short. Both are discarded
  # and rendered again; the published bytes stay the clean build's.
  first, second = sorted(results())[:2]
  shard = json.loads(first.read_text())
  tfrecord = next(p for p in data.glob(".si_score-location-staging-*/**/*") if p.name in shard["files"] and
                  ".tfrecord-" in p.name)
  damaged = bytearray(tfrecord.read_bytes())
  damaged[len(damaged) // 2] ^= 0x01
  tfrecord.write_bytes(bytes(damaged))
  second.write_bytes(second.read_bytes()[:10])
  output = build(data, cache)
  assert output["summary"]["jobs_from_cache"] == done_before - 2
  assert output["summary"]["jobs_rendered"] == 15 - done_before + 2
  assert files_of(output["path"]) == reference[1]
  assert not [p for p in os.listdir(data) if "staging" in p]


def test_a_dask_cluster_on_loopback_gives_the_same_bytes(reference, tmp_path):
  port = free_port()
  dask = os.path.join(os.path.dirname(sys.executable), "dask")
  env = environment()
  scheduler = subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
                               env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
  workers = [subprocess.Popen([dask, "worker", f"tcp://127.0.0.1:{port}", "--no-nanny", "--nthreads", "1",
                               "--no-dashboard"], env=env, cwd=tmp_path, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL) for _ in range(2)]
  try:
    time.sleep(4)
    output = build(tmp_path / "data", tmp_path / "cache", "--runner", "DaskRunner",
                   f"--dask_client_address=127.0.0.1:{port}", "--dask_npartitions=4")
  finally:
    stop_processes(workers + [scheduler])
  assert output["summary"]["runner"] == "DaskRunner"
  assert output["summary"]["jobs_rendered"] == 15
  assert files_of(output["path"]) == reference[1]


def test_dataflow_job_graph_builds_offline_without_submitting(tmp_path):
  code = f"""
import sys
sys.path.insert(0, {ROOT!r})
from kubricgen_sharding.pipeline import DryRun, run_jobs
from kubricgen_sharding.shards import ShardedSplit
from kubricgen.datasets.si_score import generate, specs
from tests.datasets.si_score import small_library
settings = specs.Settings(resolution=32, job_size=200)
g = generate.Generator(settings, make_library=small_library.make_library, make_backgrounds=small_library.make_backgrounds)
jobs = specs.group_into_jobs(specs.subset_specs("location", settings, g.library, g.backgrounds.ids), 200)
try:
  sink = ShardedSplit("gs://demo-bucket/tfds/si_score/location/1.0.0", "gs://demo-bucket/tfds/.staging/shards",
                      "si_score-test", tuple(job.key for job in jobs))
  run_jobs(jobs, g.serialized_examples, sink, ["--runner=DataflowRunner",
           "--project=demo-project", "--region=europe-west4", "--temp_location=gs://demo-bucket/tmp",
           "--sdk_container_image=europe-docker.pkg.dev/demo/kubricgen/worker:1", "--dry_run=True"], progress=False)
except DryRun as dry:
  job = dry.result.job
  pipeline = str(job.proto_pipeline)
  print("JOB", job.proto.type_, "RunJobs" in pipeline, "kubricgen/worker:1" in pipeline,
        job.options.get_all_options()["project"], job.options.get_all_options()["region"])
"""
  result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                          env=environment(), cwd=tmp_path)
  assert result.returncode == 0, result.stderr[-3000:]
  assert "JOB JobType.JOB_TYPE_BATCH True True demo-project europe-west4" in result.stdout or \
      "JOB 1 True True demo-project europe-west4" in result.stdout, result.stdout


def test_the_main_job_reaches_dataflow_by_flags_only_and_dry_runs_offline(tmp_path):
  """The command a user runs locally, plus Dataflow's flags: with --dry_run it builds the whole job request without
  touching storage or the network (no emulator, no credentials) and publishes nothing."""
  env = environment()
  env.pop("STORAGE_EMULATOR_HOST", None)
  command = [sys.executable, "-m", "kubricgen.cli.main", "render", "scenes/si_score.py", "--configs", "rotation",
             "--instances_per_class", "1", "--data_dir", "gs://demo-bucket/tfds", "--preview_dir", str(tmp_path),
             "--runner", "DataflowRunner", "--project", "demo-project", "--region", "europe-west4",
             "--temp_location", "gs://demo-bucket/tmp", "--sdk_container_image",
             "europe-docker.pkg.dev/demo/kubricgen/worker:1", "--dry_run"]
  result = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env, cwd=ROOT)
  assert result.returncode == 0, result.stderr[-3000:]
  assert "si_score/rotation: dry run: the pipeline was built and not run" in result.stderr
  assert "load it with" not in result.stderr and not os.listdir(tmp_path)
