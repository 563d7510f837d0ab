"""The room stage without a depth map: pseudo-depth from masks + camera tilt + a height prior, masks-only
refinement (issue 7: bare photos)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from box_case import write_box_case
from pipeline.core.case import load_case
from pipeline.core.events import Silent
from pipeline.stages.config import ReconstructConfig
from pipeline.stages.room import stage as room_stage


def _no_depth_case(folder, tilt: bool):
    truth = write_box_case(folder, width=128, height=96, pitch=-10.0, fov_y=60.0, camera_z=1.5,
                           room_size=(5.0, 4.0, 2.6))  # the ceiling-height prior's room
    (folder / "estimates" / "depth.npy").unlink()
    cam = json.loads((folder / "estimates" / "camera.json").read_text())
    if tilt:
        cam.update(pitch_deg=-10.0, roll_deg=0.0)
    (folder / "estimates" / "camera.json").write_text(json.dumps(cam))
    return load_case(folder / "photo.png", folder / "estimates"), truth


@pytest.mark.parametrize("tilt", [True, False])
def test_room_without_depth(tmp_path, tilt):
    case, truth = _no_depth_case(tmp_path, tilt)
    assert case.depth is None and (case.tilt_deg is not None) == tilt
    config = ReconstructConfig()
    config.room.refine_iters = 10
    config.room.refine_width = 96
    config.room.spp = 4
    scene = room_stage.run(None, case, config, Silent())
    metrics = scene.stages["room"]
    assert scene.scale["source"] == "prior:ceiling_height"  # the ceiling is seen: it sets the scale
    assert scene.camera.position[2] == pytest.approx(1.5, abs=0.05)  # the truth, from the 2.6 m room prior
    iou = metrics["iou_after"]
    assert iou["wall"] > 0.95 and iou["floor"] > 0.95 and iou["ceiling"] > 0.85  # a thin strip at 128x96
    up_true = truth["camera"].R.T @ np.array([0, 0, 1.0])
    up_ours = scene.camera.R.T @ np.array([0, 0, 1.0])
    assert math.degrees(math.acos(np.clip(up_true @ up_ours, -1, 1))) < 3.0
    if not tilt:
        assert any("tilt searched" in note for note in metrics["notes"])
