"""PyBullet view of a scene: builds bodies from the scene's physical objects, steps them, writes keyframes back.

Each `PyBullet` owns its own DIRECT-mode physics client and passes its id to every call, so several simulators (one
scene after another, or side by side) never share state, unlike Kubric's global client.
"""
from __future__ import annotations

import logging
from typing import Any

import numpy as np

from kubricgen import atomic, console

try:
  with console.silenced():  # pybullet prints its build time on import
    import pybullet as pb
except ImportError as error:  # pragma: no cover - depends on the environment
  raise ImportError("kubricgen.simulator needs pybullet: pip install pybullet") from error

from kubricgen.scene import Cube, Cylinder, FileBasedObject, PhysicalObject, Scene, Sphere
from kubricgen.scene import geometry

log = logging.getLogger(__name__)
VHACD_RESOLUTION = 100_000
MAX_SUBSTEPS = 64  # the most physics sub-steps per step_rate step that run() takes to stop thin objects tunnelling


def convex_pieces_file(vertices: np.ndarray, faces, pieces=None) -> str | None:
  """An OBJ of convex pieces (one object each: Bullet makes them one compound shape) for a dynamic body's mesh
  (vertices (N, 3) float, faces as `Object.mesh()` gives them, unscaled): the object's own `collision_pieces()`
  where it has them (a torus: exact segments, instant), else V-HACD's (seconds, once: cached in the asset cache by
  the mesh's content); None for a mesh that fills at least 98% of its convex hull (the hull is then exact enough)."""
  import hashlib  # pylint: disable=import-outside-toplevel
  from kubricgen.assets import locations, meshes  # pylint: disable=import-outside-toplevel
  triangles = geometry.triangulate(faces)
  digest = hashlib.sha256(np.ascontiguousarray(vertices, np.float64).tobytes())
  digest.update(np.ascontiguousarray(triangles, np.int64).tobytes())
  digest.update(str(VHACD_RESOLUTION).encode())
  for piece_vertices, piece_faces in pieces or ():
    digest.update(np.ascontiguousarray(piece_vertices, np.float64).tobytes())
    digest.update(np.ascontiguousarray(piece_faces, np.int64).tobytes())
  folder = locations.cache_dir() / "collision"
  path = folder / f"{digest.hexdigest()[:32]}.obj"
  convex_marker = folder / f"{digest.hexdigest()[:32]}.convex"
  if path.exists():
    return str(path)
  if convex_marker.exists():
    return None
  folder.mkdir(parents=True, exist_ok=True)
  if pieces is None:
    if meshes.nearly_convex(np.asarray(vertices, np.float64), triangles):
      convex_marker.touch()
      return None
    pieces = meshes.convex_decomposition(np.asarray(vertices, np.float64), triangles, VHACD_RESOLUTION)
  with atomic.staged_file(path) as temporary:
    meshes.write_pieces(str(temporary), pieces)
  return str(path)


def _xyzw(q_wxyz) -> list[float]:
  w, x, y, z = q_wxyz
  return [x, y, z, w]


def _wxyz(q_xyzw) -> tuple[float, float, float, float]:
  x, y, z, w = q_xyzw
  return (w, x, y, z)


