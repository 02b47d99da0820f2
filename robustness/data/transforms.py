"""Training and evaluation preprocessing, built with timm's transforms (`timm.data.create_transform`).

Every transform maps an RGB PIL image to a float32 (3, S, S) tensor normalised with the model's mean/std. The
recipe is described by `describe(...)`, which the trainer and analyzer write into their run folders.
"""
from __future__ import annotations

EVAL_MODES = ("resize", "resize_crop")


def train_transform(input_size: int, mean, std, *, inception_crop: bool = True, crop_min_area: float = 0.05,
                    flip: bool = True, randaugment: str | None = None, interpolation: str = "bilinear"):
  """Training preprocessing.

  Args:
    input_size: side S of the square model input, pixels.
    mean, std: per-channel normalisation applied to [0, 1] inputs (timm's pretrained_cfg of the model).
    inception_crop: random-resized crop of `crop_min_area`..100% of the image area, aspect 3/4..4/3 (the
      "inception crop" of big_vision / timm); False: the whole image resized to S x S.
    flip: random horizontal flip with p = 0.5.
    randaugment: a timm RandAugment spec, e.g. "rand-m10-n2" (big_vision's RandAugment(2, 10)), or None.
  """
  from timm.data import create_transform  # pylint: disable=import-outside-toplevel
  scale, ratio = ((crop_min_area, 1.0), (3 / 4, 4 / 3)) if inception_crop else ((1.0, 1.0), (1.0, 1.0))
  return create_transform(input_size, is_training=True, scale=scale, ratio=ratio, hflip=0.5 if flip else 0.0,
                          vflip=0.0, color_jitter=None, auto_augment=randaugment or None,
                          interpolation=interpolation, mean=tuple(mean), std=tuple(std), re_prob=0.0)


def eval_transform(input_size: int, mean, std, *, mode: str = "resize", interpolation: str = "bilinear"):
  """Evaluation preprocessing.

  mode "resize": the whole image squashed to S x S (no crop: border objects stay whole; our default).
  mode "resize_crop": resize the short side to S / 0.875 and centre-crop S (robustness_metrics' resize-256 +
  centre-crop-224; it trims ~6% off each border, so objects at border locations lose part of themselves).
  """
  from timm.data import create_transform  # pylint: disable=import-outside-toplevel
  if mode not in EVAL_MODES:
    raise ValueError(f"eval preprocessing must be one of {EVAL_MODES}, got {mode!r}")
  crop_pct, crop_mode = (1.0, "squash") if mode == "resize" else (0.875, "center")
  return create_transform(input_size, is_training=False, crop_pct=crop_pct, crop_mode=crop_mode,
                          interpolation=interpolation, mean=tuple(mean), std=tuple(std))


def describe(transform) -> list[str]:
  """The transform's steps as strings (recorded in run folders)."""
  steps = getattr(transform, "transforms", [transform])
  return [" ".join(str(step).split()) for step in steps]
