"""Regenerate the bundled manifests in assets/manifests/ from the definitions below.

    .venv/bin/python assets/tools/make_manifests.py          # write the manifests
    .venv/bin/python assets/tools/make_manifests.py --check  # exit 1 if a written manifest is out of date

Checksums of pybullet_data files are read from the installed package (pybullet==3.2.7, pinned in pyproject.toml);
the manifests are committed so that a changed package is refused at run time instead of silently used.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from class_definitions import CLASS_ASSETS  # noqa: E402  pylint: disable=wrong-import-position

from kubricgen.assets import locations  # noqa: E402
from kubricgen.assets.integrity import sha256_file  # noqa: E402
from kubricgen.assets.manifest import SCHEMA, VERSION, parse_manifest  # noqa: E402

PYBULLET_LICENSE = "zlib (bullet3 / pybullet_data)"
MANIFESTS = os.path.join(os.path.dirname(HERE), "manifests")


def file_entry(package_root: str, path: str) -> dict:
  full = os.path.join(package_root, path)
  return {"path": path, "sha256": sha256_file(full), "size": os.path.getsize(full)}


def file_half_extent(root: str, definition: dict) -> float:
  """Largest half-extent of a mesh (or URDF's visuals) in file units, after turning its up axis to +Z."""
  import numpy as np  # pylint: disable=import-outside-toplevel
  from kubricgen.assets import meshes  # pylint: disable=import-outside-toplevel
  mesh = meshes.load_mesh(os.path.join(root, definition["render_file"]))
  vertices = np.asarray(mesh.vertices) @ meshes.orientation(definition.get("up_axis", "+z"),
                                                             definition.get("front_axis")).T
  return float(meshes.normalise(vertices)[2])


def pybullet_mesh(root, asset_id, class_name, render, files, imagenet_index=None, collision=None, texture=None,
                  up_axis="+z", scale=1.0, material=None, metadata=None, license=PYBULLET_LICENSE):
  entry = {"id": asset_id, "kind": "mesh", "class_name": class_name, "imagenet_index": imagenet_index,
           "license": license, "files": [file_entry(root, f) for f in files], "render_file": render,
           "units": "m", "scale": scale, "up_axis": up_axis}
  if collision:
    entry["collision_file"] = collision
  if texture:
    entry["texture_file"] = texture
  if material:
    entry["material"] = material
  entry["metadata"] = {"origin": "pybullet_data 3.2.7", **(metadata or {})}
  return entry


def pybullet_assets(root: str) -> list[dict]:
  return [
      pybullet_mesh(root, "duck", "duck", "duck.obj", ["duck.obj", "duck.mtl", "duckCM.png", "duck_vhacd.obj"],
                    collision="duck_vhacd.obj", texture="duckCM.png", up_axis="+y", scale=0.05,
                    license="SCEA Shared Source License (COLLADA sample duck), via pybullet_data"),
      pybullet_mesh(root, "teddy", "teddy bear", "teddy2_VHACD_CHs.obj", ["teddy2_VHACD_CHs.obj"], imagenet_index=850,
                    collision="teddy2_VHACD_CHs.obj", up_axis="+y", scale=0.1, material={"color": [0.55, 0.36, 0.2]}),
      pybullet_mesh(root, "mug", "coffee mug", "objects/mug.obj", ["objects/mug.obj", "objects/mug_col.obj"],
                    imagenet_index=504, material={"color": [0.85, 0.85, 0.82], "roughness": 0.25}),
      pybullet_mesh(root, "bunny", "rabbit", "bunny.obj", ["bunny.obj"], imagenet_index=330, up_axis="+y", scale=0.1,
                    material={"color": [0.75, 0.7, 0.62]}, metadata={"note": "the Stanford bunny"}),
      pybullet_mesh(root, "soccerball", "soccer ball", "soccerball.obj",
                    ["soccerball.obj", "soccerball.mtl", "colors16.png"], imagenet_index=805, texture="colors16.png",
                    scale=0.22, material={"roughness": 0.45}),
      pybullet_mesh(root, "lego", "lego brick", "lego/lego.obj", ["lego/lego.obj", "lego/lego_vhacd.obj"],
                    collision="lego/lego_vhacd.obj", scale=0.1, material={"color": [0.8, 0.1, 0.1], "roughness": 0.3}),
      pybullet_mesh(root, "jenga", "jenga block", "jenga/jenga.obj", ["jenga/jenga.obj", "jenga/jenga.mtl",
                                                                     "jenga/jenga.png"],
                    texture="jenga/jenga.png", scale=0.05),
      pybullet_mesh(root, "domino", "domino", "domino/domino.obj", ["domino/domino.obj", "domino/domino.mtl",
                                                                   "domino/domino.jpg"],
                    texture="domino/domino.jpg", license="zlib (pybullet_data; see domino/license.txt)"),
      pybullet_mesh(root, "table", "dining table", "table/table.urdf", ["table/table.urdf", "table/table.obj",
                                                                       "table/table.mtl", "table/table.png"],
                    imagenet_index=532),
      pybullet_mesh(root, "tray", "tray", "tray/traybox.urdf", ["tray/traybox.urdf", "tray/tray_textured.obj",
                                                                "tray/tray_textured.mtl", "tray/tray.jpg"],
                    imagenet_index=868, material={"metallic": 0.6, "roughness": 0.35}),
      pybullet_mesh(root, "sphere_smooth", "sphere", "sphere_smooth.obj", ["sphere_smooth.obj"], scale=0.1),
  ]


KUBASIC = [
    ("cube", "primitive", "cube", {}), ("cylinder", "primitive", "cylinder", {}),
    ("sphere", "primitive", "sphere", {}), ("cone", "primitive", "cone", {}),
    ("torus", "primitive", "torus", {"minor_radius": 0.3}),
    ("gear", "procedural", "gear", {}), ("torus_knot", "procedural", "torus_knot", {}),
    ("sponge", "procedural", "sponge", {}), ("suzanne", "procedural", "suzanne", {}),
    ("teapot", "procedural", "teapot", {}),
]


def kubasic() -> dict:
  assets = [{"id": i, "kind": kind, "class_name": i.replace("_", " "), "imagenet_index": 849 if i == "teapot" else None,
             "license": "CC0 (generated by kubricgen)" if i != "suzanne" else "generated by Blender's "
             "create_monkey (bpy); Blender output is the user's", "generator": gen, "params": params, "units": "m",
             "scale": 0.1, "metadata": {"set": "KuBasic"}} for i, kind, gen, params in KUBASIC]
  return {"schema": SCHEMA, "version": VERSION, "name": "kubasic",
          "description": "Kubric's KuBasic shapes: primitives and procedural meshes (no files, no download).",
          "assets": assets}


def classes(root: str) -> dict:
  assets = []
  for definition in CLASS_ASSETS:
    definition = dict(definition)
    if definition["kind"] == "mesh":
      files = definition.pop("files")
      definition["files"] = [file_entry(root, f) for f in files]
      definition["scale"] = round(definition.pop("size_m") / file_half_extent(root, definition), 6)
    assets.append(definition)
  return {"schema": SCHEMA, "version": VERSION, "name": "classes",
          "description": "Bundled class library for classification datasets: ImageNet-1k classes, several visually "
                         "distinct instances each (procedural shapes and pybullet_data meshes; nothing to download).",
          "root": "package:pybullet_data", "splits": {"seed": 0, "test_fraction": 0.25}, "assets": assets}


def manifests() -> dict[str, dict]:
  root = str(locations.package_dir("pybullet_data"))
  pybullet = {"schema": SCHEMA, "version": VERSION, "name": "pybullet_data",
              "description": "Meshes shipped inside the pybullet_data package, used in place after checksum checks.",
              "root": "package:pybullet_data", "assets": pybullet_assets(root)}
  return {"kubasic": kubasic(), "pybullet_data": pybullet, "classes": classes(root)}


def main(argv=None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--check", action="store_true", help="only compare with the written manifests")
  args = parser.parse_args(argv)
  stale = []
  for name, data in manifests().items():
    parse_manifest(data, name)  # refuse to write an invalid manifest
    text = json.dumps(data, indent=1) + "\n"
    path = os.path.join(MANIFESTS, f"{name}.json")
    current = open(path, encoding="utf-8").read() if os.path.exists(path) else None
    if current != text:
      stale.append(name)
      if not args.check:
        with open(path + ".tmp", "w", encoding="utf-8") as handle:
          handle.write(text)
        os.replace(path + ".tmp", path)
  if args.check and stale:
    print(f"out of date: {', '.join(stale)} (run {os.path.relpath(__file__)})")
    return 1
  print(("wrote " if stale and not args.check else "up to date: ") + ", ".join(stale or manifests()))
  return 0


if __name__ == "__main__":
  sys.exit(main())
