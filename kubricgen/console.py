"""What the C libraries under kubricgen print: Blender, PyBullet, V-HACD and OpenEXR write to file descriptors 1 and
2 directly, past Python's sys.stdout, so silencing or capturing them means redirecting the descriptors themselves.
One helper, `output_to`, does that for every caller. `progress_wanted` is the one rule for progress bars.
"""
from __future__ import annotations

import contextlib
import os
import sys


@contextlib.contextmanager
def output_to(stream):
  """Send what is written to file descriptors 1 and 2 (C code included) into `stream` (a real file with a
  fileno(), e.g. a TemporaryFile to read back) for the block; both descriptors are restored afterwards."""
  sys.stdout.flush()
  sys.stderr.flush()
  saved = [os.dup(1), os.dup(2)]
  os.dup2(stream.fileno(), 1)
  os.dup2(stream.fileno(), 2)
  try:
    yield
  finally:
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(saved[0], 1)
    os.dup2(saved[1], 2)
    for descriptor in saved:
      os.close(descriptor)


@contextlib.contextmanager
def silenced():
  """Discard what is written to file descriptors 1 and 2 (C code included) for the block."""
  with open(os.devnull, "wb") as devnull, output_to(devnull):
    yield


def progress_wanted(flag: bool | None = None) -> bool:
  """The one progress rule: the --progress/--no_progress flag when given, else on when stderr is a terminal or
  $KUBRICGEN_PROGRESS=1."""
  if flag is not None:
    return flag
  return sys.stderr.isatty() or os.environ.get("KUBRICGEN_PROGRESS") == "1"
