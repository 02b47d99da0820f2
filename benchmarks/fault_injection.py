"""Fault-injection benchmark: many seeded trials of every kind in tests/integrity/faults.py (kill -9 of a worker or of
the driver, damaged shards and cut-outs, a full disk, a flaky GCS, two builds at once, SIGTERM while publishing)
against one clean reference build; one line per trial; writes per-kind counts (trials, identical, refused cleanly,
anything else, with descriptions) as JSON and a bar chart (PNG) beside it. Figures in README.md, "Reliability".

  python benchmarks/fault_injection.py [--trials 5] [--kill_trials 10] [--seed 0] [--kinds a,b]
      [--out benchmarks/results/fault_injection.json]
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from tests.integrity import faults  # noqa: E402  pylint: disable=wrong-import-position

KILL_KINDS = ("kill_worker", "kill_driver")


def plot(results: dict, path: str, title: str) -> None:
  import matplotlib  # pylint: disable=import-outside-toplevel
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel
  kinds = list(results)
  fig, ax = plt.subplots(figsize=(9, 4))
  bottom = [0] * len(kinds)
  for key, label, color in ((faults.IDENTICAL, "identical to the clean build", "#4c9f70"),
                            (faults.REFUSED, "refused cleanly (one line, nothing published)", "#e0a526"),
                            (faults.OTHER, "anything else", "#c8453c")):
    values = [results[k][key] for k in kinds]
    bars = ax.bar(kinds, values, bottom=bottom, label=label, color=color)
    for bar, value, base in zip(bars, values, bottom):
      if value:
        ax.text(bar.get_x() + bar.get_width() / 2, base + value / 2, str(value), ha="center", va="center",
                color="white", fontsize=9)
    bottom = [b + v for b, v in zip(bottom, values)]
  ax.set_ylabel("trials")
  ax.set_title(title, fontsize=10)
  ax.legend(fontsize=8, loc="upper right")
  ax.set_ylim(0, max(bottom) * 1.3 + 1)
  fig.tight_layout()
  fig.savefig(path, dpi=110)
  plt.close(fig)


def main() -> int:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--trials", type=int, default=5, help="trials per kind (kill kinds: at least --kill_trials)")
  parser.add_argument("--kill_trials", type=int, default=10, help="trials of each kill -9 kind")
  parser.add_argument("--seed", type=int, default=0)
  parser.add_argument("--kinds", default=",".join(faults.KINDS), help="comma-separated subset of "
                      + ",".join(faults.KINDS))
  parser.add_argument("--out", default=os.path.join(ROOT, "benchmarks", "results", "fault_injection.json"))
  parser.add_argument("--keep", action="store_true", help="keep every trial's folder (default: only 'other' ones)")
  flags = parser.parse_args()
  kinds = [k for k in flags.kinds.split(",") if k]
  unknown = sorted(set(kinds) - set(faults.KINDS))
  if unknown:
    parser.error(f"unknown kinds {unknown}; choose from {','.join(faults.KINDS)}")
  if "full_disk" in kinds and not faults.can_fill_a_disk():
    print("full_disk: skipped (needs mount namespaces: root or CAP_SYS_ADMIN)", flush=True)
    kinds.remove("full_disk")
  root = tempfile.mkdtemp(prefix="kubricgen-faults-")
  start = time.perf_counter()
  print(f"reference build in {root}/reference ...", flush=True)
  reference = faults.clean_build(os.path.join(root, "reference"))
  print(f"reference: {len(reference.files)} files, {reference.seconds:.1f} s", flush=True)
  results = {}
  with faults.gcs_emulator_process() as emulator:
    for kind in kinds:
      trials = max(flags.trials, flags.kill_trials) if kind in KILL_KINDS else flags.trials
      rng = random.Random(f"{flags.seed}-{kind}")
      counts = {"trials": 0, faults.IDENTICAL: 0, faults.REFUSED: 0, faults.OTHER: 0, "seconds": 0.0, "others": [],
                "refusals": []}
      for trial in range(trials):
        workdir = os.path.join(root, f"{kind}-{trial}")
        os.makedirs(workdir)
        extra = {"emulator": emulator} if kind == "flaky_gcs" else {}
        outcome = faults.run_trial(kind, reference, workdir, rng, log=lambda line: None, **extra)
        counts["trials"] += 1
        counts[outcome.outcome] += 1
        counts["seconds"] += outcome.seconds
        if outcome.outcome == faults.OTHER:
          counts["others"].append({"trial": trial, "detail": outcome.detail, "folder": workdir})
        elif outcome.outcome == faults.REFUSED:
          counts["refusals"].append(outcome.detail)
        if outcome.outcome != faults.OTHER and not flags.keep:
          shutil.rmtree(workdir, ignore_errors=True)
        print(f"[{kind} {trial + 1}/{trials}] {outcome.outcome} ({outcome.seconds:.1f} s): {outcome.detail}",
              flush=True)
      counts["seconds"] = round(counts["seconds"], 1)
      results[kind] = counts
  wall = time.perf_counter() - start
  report = {"command": " ".join([os.path.relpath(sys.argv[0], ROOT)] + sys.argv[1:]), "seed": flags.seed,
            "wall_seconds": round(wall, 1), "reference_build_seconds": round(reference.seconds, 1),
            "cpus": os.cpu_count(), "kinds": results,
            "totals": {key: sum(r[key] for r in results.values())
                       for key in ("trials", faults.IDENTICAL, faults.REFUSED, faults.OTHER)}}
  os.makedirs(os.path.dirname(os.path.abspath(flags.out)), exist_ok=True)
  with open(flags.out, "w", encoding="utf-8") as handle:
    json.dump(report, handle, indent=2)
  chart = os.path.splitext(flags.out)[0] + ".png"
  totals = report["totals"]
  plot(results, chart, f"Fault injection, small SI-Score build: {totals['trials']} trials, seed {flags.seed}, "
       f"{wall / 60:.0f} min on {os.cpu_count()} cores")
  print(f"\n{'kind':<12} {'trials':>6} {'identical':>9} {'refused':>7} {'other':>5}")
  for kind, counts in results.items():
    print(f"{kind:<12} {counts['trials']:>6} {counts['identical']:>9} {counts['refused']:>7} {counts['other']:>5}")
  print(f"wall time {wall:.0f} s; wrote {flags.out} and {chart}")
  if not any(r[faults.OTHER] for r in results.values()):
    shutil.rmtree(root, ignore_errors=True)
  else:
    print(f"folders of 'other' trials kept under {root}")
  return 0


if __name__ == "__main__":
  sys.exit(main())
