"""A per-job result cache: a sink of the job pipeline for results that are read back later by the caller.

(Dataset builds write each job's result as its own TFDS shard instead, kubricgen_sharding.shards; this cache serves
job pipelines whose results are not dataset shards, e.g. the Beam scaling benchmark.)

Each finished job's examples are written to `<cache>/<fingerprint>/<job hash>.json` by writing a temporary file and
renaming it, so a file either holds a whole job or does not exist. A rerun loads finished jobs instead of rendering
them again. `fingerprint` covers everything that shapes the output (settings, inputs, code version), so a changed
job never reuses a stale result. Paths may be local or gs:// (`kubricgen.storage.as_path`: pathlib, or
kubricgen's one gs:// client; a gs:// object appears whole when its upload ends, so it needs no rename).

Entries are data only: JSON (examples must be JSON values: dicts, lists, str, numbers, bools, None) with the sha256
of the canonical examples text inside, never pickles, so a cache on storage that others can write cannot run code
here. An entry that does not parse, names another job or fails its digest is logged, deleted and its job runs again.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import uuid
from typing import Any

from kubricgen import storage


log = logging.getLogger(__name__)


def _digest(text: str) -> str:
  return hashlib.sha256(text.encode()).hexdigest()[:24]


class JobCache:
  def __init__(self, root, fingerprint: str):
    self.root = storage.as_path(root) / _digest(fingerprint)
    self.results = self.root / "results"
    self.stats = self.root / "stats"

  def prepare(self) -> "JobCache":
    self.results.mkdir(parents=True, exist_ok=True)
    self.stats.mkdir(parents=True, exist_ok=True)
    return self

  def _path(self, folder, key: str, suffix: str):
    return folder / f"{_digest(key)}{suffix}"

  def has(self, key: str) -> bool:
    return self.load(key) is not None

  def load(self, key: str) -> list | None:
    """Job `key`'s stored examples; None if there are none or the entry was damaged (then it is deleted)."""
    path = self._path(self.results, key, ".json")
    if not path.exists():
      return None
    data = path.read_bytes()  # outside the try: a gs:// StorageError is a ValueError, but not damage
    try:
      entry = json.loads(data)
      examples_text = json.dumps(entry["examples"], sort_keys=True)
      if entry.get("key") != key:
        raise ValueError(f"it belongs to job {entry.get('key')!r}")
      if hashlib.sha256(examples_text.encode()).hexdigest() != entry.get("sha256"):
        raise ValueError("its examples do not match their sha256")
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as damage:  # JSONDecodeError is a ValueError
      log.warning("job cache entry %s is damaged (%s); deleting it, the job runs again", path, damage)
      path.unlink(missing_ok=True)
      return None
    return entry["examples"]

  def save(self, key: str, examples: list, stats: dict[str, Any]) -> None:
    """Store job `key`'s examples (JSON values; TypeError names the first that is not) and its stats."""
    try:
      examples_text = json.dumps(examples, sort_keys=True)
    except TypeError as error:
      raise TypeError(f"JobCache stores JSON data only (no pickles): job {key!r}: {error}") from None
    entry = {"key": key, "sha256": hashlib.sha256(examples_text.encode()).hexdigest(), "examples": examples}
    self._atomic_write(self._path(self.results, key, ".json"), json.dumps(entry, sort_keys=True).encode())
    self._atomic_write(self._path(self.stats, key, ".json"), json.dumps({"key": key, **stats}).encode())

  def finished(self) -> set[str]:
    """Keys of the jobs with a stored result (the job pipeline's sink protocol)."""
    return {record["key"] for record in self.all_stats() if self._path(self.results, record["key"], ".json").exists()}

  @staticmethod
  def _atomic_write(path, data: bytes) -> None:
    if isinstance(path, storage.GsPath):
      path.write_bytes(data)  # a GCS object appears whole when its upload ends
      return
    temporary = path.parent / f".{path.name}.{uuid.uuid4().hex[:8]}.tmp"
    temporary.write_bytes(data)
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
