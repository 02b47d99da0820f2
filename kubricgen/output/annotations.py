"""Derived per-instance annotations: 2D boxes, visibility and the unoccluded (amodal) projection of each object.

Kubric's post-processing names are kept: `compute_bboxes(segmentation, assets)` and
`compute_visibility(segmentation, assets)` store their results in each asset's `metadata` (so
`get_instance_info` writes them to metadata.json) and also return them.

Conventions (pixels: x right, y down, the image spans [0, W] x [0, H], pixel (r, c) has its centre at (c + 0.5,
r + 0.5)):
  bboxes               Kubric's normalised (ymin, xmin, ymax, xmax) in [0, 1], one per frame in `bbox_frames`
  bbox_frames          indices (0 = first rendered frame) of the frames in which the instance is visible
  bboxes_2d            per frame, (xmin, ymin, xmax, ymax) in pixels from segmentation (pixel edges: xmin is the
                       first column, xmax the last column + 1), or None where the instance is not visible
  visibility           per frame, the number of pixels whose segmentation id is the instance's (Kubric's field)
  unoccluded_pixels    per frame, the number of pixels the instance would cover if nothing else were in the scene
  visible_fraction     per frame, visibility / unoccluded_pixels clipped to [0, 1]; None where unoccluded_pixels is 0
  amodal_bboxes_2d     per frame, the pixel box of the unoccluded projection (clipped to the image), or None

The unoccluded projection is the object's own render mesh rasterised with the camera at that frame: every pixel
whose centre falls inside a projected triangle, after clipping triangles at the camera's near plane (Blender's
clip_start, 0.01 m), so objects partly behind the camera or outside the frame are handled exactly. The renderer's
data layer has one camera ray per pixel, through the pixel centre (kubricgen.renderer.blender), so for an unoccluded
object the two agree pixel for pixel (tests/output/test_annotations.py checks it on cubes, spheres, tori and cones,
perspective and orthographic). A centre on the outline itself (within TIE_TOLERANCE pixels, e.g. an edge through
pixel centres in a round-number scene) is a tie that only the renderer's float rounding decides: it counts as
covered where the segmentation shows the object, so an object nothing occludes has a visible fraction of exactly 1.
"""
from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np

from kubricgen import scene as kbs
from kubricgen.scene import geometry

NEAR_CLIP = 0.01  # metres; the renderer's camera clip_start
# Pixels. A pixel centre this close to an object's outline is a tie: the renderer (float32) may or may not hit the
# object there. Float32 rounding of a vertex 10 m from the origin, seen 5 m away at 1,000 px focal length, moves its
# projection by about 2e-4 px.
TIE_TOLERANCE = 1e-3


# ---- rasterising an object's silhouette ---------------------------------------------------------------------------

def _camera_to_pixels(camera: kbs.Camera, points: np.ndarray) -> np.ndarray:
  """Camera-frame points (N, 3), in front of the camera, to pixel coordinates (N, 2)."""
  width, height = camera.resolution
  if isinstance(camera, kbs.OrthographicCamera):
    uv = np.c_[points[:, :2], np.ones(len(points))] @ camera.intrinsics.T
    return uv[:, :2] * (width, height)
  projected = points @ camera.intrinsics.T
  return projected[:, :2] / projected[:, 2:3] * (width, height)


def _clip_near(triangles: np.ndarray, near: float) -> np.ndarray:
  """Clip camera-frame triangles (T, 3, 3) to the half-space z <= -near (in front of the camera).

  Triangles wholly in front are kept as they are, wholly behind are dropped; the few that cross the plane are cut
  (Sutherland-Hodgman) and the resulting triangle or quad is split into triangles."""
  inside = triangles[..., 2] <= -near
  keep = triangles[inside.all(1)]
  crossing = triangles[inside.any(1) & ~inside.all(1)]
  pieces = []
  for triangle in crossing:
    polygon = []
    for i in range(3):
      a, b = triangle[i], triangle[(i + 1) % 3]
      a_in, b_in = a[2] <= -near, b[2] <= -near
      if a_in:
        polygon.append(a)
      if a_in != b_in:
        t = (-near - a[2]) / (b[2] - a[2])
        polygon.append(a + t * (b - a))
    for i in range(1, len(polygon) - 1):
      pieces.append((polygon[0], polygon[i], polygon[i + 1]))
  if pieces:
    keep = np.concatenate([keep, np.asarray(pieces)])
  return keep


