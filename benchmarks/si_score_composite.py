"""SI-Score composite mode vs SI-Score's own generator (google-research/si-score), side by side in one run (issue 6).

  .venv/bin/python benchmarks/si_score_composite.py --siscore_src DIR                    # location, size, rotation
  .venv/bin/python benchmarks/si_score_composite.py --siscore_src DIR --ours beam,auto,0  # + in-process variants
  .venv/bin/python benchmarks/si_score_composite.py --siscore_src DIR --subsets location --rounds 1 --instances 1 \\
      --no_breakdown --out /tmp/si_score_composite.json                                  # a quick look

DIR is an unmodified snapshot of google-research/si-score (its `dataset_generator.py`, `generator_script.py` and
`label_str_to_imagenet_classes.py`; not committed here, nothing of it is copied here). From the bare mirror:

  mkdir -p /tmp/siscore_src
  git -C /work/.mirror/google-research+si-score/repo archive HEAD | tar -x -C /tmp/siscore_src

or `git clone https://github.com/google-research/si-score`. It runs unchanged on this venv (Python 3.11, Pillow 12,
tensorflow-cpu 2.21 for its `tensorflow.io.gfile`); its requirements.txt pins (TF 2.3, Pillow 7.2) are ignored.
Before any timing, the benchmark runs its `generator_script.py` as it ships (its own sample objects and backgrounds,
cwd DIR, output in a scratch folder) to show that the snapshot works here; that run is recorded, not timed.

Inputs, the same for both sides, at 224x224 (--resolution):
* objects: --instances held-out objects of our benchmark library (`si_score_inputs.py`: coloured primitives, one
  class each), rendered once by our cut-out renderer (Blender, cached in --cache_dir; render time reported apart, in
  no rate). Ours reads them from the cut-out cache; si-score gets each cut-out's RGBA canvas as a PNG file in
  `<work>/siscore_inputs/<subset>/foregrounds/<class>/<instance>.png`. si-score only accepts class folders named in
  its label table (`label_str_to_imagenet_classes.py`), so our classes get these names there (objectNN: shape, by
  NN % 5 as in si_score_inputs.SHAPES, then NN // 5):

    | our classes                            | shape    | si-score class folders (same order)              |
    |----------------------------------------|----------|--------------------------------------------------|
    | object00, object05, object10, object15 | cube     | toaster, printer, microwave oven, filing cabinet |
    | object01, object06, object11, object16 | sphere   | orange, tennis ball, golf ball, lemon            |
    | object02, object07, object12, object17 | cylinder | candle, soap dispenser, hair spray, measuring cup |
    | object03, object08, object13, object18 | cone     | lighthouse, missile, sombrero, cowboy hat        |
    | object04, object09, object14, object19 | torus    | bagel, pretzel, mixing bowl, wok                 |
    | object20 and up                        |          | the label table's other names, in sorted order   |

  The names only label folders: neither side's work depends on them.
* backgrounds: --backgrounds procedural 640x480 "photos" (si_score_inputs.BenchBackgrounds), which ours makes in
  memory and si-score reads as PNG files `<work>/siscore_inputs/backgrounds/backgroundN.png` (lossless: the same
  pixels); both crop the top-left square and resize it (PIL bilinear). Both pair each object with 2 backgrounds
  drawn by their own seeded RNG (si-score: np.random.seed(0), as its script does); with the default of 2 backgrounds
  both therefore make exactly the same (object, background) pairs, which the run checks against si-score's
  metadata.csv (`same_pairs` in the JSON). With more backgrounds the pairs differ (same counts).
* grids: the paper's (kubricgen.datasets.si_score.factors.GRIDS, equal to the configs in si-score's
  generator_script.py docstring): location 21x21 centres at area 0.2 (threshold 0), size 100 areas (threshold 0.95),
  rotation 4 areas x 18 angles (threshold 0.95); si-score gets them as its `config` dict with bg_resolution
  [(224, 224)] and `min_pct_inside_image` = our threshold. Location counts match exactly (instances x 2 x 441);
  size and rotation differ because si-score measures pct_inside_image on the whole rotated canvas and we on the
  object's silhouette box (both drop images under 0.95). Rates are therefore compared as images/s.

Sides and modes (--modes, both by default). "whole" = a fresh interpreter running the command end to end
(interpreter start, imports, set-up, generation, writing, exit) timed from outside; "build" = the build alone inside
this process, which already ran one small untimed warm-up of the same side (imports paid).
* si-score, whole: `cd DIR && python -c SISCORE_DRIVER '<json>'` (the driver is below and saved in the JSON). It does
  what generator_script.py's main() does (`import dataset_generator as synthetic`, `np.random.seed(0)`,
  `synthetic.Dataset(config=..., foregrounds_dir=..., backgrounds_dir=..., new_dataset_dir=...,
  num_bgs_per_fg_instance=2, min_pct_inside_image=...)` and `.generate_dataset()`) with the subset's config and our
  input folders: generator_script.py itself hard-codes its config (a small size grid at 512x512), its input folders
  (foreground_samples/, background_samples/ in the cwd) and its threshold; its only flags are the dataset name and
  --new_dataset_parent_dir, and its README says to edit the script for other configs, which we do not.
* si-score, build: `dataset_generator` imported from DIR into this process, then the same two calls under the timer
  (np.random re-seeded with 0 first; its 100-thread pool, which it never closes, is closed after the timer; its
  three "... loaded/generated." prints go to /dev/null).
  Output either way: JPEG files (PIL's default quality 75) `<class>/<image_id>.jpg` written from a 100-thread pool in
  batches of 128, and metadata.csv and three small CSVs; no masks, no TFDS.
* ours: `kubricgen.datasets.si_score.build.build([subset], settings, ...)` writing the real TFDS dataset (JPEG q95
  image + PNG mask + every factor per example, tfrecord + array_record, atomic publish). Variants (--ours, each run
  every round, in this order): `beam` (default: the Beam job path, `beam_args=[]`, that scenes/si_score.py takes:
  local FnApiRunner workers, each job in a spawned child process that writes the job's TFDS shard, the driver only
  writes dataset_info.json), `auto` (the in-process TFDS writer, build's default min(2, cores - 1) compositing child
  processes, i.e. scenes/si_score.py --in_process), a number N (the in-process writer with N compositing children;
  0: everything in one process). Whole: `python -c OURS_DRIVER '<json>'` (below) in ROOT with PYTHONPATH=ROOT:
  benchmarks, the same build() call in a fresh interpreter.
* breakdown (ours only; --no_breakdown skips it): one more in-process build of the first subset in a single process
  with timers around each stage: CPU and wall ms per image for composite, JPEG encode, mask PNG encode, example
  record + content hash, TFDS feature encoding, TFDS serialization + shuffle buffer, shuffle + tfrecord write,
  array_record conversion, everything else.

The machine may be shared, so runs are interleaved (per round and subset, for each mode: si-score, then each of our
variants), medians are reported and each run records its CPU time (this process + its children; the Beam path's job
processes, which exit just after build() returns, are counted once gone) and the 1-minute load average. Results: a
JSON file (--out, default benchmarks/results/si_score_composite.json) and a markdown table on stdout.

Reading the numbers: the two sides do not write the same thing (si-score: q75 JPEG files and a CSV; ours: q95 JPEG +
PNG mask + all factors in TFDS records, in two file formats). si-score's whole-process time includes importing all of
TensorFlow, which it uses only for `tensorflow.io.gfile` (~4 s of start-up here); ours imports TensorFlow too (TFDS).
Ours' Beam "build" time includes starting its job processes (fresh interpreters, per build). si-score runs its 100
threads in one process (the GIL bounds it), ours the processes above.
"""
from __future__ import annotations

