"""Build a small SI-Score config with the test library through the Beam job pipeline (run as a subprocess).

  python -m tests.sharding.build_small DATA_DIR CACHE_DIR [--config location] [BEAM ARGS...]
Prints the job summary as JSON on the last line.
"""
import argparse
import functools
import json
import os
import socket
import sys

from kubricgen_sharding.executor import ExecutorSettings
from kubricgen.datasets.si_score import build, generate, specs
from tests.datasets.si_score import small_library

SETTINGS = specs.Settings(resolution=32, samples=2, train_examples=40, job_size=200)


def main():
  parser = argparse.ArgumentParser()
  parser.add_argument("data_dir")
  parser.add_argument("cache_dir")
  parser.add_argument("--config", default="location")
  parser.add_argument("--timeout", type=float, default=120)
  parser.add_argument("--overwrite", action="store_true")
  parser.add_argument("--backgrounds", default=None, help="a background folder or gs:// prefix instead of the "
                      "procedural test backgrounds")
  flags, beam_args = parser.parse_known_args()
  make_backgrounds = small_library.make_backgrounds
  if flags.backgrounds:
    from kubricgen.assets import BackgroundLibrary
    make_backgrounds = functools.partial(BackgroundLibrary.from_folder, flags.backgrounds)
  factory = functools.partial(generate.Generator, make_library=small_library.make_library,
                              make_backgrounds=make_backgrounds)
  result = build.build([flags.config], SETTINGS, data_dir=flags.data_dir, cache_dir=flags.cache_dir,
                       progress=False, generator_factory=factory, beam_args=beam_args, overwrite=flags.overwrite,
                       executor_settings=ExecutorSettings(timeout_s=flags.timeout, retries=2))[0]
  print(json.dumps({"path": result.path, "examples": result.examples, "summary": result.summary,
                    "driver_imported_bpy": "bpy" in sys.modules, "driver": f"{socket.gethostname()}:{os.getpid()}"}))


if __name__ == "__main__":
  sys.exit(main())
