"""Optimizer, learning-rate schedule, loss and mixup: the arithmetic of one training step.

Recipes follow big_vision (plain ViT 2205.01580, AugReg 2106.10270) and BiT (1912.11370); see configs/.
"""
from __future__ import annotations

import math

import numpy as np
import torch


def param_groups(model: torch.nn.Module, weight_decay: float) -> list[dict]:
  """Two groups: >= 2-D weights (matrices, conv kernels, embeddings) decay; biases, norm scales and other 1-D or
  scalar parameters do not (big_vision decays `kernel`s only)."""
  decay, no_decay = [], []
  for _, parameter in sorted(model.named_parameters(), key=lambda item: item[0]):
    if parameter.requires_grad:
      (decay if parameter.ndim >= 2 else no_decay).append(parameter)
  return [dict(params=decay, weight_decay=weight_decay), dict(params=no_decay, weight_decay=0.0)]


def make_optimizer(optimizer_config, model: torch.nn.Module) -> torch.optim.Optimizer:
  """AdamW (decoupled decay, multiplied by the lr as torch does) or SGD with momentum. The lr is set every step by
  `learning_rate`."""
  groups = param_groups(model, optimizer_config.weight_decay)
  if optimizer_config.name == "adamw":
    return torch.optim.AdamW(groups, lr=optimizer_config.lr, betas=(optimizer_config.b1, optimizer_config.b2),
                             foreach=False)
  # SGD's weight_decay is L2 added to the gradient; for plain momentum SGD that equals decoupled decay of lr * wd.
  return torch.optim.SGD(groups, lr=optimizer_config.lr, momentum=optimizer_config.momentum,
                         nesterov=optimizer_config.nesterov, foreach=False)


def learning_rate(step: int, total_steps: int, peak: float, warmup_steps: int, decay: str) -> float:
  """lr of update `step` (0-based): linear warm-up (step + 1) / warmup_steps * peak, then `decay` from peak to 0 over
  the remaining steps (cosine: peak * (1 + cos(pi * progress)) / 2; linear: peak * (1 - progress); constant)."""
  if step < warmup_steps:
    return peak * (step + 1) / warmup_steps
  if decay == "constant" or total_steps <= warmup_steps:
    return peak
  progress = min(1.0, (step - warmup_steps) / max(1, total_steps - warmup_steps))
  if decay == "linear":
    return peak * (1.0 - progress)
  return peak * 0.5 * (1.0 + math.cos(math.pi * progress))


def targets(labels: torch.Tensor, num_classes: int, label_smoothing: float) -> torch.Tensor:
  """(B,) int64 labels -> (B, K) float32 targets, smoothed: (1 - eps) * one_hot + eps / K."""
  one_hot = torch.nn.functional.one_hot(labels, num_classes).float()
  return one_hot * (1.0 - label_smoothing) + label_smoothing / num_classes


def mixup(images: torch.Tensor, soft_targets: torch.Tensor, p: float, rng: np.random.Generator):
  """big_vision's mixup: a ~ Beta(p, p), a = max(a, 1 - a); every example is mixed with its neighbour in the batch
  (roll by 1): x = a x + (1 - a) roll(x), y likewise. Returns (images, targets, a)."""
  a = float(rng.beta(p, p))
  a = max(a, 1.0 - a)
  mixed = a * images + (1.0 - a) * torch.roll(images, 1, dims=0)
  return mixed, a * soft_targets + (1.0 - a) * torch.roll(soft_targets, 1, dims=0), a


def loss_fn(logits: torch.Tensor, soft_targets: torch.Tensor, kind: str) -> torch.Tensor:
  """Mean over the batch of softmax cross-entropy, or of sigmoid cross-entropy summed over classes (big_vision's
  `sigmoid_xent`, used by AugReg)."""
  logits = logits.float()
  if kind == "sigmoid_xent":
    per_class = torch.nn.functional.binary_cross_entropy_with_logits(logits, soft_targets, reduction="none")
    return per_class.sum(dim=1).mean()
  return torch.sum(-soft_targets * torch.log_softmax(logits, dim=1), dim=1).mean()
