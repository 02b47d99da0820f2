"""Rendering speed and quality, side by side in one run (issue 3, item 10); results go to BENCHMARKS.md.

  .venv/bin/python benchmarks/render_speed.py --out benchmarks/results/render_speed.json

Measures wall-clock seconds per frame of `Blender.render()` (scene translation + render + EXR read-back, divided by
the frames of the call), and the CPU seconds the process spent per frame (all Blender threads; less sensitive to
other programs sharing the cores), for:
  * Kubric's `examples/simulator.py` scene rebuilt in kubricgen (floor + 8 trimesh icospheres of subdivision 5),
    224x224: our renderer configured like Kubric (16 spp, no denoising, no adaptive sampling, Blender's default
    light paths of 12 bounces, no persistent data) vs our `default` preset vs our `fast` preset. Kubric itself is
    measured beside us by benchmarks/kubric_side_by_side.py;
  * helloworld and movi_a (scenes/*.py) at 16 and 64 spp, denoised and not, and Workbench;
  * PyBullet steps per second on movi_a scenes.
Quality: PSNR (8-bit sRGB RGB) of one frame of every Cycles configuration against a high-spp render of the same
frame (two renders with different seeds averaged; their PSNR against each other is reported as the reference's own
noise floor). Configurations run interleaved (A B C A B C ...) after one discarded warm-up round, and medians are
reported, because the machine is shared.
"""
from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import kubricgen as kb  # noqa: E402  pylint: disable=wrong-import-position
from kubricgen.renderer.blender import Blender  # noqa: E402  pylint: disable=wrong-import-position
from kubricgen.simulator.pybullet import PyBullet  # noqa: E402  pylint: disable=wrong-import-position


def load_scene_script(name):
  spec = importlib.util.spec_from_file_location(f"scene_{name}", os.path.join(ROOT, "scenes", f"{name}.py"))
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module


# ---- scenes -------------------------------------------------------------------------------------------------------

def kubric_simulator_scene(resolution, frames, scratch, sphere_mesh=None, floor_material=None, sun_angle=None,
                           seed=0):
  """Kubric's examples/simulator.py: a 6x6 m floor, a sun, 8 spheres of radius 0.1 thrown from [-1,1]^2 x [0,1].

  The spheres are `sphere_mesh` (an OBJ) through a FileBasedObject: by default trimesh icospheres of subdivision 5
  (20,480 triangles, smooth shaded); Kubric's own `primitive_ico_sphere_add(subdivisions=5)` has 5,120
  (kubric_side_by_side.py passes that mesh, Kubric's floor material and sun angle, and renders the scene in Kubric
  and in ours). Positions and velocities come from a rng seeded with `seed` (Kubric's example uses an unseeded
  one)."""
  path = sphere_mesh or os.path.join(scratch, "icosphere5.obj")
  if not os.path.exists(path):
    import trimesh  # pylint: disable=import-outside-toplevel
    trimesh.creation.icosphere(subdivisions=5, radius=1.0).export(path)
  scene = kb.Scene(resolution=(resolution, resolution), frame_start=1, frame_end=frames, frame_rate=24,
                   step_rate=240)
  rng = np.random.RandomState(seed)
  scene += kb.Cube(name="floor", scale=(3, 3, 0.1), position=(0, 0, -0.1), static=True,
                   **({} if floor_material is None else {"material": floor_material}))
  scene += kb.DirectionalLight(name="sun", position=(-1, -0.5, 3), look_at=(0, 0, 0), intensity=1.5,
                               **({} if sun_angle is None else {"shadow_softness": sun_angle}))
  scene.camera = kb.PerspectiveCamera(name="camera", position=(2, -0.5, 4), look_at=(0, 0, 0))
  spawn_region = ((-1, -1, 0), (1, 1, 1))
  with PyBullet(scene) as simulator:
    for i in range(8):
      sphere = kb.FileBasedObject(render_filename=path, name=f"sphere_{i}", scale=0.1,
                                  position=rng.uniform(*spawn_region), velocity=rng.uniform((-1, -1, 0), (1, 1, 0)),
                                  material=kb.PrincipledBSDFMaterial(color=kb.random_hue_color(rng=rng)))
      scene += sphere
      kb.move_until_no_overlap(sphere, simulator, spawn_region=spawn_region, rng=rng)
    simulator.run(frame_start=0, frame_end=frames + 1)
  return scene


def helloworld_scene(resolution, frames, scratch):
  del frames, scratch
  scene = kb.Scene(resolution=(resolution, resolution), frame_start=1, frame_end=1)
  load_scene_script("helloworld").build_scene(scene, np.random.RandomState(0))
  return scene


