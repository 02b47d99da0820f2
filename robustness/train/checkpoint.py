"""Checkpoints of a run folder: `last.pt` (atomic: temporary file, fsync, rename) and `best.pt` (a hard link to the
`last.pt` written at the best evaluation, as timm keeps its best), and loading them back without unpickling code.

A checkpoint is a dict of tensors and plain values (str, int, float, bool, None, lists, dicts) read with
`torch.load(weights_only=True)`, so a file crafted to run code is refused, not run:
  format, version, step, config (JSON text of the resolved config), class_names, dataset, model (state_dict),
  optimizer (state_dict), best ({metric, mode, value, step}), window (the running train-metric sums), torch_rng.

Every byte is checked on load: torch's zip container keeps no checksum it verifies (measured: 40 of 40 single-byte
flips in a saved checkpoint loaded without error, 7 with silently changed weights), so the zip's comment holds the
sha256 of every byte before it, checked before anything is unpickled (plain `torch.load` still reads the file).
"""
from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import os
import re

import torch

from kubricgen import atomic

FORMAT = "kubricgen-train-checkpoint"
VERSION = 2  # 2: the file's sha256 in the zip comment
LAST, BEST = "last.pt", "best.pt"
# Config keys that do not change a run's arithmetic: a resume may differ in them.
RUN_IRRELEVANT = ("data_dir", "num_workers", "cache_decoded_mb", "log_every_steps", "eval.batch_size", "device")


class CheckpointError(ValueError):
  """A checkpoint that is corrupt, of another format, or of another run; one line naming the file."""


DIGEST_PREFIX = b"kubricgen-sha256:"
_EOCD = b"PK\x05\x06"  # zip's end-of-central-directory record: 22 bytes, the last 2 the comment's length
_TRAILER = 22 + len(DIGEST_PREFIX) + 64


def with_digest(container: bytes) -> bytes:
  """torch.save's zip bytes with the sha256 of everything before the comment as the zip comment (plain torch.load
  and zip tools still read it)."""
  end = container.rfind(_EOCD)
  if end < 0 or len(container) - end != 22:
    raise ValueError("not a zip container without a comment")
  head = container[:end + 20]
  comment = DIGEST_PREFIX + hashlib.sha256(head).hexdigest().encode()
  return head + len(comment).to_bytes(2, "little") + comment


def check_digest(path: str, data: bytes) -> None:
  """Raises CheckpointError naming `path` unless `data` ends with the digest `with_digest` wrote and it matches."""
  end = len(data) - _TRAILER
  comment = data[end + 22:]
  if end < 0 or data[end:end + 4] != _EOCD or not comment.startswith(DIGEST_PREFIX) or \
      int.from_bytes(data[end + 20:end + 22], "little") != len(comment):
    raise CheckpointError(f"checkpoint {path} is damaged or not a kubricgen checkpoint: no sha256 at its end")
  computed = hashlib.sha256(data[:end + 20]).hexdigest()
  stored = comment[len(DIGEST_PREFIX):].decode(errors="replace")
  if computed != stored:
    raise CheckpointError(f"checkpoint {path} is damaged: sha256 of its bytes is {computed[:16]}…, it was saved as "
                          f"{stored[:16]}…")


def save(path: str, state: dict) -> None:
  """Write `state` to `path` atomically (readers see the old file or the whole new one, never a partial one), with
  its format, version and content digest."""
  buffer = io.BytesIO()
  torch.save(dict(state, format=FORMAT, version=VERSION), buffer)
  data = with_digest(buffer.getvalue())
  atomic.write_bytes(path, data, fsync=True)


def link_best(run_dir: str) -> None:
  """Make best.pt the current last.pt (hard link, replaced atomically; a copy where links are not supported)."""
  last, best = os.path.join(run_dir, LAST), os.path.join(run_dir, BEST)
  temporary = os.path.join(run_dir, f".{BEST}.tmp-{os.getpid()}")
  if os.path.exists(temporary):
    os.remove(temporary)
  try:
    os.link(last, temporary)
  except OSError:
    import shutil  # pylint: disable=import-outside-toplevel
    shutil.copyfile(last, temporary)
  os.replace(temporary, best)


