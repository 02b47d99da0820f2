import kubricgen as kb
FLAGS = kb.ArgumentParser().parse_args()
scene, rng, output_dir, scratch_dir = kb.setup(FLAGS)
open(f"{output_dir}/half_written.txt", "w").write("x")
scene += kb.Cube(mass=-1)
