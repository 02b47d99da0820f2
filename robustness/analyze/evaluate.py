"""Evaluate one model on one dataset config: a predictions table, one row per example.

Columns (pyarrow): model (str), config (str), index (int64, position in the split), image_id, object_instance (str),
label (int64, the target in the model's label space), prediction (int64), correct (bool), confidence (float32,
softmax probability of the prediction over the scored classes), top5_correct (bool), then every scalar/text feature
of the dataset (`ImageSource.scalar_fields`: x, y, area, rotation, pct_inside_image, ... - read, not hard-coded).
The dataset's own `label` is kept as `dataset_label` when the target is another field; cue-conflict class columns
(`shape_label`, `texture_label`: indices into the dataset's label names) are then mapped into the target's space the
same way (each dataset class -> the target its examples carry, -1 if none; `cue_conflict.class_targets`), their
dataset indices kept as `dataset_shape_label`, `dataset_texture_label`. The table's schema metadata records the
model spec, label space, target field, preprocessing and restriction (key b"kubricgen").
"""
from __future__ import annotations

import json
import logging

import numpy as np

from kubricgen import atomic
from kubricgen_robustness.analyze.cue_conflict import CLASS_FIELDS, class_targets
from kubricgen_robustness.analyze.models import CLASSES, AnalyzeError, EvalModel

log = logging.getLogger("kubricgen")


def config_name(dataset_name: str) -> str:
  """"si_score/location" or "si_score/location/1.0.0" -> "location"; a dataset without config -> its name."""
  parts = dataset_name.split("/")
  return parts[1] if len(parts) > 1 else parts[0]


def _metadata(source) -> dict:
  """All scalar fields of every example, as numpy columns (text decoded to str)."""
  columns = {field: [] for field in source.scalar_fields}
  for i in range(len(source)):
    record = source[i]
    for field in source.scalar_fields:
      value = record[field]
      if isinstance(value, np.ndarray):
        value = value.item()
      columns[field].append(value.decode() if isinstance(value, bytes) else value)
  return {k: np.asarray(v) for k, v in columns.items()}


def label_mapping(model: EvalModel, source, metadata: dict, restrict: bool):
  """(target (N,) int64, keep (N,) bool, target_field, allowed (K_allowed,) int or None, column_order or None).

  classes: target = dataset label; the model's output columns are reordered to the dataset's class order
  (`column_order`); names must match as sets. imagenet1k: target = imagenet_label (or the stock label), examples
  with target -1 dropped; `allowed` = the ImageNet indices present in the split when `restrict`.
  Raises AnalyzeError naming the mismatch."""
  if model.label_space == CLASSES:
    names = list(source.class_names)
    missing = [n for n in names if n not in model.class_names]
    extra = [n for n in model.class_names if n not in names]
    if missing or extra or len(set(model.class_names)) != len(model.class_names):
      raise AnalyzeError(f"model {model.name} classes do not match {source.name} label: "
                         f"not in model: {', '.join(missing[:5]) or '-'}{' ...' if len(missing) > 5 else ''}; "
                         f"not in dataset: {', '.join(extra[:5]) or '-'}{' ...' if len(extra) > 5 else ''}")
    order = np.asarray([model.class_names.index(n) for n in names])
    target = np.asarray(metadata[source.label_key], np.int64)
    return target, np.ones(len(target), bool), source.label_key, None, order
  if "imagenet_label" in metadata:
    field = "imagenet_label"
  elif len(source.class_names) == 1000:
    field = source.label_key  # stock siscore: label is the ImageNet-1k index
  else:
    raise AnalyzeError(f"{source.name} has no imagenet_label and its label is not ImageNet-1k: "
                       f"model {model.name} (ImageNet-1k) cannot be scored on it")
  target = np.asarray(metadata[field], np.int64)
  keep = target >= 0
  if not keep.any():
    raise AnalyzeError(f"{source.name}: no example has an ImageNet-1k label ({field} is -1 everywhere)")
  allowed = np.unique(target[keep]) if restrict else None
  return target, keep, field, allowed, None


def spread(indices: np.ndarray, limit: int) -> np.ndarray:
  """At most `limit` of `indices` (int array, storage order), evenly spaced from the first to the last: datasets
  store records object by object (one shard per job), so the first `limit` would all be one object instance."""
  if limit >= len(indices):
    return indices
  return indices[np.unique(np.linspace(0, len(indices) - 1, limit).round().astype(int))]


