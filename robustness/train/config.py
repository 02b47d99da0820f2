"""Training configs: `ml_collections.ConfigDict`s from Python files with `get_config()` (big_vision's convention).

`load_config("vit_ti8_cpu")` finds `robustness/configs/vit_ti8_cpu.py`; any path to such a file works too. Overrides
use big_vision/absl's flag form, `--config.optimizer.lr=3e-4` or `--config.optimizer.lr 3e-4`; the config is locked
first, so an unknown key is an error naming it, and a value must fit the key's type. `defaults()` lists every key
the trainer reads with its meaning; a config file starts from it.
"""
from __future__ import annotations

import ast
import importlib.util
import os

import ml_collections

CONFIG_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "configs")


class ConfigError(ValueError):
  """A config that cannot be loaded or an override that does not apply; one line naming the key or file."""


def defaults() -> ml_collections.ConfigDict:
  """Every key the trainer reads. Units: steps count optimizer updates; lr is the peak after warm-up."""
  c = ml_collections.ConfigDict()
  c.seed = 0                        # model init, data order, augmentation, mixup: all derive from it
  c.data_dir = ""                   # TFDS data_dir ("": $TFDS_DATA_DIR or ~/tensorflow_datasets)
  c.dataset = "si_score/train"      # TFDS name/config of the training data
  c.train_split = "train"
  c.label_key = "label"             # a ClassLabel feature
  c.input_size = 64                 # square model input, pixels
  c.batch_size = 64
  c.total_steps = 0                 # 0: use total_epochs
  c.total_epochs = 10.0
  c.num_workers = 2                 # DataLoader decoding processes (0: decode in the training process)
  # Decode each training/eval image once and keep the pixels in memory (uint8) when the split fits in this many MiB
  # (0: decode every step). tf.data's cache() after decoding; runs are bit-identical either way.
  c.cache_decoded_mb = 2048
  c.threads = 0                     # torch intra-op threads (0: torch's default)
  c.device = "auto"                 # auto | cpu | cuda

  c.model = ml_collections.ConfigDict()
  c.model.name = "vit_tiny_patch16_224"   # any timm.create_model name
  c.model.kwargs = ml_collections.ConfigDict(dict(patch_size=8, global_pool="avg", class_token=False))
  c.model.pretrained_file = ""      # local weights file or folder ("": from scratch)
  c.model.head_reset = True         # with weights: new classifier for this dataset's classes
  c.model.head_zero_init = False    # big_vision head_zeroinit

  c.optimizer = ml_collections.ConfigDict()
  c.optimizer.name = "adamw"        # adamw | sgd
  c.optimizer.lr = 1e-3             # peak learning rate
  c.optimizer.b1 = 0.9              # adamw betas
  c.optimizer.b2 = 0.999
  c.optimizer.momentum = 0.9        # sgd
  c.optimizer.nesterov = False
  # Decoupled weight decay as torch applies it: p -= lr * weight_decay * p, on >= 2-D weights only (kernels,
  # embeddings; not biases or norm scales). big_vision's decay is NOT multiplied by the lr: its wd W_jax equals
  # torch's weight_decay = W_jax / lr (e.g. 1e-4 at lr 1e-3 -> 0.1; timm issue #270).
  c.optimizer.weight_decay = 0.1
  c.schedule = ml_collections.ConfigDict()
  c.schedule.warmup_steps = 0       # linear warm-up from 0 (or warmup_epochs if > 0)
  c.schedule.warmup_epochs = 0.0
  c.schedule.decay = "cosine"       # cosine (to 0) | linear (to 0) | constant
  c.grad_clip_norm = 1.0            # global-norm clipping (0: off)
  c.label_smoothing = 0.0
  c.mixup_p = 0.0                   # big_vision mixup: a ~ Beta(p, p), a = max(a, 1 - a), mix with the batch neighbour
  c.loss = "softmax_xent"           # softmax_xent | sigmoid_xent (AugReg)

  c.augment = ml_collections.ConfigDict()
  c.augment.inception_crop = True
  c.augment.crop_min_area = 0.05
  c.augment.flip = True
  c.augment.randaugment = ""        # timm spec, e.g. "rand-m10-n2" = RandAugment(2, 10) ("": off)
  c.eval_preprocessing = "resize"   # resize | resize_crop (see data/transforms.py)

  c.precision = "fp32"              # fp32 | bf16 (autocast; on GPU)
  c.channels_last = False
  c.compile = False                 # torch.compile the model

  c.eval = ml_collections.ConfigDict()
  c.eval.dataset = "si_score/rotation"   # held-out object instances ("" : no evaluation)
  c.eval.split = "test"
  c.eval.every_steps = 0            # 0: every `every_epochs` epochs
  c.eval.every_epochs = 1.0
  c.eval.max_examples = 0           # 0: the whole split; else an evenly spaced subset of that many
  c.eval.batch_size = 256
  c.log_every_steps = 10
  c.checkpoint_every_steps = 50     # "last" is also written at every evaluation and at the end
  c.best_metric = "eval/accuracy"   # a key of the eval line; "best" keeps the checkpoint that maximises it
  c.best_mode = "max"
  return c


