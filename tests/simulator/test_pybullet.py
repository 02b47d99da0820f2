"""PyBullet view: physics that matches the equations, collision events, isolation between scenes."""
import numpy as np
import pytest

import kubricgen as kb
from kubricgen.simulator.pybullet import PyBullet

G = 9.81


def falling_scene(height=10.0, frames=24, with_floor=False):
  scene = kb.Scene(frame_start=0, frame_end=frames, frame_rate=24, step_rate=240, gravity=(0, 0, -G))
  ball = kb.Sphere(name="ball", position=(0, 0, height), scale=0.5, restitution=0.9)
  scene += ball
  if with_floor:
    scene += kb.Cube(name="floor", scale=(5, 5, 0.5), position=(0, 0, -0.5), static=True, background=True,
                     restitution=0.9)
  return scene, ball


def test_free_fall_matches_half_g_t_squared():
  scene, ball = falling_scene()
  with PyBullet(scene) as simulator:
    simulator.run()
  dt = 1 / 240
  for frame in (12, 18, 24):
    t = frame / 24
    fallen = 10.0 - ball.keyframes["position"][frame][2]
    assert fallen == pytest.approx(0.5 * G * t * t, rel=0.01)
    assert ball.keyframes["velocity"][frame][2] == pytest.approx(-G * t, rel=1e-6)
  for frame in range(25):  # exactly the semi-implicit Euler sum g dt^2 n (n + 1) / 2 after n steps
    n = frame * 10
    assert 10.0 - ball.keyframes["position"][frame][2] == pytest.approx(G * dt * dt * n * (n + 1) / 2, abs=1e-9)


def test_initial_velocity_is_honoured():
  scene, ball = falling_scene()
  scene.gravity = (0, 0, 0)
  ball.velocity = (2.0, 0, 0)
  with PyBullet(scene) as simulator:
    simulator.run(0, 12)
  assert ball.keyframes["position"][12][0] == pytest.approx(1.0, rel=1e-3)


def test_a_ball_hitting_the_floor_produces_a_collision_event_at_the_right_time():
  scene, ball = falling_scene(height=5.0, frames=36, with_floor=True)
  with PyBullet(scene) as simulator:
    _, collisions = simulator.run()
  impacts = [c for c in collisions if set(c["instances"]) == {"ball", "floor"} and c["new_contact"]]
  assert impacts, "no collision event"
  first = impacts[0]
  expected_frame = np.sqrt(2 * (5.0 - 0.5) / G) * 24  # centre falls 4.5 m until the surfaces touch
  assert first["frame"] == pytest.approx(expected_frame, abs=1.0)
  assert first["force"] > 0
  np.testing.assert_allclose(np.abs(first["normal"]), [0, 0, 1], atol=1e-6)
  assert abs(first["position"][2]) < 0.05  # on the floor's top face
  # The ball bounced: it went up again after the impact.
  heights = [ball.keyframes["position"][f][2] for f in range(int(first["frame"]) + 1, 37)]
  assert max(heights) > heights[0] + 0.1


def test_static_objects_do_not_move_and_get_no_keyframes():
  scene, _ = falling_scene(frames=6, with_floor=True)
  floor = scene.assets[1]
  with PyBullet(scene) as simulator:
    animation, _ = simulator.run()
  assert floor not in animation and "position" not in floor.keyframes


def test_scenes_simulated_in_one_process_do_not_interfere():
  def trajectory(scene, ball):
    with PyBullet(scene) as simulator:
      simulator.run()
    return np.array([ball.keyframes["position"][f] for f in range(25)])

  alone = trajectory(*falling_scene(with_floor=True))
  # Two simulators alive at once, plus one after the others closed.
  scene_a, ball_a = falling_scene(with_floor=True)
  scene_b, ball_b = falling_scene(height=3.0)
  sim_a, sim_b = PyBullet(scene_a), PyBullet(scene_b)
  sim_b.run()
  sim_a.run()
  sim_a.close()
  sim_b.close()
  np.testing.assert_array_equal(np.array([ball_a.keyframes["position"][f] for f in range(25)]), alone)
  np.testing.assert_array_equal(trajectory(*falling_scene(with_floor=True)), alone)


