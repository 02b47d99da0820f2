"""The one flag convention of the `kubricgen` command and its scene scripts.

`OneLineArgumentParser` is every parser of the CLI: errors are one line `PROG: error: MESSAGE` and exit 2, flags are
Kubric's snake_case (`--frame_end`) with the kebab-case spelling accepted (`--frame-end`). `add_progress_flags` is
the one progress rule: `--progress/--no_progress`, on by default when stderr is a terminal ($KUBRICGEN_PROGRESS=1
turns it on for a log file too). `ArgumentParser`: Kubric's worker flags plus kubricgen's render flags.
"""
from __future__ import annotations

import argparse
import os
import sys

from kubricgen.console import progress_wanted  # noqa: F401  (the one progress rule; commands import it from here)
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


def _integer(text: str, expected: str) -> int:
  """`text` as an int, or the one-line argparse error `expected EXPECTED, got 'TEXT'`."""
  try:
    return int(text)
  except ValueError:
    raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None


def seed(text: str) -> int:
  value = _integer(text, "a non-negative integer")
  if not 0 <= value < 2**32:
    raise argparse.ArgumentTypeError(f"must be in [0, 2^32), got {value}")
  return value


def positive_int(text: str) -> int:
  value = _integer(text, "a positive integer")
  if value < 1:
    raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
  return value


def int_at_least(minimum: int):
  """An argparse type: an integer >= minimum."""
  def parse(text: str) -> int:
    value = _integer(text, f"an integer >= {minimum}")
    if value < minimum:
      raise argparse.ArgumentTypeError(f"must be >= {minimum}, got {value}")
    return value
  return parse


def positive_float(text: str) -> float:
  try:
    value = float(text)
  except ValueError:
    raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r}") from None
  if not value > 0:  # NaN too
    raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
  return value


class OneLineArgumentParser(argparse.ArgumentParser):
  """argparse with one-line errors (`PROG: error: ...`, exit 2) instead of usage + message, and both spellings of a
  long flag: `--thumbnail_size` and `--thumbnail-size` are one flag (help and errors name the defined spelling).
  Sub-command parsers made by `add_subparsers` are of this class too."""

  def error(self, message):
    sys.stderr.write(f"{self.prog}: error: {message}\n")
    raise UsageError(2)

  def parse_known_args(self, args=None, namespace=None):
    args = sys.argv[1:] if args is None else list(args)
    return super().parse_known_args(self._respelled(args), namespace)

  def _respelled(self, args: list[str]) -> list[str]:
    """`args` with each long flag this parser does not know under its spelling put in the spelling it does know
    (`-` and `_` swapped); anything else, and everything after `--`, unchanged."""
    known = {option for action in self._actions for option in action.option_strings}
    out = []
    for index, arg in enumerate(args):
      if arg == "--":
        return out + args[index:]
      name, equals, value = arg.partition("=")
      if name.startswith("--") and name not in known:
        for other in ("--" + name[2:].replace("-", "_"), "--" + name[2:].replace("_", "-")):
          if other in known:
            arg = other + equals + value
            break
      out.append(arg)
    return out


def add_progress_flags(parser: argparse.ArgumentParser, what: str = "progress bars") -> None:
  """`--progress/--no_progress` (dest `progress`: True, False, or None for the default; `progress_wanted` applies the
  rule)."""
  parser.add_argument("--progress", dest="progress", action="store_true", default=None,
                      help=f"show {what} on stderr (default: when stderr is a terminal, or $KUBRICGEN_PROGRESS=1)")
  parser.add_argument("--no_progress", dest="progress", action="store_false", help=f"no {what}")



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
    add_progress_flags(self, "a progress bar per render")
    self.add_argument("--output_format", choices=FILE_FORMATS, default=DEFAULT_FORMAT,
                      help="image files: exr32 (lossless float32 EXR), exr16 (half-float EXR) or kubric (Kubric's "
                           "PNG/TIFF files, flows scaled per scene with data_ranges.json); kb.write_image_dict's "
                           "default")
