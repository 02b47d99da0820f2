"""Procedural background photographs rendered by Blender: skies (Blender's physical sky), ground and wall textures
(noise, Voronoi, wave, brick, checker nodes) seen through a camera.

Runs in its own process (`python -m kubricgen.assets.blender_backgrounds OUT SIZE KIND:SEED ...`) because it
resets Blender, which would break a renderer living in the caller's process; `render(specs, folder, size)` starts
that process. The bundled default set (`assets/backgrounds/`) was made with it (see assets/tools/).
"""
from __future__ import annotations

import os
import subprocess
import sys

KINDS = ("sky", "sunset", "clouds", "meadow", "beach", "wood_floor", "brick_wall", "marble", "gravel", "tiles",
         "foliage", "carpet")


def render(specs: list[tuple[str, int]], folder, size: int = 512, samples: int = 32, timeout_s: float = 600) -> list:
  """Render (kind, seed) pairs to `folder/<kind>-<seed>.png` in a Blender subprocess; returns the paths."""
  unknown = [kind for kind, _ in specs if kind not in KINDS]
  if unknown:
    raise ValueError(f"unknown background kinds {unknown}; known: {list(KINDS)}")
  os.makedirs(folder, exist_ok=True)
  arguments = [f"{kind}:{seed}" for kind, seed in specs]
  command = [sys.executable, "-m", "kubricgen.assets.blender_backgrounds", os.fspath(folder), str(size), str(samples),
             *arguments]
  result = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s, check=False)
  if result.returncode != 0:
    raise RuntimeError(f"background rendering failed: {result.stderr.strip().splitlines()[-1:]}")
  return [os.path.join(folder, f"{kind}-{seed}.png") for kind, seed in specs]


# ---- everything below runs inside the Blender subprocess --------------------------------------------------------


def _scene(size: int, samples: int):
  import bpy  # pylint: disable=import-outside-toplevel
  bpy.ops.wm.read_factory_settings(use_empty=True)
  scene = bpy.context.scene
  scene.render.engine = "CYCLES"
  scene.cycles.samples = samples
  scene.cycles.use_denoising = True
  scene.render.resolution_x = scene.render.resolution_y = size
  scene.render.image_settings.file_format = "PNG"
  scene.view_settings.view_transform = "AgX"
  return scene


def _camera(scene, location, rotation_degrees, lens=35.0):
  import math  # pylint: disable=import-outside-toplevel
  import bpy  # pylint: disable=import-outside-toplevel
  data = bpy.data.cameras.new("camera")
  data.lens = lens
  data.clip_end = 5000
  camera = bpy.data.objects.new("camera", data)
  camera.location = location
  camera.rotation_euler = [math.radians(a) for a in rotation_degrees]
  scene.collection.objects.link(camera)
  scene.camera = camera


def _world(scene, rng, elevation=None, strength=1.0):
  """Blender's physical sky (multiple scattering) with a random sun; returns the world's node tree."""
  import math  # pylint: disable=import-outside-toplevel
  import bpy  # pylint: disable=import-outside-toplevel
  world = bpy.data.worlds.new("world")
  scene.world = world
  nodes, links = world.node_tree.nodes, world.node_tree.links
  sky = nodes.new("ShaderNodeTexSky")
  sky.sky_type = "MULTIPLE_SCATTERING"
  sky.sun_elevation = math.radians(elevation if elevation is not None else rng.uniform(15, 50))
  sky.sun_rotation = math.radians(rng.uniform(0, 360))
  sky.air_density = rng.uniform(0.8, 2.0)
  sky.aerosol_density = rng.uniform(0.5, 2.5)
  background = nodes["Background"]
  background.inputs["Strength"].default_value = 0.12 * strength  # the physical sky is very bright
  links.new(sky.outputs["Color"], background.inputs["Color"])
  sun = bpy.data.lights.new("sun", "SUN")
  sun.energy = 3.0
  sun_object = bpy.data.objects.new("sun", sun)
  sun_object.rotation_euler = (math.radians(90) - sky.sun_elevation, 0, sky.sun_rotation + math.pi / 2)
  scene.collection.objects.link(sun_object)
  return world.node_tree


