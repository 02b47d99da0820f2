"""ViT-Ti/8 at 64 px from scratch on si_score/train, sized for 2 CPU cores (plain-ViT recipe of 2205.01580, shrunk).

  kubricgen train --config vit_ti8_cpu                       # -> output/train/vit_ti8_cpu

Model: timm vit_tiny_patch16_224 built with patch 8 at 64 px (8x8 = 64 tokens), global average pooling, no class
token. Recipe (big_vision's plain ViT): AdamW b1 .9 b2 .999, lr 1e-3, weight decay 1e-4 in JAX terms = 0.1 in
torch's AdamW (wd / lr), on >= 2-D weights only; linear warm-up then cosine to 0; global-norm clip 1.0; inception
crop + flip + RandAugment(2, 10); no mixup at this model size (AugReg uses none for Ti). Evaluated on the held-out
object instances of si_score/rotation.

Measured on this 2-core x86-64 machine (no GPU), default si_score build (2,000 training images of 55 training
instances; evaluation: si_score/rotation, 1,810 images of the 23 held-out instances, chance 1/23 = 4.3%), as stage 2
of `kubricgen study` on an otherwise near-idle machine: 930 steps (30 epochs) in 19 min 16 s (~54 img/s); held-out top-1
9.3% at epoch 5, 22.4% at 10, 29.3% at 15, best 32.7% (top-5 63.8%) at epoch 20 (kept as best.pt), 30.5% (top-5
61.7%) at the end: after epoch 20 the eval loss rises while training accuracy keeps climbing (~52%), so it
overfits the 55 training instances.
"""
from kubricgen_robustness.train.config import defaults


def get_config():
  c = defaults()
  c.model.name = "vit_tiny_patch16_224"
  c.model.kwargs = dict(patch_size=8, global_pool="avg", class_token=False)
  c.input_size = 64
  c.batch_size = 64
  c.total_epochs = 30.0
  c.optimizer.name = "adamw"
  c.optimizer.lr = 1e-3
  c.optimizer.weight_decay = 0.1
  c.schedule.warmup_epochs = 2.0
  c.augment.inception_crop = True
  c.augment.crop_min_area = 0.3
  c.augment.randaugment = "rand-m10-n2"
  c.eval.dataset = "si_score/rotation"
  c.eval.every_epochs = 5.0
  c.eval.every_steps = 0
  return c