def rasterize_triangles(triangles: np.ndarray, width: int, height: int) -> np.ndarray:
  """Boolean (H, W) mask of the pixels whose centres lie inside any of the 2D triangles (T, 3, 2) (pixel units).

  Vectorised scanline fill: every (triangle, row) pair gives the span of the triangle at the row's centre line;
  spans are summed into a difference image. Centres exactly on an edge count as inside."""
  mask_shape = (height, width)
  triangles = np.asarray(triangles, dtype=np.float64).reshape(-1, 3, 2)
  x, y = triangles[..., 0], triangles[..., 1]
  area = (x[:, 1] - x[:, 0]) * (y[:, 2] - y[:, 0]) - (x[:, 2] - x[:, 0]) * (y[:, 1] - y[:, 0])
  usable = np.isfinite(triangles).all(axis=(1, 2)) & (np.abs(area) > 1e-12)
  x, y = x[usable], y[usable]
  first_row = np.maximum(np.ceil(y.min(1) - 0.5), 0)
  last_row = np.minimum(np.floor(y.max(1) - 0.5), height - 1)
  on_image = (x.max(1) >= 0.5) & (x.min(1) <= width - 0.5) & (last_row >= first_row)
  x, y, first_row, last_row = x[on_image], y[on_image], first_row[on_image], last_row[on_image]
  if len(x) == 0:
    return np.zeros(mask_shape, dtype=bool)
  counts = (last_row - first_row + 1).astype(np.int64)
  triangle = np.repeat(np.arange(len(counts)), counts)
  offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
  rows = first_row[triangle].astype(np.int64) + offsets
  centre_y = rows + 0.5
  left = np.full(len(rows), np.inf)
  right = np.full(len(rows), -np.inf)
  for i, j in ((0, 1), (1, 2), (2, 0)):
    xa, ya, xb, yb = x[triangle, i], y[triangle, i], x[triangle, j], y[triangle, j]
    crosses = (np.minimum(ya, yb) <= centre_y) & (centre_y <= np.maximum(ya, yb)) & (ya != yb)
    with np.errstate(divide="ignore", invalid="ignore"):
      at = np.where(crosses, xa + (centre_y - ya) * (xb - xa) / (yb - ya), np.nan)
    left = np.where(crosses, np.minimum(left, at), left)
    right = np.where(crosses, np.maximum(right, at), right)
  first_col = np.maximum(np.ceil(left - 0.5), 0)
  last_col = np.minimum(np.floor(right - 0.5), width - 1)
  spans = last_col >= first_col
  rows, first_col, last_col = rows[spans], first_col[spans].astype(np.int64), last_col[spans].astype(np.int64)
  stride = width + 1
  size = height * stride
  edges = (np.bincount(rows * stride + first_col, minlength=size)
           - np.bincount(rows * stride + last_col + 1, minlength=size))
  return np.cumsum(edges.reshape(height, stride), axis=1)[:, :width] > 0


def silhouette(obj: kbs.PhysicalObject, camera: kbs.Camera | None = None, frame: int | None = None,
               near: float = NEAR_CLIP) -> np.ndarray:
  """Boolean (H, W) mask of the pixels `obj` covers from `camera` at `frame`, ignoring every other object."""
  return rasterize_triangles(*_projected(obj, camera, frame, near))


