"""Builds the TFDS dataset `si_score`: SI-Score with 3D-rendered objects, and 3D factors of ours.

Configs: SI-Score's location, rotation, size and train; ours: viewpoint, lighting, occlusion, clutter, cue_conflict.

  kubricgen render scenes/si_score.py                      # small but complete: every config, every grid point
  kubricgen render scenes/si_score.py --paper              # the paper's resolutions, every held-out instance, the
                                                           # full grids of the 3D factors
  python -c 'import tensorflow_datasets as tfds; print(tfds.load("si_score/location", split="test"))'

Defaults: 224x224 images, composite mode, one held-out instance per class on 2 backgrounds, 2000 training images,
seed 0, written to the TFDS data_dir (~/tensorflow_datasets or $TFDS_DATA_DIR), preview sheets in output/si_score/.
"""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import logging  # pylint: disable=wrong-import-position

import kubricgen as kb  # pylint: disable=wrong-import-position
from kubricgen.worker.flags import OneLineArgumentParser  # pylint: disable=wrong-import-position

log = logging.getLogger("kubricgen")
ALL_CONFIGS = ("location", "rotation", "size", "viewpoint", "lighting", "occlusion", "clutter", "cue_conflict",
               "train")


def parse_flags():
  parser = OneLineArgumentParser(prog="si_score", description=__doc__.split("\n")[0], allow_abbrev=False)
  parser.add_argument("--configs", default=",".join(ALL_CONFIGS), help="comma-separated subset of " +
                      ",".join(ALL_CONFIGS))
  parser.add_argument("--data_dir", default=None, help="TFDS data_dir (default ~/tensorflow_datasets)")
  parser.add_argument("--resolution", type=kb.worker.flags.resolution, default=None,
                      help="square image size, e.g. 224 or 224x224 (default 224; --paper: 500/512)")
  parser.add_argument("--mode", choices=("composite", "full3d"), default="composite",
                      help="composite: render each object once, paste in numpy; full3d: Blender renders every image")
  parser.add_argument("--instances_per_class", default="1", help="held-out instances per class in the test subsets, "
                      "or 'all'")
  parser.add_argument("--backgrounds_per_instance", type=kb.worker.flags.positive_int, default=2)
  parser.add_argument("--train_examples", type=int, default=2000)
  parser.add_argument("--train_location", choices=("center", "uniform"), default="center",
                      help="centre-biased (the photographer's bias) or uniform object locations in train")
  parser.add_argument("--visibility_threshold", action="append", default=[], metavar="SUBSET=VALUE",
                      help="override a subset's pct_inside_image threshold (paper: location=0, size=rotation=0.95)")
  parser.add_argument("--classes", default=None, help="comma-separated class names (default: all)")
  parser.add_argument("--seed", type=kb.worker.flags.seed, default=0)
  parser.add_argument("--samples", type=kb.worker.flags.positive_int, default=16, help="Cycles samples per pixel")
  parser.add_argument("--paper", action="store_true", help="paper sizes: 500px location, 512px rotation/size/"
                      "viewpoint, every held-out instance, the full grids of the 3D factors (e.g. 168 viewpoints instead of 12)")
  parser.add_argument("--overwrite", action="store_true", help="rebuild configs that already exist")
  parser.add_argument("--preview_dir", default="output/si_score", help="where preview_<config>.png go")
  parser.add_argument("--cache_dir", default=None, help="cut-out cache (default: DATA_DIR/.si_score-cache)")
  parser.add_argument("--in_process", action="store_true", help="generate in this process instead of a Beam "
                      "pipeline (no job isolation, no resume; for debugging)")
  parser.add_argument("--workers", type=kb.worker.flags.positive_int, default=None,
                      help="local Beam workers (default: 2; each runs its jobs in a child process of its own); "
                      "ignored with --runner")
  parser.add_argument("--job_timeout", type=float, default=600.0, help="seconds before a hung job is retried")
  parser.add_argument("--retries", type=int, default=2, help="retries of a failed or hung job")
  parser.add_argument("--jobs_per_process", type=kb.worker.flags.positive_int, default=50,
                      help="jobs a worker child process runs before it is replaced (keeps memory flat)")
  kb.worker.flags.add_progress_flags(parser, "the build's progress (images/s, ETA, jobs done)")
  parser.epilog = ("Any other flag is a Beam pipeline option, e.g. --runner DaskRunner --dask_client_address "
                   "HOST:PORT, or --runner DataflowRunner --project P --region R --temp_location gs://B/tmp "
                   "--sdk_container_image IMAGE (see README); --dry_run builds the pipeline (for Dataflow, the whole "
                   "job request) and runs or submits nothing.")
  flags, beam_args = parser.parse_known_args()
  if beam_args:
    from kubricgen_sharding import options  # pylint: disable=import-outside-toplevel
    unknown = options.unknown_args(beam_args)
    if unknown:
      parser.error(f"unrecognized arguments: {' '.join(unknown)}")
  flags.beam_args = beam_args
  configs = [c for c in flags.configs.split(",") if c]
  unknown = sorted(set(configs) - set(ALL_CONFIGS))
  if unknown or not configs:
    parser.error(f"argument --configs: unknown {unknown}; choose from {','.join(ALL_CONFIGS)}")
  if flags.resolution is not None and flags.resolution[0] != flags.resolution[1]:
    parser.error(f"argument --resolution: SI-Score images are square, got {flags.resolution[0]}x"
                 f"{flags.resolution[1]}")
  thresholds = []
  for item in flags.visibility_threshold:
    subset, _, value = item.partition("=")
    try:
      thresholds.append((subset, float(value)))
    except ValueError:
      parser.error(f"argument --visibility_threshold: expected SUBSET=VALUE, got {item!r}")
  if flags.instances_per_class != "all" and not flags.instances_per_class.isdigit():
    parser.error(f"argument --instances_per_class: expected a number or 'all', got {flags.instances_per_class!r}")
  if flags.train_examples < 0:
    parser.error(f"argument --train_examples: must be >= 0, got {flags.train_examples}")
  if flags.retries < 0:
    parser.error(f"argument --retries: must be >= 0, got {flags.retries}")
  if not flags.job_timeout > 0:
    parser.error(f"argument --job_timeout: must be > 0 seconds, got {flags.job_timeout:g}")
  return parser, flags, configs, tuple(thresholds)


