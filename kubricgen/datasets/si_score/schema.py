"""The one definition of an SI-Score example: TFDS features, and how a rendered example is encoded into them.

Images are stored as JPEG (quality 95, as the original release, encoded with Pillow) and masks as 8-bit greyscale
PNG (written directly, see `encode_png`); both are handed to TFDS as bytes, which skips TFDS's much slower TensorFlow
encoder.
"""
from __future__ import annotations

import functools
import hashlib
import io
import struct
import zlib
from typing import Callable

import numpy as np
from PIL import Image

JPEG_QUALITY = 95
FACTOR_FIELDS = ("x", "y", "area", "rotation", "pct_inside_image", "visibility_threshold")


# Features only the 3D-factor configs carry, beside the common ones (SI-Score's configs and viewpoint have none, so
# their examples keep their bytes): (kind, doc) per field; kind "float" float32, "int" int64, "text", "class" (a
# ClassLabel over the library's classes), "png" (an (H, W, 1) uint8 PNG image).
EXTRA_FIELDS = {
    "lighting": {
        "light_azimuth": ("float", "Key light azimuth, degrees about the world's up axis relative to the camera: "
                                   "0 = from the camera's side, +90 = from the image's right, 180 = from behind."),
        "light_elevation": ("float", "Key light elevation above the horizontal plane, degrees."),
        "light_irradiance": ("float", "Key light (a sun) irradiance on a surface facing it, W/m^2."),
        "ambient_radiance": ("float", "Uniform sky radiance around the object, W/m^2/sr (grey)."),
    },
    "occlusion": {
        "occlusion": ("float", "Grid level: share of the object's mask pixels to hide, 0..0.9."),
        "occluded_fraction": ("float", "Measured: 1 - visible/amodal mask pixels (> 127) of the object."),
        "occluder": ("text", "none (level 0), bar (plain grey bar) or object (another class's object)."),
        "occluder_class": ("text", "Class of the occluding object; empty for none and bar."),
        "amodal_mask": ("png", "The object's whole silhouette (alpha coverage 0..255), hidden parts included."),
        "segmentation": ("png", "Instance ids of the topmost surface (alpha > 127): 0 background, 1 the object, "
                                "2 the occluder."),
    },
    "clutter": {
        "num_distractors": ("int", "Objects of other classes around the target."),
        "visible_fraction": ("float", "Measured: visible/amodal mask pixels (> 127) of the target."),
        "distractor_classes": ("text", "Comma-separated classes of the distractors, in instance-id order."),
        "amodal_mask": ("png", "The target's whole silhouette (alpha coverage 0..255), hidden parts included."),
        "segmentation": ("png", "Instance ids of the topmost surface (alpha > 127): 0 background, 1 the target, "
                                "2.. the distractors."),
    },
    "cue_conflict": {
        "shape_label": ("class", "Class whose shape is shown (= label)."),
        "texture_label": ("class", "Class whose surface (material and texture) the shape wears."),
        "texture_instance": ("text", "Asset id of the instance whose surface is worn."),
    },
}
IMAGE_FIELDS = ("image", "mask", "amodal_mask", "segmentation")  # stored encoded; hashed as bytes, in this order


def _extra_feature(kind: str, doc: str, class_names: list[str]):
  import tensorflow_datasets as tfds  # pylint: disable=import-outside-toplevel
  if kind == "float":
    return tfds.features.Scalar(np.float32, doc=doc)
  if kind == "int":
    return tfds.features.Scalar(np.int64, doc=doc)
  if kind == "text":
    return tfds.features.Text(doc=doc)
  if kind == "class":
    return tfds.features.ClassLabel(names=class_names, doc=doc)
  return tfds.features.Image(shape=(None, None, 1), encoding_format="png", doc=doc)


def features(class_names: list[str], config: str | None = None):
  """The TFDS FeaturesDict of `config` (the common features plus its EXTRA_FIELDS; TFDS is imported here only:
  workers that just encode examples never load it)."""
  import tensorflow_datasets as tfds  # pylint: disable=import-outside-toplevel
  extra = {name: _extra_feature(kind, doc, class_names)
           for name, (kind, doc) in EXTRA_FIELDS.get(config, {}).items()}
  return tfds.features.FeaturesDict({**_common_features(class_names), **extra})


def _common_features(class_names: list[str]) -> dict:
  import tensorflow_datasets as tfds  # pylint: disable=import-outside-toplevel
  return ({
      "image": tfds.features.Image(shape=(None, None, 3), encoding_format="jpeg",
                                   doc="RGB image, sRGB."),
      "mask": tfds.features.Image(shape=(None, None, 1), encoding_format="png",
                                  doc="Object coverage (alpha) per pixel, 0..255; > 127 is the object."),
      "label": tfds.features.ClassLabel(names=class_names, doc="The object's class (kubricgen class library)."),
      "imagenet_label": tfds.features.Scalar(np.int64, doc="ImageNet-1k index of the class, -1 if none."),
      "image_id": tfds.features.Scalar(np.int64, doc="Unique within the config."),
      "x": tfds.features.Scalar(np.float32, doc="Object canvas centre, fraction of the width from the left."),
      "y": tfds.features.Scalar(np.float32, doc="Object canvas centre, fraction of the height from the top."),
      "area": tfds.features.Scalar(np.float32, doc="Canvas area / image area, before rotation."),
      "rotation": tfds.features.Scalar(np.float32, doc="Counter-clockwise in-plane rotation, degrees."),
      "pct_inside_image": tfds.features.Scalar(np.float32, doc="Share of the object's box inside the image."),
      "visibility_threshold": tfds.features.Scalar(np.float32, doc="Examples below it were dropped."),
      "object_instance": tfds.features.Text(doc="Asset id of the object instance."),
      "background": tfds.features.Text(doc="Background id."),
      "azimuth": tfds.features.Scalar(np.float32, doc="Object pose: camera azimuth, degrees."),
      "elevation": tfds.features.Scalar(np.float32, doc="Object pose: camera elevation, degrees."),
      "seed": tfds.features.Scalar(np.int64, doc="Seed derived from the job seed and the example key."),
      "content_hash": tfds.features.Text(doc="sha256 of the encoded image, mask and factors."),
  })


