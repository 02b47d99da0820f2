"""Mesh operations for assets (trimesh + numpy): load, orient, normalise, write OBJ, collision pieces, mass.

Conventions: assets are Z-up; a normalised mesh has its bounding box centred on the origin with the largest
half-extent 1 (like the primitives); collision shapes are OBJ files of convex pieces, one `o` group each, which
PyBullet turns into a compound of convex hulls.
"""
from __future__ import annotations

import os
import pathlib
import tempfile
import xml.etree.ElementTree as ElementTree

import numpy as np

from kubricgen import console
from kubricgen.assets.errors import AssetError

MESH_SUFFIXES = (".obj", ".glb", ".gltf", ".stl", ".ply")


def up_rotation(up_axis: str) -> np.ndarray:
  """3x3 rotation that maps the file's `up_axis` onto +Z (keeping a right-handed frame)."""
  table = {
      "+z": np.eye(3),
      "-z": np.diag([1.0, -1.0, -1.0]),
      "+y": np.array([[1.0, 0, 0], [0, 0, -1], [0, 1, 0]]),  # +90 deg about X: y -> z
      "-y": np.array([[1.0, 0, 0], [0, 0, 1], [0, -1, 0]]),
      "+x": np.array([[0, 0, -1.0], [0, 1, 0], [1, 0, 0]]),  # -90 deg about Y: x -> z
      "-x": np.array([[0, 0, 1.0], [0, 1, 0], [-1, 0, 0]]),
  }
  return table[up_axis]


def orientation(up_axis: str, front_axis: str | None = None) -> np.ndarray:
  """3x3 rotation taking file coordinates to asset coordinates: `up_axis` -> +Z and, if given, `front_axis` -> -Y
  (the side a default camera sees)."""
  if front_axis is None:
    return up_rotation(up_axis)
  axis = {"x": 0, "y": 1, "z": 2}
  def unit(name):
    vector = np.zeros(3)
    vector[axis[name[1]]] = 1.0 if name[0] == "+" else -1.0
    return vector
  z, y = unit(up_axis), -unit(front_axis)
  if abs(z @ y) > 1e-9:
    raise AssetError(f"front_axis {front_axis} is parallel to up_axis {up_axis}")
  return np.stack([np.cross(y, z), y, z])


def load_mesh(path, allowed: set | None = None):
  """A trimesh.Trimesh from an OBJ/GLB/STL/PLY file, or the assembled visuals of a URDF file."""
  import trimesh  # pylint: disable=import-outside-toplevel
  path = pathlib.Path(path)
  if path.suffix.lower() == ".urdf":
    return load_urdf_visuals(path, allowed)
  try:
    with console.silenced():
      mesh = trimesh.load(str(path), force="mesh", process=False)
  except Exception as error:  # trimesh raises many kinds for unreadable files
    raise AssetError(f"{path}: cannot read mesh: {error}") from None
  if not isinstance(mesh, trimesh.Trimesh) or len(mesh.faces) == 0:
    raise AssetError(f"{path}: no triangles found")
  return mesh


def _origin(element) -> np.ndarray:
  from kubricgen.scene import transforms  # pylint: disable=import-outside-toplevel
  matrix = np.eye(4)
  origin = element.find("origin") if element is not None else None
  if origin is not None:
    xyz = np.array([float(v) for v in origin.get("xyz", "0 0 0").split()])
    rpy = [float(v) for v in origin.get("rpy", "0 0 0").split()]
    matrix[:3, :3] = transforms.quaternion_to_matrix(transforms.euler_to_quaternion(rpy))[:3, :3]
    matrix[:3, 3] = xyz
  return matrix


