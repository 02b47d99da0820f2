"""Surface materials: physically based (principled BSDF) and flat (emissive, unlit)."""
from __future__ import annotations

from kubricgen.scene.assets import Asset
from kubricgen.scene.properties import Property, number, optional_text
from kubricgen.scene.properties import color as rgba


class Material(Asset):
  """Base class of materials."""


class UndefinedMaterial(Material):
  """Marker: the renderer's default grey material."""


class PrincipledBSDFMaterial(Material):
  """Blender's Principled BSDF. `color` is linear RGBA; `texture` an optional image path used as base colour."""

  color = Property((0.8, 0.8, 0.8, 1.0), rgba)
  metallic = Property(0.0, number(0, 1))
  specular = Property(0.5, number(0, 1), "Specular IOR level (Blender 4+ semantics).")
  roughness = Property(0.4, number(0, 1))
  ior = Property(1.45, number(1, 10))
  transmission = Property(0.0, number(0, 1))
  emission = Property((0.0, 0.0, 0.0, 1.0), rgba)
  emission_strength = Property(0.0, number(0))
  texture = Property(None, optional_text, "Path of an image used as base colour (mapped with the mesh's UVs).")


class FlatMaterial(Material):
  """Unlit colour: the object shows exactly `color`, ignoring lights (emission shader)."""

  color = Property((0.8, 0.8, 0.8, 1.0), rgba)
  holdout = Property(False, lambda value: bool(value), "Render as a transparent hole in the film.")
