"""The shard sink: a job's records become its TFDS shard in every format, the marker commits it, a damaged committed
shard is discarded and written again, and on gs:// no object is ever replaced by other bytes."""
import json
import logging
import os

import pytest

from kubricgen_sharding.shards import DamagedShard, ShardedSplit
from kubricgen.storage import StorageError


def read_tfrecord(path):
  import tensorflow as tf
  return list(tf.compat.v1.io.tf_record_iterator(path))


def read_array_record(path):
  from array_record.python import array_record_module
  reader = array_record_module.ArrayRecordReader(path)
  try:
    return reader.read_all()
  finally:
    reader.close()


def test_each_job_becomes_its_own_shard_in_both_formats(tmp_path):
  sink = ShardedSplit(str(tmp_path / "v"), str(tmp_path / "markers"), "ds-test", ("a", "b", "c")).prepare()
  assert sink.finished() == set() and not sink.has("b")
  sink.save("b", [b"one", b"two"], {"seconds": 1.0})
  assert sink.finished() == {"b"} and sink.has("b")
  assert read_tfrecord(str(tmp_path / "v" / "ds-test.tfrecord-00001-of-00003")) == [b"one", b"two"]
  assert read_array_record(str(tmp_path / "v" / "ds-test.array_record-00001-of-00003")) == [b"one", b"two"]
  assert not [n for n in os.listdir(tmp_path / "v") if n.endswith(".tmp")]
  with pytest.raises(DamagedShard, match="has no marker"):  # shards a and c are not written yet
    sink.markers()
  sink.save("a", [], {})
  sink.save("c", [b"x" * 5], {})
  markers = sink.markers()
  assert [m["examples"] for m in markers] == [0, 2, 1] and [m["num_bytes"] for m in markers] == [0, 6, 5]
  assert [m["key"] for m in markers] == ["a", "b", "c"]


def flip_byte(path, where=0.5):
  data = bytearray(open(path, "rb").read())
  data[int(where * (len(data) - 1))] ^= 0x01
  open(path, "wb").write(bytes(data))


def truncate(path):
  data = open(path, "rb").read()
  open(path, "wb").write(data[:len(data) // 2])


def replace_marker(value):
  def damage(path):
    open(path, "w").write(value)
  return damage


DAMAGES = {  # (file to damage: "tfrecord", "array_record" or "marker", how, the warning's words)
    "flipped tfrecord byte": ("tfrecord", flip_byte, "sha256"),
    "flipped array_record byte": ("array_record", lambda p: flip_byte(p, 0.9), "sha256"),
    "truncated tfrecord": ("tfrecord", truncate, "bytes, its marker says"),
    "missing array_record": ("array_record", os.unlink, "missing"),
    "truncated marker": ("marker", truncate, "does not parse"),
    "marker of another job": ("marker", replace_marker(json.dumps({"key": "a", "files": {}})), "does not describe"),
    "marker crafted as a pickle": ("marker", lambda p: open(p, "wb").write(b"\x80\x05cos\nsystem\n."),
                                   "does not parse"),
}


@pytest.mark.parametrize("damage", DAMAGES)
def test_a_damaged_committed_shard_is_discarded_and_written_again(tmp_path, caplog, damage):
  target, how, words = DAMAGES[damage]
  sink = ShardedSplit(str(tmp_path / "v"), str(tmp_path / "markers"), "ds-test", ("a", "b")).prepare()
  sink.save("b", [b"one", b"two"], {})
  clean = {n: (tmp_path / "v" / n).read_bytes() for n in os.listdir(tmp_path / "v")}
  path = tmp_path / "markers" / "00001.json" if target == "marker" else \
      tmp_path / "v" / sink.shard_name(1, target)
  how(str(path))
  with caplog.at_level(logging.WARNING, logger="kubricgen_sharding.shards"):
    assert not sink.has("b")  # what a worker asks before it runs the job
  assert words in caplog.text and "discarding shard 1" in caplog.text
  assert sink.finished() == set() and not os.listdir(tmp_path / "v")  # marker and files are gone
  sink.save("b", [b"one", b"two"], {})
  assert sink.has("b")
  assert {n: (tmp_path / "v" / n).read_bytes() for n in os.listdir(tmp_path / "v")} == clean


def test_the_driver_refuses_to_publish_a_shard_whose_size_changed_after_its_commit(tmp_path):
  sink = ShardedSplit(str(tmp_path / "v"), str(tmp_path / "markers"), "ds-test", ("a",)).prepare()
  sink.save("a", [b"one"], {})
  truncate(str(tmp_path / "v" / sink.shard_name(0, "tfrecord")))
  with pytest.raises(DamagedShard, match=r"ds-test.tfrecord-00000-of-00001: \d+ bytes, its marker says \d+"):
    sink.markers()


def test_bad_sinks_are_refused(tmp_path):
  with pytest.raises(ValueError, match="unknown shard file format"):
    ShardedSplit(str(tmp_path), str(tmp_path), "ds-test", ("a",), formats=("parquet",))
  with pytest.raises(ValueError, match="unique"):
    ShardedSplit(str(tmp_path), str(tmp_path), "ds-test", ("a", "a"))


def test_on_gcs_a_retried_writer_is_accepted_and_other_bytes_are_refused(gcs_emulator):
  from kubricgen.storage import default_storage
  storage = default_storage()
  storage.create_bucket("shards")
  sink = ShardedSplit("gs://shards/ds/1.0.0", "gs://shards/.staging/shards", "ds-test", ("a", "b")).prepare()
  sink.save("a", [b"one"], {})
  assert sink.finished() == {"a"}
  sink.save("a", [b"one"], {})  # a worker retried after its upload landed: the same bytes are fine
  names = [url.rsplit("/", 1)[1] for url in storage.list("gs://shards/ds/1.0.0/")]
  assert names == ["ds-test.array_record-00000-of-00002", "ds-test.tfrecord-00000-of-00002"]
  with pytest.raises(StorageError, match="never overwritten"):
    sink.save("a", [b"other"], {})
  # A shard object damaged in the bucket is discarded and uploaded again, not refused as "other bytes".
  storage.upload(b"not a shard", "gs://shards/ds/1.0.0/ds-test.tfrecord-00000-of-00002")
  assert not sink.has("a")
  sink.save("a", [b"one"], {})
  assert sink.has("a") and read_tfrecord_bytes(storage.read_bytes(
      "gs://shards/ds/1.0.0/ds-test.tfrecord-00000-of-00002")) == [b"one"]
  sink.remove_markers()
  assert sink.finished() == set()


def read_tfrecord_bytes(data):
  import tempfile
  with tempfile.NamedTemporaryFile() as handle:
    handle.write(data)
    handle.flush()
    return read_tfrecord(handle.name)
