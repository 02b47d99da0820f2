"""The class library for classification datasets: classes (with ImageNet-1k indices), their instances, and a
deterministic held-out split of instances per class.

`ClassLibrary.default()` reads the bundled `classes` manifest (procedural shapes and pybullet_data meshes; nothing is
downloaded). Any manifest whose assets carry class names works the same way (`ClassLibrary.from_manifest`).
"""
from __future__ import annotations

import dataclasses

from kubricgen.assets.errors import AssetError, ManifestError
from kubricgen.assets.sources import AssetInfo, ManifestSource

SPLITS = ("train", "test")


@dataclasses.dataclass(frozen=True)
class ClassInfo:
  name: str
  imagenet_index: int | None = None


class ClassLibrary:
  """Classes and instances of one manifest; `create(asset_id)` builds a normalised scene object."""

  def __init__(self, source: ManifestSource):
    self.source = source
    self._split = source.splits()
    indices: dict[str, int | None] = {}
    for info in source.infos:
      if info.class_name in indices and indices[info.class_name] != info.imagenet_index:
        raise ManifestError(f"manifest {source.manifest.location}: class {info.class_name!r} has two ImageNet "
                            f"indices ({indices[info.class_name]} and {info.imagenet_index})")
      indices[info.class_name] = info.imagenet_index
    self._classes = [ClassInfo(name, indices[name]) for name in sorted(indices)]
    self._instances = [dataclasses.replace(info, split=self._split[info.id]) for info in source.infos]

  @classmethod
  def default(cls) -> "ClassLibrary":
    """The bundled class library (no download)."""
    return cls(ManifestSource.bundled("classes"))

  @classmethod
  def from_manifest(cls, location) -> "ClassLibrary":
    return cls(ManifestSource.from_manifest(location))

  @property
  def version(self) -> str:
    """A digest of the library's definition: use it in cache keys of anything rendered from it."""
    return self.source.version

  def asset_digest(self, asset_id: str) -> str:
    """A digest of one instance's manifest entry (its files' sha256, material, scale, generator parameters): what
    shapes its renders, for cache keys that must not change when another asset does."""
    import hashlib  # pylint: disable=import-outside-toplevel
    import json  # pylint: disable=import-outside-toplevel
    from kubricgen.assets import prepare, shapes  # pylint: disable=import-outside-toplevel
    entry = dataclasses.asdict(self.source.entry(asset_id))
    # The code that turns the entry into a mesh is part of what shapes the renders: a generator fix must not leave
    # renders of the old mesh in a cache.
    made_by = {"shapes": shapes.VERSION, "prepare": prepare.VERSION}
    return hashlib.sha256(json.dumps([entry, made_by], sort_keys=True, default=str).encode()).hexdigest()[:24]

  @property
  def classes(self) -> list[ClassInfo]:
    """Every class, sorted by name."""
    return list(self._classes)

  @property
  def class_names(self) -> list[str]:
    return [c.name for c in self._classes]

  def class_info(self, class_name: str) -> ClassInfo:
    for info in self._classes:
      if info.name == class_name:
        return info
    raise AssetError(f"unknown class {class_name!r}; known: {self.class_names}")

  def instances(self, split: str | None = None, class_name: str | None = None) -> list[AssetInfo]:
    """Instances (AssetInfo with `split` set), optionally of one split ("train"/"test") and/or one class."""
    if split is not None and split not in SPLITS:
      raise AssetError(f"unknown split {split!r}; expected one of {list(SPLITS)} or None")
    if class_name is not None:
      self.class_info(class_name)
    return [info for info in self._instances
            if (split is None or info.split == split) and (class_name is None or info.class_name == class_name)]

  def split_of(self, asset_id: str) -> str:
    self.source.info(asset_id)
    return self._split[asset_id]

  def create(self, asset_id: str, texture_from: str | None = None, **overrides):
    """A scene object (FileBasedObject or primitive) with its material, normalised to half-extent 1, asset_id set.
    `texture_from`: another instance whose surface it wears (see `ManifestSource.create`)."""
    if texture_from is not None:
      self.source.info(texture_from)
      overrides["texture_from"] = texture_from
    obj = self.source.create(asset_id, **overrides)
    obj.metadata["split"] = self._split[asset_id]
    return obj