import argparse
import contextlib
import csv
import dataclasses
import functools
import hashlib
import importlib
import importlib.util
import itertools
import json
import multiprocessing
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
from PIL import Image
from tqdm.auto import tqdm

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HERE = os.path.dirname(os.path.abspath(__file__))
_OUTER_PYTHONPATH = os.environ.get("PYTHONPATH")  # si-score's processes get the caller's, without ours
sys.path[:0] = [ROOT, HERE]
os.environ["PYTHONPATH"] = os.pathsep.join([ROOT, HERE] + [p for p in [_OUTER_PYTHONPATH] if p])  # Beam, children
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from kubricgen.datasets.si_score import build, factors, generate, specs  # noqa: E402  pylint: disable=wrong-import-position
from si_score_inputs import SHAPES, BenchBackgrounds, make_library  # noqa: E402  pylint: disable=wrong-import-position

REFERENCE_IMAGES_PER_S = 1500  # a reference, not measured by this run: shared/reference/kubric.md (224 px, small cut-outs)
SISCORE_FILES = ("dataset_generator.py", "generator_script.py", "label_str_to_imagenet_classes.py")
MODES = ("whole", "build")

# Our classes' names in si-score's label table, by shape (si_score_inputs.SHAPES order), then by index // 5.
SISCORE_NAMES_BY_SHAPE = (
    ("toaster", "printer", "microwave oven", "filing cabinet"),  # cube
    ("orange", "tennis ball", "golf ball", "lemon"),  # sphere
    ("candle", "soap dispenser", "hair spray", "measuring cup"),  # cylinder
    ("lighthouse", "missile", "sombrero", "cowboy hat"),  # cone
    ("bagel", "pretzel", "mixing bowl", "wok"),  # torus
)
assert len(SISCORE_NAMES_BY_SHAPE) == len(SHAPES)

# si-score, whole process: run in DIR (so `import dataset_generator` finds DIR's, as `python generator_script.py`
# does), argv[1] = JSON with the config and folders. The calls are generator_script.py main()'s.
SISCORE_DRIVER = """\
import json, sys
import dataset_generator as synthetic
import numpy as np
import tensorflow.io.gfile as gfile
np.random.seed(0)
run = json.loads(sys.argv[1])
config = dict(run["config"], coord=[tuple(c) for c in run["config"]["coord"]],
              bg_resolution=[tuple(r) for r in run["config"]["bg_resolution"]])
if not gfile.exists(run["new_dataset_dir"]):
  gfile.makedirs(run["new_dataset_dir"])
dataset = synthetic.Dataset(config=config, foregrounds_dir=run["foregrounds_dir"],
                            backgrounds_dir=run["backgrounds_dir"], new_dataset_dir=run["new_dataset_dir"],
                            num_bgs_per_fg_instance=run["num_bgs_per_fg_instance"],
                            min_pct_inside_image=run["min_pct_inside_image"])
dataset.generate_dataset()
"""

# Ours, whole process: run in ROOT with PYTHONPATH=ROOT:benchmarks; argv[1] = JSON; prints the result as JSON.
OURS_DRIVER = """\
import functools, json, os, sys
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
run = json.loads(sys.argv[1])
from kubricgen.datasets.si_score import build, generate, specs
from si_score_inputs import BenchBackgrounds, make_library
extra = {"processes": run["processes"]} if run["processes"] is not None else {}
factory = functools.partial(generate.Generator, make_library=functools.partial(make_library, run["instances"]),
                            make_backgrounds=functools.partial(BenchBackgrounds, run["backgrounds"]), **extra)
beam = {}
if run["beam"] is not None:
  from kubricgen_sharding.executor import ExecutorSettings
  beam = {"beam_args": run["beam"], "executor_settings": ExecutorSettings()}
result = build.build([run["subset"]], specs.Settings(**run["settings"]), data_dir=run["data_dir"], overwrite=True,
                     cache_dir=run["cache_dir"], progress=False, generator_factory=factory, **beam)[0]
print(json.dumps({"examples": result.examples, "path": result.path}))
"""