def main():
  parser, flags, configs, thresholds = parse_flags()
  from kubricgen_sharding.executor import ExecutorSettings  # pylint: disable=import-outside-toplevel
  from kubricgen.datasets.si_score import build, factors, preview, specs  # pylint: disable=import-outside-toplevel
  instances = None if flags.instances_per_class == "all" or flags.paper else int(flags.instances_per_class)
  try:
    train_distribution = factors.TrainDistribution(location=flags.train_location)
    base = dict(mode=flags.mode, test_instances_per_class=instances, seed=flags.seed, samples=flags.samples,
                backgrounds_per_instance=flags.backgrounds_per_instance, train_examples=flags.train_examples,
                train_distribution=train_distribution, visibility_thresholds=thresholds,
                classes=tuple(flags.classes.split(",")) if flags.classes else None,
                grids="full" if flags.paper else "default")
    per_config = {}
    for config in configs:
      if flags.resolution:
        resolution = flags.resolution[0]
      elif flags.paper:
        resolution = factors.GRIDS.get(config, factors.GRIDS["size"]).paper_resolution
      else:
        resolution = 224
      per_config[config] = specs.Settings(resolution=resolution, **base)
    for config in configs:  # every config's plan before anything is built: a bad --classes fails here, not later
      build.plan(config, per_config[config])
  except ValueError as error:
    parser.error(str(error))
  data_dir = flags.data_dir or build.default_data_dir()
  if not data_dir.startswith("gs://"):
    data_dir = os.path.abspath(data_dir)
  beam_args = None if flags.in_process else list(flags.beam_args)
  if beam_args is not None and flags.workers and not any(a.startswith("--runner") for a in beam_args):
    beam_args.append(f"--direct_num_workers={flags.workers}")
  executor = ExecutorSettings(timeout_s=flags.job_timeout, retries=flags.retries,
                              jobs_per_process=flags.jobs_per_process)
  os.makedirs(flags.preview_dir, exist_ok=True)
  progress = kb.worker.flags.progress_wanted(flags.progress)  # the CLI's rule: by default bars on a terminal only,
  # so logs written to files hold lines, not carriage returns
  from kubricgen_sharding.pipeline import DryRun  # pylint: disable=import-outside-toplevel
  from kubricgen_sharding.probe import NotShared  # pylint: disable=import-outside-toplevel
  dry_runs = 0
  for config in configs:
    try:
      result = build.build([config], per_config[config], data_dir=data_dir, overwrite=flags.overwrite,
                           cache_dir=flags.cache_dir, beam_args=beam_args, executor_settings=executor,
                           progress=progress)[0]
    except DryRun:
      log.info("si_score/%s: dry run: the pipeline was built and not run (nothing was submitted)", config)
      dry_runs += 1
      continue
    except (build.PublishedMismatch, FileExistsError, NotShared) as error:
      raise SystemExit(str(error)) from None
    if not result.skipped:
      log.info("si_score/%s: %d examples in %.1f s (%.0f images/s) -> %s", config, result.examples, result.seconds,
               result.examples / max(result.seconds, 1e-9), result.path)
    if not result.path.startswith("gs://"):
      sheet = os.path.join(flags.preview_dir, f"preview_{config}.png")
      preview.preview_dataset(result.path).save(sheet)
      log.info("si_score/%s: preview %s", config, sheet)
  if dry_runs < len(configs):
    log.info("load it with: tfds.load('si_score/%s', data_dir=%r)", configs[0], data_dir)


if __name__ == "__main__":
  logging.basicConfig(level=logging.INFO, format="kubricgen: %(message)s")
  main()
