"""The job summary of a build: throughput, per-worker utilisation, retries and slowest jobs (saved as JSON)."""
from __future__ import annotations

import collections
from typing import Any


def job_summary(records: list[dict[str, Any]], wall_seconds: float, runner: str) -> dict[str, Any]:
  rendered = [r for r in records if not r.get("cached")]
  busy = collections.defaultdict(float)
  for record in rendered:
    busy[str(record.get("worker"))] += record.get("seconds", 0.0)
  items = sum(r.get("items", 1) for r in records)
  worker_seconds = sum(busy.values())
  return {
      "runner": runner,
      "jobs": len(records),
      "jobs_rendered": len(rendered),
      "jobs_from_cache": len(records) - len(rendered),
      "items": items,
      "examples": sum(r.get("examples", 0) for r in records),
      "wall_seconds": round(wall_seconds, 3),
      "items_per_second": round(items / wall_seconds, 2) if wall_seconds > 0 else None,
      "worker_seconds": round(worker_seconds, 3),
      "workers": {pid: {"busy_seconds": round(s, 3), "utilisation": round(s / wall_seconds, 3) if wall_seconds else None}
                  for pid, s in sorted(busy.items())},
      "shard_writers": sorted({str(r["writer"]) for r in rendered if r.get("writer")}),
      "retries": sum(max(r.get("attempts", 1) - 1, 0) for r in rendered),
      "slowest_jobs": [{"key": r["key"], "seconds": round(r["seconds"], 3)}
                       for r in sorted(rendered, key=lambda r: -r.get("seconds", 0))[:5]],
  }
