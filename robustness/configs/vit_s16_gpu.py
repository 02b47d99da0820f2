"""ViT-S/16 at 224 px on one GPU: the plain-ViT recipe of "Better plain ViT baselines for ImageNet-1k" (2205.01580,
big_vision `configs/vit_s16_i1k.py`), on si_score/train.

  kubricgen render scenes/si_score.py --train_examples 100000      # enough data for a 224 px ViT
  kubricgen train --config vit_s16_gpu                              # -> output/train/vit_s16_gpu

Recipe: vit_small_patch16_224, global average pooling, no class token; batch 1024; AdamW b1 .9 b2 .999, lr 1e-3,
weight decay 1e-4 in JAX terms = 0.1 in torch's AdamW (wd / lr) on >= 2-D weights only; 10k-step linear warm-up
(here 10% of the run, as the data set is smaller than ImageNet), cosine to 0; global-norm clip 1.0; inception crop
(5-100%) + flip + RandAugment(2, 10); mixup p = 0.2 (big_vision form); bf16 autocast, channels-last, torch.compile.
Eval: resize to 224 (no crop) on si_score/rotation.

Not yet measured: no GPU machine was lent to the session that wrote it (run time and accuracy to be filled in from
the first GPU run). The test suite builds this config and runs two steps of it at 32 px on CPU.
"""
from kubricgen_robustness.train.config import defaults


def get_config():
  c = defaults()
  c.model.name = "vit_small_patch16_224"
  c.model.kwargs = dict(global_pool="avg", class_token=False)
  c.input_size = 224
  c.batch_size = 1024
  c.total_epochs = 90.0
  c.num_workers = 12
  c.optimizer.name = "adamw"
  c.optimizer.lr = 1e-3
  c.optimizer.weight_decay = 0.1
  c.schedule.warmup_epochs = 9.0
  c.grad_clip_norm = 1.0
  c.mixup_p = 0.2
  c.augment.inception_crop = True
  c.augment.crop_min_area = 0.05
  c.augment.randaugment = "rand-m10-n2"
  c.precision = "bf16"
  c.channels_last = True
  c.compile = True
  c.eval.dataset = "si_score/rotation"
  c.eval.batch_size = 1024
  c.checkpoint_every_steps = 500
  c.log_every_steps = 50
  return c