def load_urdf_visuals(path: pathlib.Path, allowed: set | None = None):
  """All visual geometry of a URDF (every link, placed through its fixed-joint chain) as one mesh.

  Mesh files must be inside the URDF's folder and, when `allowed` is given, among those paths (the manifest's
  verified files). A shared texture is kept; parts with different textures lose theirs.
  """
  import trimesh  # pylint: disable=import-outside-toplevel
  try:
    robot = ElementTree.parse(path).getroot()
  except ElementTree.ParseError as error:
    raise AssetError(f"{path}: not valid URDF XML: {error}") from None
  parent_of = {j.find("child").get("link"): (j.find("parent").get("link"), _origin(j)) for j in robot.iter("joint")}

  def link_pose(name: str) -> np.ndarray:
    if name not in parent_of:
      return np.eye(4)
    parent, origin = parent_of[name]
    return link_pose(parent) @ origin

  parts, images = [], []
  for link in robot.iter("link"):
    pose = link_pose(link.get("name"))
    for visual in link.iter("visual"):
      geometry = visual.find("geometry")
      shape = next(iter(geometry), None) if geometry is not None else None
      if shape is None:
        continue
      if shape.tag == "mesh":
        target = (path.parent / shape.get("filename")).resolve()
        if path.parent.resolve() not in target.parents or (allowed is not None and target not in allowed):
          raise AssetError(f"{path}: visual mesh {shape.get('filename')!r} is not a listed file of the asset")
        part = load_mesh(target).copy()
        part.apply_scale(np.array([float(v) for v in shape.get("scale", "1 1 1").split()]))
      elif shape.tag == "box":
        part = trimesh.creation.box([float(v) for v in shape.get("size").split()])
      elif shape.tag == "cylinder":
        part = trimesh.creation.cylinder(float(shape.get("radius")), float(shape.get("length")), sections=32)
      elif shape.tag == "sphere":
        part = trimesh.creation.icosphere(3, float(shape.get("radius")))
      else:
        continue
      part.apply_transform(pose @ _origin(visual))
      parts.append(part)
      images.append(texture_image(part))
  if not parts:
    raise AssetError(f"{path}: URDF has no visual geometry")
  keys = {None if image is None else image.tobytes() for image in images}
  textured = len(keys) == 1 and None not in keys and all(uv_of(p) is not None for p in parts)
  vertices = np.concatenate([p.vertices for p in parts])
  offsets = np.cumsum([0] + [len(p.vertices) for p in parts[:-1]])
  faces = np.concatenate([p.faces + o for p, o in zip(parts, offsets)])
  mesh = trimesh.Trimesh(vertices, faces, process=False)
  if textured:
    material = trimesh.visual.material.SimpleMaterial(image=images[0])
    mesh.visual = trimesh.visual.TextureVisuals(uv=np.concatenate([uv_of(p) for p in parts]), material=material)
  return mesh


def uv_of(mesh) -> np.ndarray | None:
  uv = getattr(mesh.visual, "uv", None)
  return None if uv is None or len(uv) != len(mesh.vertices) else np.asarray(uv, dtype=np.float64)


def texture_image(mesh):
  """The mesh's base-colour texture as a PIL image (RGB), or None."""
  material = getattr(mesh.visual, "material", None)
  image = getattr(material, "image", None)
  if image is None:
    image = getattr(material, "baseColorTexture", None)
  if image is None or uv_of(mesh) is None:
    return None
  return image.convert("RGB")


def mean_color(mesh) -> tuple[float, float, float] | None:
  """Average vertex/face colour (sRGB 0..1) of a coloured mesh without texture, or None."""
  visual = mesh.visual
  if getattr(visual, "kind", None) not in ("vertex", "face"):
    return None
  colors = np.asarray(visual.vertex_colors if visual.kind == "vertex" else visual.face_colors, dtype=np.float64)
  if colors.size == 0:
    return None
  rgb = colors[:, :3].mean(0) / 255
  return tuple(float(c) for c in rgb)


