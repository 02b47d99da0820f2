"""Shards written where they are made: one TFDS shard per job, written by the worker that ran the job.

A `ShardedSplit` is the sink of the job pipeline (beam_jobs.pipeline.RunJobs) for one split of a TFDS dataset. Job i
of the split's job list becomes shard i: the worker writes the job's serialized records, in the job's order, as
`{prefix}.tfrecord-0000i-of-0000N` and `{prefix}.array_record-0000i-of-0000N` straight into the dataset's version
folder (a local path or a gs:// prefix), then a small marker `{index}.json` (record count, bytes, timings) into a
marker folder outside the dataset. The marker is written last, so it is the commit: a shard whose marker exists is
whole, and a rerun after a crash or kill -9 writes only the shards without one. Nothing here knows what a record
holds: records are opaque bytes (serialized tf.train.Examples for TFDS).

Each file appears whole or not at all: locally written to a temporary name and renamed; on gs:// uploaded from a
local temporary file with `ifGenerationMatch=0`, so an existing object is never replaced (a retried worker that
uploads the same bytes again is accepted by md5). The driver then reads only the N markers to assemble
dataset_info.json: its work grows with the number of shards, not of examples.

File formats: TFRecord through TensorFlow's writer (`tf.io.TFRecordWriter`: records framed with masked CRC32C, what
`tfds.load` reads) and ArrayRecord through its own writer, one record per chunk and uncompressed (what
`tfds.data_source` reads; the records are JPEG/PNG-carrying examples that zstd does not shrink).
"""
from __future__ import annotations

import dataclasses
import json
import os
import shutil
import socket
import tempfile
import uuid
from typing import Any, Sequence

FORMATS = ("tfrecord", "array_record")
ARRAY_RECORD_OPTIONS = "group_size:1,uncompressed"


def _is_gcs(path: str) -> bool:
  return str(path).startswith("gs://")


def _join(folder: str, name: str) -> str:
  return f"{folder.rstrip('/')}/{name}" if _is_gcs(folder) else os.path.join(folder, name)


def _storage():
  from kubricgen.assets.storage import default_storage  # pylint: disable=import-outside-toplevel
  return default_storage()


def write_tfrecord(path: str, records: Sequence[bytes]) -> None:
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  with tf.io.TFRecordWriter(path) as writer:
    for record in records:
      writer.write(record)


def write_array_record(path: str, records: Sequence[bytes]) -> None:
  from array_record.python import array_record_module  # pylint: disable=import-outside-toplevel
  writer = array_record_module.ArrayRecordWriter(path, ARRAY_RECORD_OPTIONS)
  for record in records:
    writer.write(record)
  writer.close()


WRITERS = {"tfrecord": write_tfrecord, "array_record": write_array_record}


