"""Benchmark rooms furnished with third-party models: files, agreement of the estimates with the truth, tags."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from box_case import backproject_world, inside_box

from pipeline.app.bench import realistic_layout
from p2s_common.errors import InputError

MODELS = Path(__file__).resolve().parents[3] / "shared" / "data" / "third_party_furniture"
W, H = 80, 60
SEED = 5

needs_models = pytest.mark.skipif(not MODELS.is_dir(), reason=f"no third-party models at {MODELS}")


@pytest.fixture(scope="module")
def room(tmp_path_factory) -> Path:
    if not MODELS.is_dir():
        pytest.skip(f"no third-party models at {MODELS}")
    pytest.importorskip("bpy")
    from pipeline.app.bench.realistic_rooms import generate_room

    out = tmp_path_factory.mktemp("realistic") / "room"
    return generate_room(out, SEED, MODELS, width=W, height=H, samples=8, novel_views=1)


def test_missing_models_folder_is_an_input_error(tmp_path: Path) -> None:
    from pipeline.app.bench.realistic_rooms import generate_room

    with pytest.raises(InputError, match=r"\.\./shared/data/third_party_furniture") as err:
        generate_room(tmp_path / "out", 0, tmp_path / "nowhere", width=W, height=H, samples=1, novel_views=0)
    assert str(tmp_path / "nowhere") in str(err.value)
    assert not (tmp_path / "out").exists()


def test_the_sun_photos_alone_need_no_models(tmp_path: Path, capsys) -> None:
    """`--count 0 --rooms ''` benchmarks the SUN RGB-D photos only: the rooms' third-party models are not
    needed (they were, and the run stopped at once); with rooms asked for, their absence is an input error."""
    from pipeline.app.cli import main

    common = ["bench", "realistic", "--sun", str(tmp_path / "no_sun"), "--models", str(tmp_path / "nowhere"),
              "--cache", str(tmp_path / "cache"), "--results", str(tmp_path / "results")]
    assert main(common + ["--count", "0", "--rooms", ""]) == 0
    assert "SUN RGB-D samples not found" in capsys.readouterr().out
    assert main(common + ["--rooms", "0"]) != 0
    assert "--models DIR" in capsys.readouterr().err
    assert not (tmp_path / "cache").exists()


@needs_models
def test_layout_is_deterministic_and_seed_dependent() -> None:
    a = realistic_layout.layout_truth(realistic_layout.sample_room(11, MODELS, W, H, 2))
    b = realistic_layout.layout_truth(realistic_layout.sample_room(11, MODELS, W, H, 2))
    c = realistic_layout.layout_truth(realistic_layout.sample_room(12, MODELS, W, H, 2))
    assert json.dumps(a) == json.dumps(b)
    assert a != c


@needs_models
@pytest.mark.parametrize("seed", range(6))
def test_layouts_are_plausible(seed: int) -> None:
    lay = realistic_layout.sample_room(seed, MODELS, 160, 120, 2)
    sx, sy, h = lay.room_size
    assert 3.2 <= sx <= 6 and 3 <= sy <= 5.5 and 2.5 <= h <= 3
    assert lay.window.wall != lay.door.wall
    labels = [it.label for it in lay.items]
    assert any(it.light in ("table", "floor", "desk") for it in lay.items), labels
    assert any(it.light == "ceiling" for it in lay.items)
    by_id = {it.segment_id: it for it in lay.items}
    assert sorted(by_id) == list(range(9, 9 + len(lay.items)))
    for it in lay.items:
        corners = realistic_layout._footprint(it.center, it.size, it.yaw)
        assert np.all(np.abs(corners[:, 0]) <= sx / 2 + 1e-6) and np.all(np.abs(corners[:, 1]) <= sy / 2 + 1e-6)
        assert it.position[2] >= -1e-9 and it.position[2] + it.size[2] <= h + 1e-6
        if it.support_id is not None:
            assert it.support_id in by_id
    cams = [lay.camera, *lay.novel_cameras]
    for cam in cams:
        assert abs(cam.position[0]) < sx / 2 and abs(cam.position[1]) < sy / 2
        assert np.allclose(cam.rotation.T @ cam.rotation, np.eye(3), atol=1e-9)
    assert 1.2 <= lay.camera.position[2] <= 1.7 and 45 <= lay.camera.fov_y_deg <= 65
    for cam in lay.novel_cameras:
        step = np.linalg.norm(cam.position - lay.camera.position)
        turn = math.degrees(math.acos(np.clip(cam.rotation[:, 2] @ lay.camera.rotation[:, 2], -1, 1)))
        assert step > 0.3 or turn > 10


def test_room_files(room: Path) -> None:
    from PIL import Image

    for rel in ("photo.png", "estimates/depth.npy", "estimates/segmentation.png", "estimates/segments.json",
                "estimates/camera.json", "ground_truth.json", "truth.blend", "novel_views/view_00.png",
                "novel_views/view_00.json"):
        assert (room / rel).is_file(), rel
    with Image.open(room / "photo.png") as im:
        assert im.size == (W, H) and im.mode == "RGB"
        photo = np.asarray(im, float) / 255
    assert 0.08 < photo.mean() < 0.85  # neither black nor blown out
    cam = json.loads((room / "estimates" / "camera.json").read_text())
    assert cam["width"] == W and cam["height"] == H and cam["depth_units"] == "metres"
    assert not list(room.parent.glob(".*partial*"))


def test_estimates_agree_with_the_truth(room: Path) -> None:
    from PIL import Image

    gt = json.loads((room / "ground_truth.json").read_text())
    depth = np.load(room / "estimates" / "depth.npy")
    seg = np.asarray(Image.open(room / "estimates" / "segmentation.png"))
    segments = json.loads((room / "estimates" / "segments.json").read_text())
    assert depth.dtype == np.float32 and depth.shape == (H, W)
    assert np.all(np.isfinite(depth)) and np.all(depth > 0)
    present = set(np.unique(seg).tolist())
    assert {s["id"] for s in segments} == present and 0 not in present
    labels = {s["id"]: s["label"] for s in segments}
    counts = np.bincount(seg.ravel(), minlength=65536)
    entries = gt["room"]["surfaces"] + gt["objects"] + gt["openings"]
    for e in entries:
        assert e["pixels"] == counts[e["segment_id"]], e
        if e["pixels"]:
            assert labels[e["segment_id"]] == e["label"]
    assert {o["label"] for o in gt["openings"]} == {"window", "door"}
    assert labels[1] == "floor"
    # Every object's pixels back-project into its measured box.
    points = backproject_world(depth, gt["camera"])
    for o in gt["objects"] + gt["openings"]:
        mask = seg == o["segment_id"]
        if mask.any():
            assert inside_box(points[mask], o, 0.02).mean() > 0.98, o["name"]
    kinds = {s["label"]: s["kind"] for s in segments}
    assert kinds["floor"] == "stuff" and all(k == "thing" for lab, k in kinds.items()
                                             if lab not in ("floor", "ceiling", "wall", "window", "door"))


def test_only_third_party_models(room: Path) -> None:
    from assets_index.builtin import BY_ID

    gt = json.loads((room / "ground_truth.json").read_text())
    assert gt["objects"]
    for o in gt["objects"]:
        if o["source"] == "generated":
            assert o["model"].startswith("generated:")
            continue
        assert o["source"] in ("polyhaven", "kaykit")
        folder = "polyhaven_cc0" if o["source"] == "polyhaven" else "kaykit_cc0"
        assert (MODELS / folder / o["model"]).is_file(), o["model"]
        assert Path(o["model"]).stem not in BY_ID


def test_truth_blend_is_tagged(room: Path) -> None:
    import bpy

    gt = json.loads((room / "ground_truth.json").read_text())
    bpy.ops.wm.open_mainfile(filepath=str(room / "truth.blend"))
    from pipeline.app.bench.realistic_rooms import _measure_box

    scene = bpy.context.scene
    cam = np.array(scene.camera.matrix_world)
    assert np.allclose(cam[:3, :3], gt["camera"]["rotation"], atol=1e-5)
    assert np.allclose(cam[:3, 3], gt["camera"]["position"], atol=1e-5)
    faces = {o["photo2scene_face"]: o["segment_id"] for o in scene.objects if "photo2scene_face" in o}
    assert faces == {s["face"]: s["segment_id"] for s in gt["room"]["surfaces"]}
    roots = {o["photo2scene_object"]: o for o in scene.objects if "photo2scene_object" in o}
    expected = gt["objects"] + gt["openings"]
    assert set(roots) == {e["name"] for e in expected}
    for e in expected:
        root = roots[e["name"]]
        assert root["photo2scene_label"] == e["label"] and root["segment_id"] == e["segment_id"]
        assert any(c.type == "MESH" for c in root.children_recursive)
        c, s, yaw = _measure_box(root)
        assert np.allclose(c, e["center"], atol=1e-4) and np.allclose(s, e["size"], atol=1e-4)
    window = roots[next(e["name"] for e in gt["openings"] if e["label"] == "window")]
    assert any("glass" in c.name for c in window.children_recursive)
    assert sum(o.type == "LIGHT" for o in scene.objects) == len([li for li in gt["lights"] if li["type"] != "world"])
    assert all(not img.filepath or img.packed_file is not None for img in bpy.data.images if img.source == "FILE")
    assert scene.render.engine == "CYCLES" and scene.view_settings.view_transform == "Standard"


def test_truth_blend_scores_as_the_truth_and_a_moved_piece_is_measured(room: Path, tmp_path: Path) -> None:
    """The scorer's sanity check: the room's own scene renders as its photo (> 35 dB) with every mask and box
    exact; moving one piece 0.5 m shows up as a 0.5 m centroid error and a 3-D IoU below 1, and nowhere else."""
    import bpy

    from pipeline.app.bench.realistic_score import score_blend

    row = score_blend(room / "truth.blend", room, samples=8)
    assert row["photo_psnr"] > 35 and all(v > 35 for v in row["novel_psnr"])
    assert row["fov_err_deg"] == row["pitch_err_deg"] == row["roll_err_deg"] == 0
    assert row["room_miou"] == 1.0 and row["room_iou_3d"] == 1.0 and row["scale"] == 1.0
    assert row["objects"] and row["furniture_miou"] == 1.0 and row["object_iou_3d"] == 1.0
    assert row["centroid_err_m"] == 0.0
    # The bench's pictures: photo | render | index pass, and one line per novel view, true view | render.
    from p2s_common.images import read_photo

    from pipeline.app.bench.realistic import _case_picture_from

    render = row["_render"]
    _case_picture_from(row, render, tmp_path, "truth")
    h, w = render.shape[:2]
    assert read_photo(tmp_path / "truth.png")[0].shape[:2] == (h, 3 * w + 8)
    assert read_photo(tmp_path / "truth_novel.png")[0].shape[:2] == (len(row["novel_psnr"]) * (h + 4), 2 * w + 4)

    # Move the biggest scored piece 0.5 m along x (hidden pieces may then show: only that piece is checked).
    gt = json.loads((room / "ground_truth.json").read_text())
    sizes = {o["name"]: np.prod(o["size"]) for o in gt["objects"]}
    name = max((o["name"] for o in row["objects"]), key=sizes.get)
    bpy.ops.wm.open_mainfile(filepath=str(room / "truth.blend"))
    root = next(o for o in bpy.data.objects if o.get("photo2scene_object") == name)
    root.location.x += 0.5
    moved = tmp_path / "moved.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(moved))
    after = score_blend(moved, room, samples=8, novel=False)
    piece = next(o for o in after["objects"] if o["name"] == name)
    if piece["matched"] and name in piece["matched"]:
        assert piece["centroid_err_m"] == pytest.approx(0.5, abs=0.02)
        assert piece["iou_3d"] < 0.9
    assert after["photo_psnr"] < row["photo_psnr"]
    assert after["room_iou_3d"] == 1.0 and after["fov_err_deg"] == 0
