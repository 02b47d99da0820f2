"""Models to evaluate, from a `--model` spec, each with an explicit label space.

Specs:
  RUN_DIR or CHECKPOINT.pt   a `kubricgen train` run (best.pt, else last.pt) or checkpoint: our classes.
  timm:NAME[:WEIGHTS]        a timm model with local weights (nothing is downloaded; without WEIGHTS it is randomly
                             initialised, for smoke tests only); 1000 outputs = ImageNet-1k, else its own classes
                             are unknown and the spec is refused.
  MODULE:FUNCTION            an importable function (e.g. `mypkg.models:vit_on_si_score`) called with no arguments,
                             returning a dict (the entry-point contract):
                               module       torch.nn.Module mapping (B, 3, S, S) float32 -> (B, K) logits
                               input_size   S, pixels
                               mean, std    3 floats each, the normalisation of [0, 1] inputs
                               class_names  list of K names (our classes, matched by name to the dataset's label)
                                 or label_space="imagenet1k" (K = 1000, ImageNet-1k indices)
Label spaces: "classes" models are scored against the dataset's `label` ClassLabel (names must match); "imagenet1k"
models against `imagenet_label` (our si_score) or `label` (stock siscore, whose label is the ImageNet index).
"""
from __future__ import annotations

import dataclasses
import importlib
import os

CLASSES, IMAGENET1K = "classes", "imagenet1k"


class AnalyzeError(ValueError):
  """Bad input to the analyzer (model spec, dataset, label space); the message is one line."""


@dataclasses.dataclass
class EvalModel:
  """A model ready to evaluate. `module` is in eval mode; `class_names` is None for imagenet1k."""
  name: str
  spec: str
  module: object
  input_size: int
  mean: tuple
  std: tuple
  label_space: str
  class_names: list | None


def _name_of(spec: str) -> str:
  base = spec.rstrip("/")
  if base.startswith("timm:"):
    return base.split(":")[1]
  if os.path.exists(base):
    parts = os.path.normpath(os.path.abspath(base)).split(os.sep)
    return parts[-2] if parts[-1].endswith(".pt") and len(parts) > 1 else parts[-1]
  return base.replace(":", ".")


def load_model(spec: str, name: str | None = None) -> EvalModel:
  """The EvalModel of a `--model` spec (see the module docstring).

  Raises:
    AnalyzeError: unknown spec, missing file, an entry point breaking the contract, an unusable checkpoint.
  """
  name = name or _name_of(spec)
  if spec.startswith("timm:"):
    return _timm_model(spec, name)
  if os.path.exists(spec):
    return _trained_model(spec, name)
  if ":" in spec and not spec.startswith((".", "/")):
    return _entry_point(spec, name)
  raise AnalyzeError(f"model {spec!r}: no such run folder or checkpoint, and not timm:NAME[:WEIGHTS] or "
                     "MODULE:FUNCTION")


def _trained_model(path: str, name: str) -> EvalModel:
  from kubricgen_robustness.models.factory import ModelError  # pylint: disable=import-outside-toplevel
  from kubricgen_robustness.train import checkpoint  # pylint: disable=import-outside-toplevel
  try:
    trained = checkpoint.load_trained_model(path)
  except (checkpoint.CheckpointError, ModelError) as error:
    raise AnalyzeError(str(error)) from None
  return EvalModel(name=name, spec=path, module=trained.model.eval(), input_size=int(trained.input_size),
                   mean=tuple(trained.mean), std=tuple(trained.std), label_space=CLASSES,
                   class_names=list(trained.class_names))


def _timm_model(spec: str, name: str) -> EvalModel:
  from kubricgen_robustness.models import factory  # pylint: disable=import-outside-toplevel
  import timm  # pylint: disable=import-outside-toplevel
  _, model_name, *rest = spec.split(":", 2)
  weights = rest[0] if rest else None
  if weights and not os.path.exists(weights):
    raise AnalyzeError(f"model {spec!r}: weights not found: {weights}")
  pretrained_cfg = timm.models.get_pretrained_cfg(model_name, allow_unregistered=True) if timm.is_model(
      model_name.split(".")[0]) else None
  input_size = int((getattr(pretrained_cfg, "input_size", None) or (3, 224, 224))[-1])
  num_classes = int(getattr(pretrained_cfg, "num_classes", None) or 1000)
  try:
    module = factory.create_model(model_name, num_classes, input_size, pretrained_file=weights, head_reset=False)
  except factory.ModelError as error:
    raise AnalyzeError(str(error)) from None
  if num_classes != 1000:
    raise AnalyzeError(f"model {spec!r} has {num_classes} outputs: only ImageNet-1k timm models are scored "
                       "(wrap others in a MODULE:FUNCTION entry point that names its classes)")
  data = factory.data_config(module)
  return EvalModel(name=name, spec=spec, module=module.eval(), input_size=input_size, mean=tuple(data["mean"]),
                   std=tuple(data["std"]), label_space=IMAGENET1K, class_names=None)


def _entry_point(spec: str, name: str) -> EvalModel:
  import torch  # pylint: disable=import-outside-toplevel
  module_name, function_name = spec.rsplit(":", 1)
  try:
    function = getattr(importlib.import_module(module_name), function_name)
  except (ImportError, AttributeError) as error:
    raise AnalyzeError(f"model {spec!r}: cannot import {function_name} from {module_name} "
                       f"({type(error).__name__}: {error})") from None
  result = function()
  if not isinstance(result, dict) or not isinstance(result.get("module"), torch.nn.Module):
    raise AnalyzeError(f"model {spec!r}: the entry point must return a dict with a torch.nn.Module under 'module'")
  missing = [k for k in ("input_size", "mean", "std") if k not in result]
  if missing:
    raise AnalyzeError(f"model {spec!r}: the entry point's dict lacks {', '.join(missing)}")
  class_names = result.get("class_names")
  label_space = result.get("label_space", CLASSES if class_names is not None else None)
  if label_space not in (CLASSES, IMAGENET1K) or (label_space == CLASSES and not class_names):
    raise AnalyzeError(f"model {spec!r}: the entry point must give class_names or label_space='imagenet1k'")
  return EvalModel(name=name, spec=spec, module=result["module"].eval(), input_size=int(result["input_size"]),
                   mean=tuple(float(v) for v in result["mean"]), std=tuple(float(v) for v in result["std"]),
                   label_space=label_space, class_names=list(class_names) if label_space == CLASSES else None)
