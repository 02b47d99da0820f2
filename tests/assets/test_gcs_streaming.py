"""kubricgen's one gs:// stack (kubricgen.storage) against a real gcp-storage-emulator: a transient server
error is retried by google-cloud-storage's own policy, a 64 MiB object is streamed up, down and through a reader in
bounded memory (peak RSS growth measured in a subprocess), and `kb.as_path` gives a pathlib-like path on it."""
import hashlib
import io
import json
import os
import subprocess
import sys
import time

import pytest

import kubricgen as kb
from kubricgen import storage
from kubricgen.storage import StorageError, StorageNotFoundError
from tests.conftest import ROOT, environment_variable
from tests.integrity.faults import FlakyProxy

BIG_MIB = 64


def write_random(path, mib: int) -> str:
  """A file of `mib` MiB of random bytes; returns its sha256."""
  digest = hashlib.sha256()
  with open(path, "wb") as handle:
    for _ in range(mib):
      chunk = os.urandom(1 << 20)
      digest.update(chunk)
      handle.write(chunk)
  return digest.hexdigest()


@pytest.fixture(scope="module")
def bucket(gcs_emulator):
  storage.default_storage().create_bucket("stream")
  return "gs://stream"


def test_a_transient_server_error_is_retried_by_the_library_policy(bucket, tmp_path):
  """The first request to each path through the proxy gets a 503; the library's DEFAULT_RETRY repeats it and every
  call succeeds, small and chunked (20 MiB, 8 MiB resumable chunks) alike. Without retry time the same 503 is one
  StorageError."""
  small, large = tmp_path / "small.bin", tmp_path / "large.bin"
  small.write_bytes(b"manifest bytes")
  large_sha = write_random(large, 20)
  with FlakyProxy(os.environ["STORAGE_EMULATOR_HOST"], share=1.0, seed=0, modes=("503",), once=True) as proxy, \
      environment_variable("STORAGE_EMULATOR_HOST", proxy.url):
    flaky = storage.GcsStorage(backoff_s=0.01)
    assert flaky.upload_file(small, f"{bucket}/retry/small.bin")  # multipart upload
    assert flaky.upload_file(large, f"{bucket}/retry/large.bin")  # resumable: start, then 3 chunks
    assert flaky.read_bytes(f"{bucket}/retry/small.bin") == b"manifest bytes"
    assert flaky.exists(f"{bucket}/retry/large.bin")
    assert flaky.list(f"{bucket}/retry") == [f"{bucket}/retry/large.bin", f"{bucket}/retry/small.bin"]
    flaky.download(f"{bucket}/retry/large.bin", tmp_path / "copy.bin")
    with flaky.open(f"{bucket}/retry/large.bin") as reader:  # ranged reads
      assert hashlib.sha256(reader.read()).hexdigest() == large_sha
    sink = io.BytesIO()
    flaky.stream(f"{bucket}/retry/large.bin", sink)  # one GET, into a sink
    assert hashlib.sha256(sink.getvalue()).hexdigest() == large_sha
    assert kb.as_path(f"{bucket}/retry/small.bin").read_text() == "manifest bytes"  # new default client, same rule
    flaky.delete(f"{bucket}/retry/small.bin")
    assert not flaky.exists(f"{bucket}/retry/small.bin")
    failed, requests = proxy.counts["503"], proxy.counts["requests"]
    none = storage.GcsStorage(retry_s=0, backoff_s=0.01)  # the policy with no time to retry in
    with pytest.raises(StorageError, match=r"other.bin: cannot read: .* after 0 s of retries \(InvalidResponse 503\)"):
      none.read_bytes(f"{bucket}/retry/other.bin")  # a new path: its first request fails
  assert hashlib.sha256((tmp_path / "copy.bin").read_bytes()).hexdigest() == large_sha
  assert failed >= 8 and requests >= 2 * failed  # each path's first request failed, its retry passed
  print(f"\n{failed} requests answered 503, each retried by the library: {requests} requests in all")


CHILD = r"""
import hashlib, json, os, sys, time
sys.path.insert(0, {root!r})
from kubricgen import storage
import kubricgen as kb
from kubricgen_sharding import shards

def peak_kib():
  for line in open("/proc/self/status"):
    if line.startswith("VmHWM:"):
      return int(line.split()[1])

def reset_peak():
  try:
    with open("/proc/self/clear_refs", "w") as handle:
      handle.write("5")  # the peak becomes the current resident size
  except OSError:
    pass  # then growth is measured from the peak so far: it can only read lower; the read_bytes case shows it works

def read_through(url):
  with kb.as_path(url).open("rb") as handle:
    for chunk in iter(lambda: handle.read(1 << 20), b""):
      pass

client = storage.default_storage()
source, url, small = {source!r}, {url!r}, {url!r} + ".small"
warm = source + ".small"
with open(warm, "wb") as handle:
  handle.write(os.urandom(1 << 20))
client.upload_file(warm, small)  # imports, connection pool and buffers before measuring
client.download(small, warm)
shards.object_digest(small)
read_through(small)
client.read_bytes(small)
results = {{}}
steps = [("upload_file", lambda: client.upload_file(source, url)),
         ("download", lambda: client.download(url, source + ".copy")),
         ("stream (shard digest)", lambda: shards.object_digest(url)),
         ("kb.as_path().open('rb')", lambda: read_through(url)),
         ("read_bytes (whole object, for contrast)", lambda: client.read_bytes(url))]
for name, step in steps:
  reset_peak()
  before, start = peak_kib(), time.perf_counter()
  result = step()
  results[name] = {{"peak_growth_mib": round((peak_kib() - before) / 1024, 1),
                    "seconds": round(time.perf_counter() - start, 2)}}
  del result
print(json.dumps(results))
"""


