"""Assets loaded per second, cold and cached, side by side in one run; results go to BENCHMARKS.md (## Assets).

  .venv/bin/python benchmarks/assets_load.py --repeats 3 --markdown BENCHMARKS.md

"Loaded" means `source.create(asset_id)`: a scene object ready for the simulator and renderer (files verified,
mesh normalised, collision pieces and mass computed, material built, render mesh read once by the object).
  * cold: an empty asset cache and no in-process memo (checksums, mesh reads): everything is derived (procedural
    meshes generated, pybullet_data meshes normalised, gs:// files downloaded and verified);
  * cached: the disk cache is filled but in-process memos are cleared (what a new worker process sees);
  * hot: the same process creating the same assets again.
Sources: the bundled class library, KuBasic, pybullet_data, and an imported mesh library served from gs:// by a
local gcp-storage-emulator process. Backgrounds: `BackgroundLibrary.load(id, 224)` from JPEG (decode + crop +
resize) and from its LRU cache. Each measurement is repeated with fresh caches; medians are reported.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from kubricgen.assets import BackgroundLibrary, ClassLibrary, ManifestSource, ProceduralSource  # noqa: E402
from kubricgen import storage  # noqa: E402
from kubricgen.assets import importer, integrity, locations  # noqa: E402
from kubricgen.scene import objects as scene_objects  # noqa: E402
from tests.conftest import environment_variable, gcs_emulator_process  # noqa: E402


def forget_memos() -> None:
  integrity.forget_verified()
  scene_objects._load_mesh_file.cache_clear()  # pylint: disable=protected-access


def timed_creates(make_source, ids=None) -> tuple[float, int]:
  start = time.perf_counter()
  source = make_source()  # reading (and for gs://, downloading) the manifest counts too
  ids = ids or source.ids
  for asset_id in ids:
    source.create(asset_id)
  return time.perf_counter() - start, len(ids)


@contextlib.contextmanager
def cache_dir(path):
  with environment_variable("KUBRICGEN_ASSET_CACHE", str(path)):
    yield path


@contextlib.contextmanager
def emulator():
  """A GCS emulator with STORAGE_EMULATOR_HOST pointing at it (the tests' own starter)."""
  with gcs_emulator_process() as endpoint, environment_variable("STORAGE_EMULATOR_HOST", endpoint):
    yield


def upload_library(scratch: str) -> str:
  """Import four pybullet_data meshes (duck, bunny, mug, teddy) and upload the manifest + files to the emulator."""
  data = locations.package_dir("pybullet_data")
  folder = os.path.join(scratch, "meshes")
  os.makedirs(folder)
  for name in ("duck.obj", "duck.mtl", "duckCM.png", "bunny.obj", "teddy2_VHACD_CHs.obj"):
    shutil.copy(data / name, folder)
  shutil.copy(data / "objects" / "mug.obj", folder)
  report = importer.import_folder(folder, os.path.join(scratch, "bundle", "lib.json"),
                                  importer.ImportOptions(thumbnails=False, vhacd_resolution=50_000))
  client = storage.default_storage()
  client.create_bucket("bench")
  bundle = report.manifest.parent
  for root, _, files in os.walk(bundle):
    for name in files:
      path = os.path.join(root, name)
      client.upload_file(path, f"gs://bench/{os.path.relpath(path, bundle)}")
  return "gs://bench/lib.json"


def measure(name, make_source, repeats, ids=None) -> dict:
  cold, cached, hot = [], [], []
  count = 0
  for _ in range(repeats):
    with tempfile.TemporaryDirectory(prefix="kubricgen-bench-cache-") as folder, cache_dir(folder):
      forget_memos()
      seconds, count = timed_creates(make_source, ids)
      cold.append(seconds)
      forget_memos()
      cached.append(timed_creates(make_source, ids)[0])
      hot.append(timed_creates(make_source, ids)[0])
  rate = lambda values: count / statistics.median(values)  # noqa: E731
  return {"source": name, "assets": count, "cold_per_s": rate(cold), "cached_per_s": rate(cached),
          "hot_per_s": rate(hot), "cold_s": statistics.median(cold), "cached_s": statistics.median(cached),
          "hot_s": statistics.median(hot)}


def measure_backgrounds(repeats: int, size: int = 224) -> dict:
  cold, hot = [], []
  count = 0
  for _ in range(repeats):
    library = BackgroundLibrary.default()
    count = len(library.ids)
    start = time.perf_counter()
    for background_id in library.ids:
      library.load(background_id, size)
    cold.append(time.perf_counter() - start)
    start = time.perf_counter()
    for background_id in library.ids:
      library.load(background_id, size)
    hot.append(time.perf_counter() - start)
  return {"source": f"backgrounds (bundled JPEG 512px -> {size}px)", "assets": count,
          "cold_per_s": count / statistics.median(cold), "cached_per_s": None,
          "hot_per_s": count / statistics.median(hot)}


def markdown(results: list[dict], repeats: int) -> str:
  lines = ["## Assets", "",
           "Assets loaded per second (`source.create(id)`: files verified, mesh normalised, collision and mass, "
           "material; `benchmarks/assets_load.py`, one run, all rows side by side, median of "
           f"{repeats} repeats with fresh caches; {platform.machine()}, {os.cpu_count()} cores, shared machine: load "
           f"average {os.getloadavg()[0]:.1f} at the end, so compare rows and ratios rather than absolute rates).",
           "cold = empty asset cache and no in-process memo; cached = disk cache filled, new-process memos; "
           "hot = same process again.", "",
           "| source | assets | cold /s | cached /s | hot /s | cached vs cold |", "|---|---:|---:|---:|---:|---:|"]
  for r in results:
    cached = f"{r['cached_per_s']:.1f}" if r["cached_per_s"] else "-"
    ratio = f"{r['cached_per_s'] / r['cold_per_s']:.1f}x" if r["cached_per_s"] else "-"
    lines.append(f"| {r['source']} | {r['assets']} | {r['cold_per_s']:.1f} | {cached} | {r['hot_per_s']:.0f} | "
                 f"{ratio} |")
  lines += ["",
            "- Cold is dominated by deriving meshes once: procedural generation (the soccer ball's 1024 px pattern "
            "texture is the slowest, ~1.7 s), normalising pybullet_data meshes (URDF visuals assembled) and writing "
            "collision pieces; after that every asset is a JSON read, an existence check and one OBJ read.",
            "- The class library's hot rate stays near its cached rate because the scene engine keeps the last 64 "
            "meshes (`kubricgen/scene/objects.py`, `_load_mesh_file` LRU) and the library has 78: creating all of them in "
            "turn re-reads every OBJ. Sources of <= 64 assets reach the hot rates above.",
            "- gs:// cold includes downloading and verifying every file from a local emulator (no network latency); "
            "on real GCS add one round trip per file on first use. Backgrounds: cold = JPEG decode + top-left square "
            "crop + resize; hot = a copy from the LRU cache."]
  return "\n".join(lines) + "\n"


def write_section(path: str, section: str) -> None:
  text = open(path, encoding="utf-8").read() if os.path.exists(path) else "# Benchmarks\n"
  start = text.find("\n## Assets\n")
  if start >= 0:
    end = text.find("\n## ", start + 1)
    text = text[:start + 1] + section + (text[end:] if end >= 0 else "")
  else:
    text = text.rstrip("\n") + "\n\n" + section
  with open(path + ".tmp", "w", encoding="utf-8") as handle:
    handle.write(text)
  os.replace(path + ".tmp", path)


def main(argv=None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--repeats", type=int, default=3)
  parser.add_argument("--markdown", help="write the ## Assets section into this file (e.g. BENCHMARKS.md)")
  parser.add_argument("--json", help="also write the raw results here")
  args = parser.parse_args(argv)
  results = [
      measure("class library (bundled, 23 classes)", lambda: ClassLibrary.default().source, args.repeats),
      measure("KuBasic (procedural)", ProceduralSource.kubasic, args.repeats),
      measure("pybullet_data (verified in place)", ManifestSource.pybullet_data, args.repeats),
  ]
  with tempfile.TemporaryDirectory(prefix="kubricgen-bench-") as scratch, emulator():
    with cache_dir(os.path.join(scratch, "import-cache")):
      url = upload_library(scratch)
    results.append(measure("imported meshes via gs:// (emulator)", lambda: ManifestSource.from_manifest(url),
                           args.repeats))
  results.append(measure_backgrounds(args.repeats))
  for r in results:
    print(json.dumps({k: (round(v, 3) if isinstance(v, float) else v) for k, v in r.items()}))
  section = markdown(results, args.repeats)
  print(section)
  if args.markdown:
    write_section(args.markdown, section)
  if args.json:
    with open(args.json, "w", encoding="utf-8") as handle:
      json.dump(results, handle, indent=2)
  return 0


if __name__ == "__main__":
  sys.exit(main())
