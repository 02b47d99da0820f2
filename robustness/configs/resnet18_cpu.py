"""ResNet-18 at 64 px from scratch on si_score/train, sized for 2 CPU cores (BiT-style SGD recipe, shrunk).

  kubricgen train --config resnet18_cpu                      # -> output/train/resnet18_cpu

Model: timm resnet18 (BatchNorm). Recipe (BiT, 1912.11370): SGD momentum 0.9, lr 0.1 x batch/256, weight decay
1e-4 (torch SGD's L2, equal to decoupled decay of lr x wd for plain momentum SGD) on >= 2-D weights only; linear
warm-up then cosine to 0; inception crop + flip; no RandAugment, no mixup. Evaluated on the held-out object instances
of si_score/rotation.

Measured on this 2-core x86-64 machine (no GPU), default si_score build (2,000 training images of 55 training
instances; evaluation: si_score/rotation, 1,810 images of the 23 held-out instances, chance 1/23 = 4.3%):
930 steps (30 epochs) in 6 min 50 s as stage 3 of `kubricgen study` on an otherwise near-idle machine (9 min 06 s
before the split was decoded once into memory; the weights are bit-identical either way); held-out top-1
37.4% (best 37.5% at epoch 25), top-5 69.1%; training accuracy ~90%, so it overfits the few training instances
(held-out accuracy is already 34.6% at epoch 5).
"""
from kubricgen_robustness.train.config import defaults


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
