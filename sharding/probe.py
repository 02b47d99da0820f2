"""Before a cluster run: prove that the workers see the same storage as the driver, or refuse with one line.

On a runner whose workers may live on other machines (anything but Beam's in-process runners), every path a worker
reads or writes must be shared storage: gs://, or a filesystem that every worker mounts at the same path. The driver
writes a probe file into each such path, runs a one-element Beam pipeline whose worker reads each probe and writes
an answer beside it, and reads the answers back. A path where the worker could not read the driver's probe, or whose
answer the driver cannot see, is refused before any job runs (`NotShared`, naming the path and its role).
"""
from __future__ import annotations

import json
import os
import socket
import uuid

import apache_beam as beam

from kubricgen.storage import StorageError

LOCAL_RUNNERS = ("FnApiRunner", "DirectRunner", "BundleBasedDirectRunner", "SwitchingDirectRunner", "PrismRunner")
FOLDER = ".kubricgen-probe"


class NotShared(RuntimeError):
  """A path the job needs is not the same storage on the driver and on the workers."""


def _probe(path: str, name: str) -> str:
  return f"{path.rstrip('/')}/{FOLDER}/{name}" if path.startswith("gs://") else os.path.join(path, FOLDER, name)


def _write(url: str, text: str) -> None:
  if url.startswith("gs://"):
    from kubricgen.storage import default_storage  # pylint: disable=import-outside-toplevel
    default_storage().upload(text.encode(), url)
    return
  os.makedirs(os.path.dirname(url), exist_ok=True)
  with open(url, "w", encoding="utf-8") as handle:
    handle.write(text)


def _read(url: str) -> str | None:
  try:
    if url.startswith("gs://"):
      from kubricgen.storage import default_storage  # pylint: disable=import-outside-toplevel
      storage = default_storage()
      return storage.read_bytes(url).decode() if storage.exists(url) else None
    with open(url, encoding="utf-8") as handle:
      return handle.read()
  except (OSError, StorageError):  # StorageError: gs:// unreachable or denied (a ValueError)
    return None


def _remove(url: str) -> None:
  try:
    if url.startswith("gs://"):
      from kubricgen.storage import default_storage  # pylint: disable=import-outside-toplevel
      default_storage().delete_prefix(url.rsplit("/", 1)[0] + "/")
    else:
      os.unlink(url)
  except (OSError, StorageError):
    pass


def answer(token: str, paths: dict[str, str]) -> None:
  """In a worker: for each path, read the driver's probe and write what was found beside it."""
  where = f"{socket.gethostname()}:{os.getpid()}"
  for path in paths.values():
    found = _read(_probe(path, f"{token}.driver"))
    try:
      _write(_probe(path, f"{token}.worker"), json.dumps({"worker": where, "saw_driver_probe": found == token}))
    except (OSError, StorageError):
      pass  # the driver will find no answer and say so


def needs_probe(runner: str) -> bool:
  return runner not in LOCAL_RUNNERS


def check_shared(paths: dict[str, str], beam_args: list[str] | None) -> None:
  """Raise NotShared unless every path in `paths` ({role: local path or gs:// URL}) is the same storage for the
  driver and a worker of the runner that `beam_args` names; nothing is checked for in-process runners or with
  `--dry_run` (nothing runs)."""
  from apache_beam.options.pipeline_options import TestOptions  # pylint: disable=import-outside-toplevel
  from kubricgen_sharding import options  # pylint: disable=import-outside-toplevel
  pipeline_options = options.pipeline_options(beam_args)
  if not needs_probe(options.runner_name(beam_args)) or pipeline_options.view_as(TestOptions).dry_run:
    return
  token = uuid.uuid4().hex
  for role, path in paths.items():
    try:
      _write(_probe(path, f"{token}.driver"), token)
    except OSError as error:
      raise NotShared(f"{role} {path}: the driver cannot write there ({error.strerror})") from None
  try:
    with beam.Pipeline(options=pipeline_options) as pipeline:
      _ = pipeline | "Probe" >> beam.Create([token]) | "Answer" >> beam.Map(answer, paths)
    for role, path in paths.items():
      reply = _read(_probe(path, f"{token}.worker"))
      if reply is None:
        raise NotShared(f"{role} {path} is not shared with the workers (a worker's probe written there never "
                        "reached the driver): use gs:// or a path every worker mounts")
      if not json.loads(reply)["saw_driver_probe"]:
        raise NotShared(f"{role} {path} is not shared with the workers (worker {json.loads(reply)['worker']} could "
                        "not read the driver's probe there): use gs:// or a path every worker mounts")
  finally:
    for path in paths.values():
      for side in ("driver", "worker"):
        _remove(_probe(path, f"{token}.{side}"))
      if not path.startswith("gs://"):
        try:
          os.rmdir(os.path.join(path, FOLDER))
        except OSError:
          pass  # another build's probe is in there, or it is gone already
