"""The TFDS builder: expected split sizes (TFDS's own builder test), a fresh interpreter loads the published dataset
with plain TFDS (tf.data and random access), masks honour factors, the stock `siscore` builder reads our export,
rebuilding is idempotent and a failing build publishes nothing."""
import functools
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow_datasets as tfds

from kubricgen.datasets.si_score import build, composite, export, factors, generate, specs
from kubricgen.datasets.si_score.si_score_dataset_builder import Builder
from tests.datasets.si_score import small_library

RES = 32
SETTINGS = specs.Settings(resolution=RES, samples=2, train_examples=24)
FACTORY = functools.partial(generate.Generator, make_library=small_library.make_library,
                            make_backgrounds=small_library.make_backgrounds)


def expected_kept(subset, settings=SETTINGS):
  """How many examples of a subset pass its visibility threshold, computed from the geometry alone."""
  generator = FACTORY(settings)
  kept = 0
  for job in specs.group_into_jobs(specs.subset_specs(subset, settings, generator.library, generator.backgrounds.ids),
                                   settings.job_size):
    cutout = generator.cutout(job)
    kept += sum(composite.place(cutout.rgba, s.x, s.y, s.area, s.rotation, RES, RES, key=cutout.key)
                .pct_inside_image >= s.visibility_threshold for s in job.specs)
  return kept


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
  root = tmp_path_factory.mktemp("tfds")
  build.build(["location", "size", "rotation", "train"], SETTINGS, data_dir=str(root), progress=False,
              generator_factory=FACTORY, cache_dir=str(root / "cache"))
  return root


class SmallSiScore(Builder):
  """The real builder with the small library and tiny settings, for TFDS's builder test case."""

  def __init__(self, **kwargs):
    super().__init__(generator=FACTORY(SETTINGS), progress=False, **kwargs)


class SiScoreLocationTest(tfds.testing.DatasetBuilderTestCase):
  DATASET_CLASS = SmallSiScore
  BUILDER_CONFIG_NAMES_TO_TEST = ["location"]
  SPLITS = {"test": 441 * 3 * 2}  # every grid point for 3 held-out instances x 2 backgrounds: threshold 0
  SKIP_CHECKSUMS = True
  DL_EXTRACT_RESULT = {}

  @classmethod
  def setUpClass(cls):
    cls.EXAMPLE_DIR = os.path.dirname(__file__)
    super().setUpClass()


class SiScoreTrainTest(SiScoreLocationTest):
  BUILDER_CONFIG_NAMES_TO_TEST = ["train"]
  SPLITS = {"train": 24}


def test_published_configs_have_the_expected_sizes_and_no_staging_left(data_dir):
  info = lambda c: json.loads((data_dir / "si_score" / c / "1.0.0" / "dataset_info.json").read_text())
  count = lambda c: sum(int(n) for s in info(c)["splits"] for n in s["shardLengths"])
  assert count("location") == 441 * 6
  assert count("size") == expected_kept("size") < 100 * 6  # the 0.95 threshold dropped the largest sizes
  assert count("rotation") == expected_kept("rotation") < 72 * 6
  assert count("train") == 24
  assert info("location")["alternativeFileFormats"] == ["array_record"]
  assert not any("staging" in p.name for p in data_dir.iterdir())


def test_a_fresh_interpreter_loads_it_with_plain_tfds(data_dir):
  code = f"""
import sys, numpy as np, tensorflow_datasets as tfds
ds = tfds.load("si_score/location", split="test", data_dir={str(data_dir)!r})
first = next(iter(tfds.as_numpy(ds)))
source = tfds.data_source("si_score/size", split="test", data_dir={str(data_dir)!r})
example = source[len(source) - 1]
assert "kubricgen" not in sys.modules, "loading must not need kubricgen"
print(first["image"].shape, first["mask"].shape, len(source), float(example["area"]) > 0, example["object_instance"])
"""
  result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                          cwd=str(data_dir))
  assert result.returncode == 0, result.stderr[-2000:]
  assert f"({RES}, {RES}, 3) ({RES}, {RES}, 1)" in result.stdout


def test_loaded_examples_carry_factors_that_their_masks_honour(data_dir):
  source = tfds.data_source("si_score/location", split="test", data_dir=str(data_dir))
  checked = 0
  for index in range(0, len(source), 97):
    example = source[index]
    assert example["visibility_threshold"] == 0 and example["imagenet_label"] in (-1, 849, 950)
    assert example["content_hash"] and example["seed"] >= 0
    if example["pct_inside_image"] < 1:
      continue
    rows, cols = np.nonzero(example["mask"][..., 0] > 127)
    centre = ((cols.min() + cols.max() + 1) / 2, (rows.min() + rows.max() + 1) / 2)
    assert abs(centre[0] - example["x"] * RES) <= 1.5 and abs(centre[1] - example["y"] * RES) <= 1.5
    checked += 1
  assert checked > 5
  train = tfds.data_source("si_score/train", split="train", data_dir=str(data_dir))
  assert {train[i]["object_instance"].decode() for i in range(len(train))} <= {"cube_train", "orange_train",
                                                                              "teapot_train"}


