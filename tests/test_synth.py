"""The synthetic case generator: files in the case format, and ground truth that agrees with the estimates."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from box_case import backproject_world, inside_box

from pipeline.synth.blender_scene import _build_blender_scene
from pipeline.synth.case_writer import generate_case
from pipeline.synth.cli import HELP, configure
from pipeline.synth.layout import _project, ground_truth, sample_layout, trace_layout
from p2s_common.errors import InputError

W, H = 64, 48
SEED = 3


@pytest.fixture(scope="module")
def case(tmp_path_factory) -> Path:
    pytest.importorskip("bpy")
    out = tmp_path_factory.mktemp("synth") / "case"
    return generate_case(out, seed=SEED, width=W, height=H, samples=4, novel_views=1)


def test_layout_is_deterministic_and_seed_dependent() -> None:
    a = ground_truth(sample_layout(7, W, H, novel_views=2))
    b = ground_truth(sample_layout(7, W, H, novel_views=2))
    c = ground_truth(sample_layout(8, W, H, novel_views=2))
    assert a == b
    assert a != c


@pytest.mark.parametrize("seed", range(8))
def test_layouts_are_plausible(seed: int) -> None:
    layout = sample_layout(seed, 160, 120)
    sx, sy, h = layout.room_size
    assert 3.5 <= sx <= 6 and 3 <= sy <= 5 and 2.4 <= h <= 3
    assert 3 <= len(layout.pieces) <= 5
    cam = layout.camera
    assert abs(cam.position[0]) < sx / 2 and abs(cam.position[1]) < sy / 2 and 1.2 <= cam.position[2] <= 1.7
    assert 45 <= cam.fov_y_deg <= 65
    pitch = math.degrees(math.asin(cam.rotation[2, 2]))  # the back axis tilts up as the view tilts down
    assert 5 - 1e-6 <= pitch <= 20 + 1e-6
    assert np.allclose(cam.rotation.T @ cam.rotation, np.eye(3)) and np.isclose(np.linalg.det(cam.rotation), 1)
    for p in layout.pieces:
        bottom = p.center[2] - p.size[2] / 2
        assert bottom >= -1e-9 and p.center[2] + p.size[2] / 2 < h
        if p.support_id is None:
            assert abs(bottom) < 1e-9  # stands on the floor
        else:
            support = next(q for q in layout.pieces if q.segment_id == p.support_id)
            assert math.isclose(bottom, support.center[2] + support.size[2] / 2)
    _, seg = trace_layout(layout, cam, 160, 120)
    labels = {sid: label for sid, label, _ in layout.surfaces}
    assert (seg == 1).mean() > 0.1
    assert sum((seg == sid).mean() > 0.02 for sid, label in labels.items() if label == "wall") >= 2


def test_case_files(case: Path) -> None:
    from PIL import Image

    for rel in ("photo.png", "ground_truth.json", "estimates/camera.json", "estimates/depth.npy",
                "estimates/segmentation.png", "estimates/segments.json", "novel_views/view_00.png",
                "novel_views/view_00.json"):
        assert (case / rel).is_file(), rel
    assert not list(case.parent.glob(".*partial*"))

    photo = Image.open(case / "photo.png")
    assert photo.mode == "RGB" and photo.size == (W, H)
    pixels = np.asarray(photo, float)
    assert 30 < pixels.mean() < 220, "the photo is too dark or blown out"
    assert (pixels.max(axis=-1) >= 255).mean() < 0.2

    cam = json.loads((case / "estimates/camera.json").read_text())
    assert cam["width"] == W and cam["height"] == H and cam["depth_units"] == "metres"
    tan_x = math.tan(math.radians(cam["fov_y_deg"]) / 2) * W / H
    assert math.isclose(cam["fov_x_deg"], math.degrees(2 * math.atan(tan_x)), abs_tol=1e-4)

    depth = np.load(case / "estimates/depth.npy")
    assert depth.dtype == np.float32 and depth.shape == (H, W)
    assert np.isfinite(depth).all() and (depth > 0).all()

    seg_img = Image.open(case / "estimates/segmentation.png")
    seg = np.asarray(seg_img)
    assert seg_img.mode == "I;16" and seg.shape == (H, W)
    segments = json.loads((case / "estimates/segments.json").read_text())
    assert {s["id"] for s in segments} == set(np.unique(seg).tolist())
    labels = [s["label"] for s in segments]
    assert "floor" in labels and "ceiling" in labels and labels.count("wall") >= 2
    assert all(s["kind"] == ("stuff" if s["label"] in {"floor", "ceiling", "wall", "window"} else "thing")
               for s in segments)
    assert any(s["kind"] == "thing" for s in segments)


def test_ground_truth_agrees_with_estimates(case: Path) -> None:
    from PIL import Image

    gt = json.loads((case / "ground_truth.json").read_text())
    depth = np.load(case / "estimates/depth.npy").astype(float)
    seg = np.asarray(Image.open(case / "estimates/segmentation.png"))
    cam = gt["camera"]
    assert (cam["width"], cam["height"]) == (W, H)
    rot = np.asarray(cam["rotation"])
    assert np.allclose(rot.T @ rot, np.eye(3), atol=1e-5)
    pts = backproject_world(depth, cam)

    sx, sy, h = gt["room"]["size"]
    assert gt["room"]["center"] == pytest.approx([0, 0, h / 2]) and gt["room"]["yaw_deg"] == 0
    plane = {"-z": (2, 0.0), "+z": (2, h), "-y": (1, -sy / 2), "+x": (0, sx / 2), "+y": (1, sy / 2),
             "-x": (0, -sx / 2)}
    for surface in gt["room"]["surfaces"]:
        mask = seg == surface["segment_id"]
        assert mask.sum() == surface["pixels"]
        axis, value = plane[surface["side"]]
        np.testing.assert_allclose(pts[mask][:, axis], value, atol=2e-3, err_msg=surface["label"])
    window = gt["room"].get("window")
    if window:  # 1 mm in front of its wall
        axis, value = plane[window["wall"]]
        np.testing.assert_allclose(pts[seg == window["segment_id"]][:, axis], value, atol=3e-3)

    assert gt["objects"]
    for obj in gt["objects"]:
        mask = seg == obj["segment_id"]
        assert mask.sum() == obj["pixels"]
        assert inside_box(pts[mask], obj, tol=3e-3).all(), obj["label"]
        assert abs(obj["center"][0]) < sx / 2 and abs(obj["center"][1]) < sy / 2
    for light in gt["lights"]:
        assert light["type"] == "area" and light["power_w"] > 0 and len(light["size"]) == 2

    view = json.loads((case / "novel_views/view_00.json").read_text())
    assert set(view) >= {"position", "rotation", "fov_y_deg", "width", "height"}


def test_estimates_agree_with_the_analytic_tracer(case: Path) -> None:
    from PIL import Image

    layout = sample_layout(SEED, W, H, novel_views=1)
    depth, seg = trace_layout(layout, layout.camera, W, H)
    seg_file = np.asarray(Image.open(case / "estimates/segmentation.png"))
    assert (seg == seg_file).mean() > 0.995
    same = seg == seg_file
    np.testing.assert_allclose(depth[same], np.load(case / "estimates/depth.npy")[same], atol=3e-3)


def test_blender_camera_matches_the_pinhole_model(case: Path) -> None:
    """What Cycles renders (Blender's camera) projects points where the estimates' pinhole model does."""
    from bpy_extras.object_utils import world_to_camera_view
    from mathutils import Vector

    layout = sample_layout(SEED, W, H)
    handles = _build_blender_scene(layout, samples=1)
    scene, cam_obj = handles["scene"], handles["camera"]
    rng = np.random.default_rng(0)
    sx, sy, h = layout.room_size
    for p in rng.uniform([-sx / 2, -sy / 2, 0], [sx / 2, sy / 2, h], (50, 3)):
        x, y, depth = _project(layout.camera, p)
        if not depth > 0.1:
            continue
        ndc = world_to_camera_view(scene, cam_obj, Vector(p))  # (0, 0) at the bottom-left corner
        assert ndc.x * W == pytest.approx(x, abs=1e-3) and (1 - ndc.y) * H == pytest.approx(y, abs=1e-3)
        assert ndc.z == pytest.approx(depth, abs=1e-4)


def test_existing_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "keep.txt").write_text("x")
    with pytest.raises(InputError):
        generate_case(tmp_path / "taken", seed=0, width=W, height=H, samples=1)
    assert (tmp_path / "taken" / "keep.txt").read_text() == "x"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]


def test_cli_options() -> None:
    import argparse

    parser = argparse.ArgumentParser()
    configure(parser)
    args = parser.parse_args(["out", "--count", "3", "--seed", "5", "--novel-views", "2", "--theme", "bedroom"])
    assert (args.count, args.seed, args.novel_views, args.theme, args.width, args.height, args.samples) == (
        3, 5, 2, "bedroom", 320, 240, 64)
    assert isinstance(HELP, str) and "\n" not in HELP
