"""Kubric itself beside kubricgen on Kubric's simulator example, in the same interleaved rounds (issue 13, item 4).

  .venv/bin/python benchmarks/kubric_side_by_side.py --kubric_src /work/kubric_src \\
      --kubric_python /work/kubric_env/bin/python

`--kubric_src` is a Kubric checkout (none of its code is committed here); `--kubric_python` a Python with bpy 4.2 and
Kubric's dependencies (Kubric HEAD fails on bpy 5). Kubric renders in a long-lived child process of that Python (the
`--kubric_worker` mode of this file: one TensorFlow import, then one command per render); kubricgen renders in this
process. Each round runs every Kubric and every kubricgen configuration once, in the same order; round 0 is a
discarded warm-up, and every ratio is computed within a round (then the median over rounds).

The scene is Kubric's examples/simulator.py at 224x224: a 6 x 6 m floor, a sun of intensity 1.5, a camera at
(2, -0.5, 4), 8 spheres of radius 0.1 thrown by PyBullet. kubricgen simulates it once (seeded); Kubric renders the
same trajectories as keyframes, so both engines render identical geometry: Blender's own ico sphere of subdivision 5
(Kubric's kb.Sphere), the sun at Blender's default angle (Kubric does not set it), and the same Principled material
on the floor (Kubric's example leaves it without one). Both return the same ground-truth layers in every timed
render: rgba, depth, segmentation, normal, object_coordinates, forward_flow and backward_flow.

Kubric is patched at run time, in its process only (KUBRIC_PATCHES below): Principled BSDF socket names of Blender 4,
the Standard view transform (4.2's default is AgX; ours is Standard), its object-coordinates AOV output named (it is
unnamed on 4.2, so the layer is silently all zero: checked and reported at start), the scratch folder emptied before
each render (Kubric's read-back collects every frame file in it), and Cycles' seed set per render.

Measured: wall and CPU seconds per frame of one `render()` call (Kubric: its per-frame render loop, compositor,
PNG + EXR read-back; ours: scene translation, one animation render, EXR read-back), and quality as PSNR (8-bit sRGB
RGB) of each engine's frames against its own reference: the mean of two `--reference_spp` renders with different
seeds, Blender's default light paths, no denoising (their PSNR against each other says how converged it is).
Equal quality: Kubric's time at each of our PSNRs, interpolated (log time, linear in PSNR) along the lower envelope
of Kubric's configurations (samples with and without its denoiser), divided by our time, round by round.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LAYERS = ("rgba", "depth", "segmentation", "normal", "object_coordinates", "forward_flow", "backward_flow")
OUT = os.path.join(ROOT, "benchmarks", "results", "kubric_side_by_side.json")
KUBRIC_PATCHES = [
    "PrincipledBSDFMaterial: Blender 4 socket names (Specular -> Specular IOR Level, Transmission -> Transmission "
    "Weight, Emission -> Emission Color); Specular Tint (a colour in 4.x) and Transmission Roughness (gone) left at "
    "Blender's defaults, which are Kubric's untinted/0 defaults",
    "view transform Standard (bpy 4.2 defaults to AgX) and look None, as kubricgen renders",
    "object-coordinates AOV output node: aov_name set to 'ObjectCoordinates' (Kubric sets only the node's name, "
    "which 4.x ignores)",
    "scratch exr/ and images/ emptied before each render() (Kubric's postprocess reads every frame file there, so a "
    "render of other frames would return stale ones too)",
    "cycles.seed set per render (Kubric has no seed argument)",
]


# ==== Kubric's side: runs in the Kubric environment (bpy 4.2), imports nothing of kubricgen ==========================

def kubric_worker(args) -> int:
  """Build the described scene with Kubric's API, then serve render commands (JSON lines on stdin, replies on
  --reply_fd) until stdin closes."""
  sys.path.insert(0, args.kubric_src)
  reply = os.fdopen(args.reply_fd, "w", buffering=1)
  import bpy  # pylint: disable=import-outside-toplevel,import-error
  import kubric as kb  # pylint: disable=import-outside-toplevel,import-error
  from kubric.renderer import blender as kubric_blender  # pylint: disable=import-outside-toplevel,import-error
  from kubric.renderer import blender_utils  # pylint: disable=import-outside-toplevel,import-error

  def principled_4x(self, obj):  # Kubric's PrincipledBSDFMaterial translation with Blender 4 socket names
    material = bpy.data.materials.new(obj.uid)
    material.use_nodes = True
    inputs = material.node_tree.nodes["Principled BSDF"].inputs
    sockets = {"color": "Base Color", "roughness": "Roughness", "metallic": "Metallic",
               "specular": "Specular IOR Level", "ior": "IOR", "transmission": "Transmission Weight",
               "emission": "Emission Color"}
    for member, socket in sockets.items():
      obj.observe(kubric_blender.AttributeSetter(inputs[socket], "default_value"), member)
      obj.observe(kubric_blender.KeyframeSetter(inputs[socket], "default_value"), member, type="keyframe")
    return material

  kubric_blender.Blender.add_asset.register(kb.PrincipledBSDFMaterial)(
      blender_utils.prepare_blender_object(principled_4x))

  with open(args.scene_json, encoding="utf-8") as handle:
    desc = json.load(handle)
  scratch = os.path.join(args.scratch, "kubric")
  scene = kb.Scene(resolution=tuple(desc["resolution"]), frame_start=desc["frame_start"],
                   frame_end=desc["frame_end"], frame_rate=desc["frame_rate"], step_rate=desc["step_rate"])
  start = time.perf_counter()
  renderer = kubric_blender.Blender(scene, scratch_dir=scratch, samples_per_pixel=16, use_denoising=False,
                                    adaptive_sampling=False)
  floor = desc["floor"]
  scene += kb.Cube(name="floor", scale=floor["scale"], position=floor["position"], static=True,
                   material=kb.PrincipledBSDFMaterial(color=kb.Color(*floor["color"]), roughness=floor["roughness"]))
  sun = desc["sun"]
  scene += kb.DirectionalLight(name="sun", position=sun["position"], quaternion=sun["quaternion"],
                               intensity=sun["intensity"])
  camera = desc["camera"]
  scene.camera = kb.PerspectiveCamera(name="camera", position=camera["position"], quaternion=camera["quaternion"],
                                      focal_length=camera["focal_length"], sensor_width=camera["sensor_width"])
  for sphere_desc in desc["spheres"]:
    sphere = kb.Sphere(name=sphere_desc["name"], scale=sphere_desc["scale"],
                       material=kb.PrincipledBSDFMaterial(color=kb.Color(*sphere_desc["color"])))
    scene += sphere
    for frame, (position, quaternion) in sorted(sphere_desc["poses"].items(), key=lambda item: int(item[0])):
      sphere.position, sphere.quaternion = position, quaternion  # as Kubric's simulator writes its results
      sphere.keyframe_insert("position", int(frame))
      sphere.keyframe_insert("quaternion", int(frame))
  build_seconds = time.perf_counter() - start
  blender_scene = bpy.context.scene
  blender_scene.view_settings.view_transform = "Standard"
  blender_scene.view_settings.look = "None"
  aov_nodes = [node for layer in blender_scene.view_layers if layer.material_override
               for node in layer.material_override.node_tree.nodes if node.type == "OUTPUT_AOV"]
  info = {"blender": bpy.app.version_string, "build_s": build_seconds,
          "aov_names_as_kubric_sets_them": [node.aov_name for node in aov_nodes],
          "sphere_faces": len(bpy.data.objects[desc["spheres"][0]["name"]].data.polygons),
          "sun_angle": bpy.data.objects["sun"].data.angle}

  timed_postprocess = renderer.postprocess
  postprocess_seconds = [0.0]
  def postprocess(*a, **k):
    begin = time.perf_counter()
    try:
      return timed_postprocess(*a, **k)
    finally:
      postprocess_seconds[0] += time.perf_counter() - begin
  renderer.postprocess = postprocess

  def render(command):
    for folder in ("exr", "images"):
      shutil.rmtree(os.path.join(scratch, folder), ignore_errors=True)
    renderer.samples_per_pixel = command["spp"]
    renderer.use_denoising = command["denoise"]
    renderer.adaptive_sampling = command.get("adaptive", False)
    blender_scene.cycles.seed = command["seed"]
    postprocess_seconds[0] = 0.0
    wall, cpu = time.perf_counter(), time.process_time()
    data = renderer.render(frames=command["frames"], return_layers=command["layers"])
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return data, {"wall_s": wall, "cpu_s": cpu, "readback_s": postprocess_seconds[0],
                  "frames": len(command["frames"])}

  # What Kubric's object-coordinates layer holds as Kubric sets it up, then with the AOV named.
  probe = {"spp": 1, "denoise": False, "seed": 0, "frames": [desc["frame_start"]], "layers": ["object_coordinates"]}
  info["object_coordinates_nonzero_as_is"] = float(np.mean(render(probe)[0]["object_coordinates"] > 0))
  if args.kubric_object_coordinates == "fix":
    for node in aov_nodes:
      node.aov_name = "ObjectCoordinates"
    info["object_coordinates_nonzero_fixed"] = float(np.mean(render(probe)[0]["object_coordinates"] > 0))
  reply.write(json.dumps({"ready": info}) + "\n")

  for line in sys.stdin:
    command = json.loads(line)
    data, timing = render(command)
    index = [command["frames"].index(frame) for frame in command.get("save_frames", [])]
    if command.get("save"):
      np.savez(command["save"], **{layer: data[layer][index] for layer in command.get("save_layers", ["rgba"])})
    timing["layers"] = {layer: [list(array.shape), str(array.dtype)] for layer, array in data.items()}
    reply.write(json.dumps(timing) + "\n")
  return 0


# ==== our side ====================================================================================================

class KubricProcess:
  """The Kubric worker child: one scene, many renders."""

  def __init__(self, python, kubric_src, scene_json, scratch, object_coordinates):
    read, write = os.pipe()
    self.log_path = os.path.join(scratch, "kubric_worker.log")
    self.log = open(self.log_path, "w", encoding="utf-8")  # pylint: disable=consider-using-with
    env = dict(os.environ, PYTHONPATH=kubric_src, TF_CPP_MIN_LOG_LEVEL="2", CUDA_VISIBLE_DEVICES="")
    self.process = subprocess.Popen(  # pylint: disable=consider-using-with
        [python, os.path.abspath(__file__), "--kubric_worker", "--kubric_src", kubric_src, "--scene_json", scene_json,
         "--scratch", scratch, "--reply_fd", str(write), "--kubric_object_coordinates", object_coordinates],
        stdin=subprocess.PIPE, stdout=self.log, stderr=subprocess.STDOUT, pass_fds=(write,), text=True, env=env)
    os.close(write)
    self.replies = os.fdopen(read, "r")
    self.info = self._reply()["ready"]

  def _reply(self) -> dict:
    line = self.replies.readline()
    if not line:
      self.process.wait()
      with open(self.log_path, encoding="utf-8", errors="replace") as handle:
        tail = handle.read()[-3000:]
      raise RuntimeError(f"the Kubric worker stopped (exit {self.process.returncode}); its log ends:\n{tail}")
    return json.loads(line)

  def render(self, **command) -> dict:
    self.process.stdin.write(json.dumps(command) + "\n")
    self.process.stdin.flush()
    return self._reply()

  def close(self):
    self.process.stdin.close()
    self.process.wait(timeout=120)
    self.log.close()


def blender_icosphere(path: str) -> str:
  """Kubric's sphere mesh: Blender's ico sphere of subdivision 5 (5,120 triangles), written as OBJ."""
  import bpy  # pylint: disable=import-outside-toplevel
  import trimesh  # pylint: disable=import-outside-toplevel
  bpy.ops.wm.read_factory_settings(use_empty=True)
  bpy.ops.mesh.primitive_ico_sphere_add(subdivisions=5)
  mesh = bpy.context.active_object.data
  vertices = np.array([vertex.co[:] for vertex in mesh.vertices])
  faces = np.array([polygon.vertices[:] for polygon in mesh.polygons])
  trimesh.Trimesh(vertices, faces, process=False).export(path)
  return path


def simulator_scene(resolution: int, frames: int, scratch: str, seed: int):
  """Kubric's examples/simulator.py in kubricgen (seeded), simulated; returns (scene, description for Kubric)."""
  import bpy  # pylint: disable=import-outside-toplevel
  import kubricgen as kb  # pylint: disable=import-outside-toplevel
  sun_angle = bpy.data.lights.new("probe", "SUN").angle  # Blender's default; Kubric leaves it
  path = blender_icosphere(os.path.join(scratch, "icosphere5.obj"))
  floor_color, floor_roughness = (0.8, 0.8, 0.8, 1.0), 0.4
  sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
  import render_speed  # pylint: disable=import-outside-toplevel  # kubricgen's side only: it imports kubricgen
  scene = render_speed.kubric_simulator_scene(
      resolution, frames, scratch, sphere_mesh=path, seed=seed, sun_angle=sun_angle,
      floor_material=kb.PrincipledBSDFMaterial(color=floor_color, roughness=floor_roughness))
  sun = next(asset for asset in scene.assets if asset.name == "sun")
  spheres = [asset for asset in scene.assets if asset.name.startswith("sphere_")]
  floats = lambda values: [float(v) for v in values]  # noqa: E731
  desc = {
      "resolution": [resolution, resolution], "frame_start": 1, "frame_end": frames, "frame_rate": 24,
      "step_rate": 240,
      "floor": {"scale": [3, 3, 0.1], "position": [0, 0, -0.1], "color": list(floor_color),
                "roughness": floor_roughness},
      "sun": {"position": floats(sun.position), "quaternion": floats(sun.quaternion), "intensity": 1.5},
      "camera": {"position": floats(scene.camera.position), "quaternion": floats(scene.camera.quaternion),
                 "focal_length": float(scene.camera.focal_length), "sensor_width": float(scene.camera.sensor_width)},
      "spheres": [{"name": s.name, "scale": 0.1, "color": floats(s.material.color),
                   "poses": {str(f): [floats(p), floats(s.keyframes["quaternion"][f])]
                             for f, p in s.keyframes["position"].items()}} for s in spheres],
  }
  return scene, desc


