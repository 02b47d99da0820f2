"""Colours as Kubric's scene API names them: `Color` (r, g, b, a floats in [0, 1]) and `get_color` (a name, '#hex'
string, 0xRRGGBB integer or tuple -> Color).

Components are taken as given (no colour-space conversion): a material's colour is what the renderer receives.
Names are CSS's 16 basic colour keywords (W3C CSS Color Module Level 3, section 4.1), e.g. "green" = #008000.
`linear_to_srgb` / `srgb_to_linear` are the one pair of sRGB transfer functions every module uses.
"""
from __future__ import annotations

import colorsys
from typing import NamedTuple, Union

import numpy as np

CSS_BASIC_COLORS = {
    "aqua": 0x00FFFF, "black": 0x000000, "blue": 0x0000FF, "fuchsia": 0xFF00FF, "gray": 0x808080,
    "green": 0x008000, "lime": 0x00FF00, "maroon": 0x800000, "navy": 0x000080, "olive": 0x808000,
    "purple": 0x800080, "red": 0xFF0000, "silver": 0xC0C0C0, "teal": 0x008080, "white": 0xFFFFFF,
    "yellow": 0xFFFF00,
}


class Color(NamedTuple):
  """An RGBA colour, each component a float in [0, 1] (a tuple: usable wherever a colour tuple is)."""
  r: float
  g: float
  b: float
  a: float = 1.0

  @property
  def rgb(self) -> tuple[float, float, float]:
    return self.r, self.g, self.b

  @property
  def hsv(self) -> tuple[float, float, float]:
    """(hue, saturation, value), each in [0, 1] (colorsys)."""
    return colorsys.rgb_to_hsv(self.r, self.g, self.b)

  @property
  def hexstr(self) -> str:
    """'#rrggbbaa', each component rounded to 8 bits."""
    return "#" + "".join(f"{round(255 * c):02x}" for c in self)

  @property
  def hexstr_short(self) -> str:
    """'#rrggbb' (alpha dropped)."""
    return self.hexstr[:7]

  @classmethod
  def from_hsv(cls, h: float, s: float, v: float, alpha: float = 1.0) -> "Color":
    """From hue, saturation, value in [0, 1] (hue wraps around)."""
    return cls(*colorsys.hsv_to_rgb(h % 1.0, s, v), alpha)

  @classmethod
  def from_hexint(cls, hexint: int, alpha: float = 1.0) -> "Color":
    """From 0xRRGGBB. Raises ValueError outside 0..0xFFFFFF."""
    if not 0 <= hexint <= 0xFFFFFF:
      raise ValueError(f"a colour integer must be 0xRRGGBB (0..0xFFFFFF), got {hexint!r}")
    return cls(((hexint >> 16) & 255) / 255, ((hexint >> 8) & 255) / 255, (hexint & 255) / 255, alpha)

  @classmethod
  def from_hexstr(cls, hexstr: str) -> "Color":
    """From '#rgb', '#rgba', '#rrggbb' or '#rrggbbaa'. Raises ValueError for anything else."""
    digits = hexstr[1:] if hexstr.startswith("#") else ""
    if len(digits) in (3, 4):
      digits = "".join(d * 2 for d in digits)
    try:
      if len(digits) not in (6, 8):
        raise ValueError
      values = [int(digits[i:i + 2], 16) / 255 for i in range(0, len(digits), 2)]
    except ValueError:
      raise ValueError(f"invalid colour hex string {hexstr!r}: expected #rgb, #rgba, #rrggbb or #rrggbbaa") from None
    return cls(*values)

  @classmethod
  def from_name(cls, name: str) -> "Color":
    """From a CSS basic colour keyword (case-insensitive). Raises ValueError naming the known ones."""
    try:
      return cls.from_hexint(CSS_BASIC_COLORS[name.lower()])
    except KeyError:
      raise ValueError(f"unknown colour name {name!r}; known: {', '.join(CSS_BASIC_COLORS)}") from None


def get_color(color: Union[int, str, tuple, Color]) -> Color:
  """A Color from a '#hex' string, a CSS colour name, a 0xRRGGBB integer, or an (r, g, b[, a]) tuple."""
  if isinstance(color, str):
    return Color.from_hexstr(color) if color.startswith("#") else Color.from_name(color)
  if isinstance(color, int) and not isinstance(color, bool):
    return Color.from_hexint(color)
  return Color(*(float(c) for c in color))


def linear_to_srgb(linear) -> np.ndarray:
  """Linear-light values -> sRGB-encoded values, both in [0, 1] (inputs are clipped); an array of the input's shape
  and float dtype (float64 for other inputs), so float32 images convert in float32. The sRGB transfer function of
  IEC 61966-2-1: 12.92 x below 0.0031308, else 1.055 x^(1/2.4) - 0.055."""
  linear = np.asarray(linear)
  linear = np.clip(linear if np.issubdtype(linear.dtype, np.floating) else linear.astype(np.float64), 0.0, 1.0)
  return np.where(linear <= 0.0031308, 12.92 * linear, 1.055 * np.power(linear, 1 / 2.4) - 0.055)


def srgb_to_linear(srgb) -> np.ndarray:
  """sRGB-encoded values in [0, 1] -> linear-light values, float64 array of the input's shape (the inverse of
  `linear_to_srgb`, IEC 61966-2-1: x / 12.92 up to 0.04045, else ((x + 0.055) / 1.055)^2.4)."""
  srgb = np.asarray(srgb, dtype=np.float64)
  return np.where(srgb <= 0.04045, srgb / 12.92, np.power((np.maximum(srgb, 0.04045) + 0.055) / 1.055, 2.4))
