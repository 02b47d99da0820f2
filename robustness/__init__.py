"""kubricgen's trainer and robustness analyzer (import name `kubricgen_robustness`; folder `robustness/`).

The last two stages of the data's path: `train/` fits a timm ViT or CNN on a TFDS image-classification dataset,
`analyze/` evaluates models per factor value with intervals and writes a report. Both only read datasets (`data/`);
neither imports Blender, PyBullet or Beam. Installed with `pip install -e '.[train]'`; run as `kubricgen train` and
`kubricgen analyze`.
"""

import sys as _sys

# TensorFlow (which TFDS loads) and triton (which torch._dynamo, and so torchvision and timm, import when installed)
# ship clashing LLVM symbols: importing triton after TensorFlow segfaults (measured: `import tensorflow; import
# triton` exits 139; the other order works). So triton is loaded first; where TensorFlow is already loaded, triton is
# kept out (torch then runs without it: CPU and eager GPU are unaffected; torch.compile on GPU needs a process that
# imports kubricgen_robustness before TensorFlow).
if "tensorflow" in _sys.modules and "triton" not in _sys.modules:
  _sys.modules["triton"] = None
else:
  import importlib as _importlib
  try:  # triton comes with torch's Linux wheels; it is optional here
    _importlib.import_module("triton")
  except ImportError:
    pass