def kubric_configs(quick: bool) -> list[dict]:
  """Kubric's own choices (its Blender() arguments): samples, with and without its denoiser (Blender 4.2's
  OpenImageDenoise defaults: albedo + normal guides, ACCURATE prefilter, HIGH quality)."""
  if quick:
    return [{"name": "16 spp", "spp": 16, "denoise": False}, {"name": "4 spp", "spp": 4, "denoise": False}]
  return ([{"name": f"{spp} spp", "spp": spp, "denoise": False} for spp in (4, 8, 16, 32, 64)]
          + [{"name": f"{spp} spp + denoiser", "spp": spp, "denoise": True} for spp in (2, 4, 8, 16)])


def our_configs(quick: bool) -> list[dict]:
  """Each with the step it explores; `eligible` False for a row without all ground-truth layers."""
  kubric = dict(quality="kubric", use_denoising=False)
  fast = dict(quality="default", use_denoising=True, denoise_quality="FAST")
  rows = [
      dict(name="Kubric's settings: 16 spp, 12 bounces, no denoise", kwargs=dict(kubric, samples_per_pixel=16),
           step="same settings"),
      dict(name="4 spp + OIDN fast", kwargs=dict(fast, samples_per_pixel=4), step="samples"),
  ]
  if quick:
    return rows
  rows += [
      dict(name="16 spp, bounces capped at 4", kwargs=dict(quality="default", use_denoising=False),
           step="light paths: caps + persistent data"),
      dict(name="16 spp + OIDN fast", kwargs=dict(fast, samples_per_pixel=16), step="denoiser"),
      dict(name="8 spp + OIDN fast", kwargs=dict(fast, samples_per_pixel=8), step="samples"),
      dict(name="2 spp + OIDN fast", kwargs=dict(fast, samples_per_pixel=2), step="samples"),
      dict(name="1 spp + OIDN fast", kwargs=dict(fast, samples_per_pixel=1), step="samples"),
      dict(name="4 spp + OIDN fast, 12 bounces", kwargs=dict(fast, samples_per_pixel=4, quality="kubric"),
           step="light paths at 4 spp"),
      dict(name="4 spp + OIDN fast, no guides", kwargs=dict(fast, samples_per_pixel=4),
           overrides={"cycles.denoising_input_passes": "RGB"}, step="denoiser guides"),
      dict(name="2 spp + OIDN fast, no guides", kwargs=dict(fast, samples_per_pixel=2),
           overrides={"cycles.denoising_input_passes": "RGB"}, step="denoiser guides"),
      dict(name="8 spp + OIDN fast, no guides", kwargs=dict(fast, samples_per_pixel=8),
           overrides={"cycles.denoising_input_passes": "RGB"}, step="denoiser guides"),
      dict(name="4 spp + OIDN fast, albedo guide only", kwargs=dict(fast, samples_per_pixel=4),
           overrides={"cycles.denoising_input_passes": "RGB_ALBEDO"}, step="denoiser guides"),
      dict(name="4 spp + OIDN fast, ACCURATE prefilter", kwargs=dict(fast, samples_per_pixel=4),
           overrides={"cycles.denoising_prefilter": "ACCURATE"}, step="denoiser prefilter"),
      dict(name="4 spp + OIDN balanced", kwargs=dict(fast, samples_per_pixel=4, denoise_quality="BALANCED"),
           step="denoiser quality"),
      dict(name="4 spp + OIDN high", kwargs=dict(fast, samples_per_pixel=4, denoise_quality="HIGH"),
           step="denoiser quality"),
      dict(name="8 spp max, adaptive 0.1 + OIDN fast", kwargs=dict(fast, samples_per_pixel=8,
                                                                   adaptive_sampling=True, adaptive_threshold=0.1),
           step="adaptive sampling"),
      dict(name="8 spp max, adaptive 0.02 + OIDN fast", kwargs=dict(fast, samples_per_pixel=8,
                                                                    adaptive_sampling=True, adaptive_threshold=0.02),
           step="adaptive sampling"),
      dict(name="4 spp + OIDN fast, data passes in the colour layer", kwargs=dict(fast, samples_per_pixel=4),
           data_in_colour_layer=True, eligible=False,
           step="data-pass cost: the design before the 1-spp data layer (not eligible: a pixel's layers can "
                "describe different surfaces at edges)"),
      dict(name="4 spp + OIDN fast, rgba only", kwargs=dict(fast, samples_per_pixel=4), layers=("rgba",),
           step="data-pass cost (not eligible: no ground truth)"),
  ]
  return rows


