"""`kubricgen study`: the end-to-end robustness study in one command.

  kubricgen study [--data_dir D] [--out output/study] [--configs C1,C2,...] [--train_override KEY=VALUE ...]

1. builds the default SI-Score dataset (`kubricgen render scenes/si_score.py`) where a config is missing;
2. trains the CPU configs vit_ti8_cpu and resnet18_cpu (`kubricgen train`, resumed if interrupted) on `train`;
3. analyzes both on every test config (SI-Score's location, rotation, size and the 3D factors viewpoint, lighting,
   occlusion, clutter, cue_conflict; `kubricgen analyze`) and writes OUT/report/index.html.
Each stage runs as its own `kubricgen` process (Blender, TensorFlow and torch never share one), shows its progress,
and is skipped when its result exists, so re-running after an interruption continues where it stopped.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time

HELP = "build SI-Score, train the CPU ViT and ResNet, analyze both: one report (kubricgen study --help)"
CONFIGS = ("location", "rotation", "size", "viewpoint", "lighting", "occlusion", "clutter", "cue_conflict", "train")
MODELS = (("vit_ti8_cpu", "ViT-Ti/8"), ("resnet18_cpu", "ResNet-18"))


def _kubricgen(*args: str) -> list[str]:
  return [sys.executable, "-m", "kubricgen.cli.main", *args]


def _built(data_dir: str, config: str) -> bool:
  return os.path.isfile(os.path.join(data_dir, "si_score", config, "1.0.0", "dataset_info.json"))


def run(argv: list[str], fail) -> int:
  from kubricgen.worker import flags as cli_flags  # pylint: disable=import-outside-toplevel
  parser = cli_flags.OneLineArgumentParser(prog="kubricgen study", description=__doc__.split("\n\n", maxsplit=1)[0])
  parser.add_argument("--data_dir", default=None, help="TFDS data_dir (default $TFDS_DATA_DIR or "
                      "~/tensorflow_datasets)")
  parser.add_argument("--out", default=os.path.join("output", "study"), help="run folders and report "
                      "(default %(default)s)")
  parser.add_argument("--resamples", type=cli_flags.int_at_least(100), default=2000,
                      help="cluster-bootstrap resamples")
  parser.add_argument("--configs", default=",".join(CONFIGS), help="si_score configs to build (where missing) and "
                      "analyze; `train` is always built (default %(default)s)")
  parser.add_argument("--train_override", action="append", default=[], metavar="KEY=VALUE",
                      help="a trainer config override applied to both models, e.g. total_epochs=5 (repeatable; "
                      "a different value makes another run: use another --out)")
  cli_flags.add_progress_flags(parser, "each stage's progress bars")
  flags = parser.parse_args(argv)
  progress = [] if flags.progress is None else ["--progress" if flags.progress else "--no_progress"]  # else each
  # stage applies the rule to the stderr it inherits
  data_dir = os.path.abspath(flags.data_dir or os.environ.get("TFDS_DATA_DIR")
                             or os.path.expanduser("~/tensorflow_datasets"))
  out = os.path.abspath(flags.out)
  configs = [c for c in flags.configs.split(",") if c]
  unknown = sorted(set(configs) - set(CONFIGS))
  if unknown or not [c for c in configs if c != "train"]:
    parser.error(f"argument --configs: unknown {unknown}; choose test configs from {','.join(CONFIGS[:-1])}")
  configs = list(dict.fromkeys([*configs, "train"]))
  stages = []
  missing = [c for c in configs if not _built(data_dir, c)]
  if len(missing) < len(configs):
    sys.stderr.write(f"kubricgen study: si_score {','.join(c for c in configs if c not in missing)} already built in "
                     f"{data_dir}: not built again\n")
  if missing:
    stages.append(("build si_score " + ",".join(missing),
                   _kubricgen("render", "scenes/si_score.py", "--data_dir", data_dir, "--configs", ",".join(missing),
                              *progress)))
  for config, _ in MODELS:
    stages.append((f"train {config}", _kubricgen("train", "--config", config, "--data_dir", data_dir, "--workdir",
                                                 os.path.join(out, "train", config),
                                                 *(f"--config.{o}" for o in flags.train_override), *progress)))
  analyze = ["analyze", "--data_dir", data_dir, "--out", os.path.join(out, "report"), "--configs",
             ",".join(c for c in configs if c != "train"), "--resamples", str(flags.resamples), *progress]
  for config, name in MODELS:
    analyze += ["--model", os.path.join(out, "train", config), "--name", name]
  stages.append(("analyze", _kubricgen(*analyze)))
  root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
  timings, started = [], time.perf_counter()
  for index, (title, command) in enumerate(stages, 1):
    sys.stderr.write(f"kubricgen study: [{index}/{len(stages)}] {title}\n")
    stage_start = time.perf_counter()
    code = subprocess.call(command, cwd=root if title.startswith("build") else None)
    seconds = time.perf_counter() - stage_start
    timings.append(dict(stage=title, seconds=round(seconds, 1), exit_code=code))
    sys.stderr.write(f"kubricgen study: [{index}/{len(stages)}] {title}: {_minutes(seconds)}\n")
    if code != 0:
      return fail(f"study: stage {title!r} failed (exit {code}); fix it and re-run `kubricgen study`: finished "
                  "stages are kept")
  os.makedirs(out, exist_ok=True)
  with open(os.path.join(out, "timings.json"), "w", encoding="utf-8") as handle:
    json.dump(dict(stages=timings, total_seconds=round(time.perf_counter() - started, 1), cpus=os.cpu_count()),
              handle, indent=1)
  sys.stderr.write(f"kubricgen study: all stages in {_minutes(time.perf_counter() - started)} "
                   f"({os.path.join(out, 'timings.json')})\n")
  sys.stdout.write(f"study report: {os.path.join(out, 'report', 'index.html')}\n")
  return 0


def _minutes(seconds: float) -> str:
  return f"{int(seconds // 60)} min {seconds % 60:04.1f} s"