def evaluate(model: EvalModel, source, *, preprocessing: str = "resize", batch_size: int = 64,
             num_workers: int = 2, restrict_to_dataset_classes: bool = False, limit: int | None = None,
             progress: bool | None = True):
  """Run `model` over `source` and return the predictions as a pyarrow.Table (columns in the module docstring).

  Args:
    progress: a progress bar (None: only on a terminal).
    preprocessing: "resize" (whole image to S x S) or "resize_crop" (resize S/0.875 + centre crop S, as
      robustness_metrics; trims ~6% of each border). restrict_to_dataset_classes: ImageNet-1k models argmax over
      only the ImageNet classes present in the dataset. limit: evaluate `limit` evenly spaced examples only (records are stored in job order: object by object).
  Raises:
    AnalyzeError: an empty split, mismatching classes, no usable target.
  """
  import pyarrow as pa  # pylint: disable=import-outside-toplevel
  import torch  # pylint: disable=import-outside-toplevel
  from tqdm import tqdm  # pylint: disable=import-outside-toplevel
  from kubricgen_robustness.data import loader as loaders, transforms  # pylint: disable=import-outside-toplevel
  if len(source) == 0:
    raise AnalyzeError(f"{source.name} split {source.split!r} has no examples")
  metadata = _metadata(source)
  target, keep, target_field, allowed, order = label_mapping(model, source, metadata, restrict_to_dataset_classes)
  indices = np.flatnonzero(keep)
  if limit:
    indices = spread(indices, limit)
  if len(keep) - keep.sum():
    log.info("%s: %d of %d examples have no ImageNet-1k label and are not scored", source.name,
             len(keep) - keep.sum(), len(keep))
  transform = transforms.eval_transform(model.input_size, model.mean, model.std, mode=preprocessing)
  data = loaders.loader(loaders.EvalDataset(source, transform, indices), batch_size=batch_size,
                        num_workers=num_workers)
  prediction = np.zeros(len(indices), np.int64)
  confidence = np.zeros(len(indices), np.float32)
  top5 = np.zeros(len(indices), bool)
  seen = 0
  allowed_tensor = torch.as_tensor(allowed) if allowed is not None else None
  with torch.no_grad():
    for images, _, batch_indices in tqdm(data, desc=f"{model.name} on {source.name}", unit="batch",
                                         disable=None if progress is None else not progress, leave=False):
      logits = model.module(images).float()
      if order is not None:
        logits = logits[:, torch.as_tensor(order)]
      if allowed_tensor is not None:
        logits = logits[:, allowed_tensor]
      probabilities = logits.softmax(dim=1)
      k = min(5, probabilities.shape[1])
      best = probabilities.topk(k, dim=1).indices
      if allowed_tensor is not None:
        best = allowed_tensor[best]
      batch_target = torch.as_tensor(target[batch_indices.numpy()])
      span = slice(seen, seen + len(images))
      prediction[span] = best[:, 0].numpy()
      confidence[span] = probabilities.max(dim=1).values.numpy()
      top5[span] = (best == batch_target[:, None]).any(dim=1).numpy()
      seen += len(images)
  label = target[indices]
  columns = {
      "model": np.full(len(indices), model.name), "config": np.full(len(indices), config_name(source.name)),
      "index": indices.astype(np.int64), "label": label, "prediction": prediction, "correct": prediction == label,
      "confidence": confidence, "top5_correct": top5,
  }
  mapped = target_field != source.label_key
  targets_of_class = class_targets(metadata[source.label_key], target, len(source.class_names)) if mapped else None
  for field, values in metadata.items():
    if mapped and field in CLASS_FIELDS:  # the dataset's class index -> the target space, as `label`
      classes = np.asarray(values[indices], np.int64)
      columns[f"dataset_{field}"] = classes
      columns[field] = np.where(classes >= 0, targets_of_class[np.clip(classes, 0, len(targets_of_class) - 1)], -1)
      continue
    name = "dataset_label" if field == source.label_key and mapped else field
    if name not in columns:
      columns[name] = values[indices]
  info = dict(model=model.name, spec=model.spec, label_space=model.label_space, target=target_field,
              dataset=source.name, split=source.split, data_dir=source.data_dir, preprocessing=preprocessing,
              transform=transforms.describe(transform), input_size=model.input_size, mean=list(model.mean),
              std=list(model.std), restrict_to_dataset_classes=bool(restrict_to_dataset_classes),
              class_names=list(source.class_names) if target_field == source.label_key else None,
              unscored_examples=int(len(keep) - keep.sum()))
  table = pa.table({k: pa.array(v) for k, v in columns.items()})
  return table.replace_schema_metadata({b"kubricgen": json.dumps(info).encode()})


def table_info(table) -> dict:
  """The evaluation record stored in a predictions table's schema metadata."""
  return json.loads((table.schema.metadata or {}).get(b"kubricgen", b"{}"))


def write_predictions(table, path: str) -> str:
  """Write a predictions table as Parquet (atomic rename); returns the path."""
  import pyarrow.parquet as pq  # pylint: disable=import-outside-toplevel
  with atomic.staged_file(path) as temporary:
    pq.write_table(table, str(temporary))
  return path


def read_predictions(path: str):
  """A predictions table written by `write_predictions`."""
  import pyarrow.parquet as pq  # pylint: disable=import-outside-toplevel
  return pq.read_table(path)