def movi_a_scene(resolution, frames, scratch, seed=0):
  del scratch
  scene = kb.Scene(resolution=(resolution, resolution), frame_start=1, frame_end=frames, frame_rate=12)
  with PyBullet(scene) as simulator:
    load_scene_script("movi_a").build_scene(scene, np.random.RandomState(seed), simulator)
    simulator.run(frame_start=0, frame_end=frames + 1)
  return scene


SCENES = {"kubric_simulator": kubric_simulator_scene, "helloworld": helloworld_scene, "movi_a": movi_a_scene}


# ---- configurations -----------------------------------------------------------------------------------------------

@dataclasses.dataclass
class Config:
  name: str
  scene: str
  kwargs: dict
  settings: dict = dataclasses.field(default_factory=dict)  # Quality fields changed after construction
  layers: tuple = ("rgba", "depth", "z", "segmentation", "normal", "object_coordinates", "forward_flow",
                   "backward_flow")
  note: str = ""
  overrides: dict = dataclasses.field(default_factory=dict)  # other bpy settings, e.g. {"cycles.tile_size": 64}
  per_frame_calls: bool = False  # one render() call per frame instead of one animation render for all frames


KUBRIC_EQUIVALENT = dict(quality="kubric", samples_per_pixel=16, use_denoising=False)


def configs(explore: bool) -> list[Config]:
  main = [
      Config("kubric-equivalent", "kubric_simulator", KUBRIC_EQUIVALENT,
             note="16 spp, no denoise, Blender default light paths (12 bounces), no persistent data"),
      Config("default", "kubric_simulator", dict(quality="default"), note="16 spp + OIDN fast, bounces capped at 4"),
      Config("fast", "kubric_simulator", dict(quality="fast"), note="4 spp + OIDN fast, bounces capped at 4"),
  ]
  for scene in ("helloworld", "movi_a"):
    for spp in (16, 64):
      for denoise in (False, True):
        main.append(Config(f"{spp} spp{' + OIDN' if denoise else ''}", scene,
                           dict(samples_per_pixel=spp, use_denoising=denoise)))
    main.append(Config("fast preset", scene, dict(quality="fast")))
    main.append(Config("workbench", scene, dict(engine="workbench", samples_per_pixel=8),
                       note="Workbench colour + 1-spp Cycles data pass"))
  if not explore:
    return main
  sim = "kubric_simulator"
  fast = dict(quality="fast")
  extra = [
      # samples + denoiser
      Config("1 spp + OIDN fast", sim, dict(fast, samples_per_pixel=1)),
      Config("4 spp + OIDN fast", sim, dict(fast, samples_per_pixel=4)),
      Config("8 spp + OIDN fast", sim, dict(fast, samples_per_pixel=8)),
      Config("2 spp + OIDN balanced", sim, dict(fast, denoise_quality="BALANCED")),
      Config("2 spp + OIDN high", sim, dict(fast, denoise_quality="HIGH")),
      # light paths, adaptive sampling, light tree, persistent data, tiles
      Config("16 spp, bounces capped at 4, no denoise", sim, dict(samples_per_pixel=16, use_denoising=False),
             note="Kubric-equivalent but with our light-path caps and persistent data"),
      Config("kubric-equivalent + adaptive 0.05", sim, dict(KUBRIC_EQUIVALENT, adaptive_sampling=True)),
      Config("kubric-equivalent + persistent data", sim, KUBRIC_EQUIVALENT, settings=dict(persistent_data=True)),
      Config("fast, no light tree", sim, fast, settings=dict(light_tree=False)),
      Config("fast, no persistent data", sim, fast, settings=dict(persistent_data=False)),
      Config("fast, 64 px tiles", sim, fast, overrides={"cycles.use_auto_tile": True, "cycles.tile_size": 64}),
      # data passes and render calls
      Config("kubric-equivalent, rgba only", sim, KUBRIC_EQUIVALENT, layers=("rgba",), note="no data passes"),
      Config("fast, rgba only", sim, fast, layers=("rgba",), note="no data passes"),
      Config("kubric-equivalent, one render() per frame", sim, KUBRIC_EQUIVALENT, per_frame_calls=True,
             note="as Kubric renders (one call per frame); each call also re-translates the scene"),
  ]
  return main + extra


# ---- measuring ----------------------------------------------------------------------------------------------------

def psnr(image, reference) -> float:
  error = np.mean((image[..., :3].astype(np.float64) - reference[..., :3].astype(np.float64)) ** 2)
  return float("inf") if error == 0 else float(10 * np.log10(255.0 ** 2 / error))


class TunedBlender(Blender):
  """Blender with extra bpy settings applied after our own (for the exploratory configurations)."""
  overrides: dict = {}

  def _configure(self, *args, **kwargs):
    super()._configure(*args, **kwargs)
    for path, value in self.overrides.items():
      owner, attribute = path.rsplit(".", 1)
      setattr(getattr(self.blender_scene, owner), attribute, value)


