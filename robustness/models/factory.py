"""`create_model`: a timm model by name for K classes at a given input size, optionally from local weights.

Nothing is ever downloaded: `pretrained_file` must be a local weights file (.safetensors, .pth, .bin, .npz, read by
timm's own loader) or a local folder in the Hugging Face layout (config.json + model.safetensors, timm's
`local-dir:`). Without it the model is randomly initialised (timm's default init for the architecture).
"""
from __future__ import annotations

import os

# timm modules whose models take `img_size` (and `patch_size`) at construction: position embeddings are per size.
_SIZED_MODULES = ("vision_transformer", "vision_transformer_hybrid", "deit", "eva", "beit", "vision_transformer_sam")


class ModelError(ValueError):
  """An unknown model name or unusable weights; the message is one line."""


def _architecture(name: str) -> str:
  return name.split(".")[0]  # "vit_small_patch16_224.augreg_in1k" -> its architecture


def takes_img_size(name: str) -> bool:
  import timm  # pylint: disable=import-outside-toplevel
  return timm.models.is_model_in_modules(_architecture(name), _SIZED_MODULES)


def create_model(name: str, num_classes: int, input_size: int, *, pretrained_file: str | None = None,
                 head_reset: bool = True, head_zero_init: bool = False, **kwargs):
  """A `torch.nn.Module` mapping (B, 3, S, S) float32 images to (B, num_classes) logits.

  Args:
    name: a timm model name (`timm.list_models()`), optionally with a pretrained tag.
    num_classes: K, the dataset's class count.
    input_size: S in pixels; ViT-family models are built for it (position embeddings resized from the weights).
    pretrained_file: local weights file or folder, or None (train from scratch).
    head_reset: with weights, a freshly initialised classifier for K classes (timm drops a head of another size;
      with this flag the head is re-made even when its size matches, as for fine-tuning on new classes).
    head_zero_init: classifier weight and bias set to 0 (big_vision's `head_zeroinit`, used for fine-tuning).
    **kwargs: passed to the architecture, e.g. patch_size=8, global_pool="avg", class_token=False, drop_rate.
  Raises:
    ModelError: unknown name, missing weights path, weights that do not fit the architecture.
  """
  import timm  # pylint: disable=import-outside-toplevel
  if not timm.is_model(_architecture(name)):
    raise ModelError(f"unknown model name {name!r} (see timm.list_models(), e.g. 'vit_tiny_patch16_224', "
                     "'resnet18', 'resnetv2_50x1_bit')")
  if takes_img_size(name):
    kwargs.setdefault("img_size", input_size)
  create_kwargs = dict(num_classes=num_classes, **kwargs)
  if pretrained_file:
    if not os.path.exists(pretrained_file):
      raise ModelError(f"weights not found: {pretrained_file}")
    if os.path.isdir(pretrained_file):
      model_name, create_kwargs["pretrained"] = f"local-dir:{os.path.abspath(pretrained_file)}", True
    else:
      model_name = name
      create_kwargs.update(pretrained=True, pretrained_cfg_overlay=dict(file=os.path.abspath(pretrained_file),
                                                                        hf_hub_id=None, url=None))
  else:
    model_name = name
  try:
    model = timm.create_model(model_name, **create_kwargs)
  except (RuntimeError, ValueError, KeyError, OSError) as error:
    first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    raise ModelError(f"cannot build {name!r}{' from ' + pretrained_file if pretrained_file else ''}: "
                     f"{first[:300]}") from None
  if pretrained_file and head_reset:
    model.reset_classifier(num_classes)
  if head_zero_init:
    head = model.get_classifier()
    for parameter in head.parameters():
      parameter.data.zero_()
  return model


def data_config(model) -> dict:
  """timm's preprocessing for the model: {"mean": (3,), "std": (3,), "interpolation": str, ...}."""
  import timm.data  # pylint: disable=import-outside-toplevel
  return timm.data.resolve_data_config({}, model=model)