def our_render(scene, config: dict, frames: list[int], seed: int = 0):
  """(data, {wall_s, cpu_s, readback_s, frames}) of one `Blender.render()` call with `config`."""
  sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
  from render_speed import TunedBlender  # pylint: disable=import-outside-toplevel,import-error
  from kubricgen.renderer import blender, passes  # pylint: disable=import-outside-toplevel

  class ColourLayerData(TunedBlender):
    """The data passes on the colour layer, accumulated over its samples (the renderer's design before commit
    526bc11): what the separate 1-spp data layer costs."""

    def _ensure_data_layer(self):
      layer = self.blender_scene.view_layers[passes.LAYER]
      for name in blender.DATA_PASSES:
        setattr(layer, name, True)
      if blender.blender_scene.OBJECT_COORDINATES_AOV not in [aov.name for aov in layer.aovs]:
        aov = layer.aovs.add()
        aov.name, aov.type = blender.blender_scene.OBJECT_COORDINATES_AOV, "COLOR"
      return layer

  colour_layer_data = config.get("data_in_colour_layer", False)
  renderer = (ColourLayerData if colour_layer_data else TunedBlender)(scene, seed=seed, **config["kwargs"])
  renderer.overrides = config.get("overrides", {})
  data_layer, passes.DATA_LAYER = passes.DATA_LAYER, passes.LAYER if colour_layer_data else passes.DATA_LAYER
  try:
    wall, cpu = time.perf_counter(), time.process_time()  # process time counts every Blender thread
    data = renderer.render(frames=frames, return_layers=config.get("layers", LAYERS), progress=False)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
  finally:
    passes.DATA_LAYER = data_layer
  timings = dict(renderer.last_timings)
  renderer.close()
  return data, {"wall_s": wall, "cpu_s": cpu, "readback_s": timings.get("readback"), "frames": len(frames)}


