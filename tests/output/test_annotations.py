"""Derived annotations checked against geometry: the rasteriser, 2D boxes, visibility, and what kb.done() writes."""
import json

import numpy as np
import pytest
from scipy import spatial

import kubricgen as kb
from kubricgen.output import annotations
from kubricgen.renderer.blender import Blender

RES = 64


def brute_force_mask(triangle, width, height):
  ys, xs = np.mgrid[0:height, 0:width] + 0.5
  a, b, c = triangle
  edges = [(q[0] - p[0]) * (ys - p[1]) - (q[1] - p[1]) * (xs - p[0]) for p, q in ((a, b), (b, c), (c, a))]
  return np.all([e >= 0 for e in edges], 0) | np.all([e <= 0 for e in edges], 0)


def test_rasterizer_fills_exactly_the_pixel_centres_inside_the_triangles():
  rng = np.random.RandomState(0)
  width, height = 37, 29
  for _ in range(200):  # triangles of every size, many reaching outside the image
    triangle = rng.uniform(-15, 50, (3, 2))
    mask = annotations.rasterize_triangles(triangle[None], width, height)
    np.testing.assert_array_equal(mask, brute_force_mask(triangle, width, height))
  triangles = rng.uniform(0, 30, (20, 3, 2))
  union = np.any([brute_force_mask(t, width, height) for t in triangles], 0)
  np.testing.assert_array_equal(annotations.rasterize_triangles(triangles, width, height), union)
  assert not annotations.rasterize_triangles(np.zeros((0, 3, 2)), width, height).any()


def lone_object_scenes():
  """Single objects: perspective views (one slab passing behind the camera) and an orthographic view."""
  def scene_with(camera, obj, resolution=(RES, RES)):
    scene = kb.Scene(resolution=resolution, frame_start=1, frame_end=1)
    scene.camera = camera
    scene += [obj, kb.DirectionalLight(position=(1, 1, 3), look_at=(0, 0, 0))]
    return scene, obj
  view = dict(position=(5, -4, 4), look_at=(0, 0, 0))
  yield scene_with(kb.PerspectiveCamera(**view), kb.Cube(name="cube", scale=(0.6, 0.8, 0.5), euler=(0.2, 0.3, 0.4)))
  yield scene_with(kb.PerspectiveCamera(**view), kb.Torus(name="torus", scale=0.8, euler=(0.5, 0.1, 0)), (80, 48))
  yield scene_with(kb.PerspectiveCamera(position=(0, -3, 1), look_at=(0, 0, 0.5)),
                   kb.Cube(name="slab", scale=(10, 10, 0.2)))  # extends behind the camera
  yield scene_with(kb.OrthographicCamera(position=(3, -3, 3), look_at=(0, 0, 0), orthographic_scale=5),
                   kb.Cone(name="cone", position=(0.5, 0, 0)), (64, 40))
  yield scene_with(kb.PerspectiveCamera(**view), kb.Sphere(name="sphere", position=(2.5, 1.5, 0)))  # cut by the edge


def test_unoccluded_projection_equals_the_rendered_mask_of_a_lone_object():
  for scene, obj in lone_object_scenes():
    rendered = Blender(scene, samples_per_pixel=4, seed=12345).render_still()["segmentation"][..., 0] == 1
    projected = annotations.silhouette(obj, scene.camera, 1)
    assert rendered.sum() > 50, obj.name
    np.testing.assert_array_equal(projected, rendered, err_msg=obj.name)
    visibility = annotations.compute_visibility(rendered[None, ..., None].astype(np.int32), [obj])[0]
    assert visibility["visible_fraction"] == [1.0] and visibility["visibility"] == [rendered.sum()]


def test_objects_behind_the_camera_or_outside_the_frame_project_to_nothing():
  scene = kb.Scene(resolution=(RES, RES), frame_start=1, frame_end=1)
  scene.camera = kb.PerspectiveCamera(position=(0, 0, 0), look_at=(0, 1, 0))
  behind, aside = kb.Sphere(name="behind", position=(0, -3, 0)), kb.Sphere(name="aside", position=(30, 1, 0))
  scene += [behind, aside]
  assert not annotations.silhouette(behind, scene.camera, 1).any()
  assert not annotations.silhouette(aside, scene.camera, 1).any()
  result = annotations.compute_visibility(np.zeros((1, RES, RES, 1), np.int32), scene.instances)
  assert [r["visible_fraction"] for r in result] == [[None], [None]]
  assert [r["amodal_bboxes_2d"] for r in result] == [[None], [None]]