@dataclasses.dataclass(frozen=True)
class ShardedSplit:
  """One split written as one shard per job.

  version_dir: the dataset version folder the shard files go to (local path or gs:// prefix).
  marker_dir: a folder (local or gs://) for the per-shard commit markers; keep it out of version_dir.
  filename_prefix: TFDS's `{DATASET}-{SPLIT}`, e.g. "si_score-test".
  keys: the job keys in shard order (shard i holds job keys[i]).
  formats: file formats each shard is written in (any of FORMATS).
  """
  version_dir: str
  marker_dir: str
  filename_prefix: str
  keys: tuple[str, ...]
  formats: tuple[str, ...] = FORMATS

  def __post_init__(self):
    unknown = [f for f in self.formats if f not in WRITERS]
    if unknown:
      raise ValueError(f"unknown shard file format(s) {unknown}; expected some of {list(FORMATS)}")
    if len(set(self.keys)) != len(self.keys):
      raise ValueError("job keys must be unique: one shard per job")

  @property
  def num_shards(self) -> int:
    return len(self.keys)

  def index(self, key: str) -> int:
    return self.keys.index(key)

  def shard_name(self, index: int, file_format: str) -> str:
    """TFDS's default file name: `{DATASET}-{SPLIT}.{FILEFORMAT}-{SHARD_X_OF_Y}`."""
    return f"{self.filename_prefix}.{file_format}-{index:05d}-of-{self.num_shards:05d}"

  def _marker(self, index: int) -> str:
    return _join(self.marker_dir, f"{index:05d}.json")

  # The sink protocol of beam_jobs.pipeline: has / save / finished.
  def prepare(self) -> "ShardedSplit":
    if not _is_gcs(self.version_dir):
      os.makedirs(self.version_dir, exist_ok=True)
    if not _is_gcs(self.marker_dir):
      os.makedirs(self.marker_dir, exist_ok=True)
    return self

  def has(self, key: str) -> bool:
    marker = self._marker(self.index(key))
    return _storage().exists(marker) if _is_gcs(marker) else os.path.isfile(marker)

  def save(self, key: str, records: Sequence[bytes], stats: dict[str, Any]) -> None:
    """Write job `key`'s records as its shard in every format, then its marker (the commit)."""
    index = self.index(key)
    records = list(records)
    with tempfile.TemporaryDirectory(prefix="kubricgen-shard-") as scratch:
      for file_format in self.formats:
        name = self.shard_name(index, file_format)
        if _is_gcs(self.version_dir):
          local = os.path.join(scratch, name)
          WRITERS[file_format](local, records)
          _storage().upload_file(local, _join(self.version_dir, name), if_absent=True)
        else:
          final = os.path.join(self.version_dir, name)
          temporary = os.path.join(self.version_dir, f".{name}.{uuid.uuid4().hex[:8]}.tmp")
          try:
            WRITERS[file_format](temporary, records)
            os.replace(temporary, final)
          finally:
            if os.path.exists(temporary):
              os.unlink(temporary)
      marker = {"key": key, "shard": index, "examples": len(records), "num_bytes": sum(len(r) for r in records),
                "writer": f"{socket.gethostname()}:{os.getpid()}", **stats}
      self._write_marker(index, json.dumps(marker, sort_keys=True).encode(), scratch)

  def _write_marker(self, index: int, data: bytes, scratch: str) -> None:
    path = self._marker(index)
    if _is_gcs(path):
      local = os.path.join(scratch, "marker.json")
      with open(local, "wb") as handle:
        handle.write(data)
      _storage().upload_file(local, path)  # a rerun of the same job may rewrite its own timings
      return
    temporary = f"{path}.{uuid.uuid4().hex[:8]}.tmp"
    with open(temporary, "wb") as handle:
      handle.write(data)
    os.replace(temporary, path)

  def finished(self) -> set[str]:
    """Keys of the jobs whose shard is committed (one listing of the marker folder)."""
    if _is_gcs(self.marker_dir):
      names = [url.rsplit("/", 1)[1] for url in _storage().list(self.marker_dir)]
    else:
      names = os.listdir(self.marker_dir) if os.path.isdir(self.marker_dir) else []
    indices = {int(n[:-5]) for n in names if n.endswith(".json") and n[:-5].isdigit()}
    return {self.keys[i] for i in indices if i < len(self.keys)}

  def markers(self) -> list[dict[str, Any]]:
    """Every shard's marker, in shard order; raises if a shard is missing or its marker names another job."""
    out = []
    for index, key in enumerate(self.keys):
      path = self._marker(index)
      if _is_gcs(path):
        data = _storage().read_bytes(path)
      else:
        with open(path, "rb") as handle:
          data = handle.read()
      marker = json.loads(data)
      if marker.get("key") != key:
        raise RuntimeError(f"shard marker {path} belongs to job {marker.get('key')!r}, not {key!r}")
      out.append(marker)
    return out

  def remove_markers(self) -> None:
    """Delete the marker folder (after the dataset is published)."""
    if _is_gcs(self.marker_dir):
      _storage().delete_prefix(self.marker_dir)
    else:
      shutil.rmtree(self.marker_dir, ignore_errors=True)
