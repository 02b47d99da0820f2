"""A worker script written against Kubric's API; only the three import lines differ from a Kubric worker.

The original import lines would be:
  import kubric as kb
  from kubric.simulator.pybullet import PyBullet as KubricSimulator
  from kubric.renderer.blender import Blender as KubricRenderer
"""
import logging

import numpy as np

import kubricgen as kb
from kubricgen.simulator.pybullet import PyBullet as KubricSimulator
from kubricgen.renderer.blender import Blender as KubricRenderer

logging.basicConfig(level="INFO")

parser = kb.ArgumentParser()
FLAGS = parser.parse_args()
scene, rng, output_dir, scratch_dir = kb.setup(FLAGS)

simulator = KubricSimulator(scene, scratch_dir)
renderer = KubricRenderer(scene, scratch_dir, samples_per_pixel=4)

scene += kb.Cube(name="floor", scale=(10, 10, 0.1), position=(0, 0, -0.1), static=True,
                 background=True)
scene += kb.DirectionalLight(name="sun", position=(-1, -0.5, 3), look_at=(0, 0, 0), intensity=1.5)
scene.camera = kb.PerspectiveCamera(name="camera", position=(2, -0.5, 4), look_at=(0, 0, 0))

spawn_region = [[-1, -1, 0], [1, 1, 1]]
velocity = kb.random_rotation(rng=rng)
for i in range(4):
  ball = kb.Sphere(scale=0.1, velocity=rng.uniform([-1, -1, 0], [1, 1, 0]))
  ball.material = kb.PrincipledBSDFMaterial(color=kb.random_hue_color(rng=rng))
  scene += ball
  kb.move_until_no_overlap(ball, simulator, spawn_region=spawn_region, rng=rng)

animation, collisions = simulator.run()
frames_dict = renderer.render()
kb.write_image_dict(frames_dict, output_dir)
data = {
    "metadata": kb.get_scene_metadata(scene),
    "camera": kb.get_camera_info(scene.camera),
    "instances": kb.get_instance_info(scene),
    "flags": vars(FLAGS),
}
kb.write_json(data, f"{output_dir}/metadata.json")
kb.write_json({"collisions": kb.process_collisions(collisions, scene)}, f"{output_dir}/events.json")
kb.done()