def psnr(image, reference) -> float:
  error = np.mean((image[..., :3].astype(np.float64) - reference[..., :3].astype(np.float64)) ** 2)
  return float("inf") if error == 0 else float(10 * np.log10(255.0 ** 2 / error))


def mean_psnr(images, references) -> float:
  """PSNR of the pooled squared error over all PSNR frames."""
  error = np.mean([np.mean((i[..., :3].astype(np.float64) - r[..., :3]) ** 2) for i, r in zip(images, references)])
  return float(10 * np.log10(255.0 ** 2 / error))


def envelope(points):
  """Lower envelope of (psnr, seconds): sorted by PSNR, each point cheaper than every point of higher PSNR."""
  best = []
  for p, t in sorted(points, key=lambda item: (-item[0], item[1])):
    if not best or t < best[-1][1]:
      best.append((p, t))
  return best[::-1]


def time_at_psnr(points, target):
  """Kubric's seconds at PSNR `target`: log-linear interpolation on the envelope; (seconds, 'in'|'below'|'above')."""
  curve = envelope(points)
  if target <= curve[0][0]:
    return curve[0][1], "below"  # Kubric's cheapest configuration is already at least this good
  if target > curve[-1][0]:
    return None, "above"
  for (p0, t0), (p1, t1) in zip(curve, curve[1:]):
    if p0 <= target <= p1:
      share = (target - p0) / (p1 - p0) if p1 > p0 else 0.0
      return float(np.exp(np.log(t0) + share * (np.log(t1) - np.log(t0)))), "in"
  return None, "above"


