"""The shard sink: a job's records become its TFDS shard in every format, the marker commits it, and on gs:// no
object is ever replaced by other bytes."""
import os

import pytest

from beam_jobs.shards import ShardedSplit
from kubricgen.assets.errors import StorageError


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
  with pytest.raises(FileNotFoundError):  # shards a and c are not written yet
    sink.markers()
  sink.save("a", [], {})
  sink.save("c", [b"x" * 5], {})
  markers = sink.markers()
  assert [m["examples"] for m in markers] == [0, 2, 1] and [m["num_bytes"] for m in markers] == [0, 6, 5]
  assert [m["key"] for m in markers] == ["a", "b", "c"]


def test_bad_sinks_are_refused(tmp_path):
  with pytest.raises(ValueError, match="unknown shard file format"):
    ShardedSplit(str(tmp_path), str(tmp_path), "ds-test", ("a",), formats=("parquet",))
  with pytest.raises(ValueError, match="unique"):
    ShardedSplit(str(tmp_path), str(tmp_path), "ds-test", ("a", "a"))


def test_on_gcs_a_retried_writer_is_accepted_and_other_bytes_are_refused(gcs_emulator):
  from kubricgen.assets.storage import default_storage
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
  sink.remove_markers()
  assert sink.finished() == set()