# ---- si-score (the peer) ------------------------------------------------------------------------------------------

def check_siscore_src(src: str) -> dict:
  """The snapshot's files and their sha256 (recorded in the JSON: which si-score was measured)."""
  missing = [f for f in SISCORE_FILES if not os.path.isfile(os.path.join(src, f))]
  if missing:
    raise SystemExit(f"--siscore_src {src}: not a google-research/si-score snapshot (missing {', '.join(missing)}); "
                     "see this script's docstring for how to fetch it")
  hashes = {}
  for name in SISCORE_FILES:
    with open(os.path.join(src, name), "rb") as handle:
      hashes[name] = hashlib.sha256(handle.read()).hexdigest()
  return hashes


def siscore_label_table(src: str) -> dict[str, int]:
  spec = importlib.util.spec_from_file_location("siscore_label_table",
                                                os.path.join(src, "label_str_to_imagenet_classes.py"))
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return dict(module.label_str_to_imagenet_classes)


def siscore_class_names(our_classes: list[str], table: dict[str, int]) -> dict[str, str]:
  """Our class name -> a class name in si-score's label table (see the module docstring)."""
  mapping = {}
  for name in our_classes:
    index = int(name[len("object"):])
    by_shape = SISCORE_NAMES_BY_SHAPE[index % len(SHAPES)]
    if index // len(SHAPES) < len(by_shape):
      mapping[name] = by_shape[index // len(SHAPES)]
  reserved = {n for names in SISCORE_NAMES_BY_SHAPE for n in names}
  spare = iter(sorted(set(table) - reserved))
  for name in our_classes:
    if name not in mapping:
      mapping[name] = next(spare)
  unknown = sorted(set(mapping.values()) - set(table))
  if unknown:
    raise SystemExit(f"si-score's label table lacks {unknown}; its generator only accepts class folders it names")
  return mapping


def siscore_env() -> dict:
  """The environment of si-score's processes: the caller's, without the PYTHONPATH entries this script adds."""
  env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
  if _OUTER_PYTHONPATH:
    env["PYTHONPATH"] = _OUTER_PYTHONPATH
  return env


def siscore_selftest(src: str, work: str) -> dict:
  """generator_script.py exactly as it ships, on its own samples (cwd DIR): proves the snapshot runs here."""
  out = os.path.join(work, "siscore_selftest")
  start = time.perf_counter()
  result = subprocess.run([sys.executable, "generator_script.py", "--new_dataset_parent_dir", out, "area"],
                          cwd=src, env=siscore_env(), capture_output=True, text=True, check=False, timeout=1800)
  seconds = time.perf_counter() - start
  if result.returncode != 0:
    raise SystemExit(f"si-score's generator_script.py failed in {src} (exit {result.returncode}):\n"
                     f"{result.stderr[-3000:]}")
  images = count_jpegs(os.path.join(out, "area"))
  shutil.rmtree(out, ignore_errors=True)
  return {"command": f"cd {src} && {sys.executable} generator_script.py --new_dataset_parent_dir OUT area",
          "images": images, "seconds": seconds}


def siscore_config(subset: str, settings: specs.Settings) -> dict:
  """The subset's grid as si-score's `config` dict, plus its min_pct_inside_image (JSON-able)."""
  grid = factors.GRIDS[subset]
  number = lambda v: int(v) if float(v).is_integer() else float(v)  # noqa: E731  its docs use int angles
  config = {"coord": [[float(x), float(y)] for x, y in itertools.product(grid.xs, grid.ys)],
            "area": [float(a) for a in grid.areas], "rotation": [number(r) for r in grid.rotations],
            "bg_resolution": [[settings.resolution, settings.resolution]]}
  return {"config": config, "min_pct_inside_image": settings.threshold(subset)}


def count_jpegs(folder: str) -> int:
  return sum(sum(1 for f in files if f.endswith(".jpg")) for _, _, files in os.walk(folder))


def siscore_pairs(out: str) -> set[tuple[str, str]]:
  """(class, background file stem) pairs of the images si-score wrote, from its metadata.csv and index CSVs."""
  def table(name):
    with open(os.path.join(out, name), newline="", encoding="utf-8") as handle:
      return {int(row["int"]): row["label"] for row in csv.DictReader(handle)}
  classes, backgrounds = table("foreground_classes_metadata_indices.csv"), table("backgrounds.csv")
  with open(os.path.join(out, "metadata.csv"), newline="", encoding="utf-8") as handle:
    return {(classes[int(row["foreground_class"])], os.path.splitext(backgrounds[int(row["background"])])[0])
            for row in csv.DictReader(handle)}


@functools.lru_cache(maxsize=None)
def siscore_module(src: str):
  """si-score's dataset_generator, imported from DIR (its `import label_str_to_imagenet_classes` needs DIR on
  sys.path while it loads)."""
  sys.path.insert(0, src)
  try:
    module = importlib.import_module("dataset_generator")
  finally:
    sys.path.remove(src)
  if os.path.dirname(os.path.abspath(module.__file__)) != os.path.abspath(src):
    raise SystemExit(f"imported dataset_generator from {module.__file__}, not from --siscore_src {src}")
  return module


def run_siscore(subset: str, mode: str, inputs: dict, settings: specs.Settings, work: str, src: str,
                config: dict | None = None) -> dict:
  """One si-score run of `subset` ("whole": a fresh interpreter; "build": in this process)."""
  parent = os.path.join(work, "siscore_out")
  shutil.rmtree(parent, ignore_errors=True)
  new_dataset_dir = os.path.join(parent, subset, "")  # as generator_script.py makes it
  run = dict(config or siscore_config(subset, settings), foregrounds_dir=inputs["siscore_foregrounds"][subset],
             backgrounds_dir=inputs["siscore_backgrounds"], new_dataset_dir=new_dataset_dir,
             num_bgs_per_fg_instance=settings.backgrounds_per_instance)
  if mode == "whole":
    with Clock() as clock:
      result = subprocess.run([sys.executable, "-c", SISCORE_DRIVER, json.dumps(run)], cwd=src, env=siscore_env(),
                              capture_output=True, text=True, check=False, timeout=7200)
    if result.returncode != 0:
      raise RuntimeError(f"si-score run failed (exit {result.returncode}):\n{result.stderr[-3000:]}")
  else:
    synthetic = siscore_module(src)
    config_dict = dict(run["config"], coord=[tuple(c) for c in run["config"]["coord"]],
                       bg_resolution=[tuple(r) for r in run["config"]["bg_resolution"]])
    os.makedirs(new_dataset_dir, exist_ok=True)  # generator_script.py's gfile.makedirs, before its timer here too
    np.random.seed(0)
    with Clock() as clock, open(os.devnull, "w", encoding="utf-8") as devnull, contextlib.redirect_stdout(devnull):
      dataset = synthetic.Dataset(config=config_dict, foregrounds_dir=run["foregrounds_dir"],
                                  backgrounds_dir=run["backgrounds_dir"], new_dataset_dir=new_dataset_dir,
                                  num_bgs_per_fg_instance=run["num_bgs_per_fg_instance"],
                                  min_pct_inside_image=run["min_pct_inside_image"])
      dataset.generate_dataset()
    dataset._thread_pool.close()  # pylint: disable=protected-access  (si-score never closes it)
    dataset._thread_pool.join()  # pylint: disable=protected-access
  images = count_jpegs(new_dataset_dir)
  with open(os.path.join(new_dataset_dir, "metadata.csv"), encoding="utf-8") as handle:
    rows = sum(1 for _ in handle) - 1
  pairs = siscore_pairs(new_dataset_dir)
  size = sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(new_dataset_dir) for f in files)
  shutil.rmtree(parent, ignore_errors=True)
  wanted = {(inputs["class_names"][c], b) for c, _, b in inputs["pairs"][subset]}
  return {"images": images, "metadata_rows": rows, "seconds": clock.wall, "images_per_s": images / clock.wall,
          "cpu_ms_per_image": 1000 * clock.cpu / max(images, 1), "bytes_per_image": size / max(images, 1),
          "same_pairs": pairs == wanted if config is None else None}


