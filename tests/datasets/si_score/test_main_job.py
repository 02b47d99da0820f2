"""The main job end to end, as a user runs it: `kubricgen render scenes/si_score.py` on its embedded defaults (the
bundled class and background libraries, every config, Beam with local workers), reduced to two classes at 32 px;
then every config loads with plain TFDS in a fresh interpreter and passes `kubricgen verify`."""
import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
CLASSES = ("banana", "coffee mug")  # two classes: cue_conflict, occlusion and clutter need another class


def kubricgen(*args, env, timeout=900):
  return subprocess.run([sys.executable, "-m", "kubricgen.cli.main", *args], capture_output=True, text=True,
                        timeout=timeout, env=env, cwd=ROOT, check=False)


def test_the_main_job_builds_every_config_that_plain_tfds_loads_and_verify_accepts(tmp_path):
  from kubricgen.datasets.si_score import build, generate, specs
  env = dict(os.environ, PYTHONPATH=ROOT)
  data_dir = tmp_path / "tfds"
  result = kubricgen("render", "scenes/si_score.py", "--classes", ",".join(CLASSES), "--instances_per_class", "1",
                     "--backgrounds_per_instance", "1", "--train_examples", "8", "--resolution", "32",
                     "--samples", "2", "--data_dir", str(data_dir), "--preview_dir", str(tmp_path / "previews"),
                     "--no_progress", env=env)
  assert result.returncode == 0, result.stderr[-3000:]
  settings = specs.Settings(resolution=32, samples=2, test_instances_per_class=1, backgrounds_per_instance=1,
                            train_examples=8, classes=tuple(sorted(CLASSES)))
  expected = {config: build.plan(config, settings) for config in build.CONFIG_NAMES}
  names = generate.Generator(specs.Settings()).library.class_names
  labels = sorted(names.index(name) for name in CLASSES)
  assert all(count > 0 for count in expected.values()), expected
  assert sorted(p.name for p in (tmp_path / "previews").iterdir()) == sorted(
      f"preview_{config}.png" for config in build.CONFIG_NAMES)
  loader = (
      "import json, sys, tensorflow_datasets as tfds\n"
      "counts = {}\n"
      "for config in sys.argv[2:]:\n"
      "  split = 'train' if config == 'train' else 'test'\n"
      "  dataset = tfds.load(f'si_score/{config}', split=split, data_dir=sys.argv[1])\n"
      "  labels = [int(example['label']) for example in dataset.as_numpy_iterator()]\n"
      "  counts[config] = [len(labels), sorted(set(labels))]\n"
      "print(json.dumps(counts))\n")
  loaded = subprocess.run([sys.executable, "-c", loader, str(data_dir), *build.CONFIG_NAMES], capture_output=True,
                          text=True, timeout=600, check=False, env=env)
  assert loaded.returncode == 0, loaded.stderr[-3000:]
  counts = json.loads(loaded.stdout.strip().splitlines()[-1])
  for config, count in expected.items():
    if settings.threshold(config) > 0:
      assert 0 < counts[config][0] <= count, (config, counts[config], count)  # the threshold drops some candidates
    else:
      assert counts[config][0] == count, (config, counts[config], count)
    assert counts[config][1] == labels, config  # both classes appear, labelled as in the whole library
  verified = kubricgen("verify", str(data_dir / "si_score" / "occlusion"), env=env, timeout=300)
  assert verified.returncode == 0, verified.stderr[-2000:]
