"""The small SI-Score build of tests/sharding/build_small.py as a scene script, so the fault-injection trials run it
the way a user runs a build: `kubricgen render tests/integrity/small_scene.py DATA_DIR CACHE_DIR [flags]`, with the
command's own failure handling (one `kubricgen: error:` line on stderr, a non-zero exit)."""
from tests.sharding import build_small

if __name__ == "__main__":
  build_small.main()
