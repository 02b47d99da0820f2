"""Translate kubricgen assets into Blender data: meshes, materials, lights, cameras, world, keyframes.

Owns nothing but the mapping; `kubricgen.renderer.blender.Blender` decides when to build and what to render.
"""
from __future__ import annotations

import os

import bpy
import numpy as np

from kubricgen import atomic
from kubricgen import scene as kbs
from kubricgen.scene import objects

OBJECT_COORDINATES_AOV = "object_coordinates"
KEYFRAMED = {"position": "location", "quaternion": "rotation_quaternion", "scale": "scale"}


def build_mesh(obj: kbs.PhysicalObject, cache: dict) -> bpy.types.Mesh:
  """A Blender mesh for the object's geometry (shared between objects with the same geometry)."""
  key = (type(obj).__name__, getattr(obj, "minor_radius", None), getattr(obj, "render_filename", None))
  if key in cache:
    return cache[key]
  vertices, faces = obj.mesh()
  mesh = bpy.data.meshes.new(f"{key[0]}_mesh")
  mesh.from_pydata(np.asarray(vertices).tolist(), [], [list(map(int, f)) for f in faces])
  if obj.smooth_shading:
    mesh.shade_smooth()
  uv = _file_uvs(obj)
  if uv is not None:
    layer = mesh.uv_layers.new(name="UVMap")
    loop_vertices = np.zeros(len(mesh.loops), dtype=np.int64)
    mesh.loops.foreach_get("vertex_index", loop_vertices)
    layer.data.foreach_set("uv", uv[loop_vertices].astype(np.float32).ravel())
  mesh.update()
  cache[key] = mesh
  return mesh


def _loaded(obj):
  return objects.load_mesh_file(obj.render_filename)  # the scene's cache: the file is read once


def _file_uvs(obj):
  if not isinstance(obj, kbs.FileBasedObject):
    return None
  loaded = _loaded(obj)
  uv = getattr(loaded.visual, "uv", None)
  return None if uv is None or len(uv) != len(loaded.vertices) else np.asarray(uv)


def file_texture(obj) -> str | None:
  """Path of the base-colour texture the mesh file itself references (an OBJ's MTL `map_Kd`, a glTF/GLB
  baseColorTexture), as a PNG in a cache folder keyed by the image's content; None if the file references none.

  trimesh gives a mesh with UV coordinates but no texture a 2x2 grey placeholder image: that is not the file's, and
  the object keeps its own material colour. Nothing is written beside the user's files."""
  if not isinstance(obj, kbs.FileBasedObject):
    return None
  loaded = _loaded(obj)
  material = getattr(loaded.visual, "material", None)
  if material is None:
    return None
  image = getattr(material, "baseColorTexture", None)
  if image is None and not obj.render_filename.lower().endswith(".obj"):
    image = getattr(material, "image", None) if not hasattr(material, "baseColorTexture") else None
  elif image is None:
    from kubricgen.assets import meshes  # pylint: disable=import-outside-toplevel
    if any(keyword == "map_kd" for keyword, _ in meshes.obj_references(obj.render_filename)):
      image = getattr(material, "image", None)
  if image is None:
    return None
  import hashlib  # pylint: disable=import-outside-toplevel
  import io  # pylint: disable=import-outside-toplevel
  import tempfile  # pylint: disable=import-outside-toplevel
  buffer = io.BytesIO()
  image.save(buffer, format="PNG")
  data = buffer.getvalue()
  folder = os.path.join(tempfile.gettempdir(), "kubricgen-textures")
  os.makedirs(folder, exist_ok=True)
  path = os.path.join(folder, f"{hashlib.sha256(data).hexdigest()[:32]}.png")
  if not os.path.exists(path):
    atomic.write_bytes(path, data)
  return path


def build_material(material: kbs.Material, texture: str | None = None) -> bpy.types.Material:
  """A Blender material, plus the AOV output that writes object coordinates (generated texture coordinates)."""
  blender_material = bpy.data.materials.new(material.name or type(material).__name__)
  tree = blender_material.node_tree
  nodes, links = tree.nodes, tree.links
  output = nodes["Material Output"]
  principled = nodes["Principled BSDF"]
  if isinstance(material, kbs.FlatMaterial):
    nodes.remove(principled)
    if material.holdout:
      shader = nodes.new("ShaderNodeHoldout")
    else:
      shader = nodes.new("ShaderNodeEmission")
      shader.inputs["Color"].default_value = tuple(material.color)
      shader.inputs["Strength"].default_value = 1.0
    links.new(shader.outputs[0], output.inputs["Surface"])
    blender_material.diffuse_color = tuple(material.color)
  else:
    if isinstance(material, kbs.PrincipledBSDFMaterial):
      inputs = principled.inputs
      inputs["Base Color"].default_value = tuple(material.color)
      inputs["Metallic"].default_value = material.metallic
      inputs["Roughness"].default_value = material.roughness
      inputs["IOR"].default_value = material.ior
      inputs["Specular IOR Level"].default_value = material.specular
      inputs["Transmission Weight"].default_value = material.transmission
      inputs["Emission Color"].default_value = tuple(material.emission)
      inputs["Emission Strength"].default_value = material.emission_strength
      texture = material.texture or texture
      blender_material.diffuse_color = tuple(material.color)
    if texture:
      image_node = nodes.new("ShaderNodeTexImage")
      image_node.image = bpy.data.images.load(texture, check_existing=True)
      links.new(image_node.outputs["Color"], principled.inputs["Base Color"])
  coordinates = nodes.new("ShaderNodeTexCoord")
  aov = nodes.new("ShaderNodeOutputAOV")
  aov.aov_name = OBJECT_COORDINATES_AOV
  links.new(coordinates.outputs["Generated"], aov.inputs["Color"])
  return blender_material


