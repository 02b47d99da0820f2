"""Render the bundled default backgrounds (assets/backgrounds/*.jpg) and write their manifest.

    .venv/bin/python assets/tools/make_backgrounds.py            # ~3 minutes on 2 cores

Each kind of `kubricgen.assets.blender_backgrounds` is rendered once (seed 0) at 512x512 with Blender's physical sky
and procedural textures, saved as JPEG (quality 90), and listed with its sha256 in assets/backgrounds/manifest.json.
"""
from __future__ import annotations

import json
import os
import sys
import tempfile

from PIL import Image

from kubricgen.assets import blender_backgrounds
from kubricgen.assets.integrity import sha256_file
from kubricgen.assets.manifest import SCHEMA, VERSION, parse_manifest

FOLDER = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "backgrounds")
SIZE, SAMPLES, SEED = 512, 32, 0


def main() -> int:
  specs = [(kind, SEED) for kind in blender_backgrounds.KINDS]
  with tempfile.TemporaryDirectory() as scratch:
    for (kind, seed), png in zip(specs, blender_backgrounds.render(specs, scratch, SIZE, SAMPLES)):
      Image.open(png).convert("RGB").save(os.path.join(FOLDER, f"{kind}.jpg"), quality=90)
  assets = []
  for kind, seed in specs:
    name = f"{kind}.jpg"
    path = os.path.join(FOLDER, name)
    assets.append({"id": kind, "kind": "image", "class_name": "background", "imagenet_index": None,
                   "license": "CC0 (rendered by kubricgen with Blender procedural textures)",
                   "files": [{"path": name, "sha256": sha256_file(path), "size": os.path.getsize(path)}],
                   "render_file": name, "units": "m", "scale": 1.0,
                   "metadata": {"generator": f"blender_backgrounds.{kind}", "seed": seed, "size": SIZE,
                                "samples": SAMPLES}})
  manifest = {"schema": SCHEMA, "version": VERSION, "name": "backgrounds",
              "description": "Bundled default backgrounds: Blender sky and procedural textures, 512x512 JPEG.",
              "assets": assets}
  parse_manifest(manifest, "backgrounds")
  with open(os.path.join(FOLDER, "manifest.json"), "w", encoding="utf-8") as handle:
    handle.write(json.dumps(manifest, indent=1) + "\n")
  print(f"wrote {len(assets)} backgrounds to {FOLDER}")
  return 0


if __name__ == "__main__":
  sys.exit(main())
