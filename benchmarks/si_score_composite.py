"""SI-Score composite mode vs the original SI-Score generator, side by side in one run (issue 6, item 4).

  .venv/bin/python benchmarks/si_score_composite.py                     # location, size, rotation; 3 rounds
  .venv/bin/python benchmarks/si_score_composite.py --ours auto,0,2,beam # in-process, 2 children, the Beam path
  .venv/bin/python benchmarks/si_score_composite.py --subsets location --rounds 1 --instances 4   # a quick look

Both sides get the same inputs: object cut-outs rendered once by our cut-out renderer (Blender, cached; the render
time is reported apart and is not part of either rate), the same procedural "photo" backgrounds and the same
(object instance, background) pairs, at 224x224.

* baseline: what google-research/si-score's `dataset_generator.py` does, re-implemented here (not copied): load the
  cut-out PNGs and background files, crop each background to its top-left square and resize it, then per image copy
  and resize the cut-out (PIL bilinear), rotate it (bicubic, expanded canvas), compute the top-left corner and
  pct_inside_image, drop it under the threshold, paste it with its alpha onto a copy of the background and save a
  JPEG file (PIL defaults, quality 75) under `<class>/<image_id>.jpg`, 128 images per batch mapped over a
  100-thread pool, one metadata.csv row per image. No masks, no TFDS.
* ours: `kubricgen.datasets.si_score.build.build([subset], settings, ...)` writing the real TFDS dataset (JPEG q95
  image + PNG mask + every factor per example, shuffled tfrecord shards, array_record copy, atomic publish), cut-outs
  already in the cut-out cache. Variants (--ours): `auto` (build's default: compositing in min(2, cores - 1) child
  processes), a number of child processes (0: all in the building process), `beam` (the Beam job path, which
  `scenes/si_score.py` uses unless --in_process).
* breakdown: one more build of the first subset in a single process with timers around each stage, giving our CPU
  cost per image (CPU time of the building thread, so other load on the machine does not count) and wall time per
  image: composite, JPEG encode, mask PNG encode, example record + content hash, TFDS feature encoding, TFDS
  serialization + shuffle buffer, shuffle + tfrecord write, array_record conversion, everything else.

Each rate is end to end (setup, writing, publishing included) in a process that already ran one small warm-up build
per variant (one-time imports of TensorFlow and Beam cost several seconds and are not counted). The machine is shared,
so runs are interleaved (baseline, ours, ..., baseline, ours, ...), medians are reported, and each run records its
CPU time and the load average. Results: a JSON file (--out) and a markdown table on stdout.
"""
from __future__ import annotations

import argparse
import contextlib
import csv
import dataclasses
import functools
import io
import itertools
import json
import os
import platform
import resource
import shutil
import statistics
import sys
import tempfile
import time
from multiprocessing import pool as thread_pools

import numpy as np
from PIL import Image
from tqdm.auto import tqdm

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [ROOT, HERE]
os.environ["PYTHONPATH"] = os.pathsep.join([ROOT, HERE] + [p for p in [os.environ.get("PYTHONPATH")] if p])  # Beam
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from kubricgen.datasets.si_score import build, factors, generate, specs  # noqa: E402  pylint: disable=wrong-import-position
from si_score_inputs import make_backgrounds, make_library  # noqa: E402  pylint: disable=wrong-import-position

REFERENCE_IMAGES_PER_S = 1500  # the original generator on this machine, 224x224, small cut-outs (issue 6)
MILESTONE_IMAGES_PER_S = 200  # location subset: 541,548 images in under 45 minutes


# ---- the baseline: the original generator's pipeline ---------------------------------------------------------------

def original_grid(subset: str) -> dict:
  """The original generator's config for a subset (its docstring's configs; the paper's full size grid)."""
  grid = factors.GRIDS[subset]
  return {"coord": [(x, y) for x, y in itertools.product(grid.xs, grid.ys)], "area": list(grid.areas),
          "rotation": list(grid.rotations), "min_pct_inside_image": grid.visibility_threshold}


def _read_image(path: str) -> Image.Image:
  with open(path, "rb") as handle:
    image = Image.open(io.BytesIO(handle.read()))
    image.load()
  return image


