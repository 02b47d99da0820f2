"""The `Scene`: frame range, rates, resolution, gravity, camera, background and the assets in it.

`scene += obj` adds an object (or a list of them). The simulator and the renderer are views constructed with the
scene; they read it when they run, so objects can be added before or after they are created.
"""
from __future__ import annotations

from typing import Any, Iterable

import numpy as np

from kubricgen.scene.assets import Asset
from kubricgen.scene.cameras import Camera, UndefinedCamera
from kubricgen.scene.lights import Light
from kubricgen.scene.objects import PhysicalObject
from kubricgen.scene.properties import Property, color, integer, number, vector


def _resolution(value) -> tuple[int, int]:
  try:
    items = tuple(value)
  except TypeError:
    raise ValueError(f"expected (width, height), got {value!r}") from None
  if len(items) != 2 or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in items):
    raise ValueError(f"expected two integers (width, height), got {value!r}")
  if min(items) <= 0:
    raise ValueError(f"width and height must be positive, got {value!r}")
  if max(items) > 16384:
    raise ValueError(f"at most 16384 pixels a side, got {value!r}")
  return int(items[0]), int(items[1])


def _camera(value):
  if not isinstance(value, Camera):
    raise ValueError(f"expected a Camera, got {value!r}")
  return value


class Scene:
  """A scene: the shared model that simulator and renderer both observe. Defaults follow Kubric."""

  frame_start = Property(1, integer())
  frame_end = Property(48, integer())
  frame_rate = Property(24, integer(1), "Frames per second of the rendered video.")
  step_rate = Property(240, integer(1), "Physics steps per second; a multiple of frame_rate.")
  resolution = Property((512, 512), _resolution, "(width, height) in pixels.")
  gravity = Property((0.0, 0.0, -10.0), vector(3), "m/s^2.")
  background = Property((0.0, 0.0, 0.0, 1.0), color, "World colour seen where no object is.")
  ambient_illumination = Property((0.0, 0.0, 0.0, 1.0), color, "Uniform world light (added to background).")
  camera = Property(UndefinedCamera, lambda v: _camera(v() if isinstance(v, type) else v))

  def __init__(self, **kwargs: Any):
    self.assets: list[Asset] = []
    self.views: list[Any] = []
    self.metadata: dict[str, Any] = {}
    camera = kwargs.pop("camera", None)
    for key, value in kwargs.items():
      if not isinstance(getattr(type(self), key, None), Property):
        raise TypeError(f"Scene: unknown argument {key!r}")
      setattr(self, key, value)
    self._check_frames()
    if camera is not None:
      self.camera = camera

  def _on_property_change(self, name: str) -> None:
    if name == "camera" and not isinstance(self.camera, UndefinedCamera) and self.camera not in self.assets:
      self.add(self.camera)
    if name in ("frame_rate", "step_rate") and "views" in self.__dict__:
      self._check_frames()

  def check(self) -> None:
    """Validate relations between attributes (called by the views before they run)."""
    self._check_frames()

  def _check_frames(self) -> None:
    if self.frame_end < self.frame_start:
      raise ValueError(f"Scene.frame_end: must be >= frame_start ({self.frame_start}), got {self.frame_end}")
    if self.step_rate % self.frame_rate:
      raise ValueError(f"Scene.step_rate: must be a multiple of frame_rate ({self.frame_rate}), got {self.step_rate}")

  # ---- assets -----------------------------------------------------------------------------------------------------

  def add(self, assets: Asset | Iterable[Asset]) -> None:
    if isinstance(assets, Asset):
      assets = [assets]
    for asset in assets:
      if not isinstance(asset, Asset):
        raise TypeError(f"Scene.add: expected an Asset, got {asset!r}")
      if asset in self.assets:
        continue
      if asset.scene is not None and asset.scene is not self:
        raise ValueError(f"Scene.add: {asset!r} already belongs to another scene")
      if asset.name is None:
        kind = type(asset).__name__.lower()
        count = sum(1 for a in self.assets if type(a) is type(asset))
        asset.name = f"{kind}_{count}"
      if any(a.name == asset.name for a in self.assets):
        raise ValueError(f"Scene.add: an asset named {asset.name!r} is already in the scene")
      asset.scene = self
      self.assets.append(asset)
      if isinstance(asset, Camera) and not isinstance(asset, UndefinedCamera) and \
          isinstance(self.camera, UndefinedCamera):
        self.camera = asset  # Kubric's rule: the first camera added becomes the scene's camera

  def remove(self, asset: Asset) -> None:
    self.assets.remove(asset)
    asset.scene = None
    if asset is self.camera:
      self.camera = UndefinedCamera

  def __iadd__(self, assets):
    self.add(assets)
    return self

  def __isub__(self, asset):
    self.remove(asset)
    return self

  def link_view(self, view) -> None:
    if view not in self.views:
      self.views.append(view)

  @property
  def instances(self) -> list[PhysicalObject]:
    """Foreground physical objects in insertion order; segmentation id = position + 1."""
    return [a for a in self.assets if isinstance(a, PhysicalObject) and not a.background]

  @property
  def foreground_assets(self) -> list[PhysicalObject]:
    return self.instances

  @property
  def objects(self) -> list[PhysicalObject]:
    return [a for a in self.assets if isinstance(a, PhysicalObject)]

  @property
  def lights(self) -> list[Light]:
    return [a for a in self.assets if isinstance(a, Light)]

  @property
  def frames(self) -> range:
    return range(self.frame_start, self.frame_end + 1)

  @property
  def seconds_per_frame(self) -> float:
    return 1.0 / self.frame_rate

  def __repr__(self) -> str:
    return f"<Scene {len(self.assets)} assets, frames {self.frame_start}..{self.frame_end}, {self.resolution}>"
