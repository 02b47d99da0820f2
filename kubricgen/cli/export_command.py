"""`kubricgen export siscore`: our built SI-Score configs in the stock TFDS `siscore` layout.

    kubricgen export siscore [--data_dir D] [--configs location,rotation,size] [--out DIR] [--stock_data_dir D2]

For each config, reads our `si_score/<config>/1.0.0` from D, writes `DIR/<config>.zip` (the stock builder's zip
layout) and prepares the stock `siscore/<config>` dataset in D2 with the stock builder's own code, so that
`tfds.load("siscore/<config>", data_dir=D2, download=False)` reads our images with their ImageNet labels. Classes
that are not among the stock 61 SI-Score classes cannot be exported: they are counted and listed. A missing dataset
or a config with no exportable class ends with one line `kubricgen: error: ...` and exit code 1; a bad flag or flag
value with `kubricgen export: error: ...` and exit code 2.
"""
from __future__ import annotations

import contextlib
import os
import sys
import traceback

from kubricgen.worker.flags import OneLineArgumentParser

HELP = "export built SI-Score configs to the stock TFDS siscore layout (kubricgen export siscore --help)"
FORMATS = ("siscore",)
CONFIGS = ("location", "rotation", "size")  # the stock builder's configs


def _parser() -> OneLineArgumentParser:
  parser = OneLineArgumentParser(prog="kubricgen export", description="Export built SI-Score configs to the stock "
                                   "TFDS siscore layout: a zip per config, and the stock dataset prepared from it.")
  parser.add_argument("format", choices=FORMATS, help="siscore: the stock tensorflow_datasets builder")
  parser.add_argument("--data_dir", default=None, help="TFDS data_dir holding our si_score/<config>/1.0.0 (default: "
                      "$TFDS_DATA_DIR or ~/tensorflow_datasets)")
  parser.add_argument("--configs", default=",".join(CONFIGS), help="comma-separated, from " + ",".join(CONFIGS))
  parser.add_argument("--out", default=os.path.join("output", "siscore"), help="where <config>.zip go (default: "
                      "%(default)s)")
  parser.add_argument("--stock_data_dir", default=None, help="TFDS data_dir for the stock siscore/<config> datasets "
                      "(default: --data_dir); an earlier export there is replaced")
  return parser


OURS_ALONE = ("viewpoint", "lighting", "occlusion", "clutter", "cue_conflict")  # si_score configs the stock
# builder has no counterpart of


def run(argv: list[str], fail) -> int:
  parser = _parser()
  flags = parser.parse_args(argv)
  configs = [c for c in flags.configs.split(",") if c]
  ours_alone = [c for c in configs if c in OURS_ALONE]
  if ours_alone:
    verb = "is a kubricgen config" if len(ours_alone) == 1 else "are kubricgen configs"
    parser.error(f"argument --configs: {','.join(ours_alone)} {verb} (3D factors SI-Score's 2D pastes cannot vary); "
                 f"the stock siscore builder has only {','.join(CONFIGS)}")
  unknown = [c for c in configs if c not in CONFIGS]
  if unknown or not configs:
    parser.error(f"argument --configs: the stock siscore builder has no {','.join(unknown) or 'empty'} config; "
                 f"choose from {','.join(CONFIGS)}")
  from kubricgen.datasets.si_score import build, export  # pylint: disable=import-outside-toplevel
  from kubricgen.datasets.si_score.si_score_dataset_builder import Builder  # pylint: disable=import-outside-toplevel
  data_dir = os.path.abspath(flags.data_dir or build.default_data_dir())
  stock_data_dir = os.path.abspath(flags.stock_data_dir or data_dir)
  version_dirs = {c: os.path.join(data_dir, build.NAME, c, str(Builder.VERSION)) for c in configs}
  for config, version_dir in version_dirs.items():  # all present before anything is written
    if not os.path.isfile(os.path.join(version_dir, "dataset_info.json")):
      return fail(f"no built si_score/{config} dataset at {version_dir} (build it with: kubricgen render "
                  f"scenes/si_score.py --configs {config} --data_dir {data_dir})")
  build.quiet_tfds()
  for config, version_dir in version_dirs.items():
    try:
      with contextlib.redirect_stdout(sys.stderr):  # TFDS prints its own progress lines
        result = export.export(version_dir, config, flags.out, stock_data_dir)
    except (OSError, ValueError) as error:
      if os.environ.get("KUBRICGEN_DEBUG"):
        traceback.print_exc()
      return fail(f"si_score/{config}: {error}")
    _report(result, stock_data_dir)
  return 0


def _report(result, stock_data_dir: str) -> None:
  total = sum(result.exported.values())
  print(f"si_score/{result.config} -> {result.zip_path}: {total} images of {len(result.exported)} classes")
  width = max(len(name) for name in result.exported)
  for name, count in sorted(result.exported.items()):
    print(f"  {name:<{width}}  {count}")
  if result.skipped:
    skipped = ", ".join(f"{name} ({count} images)" for name, count in sorted(result.skipped.items()))
    print(f"  skipped, not among the 61 stock SI-Score classes: {skipped}")
  print(f"  stock dataset: tfds.load('siscore/{result.config}', data_dir={stock_data_dir!r}, download=False)")
