"""Kubric's `kb.assets.utils`: ready-made parts of Kubric's MOVi scenes that are not files (its CLEVR light rig)."""
from __future__ import annotations

import numpy as np

from kubricgen import scene as kbs
from kubricgen.scene.color import Color
from kubricgen.scene.randomness import _rng  # pylint: disable=protected-access


def get_clevr_lights(light_jitter: float = 1.0, rng=None) -> list:
  """The four lights of CLEVR's studio (Johnson et al. 2017), as Kubric's MOVi workers use them: a sun (0.45), a
  back lamp (50), a warm key lamp (100, 0.5 m square) and a cool fill lamp (30, 0.5 m square), each moved along each
  axis by a uniform draw in [0, light_jitter) metres, as Kubric's, and turned to the origin. Positions in metres; intensities as
  Blender's (W/m^2 for the sun, W for area lights). `rng`: as Kubric's helpers (the run's seeded generator when
  left out)."""
  rng = _rng(rng, "get_clevr_lights")
  lights = [
      kbs.DirectionalLight(name="sun", color=Color.from_name("white"), shadow_softness=0.2, intensity=0.45,
                           position=(11.6608, -6.62799, 25.8232)),
      kbs.RectAreaLight(name="lamp_back", color=Color.from_name("white"), intensity=50.0,
                        position=(-1.1685, 2.64602, 5.81574)),
      kbs.RectAreaLight(name="lamp_key", color=Color.from_hexint(0xFFEDD0), intensity=100.0, width=0.5,
                        height=0.5, position=(6.44671, -2.90517, 4.2584)),
      kbs.RectAreaLight(name="lamp_fill", color=Color.from_hexint(0xC2D0FF), intensity=30.0, width=0.5,
                        height=0.5, position=(-4.67112, -4.0136, 3.01122)),
  ]
  for light in lights:
    light.position = np.asarray(light.position) + rng.rand(3) * light_jitter
    light.look_at((0, 0, 0))
  return lights
