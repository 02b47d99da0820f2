"""Fault injection for tests of exactly-once behaviour: `KUBRICGEN_FAULTS="kill:KEY,hang:KEY,raise:KEY"` makes the
worker process running a job whose key contains KEY die (SIGKILL), hang, or raise, once per job (a marker file in
`KUBRICGEN_FAULTS_DIR` remembers it fired). Unset in normal use: then this does nothing.
"""
from __future__ import annotations

import hashlib
import os
import signal
import time


def maybe_inject(job_key: str) -> None:
  spec = os.environ.get("KUBRICGEN_FAULTS")
  if not spec:
    return
  marker_dir = os.environ.get("KUBRICGEN_FAULTS_DIR", "/tmp")
  for item in spec.split(","):
    kind, _, fragment = item.partition(":")
    if not fragment or fragment not in job_key:
      continue
    marker = os.path.join(marker_dir, f"fault-{kind}-{hashlib.sha256(job_key.encode()).hexdigest()[:16]}")
    try:
      os.close(os.open(marker, os.O_CREAT | os.O_EXCL))
    except FileExistsError:
      continue  # fired already
    if kind == "kill":
      os.kill(os.getpid(), signal.SIGKILL)
    elif kind == "hang":
      time.sleep(3600)
    elif kind == "raise":
      raise RuntimeError(f"injected fault in job {job_key}")
