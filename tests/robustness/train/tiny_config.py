"""A trainer config for the tests: ViT with patch 8 at 32 px on the tests' tiny_shapes dataset (seconds on CPU)."""
from kubricgen_robustness.train.config import defaults


def get_config():
  c = defaults()
  c.dataset = "tiny_shapes"
  c.eval.dataset = "tiny_shapes"
  c.model.name = "vit_tiny_patch16_224"
  c.model.kwargs = dict(patch_size=8, global_pool="avg", class_token=False, depth=4)
  c.input_size = 32
  c.batch_size = 32
  c.total_steps = 24
  c.num_workers = 2
  c.threads = 2
  c.optimizer.lr = 1e-3
  c.schedule.warmup_steps = 4
  c.augment.crop_min_area = 0.5
  c.augment.randaugment = "rand-m10-n2"
  c.mixup_p = 0.2
  c.log_every_steps = 2
  c.eval.every_steps = 8
  c.checkpoint_every_steps = 3
  return c
