"""The scene model: pure Python + numpy, importable without Blender or PyBullet."""
from kubricgen.scene.assets import Asset
from kubricgen.scene.color import Color, get_color
from kubricgen.scene.cameras import Camera, OrthographicCamera, PerspectiveCamera, UndefinedCamera
from kubricgen.scene.lights import DirectionalLight, Light, PointLight, RectAreaLight, SpotLight
from kubricgen.scene.materials import FlatMaterial, Material, PrincipledBSDFMaterial, UndefinedMaterial
from kubricgen.scene.objects import (Cone, Cube, Cylinder, FileBasedObject, Object3D, PhysicalObject, Sphere, Torus)
from kubricgen.scene.scene import Scene

__all__ = [
    "Asset", "Camera", "OrthographicCamera", "PerspectiveCamera", "UndefinedCamera", "DirectionalLight", "Light",
    "PointLight", "RectAreaLight", "SpotLight", "FlatMaterial", "Material", "PrincipledBSDFMaterial",
    "UndefinedMaterial", "Cone", "Cube", "Cylinder", "FileBasedObject", "Object3D", "PhysicalObject", "Sphere",
    "Torus", "Scene", "Color", "get_color",
]
