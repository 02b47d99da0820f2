"""Beam job pipeline: overhead, 1 -> 2 worker scaling and worker memory, side by side in one run (issue 7, item 8).

  .venv/bin/python benchmarks/beam_scaling.py --out benchmarks/results/beam_scaling.json

Three measurements, all on the local FnApiRunner (multi-processing) that `kubricgen render` uses by default:
  * Job stage (`kubricgen_sharding.pipeline.run_jobs`) of the SI-Score `train` config in composite mode at 224x224, built
    with the small test library (tests/datasets/si_score/small_library.py), cut-outs rendered once beforehand and a
    fresh job cache every run. Runs with 1 and 2 workers are interleaved (1 2 1 2 ...) and medians reported:
      overhead  = wall / (sum of per-job worker seconds / workers)    (target <= 1.10)
      scaling   = throughput(2 workers) / (2 x throughput(1 worker))  (target >= 0.85)
    The wall time is split into start-up (until each Beam worker's first job starts), gaps between jobs, and tail
    (from a worker's last job to the end of the pipeline), from per-job start/end times logged by the jobs.
  * The whole build (`build.build`: job stage + TFDS write + array_record conversion) of the same config with 2
    workers: the same overhead ratio over the whole wall time, with each phase's seconds.
  * Worker memory: >= 500 jobs, each building a small kubricgen scene and rendering it with Blender (32x32, 2 spp),
    run through the pipeline on one Beam worker, with the default worker recycling (`jobs_per_process` 50) and
    without (one child for every job). Each job returns its child's and its Beam worker's VmRSS; growth compares
    the median RSS of the last 50 jobs with that of the first 50.
The machine is shared: other engineers' tests may run on the same 2 cores, so the load average is recorded.
"""
from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
  sys.path.insert(0, ROOT)
# Beam workers and job children are separate interpreters: they import this module, the test library and the
# builder by name, so the repository root goes on their path too.
os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (ROOT, os.environ.get("PYTHONPATH")) if p)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

TARGETS = {"overhead": 1.10, "scaling": 0.85, "memory_growth_pct": 10.0}


def log(message: str) -> None:
  print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def load_average() -> list[float]:
  return [round(x, 2) for x in os.getloadavg()]


def vmrss_kb(pid: int | str = "self") -> int | None:
  """Resident memory of a process in kB, from /proc (psutil is not installed)."""
  try:
    with open(f"/proc/{pid}/status", encoding="ascii") as handle:
      for line in handle:
        if line.startswith("VmRSS:"):
          return int(line.split()[1])
  except OSError:
    return None
  return None


# ---- jobs (module level: Beam workers and job children import them from here) -----------------------------------

@dataclasses.dataclass
class TimedExamples:
  """`generator.examples`, plus a record of when and where each job ran (one small JSON file per job)."""
  generator: object
  log_dir: str

  def __call__(self, job):
    start, cpu = time.time(), time.process_time()
    examples = list(self.generator.examples(job))
    end = time.time()
    record = {"key": job.key, "pid": os.getpid(), "start": start, "end": end, "cpu_s": time.process_time() - cpu,
              "items": len(job.specs)}
    name = f"{os.getpid()}-{int(start * 1e6)}.json"
    with open(os.path.join(self.log_dir, name), "w", encoding="utf-8") as handle:
      json.dump(record, handle)
    return examples


def count_examples(timed: TimedExamples, job) -> int:
  """The bare reference: make a job's examples in a plain process, hand back only their number."""
  return len(timed(job))


@dataclasses.dataclass(frozen=True)
class SceneJob:
  key: str
  seed: int


_JOBS_IN_THIS_PROCESS = 0


