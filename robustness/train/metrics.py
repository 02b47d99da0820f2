"""The run's metrics file (`metrics.jsonl`: one JSON object per logged step and per evaluation) and its curves PNG.

Every line has `step` (optimizer updates done) and `kind` ("train" or "eval"). On resume the file is cut back to the
checkpoint's step (lines after it, and a torn last line, are dropped, rewritten atomically), so the file never has
duplicated or missing steps. Keys under `perf/` are wall-clock measurements and differ between runs by nature.
"""
from __future__ import annotations

import json
import os

from kubricgen import atomic


class MetricsWriter:
  """Appends JSON lines to `path`, flushed per line."""

  def __init__(self, path: str, resume_step: int):
    self.path = path
    self.lines = read(path, up_to_step=resume_step)
    atomic.write_text(path, "".join(json.dumps(line) + "\n" for line in self.lines))
    self._handle = open(path, "a", encoding="utf-8")  # pylint: disable=consider-using-with

  def write(self, record: dict) -> None:
    self.lines.append(record)
    self._handle.write(json.dumps(record) + "\n")
    self._handle.flush()

  def close(self) -> None:
    self._handle.close()


def read(path: str, up_to_step: int | None = None) -> list[dict]:
  """The complete lines of a metrics file (a torn last line is skipped), optionally only those with
  step <= up_to_step."""
  if not os.path.isfile(path):
    return []
  lines = []
  with open(path, encoding="utf-8") as handle:
    for text in handle:
      if not text.endswith("\n"):
        break
      try:
        record = json.loads(text)
      except json.JSONDecodeError:
        break
      if up_to_step is None or record.get("step", 0) <= up_to_step:
        lines.append(record)
  return lines


def plot_curves(lines: list[dict], path: str, title: str) -> None:
  """PNG of training loss and learning rate vs step, and every eval metric vs step (written atomically)."""
  import matplotlib  # pylint: disable=import-outside-toplevel
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel
  train = [l for l in lines if l.get("kind") == "train"]
  evals = [l for l in lines if l.get("kind") == "eval"]
  figure, axes = plt.subplots(1, 3, figsize=(15, 4))
  if train:
    steps = [l["step"] for l in train]
    axes[0].plot(steps, [l["train/loss"] for l in train], label="train loss")
    axes[0].set_yscale("log")
    axes[1].plot(steps, [l["lr"] for l in train], color="tab:orange")
    if "train/accuracy" in train[0]:
      axes[2].plot(steps, [l["train/accuracy"] for l in train], label="train accuracy (running, mixed labels)",
                   alpha=0.6)
  if evals:
    steps = [l["step"] for l in evals]
    axes[0].plot(steps, [l["eval/loss"] for l in evals], "o-", label="eval loss")
    for key in ("eval/accuracy", "eval/top5"):
      if key in evals[0]:
        axes[2].plot(steps, [l[key] for l in evals], "o-", label=key)
  axes[0].set(xlabel="step", ylabel="cross-entropy", title="loss")
  axes[1].set(xlabel="step", ylabel="learning rate", title="schedule")
  axes[2].set(xlabel="step", ylabel="accuracy", title="accuracy", ylim=(0, 1))
  for axis in (axes[0], axes[2]):
    if axis.get_legend_handles_labels()[0]:
      axis.legend(loc="best", fontsize=8)
    axis.grid(alpha=0.3)
  axes[1].grid(alpha=0.3)
  figure.suptitle(title)
  figure.tight_layout()
  with atomic.staged_file(path) as temporary:
    figure.savefig(temporary, dpi=90, format="png")
  plt.close(figure)