def test_2d_boxes_match_the_analytic_projection_of_the_box_corners():
  scene = kb.Scene(resolution=(RES, 48), frame_start=1, frame_end=1)
  scene.camera = kb.PerspectiveCamera(position=(5, -4, 3), look_at=(0, 0, 0))
  cube = kb.Cube(name="cube", position=(0.3, 0.2, 0), scale=(0.7, 0.5, 0.4), euler=(0.3, -0.2, 0.9))
  clipped = kb.Cube(name="clipped", position=(-2.2, -1.5, 0), scale=0.6)  # crosses the image's left edge
  scene += [cube, clipped, kb.DirectionalLight(position=(1, 1, 3), look_at=(0, 0, 0))]
  segmentation = Blender(scene, samples_per_pixel=2).render()["segmentation"]
  result = annotations.compute_bboxes(segmentation, scene.instances)
  ys, xs = np.mgrid[0:48, 0:RES] + 0.5
  centres = np.c_[xs.ravel(), ys.ravel()]
  for obj, boxes in zip(scene.instances, result):
    # A box is convex: its outline is the convex hull of its 8 projected corners. The analytic 2D box is the box of
    # the pixel centres inside that hull (found with a Delaunay triangulation, independent of our rasteriser).
    corners = scene.camera.project_points_pixels(obj.bbox_3d, 1)
    inside = spatial.Delaunay(corners).find_simplex(centres) >= 0
    low, high = centres[inside].min(0), centres[inside].max(0)  # pixel centres, at +0.5
    assert boxes["bboxes_2d"][0] == [low[0] - 0.5, low[1] - 0.5, high[0] + 0.5, high[1] + 0.5], obj.name
    box = boxes["bboxes_2d"][0]
    assert (segmentation[0, ..., 0] == obj.segmentation_id).sum() == inside.sum()  # nothing occludes them
    assert boxes["bbox_frames"] == [0]
    np.testing.assert_allclose(boxes["bboxes"][0], [box[1] / 48, box[0] / RES, box[3] / 48, box[2] / RES])
    assert obj.metadata["bboxes_2d"] == boxes["bboxes_2d"]  # stored for metadata.json, as Kubric does
  assert result[1]["bboxes_2d"][0][0] == 0  # clipped to the image


def test_visibility_drops_as_one_object_moves_in_front_of_another():
  """Top-down camera; a large plate slides over a small one: beside it, half over it, then covering it."""
  scene = kb.Scene(resolution=(RES, RES), frame_start=1, frame_end=3)
  scene.camera = kb.PerspectiveCamera(position=(0, 0, 10), look_at=(0, 0, 0), focal_length=35, sensor_width=32)
  below = kb.Cube(name="below", scale=(0.5, 0.5, 0.05), material=kb.FlatMaterial(color=(0.8, 0.2, 0.1)))
  above = kb.Cube(name="above", scale=(0.9, 0.9, 0.05), position=(0, 0, 1),
                  material=kb.FlatMaterial(color=(0.1, 0.2, 0.8)))
  scene += [below, above]
  for frame, x in ((1, 2.2), (2, 0.9), (3, 0.0)):
    above.position = (x, 0, 1)
    above.keyframe_insert("position", frame)
  segmentation = Blender(scene, samples_per_pixel=2).render()["segmentation"]
  hidden, mover = annotations.compute_visibility(segmentation, scene.instances)
  assert mover["visible_fraction"] == [1.0, 1.0, 1.0]
  assert hidden["visible_fraction"][0] == 1.0
  assert 0.3 < hidden["visible_fraction"][1] < 0.7
  assert hidden["visible_fraction"][2] == 0.0 and hidden["visibility"][2] == 0
  assert len(set(hidden["unoccluded_pixels"])) == 1  # it did not move: its own projection is unchanged
  assert hidden["amodal_bboxes_2d"][2] is not None  # hidden, but still in view
  assert annotations.compute_bboxes(segmentation, [below])[0]["bbox_frames"] == [0, 1]


