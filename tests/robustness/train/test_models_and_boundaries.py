"""Models from local weights (nothing downloaded), and the stage boundary: training never loads Blender,
PyBullet or Beam."""
import subprocess
import sys

import pytest


def test_local_weights_file_loads_backbone_and_remakes_the_head(tmp_path):
  import safetensors.torch
  import timm
  import torch
  from kubricgen_robustness.models import factory
  torch.manual_seed(1)
  source = timm.create_model("resnet18", num_classes=1000)
  path = tmp_path / "resnet18.safetensors"
  safetensors.torch.save_file(source.state_dict(), str(path))
  model = factory.create_model("resnet18", 4, 32, pretrained_file=str(path))
  assert torch.equal(model.conv1.weight, source.conv1.weight)
  assert torch.equal(model.layer4[1].bn2.running_var, source.layer4[1].bn2.running_var)
  assert model.get_classifier().weight.shape == (4, 512)
  zero = factory.create_model("resnet18", 4, 32, pretrained_file=str(path), head_zero_init=True)
  assert not zero.get_classifier().weight.any() and not zero.get_classifier().bias.any()


def test_vit_patch_size_input_size_and_pooling_are_honoured():
  import torch
  from kubricgen_robustness.models import factory
  model = factory.create_model("vit_tiny_patch16_224", 23, 48, patch_size=8, global_pool="avg", class_token=False)
  assert model.patch_embed.grid_size == (6, 6) and model.cls_token is None and model.global_pool == "avg"
  assert model(torch.zeros(2, 3, 48, 48)).shape == (2, 23)
  bit = factory.create_model("resnetv2_50x1_bit", 23, 64)
  assert bit(torch.zeros(1, 3, 64, 64)).shape == (1, 23)


def test_weights_that_do_not_fit_are_one_line(tmp_path):
  import safetensors.torch
  import timm
  from kubricgen_robustness.models import factory
  path = tmp_path / "resnet50.safetensors"
  safetensors.torch.save_file(timm.create_model("resnet50", num_classes=10).state_dict(), str(path))
  with pytest.raises(factory.ModelError, match="cannot build 'resnet18' from"):
    factory.create_model("resnet18", 4, 32, pretrained_file=str(path))


def test_training_and_analysis_never_import_blender_pybullet_or_beam():
  code = ("import sys, kubricgen_robustness.train.trainer, kubricgen_robustness.analyze.study, "
          "kubricgen.cli.train_command, kubricgen.cli.analyze_command\n"
          "print(sorted(m for m in ('bpy', 'pybullet', 'apache_beam', 'kubricgen_sharding') if m in sys.modules))")
  result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True)
  assert result.stdout.strip().splitlines()[-1] == "[]"