class OriginalStyleGenerator:
  """The original SI-Score generator's pipeline (see the module docstring), written for this benchmark."""

  def __init__(self, config: dict, foregrounds_dir: str, backgrounds_dir: str, out_dir: str,
               pairs: list[tuple[str, str, str]], resolution: int, threads: int = 100, batch_size: int = 128):
    self.config, self.out_dir, self.pairs, self.resolution = config, out_dir, pairs, resolution
    self.batch_size = batch_size
    self.threads = thread_pools.ThreadPool(threads)
    names = sorted({(class_name, instance) for class_name, instance, _ in pairs})
    loaded = self.threads.map(_read_image, [os.path.join(foregrounds_dir, c, f"{i}.png") for c, i in names])
    self.foregrounds = dict(zip(names, loaded))
    background_ids = sorted({b for _, _, b in pairs})
    loaded = self.threads.map(_read_image, [os.path.join(backgrounds_dir, f"{b}.png") for b in background_ids])
    self.backgrounds = dict(zip(background_ids, self.threads.map(self._square, loaded)))
    for class_name in sorted({c for c, _, _ in pairs}):
      os.makedirs(os.path.join(out_dir, class_name), exist_ok=True)
    self.metadata_path = os.path.join(out_dir, "metadata.csv")

  def _square(self, image: Image.Image) -> Image.Image:
    side = min(image.size)
    image = image.crop((0, 0, side, side))
    if image.size != (self.resolution, self.resolution):
      image = image.resize((self.resolution, self.resolution), Image.BILINEAR)
    return image

  def image_rows(self) -> list[dict]:
    rows = itertools.product(self.config["coord"], self.config["area"], self.config["rotation"], self.pairs)
    return [{"id": i, "x": x, "y": y, "area": area, "rotation": rotation, "class": c, "instance": instance,
             "background": background} for i, ((x, y), area, rotation, (c, instance, background)) in enumerate(rows)]

  def make_image(self, row: dict) -> dict | None:
    foreground = self.foregrounds[(row["class"], row["instance"])]
    background = self.backgrounds[row["background"]]
    # Resize so the cut-out's canvas covers `area` of the background (truncating like the original).
    factor = np.sqrt(row["area"] / (foreground.width * foreground.height / (background.width * background.height)))
    scaled = foreground.copy().resize((int(foreground.width * factor), int(foreground.height * factor)),
                                      Image.BILINEAR)
    turned = scaled.rotate(row["rotation"], resample=Image.BICUBIC, expand=True)
    left = int(int(row["x"] * background.width) - turned.width * 0.5)
    top = int(int(row["y"] * background.height) - turned.height * 0.5)
    inside = ((min(left + turned.width, background.width) - max(left, 0))
              * (min(top + turned.height, background.height) - max(top, 0)))
    pct_inside = inside / (turned.width * turned.height)
    if pct_inside < self.config["min_pct_inside_image"]:
      return None
    image = background.copy()
    image.paste(turned, box=(left, top), mask=turned)
    with open(os.path.join(self.out_dir, row["class"], f"{row['id']}.jpg"), "wb") as handle:
      image.save(handle)  # format from the file name: JPEG, PIL's default quality
    return dict(row, pct_inside_image=round(pct_inside, 4))

  def generate(self, progress: bool = False) -> int:
    rows = self.image_rows()
    with open(self.metadata_path, "w", newline="", encoding="utf-8") as handle:
      csv.writer(handle).writerow(["image_id", "x_coord", "y_coord", "area", "rotation", "foreground_class",
                                  "foreground_instance", "background", "pct_inside_image"])
    written = 0
    with tqdm(total=len(rows), desc="  baseline", unit="img", disable=not progress, leave=False) as bar:
      for start in range(0, len(rows), self.batch_size):
        made = self.threads.map(self.make_image, rows[start:start + self.batch_size])
        with open(self.metadata_path, "a", newline="", encoding="utf-8") as handle:
          writer = csv.writer(handle)
          for row in made:
            if row is not None:
              written += 1
              writer.writerow([row["id"], row["x"], row["y"], row["area"], row["rotation"], row["class"],
                               row["instance"], row["background"], row["pct_inside_image"]])
        bar.update(len(made))
    self.threads.close()
    return written


# ---- runs ---------------------------------------------------------------------------------------------------------

class Clock:
  """Wall time and CPU time (this process's threads + children that finished) of a block."""

  def __enter__(self):
    self.wall, self.cpu = time.perf_counter(), _cpu_seconds()
    return self

  def __exit__(self, *exc):
    self.wall, self.cpu = time.perf_counter() - self.wall, _cpu_seconds() - self.cpu


