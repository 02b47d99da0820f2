"""Atomic writes: a file or folder appears complete under its final name, or not at all (temp name + os.replace).

Every stage-and-rename in kubricgen and its trainer goes through here: `staged_file` for writers that need a path
(PIL, matplotlib, pyarrow, zipfile), `write_bytes`/`write_text`/`write_json` for data in memory, `staged_folder` and
`replace_folder` for folders."""
from __future__ import annotations

import contextlib
import json
import os
import pathlib
import shutil
import tempfile


@contextlib.contextmanager
def staged_file(path, fsync: bool = False):
  """Yield a temporary path beside `path` (same folder, hidden name, same suffix, so writers that pick a format from
  the name still do) to write; on success it replaces `path` in one os.replace, on failure it is removed. Missing
  folders are created. `fsync` flushes the file to disk before the rename (for checkpoints)."""
  path = pathlib.Path(path)
  path.parent.mkdir(parents=True, exist_ok=True)
  handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=f".partial{path.suffix}", dir=path.parent)
  os.close(handle)
  try:
    yield pathlib.Path(temporary)
    if fsync:
      with open(temporary, "rb+") as stream:
        os.fsync(stream.fileno())
    os.replace(temporary, path)
  except BaseException:
    with contextlib.suppress(FileNotFoundError):
      os.remove(temporary)
    raise


def write_bytes(path, data: bytes, fsync: bool = False) -> pathlib.Path:
  """Write `data` to `path` atomically (`staged_file`); returns the path."""
  with staged_file(path, fsync=fsync) as temporary:
    temporary.write_bytes(data)
  return pathlib.Path(path)


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


_RENAME_EXCHANGE = 2  # linux/fs.h
_AT_FDCWD = -100


def _exchange(first: str, second: str) -> bool:
  """Swap two paths in one step with Linux's renameat2(RENAME_EXCHANGE); False where the call or the filesystem
  does not support it."""
  import ctypes  # pylint: disable=import-outside-toplevel
  import errno  # pylint: disable=import-outside-toplevel
  try:
    libc = ctypes.CDLL(None, use_errno=True)
    renameat2 = libc.renameat2
  except (OSError, AttributeError):
    return False
  renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
  if renameat2(_AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE) == 0:
    return True
  code = ctypes.get_errno()
  if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
    return False
  raise OSError(code, os.strerror(code), first)


def replace_folder(staged, final) -> None:
  """Put the complete folder `staged` at `final`, replacing a folder already there, so that a reader of `final`
  sees the old folder or the new one and never nothing: the two are swapped in one renameat2(RENAME_EXCHANGE) and
  the old one (now at `staged`) is deleted. Where the filesystem cannot exchange, the old folder is moved aside
  first (a moment without `final`)."""
  staged, final = os.fspath(staged), os.fspath(final)
  os.makedirs(os.path.dirname(final) or ".", exist_ok=True)
  try:
    os.rename(staged, final)  # nothing there yet (an empty folder there is replaced too)
    return
  except OSError:
    if not os.path.isdir(final):
      raise
  if not _exchange(staged, final):
    trash = f"{staged}.old"
    os.replace(final, trash)
    os.replace(staged, final)
    staged = trash
  shutil.rmtree(staged, ignore_errors=True)