def load(path: str) -> dict:
  """A checkpoint's dict, on CPU.

  Raises:
    CheckpointError: missing, truncated or corrupt file; content that does not match its digest (a changed byte);
      a pickle that is not plain data (refused, not run); another format or version.
  """
  if not os.path.isfile(path):
    raise CheckpointError(f"checkpoint not found: {path}")
  with open(path, "rb") as handle:
    data = handle.read()
  check_digest(path, data)
  try:
    state = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
  except Exception as error:  # torch raises UnpicklingError, RuntimeError, EOFError, ... for damaged files
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(error)).strip()  # torch bolds parts of its message for terminals
    reason = text.splitlines()[0][:200] if text else type(error).__name__
    raise CheckpointError(f"checkpoint {path} is corrupt or not plain data ({type(error).__name__}: {reason})") \
        from None
  if not isinstance(state, dict) or state.get("format") != FORMAT:
    raise CheckpointError(f"{path} is not a kubricgen training checkpoint")
  if state.get("version") != VERSION:
    raise CheckpointError(f"{path} has checkpoint version {state.get('version')}, this trainer reads {VERSION}")
  return state


def _flatten(tree: dict, prefix: str = "") -> dict:
  flat = {}
  for key, value in tree.items():
    if isinstance(value, dict):
      flat.update(_flatten(value, f"{prefix}{key}."))
    else:
      flat[f"{prefix}{key}"] = value
  return flat


def config_difference(saved_json: str, current: dict) -> str | None:
  """The first key (dotted) whose value differs between a saved config and the current one, ignoring
  RUN_IRRELEVANT keys; None if they describe the same run."""
  saved, now = _flatten(json.loads(saved_json)), _flatten(json.loads(json.dumps(current)))
  for key in sorted(set(saved) | set(now)):
    if key in RUN_IRRELEVANT:
      continue
    if saved.get(key, "<missing>") != now.get(key, "<missing>"):
      return f"{key}: checkpoint has {saved.get(key, '<missing>')!r}, this run {now.get(key, '<missing>')!r}"
  return None


@dataclasses.dataclass
class TrainedModel:
  """A trained model ready for evaluation: `model` in eval mode on CPU; `config` the run's resolved config (dict);
  `class_names` index -> name of the label it was trained on; `input_size`, `mean`, `std` its preprocessing."""
  model: torch.nn.Module
  config: dict
  class_names: list[str]
  dataset: str
  input_size: int
  mean: tuple
  std: tuple
  step: int
  path: str


def load_trained_model(run_dir_or_file: str, which: str = "best") -> TrainedModel:
  """A model from a run folder (`which`: "best" or "last"; best falls back to last when there was no evaluation)
  or from a checkpoint file.

  Raises:
    CheckpointError: no checkpoint there, or a damaged one; models.factory.ModelError if it cannot be rebuilt.
  """
  from kubricgen_robustness.models import factory  # pylint: disable=import-outside-toplevel
  path = run_dir_or_file
  if os.path.isdir(path):
    path = os.path.join(run_dir_or_file, BEST if which == "best" else LAST)
    if which == "best" and not os.path.isfile(path):
      path = os.path.join(run_dir_or_file, LAST)
  state = load(path)
  config = json.loads(state["config"])
  model_config = config["model"]
  model = factory.create_model(model_config["name"], len(state["class_names"]), config["input_size"],
                               **model_config["kwargs"])
  try:
    model.load_state_dict(state["model"])
  except RuntimeError as error:
    raise CheckpointError(f"{path}: weights do not fit {model_config['name']} "
                          f"({str(error).splitlines()[0][:200]})") from None
  model.eval()
  preprocessing = state.get("preprocessing", {})
  data = factory.data_config(model)
  return TrainedModel(model=model, config=config, class_names=list(state["class_names"]), dataset=state["dataset"],
                      input_size=config["input_size"], mean=tuple(preprocessing.get("mean", data["mean"])),
                      std=tuple(preprocessing.get("std", data["std"])), step=int(state["step"]), path=path)
