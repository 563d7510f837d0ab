"""Partial estimates: the given files and fields win, the missing ones are estimated and merged."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

from pipeline.core.case import load_case
from pipeline.estimators.complete import complete_estimates, missing
from pipeline.estimators.config import EstimateConfig, RegionsConfig
from pipeline.estimators.estimate import estimate_case
from pipeline.estimators.synthetic import room_photo

FAST = EstimateConfig(download="never", working_size=200,
                      regions=RegionsConfig(size=64, channels=16, iterations=25, min_clusters=4))


def _photo_with_masks_and_depth(tmp_path: Path) -> tuple[Path, Path, np.ndarray]:
    """A room photo; given: metric depth and one furniture mask (no FOV, no wall or floor labels)."""
    image, truth = room_photo(200, 150, 55.0, -8.0, 2.0, 30.0, seed=2)
    Image.fromarray((image * 255).astype(np.uint8)).save(tmp_path / "photo.png")
    given = tmp_path / "given"
    given.mkdir()
    np.save(given / "depth.npy", truth["depth"].astype(np.float32))
    ids = np.zeros((150, 200), np.uint16)
    ids[90:130, 40:90] = 7
    Image.fromarray(ids).save(given / "segmentation.png")
    (given / "segments.json").write_text(json.dumps([{"id": 7, "label": "sofa", "kind": "thing"}]))
    (given / "camera.json").write_text(json.dumps({"depth_units": "metres"}))
    return tmp_path / "photo.png", given, ids


def test_missing_names_what_a_reconstruction_needs(tmp_path: Path) -> None:
    _, given, _ = _photo_with_masks_and_depth(tmp_path)
    assert missing(given) == ["field of view", "room surfaces"]
    assert missing(given, fov_deg=50.0) == ["room surfaces"]
    assert missing(tmp_path / "nothing_here") == ["field of view", "segmentation"]


def test_masks_and_depth_are_kept_and_the_room_estimated_around_them(tmp_path: Path) -> None:
    photo, given, ids = _photo_with_masks_and_depth(tmp_path)
    out = tmp_path / "merged"
    messages: list[str] = []
    estimated = complete_estimates(photo, given, out, lambda p, f: estimate_case(p, f, FAST, messages.append),
                                   messages.append)
    assert estimated == ["field of view", "room surfaces"]
    cam = json.loads((out / "camera.json").read_text())
    # the FOV from the given depth's right angles, not the photo's vanishing points
    assert abs(cam["fov_y_deg"] - 55.0) < 0.5 and cam["depth_units"] == "metres"
    assert cam["fov_source"] == "right angles of the given depth's planes"
    assert np.array_equal(np.load(out / "depth.npy"), np.load(given / "depth.npy"))
    merged = np.asarray(Image.open(out / "segmentation.png")).astype(np.int32)
    assert np.array_equal(merged == 7, ids == 7)  # the given mask, untouched
    segments = json.loads((out / "segments.json").read_text())
    assert segments[0] == {"id": 7, "label": "sofa", "kind": "thing"}
    added = {s["label"] for s in segments[1:]}
    assert "floor" in added and added <= {"floor", "wall", "ceiling", "window", "door"}
    assert all(s["id"] > 7 for s in segments[1:])
    case = load_case(photo, out)
    assert case.depth_metric and case.mask("floor").any() and case.mask("sofa").any()
    assert any("room surfaces estimated around the given masks" in m for m in messages)


def test_a_given_fov_wins_over_the_estimate(tmp_path: Path) -> None:
    photo, given, _ = _photo_with_masks_and_depth(tmp_path)
    (given / "camera.json").write_text(json.dumps({"fov_x_deg": 70.0, "depth_units": "metres"}))
    complete_estimates(photo, given, tmp_path / "merged", lambda p, f: estimate_case(p, f, FAST, lambda m: None),
                       lambda m: None)
    cam = json.loads((tmp_path / "merged" / "camera.json").read_text())
    assert cam["fov_x_deg"] == 70.0 and "fov_y_deg" not in cam


def test_the_floor_and_the_tilt_come_from_the_given_depth(tmp_path: Path) -> None:
    """With depth given, every merged floor pixel lies on the depth's floor plane, the true floor is found, and
    camera.json's tilt is that plane's (pitch -8, roll 2 in the synthetic photo)."""
    from pipeline.core.geometry import backproject
    from pipeline.estimators.synthetic import FACE_NAMES, room_photo

    photo, given, _ = _photo_with_masks_and_depth(tmp_path)
    _, truth = room_photo(200, 150, 55.0, -8.0, 2.0, 30.0, seed=2)
    out = tmp_path / "merged"
    messages: list[str] = []
    complete_estimates(photo, given, out, lambda p, f: estimate_case(p, f, FAST, lambda m: None), messages.append)
    cam = json.loads((out / "camera.json").read_text())
    assert cam["tilt_source"] == "floor plane of the given depth"
    assert abs(cam["pitch_deg"] + 8.0) < 1.5 and abs(cam["roll_deg"] - 2.0) < 1.5
    merged = np.asarray(Image.open(out / "segmentation.png")).astype(np.int32)
    floor_ids = [s["id"] for s in json.loads((out / "segments.json").read_text()) if s["label"] == "floor"]
    floor = np.isin(merged, floor_ids)
    true_floor = (truth["faces"] == FACE_NAMES.index("floor")) & (merged != 7)
    assert (floor & true_floor).sum() >= 0.95 * true_floor.sum()
    # The rest is the feet of the walls inside the plane's band (a few cm): on the plane all the same.
    assert (floor & ~true_floor).sum() <= 0.15 * floor.sum()
    up = np.asarray(truth["up_blender"])
    heights = backproject(truth["depth"], 55.0)[floor] @ up
    assert np.ptp(heights) < 0.12  # one plane, 1.5 m below the camera
    assert any("floor from the given depth" in m for m in messages)
