"""The training loop: `train(config, workdir)` fits a timm model on a TFDS split and leaves a run folder.

Run folder: config.json (resolved config), preprocessing.json (train and eval transforms, mean/std, dataset, class
names), metrics.jsonl, last.pt, best.pt, curves.png. Re-running the same command continues from last.pt (after a
crash or `kill -9` at any moment, mid-epoch included): model, optimizer, best metric, the running train-metric window
and the step are restored, the data order and every random draw are functions of (seed, step), so on CPU the resumed
run ends with the same weights, bit for bit, and the same metrics as an uninterrupted one.
"""
from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
import time

import numpy as np
import torch

from kubricgen import atomic
from kubricgen_robustness.data import decoded
from kubricgen_robustness.data import loader as loaders
from kubricgen_robustness.data import source as sources
from kubricgen_robustness.data import transforms
from kubricgen_robustness.models import factory
from kubricgen_robustness.train import checkpoint, metrics, optim
from kubricgen_robustness.train.config import ConfigError, check

log = logging.getLogger("kubricgen")


@dataclasses.dataclass
class Plan:
  """Step counts derived from the config and the dataset size."""
  num_examples: int
  steps_per_epoch: int
  total_steps: int
  warmup_steps: int
  eval_every: int


def make_plan(config, num_examples: int) -> Plan:
  steps_per_epoch = num_examples // config.batch_size
  if steps_per_epoch == 0:
    raise ConfigError(f"config key 'batch_size' {config.batch_size} exceeds the {num_examples} training examples")
  total = config.total_steps or math.ceil(config.total_epochs * steps_per_epoch)
  warmup = config.schedule.warmup_steps or round(config.schedule.warmup_epochs * steps_per_epoch)
  eval_every = config.eval.every_steps or max(1, round(config.eval.every_epochs * steps_per_epoch))
  return Plan(num_examples, steps_per_epoch, total, min(warmup, total), eval_every)


def _step_seed(seed: int, step: int, stream: int) -> int:
  return int(np.random.SeedSequence([seed, step, stream]).generate_state(1, np.uint32)[0])


def _device(name: str) -> torch.device:
  if name == "auto":
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")
  if name == "cuda" and not torch.cuda.is_available():
    raise ConfigError("config key 'device' is cuda but no CUDA device is available")
  return torch.device(name)


def _write_json(path: str, value) -> None:
  atomic.write_text(path, json.dumps(value, indent=2, sort_keys=True) + "\n")


def _progress_enabled(progress: bool | None) -> bool | None:
  if progress is False:
    return True  # tqdm's `disable`
  if os.environ.get("KUBRICGEN_PROGRESS") == "1" or progress:
    return False
  return None  # tqdm decides: on for a terminal


@torch.no_grad()
def evaluate(model, data, device, precision: str, num_classes: int) -> dict:
  """Top-1, top-5 accuracy and mean softmax cross-entropy of `model` over a loader of (image, label, index)."""
  model.eval()
  correct = top5 = count = 0
  loss_sum = 0.0
  for images, labels, _ in data:
    images, labels = images.to(device), labels.to(device)
    with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=precision == "bf16"):
      logits = model(images)
    logits = logits.float()
    loss_sum += torch.nn.functional.cross_entropy(logits, labels, reduction="sum").item()
    correct += (logits.argmax(1) == labels).sum().item()
    k = min(5, num_classes)
    top5 += (logits.topk(k, dim=1).indices == labels[:, None]).any(1).sum().item()
    count += len(labels)
  model.train()
  return {"eval/accuracy": correct / count, "eval/top5": top5 / count, "eval/loss": loss_sum / count,
          "eval/n": count}


def _improved(value: float, best: dict) -> bool:
  if best.get("value") is None:
    return True
  return value > best["value"] if best["mode"] == "max" else value < best["value"]


