"""Light sources. Intensities use Blender's units: W/m^2 for directional (sun) lights, W for the others."""
from __future__ import annotations

import numpy as np

from kubricgen.scene.objects import Object3D
from kubricgen.scene.properties import Property, color, number


class Light(Object3D):
  color = Property((1.0, 1.0, 1.0, 1.0), color)
  intensity = Property(1.0, number(0))

  def __init__(self, **kwargs):
    kwargs.setdefault("background", True)
    super().__init__(**kwargs)


class DirectionalLight(Light):
  """Sun-like light shining along its local -Z axis; `shadow_softness` is the sun's angular diameter (rad)."""
  shadow_softness = Property(0.2, number(0, np.pi))


class PointLight(Light):
  radius = Property(0.1, number(0), "Emitter size (m); larger gives softer shadows.")


class SpotLight(Light):
  spot_size = Property(np.pi / 4, number(0.001, np.pi), "Cone angle (rad).")
  spot_blend = Property(0.15, number(0, 1))
  radius = Property(0.1, number(0))


class RectAreaLight(Light):
  width = Property(1.0, number(0, strict=True))
  height = Property(1.0, number(0, strict=True))