def test_a_large_object_is_streamed_in_bounded_memory(bucket, tmp_path, gcs_emulator):
  """A 64 MiB object: upload, download and streamed reads each grow the process's peak resident memory by well
  under the object's size (the chunk is 8 MiB); reading it whole grows it by at least the object, which shows the
  measure sees such growth."""
  source = tmp_path / "big.bin"
  sha = write_random(source, BIG_MIB)
  url = f"{bucket}/big/object.bin"
  code = CHILD.format(root=ROOT, source=str(source), url=url)
  env = dict(os.environ, STORAGE_EMULATOR_HOST=gcs_emulator, PYTHONPATH=ROOT)
  started = time.perf_counter()
  result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
  assert result.returncode == 0, result.stderr[-3000:]
  measured = json.loads(result.stdout.strip().splitlines()[-1])
  print(f"\n{BIG_MIB} MiB object, peak RSS growth ({time.perf_counter() - started:.1f} s in all):")
  for name, figures in measured.items():
    print(f"  {name}: +{figures['peak_growth_mib']} MiB in {figures['seconds']} s")
  for name, figures in measured.items():
    if name.startswith("read_bytes"):
      assert figures["peak_growth_mib"] >= 0.9 * BIG_MIB, measured  # the measure sees a whole object held
    else:
      assert figures["peak_growth_mib"] < 24, measured  # streamed in chunks of at most 8 MiB, not 64 MiB whole
  copy = tmp_path / "big.bin.copy"
  assert hashlib.sha256(copy.read_bytes()).hexdigest() == sha
  from kubricgen_sharding import shards
  assert shards.object_digest(url) == {"bytes": BIG_MIB << 20, "sha256": sha}


def test_kb_as_path_is_a_pathlib_like_gs_path_on_the_same_client(bucket):
  root = kb.as_path(f"{bucket}/aspath/")
  assert isinstance(root, storage.GsPath) and str(root) == f"{bucket}/aspath" and not root.exists()
  assert kb.as_path(root) is root and str(kb.as_path("relative/x")) == "relative/x"
  (root / "a.json").write_text('{"a": 1}')
  (root / "sub" / "b.txt").write_bytes(b"bee")
  with (root / "sub" / "c.txt").open("w") as handle:
    handle.write("sea")
  with pytest.raises(RuntimeError), (root / "never.txt").open("wb") as handle:
    handle.write(b"half")
    raise RuntimeError("the writer failed")  # an object appears only when its writer closes cleanly
  assert root.is_dir() and root.exists() and not root.is_file() and not (root / "never.txt").exists()
  assert [p.name for p in root.iterdir()] == ["a.json", "sub"]
  assert list(root.glob("*.json")) == [root / "a.json"]
  assert [str(p) for p in root.rglob("*.txt")] == [f"{bucket}/aspath/sub/b.txt", f"{bucket}/aspath/sub/c.txt"]
  child = root / "sub" / "c.txt"
  assert (child.name, child.stem, child.suffix, child.parent) == ("c.txt", "c", ".txt", root / "sub")
  assert child.with_suffix(".md").name == "c.md" and root.joinpath("sub", "c.txt") == child
  assert child.read_text() == "sea" and json.loads((root / "a.json").read_text()) == {"a": 1}
  with (root / "sub" / "b.txt").open("rb") as reader:
    assert reader.read(1) == b"b" and reader.read() == b"ee"
  with pytest.raises(FileNotFoundError, match="aspath/missing.txt: not found"):
    (root / "missing.txt").read_text()
  with pytest.raises(StorageNotFoundError):
    (root / "missing.txt").unlink()
  (root / "missing.txt").unlink(missing_ok=True)
  child.unlink()
  assert not child.exists() and (root / "sub").is_dir()
  root.rmtree()
  assert not root.exists()
  with pytest.raises(TypeError):
    open(child)  # not os.PathLike: a local-file function never takes a gs:// path for a local one


def test_a_kubric_manifest_data_dir_on_gs_is_a_gs_path(bucket):
  manifest = {"name": "Remote", "data_dir": f"{bucket}/kubric/objects", "assets": {
      "cube": {"id": "cube", "asset_type": "FileBasedObject", "kwargs": {}, "license": "CC0"}}}
  storage.default_storage().upload(json.dumps(manifest).encode(), f"{bucket}/kubric/manifest.json")
  source = kb.AssetSource.from_manifest(f"{bucket}/kubric/manifest.json")
  assert isinstance(source.data_dir, storage.GsPath) and str(source.data_dir) == f"{bucket}/kubric/objects"