def render_small_scene(job: SceneJob, resolution: int = 32, samples: int = 2) -> list:
  """Build a small random scene (floor, 3 objects, sun, camera), render it with Blender, report memory."""
  global _JOBS_IN_THIS_PROCESS  # pylint: disable=global-statement
  import numpy as np  # pylint: disable=import-outside-toplevel
  import kubricgen as kb  # pylint: disable=import-outside-toplevel
  from kubricgen.renderer.blender import Blender  # pylint: disable=import-outside-toplevel
  rng = np.random.RandomState(job.seed)
  scene = kb.Scene(resolution=(resolution, resolution), frame_start=1, frame_end=1)
  scene += kb.Cube(name="floor", scale=(3, 3, 0.1), position=(0, 0, -0.1), static=True)
  for index, shape in enumerate((kb.Cube, kb.Sphere, kb.Cone)):
    scene += shape(name=f"object_{index}", scale=float(rng.uniform(0.2, 0.5)),
                   position=(*rng.uniform(-1, 1, 2), 0.5),
                   material=kb.PrincipledBSDFMaterial(color=kb.random_hue_color(rng=rng)))
  scene += kb.DirectionalLight(name="sun", position=(-1, -0.5, 3), look_at=(0, 0, 0), intensity=3.0)
  scene.camera = kb.PerspectiveCamera(name="camera", position=(3, -1, 4), look_at=(0, 0, 0.3))
  renderer = Blender(scene, samples_per_pixel=samples, use_denoising=False, seed=job.seed)
  image = renderer.render_still(return_layers=("rgba",), progress=False)["rgba"]
  renderer.close()
  _JOBS_IN_THIS_PROCESS += 1
  return [(job.key, {"rss_kb": vmrss_kb(), "beam_worker_rss_kb": vmrss_kb(os.getppid()), "pid": os.getpid(),
                     "beam_worker": os.getppid(), "job_in_process": _JOBS_IN_THIS_PROCESS, "time": time.time(),
                     "mean_pixel": float(image.mean())})]


# ---- SI-Score workload ---------------------------------------------------------------------------------------------

def workload(flags):
  """(settings, generator, jobs) of the composite `train` config with the small library; cut-outs rendered now."""
  from kubricgen.datasets.si_score import generate, specs  # pylint: disable=import-outside-toplevel
  from tests.datasets.si_score import small_library  # pylint: disable=import-outside-toplevel
  overrides = {"job_size": flags.job_size} if flags.job_size else {}  # default: the project's (one job per pose)
  settings = specs.Settings(resolution=flags.resolution, train_examples=flags.train_examples, **overrides)
  generator = generate.Generator(settings, cache_dir=flags.cutouts, make_library=small_library.make_library,
                                 make_backgrounds=small_library.make_backgrounds)
  jobs = specs.group_into_jobs(specs.train_specs(settings, generator.library, generator.backgrounds.ids),
                               settings.job_size)
  start = time.perf_counter()
  for job in {(j.instance_id, j.pose): j for j in jobs}.values():
    generator.cutout(job)
  log(f"workload: {len(jobs)} jobs, {sum(len(j.specs) for j in jobs)} images at {flags.resolution}px; cut-outs "
      f"ready in {time.perf_counter() - start:.1f} s")
  return settings, generator, jobs


def split_wall(records: list[dict], start: float, end: float) -> dict:
  """Where the wall time of a job stage went, per job child process (one per worker here: no worker runs 50 jobs, so
  none is recycled): start-up until its first job, its jobs, gaps between them, tail after its last job. `cpu_share`
  is the jobs' CPU seconds over their wall seconds: below 1, the jobs waited for a core (other processes ran)."""
  by_child: dict[int, list[dict]] = {}
  for record in records:
    by_child.setdefault(record["pid"], []).append(record)
  children = {}
  for pid, runs in sorted(by_child.items()):
    runs.sort(key=lambda r: r["start"])
    busy = sum(r["end"] - r["start"] for r in runs)
    children[str(pid)] = {
        "jobs": len(runs), "busy_s": round(busy, 2), "startup_s": round(runs[0]["start"] - start, 2),
        "gaps_s": round(runs[-1]["end"] - runs[0]["start"] - busy, 2), "tail_s": round(end - runs[-1]["end"], 2),
        "cpu_share": round(sum(r["cpu_s"] for r in runs) / busy, 3)}
  return children


def run_bare(jobs, timed: TimedExamples, workers: int) -> None:
  """The same jobs in `workers` plain spawned processes taking jobs as they free up: no Beam, no cache, results
  not sent back. What the machine gives two processes at the moment, to compare the pipeline's scaling with."""
  import concurrent.futures  # pylint: disable=import-outside-toplevel
  import multiprocessing  # pylint: disable=import-outside-toplevel
  with concurrent.futures.ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
    list(pool.map(functools.partial(count_examples, timed), jobs))


