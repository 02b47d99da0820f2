"""Every way the README loads a published si_score, each run as written in a fresh interpreter with plain TFDS (no
kubricgen imported), from the default data_dir (`$TFDS_DATA_DIR`, or `~/tensorflow_datasets` by HOME) and from an
explicit `data_dir=`, whole splits and slices: `tfds.load`, `tfds.builder(...).as_data_source`, `tfds.data_source`.

Plain `tfds.data_source(name, split=...)` with neither a data_dir nor kubricgen imported is the one form TFDS 4.9
refuses for a dataset whose primary format is tfrecord (see README, "SI-Score"): that refusal is checked too, so the
README is corrected the day TFDS lifts it, and the form the README gives instead (kubricgen's builder imported) works.
"""
import json
import os
import subprocess
import sys

import pytest

from kubricgen.datasets.si_score import build
from tests.datasets.si_score.test_builder import FACTORY, RES, SETTINGS


@pytest.fixture(scope="module")
def home(tmp_path_factory):
  """A HOME whose ~/tensorflow_datasets holds si_score/train and si_score/size, built as `kubricgen render` builds
  them (Beam workers writing tfrecord + array_record shards)."""
  home = tmp_path_factory.mktemp("home")
  data_dir = home / "tensorflow_datasets"
  build.build(["train", "size"], SETTINGS, data_dir=str(data_dir), progress=False, generator_factory=FACTORY,
              cache_dir=str(home / "cache"), beam_args=["--direct_num_workers=1"])
  return home


def counts(home):
  info = lambda c: json.loads((home / "tensorflow_datasets" / "si_score" / c / "1.0.0" / "dataset_info.json")
                              .read_text())
  return {c: sum(int(n) for s in info(c)["splits"] for n in s["shardLengths"]) for c in ("train", "size")}


# (name, code): `KW` becomes `, data_dir=...` for an explicit data_dir and nothing for the default one. Each prints
# "N=<examples> SHAPE=<image shape>".
FORMS = {
    "load": 'ds = tfds.load("si_score/size", split="test"KW)\n'  # tf.data's import dominates: both in one
            'assert sum(1 for _ in ds) == SIZE, "whole split"\n'
            'ds = tfds.load("si_score/size", split="test[:10%]"KW)\n'
            'n = sum(1 for _ in ds); first = next(iter(tfds.as_numpy(ds)))\n',
    "builder_as_data_source": 'source = tfds.builder("si_score/train"KW).as_data_source("train")\n'
                              'n = len(source); first = source[n - 1]\n',
    "builder_as_data_source_slice": 'source = tfds.builder("si_score/size"KW).as_data_source("test[:10%]")\n'
                                    'n = len(source); first = source[n - 1]\n',
}
EXPLICIT_ONLY = {  # the README gives these with data_dir=
    "data_source": 'source = tfds.data_source("si_score/train", split="train"KW)\n'
                   'n = len(source); first = source[n - 1]\n',
    "data_source_slice": 'source = tfds.data_source("si_score/size", split="test[:10%]"KW)\n'
                         'n = len(source); first = source[n - 1]\n',
}
EXPECTED = {"load": "size/10", "builder_as_data_source": "train",
            "builder_as_data_source_slice": "size/10", "data_source": "train", "data_source_slice": "size/10"}


def load_in_fresh_interpreter(home, tmp_path, code, data_dir_mode, prelude=""):
  """Run `code` in a new interpreter; data_dir_mode: 'TFDS_DATA_DIR' or 'HOME' (default data_dir) or 'explicit'."""
  data_dir = str(home / "tensorflow_datasets")
  env = {k: v for k, v in os.environ.items() if k not in ("TFDS_DATA_DIR", "PYTHONPATH")}
  env["HOME"] = str(home) if data_dir_mode == "HOME" else str(tmp_path)  # tmp_path: an empty home
  if data_dir_mode == "TFDS_DATA_DIR":
    env["TFDS_DATA_DIR"] = data_dir
  keyword = f", data_dir={data_dir!r}" if data_dir_mode == "explicit" else ""
  code = code.replace("KW", keyword).replace("SIZE", str(counts(home)["size"]))
  script = ("import sys\nimport tensorflow_datasets as tfds\n" + prelude + code +
            'print(f"N={n} SHAPE={tuple(first[\'image\'].shape)} KUBRICGEN={\'kubricgen\' in sys.modules}")\n')
  return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, env=env,
                        cwd=str(tmp_path))


def expected_count(home, what):
  config, _, tenth = what.partition("/")
  total = counts(home)[config]
  return round(total / 10) if tenth else total


@pytest.mark.parametrize("mode, form", [(m, f) for m in ("TFDS_DATA_DIR", "HOME", "explicit") for f in FORMS] +
                         [("explicit", f) for f in EXPLICIT_ONLY])  # without data_dir: the next test
def test_each_documented_form_loads_in_a_fresh_interpreter(home, tmp_path, mode, form):
  result = load_in_fresh_interpreter(home, tmp_path, {**FORMS, **EXPLICIT_ONLY}[form], mode)
  assert result.returncode == 0, result.stderr[-3000:]
  line = result.stdout.strip().splitlines()[-1]
  assert line == f"N={expected_count(home, EXPECTED[form])} SHAPE=({RES}, {RES}, 3) KUBRICGEN=False", line


@pytest.mark.parametrize("mode", ["TFDS_DATA_DIR", "HOME"])
def test_data_source_without_data_dir(home, tmp_path, mode):
  """With kubricgen's builder imported it works (whole split and slice); with plain TFDS 4.9 it is refused as the
  README says."""
  code = EXPLICIT_ONLY["data_source"] + EXPLICIT_ONLY["data_source_slice"].replace("first =", "first_slice =")
  with_builder = load_in_fresh_interpreter(home, tmp_path, code, mode, prelude="import kubricgen.datasets.si_score\n")
  assert with_builder.returncode == 0, with_builder.stderr[-3000:]
  assert with_builder.stdout.strip().splitlines()[-1] == (
      f"N={expected_count(home, 'size/10')} SHAPE=({RES}, {RES}, 3) KUBRICGEN=True")
  plain = load_in_fresh_interpreter(home, tmp_path, EXPLICIT_ONLY["data_source"], mode)
  assert plain.returncode != 0, "TFDS now opens it without a data_dir: update the README's SI-Score loading text"
  assert "File format is already set to FileFormat.TFRECORD. Got FileFormat.ARRAY_RECORD" in plain.stderr


def test_asking_for_a_format_the_dataset_lacks_is_one_clear_error(home, tmp_path):
  code = 'tfds.builder("si_score/train", file_format="parquet"KW)\nn = first = None\n'
  result = load_in_fresh_interpreter(home, tmp_path, code, "explicit", prelude="import kubricgen.datasets.si_score\n")
  assert result.returncode != 0
  assert "si_score/train in " in result.stderr and "has no parquet files (it has array_record, tfrecord)" in \
      result.stderr
