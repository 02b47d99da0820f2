"""Hello world: a static ball on a floor, one frame.

  kubricgen render scenes/helloworld.py --out output/helloworld
`build_scene` is importable (benchmarks/render_speed.py builds the same scene without the worker).
"""
import kubricgen as kb
from kubricgen.renderer.blender import QUALITY_PRESETS, Blender


def build_scene(scene, rng):
  scene += kb.Cube(name="floor", scale=(10, 10, 0.1), position=(0, 0, -0.1), background=True)
  scene += kb.Sphere(name="ball", scale=1, position=(0, 0, 1.0),
                     material=kb.PrincipledBSDFMaterial(color=kb.random_hue_color(rng=rng), roughness=0.3))
  scene += kb.DirectionalLight(name="sun", position=(-1, -0.5, 3), look_at=(0, 0, 0), intensity=3.0)
  scene.ambient_illumination = (0.15, 0.15, 0.15, 1.0)
  scene.background = (0.35, 0.45, 0.6, 1.0)
  scene.camera = kb.PerspectiveCamera(name="camera", position=(3, -1, 4), look_at=(0, 0, 1))


if __name__ == "__main__":
  parser = kb.ArgumentParser()
  parser.add_argument("--quality", choices=sorted(QUALITY_PRESETS), default=None,
                      help="named render preset (sets samples, denoising and light paths; overrides --samples)")
  parser.set_defaults(resolution=(256, 256), frame_start=1, frame_end=1)
  FLAGS = parser.parse_args()
  scene, rng, output_dir, scratch_dir = kb.setup(FLAGS)
  build_scene(scene, rng)
  # Cycles' seed from the run's generator: a 32-bit signed int, and the same for a drawn seed replayed with --seed.
  renderer = Blender(scene, scratch_dir, seed=int(rng.randint(2**31)), quality=FLAGS.quality)
  frames = renderer.render()
  kb.write_image_dict(frames, output_dir)
  kb.done()
