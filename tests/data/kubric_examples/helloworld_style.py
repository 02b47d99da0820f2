"""A still-image worker in the style of Kubric's examples/helloworld.py, written against Kubric's API.

Run as Kubric's examples are, `python helloworld_style.py` from the folder that gets `output/`. Only the import lines
differ from a Kubric worker (`import kubric as kb`, `from kubric.renderer.blender import Blender`).
"""
import json

import kubricgen as kb
from kubricgen.renderer.blender import Blender

scene = kb.Scene(resolution=(48, 40))
renderer = Blender(scene, samples_per_pixel=4)

scene += kb.Cube(name="floor", scale=(8, 8, 0.1), position=(0, 0, -0.1), static=True)
scene += kb.Sphere(name="ball", scale=0.8, position=(0, 0, 0.8),
                   material=kb.PrincipledBSDFMaterial(color=kb.get_color("fuchsia")))
scene += kb.DirectionalLight(name="sun", position=(-1, -0.5, 3), look_at=(0, 0, 0), intensity=2.5)
scene += kb.PerspectiveCamera(name="camera", position=(3, -1, 4), look_at=(0, 0, 0.8))  # becomes scene.camera

renderer.save_state("output/helloworld.blend")  # Kubric creates output/ here
frame = renderer.render_still()

kb.write_png(frame["rgba"], "output/helloworld.png")
kb.write_palette_png(frame["segmentation"], "output/helloworld_segmentation.png")
depth_range = kb.write_scaled_png(frame["depth"], "output/helloworld_depth.png")
print(json.dumps({"depth_range": depth_range}))