def run_job_stage(flags, generator, jobs, workers: int, scratch: str, mode: str) -> dict:
  """One run of the job stage: `mode` is an FnApiRunner running mode, or "bare" (see run_bare)."""
  from kubricgen_sharding.cache import JobCache  # pylint: disable=import-outside-toplevel
  from kubricgen_sharding.executor import ExecutorSettings  # pylint: disable=import-outside-toplevel
  from kubricgen_sharding.pipeline import run_jobs  # pylint: disable=import-outside-toplevel
  run_dir = tempfile.mkdtemp(prefix=f"stage-{workers}w-", dir=scratch)
  log_dir = os.path.join(run_dir, "log")
  os.makedirs(log_dir)
  cache = JobCache(os.path.join(run_dir, "jobs"), f"benchmark|{run_dir}").prepare()
  timed = TimedExamples(generator, log_dir)
  load_before = load_average()
  start = time.time()
  if mode == "bare":
    run_bare(jobs, timed, workers)
  else:
    run_jobs(jobs, timed, cache, [f"--direct_num_workers={workers}", f"--direct_running_mode={mode}"],
             ExecutorSettings(timeout_s=1800), description=f"job stage, {workers} worker(s), {mode}",
             progress=flags.progress)
  end = time.time()
  wall = end - start
  records = [json.load(open(os.path.join(log_dir, name), encoding="utf-8")) for name in os.listdir(log_dir)]
  # The pipeline's own per-job seconds (cache stats, as in the job summary); the job log's for the bare runs.
  worker_seconds = sum(r["seconds"] for r in cache.all_stats()) if mode != "bare" else \
      sum(r["end"] - r["start"] for r in records)
  images = sum(len(j.specs) for j in jobs)
  result = {"workers": workers, "mode": mode, "wall_s": round(wall, 2), "worker_seconds": round(worker_seconds, 2),
            "images": images, "images_per_s": round(images / wall, 2),
            "overhead": round(wall / (worker_seconds / workers), 3),
            "per_child": split_wall(records, start, end), "load_before": load_before, "load_after": load_average()}
  shutil.rmtree(run_dir, ignore_errors=True)
  return result


def measure_job_stage(flags, generator, jobs) -> dict:
  """Interleaved rounds of (1 worker, N workers) for each running mode; the first mode is the one reported."""
  all_runs = {mode: {1: [], flags.workers: []} for mode in flags.modes}
  for repeat in range(flags.repeats):
    for mode in flags.modes:
      for workers in (1, flags.workers):
        result = run_job_stage(flags, generator, jobs, workers, flags.scratch, mode)
        all_runs[mode][workers].append(result)
        log(f"job stage round {repeat + 1}/{flags.repeats}, {mode}, {workers} worker(s): wall {result['wall_s']} "
            f"s, worker seconds {result['worker_seconds']}, overhead {result['overhead']}, "
            f"{result['images_per_s']} img/s, load {result['load_after']}")
  return {mode: summarise_stage(flags, runs) for mode, runs in all_runs.items()}


def summarise_stage(flags, runs) -> dict:
  one, many = runs[1], runs[flags.workers]
  # Efficiency of each interleaved pair (the two runs saw the most similar machine), and of the medians.
  pairs = [b["images_per_s"] / (flags.workers * a["images_per_s"]) for a, b in zip(one, many)]
  median = lambda values: round(statistics.median(values), 3)
  return {
      "runs": {str(k): v for k, v in runs.items()},
      "overhead_median": median([r["overhead"] for r in many]),
      "overhead_1_worker_median": median([r["overhead"] for r in one]),
      "wall_s_median": {"1": median([r["wall_s"] for r in one]),
                        str(flags.workers): median([r["wall_s"] for r in many])},
      "worker_seconds_median": {"1": median([r["worker_seconds"] for r in one]),
                                str(flags.workers): median([r["worker_seconds"] for r in many])},
      "images_per_s_median": {"1": median([r["images_per_s"] for r in one]),
                              str(flags.workers): median([r["images_per_s"] for r in many])},
      "scaling_per_pair": [round(p, 3) for p in pairs],
      "scaling_median": median(pairs),
      "cpu_share_median": {str(w): median([c["cpu_share"] for r in rs for c in r["per_child"].values()])
                           for w, rs in runs.items()},
      # scaling = (worker seconds(1) / worker seconds(N)) x (overhead(1) / overhead(N)): the first factor is how much
      # slower each job ran beside another (the machine), the second what the pipeline added (1.0 = nothing).
      "job_speed_factor": median([a["worker_seconds"] / b["worker_seconds"] for a, b in zip(one, many)]),
      "pipeline_factor": median([a["overhead"] / b["overhead"] for a, b in zip(one, many)]),
  }


