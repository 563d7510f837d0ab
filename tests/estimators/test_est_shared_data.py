"""Checks on the research data sets in ../shared/data (skipped cleanly where they are absent; never copied)."""

from __future__ import annotations

import pytest

from box_case import SHARED_DATA

SUN = SHARED_DATA / "sunrgbd_mmdet3d_samples"
GRABCUT = SHARED_DATA / "grabcut"


@pytest.mark.skipif(not SUN.is_dir(), reason="SUN RGB-D samples not present")
def test_sun_truth_and_one_estimate():
    from pipeline.app.bench.estimators import camera_row, sun_camera_truth
    from pipeline.estimators.camera_classical import ClassicalCamera
    from p2s_common.images import read_photo

    items = sun_camera_truth(SUN)
    assert len(items) >= 4
    assert all(abs(fov - 53.2) < 0.2 for _, _, fov, _ in items)  # fy = 529.5 on 530 rows
    name, path, fov, up = items[0]
    row = camera_row(name, read_photo(path)[0], fov, up, ClassicalCamera())
    assert row["horizon_err"] < 5.0 and row["fov_err"] < 10.0


@pytest.mark.skipif(not (GRABCUT / "masks").is_dir(), reason="GrabCut not present")
def test_grabcut_first_image_reaches_85():
    from pipeline.app.bench.estimators import _read_instance_set
    from pipeline.interactive.clicks import simulate
    from pipeline.interactive.session import ClickSession

    stem, image, gt, ignore = next(iter(_read_instance_set(GRABCUT, 2)))
    run = simulate(ClickSession(image), gt, ignore, max_clicks=10, stop_at=0.85)
    assert max(run.ious) >= 0.85