def silhouette_bounds(obj: kbs.PhysicalObject, camera: kbs.Camera | None = None, frame: int | None = None,
                      near: float = NEAR_CLIP, tolerance: float = TIE_TOLERANCE) -> tuple[np.ndarray, np.ndarray]:
  """(inside, reached): boolean (H, W) masks of the pixel centres inside `obj`'s projection by more than
  `tolerance` pixels, and within `tolerance` of it. Centres in `reached` but not `inside` are ties: they lie on the
  outline (up to float error), where only the renderer's own rounding says whether the centre ray hits."""
  pixels, width, height = _projected(obj, camera, frame, near)
  shifted = [rasterize_triangles(pixels + np.array([dx, dy]) * tolerance, width, height)
             for dx in (-1, 1) for dy in (-1, 1)]
  # A centre within `tolerance` of an edge with unit normal n leaves the shape under the shift s with
  # s . n = tolerance (|nx| + |ny|) >= tolerance, so it is outside in at least one of the four diagonal shifts.
  return np.logical_and.reduce(shifted), np.logical_or.reduce(shifted)


def _projected(obj: kbs.PhysicalObject, camera: kbs.Camera | None, frame: int | None, near: float):
  """`obj`'s render mesh as 2D triangles (T, 3, 2) in pixels from `camera` at `frame`, clipped at the near plane;
  plus the image width and height."""
  camera = obj.scene.camera if camera is None else camera
  if isinstance(camera, kbs.UndefinedCamera):
    raise ValueError("silhouette: the scene has no camera")
  width, height = camera.resolution
  vertices, faces = obj.mesh()
  with obj.at_frame(frame):
    matrix = obj.matrix_world
  world = (matrix @ np.c_[vertices, np.ones(len(vertices))].T).T[:, :3]
  points = camera.world_to_camera(world, frame)
  triangles = _clip_near(points[geometry.triangulate(faces)], near)
  if len(triangles) == 0:
    return np.zeros((0, 3, 2)), width, height
  return _camera_to_pixels(camera, triangles.reshape(-1, 3)).reshape(-1, 3, 2), width, height


# ---- boxes and counts ---------------------------------------------------------------------------------------------

def mask_bbox(mask: np.ndarray) -> list[int] | None:
  """(xmin, ymin, xmax, ymax) in pixels (pixel edges) of a boolean (H, W) mask, or None if it is empty."""
  rows = np.flatnonzero(mask.any(axis=1))
  if rows.size == 0:
    return None
  cols = np.flatnonzero(mask.any(axis=0))
  return [int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1]


def normalized_bbox(box: Sequence[int], width: int, height: int) -> list[float]:
  """Pixel box (xmin, ymin, xmax, ymax) -> Kubric's normalised (ymin, xmin, ymax, xmax)."""
  xmin, ymin, xmax, ymax = box
  return [ymin / height, xmin / width, ymax / height, xmax / width]


def _segmentation_ids(segmentation) -> np.ndarray:
  segmentation = np.asarray(segmentation)
  if segmentation.ndim == 4:
    segmentation = segmentation[..., 0]
  if segmentation.ndim != 3:
    raise ValueError(f"expected segmentation of shape (frames, H, W, 1), got {segmentation.shape}")
  return segmentation


def _instances(assets: Iterable) -> list[kbs.PhysicalObject]:
  """The foreground physical objects among `assets` (Kubric scripts may pass every asset of the scene)."""
  return [a for a in assets if isinstance(a, kbs.PhysicalObject) and a.segmentation_id > 0]


def compute_bboxes(segmentation, assets: Iterable) -> list[dict]:
  """2D boxes of each asset in each frame, as Kubric's: the k-th asset of `assets` (1-based) is id k in
  `segmentation` ((frames, H, W, 1) ids). That is the renderer's own numbering when `assets` is `scene.instances`,
  and the numbering `adjust_segmentation_idxs(segmentation, scene.assets, assets)` gives (Kubric's MOVi workers).

  Sets `bboxes`, `bbox_frames` (Kubric's) and `bboxes_2d` (pixels, one per frame) in each asset's metadata and
  returns those dicts, in the order of `assets`."""
  ids = _segmentation_ids(segmentation)
  return [_store_bboxes(obj, ids, index) for index, obj in enumerate(assets, start=1)]


def compute_bboxes_of_instances(segmentation, instances: Iterable) -> list[dict]:
  """As `compute_bboxes`, for instances found by their `segmentation_id` in the renderer's own segmentation (what
  `kb.done()` adds for the instances a script left without boxes)."""
  ids = _segmentation_ids(segmentation)
  return [_store_bboxes(obj, ids, obj.segmentation_id) for obj in _instances(instances)]


