"""Atomic writes: a file or folder appears complete under its final name, or not at all (temp name + os.replace)."""
from __future__ import annotations

import contextlib
import json
import os
import pathlib
import shutil
import tempfile


def write_bytes(path, data: bytes) -> pathlib.Path:
  path = pathlib.Path(path)
  path.parent.mkdir(parents=True, exist_ok=True)
  handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
  try:
    with os.fdopen(handle, "wb") as stream:
      stream.write(data)
    os.replace(temporary, path)
  except BaseException:
    with contextlib.suppress(FileNotFoundError):
      os.remove(temporary)
    raise
  return path


def write_text(path, text: str) -> pathlib.Path:
  return write_bytes(path, text.encode("utf-8"))


def write_json(path, value) -> pathlib.Path:
  return write_text(path, json.dumps(value, indent=2, sort_keys=False) + "\n")


@contextlib.contextmanager
def staged_folder(final):
  """Yield a temporary sibling folder to fill; it is renamed to `final` on success and removed on failure.

  If another process published `final` meanwhile, its copy is kept and ours is dropped (both are derived from the
  same inputs)."""
  final = pathlib.Path(final)
  final.parent.mkdir(parents=True, exist_ok=True)
  staging = pathlib.Path(tempfile.mkdtemp(prefix=f".{final.name}.partial-", dir=final.parent))
  try:
    yield staging
    try:
      os.rename(staging, final)
    except OSError:
      if not final.is_dir():
        raise
      shutil.rmtree(staging, ignore_errors=True)
  except BaseException:
    shutil.rmtree(staging, ignore_errors=True)
    raise