def measure_build(flags, settings, generator) -> dict:
  """The whole build with `flags.workers` workers: job stage, TFDS write, array_record conversion."""
  from kubricgen_sharding import pipeline  # pylint: disable=import-outside-toplevel
  from kubricgen.datasets.si_score import build  # pylint: disable=import-outside-toplevel
  from kubricgen.datasets.si_score.si_score_dataset_builder import Builder  # pylint: disable=import-outside-toplevel
  phases: dict[str, float] = {}

  def timed(name, function):
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
      start = time.perf_counter()
      try:
        return function(*args, **kwargs)
      finally:
        phases[name] = phases.get(name, 0.0) + time.perf_counter() - start
    return wrapper

  # pylint: disable=protected-access
  originals = (pipeline.run_jobs, build._convert_to_array_record, Builder.download_and_prepare)
  pipeline.run_jobs = timed("job_stage", pipeline.run_jobs)
  build._convert_to_array_record = timed("array_record", build._convert_to_array_record)
  Builder.download_and_prepare = timed("tfds_write", Builder.download_and_prepare)
  factory = lambda s, cache_dir: dataclasses.replace(generator, settings=s)  # cut-outs from the shared cache
  results = []
  try:
    for repeat in range(flags.build_repeats):
      phases.clear()
      run_dir = tempfile.mkdtemp(prefix="build-", dir=flags.scratch)
      start = time.perf_counter()
      built = build.build(["train"], settings, data_dir=os.path.join(run_dir, "data"),
                          cache_dir=os.path.join(run_dir, "cache"), progress=flags.progress,
                          generator_factory=factory, beam_args=[f"--direct_num_workers={flags.workers}"])[0]
      wall = time.perf_counter() - start
      summary = built.summary
      worker_seconds = summary["worker_seconds"]
      result = {"workers": flags.workers, "wall_s": round(wall, 2), "worker_seconds": worker_seconds,
                "examples": built.examples, "phases_s": {k: round(v, 2) for k, v in phases.items()},
                "other_s": round(wall - sum(phases.values()), 2),
                "overhead_job_stage": round(phases["job_stage"] / (worker_seconds / flags.workers), 3),
                "overhead_whole_build": round(wall / (worker_seconds / flags.workers), 3),
                "load_after": load_average()}
      results.append(result)
      log(f"whole build round {repeat + 1}/{flags.build_repeats}: {result}")
      shutil.rmtree(run_dir, ignore_errors=True)
  finally:
    pipeline.run_jobs, build._convert_to_array_record, Builder.download_and_prepare = originals
  median = lambda key: round(statistics.median(r[key] for r in results), 3)
  return {"runs": results, "overhead_job_stage_median": median("overhead_job_stage"),
          "overhead_whole_build_median": median("overhead_whole_build"), "wall_s_median": median("wall_s")}