def build_object(obj: kbs.PhysicalObject, mesh_cache: dict) -> bpy.types.Object:
  mesh = build_mesh(obj, mesh_cache).copy()  # a copy per object: materials live on the mesh
  mesh.materials.append(build_material(obj.material, texture=file_texture(obj)))
  blender_object = bpy.data.objects.new(obj.name, mesh)
  blender_object.rotation_mode = "QUATERNION"
  blender_object.pass_index = obj.segmentation_id
  return blender_object


def build_light(light: kbs.Light) -> bpy.types.Object:
  kinds = {kbs.DirectionalLight: "SUN", kbs.PointLight: "POINT", kbs.SpotLight: "SPOT", kbs.RectAreaLight: "AREA"}
  data = bpy.data.lights.new(light.name, kinds[type(light)])
  data.color = tuple(light.color[:3])
  data.energy = light.intensity
  if isinstance(light, kbs.DirectionalLight):
    data.angle = light.shadow_softness
  elif isinstance(light, kbs.RectAreaLight):
    data.shape = "RECTANGLE"
    data.size, data.size_y = light.width, light.height
  else:
    data.shadow_soft_size = light.radius
    if isinstance(light, kbs.SpotLight):
      data.spot_size, data.spot_blend = light.spot_size, light.spot_blend
  blender_object = bpy.data.objects.new(light.name, data)
  blender_object.rotation_mode = "QUATERNION"
  return blender_object


def build_camera(camera: kbs.Camera) -> bpy.types.Object:
  data = bpy.data.cameras.new(camera.name or "camera")
  data.sensor_fit = "HORIZONTAL"
  data.clip_start, data.clip_end = 0.01, 10000.0
  if isinstance(camera, kbs.OrthographicCamera):
    data.type = "ORTHO"
    data.ortho_scale = camera.orthographic_scale
  else:
    data.type = "PERSP"
    data.lens, data.sensor_width = camera.focal_length, camera.sensor_width
  blender_object = bpy.data.objects.new(camera.name or "camera", data)
  blender_object.rotation_mode = "QUATERNION"
  return blender_object


def apply_pose_and_keyframes(asset: kbs.Object3D, blender_object: bpy.types.Object) -> None:
  """Copy the current pose, then every keyframe of position/quaternion/scale (and camera lens) into Blender."""
  blender_object.location = tuple(asset.position)
  blender_object.rotation_quaternion = tuple(asset.quaternion)
  blender_object.scale = tuple(asset.scale)
  for member, attribute in KEYFRAMED.items():
    for frame, value in sorted(asset.keyframes.get(member, {}).items()):
      setattr(blender_object, attribute, tuple(value))
      blender_object.keyframe_insert(attribute, frame=frame)
  camera_members = {kbs.PerspectiveCamera: ("focal_length", "lens"), kbs.OrthographicCamera: ("orthographic_scale",
                                                                                              "ortho_scale")}
  for kind, (member, attribute) in camera_members.items():
    if isinstance(asset, kind):
      for frame, value in sorted(asset.keyframes.get(member, {}).items()):
        setattr(blender_object.data, attribute, value)
        blender_object.data.keyframe_insert(attribute, frame=frame)
      if blender_object.data.animation_data and blender_object.data.animation_data.action:
        _make_linear(blender_object.data.animation_data.action)
  if blender_object.animation_data and blender_object.animation_data.action:
    _make_linear(blender_object.animation_data.action)


def _make_linear(action) -> None:
  fcurves = getattr(action, "fcurves", None)
  if fcurves is None:  # Blender 5 layered actions
    fcurves = [c for layer in action.layers for strip in layer.strips for bag in strip.channelbags for c in bag.fcurves]
  for curve in fcurves:
    for point in curve.keyframe_points:
      point.interpolation = "LINEAR"


def build_world(scene: kbs.Scene) -> bpy.types.World:
  """World shader: camera rays see `background`; all other rays see `ambient_illumination`."""
  world = bpy.data.worlds.new("world")
  tree = world.node_tree
  nodes, links = tree.nodes, tree.links
  for node in list(nodes):
    nodes.remove(node)
  output = nodes.new("ShaderNodeOutputWorld")
  camera_sees = nodes.new("ShaderNodeBackground")
  camera_sees.inputs["Color"].default_value = tuple(scene.background)
  lights = nodes.new("ShaderNodeBackground")
  lights.inputs["Color"].default_value = tuple(scene.ambient_illumination)
  path = nodes.new("ShaderNodeLightPath")
  mix = nodes.new("ShaderNodeMixShader")
  links.new(path.outputs["Is Camera Ray"], mix.inputs["Fac"])
  links.new(lights.outputs[0], mix.inputs[1])
  links.new(camera_sees.outputs[0], mix.inputs[2])
  links.new(mix.outputs[0], output.inputs["Surface"])
  world.color = tuple(scene.background[:3])
  return world