# ---- ours ---------------------------------------------------------------------------------------------------------

class Clock:
  """Wall time and CPU time (this process's threads + its children) of a block. The wall time stops when the block
  ends; the CPU time also counts child processes still exiting then (the Beam path's job processes are let go
  without a wait, `JobExecutor.close(wait=False)`), once they are gone (at most 60 s later)."""

  def __enter__(self):
    self.before = {p.pid for p in multiprocessing.active_children()}
    self.wall, self.cpu = time.perf_counter(), _cpu_seconds()
    return self

  def __exit__(self, *exc):
    self.wall = time.perf_counter() - self.wall
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and any(p.pid not in self.before  # active_children() reaps exited ones
                                              for p in multiprocessing.active_children()):
      time.sleep(0.02)
    self.cpu = _cpu_seconds() - self.cpu


def _cpu_seconds() -> float:
  children = resource.getrusage(resource.RUSAGE_CHILDREN)
  return time.process_time() + children.ru_utime + children.ru_stime


INPUTS = {"instances": 16, "backgrounds": 2}  # set from --instances, --backgrounds


def generator_factory(processes: int | None = None):
  """Our generator with the benchmark's libraries; `processes` where this version of `Generator` has it."""
  extra = {}
  if processes is not None and "processes" in getattr(generate.Generator, "__dataclass_fields__", {}):
    extra["processes"] = processes
  return functools.partial(generate.Generator, make_library=functools.partial(make_library, INPUTS["instances"]),
                           make_backgrounds=functools.partial(BenchBackgrounds, INPUTS["backgrounds"]), **extra)


SETTINGS_FIELDS = ("resolution", "samples", "test_instances_per_class", "backgrounds_per_instance", "classes")


def bench_settings(args) -> specs.Settings:
  return specs.Settings(resolution=args.resolution, samples=args.samples, test_instances_per_class=1,
                        backgrounds_per_instance=2)


def prepare_inputs(settings: specs.Settings, subsets: list[str], work: str, cache_dir: str, table: dict,
                   progress: bool) -> dict:
  """Render (or load) every cut-out once, write si-score's input files, and list the (instance, bg) pairs."""
  generator = generator_factory()(settings, cache_dir=cache_dir)
  class_names = siscore_class_names([c.name for c in generator.library.classes], table)
  root = os.path.join(work, "siscore_inputs")
  backgrounds = os.path.join(root, "backgrounds")
  os.makedirs(backgrounds, exist_ok=True)
  pairs, needed, foregrounds = {}, {}, {}
  for subset in subsets:
    subset_specs = specs.subset_specs(subset, settings, generator.library, list(generator.backgrounds.ids))
    pairs[subset] = list(dict.fromkeys((s.class_name, s.instance_id, s.background_id) for s in subset_specs))
    foregrounds[subset] = os.path.join(root, subset, "foregrounds")
    for job in specs.group_into_jobs(subset_specs, settings.job_size):
      needed.setdefault((job.instance_id, job.pose), job)
  start = time.perf_counter()
  shapes, pngs = [], {}
  for job in tqdm(list(needed.values()), desc="cut-outs", unit="object", disable=not progress):
    cutout = generator.cutout(job)
    shapes.append(cutout.rgba.shape[:2])
    pngs[job.instance_id] = (job.specs[0].class_name, Image.fromarray(cutout.rgba, "RGBA"))
  cutout_seconds = time.perf_counter() - start
  for subset in subsets:  # one folder per subset: si-score takes every file under its foregrounds_dir
    for instance_id in sorted({i for _, i, _ in pairs[subset]}):
      class_name, image = pngs[instance_id]
      folder = os.path.join(foregrounds[subset], class_names[class_name])
      os.makedirs(folder, exist_ok=True)
      image.save(os.path.join(folder, f"{instance_id}.png"))
  for background_id in generator.backgrounds.ids:
    Image.fromarray(generator.backgrounds.source(background_id)).save(os.path.join(backgrounds,
                                                                                   f"{background_id}.png"))
  return {"pairs": pairs, "class_names": class_names, "siscore_foregrounds": foregrounds,
          "siscore_backgrounds": backgrounds, "cutouts": len(needed), "cutout_seconds": cutout_seconds,
          "cutout_sizes": sorted(shapes)}


