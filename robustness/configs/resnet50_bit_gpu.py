"""ResNet-50 at 224 px on one GPU with BiT's upstream recipe (1912.11370; big_vision `configs/bit_i1k.py`), on
si_score/train. Use `--config.model.name=resnetv2_50x1_bit` for BiT's own ResNetV2 (GroupNorm + weight
standardisation) instead of timm's BatchNorm ResNet-50.

  kubricgen render scenes/si_score.py --train_examples 100000
  kubricgen train --config resnet50_bit_gpu                         # -> output/train/resnet50_bit_gpu

Recipe: SGD momentum 0.9, lr 0.1 x batch/256 = 0.4 at batch 1024, weight decay 1e-4 (torch SGD's L2; BiT's
decoupled 1e-4 x batch/256 is not multiplied by the lr, the L2 form is what torchvision's reference uses) on >= 2-D
weights only; linear warm-up (5 epochs) then cosine to 0; inception crop (5-100%) + flip; no RandAugment or mixup;
bf16 autocast, channels-last, torch.compile.

Not yet measured: no GPU machine was lent to the session that wrote it (run time and accuracy to be filled in from
the first GPU run). The test suite builds this config and runs two steps of it at 32 px on CPU.
"""
from kubricgen_robustness.train.config import defaults


def get_config():
  c = defaults()
  c.model.name = "resnet50"
  c.model.kwargs = dict()
  c.input_size = 224
  c.batch_size = 1024
  c.total_epochs = 90.0
  c.num_workers = 12
  c.optimizer.name = "sgd"
  c.optimizer.lr = 0.1 * 1024 / 256
  c.optimizer.momentum = 0.9
  c.optimizer.weight_decay = 1e-4
  c.schedule.warmup_epochs = 5.0
  c.grad_clip_norm = 0.0
  c.augment.inception_crop = True
  c.augment.crop_min_area = 0.05
  c.augment.randaugment = ""
  c.precision = "bf16"
  c.channels_last = True
  c.compile = True
  c.eval.dataset = "si_score/rotation"
  c.eval.batch_size = 1024
  c.checkpoint_every_steps = 500
  c.log_every_steps = 50
  return c