def _plane(scene, name, size, location, rotation_degrees, build_color, roughness=0.8):
  """A plane whose base colour is built by `build_color(nodes, links, vector_socket) -> color socket`."""
  import math  # pylint: disable=import-outside-toplevel
  import bpy  # pylint: disable=import-outside-toplevel
  mesh = bpy.data.meshes.new(name)
  h = size / 2
  mesh.from_pydata([(-h, -h, 0), (h, -h, 0), (h, h, 0), (-h, h, 0)], [], [(0, 1, 2, 3)])
  plane = bpy.data.objects.new(name, mesh)
  plane.location = location
  plane.rotation_euler = [math.radians(a) for a in rotation_degrees]
  material = bpy.data.materials.new(name)
  tree = material.node_tree
  nodes, links = tree.nodes, tree.links
  principled = nodes["Principled BSDF"]
  principled.inputs["Roughness"].default_value = roughness
  coordinates = nodes.new("ShaderNodeTexCoord")
  links.new(build_color(nodes, links, coordinates.outputs["Object"]), principled.inputs["Base Color"])
  mesh.materials.append(material)
  scene.collection.objects.link(plane)
  return plane


def _ramp(nodes, links, factor, stops):
  ramp = nodes.new("ShaderNodeValToRGB")
  elements = ramp.color_ramp.elements
  while len(elements) < len(stops):
    elements.new(0.5)
  for element, (position, color) in zip(elements, stops):
    element.position = position
    element.color = tuple(color) + (1.0,)
  links.new(factor, ramp.inputs["Factor"])
  return ramp.outputs["Color"]


def _noise(nodes, links, vector, scale, detail=6.0, roughness=0.55, distortion=0.0):
  noise = nodes.new("ShaderNodeTexNoise")
  noise.inputs["Scale"].default_value = scale
  noise.inputs["Detail"].default_value = detail
  noise.inputs["Roughness"].default_value = roughness
  noise.inputs["Distortion"].default_value = distortion
  links.new(vector, noise.inputs["Vector"])
  return noise.outputs["Factor"]


def _pick(rng, options):
  return options[rng.randint(len(options))]


def _jitter(rng, color, amount=0.15):
  return [min(1.0, max(0.0, c * rng.uniform(1 - amount, 1 + amount))) for c in color]


