"""Training images/s: our trainer vs timm's own training step, side by side in one run (issue 10).

  .venv/bin/python benchmarks/train_throughput.py --timm_src DIR --out benchmarks/results/train_throughput.json

DIR holds timm's `benchmark.py` and `train.py` (from a checkout of huggingface/pytorch-image-models; not committed
here). For each model (the two CPU configs: ResNet-18 and ViT-Ti/8 at 64 px, batch 64, fp32, 2 threads, 23 classes)
and each round (rounds interleave the three runners so machine load hits all alike):
  * ceiling: timm `benchmark.py --bench train` on synthetic inputs (10 warm-up + 40 timed steps; no data at all);
  * ours:    `kubricgen train --config CONFIG` on si_score/train (array_record via tfds.data_source, images
             decoded once into memory, 2 augmentation workers, the config's augmentation), steady state = images /
             seconds over the logged windows of 10 steps after the first;
  * timm:    timm `train.py --dataset tfds/si_score/train` on the same data (TFDS tfrecord via tf.data, 2 workers,
             the same optimizer, crop scale and RandAugment), steady state from its per-step times after step 10.
Ratios: ours / ceiling (target >= 0.95) and ours / timm train.py (target >= 1.0). Medians over rounds.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS = {
    "resnet18": dict(config="resnet18_cpu", timm_model="resnet18", kwargs=[], opt="sgd", lr="0.05", aa=None),
    "vit_ti8": dict(config="vit_ti8_cpu", timm_model="vit_tiny_patch16_224",
                    kwargs=["img_size=64", "patch_size=8", "class_token=False"], gp="avg", opt="adamw", lr="1e-3",
                    aa="rand-m10-n2"),
}
BATCH, SIZE, WARMUP = 64, 64, 10


def ceiling(spec, timm_src, env) -> float:
  with tempfile.TemporaryDirectory() as folder:
    results = os.path.join(folder, "r.json")
    command = [sys.executable, os.path.join(timm_src, "benchmark.py"), "--bench", "train", "--model",
               spec["timm_model"], "--img-size", str(SIZE), "-b", str(BATCH), "--device", "cpu", "--num-warm-iter",
               str(WARMUP), "--num-bench-iter", "40", "--opt", spec["opt"], "--num-classes", "23",
               "--results-file", results, "--results-format", "json"]
    if spec["kwargs"]:
      command += ["--model-kwargs", *spec["kwargs"]]
    if spec.get("gp"):
      command += ["--gp", spec["gp"]]
    subprocess.run(command, check=True, env=env, capture_output=True, cwd=timm_src, timeout=1800)
    with open(results, encoding="utf-8") as handle:
      rows = json.load(handle)
  row = rows[0] if isinstance(rows, list) else rows
  return float(row["train_samples_per_sec"])


def ours(spec, steps, data_dir, env) -> float:
  with tempfile.TemporaryDirectory() as folder:
    workdir = os.path.join(folder, "run")
    subprocess.run([sys.executable, "-m", "kubricgen.cli.main", "train", "--config", spec["config"], "--workdir",
                    workdir, "--data_dir", data_dir, "--no_progress", f"--config.total_steps={steps}",
                    "--config.eval.dataset=", f"--config.log_every_steps={WARMUP}",
                    "--config.checkpoint_every_steps=100000",
                    "--config.threads=2"], check=True, env=env, capture_output=True, timeout=3600)
    with open(os.path.join(workdir, "metrics.jsonl"), encoding="utf-8") as handle:
      lines = [json.loads(l) for l in handle if '"train"' in l]
  # one line per window of WARMUP steps (the default logging cadence); the first window is the warm-up
  steady = [(line, line["step"] - previous["step"]) for previous, line in zip(lines, lines[1:])]
  images = sum(steps * BATCH for _, steps in steady)
  return images / sum(steps * BATCH / line["perf/images_per_s"] for line, steps in steady)


def timm_train(spec, steps, data_dir, timm_src, env) -> float:
  epochs = -(-steps // (2000 // BATCH))
  with tempfile.TemporaryDirectory() as folder:
    command = [sys.executable, os.path.join(timm_src, "train.py"), "--dataset", "tfds/si_score/train", "--data-dir",
               data_dir, "--train-split", "train", "--val-split", "train[:64]", "--model", spec["timm_model"],
               "--num-classes", "23", "--img-size", str(SIZE), "-b", str(BATCH), "--device", "cpu", "--epochs",
               str(epochs), "--workers", "2", "--opt", spec["opt"], "--lr", spec["lr"], "--weight-decay", "1e-4",
               "--scale", "0.3", "1.0", "--log-interval", "1", "--output", folder, "--warmup-epochs", "0",
               "--mean", "0.5", "0.5", "0.5", "--std", "0.5", "0.5", "0.5"]
    if spec["kwargs"]:
      command += ["--model-kwargs", *spec["kwargs"]]
    if spec.get("gp"):
      command += ["--gp", spec["gp"]]
    if spec["aa"]:
      command += ["--aa", spec["aa"]]
    result = subprocess.run(command, env=env, capture_output=True, text=True, cwd=timm_src, timeout=3600,
                            check=False)
    if result.returncode != 0:
      raise RuntimeError(f"timm train.py failed: {result.stderr[-3000:]}")
  times = [float(t) for t in re.findall(r"Time: ([0-9.]+)s,", result.stderr + result.stdout)]
  steady = times[WARMUP:steps]
  return len(steady) * BATCH / sum(steady)


def plot(summary, path):
  import matplotlib  # pylint: disable=import-outside-toplevel
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel
  figure, axis = plt.subplots(figsize=(7, 3.5))
  labels = ["timm benchmark.py (synthetic ceiling)", "ours (kubricgen train)", "timm train.py (same data)"]
  keys = ["ceiling", "ours", "timm_train"]
  width = 0.25
  for offset, (label, key) in enumerate(zip(labels, keys)):
    xs = [i + (offset - 1) * width for i in range(len(summary))]
    axis.bar(xs, [summary[m][key] for m in summary], width, label=label)
  for i, m in enumerate(summary):
    axis.annotate(f"{summary[m]['ours_over_ceiling']:.2f}x ceiling\n{summary[m]['ours_over_timm_train']:.2f}x train.py",
                  (i, summary[m]["ours"]), ha="center", va="bottom", fontsize=7, xytext=(0, 2),
                  textcoords="offset points")
  axis.set_xticks(range(len(summary)), [f"{m}\n64 px, batch {BATCH}, fp32, 2 threads" for m in summary])
  axis.set_ylabel("training images / s (median)")
  axis.legend(fontsize=8)
  axis.grid(axis="y", alpha=0.3)
  figure.tight_layout()
  figure.savefig(path, dpi=90)


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--timm_src", required=True)
  parser.add_argument("--data_dir", default=os.path.expanduser("~/tensorflow_datasets"))
  parser.add_argument("--models", default="resnet18,vit_ti8")
  parser.add_argument("--rounds", type=int, default=2)
  parser.add_argument("--steps", type=int, default=60)
  parser.add_argument("--out", default=os.path.join(ROOT, "benchmarks", "results", "train_throughput.json"))
  flags = parser.parse_args()
  env = dict(os.environ, PYTHONPATH=ROOT, TF_CPP_MIN_LOG_LEVEL="2", OMP_NUM_THREADS="2")
  rounds = {m: {"ceiling": [], "ours": [], "timm_train": []} for m in flags.models.split(",")}
  for round_index in range(flags.rounds):
    for name in rounds:
      spec = MODELS[name]
      for key, measure in (("ceiling", lambda: ceiling(spec, flags.timm_src, env)),
                           ("ours", lambda: ours(spec, flags.steps, flags.data_dir, env)),
                           ("timm_train", lambda: timm_train(spec, flags.steps, flags.data_dir, flags.timm_src,
                                                             env))):
        value = measure()
        rounds[name][key].append(value)
        print(f"round {round_index + 1}/{flags.rounds} {name} {key}: {value:.1f} img/s", flush=True)
  summary = {}
  for name, values in rounds.items():
    medians = {k: statistics.median(v) for k, v in values.items()}
    medians["ours_over_ceiling"] = medians["ours"] / medians["ceiling"]
    medians["ours_over_timm_train"] = medians["ours"] / medians["timm_train"]
    summary[name] = medians
    print(f"{name}: ours/ceiling {medians['ours_over_ceiling']:.3f}, ours/timm train.py "
          f"{medians['ours_over_timm_train']:.3f}")
  os.makedirs(os.path.dirname(flags.out), exist_ok=True)
  with open(flags.out, "w", encoding="utf-8") as handle:
    json.dump({"rounds": rounds, "summary": summary, "steps": flags.steps, "batch": BATCH, "size": SIZE,
               "command": " ".join(sys.argv)}, handle, indent=2)
  plot(summary, os.path.splitext(flags.out)[0] + ".png")


if __name__ == "__main__":
  main()
