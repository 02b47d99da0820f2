"""Rendering views of a scene (Blender through the `bpy` module)."""
