"""A MOVi-style worker written against Kubric's documented API, reading its objects from Kubric-format asset
manifests with `kb.AssetSource`; only the three import lines would differ in a Kubric worker:
  import kubric as kb
  from kubric.simulator.pybullet import PyBullet
  from kubric.renderer.blender import Blender

KuBasic shapes (primitives) and GSO-style objects (tar.gz archives holding an OBJ render mesh and a URDF) are
dropped onto a floor, simulated and rendered; the GSO objects come from the training part of the manifest's split.
Post-processing follows Kubric's MOVi workers: visibility on the raw segmentation with `scene.assets`, the visible
instances sorted by visibility, the segmentation renumbered to them, their boxes, instance records and collisions.
"""
import logging

import numpy as np

import kubricgen as kb
from kubricgen.simulator.pybullet import PyBullet
from kubricgen.renderer.blender import Blender

logging.basicConfig(level="INFO")

parser = kb.ArgumentParser()
parser.add_argument("--kubasic_assets", required=True, help="Kubric manifest of KuBasic-style shapes")
parser.add_argument("--gso_assets", required=True, help="Kubric manifest of GSO-style objects")
parser.add_argument("--objects_split", choices=["train", "test"], default="train")
parser.add_argument("--num_shapes", type=int, default=3)
parser.add_argument("--num_objects", type=int, default=2)
parser.add_argument("--save_state", dest="save_state", action="store_true")
parser.set_defaults(save_state=False, frame_start=1, frame_end=4, frame_rate=12,
                    resolution=32)  # an int, as Kubric's MOVi workers
FLAGS = parser.parse_args()

SPAWN_REGION = [(-1.5, -1.5, 1.0), (1.5, 1.5, 2.0)]
SHAPES = ["cube", "sphere", "cylinder", "cone", "torus"]

scene, rng, output_dir, scratch_dir = kb.setup(FLAGS)
simulator = PyBullet(scene, scratch_dir)
renderer = Blender(scene, scratch_dir, samples_per_pixel=FLAGS.samples)
kubasic = kb.AssetSource.from_manifest(FLAGS.kubasic_assets)
gso = kb.AssetSource.from_manifest(FLAGS.gso_assets)

# --- floor, light, camera
scene += kubasic.create("cube", name="floor", scale=(6, 6, 0.1), position=(0, 0, -0.1), static=True,
                        background=True, friction=0.5, restitution=0.2,
                        material=kb.PrincipledBSDFMaterial(color=kb.get_color("gray"), roughness=1.0))
scene.metadata["background"] = "clevr"
scene.add(kb.assets.utils.get_clevr_lights(rng=rng))
scene.ambient_illumination = kb.Color(0.05, 0.05, 0.05)
scene.camera = kb.PerspectiveCamera(focal_length=35.0, sensor_width=32)
scene.camera.position = kb.sample_point_in_half_sphere_shell(inner_radius=7.0, outer_radius=9.0, offset=0.1)
scene.camera.look_at((0, 0, 0))

# --- KuBasic shapes, sized and coloured as in MOVi-A
for index in range(FLAGS.num_shapes):
  shape_name = rng.choice(SHAPES)
  size_label, size = kb.randomness.sample_sizes("clevr", rng)
  color_label, random_color = kb.randomness.sample_color("clevr", rng)
  size *= 0.3  # this scene is smaller than MOVi's
  obj = kubasic.create(asset_id=shape_name, scale=size, name=f"{size_label} {color_label} {shape_name} {index}")
  obj.material = kb.PrincipledBSDFMaterial(color=random_color, metallic=0.0, ior=1.25, roughness=0.7,
                                           specular=0.33)
  obj.mass *= 1.1 * size ** 3
  obj.metadata = {"shape": shape_name, "size": size, "size_label": size_label, "color": random_color.rgb,
                  "color_label": color_label}
  scene.add(obj)
  kb.move_until_no_overlap(obj, simulator, spawn_region=SPAWN_REGION, rng=rng)

# --- GSO-style objects from one side of the held-out split, scaled by their bounds as in MOVi-C
train_split, test_split = gso.get_test_split(fraction=0.4)
active_split = train_split if FLAGS.objects_split == "train" else test_split
for index in range(FLAGS.num_objects):
  obj = gso.create(asset_id=active_split[rng.randint(len(active_split))])
  assert isinstance(obj, kb.FileBasedObject)
  scale = rng.uniform(0.75, 1.25)
  obj.scale = scale / np.max(obj.bounds[1] - obj.bounds[0])
  obj.metadata["scale"] = scale
  scene += obj
  kb.move_until_no_overlap(obj, simulator, spawn_region=SPAWN_REGION, rng=rng)

if FLAGS.save_state:
  simulator.save_state(output_dir / "scene.bullet")
animation, collisions = simulator.run(frame_start=0, frame_end=scene.frame_end + 1)
if FLAGS.save_state:
  renderer.save_state(output_dir / "scene.blend")
data_stack = renderer.render()
kb.compute_visibility(data_stack["segmentation"], scene.assets)
visible_foreground_assets = [asset for asset in scene.foreground_assets if np.max(asset.metadata["visibility"]) > 0]
visible_foreground_assets = sorted(visible_foreground_assets, key=lambda asset: np.sum(asset.metadata["visibility"]),
                                   reverse=True)
data_stack["segmentation"] = kb.adjust_segmentation_idxs(data_stack["segmentation"], scene.assets,
                                                         visible_foreground_assets)
scene.metadata["num_instances"] = len(visible_foreground_assets)
kb.write_image_dict(data_stack, output_dir)
kb.post_processing.compute_bboxes(data_stack["segmentation"], visible_foreground_assets)
kb.write_json(filename=output_dir / "metadata.json", data={
    "flags": vars(FLAGS), "metadata": kb.get_scene_metadata(scene), "camera": kb.get_camera_info(scene.camera),
    "instances": kb.get_instance_info(scene, visible_foreground_assets)})
kb.write_json(filename=output_dir / "events.json", data={
    "collisions": kb.process_collisions(collisions, scene, assets_subset=visible_foreground_assets)})
kb.done()
