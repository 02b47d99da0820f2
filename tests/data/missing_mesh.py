import kubricgen as kb
FLAGS = kb.ArgumentParser().parse_args()
scene, rng, output_dir, scratch_dir = kb.setup(FLAGS)
scene += kb.FileBasedObject(render_filename="meshes/does_not_exist.obj")
kb.done()
