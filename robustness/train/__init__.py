"""The trainer: configs, optimizer and schedule, mixup, checkpoints, metrics, the training loop."""