def run_ours(subset: str, mode: str, settings: specs.Settings, work: str, cache_dir: str, variant: str,
             progress: bool) -> dict:
  """One build: `variant` "beam" (the Beam job path), "auto" (in-process writer, build's default children) or a
  number of compositing child processes; `mode` "whole" (a fresh interpreter) or "build" (in this process)."""
  data_dir = os.path.join(work, "tfds")
  processes = int(variant) if variant.isdigit() else None
  job_summary = None
  shutil.rmtree(os.path.join(data_dir, build.NAME), ignore_errors=True)
  if mode == "whole":
    run = {"subset": subset, "settings": {k: getattr(settings, k) for k in SETTINGS_FIELDS},
           "instances": INPUTS["instances"],
           "backgrounds": INPUTS["backgrounds"], "processes": processes, "beam": beam_args(variant),
           "data_dir": data_dir, "cache_dir": cache_dir}
    with Clock() as clock:
      result = subprocess.run([sys.executable, "-c", OURS_DRIVER, json.dumps(run, default=list)], cwd=ROOT,
                              env=dict(os.environ), capture_output=True, text=True, check=False, timeout=7200)
    if result.returncode != 0:
      raise RuntimeError(f"our build failed (exit {result.returncode}):\n{result.stderr[-3000:]}")
    built = json.loads(result.stdout.strip().splitlines()[-1])
    examples, path = built["examples"], built["path"]
  else:
    beam = {}
    if beam_args(variant) is not None:
      from kubricgen_sharding.executor import ExecutorSettings  # pylint: disable=import-outside-toplevel
      beam = {"beam_args": beam_args(variant), "executor_settings": ExecutorSettings()}
    with Clock() as clock:
      result = build.build([subset], settings, data_dir=data_dir, overwrite=True, cache_dir=cache_dir,
                           progress=progress, generator_factory=generator_factory(processes), **beam)[0]
    examples, path = result.examples, result.path
    if result.summary:  # the Beam path: pipeline wall time vs the jobs' own time, per worker
      workers = len(result.summary["workers"]) or 1
      job_summary = {"pipeline_seconds": result.summary["wall_seconds"],
                     "job_seconds_per_worker": result.summary["worker_seconds"] / workers, "workers": workers}
  size = sum(os.path.getsize(os.path.join(path, f)) for f in os.listdir(path))
  shutil.rmtree(os.path.join(data_dir, build.NAME), ignore_errors=True)
  return {"images": examples, "seconds": clock.wall, "images_per_s": examples / clock.wall,
          "cpu_ms_per_image": 1000 * clock.cpu / max(examples, 1), "bytes_per_image": size / max(examples, 1),
          "job_summary": job_summary}


def beam_args(variant: str) -> list[str] | None:
  """"beam": the Beam path with the local default (2 workers); "beamN": with N local workers; else None."""
  if variant == "beam":
    return []
  if variant.startswith("beam") and variant[4:].isdigit():
    return [f"--direct_num_workers={int(variant[4:])}"]
  return None


# ---- breakdown ----------------------------------------------------------------------------------------------------

class StageTimers:
  """Wraps module attributes with timers for one run and restores them afterwards (measurement only)."""

  def __init__(self):
    self.seconds: dict[str, float] = {}  # CPU time of the calling thread
    self.wall: dict[str, float] = {}
    self._restore = []

  def wrap(self, owner, attribute: str, stage: str) -> None:
    original = getattr(owner, attribute, None)
    if original is None:
      return
    seconds, wall = self.seconds, self.wall

    @functools.wraps(original)
    def timed(*args, **kwargs):
      start, start_wall = time.thread_time(), time.perf_counter()  # CPU time: other work on the machine is not ours
      try:
        return original(*args, **kwargs)
      finally:
        seconds[stage] = seconds.get(stage, 0.0) + time.thread_time() - start
        wall[stage] = wall.get(stage, 0.0) + time.perf_counter() - start_wall
    setattr(owner, attribute, timed)
    self._restore.append((owner, attribute, original))

  def restore(self) -> None:
    for owner, attribute, original in reversed(self._restore):
      setattr(owner, attribute, original)
    self._restore.clear()