def _build(kind: str, seed: int, size: int, samples: int, path: str) -> None:
  import numpy as np  # pylint: disable=import-outside-toplevel
  import bpy  # pylint: disable=import-outside-toplevel
  rng = np.random.RandomState(seed)
  scene = _scene(size, samples)
  offset = tuple(rng.uniform(-100, 100, 3))

  def shifted(nodes, links, vector):
    mapping = nodes.new("ShaderNodeMapping")
    mapping.inputs["Location"].default_value = offset
    links.new(vector, mapping.inputs["Vector"])
    return mapping.outputs["Vector"]

  if kind in ("sky", "sunset", "clouds"):
    tree = _world(scene, rng, elevation=rng.uniform(1, 4) if kind == "sunset" else None)
    _camera(scene, (0, 0, 1.7), (90 + rng.uniform(8, 30), 0, rng.uniform(0, 360)), lens=rng.uniform(18, 30))
    if kind == "clouds":
      nodes, links = tree.nodes, tree.links
      sky_color = nodes["Background"].inputs["Color"].links[0].from_socket
      coordinates = nodes.new("ShaderNodeTexCoord")
      cover = _noise(nodes, links, shifted(nodes, links, coordinates.outputs["Generated"]), rng.uniform(2, 4), 8, 0.6)
      mask = _ramp(nodes, links, cover, [(rng.uniform(0.45, 0.55), (0, 0, 0)), (0.7, (1, 1, 1))])
      mix = nodes.new("ShaderNodeMix")
      mix.data_type = "RGBA"
      links.new(mask, mix.inputs["Factor"])
      links.new(sky_color, mix.inputs[6])
      mix.inputs[7].default_value = (7.0, 7.0, 7.2, 1)  # in sky units (the background strength scales it down)
      links.new(mix.outputs[2], nodes["Background"].inputs["Color"])
    _plane(scene, "ground", 20000, (0, 0, 0), (0, 0, 0),
           lambda n, l, v: _ramp(n, l, _noise(n, l, v, 0.01), [(0.3, (0.08, 0.1, 0.05)), (0.7, (0.15, 0.14, 0.08))]))
  elif kind in ("meadow", "beach"):
    _world(scene, rng)
    _camera(scene, (0, 0, rng.uniform(1.2, 2.0)), (rng.uniform(78, 86), 0, rng.uniform(0, 360)), lens=24)
    if kind == "meadow":
      greens = [(0.0, _jitter(rng, (0.01, 0.04, 0.005))), (0.5, _jitter(rng, (0.04, 0.12, 0.01))),
                (1.0, _jitter(rng, (0.2, 0.22, 0.03)))]
      _plane(scene, "grass", 4000, (0, 0, 0), (0, 0, 0),
             lambda n, l, v: _ramp(n, l, _noise(n, l, shifted(n, l, v), 6, 10, 0.7, 0.4), greens), roughness=0.9)
    else:
      sand = [(0.3, _jitter(rng, (0.3, 0.22, 0.12))), (0.7, _jitter(rng, (0.5, 0.4, 0.25)))]
      _plane(scene, "sand", 16, (0, 0, 0), (0, 0, 0),
             lambda n, l, v: _ramp(n, l, _noise(n, l, shifted(n, l, v), 30, 8), sand))
      sea = [(0.2, _jitter(rng, (0.005, 0.04, 0.08))), (0.8, _jitter(rng, (0.02, 0.1, 0.16)))]
      water = _plane(scene, "sea", 8000, (0, 0, -0.05), (0, 0, 0),
                     lambda n, l, v: _ramp(n, l, _noise(n, l, v, 2, 4), sea), roughness=0.1)
      water.location = (0, 0, -0.02)
      bpy.data.objects["sand"].location = (0, 0, 0)
  elif kind in ("wood_floor", "tiles", "gravel", "carpet"):
    _world(scene, rng, strength=0.6)
    pitch = rng.uniform(20, 35) if kind in ("carpet", "gravel") else rng.uniform(45, 60)
    _camera(scene, (0, -3, 2.2), (pitch, 0, rng.uniform(-20, 20)), lens=30)

    def floor(n, l, v):
      v = shifted(n, l, v)
      if kind == "wood_floor":
        planks = n.new("ShaderNodeTexBrick")
        planks.inputs["Scale"].default_value = 1.0
        planks.inputs["Brick Width"].default_value = 1.8
        planks.inputs["Row Height"].default_value = 0.2
        planks.inputs["Mortar Size"].default_value = 0.004
        base = _jitter(rng, (0.2, 0.09, 0.03))
        planks.inputs["Color1"].default_value = tuple(base) + (1,)
        planks.inputs["Color2"].default_value = tuple(_jitter(rng, base, 0.3)) + (1,)
        planks.inputs["Mortar"].default_value = (0.05, 0.03, 0.02, 1)
        l.new(v, planks.inputs["Vector"])
        grain = n.new("ShaderNodeTexWave")
        grain.inputs["Scale"].default_value = 2
        grain.inputs["Distortion"].default_value = 10
        grain.inputs["Detail"].default_value = 4
        l.new(v, grain.inputs["Vector"])
        mix = n.new("ShaderNodeMix")
        mix.data_type, mix.blend_type = "RGBA", "MULTIPLY"
        mix.inputs["Factor"].default_value = 0.6
        l.new(planks.outputs["Color"], mix.inputs[6])
        l.new(grain.outputs["Color"], mix.inputs[7])
        return mix.outputs[2]
      if kind == "tiles":
        tiles = n.new("ShaderNodeTexBrick")
        tiles.offset = 0.0
        tiles.inputs["Scale"].default_value = 2.0
        tiles.inputs["Brick Width"].default_value = 0.5
        tiles.inputs["Row Height"].default_value = 0.5
        tiles.inputs["Mortar Size"].default_value = 0.012
        color = _jitter(rng, _pick(rng, [(0.6, 0.6, 0.58), (0.3, 0.1, 0.05), (0.05, 0.1, 0.25), (0.45, 0.4, 0.28)]))
        tiles.inputs["Color1"].default_value = tuple(color) + (1,)
        tiles.inputs["Color2"].default_value = tuple(_jitter(rng, color, 0.1)) + (1,)
        tiles.inputs["Mortar"].default_value = (0.6, 0.58, 0.55, 1)
        l.new(v, tiles.inputs["Vector"])
        return tiles.outputs["Color"]
      if kind == "gravel":
        cells = n.new("ShaderNodeTexVoronoi")
        cells.inputs["Scale"].default_value = rng.uniform(6, 12)
        l.new(v, cells.inputs["Vector"])
        stones = _ramp(n, l, n.new("ShaderNodeSeparateColor").outputs[0], [(0, (0, 0, 0)), (1, (1, 1, 1))])
        separate = stones.node.inputs["Factor"].links[0].from_node
        l.new(cells.outputs["Color"], separate.inputs["Color"])
        tint = _jitter(rng, (0.3, 0.26, 0.2))
        ramp = stones.node.color_ramp.elements
        ramp[0].color = tuple(c * 0.4 for c in tint) + (1,)
        ramp[1].color = tuple(tint) + (1,)
        return stones
      weave = n.new("ShaderNodeTexMagic")
      weave.inputs["Scale"].default_value = rng.uniform(1.5, 3)
      weave.inputs["Distortion"].default_value = rng.uniform(1, 3)
      l.new(v, weave.inputs["Vector"])
      hue = rng.uniform(0, 1)
      import colorsys  # pylint: disable=import-outside-toplevel
      a, b = colorsys.hsv_to_rgb(hue, 0.8, 0.35), colorsys.hsv_to_rgb((hue + 0.12) % 1, 0.7, 0.08)
      return _ramp(n, l, weave.outputs["Factor"], [(0.2, b), (0.8, a)])
    _plane(scene, "floor", 40, (0, 0, 0), (0, 0, rng.uniform(0, 90)), floor, roughness=0.5)
  elif kind in ("brick_wall", "marble", "foliage"):
    _world(scene, rng, strength=0.8)
    _camera(scene, (0, -4, 0), (90, 0, 0), lens=rng.uniform(25, 40))

    def wall(n, l, v):
      v = shifted(n, l, v)
      if kind == "brick_wall":
        bricks = n.new("ShaderNodeTexBrick")
        bricks.inputs["Scale"].default_value = 3.0
        color = _jitter(rng, _pick(rng, [(0.25, 0.06, 0.03), (0.35, 0.15, 0.07), (0.3, 0.25, 0.2)]))
        bricks.inputs["Color1"].default_value = tuple(color) + (1,)
        bricks.inputs["Color2"].default_value = tuple(_jitter(rng, color, 0.25)) + (1,)
        bricks.inputs["Mortar"].default_value = (0.35, 0.33, 0.3, 1)
        bricks.inputs["Mortar Size"].default_value = 0.015
        l.new(v, bricks.inputs["Vector"])
        return bricks.outputs["Color"]
      if kind == "marble":
        veins = n.new("ShaderNodeTexWave")
        veins.inputs["Scale"].default_value = rng.uniform(0.5, 1.5)
        veins.inputs["Distortion"].default_value = rng.uniform(8, 16)
        veins.inputs["Detail"].default_value = 8
        l.new(v, veins.inputs["Vector"])
        tone = _jitter(rng, (0.85, 0.84, 0.8), 0.08)
        return _ramp(n, l, veins.outputs["Factor"], [(0.0, tuple(c * 0.35 for c in tone)), (0.25, tone), (1.0, tone)])
      leaves = n.new("ShaderNodeTexVoronoi")
      leaves.inputs["Scale"].default_value = rng.uniform(8, 14)
      l.new(v, leaves.inputs["Vector"])
      return _ramp(n, l, leaves.outputs["Distance"],
                   [(0.0, _jitter(rng, (0.25, 0.45, 0.1))), (0.6, _jitter(rng, (0.05, 0.18, 0.03))),
                    (0.9, (0.01, 0.03, 0.01))])
    _plane(scene, "wall", 30, (0, 0, 0), (90, 0, 0), wall, roughness=0.3 if kind == "marble" else 0.85)
  else:
    raise ValueError(f"unknown background kind {kind!r}")
  scene.render.filepath = path
  bpy.ops.render.render(write_still=True)


def main(argv: list[str]) -> int:
  folder, size, samples, *specs = argv
  for spec in specs:
    kind, _, seed = spec.partition(":")
    _build(kind, int(seed or 0), int(size), int(samples), os.path.join(folder, f"{kind}-{int(seed or 0)}.png"))
  return 0


if __name__ == "__main__":
  sys.exit(main(sys.argv[1:]))
