"""A simulated worker in the style of Kubric's examples/simulator.py, written against Kubric's API.

Balls thrown over a static floor; `move_until_no_overlap` is called without `rng=`, as Kubric's example does, and
draws from kubricgen's fixed-seed fallback generator (no kb.setup here), so the scene is the same on every run.
Run as `python simulator_style.py` from the folder that gets `output/`.
"""
import numpy as np

import kubricgen as kb
from kubricgen.renderer.blender import Blender as KubricRenderer
from kubricgen.simulator.pybullet import PyBullet as KubricSimulator

scene = kb.Scene(resolution=(40, 32))
scene.frame_end = 5
simulator = KubricSimulator(scene)
renderer = KubricRenderer(scene, samples_per_pixel=2)

scene += kb.Cube(name="floor", scale=(3, 3, 0.1), position=(0, 0, -0.1), static=True)
scene += kb.DirectionalLight(name="sun", position=(-1, -0.5, 3), look_at=(0, 0, 0), intensity=1.5)
scene += kb.PerspectiveCamera(name="camera", position=(2, -0.5, 4), look_at=(0, 0, 0))

rng = np.random.default_rng(11)
for _ in range(4):
  ball = kb.Sphere(scale=0.15, velocity=rng.uniform([-1, -1, 0], [1, 1, 0]),
                   material=kb.PrincipledBSDFMaterial(color=kb.random_hue_color(rng=rng)))
  scene += ball
  kb.move_until_no_overlap(ball, simulator, spawn_region=[[-1, -1, 0], [1, 1, 1]])

renderer.save_state("output/simulator.blend")
simulator.run()
kb.write_image_dict(renderer.render(), "output")