def _module_path(name_or_path: str) -> str:
  if os.path.isfile(name_or_path):
    return name_or_path
  candidate = os.path.join(CONFIG_DIR, name_or_path if name_or_path.endswith(".py") else name_or_path + ".py")
  if os.path.isfile(candidate):
    return candidate
  known = sorted(f[:-3] for f in os.listdir(CONFIG_DIR) if f.endswith(".py") and not f.startswith("_"))
  raise ConfigError(f"config not found: {name_or_path!r} (a path to a .py file, or one of: {', '.join(known)})")


def load_config(name_or_path: str, overrides: list[str] = ()) -> ml_collections.ConfigDict:
  """The locked config of a config file with `overrides` ("key.sub=value" strings) applied.

  Raises:
    ConfigError: missing file, a file that does not run, no get_config() or one that fails, unknown key, or a
      value of the wrong type.
  """
  path = _module_path(name_or_path)
  spec = importlib.util.spec_from_file_location(f"kubricgen_config_{os.path.basename(path)[:-3]}", path)
  module = importlib.util.module_from_spec(spec)
  try:
    spec.loader.exec_module(module)
  except SyntaxError as error:
    raise ConfigError(f"{path}:{error.lineno}: syntax error: {error.msg}") from None
  except Exception as error:  # pylint: disable=broad-except  # the config file's own code failed
    raise ConfigError(f"{path} failed to load: {type(error).__name__}: {error}") from None
  if not hasattr(module, "get_config"):
    raise ConfigError(f"{path} has no get_config()")
  try:
    config = module.get_config()
  except Exception as error:  # pylint: disable=broad-except
    raise ConfigError(f"{path}: get_config() failed: {type(error).__name__}: {error}") from None
  if not isinstance(config, ml_collections.ConfigDict):
    raise ConfigError(f"{path}: get_config() returned {type(config).__name__}, not an ml_collections.ConfigDict")
  config.lock()
  for item in overrides:
    apply_override(config, item)
  return config


def parse_value(text: str):
  """Python literal if it parses (3e-4, True, None, (1, 2)), else the text itself."""
  try:
    return ast.literal_eval(text)
  except (ValueError, SyntaxError):
    return text


def apply_override(config: ml_collections.ConfigDict, item: str) -> None:
  key, sep, text = item.partition("=")
  if not sep:
    raise ConfigError(f"override {item!r} is not KEY=VALUE")
  *parents, leaf = key.split(".")
  node = config
  for depth, part in enumerate(parents):
    if part not in node or not isinstance(node[part], ml_collections.ConfigDict):
      raise ConfigError(f"unknown config key {'.'.join(parents[:depth + 1])!r}")
    node = node[part]
  if leaf not in node:
    raise ConfigError(f"unknown config key {key!r}")
  value = parse_value(text)
  current = node[leaf]
  if isinstance(current, str) and not isinstance(value, str):
    value = text  # "--config.dataset=123" stays a string for a string key
  if isinstance(current, float) and isinstance(value, int) and not isinstance(value, bool):
    value = float(value)
  if isinstance(current, ml_collections.ConfigDict):
    raise ConfigError(f"config key {key!r} is a group; set its members, e.g. {key}.NAME=VALUE")
  try:
    node[leaf] = value
  except (TypeError, ValueError, KeyError, AttributeError) as error:
    raise ConfigError(f"config key {key!r}: cannot set {text!r} ({error})") from None


def check(config: ml_collections.ConfigDict) -> None:
  """Values the trainer cannot run with -> ConfigError naming the key."""
  rules = [
      ("batch_size", config.batch_size > 0, "must be > 0"),
      ("input_size", config.input_size > 0, "must be > 0"),
      ("total_steps", config.total_steps > 0 or config.total_epochs > 0, "total_steps or total_epochs must be > 0"),
      ("optimizer.name", config.optimizer.name in ("adamw", "sgd"), "must be adamw or sgd"),
      ("optimizer.lr", config.optimizer.lr > 0, "must be > 0"),
      ("schedule.decay", config.schedule.decay in ("cosine", "linear", "constant"), "must be cosine|linear|constant"),
      ("precision", config.precision in ("fp32", "bf16"), "must be fp32 or bf16"),
      ("loss", config.loss in ("softmax_xent", "sigmoid_xent"), "must be softmax_xent or sigmoid_xent"),
      ("mixup_p", config.mixup_p >= 0, "must be >= 0"),
      ("best_mode", config.best_mode in ("max", "min"), "must be max or min"),
      ("device", config.device in ("auto", "cpu", "cuda"), "must be auto, cpu or cuda"),
      ("eval_preprocessing", config.eval_preprocessing in ("resize", "resize_crop"), "must be resize|resize_crop"),
  ]
  for key, ok, why in rules:
    if not ok:
      raise ConfigError(f"config key {key!r} {why}")