def run_breakdown(subset: str, settings: specs.Settings, work: str, cache_dir: str, progress: bool) -> dict:
  """Our per-image CPU cost by stage (CPU time of the building thread), from one single-process build with timers
  around each stage."""
  import tensorflow_datasets as tfds  # pylint: disable=import-outside-toplevel
  from tensorflow_datasets.core import writer as writer_lib  # pylint: disable=import-outside-toplevel
  from kubricgen.datasets.si_score import composite, schema  # pylint: disable=import-outside-toplevel
  timers = StageTimers()
  timers.wrap(composite, "composite", "composite")
  timers.wrap(schema, "encode_jpeg", "JPEG encode")
  timers.wrap(schema, "encode_png", "mask PNG encode")
  timers.wrap(schema, "example", "example record (incl. encodes)")
  timers.wrap(tfds.features.FeaturesDict, "encode_example", "TFDS feature encoding")
  timers.wrap(writer_lib.Writer, "write", "TFDS serialize + shuffle buffer")
  timers.wrap(writer_lib.Writer, "finalize", "TFDS shuffle + tfrecord write")
  timers.wrap(build, "_convert_to_array_record", "array_record conversion")
  data_dir = os.path.join(work, "tfds-breakdown")
  try:
    start, wall = time.thread_time(), time.perf_counter()
    result = build.build([subset], settings, data_dir=data_dir, overwrite=True, cache_dir=cache_dir,
                         progress=progress, generator_factory=generator_factory(0))[0]
    total, wall = time.thread_time() - start, time.perf_counter() - wall
  finally:
    timers.restore()
    shutil.rmtree(data_dir, ignore_errors=True)
  images = result.examples
  per_image = {}
  for kind, stages, whole in (("cpu", dict(timers.seconds), total), ("wall", dict(timers.wall), wall)):
    record = stages.pop("example record (incl. encodes)", 0.0)
    stages["example record + content hash"] = record - stages.get("JPEG encode", 0) - stages.get("mask PNG encode",
                                                                                                   0)
    stages[EVERYTHING_ELSE] = whole - sum(stages.values())
    per_image[kind] = {k: 1000 * v / images for k, v in stages.items()}
  return {"subset": subset, "images": images, "cpu_seconds": total, "wall_seconds": wall,
          "images_per_s": images / wall, "ms_per_image": per_image["cpu"], "wall_ms_per_image": per_image["wall"]}


EVERYTHING_ELSE = "everything else (TFDS setup, specs, cut-out loads, loop, dataset_info, publish)"


# ---- report -------------------------------------------------------------------------------------------------------