def train(config, workdir: str, *, progress: bool | None = None) -> dict:
  """Train (or continue training) the run in `workdir` and return its final metrics.

  Raises:
    ConfigError, sources.DataError, factory.ModelError, checkpoint.CheckpointError: bad input, before anything is
      written to `workdir` (an existing checkpoint is never overwritten by another run's).
  """
  from tqdm.auto import tqdm  # pylint: disable=import-outside-toplevel
  check(config)
  if config.threads:
    torch.set_num_threads(config.threads)
  device = _device(config.device)
  data_dir = config.data_dir or None
  train_source = sources.open_source(config.dataset, config.train_split, data_dir, config.label_key)
  eval_source = None
  if config.eval.dataset:
    eval_source = sources.open_source(config.eval.dataset, config.eval.split, data_dir, config.label_key)
    if eval_source.class_names != train_source.class_names:
      raise sources.DataError(f"{config.eval.dataset} labels {config.label_key!r} with other classes than "
                              f"{config.dataset} ({len(eval_source.class_names)} vs {len(train_source.class_names)})")
  plan = make_plan(config, len(train_source))
  num_classes = len(train_source.class_names)

  torch.manual_seed(config.seed)
  model = factory.create_model(config.model.name, num_classes, config.input_size,
                               pretrained_file=config.model.pretrained_file or None,
                               head_reset=config.model.head_reset, head_zero_init=config.model.head_zero_init,
                               **config.model.kwargs.to_dict())
  data_config = factory.data_config(model)
  mean, std = tuple(data_config["mean"]), tuple(data_config["std"])
  train_transform = transforms.train_transform(
      config.input_size, mean, std, inception_crop=config.augment.inception_crop,
      crop_min_area=config.augment.crop_min_area, flip=config.augment.flip,
      randaugment=config.augment.randaugment or None)
  eval_transform = transforms.eval_transform(config.input_size, mean, std, mode=config.eval_preprocessing)
  optimizer = optim.make_optimizer(config.optimizer, model)

  resolved = config.to_dict()
  last_path = os.path.join(workdir, checkpoint.LAST)
  start_step, best = 0, {"metric": config.best_metric, "mode": config.best_mode, "value": None, "step": None}
  window = {"loss": 0.0, "correct": 0, "seen": 0, "steps": 0}
  if os.path.exists(last_path):
    state = checkpoint.load(last_path)
    difference = checkpoint.config_difference(state["config"], resolved)
    if difference:
      raise checkpoint.CheckpointError(f"{workdir} holds a checkpoint of another run ({difference}); use another "
                                       "--workdir or delete that run")
    try:
      model.load_state_dict(state["model"])
      optimizer.load_state_dict(state["optimizer"])
    except (RuntimeError, ValueError, KeyError) as error:
      raise checkpoint.CheckpointError(f"{last_path} does not fit this model/optimizer "
                                       f"({str(error).splitlines()[0][:200]})") from None
    start_step, best, window = int(state["step"]), dict(state["best"]), dict(state["window"])
    best_path = os.path.join(workdir, checkpoint.BEST)
    if best.get("step") == start_step and not os.path.exists(best_path):
      checkpoint.link_best(workdir)  # killed between writing last.pt and linking it as best.pt
    log.info("resuming %s from step %d of %d", workdir, start_step, plan.total_steps)

  os.makedirs(workdir, exist_ok=True)
  preprocessing = {"input_size": config.input_size, "mean": list(mean), "std": list(std),
                   "train": transforms.describe(train_transform), "eval": transforms.describe(eval_transform),
                   "eval_mode": config.eval_preprocessing, "dataset": config.dataset, "split": config.train_split,
                   "label_key": config.label_key, "class_names": train_source.class_names,
                   "train_file_format": train_source.file_format}
  _write_json(os.path.join(workdir, "config.json"), resolved)
  _write_json(os.path.join(workdir, "preprocessing.json"), preprocessing)
  _write_json(os.path.join(workdir, "plan.json"), dataclasses.asdict(plan))
  writer = metrics.MetricsWriter(os.path.join(workdir, "metrics.jsonl"), start_step)

  model.to(device)
  if config.channels_last:
    model.to(memory_format=torch.channels_last)
  step_model = torch.compile(model) if config.compile else model
  for state_value in optimizer.state.values():  # optimizer moments follow the model's device
    for key, value in state_value.items():
      if torch.is_tensor(value) and value.device != device and key != "step":
        state_value[key] = value.to(device)

  bar_disabled = _progress_enabled(progress)
  bar_on = None if bar_disabled is None else not bar_disabled
  eval_data = None
  if eval_source is not None:
    indices = None
    if config.eval.max_examples and config.eval.max_examples < len(eval_source):
      indices = np.unique(np.linspace(0, len(eval_source) - 1, config.eval.max_examples).round().astype(int))
    eval_decoded = decoded.decode_all(eval_source, indices, max_mb=config.cache_decoded_mb, progress=bar_on)
    eval_data = loaders.loader(loaders.EvalDataset(eval_source, eval_transform, indices, eval_decoded),
                               batch_size=config.eval.batch_size, num_workers=config.num_workers)
  sampler = loaders.ResumableBatchSampler(len(train_source), config.batch_size, config.seed, start_step,
                                          plan.total_steps)
  train_decoded = decoded.decode_all(train_source, max_mb=config.cache_decoded_mb, progress=bar_on)
  train_data = loaders.loader(loaders.TrainDataset(train_source, train_transform, config.seed, train_decoded),
                              batch_sampler=sampler, num_workers=config.num_workers,
                              pin_memory=device.type == "cuda")

  def save_last(step):
    checkpoint.save(last_path, {
        "step": step, "config": json.dumps(resolved, sort_keys=True), "class_names": train_source.class_names,
        "dataset": config.dataset, "model": model.state_dict(), "optimizer": optimizer.state_dict(),
        "best": best, "window": window, "torch_rng": torch.get_rng_state(),
        "preprocessing": {"input_size": config.input_size, "mean": list(mean), "std": list(std),
                          "eval_mode": config.eval_preprocessing}})

  title = f"{config.model.name} on {config.dataset} ({workdir})"
  step, last_eval = start_step, {}
  model.train()
  window_start = time.perf_counter()
  postfix = {}
  bar = tqdm(total=plan.total_steps * config.batch_size, initial=start_step * config.batch_size, unit="img",
             desc=f"train {config.model.name}", disable=bar_disabled, smoothing=0.1, dynamic_ncols=True)
  try:
    for images, labels in train_data:
      lr = optim.learning_rate(step, plan.total_steps, config.optimizer.lr, plan.warmup_steps, config.schedule.decay)
      for group in optimizer.param_groups:
        group["lr"] = lr
      torch.manual_seed(_step_seed(config.seed, step, 0))  # dropout, drop-path: a function of (seed, step)
      images, labels = images.to(device, non_blocking=True), labels.to(device, non_blocking=True)
      if config.channels_last:
        images = images.contiguous(memory_format=torch.channels_last)
      soft = optim.targets(labels, num_classes, config.label_smoothing)
      if config.mixup_p > 0:
        images, soft, _ = optim.mixup(images, soft, config.mixup_p, np.random.default_rng(_step_seed(config.seed,
                                                                                                      step, 1)))
      with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=config.precision == "bf16"):
        logits = step_model(images)
      loss = optim.loss_fn(logits, soft, config.loss)
      if not torch.isfinite(loss):
        raise FloatingPointError(f"loss is {loss.item()} at step {step}: lower optimizer.lr or use fp32")
      optimizer.zero_grad(set_to_none=True)
      loss.backward()
      logging_step = (step + 1) % config.log_every_steps == 0 or step + 1 == plan.total_steps
      if config.grad_clip_norm > 0:
        grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip_norm)
      elif logging_step:  # without clipping the norm is only logged: skip the pass over every gradient otherwise
        grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), math.inf)
      optimizer.step()
      step += 1
      window["loss"] += loss.item()
      window["correct"] += int((logits.detach().argmax(1) == labels).sum().item())
      window["seen"] += len(labels)
      window["steps"] += 1
      bar.update(len(labels))
      if logging_step:
        elapsed = time.perf_counter() - window_start
        writer.write({"kind": "train", "step": step, "epoch": round(step / plan.steps_per_epoch, 4),
                      "train/loss": window["loss"] / window["steps"],
                      "train/accuracy": window["correct"] / window["seen"], "lr": lr,
                      "grad_norm": float(grad_norm), "perf/images_per_s": window["seen"] / max(elapsed, 1e-9)})
        postfix["loss"] = f"{window['loss'] / window['steps']:.3f}"
        bar.set_postfix(postfix, refresh=False)
        window = {"loss": 0.0, "correct": 0, "seen": 0, "steps": 0}
        window_start = time.perf_counter()
      evaluate_now = eval_data is not None and (step % plan.eval_every == 0 or step == plan.total_steps)
      if evaluate_now:
        last_eval = evaluate(step_model, eval_data, device, config.precision, num_classes)
        writer.write({"kind": "eval", "step": step, "epoch": round(step / plan.steps_per_epoch, 4), **last_eval})
        improved = config.best_metric in last_eval and _improved(last_eval[config.best_metric], best)
        if improved:
          best.update(value=last_eval[config.best_metric], step=step)
        save_last(step)
        if improved:
          checkpoint.link_best(workdir)
        metrics.plot_curves(writer.lines, os.path.join(workdir, "curves.png"), title)
        if bar.disable:
          log.info("step %d/%d: %s", step, plan.total_steps,
                   ", ".join(f"{k} {v:.4f}" for k, v in last_eval.items() if k != "eval/n"))
        postfix["eval_acc"] = f"{last_eval['eval/accuracy']:.3f}"
        bar.set_postfix(postfix, refresh=False)
      elif step % config.checkpoint_every_steps == 0 or step == plan.total_steps:
        save_last(step)
  finally:
    bar.close()
    writer.close()
  if step == start_step and start_step >= plan.total_steps:
    log.info("%s is complete (step %d of %d): nothing to do", workdir, step, plan.total_steps)
  metrics.plot_curves(writer.lines, os.path.join(workdir, "curves.png"), title)
  evals = [l for l in writer.lines if l["kind"] == "eval"]
  return {"step": step, "total_steps": plan.total_steps, "best": best, **(evals[-1] if evals else {})}
