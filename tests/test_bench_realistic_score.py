"""The realistic benchmark's scorer: the similarity alignment, one-to-one mask matching, and a .blend's figures."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pipeline.app.bench.blend_view import ViewCamera
from pipeline.app.bench.realistic_score import Similarity, match_instances


def _look(heading: float, pitch: float, position) -> ViewCamera:
    """A camera at `position` looking along `heading` (radians) tilted down by `pitch`, no roll."""
    fwd = np.array([math.cos(heading) * math.cos(pitch), math.sin(heading) * math.cos(pitch), -math.sin(pitch)])
    right = np.cross(fwd, [0, 0, 1.0])
    right /= np.linalg.norm(right)
    up = np.cross(right, fwd)
    return ViewCamera(np.asarray(position, float), np.stack([right, up, -fwd], axis=1), 55.0, 64, 48)


def test_similarity_maps_a_scaled_turned_world_back():
    truth = _look(0.7, math.radians(8), [0.4, -1.2, 1.5])
    # The same view reconstructed in a world turned by 40 degrees, at 0.6 scale, floor at z = 0.3.
    s, yaw, floor = 0.6, math.radians(40), np.array([0.0, 0.0, 0.3])
    rot = np.array([[math.cos(yaw), -math.sin(yaw), 0], [math.sin(yaw), math.cos(yaw), 0], [0, 0, 1.0]])
    result = ViewCamera(rot @ truth.position * s + floor + [2.0, 1.0, 0.0], rot @ truth.rotation, 55.0, 64, 48)
    sim = Similarity.align(result, 0.3, truth)
    assert sim.scale == pytest.approx(1 / s)
    np.testing.assert_allclose(sim.point_to_truth(result.position), truth.position, atol=1e-9)
    # A point on the result's floor lands on the true floor; a true camera placed in the result and back is itself.
    assert sim.point_to_truth(np.array([5.0, -3.0, 0.3]))[2] == pytest.approx(0.0)
    novel = _look(1.0, math.radians(5), [1.0, 0.0, 1.4])
    placed = sim.camera_from_truth(novel)
    np.testing.assert_allclose(sim.point_to_truth(placed.position), novel.position, atol=1e-9)
    np.testing.assert_allclose(sim.rot @ placed.rotation, novel.rotation, atol=1e-9)
    assert placed.tilt_deg() == pytest.approx(novel.tilt_deg())


def test_tilt_of_a_level_camera_and_a_rolled_one():
    cam = _look(0.3, 0.0, [0, 0, 1.5])
    assert cam.tilt_deg() == pytest.approx((0.0, 0.0), abs=1e-9)
    down = _look(0.3, math.radians(10), [0, 0, 1.5])
    assert down.tilt_deg()[0] == pytest.approx(-10.0)
    roll = math.radians(4)  # turn the camera about its viewing axis
    c, s = math.cos(roll), math.sin(roll)
    rolled = ViewCamera(cam.position, cam.rotation @ np.array([[c, -s, 0], [s, c, 0], [0, 0, 1.0]]), 55, 64, 48)
    assert abs(rolled.tilt_deg()[1]) == pytest.approx(4.0)


def test_matching_is_one_to_one_and_drops_empty_pairs():
    a = np.zeros((10, 10), bool)
    a[:5, :5] = True
    b = np.zeros((10, 10), bool)
    b[5:, 5:] = True
    big = a | b  # overlaps both truths; each result may be used once
    matches = match_instances([a, b], [big, b])
    assert sorted((t, r) for t, r, _ in matches) == [(0, 0), (1, 1)]
    assert dict(((t, r), iou) for t, r, iou in matches)[(1, 1)] == pytest.approx(1.0)
    assert match_instances([a], [b]) == []  # IoU 0 is no match
    assert match_instances([a], []) == []


def test_material_retrieval_figures_over_textured_floors_and_walls():
    """Top-1 / top-5 category over library-graph truths, the procedural rate over graph and image truths, from
    the result face's material and its candidates in scene.json (principled truths are left out)."""
    from pipeline.app.bench.realistic_score import material_retrieval_figures

    materials = {
        "floor": {"truth": "wood", "result": "tiles", "kind": "graph", "face": "floor", "psnr": 20.0},
        "wall_y_min": {"truth": "paint", "result": "paint", "kind": "graph", "face": "wall_y_min", "psnr": 30.0},
        "wall_x_max": {"truth": "paint", "result": "homogeneous", "kind": "principled", "face": "wall_x_max"},
        "wall_x_min": {"truth": "tiles", "result": "homogeneous", "kind": "image", "face": "wall_x_min", "psnr": 25.0},
    }
    scene = {"room": {"materials": {"floor": "room_floor", "wall_y_min": "room_wall", "wall_x_min": "room_wall_2"}},
             "materials": {
                 "room_floor": {"type": "graph", "library": "hex_tiles_white", "candidates": [
                     {"type": "graph", "library": "hex_tiles_white"}, {"type": "graph", "library": "oak_planks"},
                     {"type": "principled"}]},
                 "room_wall": {"type": "graph", "library": "wall_paint_sage"},  # no candidates: itself only
                 "room_wall_2": {"type": "principled"}}}
    out = material_retrieval_figures(materials, scene)
    assert materials["floor"]["top_k"] == ["tiles", "wood", "homogeneous"]
    assert materials["wall_y_min"]["top_k"] == ["paint"] and "top_k" not in materials["wall_x_max"]
    assert out["mat_top1"] == 0.5 and out["mat_top5"] == 1.0  # the floor's wood is the runner-up
    assert abs(out["mat_procedural"] - 2 / 3) < 1e-9 and out["textured_psnr"] == 25.0


def test_error_by_region_says_where_the_error_is():
    from pipeline.app.bench.realistic_score import error_by_region

    photo = np.full((10, 20, 3), 0.5)
    render = photo.copy()
    classes = np.full((10, 20), "wall", dtype=object)
    classes[:, :5] = "window"
    classes[8:, 10:] = "bed_1"  # any other label is furniture
    render[:, :5] = 0.6  # all the error is in the window
    out = error_by_region(render, photo, classes)
    assert out["window"]["error_share"] == 1.0 and out["window"]["pixel_share"] == 0.25
    assert out["window"]["psnr"] == pytest.approx(20.0, abs=0.01)  # error 0.1 on every channel
    assert out["wall"]["error_share"] == 0.0 and out["furniture"]["pixel_share"] == 0.1


def test_exact_models_count_only_pieces_with_a_model_file():
    """The chosen asset's file name against the truth's model; generated pieces (curtains, a ceiling disc) and
    unmatched pieces count as they should (issue 14's model-present figure)."""
    from pipeline.app.bench.realistic_score import exact_models

    truth = [{"model": "chair_B_wood.gltf", "source": "kaykit"}, {"model": "generated:curtain", "source": "generated"},
             {"model": "chair_stool_wood.gltf", "source": "kaykit"}, {"model": "book_set.gltf", "source": "kaykit"}]
    assets = ["file:/data/third_party_furniture/kaykit_cc0/chair_B.gltf", "parametric:curtain",
              "file:/data/third_party_furniture/kaykit_cc0/chair_stool_wood.gltf"]
    assert exact_models(truth, assets, [0, 1, 2]) == (1, 3)  # the book was not matched; a near variant is not exact
    assert exact_models(truth, [], []) == (0, 3)
    assert exact_models([{"label": "bed"}], ["builtin:bed"], [0]) == (0, 0)  # SUN boxes: no model to compare