def layer_agreement(ours: dict, kubric: dict) -> dict:
  """Do the two engines' ground truth describe the same scene? (one frame, both engines' conventions undone)."""
  out = {"rgba_psnr_db": psnr(ours["rgba"], kubric["rgba"])}
  a, b = ours["segmentation"][..., 0], kubric["segmentation"][..., 0]
  matched = sum(np.bincount(a[b == label]).max() for label in np.unique(b))  # best match per Kubric id
  out["segmentation_pixels_agreeing"] = float(matched / a.size)
  depth_a, depth_b = ours["depth"][..., 0], kubric["depth"][..., 0]
  both = np.isfinite(depth_a) & (depth_b < 1e3)
  out["depth_median_abs_diff_m"] = float(np.median(np.abs(depth_a[both] - depth_b[both])))
  normal_b = kubric["normal"].astype(np.float64) / 65535 * 2 - 1
  cosine = np.sum(ours["normal"] * normal_b, -1)[both] / np.maximum(np.linalg.norm(normal_b, axis=-1)[both], 1e-6)
  out["normal_median_angle_deg"] = float(np.degrees(np.median(np.arccos(np.clip(cosine, -1, 1)))))
  coordinates_b = kubric["object_coordinates"].astype(np.float64) / 65535
  out["object_coordinates_median_abs_diff"] = float(np.median(np.abs(ours["object_coordinates"] - coordinates_b)
                                                              [both]))
  out["kubric_object_coordinates_nonzero"] = float(np.mean(kubric["object_coordinates"] > 0))
  for layer in ("forward_flow", "backward_flow"):
    kubric_xy = kubric[layer][..., ::-1]  # Kubric: (d_row, d_col); ours (dx, dy)
    moving = both & ((np.linalg.norm(ours[layer], axis=-1) > 0.01) | (np.linalg.norm(kubric_xy, axis=-1) > 0.01))
    out[f"{layer}_moving_pixels"] = int(moving.sum())
    if moving.any():
      out[f"{layer}_median_magnitude_px"] = float(np.median(np.linalg.norm(ours[layer], axis=-1)[moving]))
      for sign, label in ((1, "as_is"), (-1, "negated")):  # Kubric's backward flow points the other way
        out[f"{layer}_median_diff_px_kubric_{label}"] = float(np.median(np.linalg.norm(
            ours[layer] - sign * kubric_xy, axis=-1)[moving]))
  return out