def test_overlap_check_and_placement():
  scene = kb.Scene()
  a = kb.Cube(name="a", position=(0, 0, 0))
  b = kb.Cube(name="b", position=(0.5, 0, 0))
  scene += [a, b]
  with PyBullet(scene) as simulator:
    assert simulator.check_overlap(b)
    b.position = (3, 0, 0)
    assert not simulator.check_overlap(b)
    rng = np.random.RandomState(0)
    b.position = (0, 0, 0)
    kb.move_until_no_overlap(b, simulator, spawn_region=((-4, -4, 0), (4, 4, 0)), rng=rng)
    assert not simulator.check_overlap(b)
    with pytest.raises(RuntimeError, match="no free spot"):
      kb.move_until_no_overlap(b, simulator, spawn_region=((0, 0, 0), (0, 0, 0)), rng=rng, max_trials=5)


def test_simulation_is_deterministic():
  def run():
    scene = kb.Scene(frame_start=0, frame_end=24)
    rng = np.random.RandomState(3)
    scene += kb.Cube(name="floor", scale=(5, 5, 0.1), position=(0, 0, -0.1), static=True)
    objects = []
    with PyBullet(scene) as simulator:
      for _ in range(5):
        obj = kb.Cube(scale=0.3, velocity=rng.uniform(-2, 2, 3))
        scene += obj
        kb.move_until_no_overlap(obj, simulator, spawn_region=((-2, -2, 0.5), (2, 2, 3)), rng=rng)
        objects.append(obj)
      _, collisions = simulator.run()
    return [o.keyframes["quaternion"][24] for o in objects], len(collisions)

  first, second = run(), run()
  np.testing.assert_array_equal(first[0], second[0])
  assert first[1] == second[1]


def ring_and_ball(ring, tmp_path, monkeypatch):
  """A dynamic ring lying on a floor, a 5 cm ball dropped through its hole; returns the ball's and ring's final z."""
  monkeypatch.setenv("KUBRICGEN_ASSET_CACHE", str(tmp_path / "cache"))
  scene = kb.Scene(frame_start=0, frame_end=48, frame_rate=24, step_rate=240)
  scene += kb.Cube(name="floor", scale=(5, 5, 0.1), position=(0, 0, -0.1), static=True, background=True)
  scene += ring
  ball = kb.Sphere(name="ball", scale=0.025, position=(0, 0, 1.0), mass=0.05)
  scene += ball
  with PyBullet(scene) as simulator:
    simulator.run()
  return ball.keyframes["position"][48][2], ring.keyframes["position"][48][2]


def test_a_dynamic_torus_collides_as_a_torus_not_its_hull(tmp_path, monkeypatch):
  """A dynamic torus held a ball on an invisible cap over its hole (z = 0.25 m): it collided as its convex hull.
  Expected: the ball falls through the hole onto the floor (z = its radius), the torus rests on its tube."""
  torus = kb.Torus(name="torus", scale=0.5, minor_radius=0.2, position=(0, 0, 0.11))
  ball_z, torus_z = ring_and_ball(torus, tmp_path, monkeypatch)
  assert ball_z == pytest.approx(0.025, abs=0.003)
  assert torus_z == pytest.approx(0.5 * 0.2, abs=0.005)  # tube radius 0.2 at scale 0.5


def test_a_dynamic_concave_mesh_file_collides_as_its_shape(tmp_path, monkeypatch):
  """The same for a mesh file without a collision file (V-HACD pieces, cached): a thick ring, 0.25 m high."""
  import trimesh
  from kubricgen.simulator import pybullet as simulator_module
  monkeypatch.setattr(simulator_module, "VHACD_RESOLUTION", 50_000)
  path = tmp_path / "ring.obj"
  trimesh.creation.annulus(r_min=0.6, r_max=1.0, height=0.5).export(path)
  ring = kb.FileBasedObject(name="ring", render_filename=str(path), asset_id="ring", scale=0.5, mass=1.0,
                            position=(0, 0, 0.13))
  ball_z, ring_z = ring_and_ball(ring, tmp_path, monkeypatch)
  assert ball_z == pytest.approx(0.025, abs=0.005)  # through the hole, not on a cap at 0.25 m
  assert ring_z == pytest.approx(0.125, abs=0.01)
  assert list((tmp_path / "cache" / "collision").glob("*.obj"))  # the pieces are cached for the next run


THIN_FLOOR = (10, 10, 0.01)  # a 2 cm thick floor, top face at z = 0


