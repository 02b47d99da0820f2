"""`ArgumentParser`: Kubric's worker flags, plus kubricgen's render flags. Errors are one line and exit 2."""
from __future__ import annotations

import argparse
import os
import sys

from kubricgen.output.images import DEFAULT_FORMAT, FILE_FORMATS


class UsageError(SystemExit):
  """A bad flag or flag value; carries the one-line message."""


def resolution(text: str) -> tuple[int, int]:
  """'WxH' or 'N' (square) -> (width, height)."""
  parts = text.lower().split("x")
  try:
    values = tuple(int(p) for p in parts)
  except ValueError:
    raise argparse.ArgumentTypeError(f"expected WxH (e.g. 256x256), got {text!r}") from None
  if len(values) == 1:
    values = values * 2
  if len(values) != 2 or min(values) <= 0:
    raise argparse.ArgumentTypeError(f"expected WxH with positive sizes, got {text!r}")
  return values


def seed(text: str) -> int:
  try:
    value = int(text)
  except ValueError:
    raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text!r}") from None
  if not 0 <= value < 2**32:
    raise argparse.ArgumentTypeError(f"must be in [0, 2^32), got {value}")
  return value


def positive_int(text: str) -> int:
  try:
    value = int(text)
  except ValueError:
    raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
  if value < 1:
    raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
  return value


class OneLineArgumentParser(argparse.ArgumentParser):
  """argparse with one-line errors (`PROG: error: ...`, exit 2) instead of usage + message."""

  def error(self, message):
    sys.stderr.write(f"{self.prog}: error: {message}\n")
    raise UsageError(2)


class ArgumentParser(OneLineArgumentParser):
  """Kubric's worker flags (`--seed --resolution --frame_start --frame_end --frame_rate --step_rate --job-dir
  --scratch_dir`) plus `--samples --engine --device --out --preview --output_format`. Scene scripts add their own
  flags to it."""

  def __init__(self, *args, **kwargs):
    kwargs.setdefault("prog", os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else "scene")
    super().__init__(*args, **kwargs)
    self.add_argument("--seed", type=seed, default=None,
                      help="random seed; every random choice follows from it (default: drawn and recorded)")
    self.add_argument("--resolution", type=resolution, default=(512, 512), help="WxH, e.g. 256x256")
    self.add_argument("--frame_start", type=int, default=1)
    self.add_argument("--frame_end", type=int, default=24)
    self.add_argument("--frame_rate", type=positive_int, default=12)
    self.add_argument("--step_rate", type=positive_int, default=240)
    self.add_argument("--samples", "--samples_per_pixel", dest="samples", type=positive_int, default=16,
                      help="Cycles/EEVEE samples per pixel")
    self.add_argument("--engine", choices=("cycles", "eevee", "workbench"), default="cycles")
    self.add_argument("--device", choices=("auto", "cpu", "gpu"), default=None,
                      help="Cycles device (default: $KUBRICGEN_DEVICE or auto)")
    self.add_argument("--no_denoise", dest="denoise", action="store_false", help="turn OpenImageDenoise off")
    self.add_argument("--out", "--job-dir", "--job_dir", dest="job_dir", default="output",
                      help="output folder; appears only once the scene is complete")
    self.add_argument("--scratch_dir", default=None, help="temporary files (default: a fresh temp folder)")
    self.add_argument("--preview", action="store_true", help="also write preview.png, a contact sheet")
    self.add_argument("--overwrite", action="store_true", help="replace an existing output folder")
    self.add_argument("--output_format", choices=FILE_FORMATS, default=DEFAULT_FORMAT,
                      help="image files: exr32 (lossless float32 EXR), exr16 (half-float EXR) or kubric (Kubric's "
                           "PNG/TIFF files, flows scaled per scene with data_ranges.json); kb.write_image_dict's "
                           "default")