def _cpu_seconds() -> float:
  children = resource.getrusage(resource.RUSAGE_CHILDREN)
  return time.process_time() + children.ru_utime + children.ru_stime


INSTANCES = {"count": 8}  # set from --instances


def generator_factory(processes: int | None = None):
  """Our generator with the benchmark's libraries; `processes` where this version of `Generator` has it."""
  extra = {}
  if processes is not None and "processes" in getattr(generate.Generator, "__dataclass_fields__", {}):
    extra["processes"] = processes
  return functools.partial(generate.Generator, make_library=functools.partial(make_library, INSTANCES["count"]),
                           make_backgrounds=make_backgrounds, **extra)


def prepare_inputs(settings: specs.Settings, subsets: list[str], work: str, cache_dir: str, progress: bool) -> dict:
  """Render (or load) every cut-out once, write the baseline's input files, and list the (instance, bg) pairs."""
  generator = generator_factory()(settings, cache_dir=cache_dir)
  foregrounds, backgrounds = os.path.join(work, "foregrounds"), os.path.join(work, "backgrounds")
  os.makedirs(backgrounds, exist_ok=True)
  pairs, needed = {}, {}
  for subset in subsets:
    subset_specs = specs.subset_specs(subset, settings, generator.library, list(generator.backgrounds.ids))
    pairs[subset] = list(dict.fromkeys((s.class_name, s.instance_id, s.background_id) for s in subset_specs))
    for job in specs.group_into_jobs(subset_specs, settings.job_size):
      needed.setdefault((job.instance_id, job.pose), job)
  start = time.perf_counter()
  shapes = []
  for job in tqdm(list(needed.values()), desc="cut-outs", unit="object", disable=not progress):
    cutout = generator.cutout(job)
    shapes.append(cutout.rgba.shape[:2])
    folder = os.path.join(foregrounds, job.specs[0].class_name)
    os.makedirs(folder, exist_ok=True)
    Image.fromarray(cutout.rgba).save(os.path.join(folder, f"{job.instance_id}.png"))
  cutout_seconds = time.perf_counter() - start
  for background_id in generator.backgrounds.ids:
    Image.fromarray(generator.backgrounds.source(background_id)).save(os.path.join(backgrounds,
                                                                                   f"{background_id}.png"))
  return {"pairs": pairs, "foregrounds": foregrounds, "backgrounds": backgrounds, "cutouts": len(needed),
          "cutout_seconds": cutout_seconds, "cutout_sizes": sorted(shapes)}


def run_baseline(subset: str, inputs: dict, settings: specs.Settings, work: str, threads: int,
                 progress: bool) -> dict:
  out = os.path.join(work, "baseline", subset)
  shutil.rmtree(out, ignore_errors=True)
  with Clock() as clock:
    generator = OriginalStyleGenerator(original_grid(subset), inputs["foregrounds"], inputs["backgrounds"], out,
                                       inputs["pairs"][subset], settings.resolution, threads=threads)
    images = generator.generate(progress)
  shutil.rmtree(out, ignore_errors=True)
  return {"images": images, "seconds": clock.wall, "images_per_s": images / clock.wall,
          "cpu_ms_per_image": 1000 * clock.cpu / images}


def run_ours(subset: str, settings: specs.Settings, work: str, cache_dir: str, variant: str,
             progress: bool) -> dict:
  """One build: `variant` "auto" (build's default), a number of processes, or "beam" (the Beam job path)."""
  data_dir = os.path.join(work, "tfds")
  processes = int(variant) if variant.isdigit() else None
  beam = {"beam_args": [], "executor_settings": None} if variant == "beam" else {}
  if beam:
    from beam_jobs.executor import ExecutorSettings  # pylint: disable=import-outside-toplevel
    beam["executor_settings"] = ExecutorSettings()
  with Clock() as clock:
    result = build.build([subset], settings, data_dir=data_dir, overwrite=True, cache_dir=cache_dir,
                         progress=progress, generator_factory=generator_factory(processes), **beam)[0]
  seconds = clock.wall
  size = sum(os.path.getsize(os.path.join(result.path, f)) for f in os.listdir(result.path))
  shutil.rmtree(os.path.join(data_dir, build.NAME), ignore_errors=True)
  return {"images": result.examples, "seconds": seconds, "images_per_s": result.examples / seconds,
          "cpu_ms_per_image": 1000 * clock.cpu / result.examples, "bytes_per_image": size / max(result.examples, 1)}


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
  import tensorflow_datasets as tfds  # pylint: disable=import-outside-toplevel
  return {"cpu": model, "cores": os.cpu_count(), "python": platform.python_version(), "pillow": PIL.__version__,
          "numpy": np.__version__, "tensorflow_datasets": tfds.__version__}