def normalise(vertices: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
  """(vertices centred on their bounding box and scaled to largest half-extent 1, centre, half-extent)."""
  low, high = vertices.min(0), vertices.max(0)
  centre = (low + high) / 2
  half = float((high - low).max() / 2)
  if not np.isfinite(half) or half <= 0:
    raise AssetError("mesh is degenerate (zero size)")
  return (vertices - centre) / half, centre, half


# ---- OBJ files --------------------------------------------------------------------------------------------------------


def write_obj(path, vertices, faces, uv=None) -> None:
  """A plain OBJ (positions, optional per-vertex UVs, triangles); no MTL: materials are set by the asset."""
  lines = ["# kubricgen asset mesh"]
  lines += [f"v {x:.6f} {y:.6f} {z:.6f}" for x, y, z in np.asarray(vertices)]
  faces = np.asarray(faces) + 1
  if uv is not None:
    lines += [f"vt {u:.6f} {v:.6f}" for u, v in np.asarray(uv)]
    lines += [f"f {a}/{a} {b}/{b} {c}/{c}" for a, b, c in faces]
  else:
    lines += [f"f {a} {b} {c}" for a, b, c in faces]
  pathlib.Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_pieces(path, pieces: list[tuple[np.ndarray, np.ndarray]]) -> None:
  """An OBJ with one `o` group per convex piece (PyBullet's compound collision format)."""
  lines, offset = ["# kubricgen convex collision pieces"], 1
  for index, (vertices, faces) in enumerate(pieces):
    lines.append(f"o piece_{index}")
    lines += [f"v {x:.6f} {y:.6f} {z:.6f}" for x, y, z in vertices]
    lines += [f"f {a + offset} {b + offset} {c + offset}" for a, b, c in np.asarray(faces)]
    offset += len(vertices)
  pathlib.Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")


def read_pieces(path) -> list[tuple[np.ndarray, np.ndarray]]:
  """The `o`/`g` groups of an OBJ as (vertices, faces) pairs (faces re-indexed per piece)."""
  vertices, groups, current = [], [], None
  with open(path, encoding="utf-8", errors="replace") as handle:
    for line in handle:
      tag, _, rest = line.strip().partition(" ")
      if tag == "v":
        vertices.append([float(v) for v in rest.split()[:3]])
      elif tag in ("o", "g"):
        current = None
      elif tag == "f":
        if current is None:
          current = []
          groups.append(current)
        indices = [int(token.split("/")[0]) for token in rest.split()]
        indices = [i - 1 if i > 0 else len(vertices) + i for i in indices]
        current += [(indices[0], indices[k], indices[k + 1]) for k in range(1, len(indices) - 1)]
  vertices = np.asarray(vertices, dtype=np.float64)
  pieces = []
  for faces in groups:
    faces = np.asarray(faces)
    used, inverse = np.unique(faces, return_inverse=True)
    pieces.append((vertices[used], inverse.reshape(-1, 3)))
  return pieces


def hull(vertices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
  """The convex hull of (N, 3) points (kubricgen.scene.geometry.convex_hull)."""
  from kubricgen.scene import geometry  # pylint: disable=import-outside-toplevel
  return geometry.convex_hull(vertices)


def nearly_convex(vertices: np.ndarray, faces: np.ndarray, ratio: float = 0.98) -> bool:
  """True for a closed mesh that fills at least `ratio` of its convex hull (V-HACD would return the hull anyway)."""
  import trimesh  # pylint: disable=import-outside-toplevel
  mesh = trimesh.Trimesh(vertices, faces, process=True)
  if not mesh.is_watertight:
    return False
  hull_volume = mesh.convex_hull.volume
  return bool(hull_volume > 0 and abs(mesh.volume) / hull_volume >= ratio)


def is_solid(vertices: np.ndarray) -> bool:
  """False for flat or degenerate point sets (a disc, a line), whose hull has no volume."""
  points = np.asarray(vertices, dtype=np.float64)
  if len(points) < 4:
    return False
  centred = points - points.mean(0)
  extent = np.linalg.svd(centred, compute_uv=False)
  return bool(extent[-1] > 1e-6 * max(extent[0], 1e-12))


def convex_decomposition(vertices: np.ndarray, faces: np.ndarray, resolution: int = 100_000,
                         max_hulls: int = 32) -> list[tuple[np.ndarray, np.ndarray]]:
  """Convex pieces with PyBullet's V-HACD (`resolution` voxels; teddy-sized meshes take seconds: cache it)."""
  with console.silenced():  # pybullet prints its build time on import
    import pybullet  # pylint: disable=import-outside-toplevel
  with tempfile.TemporaryDirectory(prefix="kubricgen-vhacd-") as folder:
    source, target, log = (os.path.join(folder, n) for n in ("in.obj", "out.obj", "log.txt"))
    write_obj(source, vertices, faces)
    with console.silenced():
      pybullet.vhacd(source, target, log, resolution=int(resolution), maxNumVerticesPerCH=64, concavity=0.0025)
    pieces = read_pieces(target) if os.path.exists(target) else []
  pieces = [p for p in pieces if len(p[0]) >= 4]
  if not pieces:
    return [hull(vertices)]
  if len(pieces) > max_hulls:  # merge the smallest pieces' points into hulls until the budget is met
    pieces.sort(key=lambda p: -np.prod(np.ptp(p[0], 0)))
    rest = np.concatenate([p[0] for p in pieces[max_hulls - 1:]])
    pieces = pieces[:max_hulls - 1] + [hull(rest)]
  return pieces


def mass_properties(pieces: list[tuple[np.ndarray, np.ndarray]], size_m: float, density: float) -> dict:
  """Mass, volume (m^3, at real size), centre of mass and inertia (normalised frame, per kg) from convex pieces."""
  import trimesh  # pylint: disable=import-outside-toplevel
  solids = []
  for vertices, faces in pieces:
    if not is_solid(vertices):
      continue
    piece = trimesh.Trimesh(vertices, faces, process=True)
    if not piece.is_volume:
      piece = trimesh.convex.convex_hull(vertices)
    solids.append((float(abs(piece.volume)), np.asarray(piece.center_mass), np.asarray(piece.moment_inertia)))
  volume = sum(s[0] for s in solids)
  if volume <= 0:
    raise AssetError("collision pieces have no volume")
  centre = sum(v * c for v, c, _ in solids) / volume
  inertia = np.zeros((3, 3))
  for piece_volume, piece_centre, piece_inertia in solids:  # parallel-axis theorem about the common centre
    offset = piece_centre - centre
    inertia += piece_inertia + piece_volume * (
        offset @ offset * np.eye(3) - np.outer(offset, offset))
  real_volume = volume * size_m ** 3
  return {"density": density, "volume": round(real_volume, 9), "mass": round(real_volume * density, 6),
          "center_of_mass": [round(float(c), 6) for c in centre],
          "inertia_per_kg": [[round(float(v) / volume, 6) for v in row] for row in inertia]}


# MTL texture-map options and how many values each takes (-o, -s, -t take 1 to 3 numbers), from the MTL spec.
_MAP_OPTIONS = {"-blendu": 1, "-blendv": 1, "-bm": 1, "-boost": 1, "-cc": 1, "-clamp": 1, "-imfchan": 1, "-mm": 2,
                "-texres": 1, "-type": 1, "-o": 3, "-s": 3, "-t": 3}
MAP_KEYWORDS = ("bump", "disp", "decal", "refl", "norm")  # besides every map_* statement


def _is_number(text: str) -> bool:
  try:
    float(text)
    return True
  except ValueError:
    return False


def map_file(statement: str) -> str | None:
  """The file name of an MTL map statement (`map_Kd [options] file name`): the rest of the line after the options,
  spaces included."""
  rest = statement.split(None, 1)[1] if len(statement.split(None, 1)) == 2 else ""
  while rest.startswith("-"):
    option, _, rest = rest.partition(" ")
    rest = rest.lstrip()
    for _ in range(_MAP_OPTIONS.get(option.lower(), 1)):
      value, _, remainder = rest.partition(" ")
      if option.lower() in ("-o", "-s", "-t") and not _is_number(value):
        break  # these take 1 to 3 numbers
      rest = remainder.lstrip()
  return rest.strip() or None


def obj_references(path) -> list[tuple[str, str]]:
  """(keyword, file relative to the OBJ) of every file an OBJ names: its material libraries ("mtllib") and their
  texture maps (keyword lower-cased: "map_kd", "bump", ...; options skipped, spaces in names kept)."""
  path = pathlib.Path(path)
  found = []
  for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
    if not line.startswith("mtllib"):
      continue
    whole = line[len("mtllib"):].strip()
    # One library whose name holds spaces, or several separated by spaces (the OBJ spec's form).
    libraries = [whole] if (path.parent / whole).is_file() else whole.split()
    for mtl in libraries:
      found.append(("mtllib", mtl))
      mtl_path = path.parent / mtl
      if not mtl_path.is_file():
        continue
      for entry in mtl_path.read_text(encoding="utf-8", errors="replace").splitlines():
        keyword = entry.strip().split(None, 1)[0].lower() if entry.strip() else ""
        if keyword.startswith("map_") or keyword in MAP_KEYWORDS:
          name = map_file(entry.strip())
          if name:
            found.append((keyword, str(pathlib.PurePosixPath(mtl).parent / name.replace("\\", "/"))))
  return found
