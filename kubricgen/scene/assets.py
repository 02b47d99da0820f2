"""The base of every scene asset: named, validated properties and per-frame keyframes.

Kubric keeps one scene and lets several views (simulator, renderer) observe it; here an asset only stores its values
and keyframes, and each view reads them when it runs. Keyframes are exact values at integer frames.
"""
from __future__ import annotations

import contextlib
import copy
from typing import Any

import numpy as np

from kubricgen.scene.properties import Property, boolean, optional_text


class Asset:
  """Base class: `name`, `background`, validated properties, keyframes."""

  name = Property(None, optional_text, "Unique name within its scene; assigned on `scene += asset` if unset.")
  background = Property(False, boolean, "Background assets get segmentation id 0 and are left out of instances.")

  def __init__(self, **kwargs: Any):
    self.keyframes: dict[str, dict[int, Any]] = {}
    self.metadata: dict[str, Any] = dict(kwargs.pop("metadata", None) or {})
    self.scene = None  # set by Scene.add
    for key, value in kwargs.items():
      if not isinstance(getattr(type(self), key, None), (Property, property)):
        raise TypeError(f"{type(self).__name__}: unknown argument {key!r}")
      setattr(self, key, value)

  @classmethod
  def property_names(cls) -> list[str]:
    return [name for klass in reversed(cls.__mro__) for name, value in vars(klass).items()
            if isinstance(value, Property)]

  # ---- keyframes ------------------------------------------------------------------------------------------------

  def keyframe_insert(self, member: str, frame: int) -> None:
    """Record the current value of `member` at `frame` (Kubric's API)."""
    if not isinstance(getattr(type(self), member, None), Property):
      raise ValueError(f"{type(self).__name__}.keyframe_insert: {member!r} is not a property")
    if isinstance(frame, bool) or not isinstance(frame, (int, np.integer)):
      raise ValueError(f"{type(self).__name__}.keyframe_insert: frame must be an integer, got {frame!r}")
    self.keyframes.setdefault(member, {})[int(frame)] = copy.deepcopy(getattr(self, member))

  def get_value_at(self, member: str, frame: int | None):
    """The keyframed value of `member` at `frame`: exact keyframe, linear blend of neighbours, or the held end value.

    Without keyframes (or with `frame=None`) this is the current value.
    """
    keys = self.keyframes.get(member)
    if frame is None or not keys:
      return getattr(self, member)
    if frame in keys:
      return keys[frame]
    frames = sorted(keys)
    if frame <= frames[0]:
      return keys[frames[0]]
    if frame >= frames[-1]:
      return keys[frames[-1]]
    after = next(f for f in frames if f > frame)
    before = max(f for f in frames if f < frame)
    weight = (frame - before) / (after - before)
    a, b = np.asarray(keys[before], float), np.asarray(keys[after], float)
    value = (1 - weight) * a + weight * b
    return getattr(type(self), member).convert(value)

  @contextlib.contextmanager
  def at_frame(self, frame: int | None):
    """Temporarily set every keyframed property to its value at `frame`."""
    if frame is None:
      yield self
      return
    saved = {member: getattr(self, member) for member in self.keyframes}
    try:
      for member in self.keyframes:
        setattr(self, member, self.get_value_at(member, frame))
      yield self
    finally:
      for member, value in saved.items():
        setattr(self, member, value)

  def __repr__(self) -> str:
    return f"<{type(self).__name__} {self.name!r}>"