class PyBullet:
  """Kubric's simulator API: `PyBullet(scene)`, `run(frame_start, frame_end)`, `check_overlap(obj)`."""

  def __init__(self, scene: Scene, scratch_dir=None):
    self.scene = scene
    self.scratch_dir = scratch_dir
    scene.link_view(self)
    self.client = pb.connect(pb.DIRECT)
    self._bodies: dict[PhysicalObject, tuple[int, tuple]] = {}

  # ---- lifecycle ----------------------------------------------------------------------------------------------------

  def close(self) -> None:
    if getattr(self, "client", None) is not None:
      try:
        pb.disconnect(physicsClientId=self.client)
      except pb.error:
        pass
      self.client = None

  def __del__(self):
    self.close()

  def __enter__(self):
    return self

  def __exit__(self, *exc):
    self.close()

  # ---- bodies -------------------------------------------------------------------------------------------------------

  def _shape_key(self, obj: PhysicalObject) -> tuple:
    extra = getattr(obj, "minor_radius", None)
    return (type(obj), tuple(obj.scale), obj.mass, obj.static, extra,
            getattr(obj, "render_filename", None), getattr(obj, "simulation_filename", None))

  def _collision_shape(self, obj: PhysicalObject) -> int:
    scale = np.abs(np.asarray(obj.scale))
    uniform_xy = np.isclose(scale[0], scale[1])
    kw = {"physicsClientId": self.client}
    if isinstance(obj, Cube):
      return pb.createCollisionShape(pb.GEOM_BOX, halfExtents=scale.tolist(), **kw)
    if isinstance(obj, Sphere) and np.allclose(scale, scale[0]):
      return pb.createCollisionShape(pb.GEOM_SPHERE, radius=float(scale[0]), **kw)
    if isinstance(obj, Cylinder) and uniform_xy:
      return pb.createCollisionShape(pb.GEOM_CYLINDER, radius=float(scale[0]), height=2 * float(scale[2]), **kw)
    if isinstance(obj, FileBasedObject) and obj.collision_filename:
      return pb.createCollisionShape(pb.GEOM_MESH, fileName=obj.collision_filename, meshScale=scale.tolist(), **kw)
    vertices, faces = obj.mesh()
    if obj.static or obj.mass == 0:  # static bodies may be concave: use the exact triangle mesh
      return pb.createCollisionShape(pb.GEOM_MESH, vertices=(vertices * np.asarray(obj.scale)).tolist(),
                                     indices=geometry.triangulate(faces).reshape(-1).tolist(),
                                     flags=pb.GEOM_FORCE_CONCAVE_TRIMESH, **kw)
    # Bullet collides a dynamic mesh as one convex hull; a concave one (a torus) is split into convex pieces first
    # (V-HACD, as the asset importer does for user meshes; cached by the mesh's content), so it collides as its shape.
    pieces = obj.collision_pieces() if hasattr(obj, "collision_pieces") else None
    pieces_file = convex_pieces_file(vertices, faces, pieces)
    if pieces_file is not None:
      return pb.createCollisionShape(pb.GEOM_MESH, fileName=pieces_file, meshScale=scale.tolist(), **kw)
    return pb.createCollisionShape(pb.GEOM_MESH, vertices=(vertices * np.asarray(obj.scale)).tolist(), **kw)

  def _create_body(self, obj: PhysicalObject) -> int:
    mass = 0.0 if obj.static else obj.mass
    if isinstance(obj, FileBasedObject) and obj.simulation_filename:
      scale = np.abs(np.asarray(obj.scale, dtype=np.float64))
      if not np.allclose(scale, scale[0]):  # loadURDF scales uniformly; Kubric refuses this case too
        raise ValueError(f"PyBullet: {obj.name!r} has a URDF (simulation_filename) and non-uniform scale "
                         f"{tuple(float(s) for s in scale)}; PyBullet scales a URDF uniformly: give it a uniform "
                         "scale, or a collision_filename mesh instead of the URDF")
      body = pb.loadURDF(obj.simulation_filename, globalScaling=float(np.abs(obj.scale).max()),
                         useFixedBase=obj.static, physicsClientId=self.client)
      if not obj.static:
        pb.changeDynamics(body, -1, mass=mass, physicsClientId=self.client)
    else:
      shape = self._collision_shape(obj)
      body = pb.createMultiBody(baseMass=mass, baseCollisionShapeIndex=shape, physicsClientId=self.client)
    pb.changeDynamics(body, -1, lateralFriction=obj.friction, restitution=obj.restitution,
                      linearDamping=0.0, angularDamping=0.0, physicsClientId=self.client)
    return body

  def _sync(self) -> None:
    """Create, replace or remove bodies so PyBullet mirrors the scene, then copy poses and velocities in."""
    objects = self.scene.objects
    for obj in [o for o in self._bodies if o not in objects]:
      pb.removeBody(self._bodies.pop(obj)[0], physicsClientId=self.client)
    for obj in objects:
      key = self._shape_key(obj)
      body, old_key = self._bodies.get(obj, (None, None))
      if body is not None and old_key != key:
        pb.removeBody(body, physicsClientId=self.client)
        body = None
      if body is None:
        body = self._create_body(obj)
        self._bodies[obj] = (body, key)
      pb.resetBasePositionAndOrientation(body, obj.position.tolist(), _xyzw(obj.quaternion),
                                         physicsClientId=self.client)
      pb.resetBaseVelocity(body, obj.velocity.tolist(), obj.angular_velocity.tolist(), physicsClientId=self.client)

  def body_of(self, obj: PhysicalObject) -> int:
    return self._bodies[obj][0]

  # ---- queries ------------------------------------------------------------------------------------------------------

  def check_overlap(self, obj: PhysicalObject, margin: float = 0.0) -> bool:
    """True if `obj` (at its current pose) penetrates any other body by more than `margin` metres."""
    self._sync()
    body = self.body_of(obj)
    pb.performCollisionDetection(physicsClientId=self.client)
    for other, _ in self._bodies.values():
      if other == body:
        continue
      for contact in pb.getClosestPoints(body, other, distance=0.0, physicsClientId=self.client):
        if contact[8] < -margin:
          return True
    return False

  def save_state(self, path="scene.bullet") -> None:
    """Kubric's `save_state`: the physics world as a .bullet file (PyBullet's saveBullet), to inspect it; missing
    folders are created and the file is replaced in one step."""
    import os  # pylint: disable=import-outside-toplevel
    self._sync()
    path = os.path.abspath(os.fspath(path))
    with atomic.staged_file(path) as temporary:
      pb.saveBullet(str(temporary), physicsClientId=self.client)

  # ---- simulation ---------------------------------------------------------------------------------------------------

  def run(self, frame_start: int | None = None, frame_end: int | None = None
          ) -> tuple[dict[PhysicalObject, dict[str, list]], list[dict[str, Any]]]:
    """Simulate from `frame_start` (the scene's current state) to `frame_end`.

    Writes position, quaternion, velocity and angular_velocity keyframes for every frame in the range to each
    non-static object, and returns (animation, collisions): animation maps each object to per-frame lists;
    collisions holds one event per touching pair and frame, taken at the physics step of that frame with the
    largest total normal force: {instances: (name_a, name_b), frame (fractional, at that step), force (N, summed
    over contact points), position (force-weighted contact point on b, m), normal (on b, pointing towards a),
    new_contact (True if the pair was not touching in the previous frame)}.
    """
    scene = self.scene
    scene.check()
    frame_start = scene.frame_start if frame_start is None else int(frame_start)
    frame_end = scene.frame_end if frame_end is None else int(frame_end)
    if frame_end < frame_start:
      raise ValueError(f"PyBullet.run: frame_end ({frame_end}) < frame_start ({frame_start})")
    steps_per_frame = scene.step_rate // scene.frame_rate
    self._sync()
    pb.setGravity(*scene.gravity.tolist(), physicsClientId=self.client)
    self.last_substeps = self.substeps()
    pb.setPhysicsEngineParameter(fixedTimeStep=1.0 / scene.step_rate, numSubSteps=self.last_substeps,
                                 physicsClientId=self.client)

    movable = [o for o in self._bodies if not o.static]
    by_body = {body: obj for obj, (body, _) in self._bodies.items()}
    animation = {obj: {"position": [], "quaternion": [], "velocity": [], "angular_velocity": []} for obj in movable}
    collisions: list[dict[str, Any]] = []

    def record(frame: int) -> None:
      for obj in movable:
        body = self.body_of(obj)
        position, orientation = pb.getBasePositionAndOrientation(body, physicsClientId=self.client)
        velocity, angular = pb.getBaseVelocity(body, physicsClientId=self.client)
        obj.position, obj.quaternion = position, _wxyz(orientation)
        obj.velocity, obj.angular_velocity = velocity, angular
        for member in animation[obj]:
          obj.keyframe_insert(member, frame)
          animation[obj][member].append(np.array(getattr(obj, member)))

    record(frame_start)
    touching: set = set()
    for frame in range(frame_start + 1, frame_end + 1):
      strongest: dict[tuple, dict] = {}
      for step in range(steps_per_frame):
        pb.stepSimulation(physicsClientId=self.client)
        for event in self._contacts(by_body, frame - 1 + (step + 1) / steps_per_frame):
          pair = event["instances"]
          if pair not in strongest or event["force"] > strongest[pair]["force"]:
            strongest[pair] = event
      for pair in sorted(strongest):
        strongest[pair]["new_contact"] = pair not in touching
        collisions.append(strongest[pair])
      touching = set(strongest)
      record(frame)
    return animation, collisions

  def substeps(self) -> int:
    """Physics sub-steps per `scene.step_rate` step, so that no moving object tunnels through another.

    Bullet detects contacts between discrete poses: an object that moves further in one step than about half the
    thickness of what it hits passes through it (measured: a 2 cm cube dropped 5 m onto a 2 cm thick floor at 240
    steps/s ended 315 m below it). Each moving object's speed is bounded by energy, |v| <= sqrt(|v0|^2 + 2 |g| h)
    with h the scene's extent along gravity, and the step is divided until no object moves more than half of the
    thinner of its own thickness and the thinnest other object's (thickness: the smallest extent of the local,
    object-aligned box). Ordinary scenes need 1 (MOVi: 0.35 m objects on a 0.2 m floor); at most MAX_SUBSTEPS,
    beyond which a warning says that thin, fast objects may still tunnel (raise `scene.step_rate`).
    """
    scene = self.scene
    objects = list(scene.objects)
    moving = [o for o in objects if not o.static]
    if not moving or len(objects) < 2:
      return 1
    def thickness(obj):
      low, high = obj.bounds
      return float(np.min((high - low) * np.abs(obj.scale)))
    gravity = float(np.linalg.norm(scene.gravity))
    down = scene.gravity / gravity if gravity > 0 else np.zeros(3)
    heights = [c @ down for o in objects for c in o.bbox_3d]
    drop = max(heights) - min(heights)
    step = 1.0 / scene.step_rate
    needed, worst = 1, None
    for obj in moving:
      speed = float(np.sqrt(np.sum(obj.velocity ** 2) + 2 * gravity * drop))
      thinnest = min([thickness(obj)] + [thickness(o) for o in objects if o is not obj])
      count = int(np.ceil(speed * step / (0.5 * thinnest))) if thinnest > 0 else MAX_SUBSTEPS + 1
      if count > needed:
        needed, worst = count, (obj, speed, thinnest)
    if needed > MAX_SUBSTEPS:
      obj, speed, thinnest = worst
      log.warning("PyBullet.run: %r may reach %.1f m/s against objects %.3g m thin; that needs %d sub-steps per "
                  "step at step_rate %d, capped at %d: it may pass through them (raise scene.step_rate)",
                  obj.name, speed, thinnest, needed, scene.step_rate, MAX_SUBSTEPS)
    return min(needed, MAX_SUBSTEPS)

  def _contacts(self, by_body: dict[int, PhysicalObject], frame: float) -> list[dict[str, Any]]:
    pairs: dict[tuple[int, int], list] = {}
    for contact in pb.getContactPoints(physicsClientId=self.client):
      force = contact[9]
      if force > 0:
        pairs.setdefault((contact[1], contact[2]), []).append(contact)
    events = []
    for (a, b), contacts in sorted(pairs.items()):
      forces = np.array([c[9] for c in contacts])
      positions = np.array([c[6] for c in contacts])  # on body b
      strongest = contacts[int(np.argmax(forces))]
      events.append({
          "instances": (by_body[a].name, by_body[b].name),
          "frame": round(float(frame), 6),
          "force": float(forces.sum()),
          "position": (forces[:, None] * positions).sum(0) / forces.sum(),
          "normal": np.asarray(strongest[7]),
      })
    return events
