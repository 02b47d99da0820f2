"""`kubricgen train --config NAME|PATH [--workdir DIR] [--config.KEY=VALUE ...]`: the bundled trainer.

Needs the training extra (`pip install -e '.[train]'`). Re-running the same command continues the run in --workdir.
"""
from __future__ import annotations

import os
import sys

HELP = "train a timm ViT/CNN on a TFDS dataset (resumable run folder)"


def _split_overrides(argv: list[str]) -> tuple[list[str], list[str]]:
  """Pulls `--config.KEY=VALUE` / `--config.KEY VALUE` out of argv -> (rest, ["KEY=VALUE", ...])."""
  rest, overrides, index = [], [], 0
  while index < len(argv):
    item = argv[index]
    if item.startswith("--config."):
      key, sep, value = item[len("--config."):].partition("=")
      if not sep:
        if index + 1 >= len(argv):
          raise ValueError(f"{item} needs a value")
        value, index = argv[index + 1], index + 1
      overrides.append(f"{key}={value}")
    else:
      rest.append(item)
    index += 1
  return rest, overrides


def run(argv: list[str], fail) -> int:
  from kubricgen.worker import flags as cli_flags  # pylint: disable=import-outside-toplevel
  parser = cli_flags.OneLineArgumentParser(
      prog="kubricgen train", description=HELP,
      epilog="Override any config key big_vision-style: --config.optimizer.lr=3e-4 --config.total_epochs=5. "
             "Bundled configs: robustness/configs/ (vit_ti8_cpu, resnet18_cpu, vit_s16_gpu, resnet50_bit_gpu).")
  parser.add_argument("--config", required=True, help="config name in robustness/configs/ or a path to a .py file "
                      "with get_config()")
  parser.add_argument("--workdir", default=None, help="run folder (default output/train/CONFIG_NAME); re-running "
                      "the same command there resumes")
  parser.add_argument("--data_dir", default=None, help="TFDS data_dir (sets config key data_dir)")
  cli_flags.add_progress_flags(parser, "a progress bar (else one line per evaluation)")
  try:
    rest, overrides = _split_overrides(argv)
  except ValueError as error:
    parser.error(str(error))
  flags = parser.parse_args(rest)
  try:
    from kubricgen_robustness.train import config as configs  # pylint: disable=import-outside-toplevel
    from kubricgen_robustness.train import trainer  # pylint: disable=import-outside-toplevel
  except ImportError as error:
    return fail(f"kubricgen train needs the training extra ({error.name} is missing): pip install -e '.[train]'")
  from kubricgen_robustness.data.source import DataError  # pylint: disable=import-outside-toplevel
  from kubricgen_robustness.models.factory import ModelError  # pylint: disable=import-outside-toplevel
  from kubricgen_robustness.train.checkpoint import CheckpointError  # pylint: disable=import-outside-toplevel
  if flags.data_dir:
    overrides.append(f"data_dir={os.path.abspath(flags.data_dir)}")
  name = os.path.splitext(os.path.basename(flags.config))[0]
  workdir = os.path.abspath(flags.workdir or os.path.join("output", "train", name))
  try:
    config = configs.load_config(flags.config, overrides)
    result = trainer.train(config, workdir, progress=cli_flags.progress_wanted(flags.progress))
  except configs.ConfigError as error:
    return fail(str(error), 2)
  except (DataError, ModelError, CheckpointError, FloatingPointError) as error:
    return fail(str(error))
  except KeyboardInterrupt:
    return fail(f"interrupted; re-run the same command to resume from {workdir}/last.pt", 130)
  summary = ", ".join(f"{k} {v:.4f}" for k, v in result.items() if k.startswith("eval/") and k != "eval/n")
  best = result["best"]
  best_text = f"; best {best['metric']} {best['value']:.4f} at step {best['step']}" if best.get("value") is not None \
      else ""
  sys.stdout.write(f"run folder: {workdir} (step {result['step']}/{result['total_steps']}"
                   f"{'; ' + summary if summary else ''}{best_text}; curves.png, metrics.jsonl, best.pt, last.pt)\n")
  return 0