def machine() -> dict:
  model = platform.processor()
  with contextlib.suppress(OSError), open("/proc/cpuinfo", encoding="utf-8") as handle:
    model = next((line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")), model)
  import PIL  # pylint: disable=import-outside-toplevel
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  import tensorflow_datasets as tfds  # pylint: disable=import-outside-toplevel
  return {"cpu": model, "cores": os.cpu_count(), "python": platform.python_version(), "pillow": PIL.__version__,
          "numpy": np.__version__, "tensorflow": tf.__version__, "tensorflow_datasets": tfds.__version__}


def summarise(runs: list[dict]) -> dict:
  rates = [r["images_per_s"] for r in runs]
  out = {"images": runs[0]["images"], "images_per_s_median": statistics.median(rates), "images_per_s_runs": rates,
         "seconds_median": statistics.median(r["seconds"] for r in runs),
         "cpu_ms_per_image_median": statistics.median(r["cpu_ms_per_image"] for r in runs)}
  summaries = [r["job_summary"] for r in runs if r.get("job_summary")]
  if summaries:  # pipeline wall time over the jobs' own time per worker: 1.0 = no overhead
    out["pipeline_overhead_median"] = statistics.median(
        j["pipeline_seconds"] / max(j["job_seconds_per_worker"], 1e-9) for j in summaries)
    out["workers"] = summaries[0]["workers"]
  return out


VARIANT_NAMES = {"beam": "ours (Beam path)", "beam1": "ours (Beam path, 1 worker)", "auto": "ours, in-process writer",
                 "0": "ours, in one process"}
MODE_NAMES = {"whole": "whole process", "build": "build only"}


def variant_name(variant: str) -> str:
  return VARIANT_NAMES.get(variant, f"ours, {variant} compositing child process{'es' if variant != '1' else ''}")


def markdown(results: dict) -> str:
  variants = results["variants"]
  lines = ["| subset | mode | images (si-score / ours) | si-score img/s (CPU ms/img) | "
           + " | ".join(f"{variant_name(v)} img/s (CPU ms/img) | ratio" for v in variants) + " |",
           "|---|---|---|---|" + "---|---|" * len(variants)]
  for subset, by_mode in results["subsets"].items():
    for mode, row in by_mode.items():
      base = row["siscore"]
      cells = [f"{row[v]['images_per_s_median']:,.0f} ({row[v]['cpu_ms_per_image_median']:.2f}) | "
               f"{row[v]['ratio_median']:.2f}" for v in variants]
      lines.append(f"| {subset} | {MODE_NAMES[mode]} | {base['images']:,} / {row[variants[0]]['images']:,} | "
                   f"{base['images_per_s_median']:,.0f} ({base['cpu_ms_per_image_median']:.2f}) | "
                   + " | ".join(cells) + " |")
  scaling = [(subset, by_mode["build"]) for subset, by_mode in results["subsets"].items()
             if "build" in by_mode and {"beam", "beam1"} <= set(by_mode["build"])]
  if scaling:
    lines += ["", "Scale (build only, Beam path): efficiency = img/s with 2 local workers / (2 x img/s with 1); "
              "pipeline overhead = pipeline wall time / the jobs' own seconds per worker (1.00: none).", "",
              "| subset | 1 worker img/s | 2 workers img/s | efficiency | overhead, 1 worker | overhead, 2 workers |",
              "|---|---|---|---|---|---|"]
    for subset, row in scaling:
      one, two = row["beam1"], row["beam"]
      lines.append(f"| {subset} | {one['images_per_s_median']:,.0f} | {two['images_per_s_median']:,.0f} | "
                   f"{two['images_per_s_median'] / (2 * one['images_per_s_median']):.2f} | "
                   f"{one.get('pipeline_overhead_median', float('nan')):.2f} | "
                   f"{two.get('pipeline_overhead_median', float('nan')):.2f} |")
  lines.append("")
  lines.append("img/s: images written / wall seconds (medians); whole process: a fresh interpreter, end to end; "
               "build only: in a warmed-up process. CPU ms/img: CPU time of the process and its children per image; "
               "ratio: ours / si-score img/s, the median of the per-round ratios (each round runs all back to back).")
  breakdown = results.get("breakdown")
  if breakdown:
    lines += ["", f"Our CPU cost per image by stage, {breakdown['subset']} ({breakdown['images']:,} images, one "
              f"process, {breakdown['images_per_s']:,.0f} img/s wall):", "",
              "| stage | CPU ms / image | wall ms / image |", "|---|---|---|"]
    lines += [f"| {stage} | {ms:.3f} | {breakdown['wall_ms_per_image'][stage]:.3f} |"
              for stage, ms in breakdown["ms_per_image"].items()]
    lines.append(f"| **total** | {sum(breakdown['ms_per_image'].values()):.3f} | "
                 f"{sum(breakdown['wall_ms_per_image'].values()):.3f} |")
  return "\n".join(lines)


def parse_args(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--siscore_src", required=True, help="an unmodified google-research/si-score snapshot "
                      "(dataset_generator.py, generator_script.py, label_str_to_imagenet_classes.py)")
  parser.add_argument("--subsets", default="location,size,rotation", help="comma-separated test subsets")
  parser.add_argument("--instances", type=int, default=16, help="held-out object instances (one class each)")
  parser.add_argument("--backgrounds", type=int, default=2, help="background images (2: both sides make the same "
                      "object x background pairs; more: same files, each side draws its own pairs)")
  parser.add_argument("--resolution", type=int, default=224)
  parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (si-score, ours) per subset")
  parser.add_argument("--modes", default=",".join(MODES), help="comma-separated: whole (a fresh interpreter, end "
                      "to end), build (in this warmed-up process)")
  parser.add_argument("--ours", default="beam", help="comma-separated variants of our build, each run every "
                      "round: beam (the Beam job path, scenes/si_score.py's default: 2 local workers), beamN (with N "
                      "local workers), auto (the in-process writer "
                      "with build's default children), a number of compositing child processes (0: none)")
  parser.add_argument("--no_breakdown", action="store_true", help="skip the per-stage breakdown run")
  parser.add_argument("--samples", type=int, default=16, help="Cycles samples of the cut-out renders")
  parser.add_argument("--work_dir", default=None, help="scratch folder (default: a temporary one, removed)")
  parser.add_argument("--cache_dir", default=None, help="cut-out cache to reuse between runs (default: in work_dir)")
  parser.add_argument("--out", default=os.path.join(ROOT, "benchmarks", "results", "si_score_composite.json"))
  parser.add_argument("--no_progress", action="store_true")
  args = parser.parse_args(argv)
  args.siscore_src = os.path.abspath(args.siscore_src)
  args.subsets = [s for s in args.subsets.split(",") if s]
  args.ours = [v for v in args.ours.split(",") if v]
  args.modes = [m for m in args.modes.split(",") if m]
  if not args.ours or any(v != "auto" and beam_args(v) is None and not v.isdigit() for v in args.ours):
    parser.error(f"--ours: expected beam, beamN, auto or a number of processes, got {args.ours}")
  unknown = sorted(set(args.subsets) - set(factors.GRIDS))
  if unknown or not args.subsets:
    parser.error(f"--subsets: unknown {unknown}; choose from {','.join(factors.GRIDS)}")
  if not args.modes or set(args.modes) - set(MODES):
    parser.error(f"--modes: expected whole and/or build, got {args.modes}")
  if args.instances < 1 or args.rounds < 1:
    parser.error("--instances and --rounds must be >= 1")
  if args.backgrounds < 2:
    parser.error("--backgrounds must be >= 2 (each object is paired with 2)")
  return args


def main(argv=None) -> dict:
  args = parse_args(argv)
  siscore_hashes = check_siscore_src(args.siscore_src)
  build.quiet_tfds()
  progress = not args.no_progress
  INPUTS.update(instances=args.instances, backgrounds=args.backgrounds)
  settings = bench_settings(args)
  work = args.work_dir or tempfile.mkdtemp(prefix="si_score_bench-")
  cache_dir = args.cache_dir or os.path.join(work, "cutouts")
  try:
    selftest = siscore_selftest(args.siscore_src, work)
    inputs = prepare_inputs(settings, args.subsets, work, cache_dir, siscore_label_table(args.siscore_src),
                            progress)
    sides = ["siscore"] + args.ours
    if "build" in args.modes:
      # Warm-up, not timed: one small in-process run per side pays the one-time imports (TensorFlow on first write,
      # Beam, si-score's module) that every later build in this process skips.
      first = args.subsets[0]
      small = dataclasses.replace(settings, classes=(inputs["pairs"][first][0][0],))
      tiny = siscore_config(first, settings)
      tiny["config"].update(coord=[[0.5, 0.5]], area=[0.2], rotation=[0])
      for side in tqdm(sides, desc="warm-up", unit="run", disable=not progress):
        if side == "siscore":
          run_siscore(first, "build", inputs, settings, work, args.siscore_src, config=tiny)
        else:
          run_ours(first, "build", small, work, cache_dir, side, progress)
    runs = {s: {m: {side: [] for side in sides} for m in args.modes} for s in args.subsets}
    schedule = [(r, s, m, side) for r in range(args.rounds) for s in args.subsets for m in args.modes
                for side in sides]
    for round_index, subset, mode, side in tqdm(schedule, desc="runs", unit="run", disable=not progress):
      if side == "siscore":
        run = run_siscore(subset, mode, inputs, settings, work, args.siscore_src)
      else:
        run = run_ours(subset, mode, settings, work, cache_dir, side, progress and mode == "build")
      run["round"], run["load_average_1min"] = round_index, os.getloadavg()[0]
      runs[subset][mode][side].append(run)
    breakdown = None if args.no_breakdown else run_breakdown(args.subsets[0], settings, work, cache_dir, progress)
  finally:
    if not args.work_dir:
      shutil.rmtree(work, ignore_errors=True)
  results = {
      "benchmark": "si_score_composite", "command": " ".join([os.path.relpath(__file__, ROOT)] + sys.argv[1:]),
      "machine": machine(), "resolution": args.resolution, "instances": args.instances,
      "backgrounds": args.backgrounds, "rounds": args.rounds, "modes": args.modes, "variants": args.ours,
      "siscore": {"src": args.siscore_src, "sha256": siscore_hashes, "selftest": selftest,
                  "class_names": inputs["class_names"], "driver": SISCORE_DRIVER,
                  "whole_command": f"cd {args.siscore_src} && {sys.executable} -c SISCORE_DRIVER '<json>'"},
      "ours_driver": OURS_DRIVER,
      "cutouts": {"count": inputs["cutouts"], "render_seconds": inputs["cutout_seconds"],
                  "canvas_sizes_hw": inputs["cutout_sizes"], "render_resolution": settings.render_resolution,
                  "samples": settings.samples},
      "subsets": {}, "breakdown": breakdown, "runs": runs,
  }
  for subset in args.subsets:
    results["subsets"][subset] = {}
    for mode in args.modes:
      by_side = runs[subset][mode]
      row = {"siscore": dict(summarise(by_side["siscore"]),
                             same_pairs=all(r["same_pairs"] for r in by_side["siscore"]))}
      for variant in args.ours:
        ratios = [o["images_per_s"] / b["images_per_s"] for b, o in zip(by_side["siscore"], by_side[variant])]
        row[variant] = dict(summarise(by_side[variant]), ratio_median=statistics.median(ratios), ratio_runs=ratios)
      results["subsets"][subset][mode] = row
  os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
  with open(args.out, "w", encoding="utf-8") as handle:
    json.dump(results, handle, indent=2)
  print(f"SI-Score composite vs si-score's generator at {args.resolution}x{args.resolution}, {args.instances} "
        f"held-out instances x 2 of {args.backgrounds} backgrounds, medians of {args.rounds} interleaved rounds; "
        f"{inputs['cutouts']} cut-outs rendered in {inputs['cutout_seconds']:.1f} s (not timed below); si-score's "
        f"own generator_script.py: {selftest['images']} images in {selftest['seconds']:.1f} s. Machine: "
        f"{results['machine']['cpu']}, {results['machine']['cores']} cores.\n")
  print(markdown(results))
  pairs = {f"{s}/{m}": row["siscore"]["same_pairs"] for s, by_mode in results["subsets"].items()
           for m, row in by_mode.items()}
  print(f"\nsame (object, background) pairs on both sides: {pairs}")
  if "location" in results["subsets"]:
    location = results["subsets"]["location"]
    mode = "build" if "build" in location else args.modes[0]  # the rate without start-up: what 541,548 images see
    best = max(location[mode][v]["images_per_s_median"] for v in args.ours)
    print(f"\nlocation ({MODE_NAMES[mode]}): {best:,.0f} img/s measured at {args.resolution} px on "
          f"{results['machine']['cores']} cores; si-score here: {location[mode]['siscore']['images_per_s_median']:,.0f} "
          f"img/s; the original's reference ~{REFERENCE_IMAGES_PER_S:,} img/s. The paper's 541,548 location images "
          f"are not built here: BENCHMARKS.md models their cost (cut-outs included) from this rate.")
  picture = plot(results, os.path.splitext(args.out)[0] + ".png")
  print(f"\nJSON: {args.out}\npicture: {picture}")
  return results


def plot(results: dict, path: str) -> str:
  """Bar chart of ours / si-score img/s per subset and mode (one bar per variant of ours), the 1.0 line marking
  si-score's rate. `python benchmarks/si_score_composite.py --replot JSON` redraws it from a saved run."""
  import matplotlib  # pylint: disable=import-outside-toplevel
  matplotlib.use("Agg")
  from matplotlib import pyplot  # pylint: disable=import-outside-toplevel
  variants = results["variants"]
  rows = [(f"{subset}\n{MODE_NAMES[mode]}", row) for subset, by_mode in results["subsets"].items()
          for mode, row in by_mode.items()]
  figure, axes = pyplot.subplots(figsize=(1.6 + 1.5 * len(rows), 3.6))
  width = 0.8 / len(variants)
  for i, variant in enumerate(variants):
    ratios = [row[variant]["ratio_median"] for _, row in rows]
    bars = axes.bar([k + (i - (len(variants) - 1) / 2) * width for k in range(len(rows))], ratios, width,
                    label=variant_name(variant))
    axes.bar_label(bars, fmt="%.2f", fontsize=8)
  axes.axhline(1.0, color="black", linewidth=1, linestyle="--", label="si-score's own generator")
  axes.set_xticks(range(len(rows)), [label for label, _ in rows], fontsize=8)
  axes.set_ylabel("images/s, ours / si-score")
  axes.set_title(f"SI-Score composite vs si-score's generator, {results['resolution']} px, medians of "
                 f"{results['rounds']} interleaved rounds", fontsize=9)
  axes.legend(fontsize=8, loc="upper left")
  figure.tight_layout()
  figure.savefig(path, dpi=110)
  pyplot.close(figure)
  return path


if __name__ == "__main__" and sys.argv[1:2] == ["--replot"]:
  with open(sys.argv[2], encoding="utf-8") as saved:
    print(plot(json.load(saved), os.path.splitext(sys.argv[2])[0] + ".png"))
elif __name__ == "__main__":
  main()