def summarise(runs: list[dict]) -> dict:
  rates = [r["images_per_s"] for r in runs]
  return {"images": runs[0]["images"], "images_per_s_median": statistics.median(rates), "images_per_s_runs": rates,
          "seconds_median": statistics.median(r["seconds"] for r in runs),
          "cpu_ms_per_image_median": statistics.median(r["cpu_ms_per_image"] for r in runs)}


VARIANT_NAMES = {"auto": "ours", "beam": "ours, Beam path", "0": "ours, in one process"}


def variant_name(variant: str) -> str:
  return VARIANT_NAMES.get(variant, f"ours, {variant} compositing child process{'es' if variant != '1' else ''}")


def markdown(results: dict) -> str:
  variants = results["variants"]
  lines = ["| subset | images (baseline / ours) | baseline img/s (CPU ms/img) | "
           + " | ".join(f"{variant_name(v)} img/s (CPU ms/img) | ratio" for v in variants) + " |",
           "|---|---|---|" + "---|---|" * len(variants)]
  for subset, row in results["subsets"].items():
    base = row["baseline"]
    cells = [f"{row[v]['images_per_s_median']:,.0f} ({row[v]['cpu_ms_per_image_median']:.2f}) | "
             f"{row[v]['ratio_median']:.2f}" for v in variants]
    lines.append(f"| {subset} | {base['images']:,} / {row[variants[0]]['images']:,} | "
                 f"{base['images_per_s_median']:,.0f} ({base['cpu_ms_per_image_median']:.2f}) | "
                 + " | ".join(cells) + " |")
  lines.append("")
  lines.append("img/s: wall clock, end to end (medians); CPU ms/img: CPU time of the process and its children per "
               "image; ratio: ours / baseline img/s, the median of the per-round ratios (each round runs all back "
               "to back).")
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
  parser.add_argument("--subsets", default="location,size,rotation", help="comma-separated test subsets")
  parser.add_argument("--instances", type=int, default=16, help="held-out object instances (one class each)")
  parser.add_argument("--resolution", type=int, default=224)
  parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (baseline, ours) per subset")
  parser.add_argument("--threads", type=int, default=100, help="baseline thread pool (the original's: 100)")
  parser.add_argument("--ours", default="auto", help="comma-separated variants of our build, each run every "
                      "round: auto (build's default), a number of compositing child processes (0: none), beam "
                      "(the Beam job path)")
  parser.add_argument("--no_breakdown", action="store_true", help="skip the per-stage breakdown run")
  parser.add_argument("--samples", type=int, default=16, help="Cycles samples of the cut-out renders")
  parser.add_argument("--work_dir", default=None, help="scratch folder (default: a temporary one, removed)")
  parser.add_argument("--cache_dir", default=None, help="cut-out cache to reuse between runs (default: in work_dir)")
  parser.add_argument("--out", default=os.path.join(ROOT, "benchmarks", "out", "si_score_composite.json"))
  parser.add_argument("--no_progress", action="store_true")
  args = parser.parse_args(argv)
  args.subsets = [s for s in args.subsets.split(",") if s]
  args.ours = [v for v in args.ours.split(",") if v]
  if not args.ours or any(v not in ("auto", "beam") and not v.isdigit() for v in args.ours):
    parser.error(f"--ours: expected auto, beam or a number of processes, got {args.ours}")
  unknown = sorted(set(args.subsets) - set(factors.GRIDS))
  if unknown or not args.subsets:
    parser.error(f"--subsets: unknown {unknown}; choose from {','.join(factors.GRIDS)}")
  if args.instances < 1 or args.rounds < 1:
    parser.error("--instances and --rounds must be >= 1")
  return args


