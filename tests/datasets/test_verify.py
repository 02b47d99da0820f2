"""`kubricgen verify` reads every record of every file format a dataset lists: a byte flipped or cut anywhere in a
shard, or a record rewritten with a valid CRC, is reported as one line naming the file, the record and what was
expected, with exit status 1; an intact dataset passes."""
import functools
import json
import shutil

import pytest

from kubricgen.cli.main import main
from kubricgen.datasets.si_score import build, generate, specs
from tests.datasets.si_score import small_library

SETTINGS = specs.Settings(resolution=32, samples=2, train_examples=8)
FACTORY = functools.partial(generate.Generator, make_library=small_library.make_library,
                            make_backgrounds=small_library.make_backgrounds)


@pytest.fixture(scope="module")
def published(tmp_path_factory):
  root = tmp_path_factory.mktemp("tfds")
  build.build(["rotation"], SETTINGS, data_dir=str(root), progress=False, generator_factory=FACTORY,
              cache_dir=str(root / "cache"))
  return root / "si_score" / "rotation" / "1.0.0"


@pytest.fixture
def dataset(published, tmp_path):
  copy = tmp_path / "1.0.0"
  shutil.copytree(published, copy)
  return copy


def verify(capsys, path):
  status = main(["verify", str(path)])
  captured = capsys.readouterr()
  errors = [line for line in captured.err.splitlines() if line.strip()]
  return status, captured.out, errors


def shard(dataset, file_format, index=0):
  return next(p for p in sorted(dataset.iterdir()) if f".{file_format}-{index:05d}-of-" in p.name)


def flip(path, where=0.5):
  data = bytearray(path.read_bytes())
  data[int(where * (len(data) - 1))] ^= 0x01
  path.write_bytes(bytes(data))


def cut(path, keep=0.6):
  data = path.read_bytes()
  path.write_bytes(data[:int(len(data) * keep)])


def rewrite_record_with_valid_crc(path, index=3):
  """Change one field of record `index` and write the shard again through TensorFlow's writer: the frame CRCs
  check, only the record's content hash can tell."""
  import tensorflow as tf
  records = list(tf.compat.v1.io.tf_record_iterator(str(path)))
  example = tf.train.Example.FromString(records[index])
  example.features.feature["rotation"].float_list.value[0] += 1.0
  records[index] = example.SerializeToString()
  with tf.io.TFRecordWriter(str(path)) as writer:
    for record in records:
      writer.write(record)


def test_an_intact_dataset_passes_in_both_formats(capsys, published):
  status, out, errors = verify(capsys, published)
  records = sum(int(n) for s in json.loads((published / "dataset_info.json").read_text())["splits"]
                for n in s["shardLengths"])
  assert status == 0 and not errors, errors
  assert f"{2 * records} records in tfrecord and array_record" in out
  listed = dict(line.split("  ")[::-1] for line in (published / "files.sha256").read_text().splitlines())
  assert set(listed) == {p.name for p in published.iterdir()} - {"files.sha256"}


CASES = {  # damage -> (file format, how, words in the one line, beside the file name)
    "array_record byte flipped mid-file": ("array_record", flip, r"record \d+"),
    "array_record byte flipped near its end": ("array_record", lambda p: flip(p, 0.999),
                                               r"sha256 [0-9a-f]{16}…, files.sha256 says|record \d+"),
    "dataset_info.json edited, still valid": ("dataset_info", lambda p: p.write_text(p.read_text().replace(
        "\"name\": \"si_score\"", "\"name\":  \"si_score\"")), r"sha256 [0-9a-f]{16}…, files.sha256 says"),
    "array_record cut short": ("array_record", cut, r"record 0: unreadable \(footer or index"),
    "tfrecord byte flipped mid-file": ("tfrecord", flip, r"record \d+: unreadable \(DataLossError"),
    "tfrecord cut short": ("tfrecord", cut, r"record \d+: unreadable|\d+ records, dataset_info.json says \d+"),
    "tfrecord record rewritten with a valid CRC": ("tfrecord", rewrite_record_with_valid_crc,
                                                   r"record 3 \(image_id \d+\): content hash [0-9a-f]{16}…, the "
                                                   r"record stores [0-9a-f]{16}…"),
    "array_record shard deleted": ("array_record", lambda p: p.unlink(), r"missing; dataset_info.json lists it "
                                                                        r"with \d+ records"),
}


@pytest.mark.parametrize("damage", CASES)
def test_damage_anywhere_is_one_line_naming_file_and_record(capsys, dataset, damage):
  import re
  file_format, how, words = CASES[damage]
  path = dataset / "dataset_info.json" if file_format == "dataset_info" else shard(dataset, file_format)
  how(path)
  status, _, errors = verify(capsys, dataset)
  assert status == 1 and len(errors) == 1, errors
  assert path.name in errors[0] and re.search(words, errors[0]), errors[0]
  assert "Traceback" not in errors[0]


def test_a_damaged_dataset_info_is_one_line(capsys, dataset):
  (dataset / "dataset_info.json").write_text("{not json")
  status, _, errors = verify(capsys, dataset)
  assert status == 1 and len(errors) == 1 and "dataset_info.json or features.json does not read" in errors[0], errors