def render_once(scene, config: Config, frames):
  """Render `frames` with `config`; returns (data, wall s/frame, CPU s/frame, Blender's timings)."""
  renderer = TunedBlender(scene, **config.kwargs)
  renderer.overrides = config.overrides
  if config.settings:
    renderer.settings = dataclasses.replace(renderer.settings, **config.settings)
    renderer.max_bounces = renderer.settings.max_bounces
  wall, cpu = time.perf_counter(), time.process_time()  # process time counts every Blender thread
  timings = {"build": 0.0, "render": 0.0, "readback": 0.0, "frames": 0}
  if config.per_frame_calls:
    parts = [renderer.render(frames=[frame], return_layers=config.layers, progress=False) for frame in frames]
    data = {layer: np.concatenate([part[layer] for part in parts]) for layer in parts[0]}
  else:
    data = renderer.render(frames=frames, return_layers=config.layers, progress=False)
  wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
  if not config.per_frame_calls:
    timings = dict(renderer.last_timings)
  renderer.close()
  return data, wall / len(frames), cpu / len(frames), timings


def reference_images(scene, frame, spp, seeds=(101, 202)):
  """High-spp renders of `frame` with Blender's default light paths and no denoising, one per seed."""
  images = []
  for seed in seeds:
    renderer = Blender(scene, quality="kubric", samples_per_pixel=spp, use_denoising=False, seed=seed)
    images.append(renderer.render(frames=[frame], return_layers=("rgba",), progress=False)["rgba"][0])
    renderer.close()
  return images


def simulator_speed(seeds, frames):
  """PyBullet on movi_a scenes: steps/s of `simulator.run` (contacts and keyframes included) and of bare stepping."""
  import pybullet as pb  # pylint: disable=import-outside-toplevel
  movi_a = load_scene_script("movi_a")
  run_rates, bare_rates, objects = [], [], []
  for seed in seeds:
    scene = kb.Scene(resolution=(64, 64), frame_start=1, frame_end=frames, frame_rate=12, step_rate=240)
    with PyBullet(scene) as simulator:
      movi_a.build_scene(scene, np.random.RandomState(seed), simulator, min_objects=10, max_objects=10)
      objects.append(len(scene.instances))
      steps = (frames + 1) * scene.step_rate // scene.frame_rate
      start = time.perf_counter()
      simulator.run(frame_start=0, frame_end=frames + 1)
      run_rates.append(steps / (time.perf_counter() - start))
      start = time.perf_counter()
      for _ in range(steps):
        pb.stepSimulation(physicsClientId=simulator.client)
      bare_rates.append(steps / (time.perf_counter() - start))
  return {"objects": objects, "steps_per_run": steps, "run_steps_per_s": run_rates,
          "bare_steps_per_s": bare_rates, "median_run_steps_per_s": statistics.median(run_rates),
          "median_bare_steps_per_s": statistics.median(bare_rates)}


def machine() -> dict:
  info = {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()}
  try:
    import bpy  # pylint: disable=import-outside-toplevel
    info["blender"] = bpy.app.version_string
  except ImportError:
    pass
  try:
    lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
    info["cpu"] = next((l.split(":", 1)[1].strip() for l in lscpu.splitlines() if l.startswith("Model name")), "")
  except OSError:
    pass
  return info


def markdown(results) -> str:
  lines = ["| scene | configuration | s/frame | CPU s/frame | PSNR dB | read-back s/frame | vs Kubric-equivalent "
           "(s, CPU) |", "|---|---|---|---|---|---|---|"]
  base = results["configs"].get("kubric_simulator/kubric-equivalent", {})
  for row in results["configs"].values():
    s, cpu = row["median_s_per_frame"], row["median_cpu_s_per_frame"]
    ratio = ""
    if row["scene"] == "kubric_simulator" and base:
      ratio = f"{base['median_s_per_frame'] / s:.2f}x, {base['median_cpu_s_per_frame'] / cpu:.2f}x"
    quality = "n/a" if row.get("psnr_db") is None else f"{row['psnr_db']:.1f}"
    readback = "" if row["median_readback_s_per_frame"] is None else f"{row['median_readback_s_per_frame']:.3f}"
    lines.append(f"| {row['scene']} | {row['name']} | {s:.3f} | {cpu:.3f} | {quality} | {readback} | {ratio} |")
  return "\n".join(lines)


