"""Shards written where they are made: one TFDS shard per job, written by the worker that ran the job.

A `ShardedSplit` is the sink of the job pipeline (kubricgen_sharding.pipeline.RunJobs) for one split of a TFDS
dataset. Job i of the split's job list becomes shard i: the worker writes the job's serialized records, in the job's
order, as `{prefix}.tfrecord-0000i-of-0000N` and `{prefix}.array_record-0000i-of-0000N` straight into the dataset's
version folder (a local path or a gs:// prefix), then a small marker `{index}.json` (record count, bytes, timings)
into a marker folder outside the dataset. The marker is written last, so it is the commit: a shard whose marker
exists is whole, and a rerun after a crash or kill -9 writes only the shards without one. Nothing here knows what a
record holds: records are opaque bytes, made by the caller's job function, which is the serializer (a dataset's
serialized tf.train.Examples for TFDS); the caller names the files (`filename_prefix`) and the job keys.

Committed shards are checked before they are reused: the marker records every file's size and sha256, and a rerun
(`has`) re-reads the shard's files and compares. A shard whose marker does not parse, names another job, or whose
files are missing or differ by one byte is logged, discarded (marker first, then files) and written again, so a
damaged staging folder heals to the bytes a clean build writes. The driver checks the sizes again before it
publishes (`markers`).

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
import hashlib
import json
import logging
import os
import shutil
import socket
import tempfile
import uuid
from typing import Any, Sequence

log = logging.getLogger(__name__)

FORMATS = ("tfrecord", "array_record")
ARRAY_RECORD_OPTIONS = "group_size:1,uncompressed"


def _is_gcs(path: str) -> bool:
  return str(path).startswith("gs://")


def _join(folder: str, name: str) -> str:
  return f"{folder.rstrip('/')}/{name}" if _is_gcs(folder) else os.path.join(folder, name)


def _storage():
  from kubricgen.storage import default_storage  # pylint: disable=import-outside-toplevel
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


class _Digest:
  """A write-only sink that hashes what it is given."""

  def __init__(self):
    self.sha256, self.bytes = hashlib.sha256(), 0

  def write(self, data: bytes) -> int:
    self.sha256.update(data)
    self.bytes += len(data)
    return len(data)


def file_digest(path: str) -> dict[str, Any]:
  """{"bytes": size, "sha256": hex digest} of a local file, read in 1 MiB chunks."""
  sink = _Digest()
  with open(path, "rb") as handle:
    for chunk in iter(lambda: handle.read(1 << 20), b""):
      sink.write(chunk)
  return {"bytes": sink.bytes, "sha256": sink.sha256.hexdigest()}


def object_digest(url: str) -> dict[str, Any]:
  """{"bytes": size, "sha256": hex digest} of a gs:// object, hashed as it arrives (a shard is never held in memory
  whole; the transfer is checked against the object's md5 too)."""
  sink = _Digest()
  _storage().stream(url, sink)
  return {"bytes": sink.bytes, "sha256": sink.sha256.hexdigest()}


class DamagedShard(RuntimeError):
  """A committed shard whose marker or files do not match; one line naming the file and what was expected."""


