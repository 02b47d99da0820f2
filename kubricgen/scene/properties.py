"""Validated, keyframeable attributes for scene assets.

Every public attribute of a scene object (position, mass, resolution, ...) is a `Property` descriptor. It converts
the value on assignment and raises `ValueError` naming the class and attribute when the value is invalid, so a bad
scene fails where it is built, not deep inside Blender or PyBullet.
"""
from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np


class Property:
  """A data descriptor that converts and validates on assignment.

  `convert(value) -> value` raises ValueError/TypeError with a short reason; the descriptor prefixes the reason with
  `Class.attribute` so the error names what was wrong.
  """

  def __init__(self, default: Any, convert: Callable[[Any], Any], doc: str = ""):
    self.default = default
    self.convert = convert
    self.__doc__ = doc

  def __set_name__(self, owner, name):
    self.name = name

  def __get__(self, instance, owner=None):
    if instance is None:
      return self
    values = instance.__dict__.setdefault("_values", {})
    if self.name not in values:
      values[self.name] = self._checked(instance, self.default() if callable(self.default) else self.default)
    return values[self.name]

  def __set__(self, instance, value):
    instance.__dict__.setdefault("_values", {})[self.name] = self._checked(instance, value)
    on_change = getattr(instance, "_on_property_change", None)
    if on_change is not None:
      on_change(self.name)

  def _checked(self, instance, value):
    try:
      return self.convert(value)
    except (ValueError, TypeError) as error:
      raise ValueError(f"{type(instance).__name__}.{self.name}: {error}") from None


# ---- converters -------------------------------------------------------------------------------------------------


def vector(size: int) -> Callable[[Any], np.ndarray]:
  """Finite float vector of a fixed size."""

  def convert(value):
    try:
      array = np.asarray(value, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
      raise ValueError(f"expected {size} numbers, got {value!r}") from None
    if array.shape != (size,):
      raise ValueError(f"expected {size} numbers, got {value!r}")
    if not np.all(np.isfinite(array)):
      raise ValueError(f"values must be finite, got {array.tolist()}")
    array.setflags(write=False)
    return array

  return convert


def quaternion(value) -> np.ndarray:
  """Unit quaternion (w, x, y, z); a non-zero quaternion is normalised."""
  array = vector(4)(value)
  norm = float(np.linalg.norm(array))
  if norm < 1e-12:
    raise ValueError("quaternion must be non-zero")
  array = array / norm
  array.setflags(write=False)
  return array


def scale(value) -> np.ndarray:
  """A scalar or a 3-vector of non-zero scale factors."""
  if np.isscalar(value):
    value = (value, value, value)
  array = vector(3)(value)
  if np.any(array == 0):
    raise ValueError(f"scale must be non-zero, got {array.tolist()}")
  return array


def number(minimum: float | None = None, maximum: float | None = None, strict: bool = False):
  """A finite float within [minimum, maximum] (or strictly above minimum when `strict`)."""

  def convert(value):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
      raise ValueError(f"expected a number, got {value!r}")
    value = float(value)
    if not math.isfinite(value):
      raise ValueError(f"must be finite, got {value}")
    if minimum is not None and (value <= minimum if strict else value < minimum):
      raise ValueError(f"must be {'>' if strict else '>='} {minimum}, got {value}")
    if maximum is not None and value > maximum:
      raise ValueError(f"must be <= {maximum}, got {value}")
    return value

  return convert


def integer(minimum: int | None = None):
  def convert(value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
      raise ValueError(f"expected an integer, got {value!r}")
    if minimum is not None and value < minimum:
      raise ValueError(f"must be >= {minimum}, got {value}")
    return int(value)

  return convert


def boolean(value) -> bool:
  if not isinstance(value, (bool, np.bool_)):
    raise ValueError(f"expected True or False, got {value!r}")
  return bool(value)


def color(value) -> np.ndarray:
  """RGBA colour in linear [0, 1]; RGB gets alpha 1. Accepts a `Color`, tuple or '#rrggbb' string."""
  if isinstance(value, str):
    text = value.lstrip("#")
    if len(text) not in (6, 8):
      raise ValueError(f"expected '#rrggbb', got {value!r}")
    value = [int(text[i:i + 2], 16) / 255 for i in range(0, len(text), 2)]
  array = np.asarray(tuple(value), dtype=np.float64)
  if array.shape == (3,):
    array = np.append(array, 1.0)
  if array.shape != (4,) or not np.all(np.isfinite(array)) or np.any(array < 0):
    raise ValueError(f"expected 3 or 4 non-negative numbers, got {value!r}")
  array.setflags(write=False)
  return array


def text(value) -> str:
  if not isinstance(value, str):
    raise ValueError(f"expected a string, got {value!r}")
  return value


def optional_text(value):
  return None if value is None else text(value)


def one_of(*choices):
  def convert(value):
    if value not in choices:
      raise ValueError(f"expected one of {list(choices)}, got {value!r}")
    return value

  return convert