def main(argv=None) -> dict:
  args = parse_args(argv)
  build.quiet_tfds()
  progress = not args.no_progress
  INSTANCES["count"] = args.instances
  settings = specs.Settings(resolution=args.resolution, samples=args.samples, test_instances_per_class=1,
                            backgrounds_per_instance=2)
  work = args.work_dir or tempfile.mkdtemp(prefix="si_score_bench-")
  cache_dir = args.cache_dir or os.path.join(work, "cutouts")
  try:
    inputs = prepare_inputs(settings, args.subsets, work, cache_dir, progress)
    sides = ["baseline"] + args.ours
    # Warm-up, not timed: one small build per variant pays the one-time imports (TensorFlow on first write, Beam in
    # the array_record converter: several seconds) that every later build in this process skips.
    first_class = inputs["pairs"][args.subsets[0]][0][0]
    small = dataclasses.replace(settings, classes=(first_class,))
    for side in tqdm(sides, desc="warm-up", unit="run", disable=not progress):
      if side == "baseline":
        run_baseline(args.subsets[0], dict(inputs, pairs={args.subsets[0]: inputs["pairs"][args.subsets[0]][:1]}),
                     settings, work, args.threads, progress)
      else:
        run_ours(args.subsets[0], small, work, cache_dir, side, progress)
    runs = {s: {side: [] for side in sides} for s in args.subsets}
    schedule = [(r, s, side) for r in range(args.rounds) for s in args.subsets for side in sides]
    for round_index, subset, side in tqdm(schedule, desc="runs", unit="run", disable=not progress):
      if side == "baseline":
        run = run_baseline(subset, inputs, settings, work, args.threads, progress)
      else:
        run = run_ours(subset, settings, work, cache_dir, side, progress)
      run["round"], run["load_average_1min"] = round_index, os.getloadavg()[0]
      runs[subset][side].append(run)
    breakdown = None if args.no_breakdown else run_breakdown(args.subsets[0], settings, work, cache_dir, progress)
  finally:
    if not args.work_dir:
      shutil.rmtree(work, ignore_errors=True)
  results = {
      "benchmark": "si_score_composite", "command": " ".join([os.path.relpath(__file__, ROOT)] + sys.argv[1:]),
      "machine": machine(), "resolution": args.resolution, "instances": args.instances, "rounds": args.rounds,
      "baseline_threads": args.threads, "variants": args.ours,
      "cutouts": {"count": inputs["cutouts"], "render_seconds": inputs["cutout_seconds"],
                  "canvas_sizes_hw": inputs["cutout_sizes"], "render_resolution": settings.render_resolution,
                  "samples": settings.samples},
      "subsets": {}, "breakdown": breakdown, "runs": runs,
  }
  for subset in args.subsets:
    row = {"baseline": summarise(runs[subset]["baseline"])}
    for variant in args.ours:
      ratios = [o["images_per_s"] / b["images_per_s"]
                for b, o in zip(runs[subset]["baseline"], runs[subset][variant])]
      row[variant] = dict(summarise(runs[subset][variant]), ratio_median=statistics.median(ratios),
                          ratio_runs=ratios)
    results["subsets"][subset] = row
  os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
  with open(args.out, "w", encoding="utf-8") as handle:
    json.dump(results, handle, indent=2)
  print(f"SI-Score composite at {args.resolution}x{args.resolution}, {args.instances} held-out instances x 2 "
        f"backgrounds, medians of {args.rounds} interleaved rounds; {inputs['cutouts']} cut-outs rendered in "
        f"{inputs['cutout_seconds']:.1f} s (not timed below). Machine: {results['machine']['cpu']}, "
        f"{results['machine']['cores']} cores.\n")
  print(markdown(results))
  if "location" in results["subsets"]:
    location = results["subsets"]["location"]
    best = max(location[v]["images_per_s_median"] for v in args.ours)
    print(f"\nlocation: milestone >= {MILESTONE_IMAGES_PER_S} img/s (541,548 images in 45 min): "
          f"{'met' if best >= MILESTONE_IMAGES_PER_S else 'NOT met'} ({best:,.0f} img/s, 541,548 images in "
          f"~{541548 / best / 60:.0f} min at this rate); target: the original's ~{REFERENCE_IMAGES_PER_S:,} img/s "
          f"(reference) and the baseline measured here ({location['baseline']['images_per_s_median']:,.0f} img/s)")
  print(f"\nJSON: {args.out}")
  return results


if __name__ == "__main__":
  main()
