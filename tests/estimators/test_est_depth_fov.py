"""The field of view from a given depth map (estimators/depth_fov.py)."""

from __future__ import annotations

import numpy as np
import pytest

from box_case import SHARED_DATA
from pipeline.estimators.depth_fov import depth_fov
from pipeline.estimators.synthetic import room_photo

SUN = SHARED_DATA / "sunrgbd_mmdet3d_samples"


@pytest.mark.parametrize("fov", [30.0, 40.0, 55.0, 75.0, 95.0])
def test_the_fov_of_a_box_room_from_its_depth(fov: float) -> None:
    """The right angles of a box room's planes give its camera's FOV within half a degree, from a long lens to
    an ultra-wide one, with a furniture mask cut out of the depth."""
    _, truth = room_photo(200, 150, fov, -8.0, 2.0, 30.0, seed=3)
    free = np.ones((150, 200), bool)
    free[90:130, 40:90] = False
    found = depth_fov(truth["depth"], free)
    assert found is not None and abs(found.fov_y_deg - fov) < 0.5
    assert found.pairs >= 1 and found.residual_deg < 1.0  # at 30 degrees only a wall and the floor are seen


def test_parallel_planes_say_nothing() -> None:
    """One wall facing the camera (or any set of parallel planes) fixes no FOV: None, not the guess."""
    depth = np.full((120, 160), 3.0, np.float32)
    assert depth_fov(depth) is None
    assert depth_fov(np.zeros((120, 160), np.float32)) is None  # no valid depth at all


@pytest.mark.skipif(not SUN.is_dir(), reason="SUN RGB-D samples not present")
def test_sun_fov_from_depth_with_furniture_masked() -> None:
    """On the 4 real SUN RGB-D frames (Kinect depth, furniture masked): within 4 degrees of the true 53.2 (the
    vanishing points were off by up to 22 degrees on these)."""
    from pipeline.app.bench.sunrgbd import sun_samples

    for s in sun_samples(SUN):
        free = ~np.isin(s.ids, [g.id for g in s.segments if g.kind == "thing"])
        found = depth_fov(s.depth, free)
        assert found is not None and abs(found.fov_y_deg - s.fov_y_deg) < 4.0, (s.name, found)