def test_done_writes_annotations_frames_and_a_preview(tmp_path):
  flags = kb.ArgumentParser().parse_args(["--seed", "0", "--resolution", "32x32", "--samples", "2", "--frame_end",
                                          "2", "--out", str(tmp_path / "scene"), "--preview"])
  scene, _, output_dir, _ = kb.setup(flags)
  scene.camera = kb.PerspectiveCamera(position=(4, -3, 3), look_at=(0, 0, 0))
  scene += [kb.Cube(name="floor", scale=(5, 5, 0.1), position=(0, 0, -0.1), background=True),
            kb.Sphere(name="ball", scale=0.5, position=(0, 0, 0.5)), kb.DirectionalLight(position=(1, 1, 3), look_at=(0, 0, 0))]
  frames = Blender(scene).render()
  kb.write_image_dict(frames, output_dir)
  kb.done()
  metadata = json.loads((tmp_path / "scene" / "metadata.json").read_text())
  ball = metadata["instances"][0]
  assert metadata["frames"] == [1, 2]
  for field in annotations.ANNOTATION_FIELDS:
    assert len(ball[field]) == 2, field
  assert ball["visibility"] == [int((frames["segmentation"][t] == 1).sum()) for t in range(2)]
  assert ball["visible_fraction"] == [1.0, 1.0]
  assert (tmp_path / "scene" / "preview.png").is_file()


def test_bad_inputs_are_refused():
  scene = kb.Scene(resolution=(8, 8), frame_start=1, frame_end=3)
  scene.camera = kb.PerspectiveCamera()
  scene += kb.Cube(name="cube")
  with pytest.raises(ValueError, match="pass frames="):
    annotations.compute_visibility(np.zeros((2, 8, 8, 1), np.int32), scene.instances)
  with pytest.raises(ValueError, match="segmentation of shape"):
    annotations.compute_bboxes(np.zeros((8, 8)), scene.instances)


def round_number_scenes():
  """Lone objects whose outlines pass exactly through pixel centres (the users' report: a plate seen from above in
  an orthographic view where 64 px span 6.4 m, so centres sit at odd multiples of 0.05 m), and a perspective one:
  focal length = sensor width gives f = 64 px, so a cube's top face 4 m below the camera spans 32 px and an offset of
  1/32 m (half a pixel) puts its edges on pixel centres."""
  scene = kb.Scene(resolution=(64, 48))
  scene.camera = kb.OrthographicCamera(position=(0, 0, 5), look_at=(0, 0, 0), orthographic_scale=6.4)
  plate = kb.Cube(name="plate", scale=(1.05, 0.75, 0.01), position=(0.2, -0.1, 0))  # edges at x, y = k * 0.1 + 0.05
  scene += [plate, kb.DirectionalLight(position=(0, 0, 3), look_at=(0, 0, 0))]
  yield scene, plate, True
  scene = kb.Scene(resolution=(64, 64))
  scene.camera = kb.PerspectiveCamera(position=(0, 0, 5), look_at=(0, 0, 0), focal_length=32, sensor_width=32)
  cube = kb.Cube(name="cube", scale=1, position=(1 / 32, 1 / 32, 0))
  scene += [cube, kb.DirectionalLight(position=(0, 0, 3), look_at=(0, 0, 0))]
  yield scene, cube, True


def test_an_unoccluded_object_whose_outline_runs_through_pixel_centres_is_exactly_fully_visible():
  for scene, obj, all_ties in round_number_scenes():
    rendered = Blender(scene, samples_per_pixel=1).render_still(return_layers=("segmentation",))["segmentation"]
    mask = rendered[..., 0] == 1
    inside, reached = annotations.silhouette_bounds(obj, scene.camera, 1)
    if all_ties:  # the case exercises ties: every outline pixel is one, and the renderer drops some of them
      assert (reached & ~inside).sum() > 60 and (reached & ~mask).sum() > 30
    assert not (mask & ~reached).any() and not (inside & ~mask).any(), obj.name  # ties are the only doubt
    result = annotations.compute_visibility(rendered[None], [obj], frames=[1])[0]
    assert result["visible_fraction"] == [1.0], (obj.name, result)
    assert result["unoccluded_pixels"] == result["visibility"] == [int(mask.sum())]
    assert result["amodal_bboxes_2d"] == [annotations.mask_bbox(mask)]