def test_rebuilding_is_skipped_unless_overwrite(data_dir):
  before = (data_dir / "si_score" / "size" / "1.0.0" / "dataset_info.json").stat().st_mtime_ns
  result = build.build(["size"], SETTINGS, data_dir=str(data_dir), progress=False, generator_factory=FACTORY,
                       cache_dir=str(data_dir / "cache"))[0]
  assert result.skipped
  assert (data_dir / "si_score" / "size" / "1.0.0" / "dataset_info.json").stat().st_mtime_ns == before


def test_a_rebuild_with_other_settings_is_refused_naming_the_difference(data_dir):
  published = data_dir / "si_score" / "size" / "1.0.0"
  record = json.loads((published / build.BUILD_RECORD).read_text())
  assert record["settings"]["resolution"] == RES and record["settings"]["train_examples"] == 24
  before = (published / "dataset_info.json").read_bytes()
  other = specs.Settings(resolution=RES, samples=4, train_examples=24)  # e.g. a --samples change
  with pytest.raises(build.PublishedMismatch) as error:
    build.build(["size"], other, data_dir=str(data_dir), progress=False, generator_factory=FACTORY,
                cache_dir=str(data_dir / "cache"))
  message = str(error.value)
  assert "\n" not in message and "settings.samples: published 2, this build 4" in message
  assert "--overwrite" in message
  assert (published / "dataset_info.json").read_bytes() == before  # nothing replaced


def test_a_config_published_without_a_build_record_is_not_taken_as_current(data_dir, tmp_path):
  import shutil
  copy = tmp_path / "si_score" / "rotation" / "1.0.0"
  shutil.copytree(data_dir / "si_score" / "rotation" / "1.0.0", copy)
  (copy / build.BUILD_RECORD).unlink()
  with pytest.raises(build.PublishedMismatch, match="no record of its build settings"):
    build.build(["rotation"], SETTINGS, data_dir=str(tmp_path), progress=False, generator_factory=FACTORY,
                cache_dir=str(tmp_path / "cache"))


def test_a_failing_build_publishes_nothing(tmp_path):
  class Broken(small_library.SmallLibrary):
    def create(self, asset_id, **overrides):
      if asset_id.startswith("teapot"):
        raise RuntimeError("mesh exploded")
      return super().create(asset_id, **overrides)

  broken = functools.partial(generate.Generator, make_library=Broken, make_backgrounds=small_library.make_backgrounds)
  with pytest.raises(RuntimeError, match="mesh exploded"):
    build.build(["size"], SETTINGS, data_dir=str(tmp_path), progress=False, generator_factory=broken,
                cache_dir=str(tmp_path / "cache"))
  assert not (tmp_path / "si_score").exists()
  assert sorted(p.name for p in tmp_path.iterdir()) == [".si_score-size.lock", "cache"]  # no staging left


def test_the_stock_siscore_builder_reads_the_export(data_dir, tmp_path):
  result = export.export(str(data_dir / "si_score" / "location" / "1.0.0"), "location", str(tmp_path / "zip"),
                         str(tmp_path / "stock"))
  assert result.exported == {"orange": 882, "teapot": 882} and result.skipped == {"cube": 882}
  code = f"""
import collections, tensorflow_datasets as tfds
ds = tfds.load("siscore/location", split="test", data_dir={str(tmp_path / 'stock')!r}, download=False)
print(dict(collections.Counter(int(e["label"]) for e in ds)))
"""
  loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
  assert loaded.returncode == 0, loaded.stderr[-2000:]
  assert loaded.stdout.strip().endswith("{849: 882, 950: 882}") or loaded.stdout.strip().endswith(
      "{950: 882, 849: 882}")
  with pytest.raises(ValueError, match="no 'train' config"):
    export.write_zip(str(data_dir / "si_score" / "train" / "1.0.0"), "train", str(tmp_path / "zip"))


def test_tfds_serializer_is_patched_only_while_the_in_process_build_writes(data_dir):
  """The in-process build (the module fixture) makes TFDS's writer deterministic for its write only; TFDS's method
  is back afterwards. The patch targets ExampleSerializer.serialize_example as of tensorflow-datasets 4.9.10: an
  upgrade that moves it fails here first."""
  import tensorflow_datasets as tfds
  from tensorflow_datasets.core import example_serializer
  assert tfds.__version__.startswith("4.9."), tfds.__version__
  original = example_serializer.ExampleSerializer.__dict__["serialize_example"]
  assert original.__module__ == example_serializer.__name__  # TFDS's own, not left patched by the build
  with build.deterministic_serialization():
    assert example_serializer.ExampleSerializer.__dict__["serialize_example"] is not original
  assert example_serializer.ExampleSerializer.__dict__["serialize_example"] is original
