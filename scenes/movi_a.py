"""MOVi-A style: 3-10 CLEVR-like objects thrown onto a floor, simulated with PyBullet, seen by a moving camera.

  kubricgen render scenes/movi_a.py --seed 7 --out output/movi_a
Writes 24 frames (default 256x256) of every ground-truth layer, metadata.json and events.json (collisions).
The simulation covers one frame before and after the rendered range so flow is defined at both ends.
`build_scene` is importable (benchmarks/render_speed.py builds the same scene without the worker).
"""
import numpy as np

import kubricgen as kb
from kubricgen.renderer.blender import QUALITY_PRESETS, Blender
from kubricgen.simulator.pybullet import PyBullet

SHAPES = {"cube": kb.Cube, "cylinder": kb.Cylinder, "sphere": kb.Sphere, "cone": kb.Cone, "torus": kb.Torus}
SIZES = {"small": 0.35, "large": 0.7}
MATERIALS = {"metal": dict(metallic=1.0, roughness=0.2), "rubber": dict(metallic=0.0, roughness=0.7)}
SPAWN_REGION = ((-5, -5, 1), (5, 5, 5))
VELOCITY_RANGE = ((-4, -4, 0), (4, 4, 0))


def build_scene(scene, rng, simulator, min_objects=3, max_objects=10, camera_motion="moving"):
  """Floor, lights, a camera keyframed from frame_start - 1 to frame_end + 1, and thrown objects (not simulated)."""
  # --- floor, lights, camera -------------------------------------------------------------------------------------
  scene += kb.Cube(name="floor", scale=(40, 40, 0.1), position=(0, 0, -0.1), static=True, background=True,
                   friction=0.3, restitution=0.5,
                   material=kb.PrincipledBSDFMaterial(color=(0.35, 0.35, 0.35), roughness=0.8))
  scene += kb.DirectionalLight(name="sun", position=(11.6, -7.1, 20.0), look_at=(0, 0, 0), intensity=3.0)
  scene += kb.RectAreaLight(name="fill", position=(-4.7, 10.7, 10.6), look_at=(0, 0, 0), intensity=200, width=4,
                            height=4)
  scene.ambient_illumination = (0.1, 0.1, 0.1, 1.0)
  scene.background = (0.2, 0.2, 0.22, 1.0)
  camera = kb.PerspectiveCamera(name="camera", focal_length=35.0, sensor_width=32.0)
  scene.camera = camera
  radius, height = 10.5, 6.5
  start_angle, sweep = rng.uniform(0, 2 * np.pi), (np.pi / 6 if camera_motion == "moving" else 0.0)
  num_frames = scene.frame_end - scene.frame_start
  for frame in range(scene.frame_start - 1, scene.frame_end + 2):  # one frame beyond each end, for flow
    angle = start_angle + sweep * (frame - scene.frame_start) / max(num_frames, 1)
    camera.position = (radius * np.cos(angle), radius * np.sin(angle), height)
    camera.look_at((0, 0, 0.5))
    camera.keyframe_insert("position", frame)
    camera.keyframe_insert("quaternion", frame)

  # --- objects ---------------------------------------------------------------------------------------------------
  for index in range(rng.randint(min_objects, max_objects + 1)):
    shape = rng.choice(sorted(SHAPES))
    size = rng.choice(sorted(SIZES))
    material = rng.choice(sorted(MATERIALS))
    color_name = rng.choice(sorted(kb.CLEVR_COLORS))
    obj = SHAPES[shape](name=f"{color_name}_{material}_{shape}_{index}", scale=SIZES[size], asset_id=shape,
                        material=kb.PrincipledBSDFMaterial(color=kb.CLEVR_COLORS[color_name], **MATERIALS[material]),
                        mass=1.0 if material == "rubber" else 2.7, friction=0.8 if material == "rubber" else 0.4,
                        restitution=0.7 if material == "rubber" else 0.3,
                        metadata={"shape": shape, "size_label": size, "material_label": material,
                                  "color_label": color_name})
    scene += obj
    kb.move_until_no_overlap(obj, simulator, spawn_region=SPAWN_REGION, rng=rng)
    obj.velocity = kb.sample_point_in_region(VELOCITY_RANGE, rng) - np.r_[obj.position[:2], 0] * (0.5, 0.5, 0)


if __name__ == "__main__":
  parser = kb.ArgumentParser()
  parser.add_argument("--min_objects", type=int, default=3)
  parser.add_argument("--max_objects", type=int, default=10)
  parser.add_argument("--camera", choices=("fixed", "moving"), default="moving")
  parser.add_argument("--quality", choices=sorted(QUALITY_PRESETS), default=None,
                      help="named render preset (sets samples, denoising and light paths; overrides --samples)")
  parser.set_defaults(resolution=(256, 256), frame_start=1, frame_end=24, frame_rate=12)
  FLAGS = parser.parse_args()
  if not 1 <= FLAGS.min_objects <= FLAGS.max_objects:
    parser.error(f"need 1 <= --min_objects <= --max_objects, got {FLAGS.min_objects} and {FLAGS.max_objects}")
  scene, rng, output_dir, scratch_dir = kb.setup(FLAGS)
  simulator = PyBullet(scene, scratch_dir)
  renderer = Blender(scene, scratch_dir, seed=int(rng.randint(2**31)), quality=FLAGS.quality)
  build_scene(scene, rng, simulator, FLAGS.min_objects, FLAGS.max_objects, FLAGS.camera)

  # --- simulate, render, write -----------------------------------------------------------------------------------
  animation, collisions = simulator.run(frame_start=FLAGS.frame_start - 1, frame_end=FLAGS.frame_end + 1)
  frames = renderer.render()
  kb.write_image_dict(frames, output_dir)
  # 2D boxes, visible pixels and visible fraction per instance and frame (metadata.json; see docs/metadata.md)
  kb.compute_bboxes(frames["segmentation"], scene.instances)
  kb.compute_visibility(frames["segmentation"], scene.instances)
  kb.write_json({"collisions": kb.process_collisions(collisions, scene)}, f"{output_dir}/events.json")
  kb.done()
