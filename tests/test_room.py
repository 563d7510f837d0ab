"""Room stage on exact box rooms: the geometric fit recovers the floor and walls, the refinement fixes a
perturbed box, and the mask renders carry non-zero geometry gradients."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pipeline.core.case import load_case
from pipeline.core.events import Silent
from pipeline.core.scene import Room
from pipeline.render.backend import init_mitsuba
from pipeline.stages.config import ReconstructConfig
from pipeline.stages.room import stage as room_stage
from pipeline.stages.room.config import RoomConfig
from pipeline.stages.room.fit import fit_room
from pipeline.stages.room.refine import refine_room
from box_case import DEVICE, write_box_case


def _camera_in_room_frame(truth_cam, fit):
    """Height of the fitted camera vs truth, and angle between fitted and true floor normals (camera frame)."""
    true_up_cam = truth_cam.R.T @ np.array([0, 0, 1.0])
    angle = math.degrees(math.acos(np.clip(true_up_cam @ fit.floor_normal_cam, -1, 1)))
    return fit.camera.position[2], angle


def test_fit_recovers_floor_and_height_metric(box_case):
    folder, truth = box_case
    case = load_case(folder / "photo.png", folder / "estimates")
    fit = fit_room(case, RoomConfig())
    height, angle = _camera_in_room_frame(truth["camera"], fit)
    assert height == pytest.approx(1.4, abs=0.01)
    assert angle < 0.5
    assert fit.scale["source"] == "metric_depth"
    # Seen walls are recovered exactly: IoU of surfaces is ~1 before any refinement.
    iou = room_stage.surface_iou(fit.camera, fit.room, case)
    assert min(iou.values()) > 0.98


def test_relative_depth_uses_prior(tmp_path):
    write_box_case(tmp_path, metric=False, pitch=0.0, camera_z=1.5, fov_y=70.0)  # ceiling and floor in view
    case = load_case(tmp_path / "photo.png", tmp_path / "estimates")
    fit = fit_room(case, RoomConfig())
    assert fit.scale["source"] == "prior:ceiling_height"
    assert fit.room.size[2] == pytest.approx(RoomConfig().ceiling_height_prior_m, rel=0.01)
    # Scale is right up to the prior's ratio: true ceiling 2.7 vs prior 2.6.
    assert fit.camera.position[2] == pytest.approx(1.5 * 2.6 / 2.7, rel=0.02)


def test_mask_gradient_is_nonzero(box_case):
    """A loop is only trusted once its gradient is non-zero (a camera outside the box gives silent zeros)."""
    import drjit as dr
    import mitsuba as mi

    from pipeline.render.room_masks import RoomMaskRenderer

    init_mitsuba(DEVICE)
    folder, truth = box_case
    room, cam = truth["room"], truth["camera"]
    quads = room.face_quads(0.01)
    renderer = RoomMaskRenderer(cam, quads, 48, 36, 4)
    shift = mi.Float(0.0)
    dr.enable_grad(shift)
    corners = {name: mi.Point3f(mi.Float(q[:, 0]) + shift, mi.Float(q[:, 1]), mi.Float(q[:, 2])) for name, q in quads.items() if name != "ceiling"}
    img = renderer.render(corners)
    dr.backward(dr.mean(img.array))
    assert abs(float(dr.grad(shift)[0])) > 1e-4


def test_refinement_improves_a_perturbed_box(box_case):
    init_mitsuba(DEVICE)
    folder, truth = box_case
    case = load_case(folder / "photo.png", folder / "estimates")
    cfg = RoomConfig(refine_iters=30, refine_width=96, spp=4)
    perturbed = Room([0.15, -0.1, 1.35], [5.3, 3.7, 2.7], 4.0)
    before = room_stage.surface_iou(truth["camera"], perturbed, case)
    result = refine_room(truth["camera"], perturbed, case, 1.0, cfg, Silent())
    after = room_stage.surface_iou(truth["camera"], result.room, case)
    assert result.losses[-1] < result.losses[0]
    assert min(after.values()) > 0.97
    assert sum(after.values()) > sum(before.values()) + 0.05
    assert abs(result.room.yaw_deg) < 1.5


def test_stage_output_world_convention(box_case):
    folder, _ = box_case
    case = load_case(folder / "photo.png", folder / "estimates")
    config = ReconstructConfig()
    config.room.refine_iters = 3
    config.room.refine_width = 48
    scene = room_stage.run(None, case, config, Silent())
    room = scene.room
    assert room.center[:2] == [0.0, 0.0] and room.yaw_deg == 0.0
    assert room.center[2] == pytest.approx(room.size[2] / 2)  # floor at z = 0
    lo, hi = room.bounds_local()
    assert np.all(np.abs(scene.camera.position[:2]) < hi[:2])  # camera inside the room
    assert 0 < scene.camera.position[2] < room.size[2]
    metrics = scene.stages["room"]
    assert set(metrics["iou_after"]) >= {"wall", "floor"} and len(metrics["losses"]) == 3
    assert set(scene.materials) == {"room_wall", "room_floor", "room_ceiling"}


def test_unseen_ceiling_is_above_the_tallest_furniture(tmp_path):
    """No ceiling in view and the walls seen only up to 1.2 m, but a 2.2 m wardrobe seen to its top: the room is
    taller than the wardrobe, not 1.2 x the highest wall point (a SUN RGB-D bedroom came out 1.46 m high)."""
    import json

    from PIL import Image

    from pipeline.render.room_box import camera_rays_world, depth_and_faces

    truth = write_box_case(tmp_path, pitch=-5.0)
    cam, room = truth["camera"], truth["room"]
    w, h = cam.width, cam.height
    depth, _ = depth_and_faces(cam, room, w, h)
    z = (cam.t + camera_rays_world(cam, w, h).reshape(h, w, 3) * depth[..., None])[..., 2]
    est = tmp_path / "estimates"
    seg = np.asarray(Image.open(est / "segmentation.png")).astype(np.uint16)
    segments = json.loads((est / "segments.json").read_text())
    labels = {s["id"]: s["label"] for s in segments}
    wall = np.isin(seg, [i for i, lab in labels.items() if lab == "wall"])
    cols = np.zeros_like(wall)
    cols[:, w // 3: w // 2] = True
    seg[np.isin(seg, [i for i, lab in labels.items() if lab == "ceiling"])] = 0
    seg[wall & (z > 1.2)] = 0  # the walls' upper parts: unlabelled
    seg[wall & cols & (z <= 2.2)] = 99  # a wardrobe standing against the wall, seen to its top
    Image.fromarray(seg).save(est / "segmentation.png")
    segments = [s for s in segments if s["label"] != "ceiling"] + [{"id": 99, "label": "wardrobe", "kind": "thing"}]
    (est / "segments.json").write_text(json.dumps(segments))
    case = load_case(tmp_path / "photo.png", est)
    fit = fit_room(case, RoomConfig())
    assert fit.room.size[2] >= 2.25, fit.room.size
    assert any("tallest furniture" in n for n in fit.notes)