def _store_bboxes(obj, ids: np.ndarray, index: int) -> dict:
  height, width = ids.shape[1:]
  boxes = [mask_bbox(frame == index) for frame in ids]
  result = {
      "bboxes": [normalized_bbox(b, width, height) for b in boxes if b is not None],
      "bbox_frames": [t for t, b in enumerate(boxes) if b is not None],
      "bboxes_2d": boxes,
  }
  obj.metadata.update(result)
  return result


def compute_visibility(segmentation, assets: Iterable, frames: Sequence[int] | None = None,
                       camera: kbs.Camera | None = None) -> list[dict]:
  """Visible pixel counts, the unoccluded projection and the visible fraction of each instance per frame.

  `frames` are the scene frames the segmentation images show (default: the scene's range, which must have as many
  frames as `segmentation`). Sets `visibility` (Kubric's: visible pixels), `unoccluded_pixels`, `visible_fraction`
  and `amodal_bboxes_2d` in each asset's metadata and returns those dicts (non-instances are skipped)."""
  ids = _segmentation_ids(segmentation)
  instances = _instances(assets)
  results = []
  for obj in instances:
    camera_ = obj.scene.camera if camera is None else camera
    frames_ = list(obj.scene.frames if frames is None else frames)
    if len(frames_) != len(ids):
      raise ValueError(f"compute_visibility: {len(ids)} segmentation frames but {len(frames_)} scene frames; "
                       "pass frames=")
    seen = ids == obj.segmentation_id
    visible = seen.sum(axis=(1, 2))
    masks = []
    for index, frame in enumerate(frames_):
      inside, reached = silhouette_bounds(obj, camera_, frame)
      masks.append(inside | (reached & seen[index]))  # a tie counts where the renderer's ray hit the object
    unoccluded = np.array([m.sum() for m in masks])
    fraction = [None if u == 0 else float(min(1.0, v / u)) for v, u in zip(visible, unoccluded)]
    result = {
        "visibility": [int(v) for v in visible],
        "unoccluded_pixels": [int(u) for u in unoccluded],
        "visible_fraction": fraction,
        "amodal_bboxes_2d": [mask_bbox(m) for m in masks],
    }
    obj.metadata.update(result)
    results.append(result)
  return results


ANNOTATION_FIELDS = ("bboxes", "bbox_frames", "bboxes_2d", "visibility", "unoccluded_pixels", "visible_fraction",
                     "amodal_bboxes_2d")


def annotate(segmentation, scene: kbs.Scene, frames: Sequence[int] | None = None) -> None:
  """Both of the above for every instance of `scene` (what `kb.done()` adds when a script did not)."""
  compute_bboxes(segmentation, scene.instances)
  compute_visibility(segmentation, scene.instances, frames=frames)


def adjust_segmentation_idxs(segmentation: np.ndarray, old_assets_list, new_assets_list, ignored_label: int = 0
                             ) -> np.ndarray:
  """Kubric's post-processing renumbering of a segmentation array (any shape, integer ids) as the renderer wrote it,
  e.g. to keep only the visible foreground objects, called as Kubric's workers call it:
  `adjust_segmentation_idxs(segmentation, scene.assets, visible_instances)`. Each instance among `old_assets_list`
  is found by its `segmentation_id` (the id the renderer wrote for it) and becomes its 1-based index in
  `new_assets_list`; instances not in it, background (0) and ids of no listed instance become `ignored_label`.
  Other assets in the old list (lights, cameras, background objects) are skipped. Returns a new array of the same
  dtype; its ids are positions in `new_assets_list`, as `compute_bboxes` expects.
  """
  segmentation = np.asarray(segmentation)
  renumbered = np.full_like(segmentation, ignored_label)
  new_assets_list = list(new_assets_list)
  for asset in _instances(old_assets_list):
    position = next((i for i, other in enumerate(new_assets_list, 1) if other is asset), None)
    if position is not None:
      renumbered[segmentation == asset.segmentation_id] = position
  return renumbered