def main(argv=None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument("--resolution", type=int, default=224)
  parser.add_argument("--frames", type=int, default=8, help="frames per render call (movi_a, kubric_simulator)")
  parser.add_argument("--repeats", type=int, default=3, help="timed rounds after the discarded warm-up round")
  parser.add_argument("--reference_spp", type=int, default=1024,
                      help="samples of each of the two references (0: no references, no PSNR)")
  parser.add_argument("--scenes", default=",".join(SCENES), help="comma-separated subset of " + ",".join(SCENES))
  parser.add_argument("--explore", action="store_true", help="also measure the variants tried for the fast preset")
  parser.add_argument("--only", default="", help="comma-separated configuration names (scene/name) to run")
  parser.add_argument("--no_simulator", action="store_true")
  parser.add_argument("--out", default=os.path.join(ROOT, "benchmarks", "results", "render_speed.json"))
  args = parser.parse_args(argv)
  scenes = args.scenes.split(",")
  chosen = [c for c in configs(args.explore) if c.scene in scenes
            and (not args.only or f"{c.scene}/{c.name}" in args.only.split(","))]
  log = lambda message: print(message, file=sys.stderr, flush=True)  # noqa: E731
  scratch = tempfile.mkdtemp(prefix="render-speed-")
  built = {}
  for name in scenes:
    if any(c.scene == name for c in chosen):
      log(f"building {name} ...")
      built[name] = SCENES[name](args.resolution, args.frames, scratch)
  frames = {name: list(scene.frames) for name, scene in built.items()}
  psnr_frame = {name: f[len(f) // 2] for name, f in frames.items()}
  results = {"machine": machine(), "args": vars(args), "load_before": os.getloadavg(), "configs": {},
             "references": {}}
  for name, scene in built.items():
    if not args.reference_spp:
      built[name] = (scene, None)
      continue
    log(f"reference for {name}: 2 x {args.reference_spp} spp of frame {psnr_frame[name]} ...")
    start = time.perf_counter()
    first, second = reference_images(scene, psnr_frame[name], args.reference_spp)
    results["references"][name] = {"frame": psnr_frame[name], "spp": args.reference_spp,
                                   "noise_floor_psnr_db": psnr(first, second),
                                   "seconds": time.perf_counter() - start}
    built[name] = (scene, (first.astype(np.float64) + second.astype(np.float64)) / 2)
    log(f"  two references agree to {results['references'][name]['noise_floor_psnr_db']:.1f} dB")
  rows = {f"{c.scene}/{c.name}": {"name": c.name, "scene": c.scene, "kwargs": c.kwargs, "settings": c.settings,
                                   "overrides": c.overrides, "per_frame_calls": c.per_frame_calls,
                                   "layers": list(c.layers), "note": c.note, "s_per_frame": [], "cpu_s_per_frame": [],
                                   "load": [], "timings": [], "psnr_db": None} for c in chosen}
  total = (args.repeats + 1) * len(chosen)
  done = 0
  for round_ in range(args.repeats + 1):  # round 0 is the discarded warm-up
    for config in chosen:
      scene, reference = built[config.scene]
      data, per_frame, cpu_per_frame, timings = render_once(scene, config, frames[config.scene])
      done += 1
      key = f"{config.scene}/{config.name}"
      label = "warm-up" if round_ == 0 else f"round {round_}"
      load = os.getloadavg()[0]
      log(f"[{done}/{total}] {key} {label}: {per_frame:.3f} s/frame, {cpu_per_frame:.3f} CPU s/frame, "
          f"load {load:.1f}")
      if round_ == 0:
        continue
      rows[key]["s_per_frame"].append(per_frame)
      rows[key]["cpu_s_per_frame"].append(cpu_per_frame)
      rows[key]["load"].append(load)
      rows[key]["timings"].append(timings)
      if round_ == 1 and reference is not None and config.kwargs.get("engine", "cycles") == "cycles":
        rows[key]["psnr_db"] = psnr(data["rgba"][frames[config.scene].index(psnr_frame[config.scene])], reference)
  for row in rows.values():
    row["median_s_per_frame"] = statistics.median(row["s_per_frame"])
    row["median_cpu_s_per_frame"] = statistics.median(row["cpu_s_per_frame"])
    row["median_readback_s_per_frame"] = (None if row["per_frame_calls"] else
                                          statistics.median(t["readback"] / t["frames"] for t in row["timings"]))
  results["configs"] = rows
  if not args.no_simulator:
    log("simulator: movi_a scenes with 10 objects ...")
    results["simulator"] = simulator_speed(seeds=range(3), frames=24)
  results["load_after"] = os.getloadavg()
  os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
  with open(args.out, "w", encoding="utf-8") as handle:
    json.dump(results, handle, indent=2, default=float)
  print(markdown(results))
  if "simulator" in results:
    sim = results["simulator"]
    print(f"\nPyBullet, movi_a scenes with {sim['objects']} objects: simulator.run "
          f"{sim['median_run_steps_per_s']:.0f} steps/s, bare stepSimulation {sim['median_bare_steps_per_s']:.0f} "
          "steps/s (medians over scenes)")
  log(f"wrote {args.out}")
  return 0


if __name__ == "__main__":
  sys.exit(main())
