"""A per-job result cache: a sink of the job pipeline for results that are read back later by the caller.

(SI-Score builds write each job's result as its own TFDS shard instead, beam_jobs.shards; this cache serves job
pipelines whose results are not dataset shards, e.g. the Beam scaling benchmark.)

Each finished job's examples are written to `<cache>/<fingerprint>/<job hash>.pkl` by writing a temporary file and
renaming it, so a file either holds a whole job or does not exist. A rerun loads finished jobs instead of rendering
them again. `fingerprint` covers everything that shapes the output (settings, inputs, code version), so a changed
job never reuses a stale result. Paths may be local or gs:// (etils.epath).
"""
from __future__ import annotations

import hashlib
import json
import os
import pickle
import uuid
from typing import Any

from etils import epath


def _digest(text: str) -> str:
  return hashlib.sha256(text.encode()).hexdigest()[:24]


class JobCache:
  def __init__(self, root, fingerprint: str):
    self.root = epath.Path(root) / _digest(fingerprint)
    self.results = self.root / "results"
    self.stats = self.root / "stats"

  def prepare(self) -> "JobCache":
    self.results.mkdir(parents=True, exist_ok=True)
    self.stats.mkdir(parents=True, exist_ok=True)
    return self

  def _path(self, folder, key: str, suffix: str) -> epath.Path:
    return folder / f"{_digest(key)}{suffix}"

  def has(self, key: str) -> bool:
    return self._path(self.results, key, ".pkl").exists()

  def load(self, key: str) -> list | None:
    path = self._path(self.results, key, ".pkl")
    if not path.exists():
      return None
    stored_key, examples = pickle.loads(path.read_bytes())
    if stored_key != key:  # a hash collision would be astronomically unlikely; refuse rather than mix jobs
      raise RuntimeError(f"cache entry {path} belongs to job {stored_key!r}, not {key!r}")
    return examples

  def save(self, key: str, examples: list, stats: dict[str, Any]) -> None:
    self._atomic_write(self._path(self.results, key, ".pkl"), pickle.dumps((key, examples), protocol=5))
    self._atomic_write(self._path(self.stats, key, ".json"), json.dumps({"key": key, **stats}).encode())

  def finished(self) -> set[str]:
    """Keys of the jobs with a stored result (the job pipeline's sink protocol)."""
    return {record["key"] for record in self.all_stats() if self.has(record["key"])}

  @staticmethod
  def _atomic_write(path: epath.Path, data: bytes) -> None:
    temporary = path.parent / f".{path.name}.{uuid.uuid4().hex[:8]}.tmp"
    temporary.write_bytes(data)
    if str(path).startswith("gs://"):
      temporary.copy(path, overwrite=True)  # GCS objects appear whole on upload
      temporary.unlink()
    else:
      os.replace(temporary, path)

  def all_stats(self) -> list[dict[str, Any]]:
    if not self.stats.exists():
      return []
    records = []
    for path in self.stats.iterdir():
      if path.name.endswith(".json") and not path.name.startswith("."):
        try:
          records.append(json.loads(path.read_text()))
        except (json.JSONDecodeError, OSError):
          continue  # being written
    return records