@pytest.mark.parametrize("make, half_height", [
    (lambda: kb.Cube(name="cube", scale=0.01, mass=0.02), 0.01),  # 2 cm, 20 g: the users' report
    (lambda: kb.Sphere(name="ball", scale=0.005, mass=0.005), 0.005),  # 1 cm sphere
    (lambda: kb.Sphere(name="ball", scale=0.01, mass=0.02), 0.01),  # 2 cm sphere
], ids=["cube_2cm", "sphere_1cm", "sphere_2cm"])
def test_small_objects_dropped_from_5_m_rest_on_a_thin_floor_instead_of_tunnelling(make, half_height):
  """Dropped from 5 m, they hit the floor at about 10 m/s (4 cm per 1/240 s step, more than the floor is thick)."""
  scene = kb.Scene(frame_start=0, frame_end=8 * 24)
  scene += kb.Cube(name="floor", scale=THIN_FLOOR, position=(0, 0, -0.01), static=True)
  obj = make()
  obj.position = (0, 0, 5.0)
  scene += obj
  with PyBullet(scene) as simulator:
    simulator.run()
    assert simulator.last_substeps > 1
  assert obj.position[2] == pytest.approx(half_height, abs=2e-3)
  np.testing.assert_allclose(obj.velocity, 0, atol=1e-2)


def test_a_fast_ball_thrown_at_a_thin_wall_stays_on_its_side():
  scene = kb.Scene(frame_start=0, frame_end=24, gravity=(0, 0, 0))
  scene += kb.Cube(name="wall", scale=(0.005, 2, 2), static=True)  # 1 cm thick, at x = 0
  # 25 cm per 1/240 s step: without sub-steps its poses would be x = -0.13 and then +0.12, never touching the wall.
  ball = kb.Sphere(name="ball", scale=0.01, position=(-1.13, 0, 0), velocity=(60, 0, 0), restitution=0.5)
  scene += ball
  with PyBullet(scene) as simulator:
    simulator.run()
  assert ball.position[0] < -0.02  # bounced back; tunnelling would leave it beyond x = 0.005
  assert ball.velocity[0] < 0


def test_ordinary_scenes_take_no_substeps_and_a_capped_count_is_a_warning(caplog):
  scene, _ = falling_scene(height=5.0, with_floor=True)  # a 1 m ball on a 1 m thick floor
  with PyBullet(scene) as simulator:
    assert simulator.substeps() == 1
  scene = kb.Scene(frame_start=0, frame_end=2)
  scene += kb.Cube(name="foil", scale=(1, 1, 1e-5), static=True)
  scene += kb.Sphere(name="grain", scale=1e-4, position=(0, 0, 50))
  with PyBullet(scene) as simulator, caplog.at_level("WARNING"):
    assert simulator.substeps() == 64
  assert "may pass through them (raise scene.step_rate)" in caplog.text


def test_a_urdf_object_with_non_uniform_scale_is_refused_in_one_line(tmp_path):
  """PyBullet scales a URDF uniformly (loadURDF's globalScaling): a (2, 2, 0.1) scale would collide as a 2 m cube."""
  (tmp_path / "box.obj").write_text("v -1 -1 -1\nv 1 -1 -1\nv 1 1 -1\nv -1 1 -1\nv -1 -1 1\nv 1 -1 1\nv 1 1 1\n"
                                    "v -1 1 1\nf 1 2 3 4\nf 5 6 7 8\nf 1 2 6 5\nf 2 3 7 6\nf 3 4 8 7\nf 4 1 5 8\n")
  (tmp_path / "box.urdf").write_text(
      '<robot name="box"><link name="base"><inertial><mass value="1"/><inertia ixx="1" ixy="0" ixz="0" iyy="1" '
      'iyz="0" izz="1"/></inertial><collision><geometry><box size="2 2 2"/></geometry></collision></link></robot>')
  scene = kb.Scene(frame_start=0, frame_end=2)
  scene += kb.FileBasedObject(name="slab", render_filename=str(tmp_path / "box.obj"),
                              simulation_filename=str(tmp_path / "box.urdf"), scale=(2, 2, 0.1))
  with PyBullet(scene) as simulator, pytest.raises(ValueError, match=r"'slab' has a URDF .* non-uniform scale"):
    simulator.run()
