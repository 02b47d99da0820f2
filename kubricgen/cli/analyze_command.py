"""`kubricgen analyze`: evaluate models on SI-Score configs and write a report with intervals per factor value.

    kubricgen analyze --model RUN_DIR [--model timm:NAME[:WEIGHTS]] [--model MODULE:FUNCTION] \
        [--dataset si_score] [--configs location,rotation,size] [--data_dir D] [--out output/analysis]

Prints where the report (index.html) and summary.json are. Bad input (a missing dataset, a model whose classes do
not match the dataset, an empty config) ends with one line `kubricgen: error: ...` and exit code 1; a bad flag or
flag value with `kubricgen analyze: error: ...` and exit code 2.
"""
from __future__ import annotations

import os
import traceback

HELP = "evaluate models per SI-Score factor value and write a report (kubricgen analyze --help)"


def _parser():
  from kubricgen.worker import flags  # pylint: disable=import-outside-toplevel
  parser = flags.OneLineArgumentParser(
      prog="kubricgen analyze", description="Evaluate models on SI-Score configs: accuracy per factor value with "
      "object-instance bootstrap and Wilson intervals, plots, CSVs, summary.json and an HTML report.")
  parser.add_argument("--model", action="append", default=[], metavar="SPEC", help="repeatable: a `kubricgen "
                      "train` run folder or checkpoint; timm:NAME[:WEIGHTS] (ImageNet-1k, local weights); or "
                      "MODULE:FUNCTION returning {module, input_size, mean, std, class_names | "
                      "label_space='imagenet1k'}")
  parser.add_argument("--name", action="append", default=[], help="display name per --model, in order")
  parser.add_argument("--dataset", default="si_score", help="TFDS dataset name: si_score (ours) or siscore (stock)")
  parser.add_argument("--configs", default="location,rotation,size", help="comma-separated configs")
  parser.add_argument("--split", default="test")
  parser.add_argument("--data_dir", default=None, help="TFDS data_dir (default: $TFDS_DATA_DIR or "
                      "~/tensorflow_datasets)")
  parser.add_argument("--out", default=os.path.join("output", "analysis"), help="report folder (default: "
                      "%(default)s)")
  parser.add_argument("--preprocessing", choices=("resize", "resize_crop"), default="resize", help="resize: whole "
                      "image to the model's input (default); resize_crop: robustness_metrics' resize + centre crop "
                      "(trims ~6%% of each border, so border locations lose part of the object)")
  parser.add_argument("--restrict_to_dataset_classes", action="store_true", help="ImageNet-1k models: argmax "
                      "over only the ImageNet classes present in the dataset")
  parser.add_argument("--batch_size", type=int, default=64)
  parser.add_argument("--num_workers", type=int, default=2, help="image decoding processes")
  parser.add_argument("--resamples", type=flags.int_at_least(100), default=2000, help="cluster-bootstrap resamples")
  parser.add_argument("--seed", type=int, default=0, help="bootstrap seed")
  parser.add_argument("--limit", type=int, default=None, help="evaluate only N evenly spaced examples per config (a quick look)")
  flags.add_progress_flags(parser)
  return parser


def run(argv: list[str], fail) -> int:
  from kubricgen.worker.flags import progress_wanted  # pylint: disable=import-outside-toplevel
  flags = _parser().parse_args(argv)
  from kubricgen_robustness.analyze import study  # pylint: disable=import-outside-toplevel
  from kubricgen_robustness.analyze.models import AnalyzeError  # pylint: disable=import-outside-toplevel
  try:
    result = study.run_study(flags.model, dataset=flags.dataset, configs=flags.configs.split(","), split=flags.split,
                             data_dir=flags.data_dir, out=flags.out, names=flags.name or None,
                             preprocessing=flags.preprocessing, batch_size=flags.batch_size,
                             num_workers=flags.num_workers,
                             restrict_to_dataset_classes=flags.restrict_to_dataset_classes, limit=flags.limit,
                             resamples=flags.resamples, seed=flags.seed, progress=progress_wanted(flags.progress))
  except (AnalyzeError, ValueError, OSError) as error:
    if os.environ.get("KUBRICGEN_DEBUG"):
      traceback.print_exc()
    return fail(f"analyze: {error}")
  print(f"report: {os.path.abspath(result.report)}")
  print(f"summary: {os.path.abspath(result.summary)}")
  return 0
