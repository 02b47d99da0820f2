"""Checksums, safe relative paths and safe archive extraction: what is refused, and why, in one line each.

Every file an asset uses is listed with its sha256 and size; a file is used only after both match. Paths inside a
manifest or an archive must stay inside their folder: absolute paths, `..` components, backslashes, links and
device files are refused before anything is written.
"""
from __future__ import annotations

import hashlib
import os
import pathlib
import re
import shutil
import stat
import tarfile
import tempfile
import threading
import zipfile

from kubricgen.assets.errors import IntegrityError

SHA256 = re.compile(r"^[0-9a-f]{64}$")
_CHUNK = 1 << 20
_verified: dict[tuple, str] = {}  # (realpath, size, mtime_ns) -> sha256, so a file is hashed once per process
_verified_lock = threading.Lock()


def sha256_bytes(data: bytes) -> str:
  return hashlib.sha256(data).hexdigest()


def sha256_file(path) -> str:
  digest = hashlib.sha256()
  with open(path, "rb") as handle:
    for chunk in iter(lambda: handle.read(_CHUNK), b""):
      digest.update(chunk)
  return digest.hexdigest()


def check_relative_path(path: str, what: str = "path") -> str:
  """Return `path` if it is a safe relative POSIX path inside its folder; raise IntegrityError otherwise."""
  if not isinstance(path, str) or not path:
    raise IntegrityError(f"{what}: empty or not a string: {path!r}")
  if "\\" in path or "\x00" in path:
    raise IntegrityError(f"{what}: {path!r} contains a backslash or NUL (use '/' separators)")
  if path.startswith("/") or re.match(r"^[A-Za-z]:", path):
    raise IntegrityError(f"{what}: {path!r} is absolute; only paths inside the folder are allowed")
  parts = path.split("/")
  if ".." in parts:
    raise IntegrityError(f"{what}: {path!r} escapes its folder ('..')")
  if any(part in ("", ".") for part in parts[:-1]) or parts[-1] in ("", "."):
    raise IntegrityError(f"{what}: {path!r} is not a plain relative file path")
  return path


def resolve_inside(root: pathlib.Path, relative: str, what: str = "path") -> pathlib.Path:
  """`root/relative`, refusing paths (or symlinks) that lead outside `root`."""
  check_relative_path(relative, what)
  root = pathlib.Path(root).resolve()
  target = (root / relative).resolve()
  if target != root and root not in target.parents:
    raise IntegrityError(f"{what}: {relative!r} leads outside {root} (through a link)")
  return target


def verify_file(path, sha256: str, size: int, what: str | None = None) -> pathlib.Path:
  """Check that `path` exists with the given size and sha256 (hashing once per process per file version)."""
  path = pathlib.Path(path)
  name = what or str(path)
  try:
    info = path.stat()
  except FileNotFoundError:
    raise IntegrityError(f"{name}: missing file {path}") from None
  if not stat.S_ISREG(info.st_mode):
    raise IntegrityError(f"{name}: {path} is not a regular file")
  if info.st_size != size:
    raise IntegrityError(f"{name}: size mismatch for {path}: expected {size} bytes, found {info.st_size}")
  actual = verified_sha256(path)
  if actual != sha256:
    raise IntegrityError(f"{name}: sha256 mismatch for {path}: expected {sha256}, found {actual}")
  return path


def verified_sha256(path) -> str:
  """sha256 of a file's bytes, hashed once per process per file version (size, mtime) - the memo `verify_file`
  uses. The digest names content only: a copy with other times hashes alike."""
  path = pathlib.Path(path)
  info = path.stat()
  key = (str(path.resolve()), info.st_size, info.st_mtime_ns)
  with _verified_lock:
    known = _verified.get(key)
  if known is None:
    known = sha256_file(path)
    with _verified_lock:
      _verified[key] = known
  return known


def forget_verified() -> None:
  """Drop the per-process memo of verified files (the next use hashes them again)."""
  with _verified_lock:
    _verified.clear()


# ---- archives ---------------------------------------------------------------------------------------------------------


def _zip_members(archive: zipfile.ZipFile, name: str) -> list[tuple[zipfile.ZipInfo, str]]:
  members = []
  for info in archive.infolist():
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
      raise IntegrityError(f"{name}: archive entry {info.filename!r} is a link; links are refused")
    if info.is_dir():
      continue
    relative = check_relative_path(info.filename, f"{name}: archive entry")
    if stat.S_IFMT(mode) and not stat.S_ISREG(mode):  # many tools store permission bits only: a plain file
      raise IntegrityError(f"{name}: archive entry {info.filename!r} is not a regular file")
    members.append((info, relative))
  return members


def _tar_members(archive: tarfile.TarFile, name: str) -> list[tuple[tarfile.TarInfo, str]]:
  members = []
  for info in archive.getmembers():
    if info.issym() or info.islnk():
      raise IntegrityError(f"{name}: archive entry {info.name!r} is a link; links are refused")
    if info.isdir():
      if info.name.rstrip("/") not in ("", "."):
        check_relative_path(info.name.rstrip("/").removeprefix("./"), f"{name}: archive entry")
      continue
    if not info.isfile():
      raise IntegrityError(f"{name}: archive entry {info.name!r} is not a regular file")
    members.append((info, check_relative_path(info.name.removeprefix("./"), f"{name}: archive entry")))
  return members


def safe_extract(archive_path, destination) -> pathlib.Path:
  """Extract a .zip / .tar / .tar.gz / .tgz into `destination` (which must not exist yet), all or nothing.

  Every entry is checked before anything is written; the files are written to a temporary sibling folder that is
  renamed into place at the end, so a refused or broken archive leaves nothing behind.
  """
  archive_path, destination = pathlib.Path(archive_path), pathlib.Path(destination)
  name = archive_path.name
  destination.parent.mkdir(parents=True, exist_ok=True)
  staging = pathlib.Path(tempfile.mkdtemp(prefix=f".{destination.name}.partial-", dir=destination.parent))
  try:
    if zipfile.is_zipfile(archive_path):
      with zipfile.ZipFile(archive_path) as archive:
        for info, relative in _zip_members(archive, name):
          target = staging / relative
          target.parent.mkdir(parents=True, exist_ok=True)
          with archive.open(info) as source, open(target, "wb") as sink:
            shutil.copyfileobj(source, sink)
    elif tarfile.is_tarfile(archive_path):
      with tarfile.open(archive_path) as archive:
        for info, relative in _tar_members(archive, name):
          target = staging / relative
          target.parent.mkdir(parents=True, exist_ok=True)
          with archive.extractfile(info) as source, open(target, "wb") as sink:
            shutil.copyfileobj(source, sink)
    else:
      raise IntegrityError(f"{name}: not a zip or tar archive")
    try:
      os.rename(staging, destination)
    except OSError:
      if not destination.is_dir():  # lost a race with another process: theirs is as good as ours
        raise
      shutil.rmtree(staging, ignore_errors=True)
  except BaseException:
    shutil.rmtree(staging, ignore_errors=True)
    raise
  return destination
