"""Scene values are validated on assignment, and errors name the attribute."""
import numpy as np
import pytest

import kubricgen as kb


@pytest.mark.parametrize("make, message", [
    (lambda: kb.Cube(position=(np.nan, 0, 0)), "Cube.position"),
    (lambda: kb.Cube(position=(0, 0)), "Cube.position"),
    (lambda: kb.Sphere(mass=-1), "Sphere.mass"),
    (lambda: kb.Cube(friction=float("inf")), "Cube.friction"),
    (lambda: kb.Cube(restitution=1.5), "Cube.restitution"),
    (lambda: kb.Cube(scale=0), "Cube.scale"),
    (lambda: kb.Cube(quaternion=(0, 0, 0, 0)), "Cube.quaternion"),
    (lambda: kb.Scene(resolution=(0, 64)), "Scene.resolution"),
    (lambda: kb.Scene(resolution=(64,)), "Scene.resolution"),
    (lambda: kb.Scene(resolution=(64, 64, 3)), "Scene.resolution"),
    (lambda: kb.Scene(resolution=(64.5, 64)), "Scene.resolution"),
    (lambda: kb.Scene(frame_start=5, frame_end=2), "Scene.frame_end"),
    (lambda: kb.Scene(frame_rate=24, step_rate=100), "Scene.step_rate"),
    (lambda: kb.PerspectiveCamera(focal_length=0), "PerspectiveCamera.focal_length"),
    (lambda: kb.PrincipledBSDFMaterial(color=(1, 0)), "PrincipledBSDFMaterial.color"),
    (lambda: kb.FileBasedObject(render_filename="/nonexistent/mesh.obj"), "FileBasedObject.render_filename"),
])
def test_invalid_values_raise_naming_the_attribute(make, message):
  with pytest.raises(ValueError, match=message):
    make()


def test_assignment_after_construction_is_validated_too():
  cube = kb.Cube()
  with pytest.raises(ValueError, match=r"Cube\.mass"):
    cube.mass = -3
  assert cube.mass == 1.0  # unchanged


def test_unknown_constructor_argument_is_refused():
  with pytest.raises(TypeError, match="unknown argument 'colour'"):
    kb.Cube(colour=(1, 0, 0))


def test_quaternions_are_normalised_and_read_only():
  cube = kb.Cube(quaternion=(2, 0, 0, 0))
  np.testing.assert_allclose(cube.quaternion, [1, 0, 0, 0])
  with pytest.raises(ValueError):
    cube.position[0] = 3.0


def test_keyframes_store_copies_and_interpolate():
  cube = kb.Cube(position=(0, 0, 0))
  cube.keyframe_insert("position", 0)
  cube.position = (2, 0, 0)
  cube.keyframe_insert("position", 2)
  np.testing.assert_allclose(cube.get_value_at("position", 1), [1, 0, 0])
  np.testing.assert_allclose(cube.get_value_at("position", 0), [0, 0, 0])
  with cube.at_frame(0):
    np.testing.assert_allclose(cube.position, [0, 0, 0])
  np.testing.assert_allclose(cube.position, [2, 0, 0])
  with pytest.raises(ValueError, match="not a property"):
    cube.keyframe_insert("colour", 0)
