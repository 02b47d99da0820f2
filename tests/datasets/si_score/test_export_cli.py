"""`kubricgen export siscore`: the zip layout, what it prints, one-line errors, and the stock builder's dataset read
back by plain TFDS in a fresh interpreter."""
import functools
import subprocess
import sys
import zipfile

import pytest

from kubricgen.datasets.si_score import build, generate, specs
from tests.datasets.si_score import small_library

pytestmark = pytest.mark.slow  # more than a few seconds: outside the fast subset (pytest -m 'not slow')

RES = 32
FACTORY = functools.partial(generate.Generator, make_library=small_library.make_library,
                            make_backgrounds=small_library.make_backgrounds)


def kubricgen(*args, **kwargs):
  return subprocess.run([sys.executable, "-m", "kubricgen.cli.main", *args], capture_output=True, text=True,
                        timeout=600, **kwargs)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
  """location with an exportable class (orange) and one without a stock label (cube); size with cube only."""
  root = tmp_path_factory.mktemp("tfds")
  for config, classes in (("location", ("cube", "orange")), ("size", ("cube",))):
    build.build([config], specs.Settings(resolution=RES, samples=2, classes=classes), data_dir=str(root),
                progress=False, generator_factory=FACTORY, cache_dir=str(root / "cache"))
  return root


def test_export_writes_the_stock_zip_and_a_dataset_plain_tfds_loads(data_dir, tmp_path):
  stock = tmp_path / "stock"
  result = kubricgen("export", "siscore", "--data_dir", str(data_dir), "--configs", "location",
                     "--out", str(tmp_path / "zips"), "--stock_data_dir", str(stock))
  assert result.returncode == 0, result.stderr[-2000:]
  lines = result.stdout.splitlines()
  assert lines[0] == f"si_score/location -> {tmp_path / 'zips' / 'location.zip'}: 882 images of 1 classes"
  assert lines[1].split() == ["orange", "882"]
  assert lines[2] == "  skipped, not among the 61 stock SI-Score classes: cube (882 images)"
  with zipfile.ZipFile(tmp_path / "zips" / "location.zip") as archive:
    names = archive.namelist()
  assert len(names) == 882 and all(n.startswith("location20_area02_min0pc/orange/") and n.endswith(".jpg")
                                   for n in names)
  assert len({n.rsplit("/", 1)[1] for n in names}) == 882  # image ids are unique
  code = f"""
import collections, sys, tensorflow_datasets as tfds
ds = tfds.load("siscore/location", split="test", data_dir={str(stock)!r}, download=False)
print(dict(collections.Counter(int(e["label"]) for e in ds)), "kubricgen" in sys.modules)
"""
  loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                          cwd=str(tmp_path))
  assert loaded.returncode == 0, loaded.stderr[-2000:]
  assert loaded.stdout.strip().endswith("{950: 882} False")  # orange is ImageNet class 950


def test_errors_are_one_line(data_dir, tmp_path):
  missing = kubricgen("export", "siscore", "--data_dir", str(tmp_path / "empty"), "--out", str(tmp_path / "zips"))
  assert missing.returncode == 1 and missing.stderr.count("\n") == 1
  assert missing.stderr.startswith("kubricgen: error: no built si_score/location dataset at ")
  nothing = kubricgen("export", "siscore", "--data_dir", str(data_dir), "--configs", "size",
                      "--out", str(tmp_path / "zips"), "--stock_data_dir", str(tmp_path / "stock"))
  assert nothing.returncode == 1 and nothing.stderr.count("\n") == 1, nothing.stderr
  assert nothing.stderr.startswith("kubricgen: error: si_score/size: none of its classes is one of the 61 stock "
                                   "SI-Score classes (cube (")
  assert not (tmp_path / "zips" / "size.zip").exists() and not list((tmp_path / "zips").glob("*.partial"))
  bad = kubricgen("export", "siscore", "--configs", "train", "--data_dir", str(data_dir))
  assert bad.returncode == 2 and bad.stderr.startswith("kubricgen export: error: argument --configs: ")
  assert bad.stderr.count("\n") == 1
  unknown = kubricgen("export", "imagenet")
  assert unknown.returncode == 2 and unknown.stderr.startswith("kubricgen export: error: argument format: ")
