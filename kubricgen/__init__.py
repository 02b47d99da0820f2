"""kubricgen: Kubric-style synthetic scenes, simulated with PyBullet and rendered with Blender.

`import kubricgen as kb` gives the scene API and the worker helpers without importing Blender or PyBullet; the
engines live at Kubric's paths: `kubricgen.simulator.pybullet.PyBullet` and `kubricgen.renderer.blender.Blender`.
`kb.AssetSource.from_manifest(path_or_gs_url)` reads Kubric's asset manifests (KuBasic, GSO, ShapeNet) and ours; it is
imported on first use, so `import kubricgen` stays light.
"""
from kubricgen.output import annotations as post_processing  # Kubric's module name: kb.post_processing.compute_bboxes
from kubricgen.output.annotations import adjust_segmentation_idxs, compute_bboxes, compute_visibility
from kubricgen.output.images import read_image_dict, write_image_dict
from kubricgen.output.kubric_io import (read_png, read_tiff, write_palette_png, write_pkl, write_png, write_scaled_png,
                                        write_tiff)
from kubricgen.output.metadata import (get_camera_info, get_instance_info, get_scene_metadata, process_collisions,
                                      read_json, write_json)
from kubricgen.scene import *  # noqa: F401,F403  (the scene API: Scene, Cube, PerspectiveCamera, ...)
from kubricgen.scene import transforms
from kubricgen.scene import randomness  # Kubric's kb.randomness (sample_color, sample_sizes, ...)
from kubricgen.scene.randomness import (CLEVR_COLORS, CLEVR_SIZES, move_until_no_overlap, random_hue_color,
                                        random_rotation, sample_point_in_half_sphere_shell, sample_point_in_region)
from kubricgen import worker
from kubricgen.worker import flags as _flags  # noqa: F401  (kb.worker.flags)
from kubricgen.worker.flags import ArgumentParser
from kubricgen.worker.session import done, log_my_flags, setup, setup_directories

__version__ = "0.1.0"


def __getattr__(name):
  """`kb.AssetSource` and `kb.assets` (Kubric's `kb.assets.utils.get_clevr_lights`), imported on first use (the
  asset library pulls in jsonschema)."""
  if name == "AssetSource":
    from kubricgen.assets.sources import AssetSource  # pylint: disable=import-outside-toplevel
    return AssetSource
  if name == "assets":
    import kubricgen.assets  # pylint: disable=import-outside-toplevel,redefined-outer-name
    return kubricgen.assets
  raise AttributeError(f"module 'kubricgen' has no attribute {name!r}")


def as_path(path):
  """Kubric's `kb.as_path`: a pathlib.Path for a local path, a pathlib-like `kubricgen.storage.GsPath` for a
  gs:// URL (kubricgen's one gs:// client: emulator-aware, retried, streamed). StorageError for a gs:// URL without
  a bucket."""
  from kubricgen import storage  # pylint: disable=import-outside-toplevel
  return storage.as_path(path)
