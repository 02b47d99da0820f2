"""The trainer's and analyzer's data source checks a dataset's files against its files.sha256 before the first
read: a byte flipped inside a shard (which ArrayRecord's reader would serve as it is) is refused with one line
naming the file, and an intact dataset opens."""
import os
import shutil

import pytest

from kubricgen.datasets import checksums
from kubricgen_robustness.data import source


@pytest.fixture
def listed_copy(tiny_data_dir, tmp_path):
  """A copy of tiny_shapes whose version folder lists its files' sha256, as kubricgen's builds publish it."""
  copy = tmp_path / "tfds"
  shutil.copytree(tiny_data_dir, copy)
  (version_dir,) = [root for root, _, files in os.walk(copy) if "dataset_info.json" in files]
  checksums.write(version_dir)
  return str(copy), version_dir


def test_an_intact_listed_dataset_opens_and_is_hashed_once(listed_copy):
  data_dir, version_dir = listed_copy
  train = source.open_source("tiny_shapes", "train", data_dir)
  assert len(train) > 0 and train[0]["image"]
  assert source.check_files(version_dir, "train") == 0  # already checked in this process


@pytest.mark.parametrize("target", ["shard", "dataset_info.json"])
def test_a_flipped_byte_is_refused_before_use_naming_the_file(listed_copy, target):
  data_dir, version_dir = listed_copy
  name = next(n for n in sorted(os.listdir(version_dir)) if "-train.array_record-" in n) if target == "shard" \
      else target
  path = os.path.join(version_dir, name)
  data = bytearray(open(path, "rb").read())
  data[len(data) // 2] ^= 0x01
  open(path, "wb").write(bytes(data))
  with pytest.raises(source.DataError, match=rf"{name}: sha256 [0-9a-f]{{16}}…, files.sha256 says [0-9a-f]{{16}}…: "
                     r"the dataset is damaged \(run `kubricgen verify"):
    source.open_source("tiny_shapes", "train", data_dir)


def test_a_dataset_without_a_list_is_read_as_it_is(tiny_data_dir):
  (version_dir,) = [root for root, _, files in os.walk(tiny_data_dir) if "dataset_info.json" in files]
  assert source.check_files(version_dir, "train") == 0