@dataclasses.dataclass(frozen=True)
class ShardedSplit:
  """One split written as one shard per job.

  version_dir: the dataset version folder the shard files go to (local path or gs:// prefix).
  marker_dir: a folder (local or gs://) for the per-shard commit markers; keep it out of version_dir.
  filename_prefix: TFDS's `{DATASET}-{SPLIT}`, e.g. "mnist-train" (the caller's dataset and split).
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

  # The sink protocol of kubricgen_sharding.pipeline: has / save / finished.
  def prepare(self) -> "ShardedSplit":
    if not _is_gcs(self.version_dir):
      os.makedirs(self.version_dir, exist_ok=True)
    if not _is_gcs(self.marker_dir):
      os.makedirs(self.marker_dir, exist_ok=True)
    return self

  def has(self, key: str) -> bool:
    """Whether job `key`'s shard is committed and intact. A damaged one (see the module docstring) is logged and
    discarded, and this returns False so the job runs again."""
    index = self.index(key)
    try:
      marker = self._read_marker(index)
      if marker is None:
        return False
      self._check_files(index, marker, content=True)
      return True
    except DamagedShard as damage:
      log.warning("%s; discarding shard %d and writing it again", damage, index)
      self._discard(index)
      return False

  def _read_marker(self, index: int) -> dict[str, Any] | None:
    """The parsed marker of shard `index`; None if there is none; DamagedShard if it does not parse or does not
    belong to this shard's job."""
    from kubricgen.storage import read_if_exists  # pylint: disable=import-outside-toplevel
    path = self._marker(index)
    data = read_if_exists(path)
    if data is None:
      return None
    try:
      marker = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError):
      raise DamagedShard(f"shard marker {path} does not parse as JSON") from None
    if not isinstance(marker, dict) or marker.get("key") != self.keys[index] or \
        not isinstance(marker.get("files"), dict):
      raise DamagedShard(f"shard marker {path} does not describe job {self.keys[index]!r} (key and files expected)")
    return marker

  def _check_files(self, index: int, marker: dict[str, Any], content: bool) -> None:
    """DamagedShard unless every format's file exists with the marker's size (and, if `content`, sha256)."""
    for file_format in self.formats:
      name = self.shard_name(index, file_format)
      path = _join(self.version_dir, name)
      expected = marker["files"].get(name)
      if not isinstance(expected, dict):
        raise DamagedShard(f"shard marker {self._marker(index)} lists no {name}")
      if _is_gcs(path):
        if not _storage().exists(path):
          raise DamagedShard(f"{path}: missing; its marker says it was written")
        found = object_digest(path) if content else expected
      elif not os.path.isfile(path):
        raise DamagedShard(f"{path}: missing; its marker says it was written")
      else:
        found = file_digest(path) if content else {**expected, "bytes": os.path.getsize(path)}
      if found["bytes"] != expected.get("bytes"):
        raise DamagedShard(f"{path}: {found['bytes']} bytes, its marker says {expected.get('bytes')}")
      if found["sha256"] != expected.get("sha256"):
        raise DamagedShard(f"{path}: sha256 {found['sha256'][:16]}…, its marker says "
                           f"{str(expected.get('sha256'))[:16]}…")

  def _discard(self, index: int) -> None:
    """Remove shard `index`'s marker (first: the shard is then uncommitted) and its files."""
    from kubricgen.storage import remove  # pylint: disable=import-outside-toplevel
    for path in [self._marker(index)] + [_join(self.version_dir, self.shard_name(index, f)) for f in self.formats]:
      remove(path)

  def save(self, key: str, records: Sequence[bytes], stats: dict[str, Any]) -> None:
    """Write job `key`'s records as its shard in every format, then its marker (the commit)."""
    index = self.index(key)
    records = list(records)
    files = {}
    with tempfile.TemporaryDirectory(prefix="kubricgen-shard-") as scratch:
      for file_format in self.formats:
        name = self.shard_name(index, file_format)
        if _is_gcs(self.version_dir):
          local = os.path.join(scratch, name)
          WRITERS[file_format](local, records)
          files[name] = file_digest(local)
          _storage().upload_file(local, _join(self.version_dir, name), if_absent=True)
        else:
          final = os.path.join(self.version_dir, name)
          temporary = os.path.join(self.version_dir, f".{name}.{uuid.uuid4().hex[:8]}.tmp")
          try:
            WRITERS[file_format](temporary, records)
            files[name] = file_digest(temporary)
            os.replace(temporary, final)
          finally:
            if os.path.exists(temporary):
              os.unlink(temporary)
      marker = {"key": key, "shard": index, "examples": len(records), "num_bytes": sum(len(r) for r in records),
                "files": files, "writer": f"{socket.gethostname()}:{os.getpid()}", **stats}
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
    """Every shard's marker, in shard order, for the driver to publish from; each shard's files are checked to
    exist with the marker's sizes (a stat each, no reading: the workers hashed them).

    Raises:
      DamagedShard: a shard is missing, its marker does not parse or names another job, or a file's size differs.
    """
    out = []
    for index in range(self.num_shards):
      marker = self._read_marker(index)
      if marker is None:
        raise DamagedShard(f"shard {self.shard_name(index, self.formats[0])} has no marker: its job did not finish")
      if not _is_gcs(self.version_dir):
        self._check_files(index, marker, content=False)
      out.append(marker)
    return out

  def remove_temporaries(self) -> int:
    """Delete temporary files that writers killed mid-write left in a local version folder (`.NAME.HEX.tmp`), so
    they are never published; call it when no writer of this split runs any more. Returns how many."""
    if _is_gcs(self.version_dir) or not os.path.isdir(self.version_dir):
      return 0  # on gs:// a file is uploaded whole from a worker's local scratch folder, never written in place
    names = [n for n in os.listdir(self.version_dir) if n.startswith(".") and n.endswith(".tmp")]
    for name in names:
      os.unlink(os.path.join(self.version_dir, name))
    if names:
      log.info("removed %d temporary file(s) left by killed writers in %s", len(names), self.version_dir)
    return len(names)

  def remove_markers(self) -> None:
    """Delete the marker folder (after the dataset is published)."""
    if _is_gcs(self.marker_dir):
      _storage().delete_prefix(self.marker_dir)
    else:
      shutil.rmtree(self.marker_dir, ignore_errors=True)