def encode_jpeg(image: np.ndarray) -> bytes:
  buffer = io.BytesIO()
  Image.fromarray(image).save(buffer, format="JPEG", quality=JPEG_QUALITY)
  return buffer.getvalue()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
  return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(data, zlib.crc32(kind)))


_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_END = _png_chunk(b"IEND", b"")


def encode_png(mask: np.ndarray) -> bytes:
  """An (H, W, 1) or (H, W) uint8 mask as an 8-bit greyscale PNG: rows unfiltered, one IDAT, zlib level 1.

  Written directly because Pillow's PNG encoder takes ~3x longer on these mostly empty masks (0.18 vs 0.05 ms at
  224 px) and makes larger files; every PNG decoder reads back exactly the same pixels."""
  if mask.dtype != np.uint8 or not (mask.ndim == 2 or (mask.ndim == 3 and mask.shape[2] == 1)):
    raise ValueError(f"a mask must be (H, W[, 1]) uint8, got {mask.shape} {mask.dtype}")
  plane = mask.reshape(mask.shape[:2])
  height, width = plane.shape
  rows = np.zeros((height, width + 1), np.uint8)  # a leading 0 on each row: filter type None
  rows[:, 1:] = plane
  header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale, no interlace
  return (_PNG_SIGNATURE + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", zlib.compress(rows.tobytes(), 1))
          + _PNG_END)


def example(spec, image: np.ndarray, mask: np.ndarray, pct_inside: float, imagenet_label: int | None,
            extra: dict | None = None) -> dict:
  """The TFDS example of one spec (label as class name; TFDS maps it to its index). `extra`: the config's
  EXTRA_FIELDS (masks as uint8 arrays, classes as names), exactly those."""
  image_bytes, mask_bytes = encode_jpeg(image), encode_png(mask)
  record = {
      "image": image_bytes, "mask": mask_bytes, "label": spec.class_name,
      "imagenet_label": -1 if imagenet_label is None else int(imagenet_label), "image_id": spec.image_id,
      "x": spec.x, "y": spec.y, "area": spec.area, "rotation": spec.rotation,
      "pct_inside_image": round(float(pct_inside), 6), "visibility_threshold": spec.visibility_threshold,
      "object_instance": spec.instance_id, "background": spec.background_id,
      "azimuth": spec.pose.azimuth, "elevation": spec.pose.elevation, "seed": spec.seed,
  }
  wanted = EXTRA_FIELDS.get(spec.subset, {})
  if set(extra or {}) != set(wanted):
    raise ValueError(f"a {spec.subset} example needs the fields {sorted(wanted)}, got {sorted(extra or {})}")
  for name, value in (extra or {}).items():
    record[name] = encode_png(value) if wanted[name][0] == "png" else value
  record["content_hash"] = content_hash(record)
  return record


FLOAT_FIELDS = FACTOR_FIELDS + ("azimuth", "elevation") + tuple(sorted(
    {name for fields in EXTRA_FIELDS.values() for name, (kind, _) in fields.items() if kind == "float"}))


def _canonical(name: str, value):
  """A field's value as it reads back from the dataset (float32 floats, text as str)."""
  if name in FLOAT_FIELDS:
    return format(float(np.float32(value)), ".9g")
  if isinstance(value, bytes):
    return value.decode()
  if isinstance(value, (np.integer, int)):
    return int(value)
  return str(value)


@functools.lru_cache(maxsize=8)
def encoder(class_names: tuple[str, ...], config: str | None = None) -> Callable[[dict], bytes]:
  """example dict -> the bytes TFDS stores for it: `features(class_names, config)`'s encoding, serialized as a
  tf.train.Example with a fixed map order (`SerializeToString(deterministic=True)`; TFDS's own writer leaves the
  order to the process, so the same example would give other bytes in another process)."""
  from tensorflow_datasets.core import example_serializer  # pylint: disable=import-outside-toplevel
  feature_dict = features(list(class_names), config)
  serializer = example_serializer.ExampleSerializer(feature_dict.get_serialized_info())

  def encode(example: dict) -> bytes:
    return serializer.get_tf_example(feature_dict.encode_example(example)).SerializeToString(deterministic=True)
  return encode


def content_hash(record: dict) -> str:
  """sha256 over the encoded images (IMAGE_FIELDS present, in that order) and every other field in canonical form,
  so it can be recomputed from a stored example (class fields given as class names)."""
  digest = hashlib.sha256(b"".join(record[k] for k in IMAGE_FIELDS if k in record))
  fields = sorted((k, _canonical(k, v)) for k, v in record.items() if k not in (*IMAGE_FIELDS, "content_hash"))
  digest.update(repr(fields).encode())
  return digest.hexdigest()
