"""Defaults for the `Blender(...)` arguments a caller leaves unset, set by whoever runs scene scripts.

`kubricgen render` sets them from its --engine, --quality, --samples, --no_denoise, --device and --progress flags for
the length of a run, so a ported Kubric script that builds its own `Blender(scene, ...)` honours those flags. The
renderer reads only this registry: it knows nothing of flags or worker sessions (kubricgen.worker.session calls
`set_defaults` at `kb.setup` and `clear_defaults` at `kb.done` or abort). Importing this module does not import Blender.
"""
from __future__ import annotations

from typing import Any

KEYS = ("engine", "quality", "samples_per_pixel", "use_denoising", "device", "progress")
_defaults: dict[str, Any] = {}


def set_defaults(**values) -> None:
  """Set defaults for unset Blender arguments (keys: KEYS; None leaves a key unset).

  Raises:
    TypeError: a key that is not one of KEYS.
  """
  unknown = set(values) - set(KEYS)
  if unknown:
    raise TypeError(f"renderer defaults: unknown keys {sorted(unknown)}; known: {list(KEYS)}")
  _defaults.update({key: value for key, value in values.items() if value is not None})


def clear_defaults() -> None:
  """Forget every default (a later run in this process must not inherit this one's)."""
  _defaults.clear()


def default(key: str) -> Any:
  """The default set for `key`, or None."""
  return _defaults.get(key)