def kubric_commit(kubric_src: str) -> str | None:
  """The Kubric checkout's commit, if it is a git work tree."""
  result = subprocess.run(["git", "-C", kubric_src, "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                          check=False)
  return result.stdout.strip() or None


def check_inputs(args) -> str | None:
  """A one-line reason why the Kubric side cannot run, or None."""
  if not args.kubric_src:
    return "--kubric_src is required: a Kubric checkout (its kubric/renderer/blender.py)"
  if not os.path.isfile(os.path.join(args.kubric_src, "kubric", "renderer", "blender.py")):
    return f"--kubric_src {args.kubric_src}: not a Kubric checkout (no kubric/renderer/blender.py)"
  if not args.kubric_python:
    return "--kubric_python is required: a Python with bpy 4.2 and Kubric's dependencies"
  if not (os.path.isfile(args.kubric_python) and os.access(args.kubric_python, os.X_OK)):
    return f"--kubric_python {args.kubric_python}: no such executable"
  return None


def parse(argv):
  parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument("--kubric_src", default="", help="a Kubric checkout (not committed here)")
  parser.add_argument("--kubric_python", default="", help="Python of an environment with bpy 4.2 + Kubric's deps")
  parser.add_argument("--resolution", type=int, default=224)
  parser.add_argument("--frames", type=int, default=8, help="frames per render call (1..frames of the scene)")
  parser.add_argument("--repeats", type=int, default=3, help="timed rounds after the discarded warm-up round")
  parser.add_argument("--reference_spp", type=int, default=1024, help="samples of each of the two references")
  parser.add_argument("--psnr_frames", type=int, default=2, help="frames scored (evenly spaced, ending at the last)")
  parser.add_argument("--seed", type=int, default=0, help="the scene's rng (positions, velocities, colours)")
  parser.add_argument("--kubric_object_coordinates", choices=("fix", "as_is"), default="fix",
                      help="name Kubric's object-coordinates AOV (fix) or leave it as Kubric sets it (all zero)")
  parser.add_argument("--quick", action="store_true", help="smoke check: 96 px, 2 frames, 1 round, 2+2 configurations")
  parser.add_argument("--out", default=OUT)
  parser.add_argument("--kubric_worker", action="store_true", help=argparse.SUPPRESS)
  parser.add_argument("--scene_json", help=argparse.SUPPRESS)
  parser.add_argument("--scratch", help=argparse.SUPPRESS)
  parser.add_argument("--reply_fd", type=int, help=argparse.SUPPRESS)
  args = parser.parse_args(argv)
  if args.quick:
    args.resolution, args.frames, args.repeats, args.reference_spp, args.psnr_frames = 96, 2, 1, 64, 1
  return args


def main(argv=None) -> int:
  args = parse(argv)
  if args.kubric_worker:
    return kubric_worker(args)
  problem = check_inputs(args)
  if problem:
    print(f"kubric_side_by_side: {problem}", file=sys.stderr)
    return 2
  from tqdm import tqdm  # pylint: disable=import-outside-toplevel
  sys.path.insert(0, ROOT)
  sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
  from render_speed import machine  # pylint: disable=import-outside-toplevel,import-error

  started = time.perf_counter()
  scratch = tempfile.mkdtemp(prefix="kubric-side-by-side-")
  log = lambda message: tqdm.write(message, file=sys.stderr)  # noqa: E731
  log(f"building and simulating the scene (seed {args.seed}) ...")
  scene, desc = simulator_scene(args.resolution, args.frames, scratch, args.seed)
  scene_json = os.path.join(scratch, "scene.json")
  with open(scene_json, "w", encoding="utf-8") as handle:
    json.dump(desc, handle)
  frames = list(range(1, args.frames + 1))
  step = max(1, len(frames) // args.psnr_frames)
  psnr_frames = frames[::-1][::step][:args.psnr_frames][::-1]
  log("starting Kubric's worker ...")
  kubric = KubricProcess(args.kubric_python, os.path.abspath(args.kubric_src), scene_json, scratch,
                         args.kubric_object_coordinates)
  log(f"Kubric ready: {kubric.info}")
  git = lambda *command: subprocess.run(["git", "-C", ROOT, *command], capture_output=True, text=True,  # noqa: E731
                                        check=False).stdout.strip()
  results = {"machine": machine(), "args": vars(args), "kubricgen_commit": git("rev-parse", "--short", "HEAD"),
             "kubricgen_uncommitted": git("status", "--short", "--untracked-files=no").splitlines(),
             "kubric_commit": kubric_commit(args.kubric_src), "kubric": kubric.info, "kubric_patches": KUBRIC_PATCHES,
             "frames": frames, "psnr_frames": psnr_frames, "load": {"start": os.getloadavg()}, "references": {}}

  # ---- references: two seeds per engine, interleaved --------------------------------------------------------------
  references = {}
  seeds = (101, 202)
  for engine in ("kubric", "ours"):
    references[engine] = []
  for seed in seeds:
    for engine in ("kubric", "ours"):
      begin = time.perf_counter()
      log(f"reference {engine}: {args.reference_spp} spp, seed {seed}, frames {psnr_frames} ...")
      if engine == "kubric":
        path = os.path.join(scratch, f"reference_kubric_{seed}.npz")
        kubric.render(spp=args.reference_spp, denoise=False, seed=seed, frames=psnr_frames, layers=["rgba"],
                      save=path, save_frames=psnr_frames)
        images = np.load(path)["rgba"]
      else:
        reference = dict(name="reference", kwargs=dict(quality="kubric", samples_per_pixel=args.reference_spp,
                                                       use_denoising=False), layers=("rgba",))
        images = our_render(scene, reference, psnr_frames, seed=seed)[0]["rgba"]
      references[engine].append(images)
      results["references"].setdefault(engine, {"seconds": []})["seconds"].append(time.perf_counter() - begin)
  for engine, (first, second) in references.items():
    results["references"][engine].update(
        spp=args.reference_spp, seeds=list(seeds),
        seed_vs_seed_psnr_db=mean_psnr(list(first), [s.astype(np.float64) for s in second]))
    references[engine] = [(a.astype(np.float64) + b) / 2 for a, b in zip(first, second)]
    log(f"  {engine}: the two references agree to {results['references'][engine]['seed_vs_seed_psnr_db']:.1f} dB")
  results["references"]["ours_vs_kubric_psnr_db"] = mean_psnr(references["ours"], references["kubric"])

  # ---- interleaved rounds -----------------------------------------------------------------------------------------
  kubric_rows = {c["name"]: dict(c, wall_s=[], cpu_s=[], readback_s=[], load=[]) for c in kubric_configs(args.quick)}
  our_rows = {c["name"]: dict(c, wall_s=[], cpu_s=[], readback_s=[], load=[]) for c in our_configs(args.quick)}
  for row in our_rows.values():
    row["layers"] = list(row.get("layers", LAYERS))
    row["eligible"] = row.get("eligible", True) and row["layers"] == list(LAYERS)
  total = (args.repeats + 1) * (len(kubric_rows) + len(our_rows))
  gt = {}
  with tqdm(total=total, desc="renders", unit="render", file=sys.stderr) as bar:
    for round_ in range(args.repeats + 1):
      label = "warm-up" if round_ == 0 else f"round {round_}"
      results["load"][label] = os.getloadavg()
      for engine, rows in (("kubric", kubric_rows), ("ours", our_rows)):
        for name, row in rows.items():
          save = round_ == 1
          if engine == "kubric":
            path = os.path.join(scratch, f"kubric_{len(row['wall_s'])}.npz")
            timing = kubric.render(spp=row["spp"], denoise=row["denoise"], seed=0, frames=frames,
                                   layers=list(LAYERS), save=path if save else None, save_frames=psnr_frames,
                                   save_layers=list(LAYERS))
            row["returned_layers"] = timing.pop("layers")
            data = dict(np.load(path)) if save else None
          else:
            data, timing = our_render(scene, row, frames)
            row["returned_layers"] = {k: [list(v.shape), str(v.dtype)] for k, v in data.items()}
            data = {k: v[[frames.index(f) for f in psnr_frames]] for k, v in data.items()} if save else None
          load = os.getloadavg()[0]
          bar.update(1)
          log(f"{engine} / {name} ({label}): {timing['wall_s'] / timing['frames']:.3f} s/frame, "
              f"{timing['cpu_s'] / timing['frames']:.3f} CPU s/frame, load {load:.1f}")
          if round_ == 0:
            continue
          row["wall_s"].append(timing["wall_s"] / timing["frames"])
          row["cpu_s"].append(timing["cpu_s"] / timing["frames"])
          row["readback_s"].append((timing["readback_s"] or 0.0) / timing["frames"])
          row["load"].append(load)
          if data is not None:
            row["psnr_db"] = mean_psnr(list(data["rgba"]), references[engine])
            if engine == "kubric" and name == "16 spp":  # the same settings as our first row
              gt["kubric"] = {k: v[-1] for k, v in data.items()}
            if engine == "ours" and name == next(iter(our_rows)):
              gt["ours"] = {k: v[-1] for k, v in data.items()}
  kubric.close()
  results["load"]["end"] = os.getloadavg()
  results["ground_truth_agreement"] = layer_agreement(gt["ours"], gt["kubric"])
  results["kubric_configs"], results["our_configs"] = kubric_rows, our_rows
  results["summary"] = summarize(kubric_rows, our_rows, args.repeats)
  results["seconds_total"] = time.perf_counter() - started
  os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
  with open(args.out, "w", encoding="utf-8") as handle:
    json.dump(results, handle, indent=2, default=float)
  print(markdown(results))
  shutil.rmtree(scratch, ignore_errors=True)
  log(f"wrote {args.out} ({results['seconds_total'] / 60:.1f} min)")
  return 0


def summarize(kubric_rows, our_rows, repeats) -> dict:
  """Ratios within each round (Kubric's time / ours), medians over rounds, for wall and CPU time."""
  same = next(iter(our_rows.values()))
  kubric_same = kubric_rows["16 spp"]
  summary = {"same_settings": {}, "equal_psnr": {}}
  for clock in ("wall_s", "cpu_s"):
    ratios = [k / o for k, o in zip(kubric_same[clock], same[clock])]
    summary["same_settings"][clock] = {"per_round": ratios, "median": statistics.median(ratios)}
  for name, row in our_rows.items():
    entry = {"psnr_db": row["psnr_db"], "eligible": row["eligible"]}
    for clock in ("wall_s", "cpu_s"):
      for curve, use in (("kubric_best", lambda r: True), ("kubric_samples_only", lambda r: not r["denoise"])):
        ratios, where = [], None
        for i in range(repeats):
          points = [(r["psnr_db"], r[clock][i]) for r in kubric_rows.values() if use(r)]
          seconds, where = time_at_psnr(points, row["psnr_db"])
          if seconds is not None:
            ratios.append(seconds / row[clock][i])
        entry[f"{curve}_{clock}"] = {"per_round": ratios, "median": statistics.median(ratios) if ratios else None,
                                     "psnr_on_kubric_curve": where}
    summary["equal_psnr"][name] = entry
  eligible = {n: e for n, e in summary["equal_psnr"].items()
              if e["eligible"] and e["kubric_best_wall_s"]["median"] is not None}
  for clock in ("wall_s", "cpu_s"):
    best = max(eligible, key=lambda n: eligible[n][f"kubric_best_{clock}"]["median"], default=None)
    summary[f"best_equal_psnr_{clock}"] = {"config": best, "ratio": eligible[best][f"kubric_best_{clock}"]["median"]
                                           if best else None}
  return summary


def markdown(results) -> str:
  """The table for BENCHMARKS.md."""
  kubric_rows, our_rows, summary = results["kubric_configs"], results["our_configs"], results["summary"]
  lines = ["| engine | configuration | exploration step | wall s/frame | CPU s/frame | PSNR dB | Kubric's time at "
           "this PSNR / ours (wall, CPU) | same, Kubric without its denoiser (wall, CPU) |",
           "|---|---|---|---:|---:|---:|---|---|"]
  median = statistics.median
  for name, row in kubric_rows.items():
    lines.append(f"| Kubric | {name} | | {median(row['wall_s']):.3f} | {median(row['cpu_s']):.3f} | "
                 f"{row['psnr_db']:.1f} | | |")
  def ratio(entry):
    value = entry["median"]
    if value is None:
      return "beyond Kubric's sweep"
    return f"{'<= ' if entry['psnr_on_kubric_curve'] == 'below' else ''}{value:.2f}x"
  for name, row in our_rows.items():
    entry = summary["equal_psnr"][name]
    lines.append(f"| kubricgen | {name} | {row['step']} | {median(row['wall_s']):.3f} | {median(row['cpu_s']):.3f} | "
                 f"{row['psnr_db']:.1f} | {ratio(entry['kubric_best_wall_s'])}, {ratio(entry['kubric_best_cpu_s'])} "
                 f"| {ratio(entry['kubric_samples_only_wall_s'])}, {ratio(entry['kubric_samples_only_cpu_s'])} |")
  same = summary["same_settings"]
  lines.append("")
  lines.append(f"Same settings (16 spp, no denoise, Blender's default light paths), Kubric / ours: "
               f"{same['wall_s']['median']:.2f}x wall, {same['cpu_s']['median']:.2f}x CPU.")
  return "\n".join(lines)


if __name__ == "__main__":
  sys.exit(main())