def measure_memory(flags, jobs_per_process: int, render) -> dict:
  from kubricgen_sharding.cache import JobCache  # pylint: disable=import-outside-toplevel
  from kubricgen_sharding.executor import ExecutorSettings  # pylint: disable=import-outside-toplevel
  from kubricgen_sharding.pipeline import run_jobs  # pylint: disable=import-outside-toplevel
  run_dir = tempfile.mkdtemp(prefix=f"memory-{jobs_per_process}-", dir=flags.scratch)
  cache = JobCache(os.path.join(run_dir, "jobs"), "memory").prepare()
  jobs = [SceneJob(key=f"scene/{index:05d}", seed=index) for index in range(flags.memory_scenes)]
  start = time.perf_counter()
  run_jobs(jobs, render, cache, ["--direct_num_workers=1"], ExecutorSettings(timeout_s=600,
           jobs_per_process=jobs_per_process), description=f"memory, jobs_per_process={jobs_per_process}",
           progress=flags.progress)
  wall = time.perf_counter() - start
  samples = sorted((cache.load(job.key)[0][1] for job in jobs), key=lambda s: s["time"])
  shutil.rmtree(run_dir, ignore_errors=True)
  window = min(50, len(samples) // 2)
  mb = lambda kb: kb / 1024
  first = statistics.median(mb(s["rss_kb"]) for s in samples[:window])
  last = statistics.median(mb(s["rss_kb"]) for s in samples[-window:])
  beam_first = statistics.median(mb(s["beam_worker_rss_kb"]) for s in samples[:window])
  beam_last = statistics.median(mb(s["beam_worker_rss_kb"]) for s in samples[-window:])
  return {"jobs_per_process": jobs_per_process, "scenes": len(samples), "wall_s": round(wall, 1),
          "child_processes": len({s["pid"] for s in samples}),
          "child_rss_mb_first": round(first, 1), "child_rss_mb_last": round(last, 1),
          "child_rss_growth_pct": round(100 * (last / first - 1), 2),
          "child_rss_mb_max": round(max(mb(s["rss_kb"]) for s in samples), 1),
          "beam_worker_rss_mb_first": round(beam_first, 1), "beam_worker_rss_mb_last": round(beam_last, 1),
          "beam_worker_rss_growth_pct": round(100 * (beam_last / beam_first - 1), 2),
          # Every 10th sample, for plotting growth over the run.
          "child_rss_mb_every_10": [round(mb(s["rss_kb"]), 1) for s in samples[::10]]}


# ---- report --------------------------------------------------------------------------------------------------------

def verdict(value, target, higher_is_better=False) -> str:
  if value is None:
    return "-"
  return "met" if (value >= target if higher_is_better else value <= target) else "MISSED"


def markdown(results: dict) -> str:
  rows = ["| measure | value | target | |", "|---|---|---|---|"]
  w = str(results["settings"]["workers"])
  for index, (mode, stage) in enumerate(results.get("job_stage", {}).items()):
    tag = "" if index == 0 else f" ({mode}, for comparison)"
    bold = (lambda v: f"**{v}**") if index == 0 else str
    rows.append(f"| job-stage overhead, {w} workers{tag} | {bold(stage['overhead_median'])} (wall "
                f"{stage['wall_s_median'][w]} s, worker {stage['worker_seconds_median'][w]} s) | <= 1.10 | "
                f"{verdict(stage['overhead_median'], TARGETS['overhead'])} |")
    rows.append(f"| job-stage overhead, 1 worker{tag} | {stage['overhead_1_worker_median']} (wall "
                f"{stage['wall_s_median']['1']} s, worker {stage['worker_seconds_median']['1']} s) | | |")
    rows.append(f"| scaling 1 -> {w} workers{tag} | {bold(stage['scaling_median'])} "
                f"({stage['images_per_s_median']['1']} -> {stage['images_per_s_median'][w]} img/s; per pair "
                f"{stage['scaling_per_pair']}; = job speed {stage['job_speed_factor']} x pipeline "
                f"{stage['pipeline_factor']}; job CPU share {stage['cpu_share_median']}) | >= 0.85 | "
                f"{verdict(stage['scaling_median'], TARGETS['scaling'], True)} |")
  stages = results.get("job_stage", {})
  if "bare" in stages and stages and next(iter(stages)) != "bare":
    first, bare = next(iter(stages.values())), stages["bare"]
    rows.append(f"| scaling of the pipeline / scaling of bare processes | "
                f"{round(first['scaling_median'] / bare['scaling_median'], 3)} | | |")
  whole = results.get("whole_build")
  if whole:
    run = whole["runs"][-1]
    rows.append(f"| whole-build overhead, {w} workers (job stage + TFDS write + array_record) | "
                f"{whole['overhead_whole_build_median']} (wall {whole['wall_s_median']} s; phases {run['phases_s']}, "
                f"other {run['other_s']} s) | | |")
    rows.append(f"| job-stage overhead inside that build | {whole['overhead_job_stage_median']} | <= 1.10 | "
                f"{verdict(whole['overhead_job_stage_median'], TARGETS['overhead'])} |")
  for memory in results.get("memory", []):
    label = f"jobs_per_process={memory['jobs_per_process']}"
    rows.append(f"| job child RSS growth over {memory['scenes']} scenes, {label} | **{memory['child_rss_growth_pct']} "
                f"%** ({memory['child_rss_mb_first']} -> {memory['child_rss_mb_last']} MB, max "
                f"{memory['child_rss_mb_max']} MB, {memory['child_processes']} children) | < 10 % | "
                f"{verdict(memory['child_rss_growth_pct'], TARGETS['memory_growth_pct'])} |")
    rows.append(f"| parent (Beam worker) RSS growth, {label} | {memory['beam_worker_rss_growth_pct']} % "
                f"({memory['beam_worker_rss_mb_first']} -> {memory['beam_worker_rss_mb_last']} MB) | | |")
  return "\n".join(rows)


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument("--parts", default="stage,build,memory", help="comma-separated: stage, build, memory")
  parser.add_argument("--workers", type=int, default=2)
  parser.add_argument("--repeats", type=int, default=3, help="interleaved 1- and N-worker job-stage runs")
  parser.add_argument("--modes", default="multi_threading,bare,multi_processing",
                      help="job-stage runs: FnApiRunner running modes, or 'bare' (plain processes, no Beam: the "
                      "machine's own scaling); the first is the one reported")
  parser.add_argument("--build_repeats", type=int, default=1)
  parser.add_argument("--train_examples", type=int, default=12000)
  parser.add_argument("--resolution", type=int, default=224)
  parser.add_argument("--job_size", type=int, default=None, help="specs per job (default: specs.Settings')")
  parser.add_argument("--memory_scenes", type=int, default=500)
  parser.add_argument("--memory_resolution", type=int, default=32)
  parser.add_argument("--memory_samples", type=int, default=2)
  parser.add_argument("--cutouts", default=os.path.join(tempfile.gettempdir(), "kubricgen-beam-scaling-cutouts"),
                      help="cut-out cache, kept between runs")
  parser.add_argument("--scratch", default=None, help="job caches and builds (default: a temporary folder)")
  parser.add_argument("--progress", action="store_true", help="the pipeline's live progress bars")
  parser.add_argument("--out", default=None, help="JSON results")
  flags = parser.parse_args(argv)
  parts = set(flags.parts.split(","))
  flags.modes = flags.modes.split(",")
  own_scratch = flags.scratch is None
  flags.scratch = flags.scratch or tempfile.mkdtemp(prefix="kubricgen-beam-scaling-")
  results = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                         "load_at_start": load_average()},
             "command": " ".join([os.path.relpath(sys.executable, ROOT), *sys.argv]),
             "settings": {k: v for k, v in vars(flags).items() if k not in ("scratch",)}}
  try:
    if parts & {"stage", "build"}:
      settings, generator, jobs = workload(flags)
      if "stage" in parts:
        results["job_stage"] = measure_job_stage(flags, generator, jobs)
      if "build" in parts:
        results["whole_build"] = measure_build(flags, settings, generator)
    if "memory" in parts:
      render = functools.partial(render_small_scene, resolution=flags.memory_resolution,
                                 samples=flags.memory_samples)
      results["memory"] = []
      for jobs_per_process in (50, 100000):
        results["memory"].append(measure_memory(flags, jobs_per_process, render))
        log(f"memory: {results['memory'][-1]}")
  finally:
    if own_scratch:
      shutil.rmtree(flags.scratch, ignore_errors=True)
  results["machine"]["load_at_end"] = load_average()
  if flags.out:
    os.makedirs(os.path.dirname(os.path.abspath(flags.out)), exist_ok=True)
    with open(flags.out, "w", encoding="utf-8") as handle:
      json.dump(results, handle, indent=2)
  print(markdown(results))
  return results


if __name__ == "__main__":
  # Run as the module `benchmarks.beam_scaling`, not `__main__`: job children unpickle the job functions by name.
  from benchmarks.beam_scaling import main as main_in_module  # pylint: disable=import-self
  main_in_module()
