"""The floor from a given depth map (estimators/depth_floor.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from box_case import SHARED_DATA
from pipeline.estimators.depth_floor import depth_floor
from pipeline.estimators.synthetic import FACE_NAMES, room_photo

SUN = SHARED_DATA / "sunrgbd_mmdet3d_samples"


def _angle_deg(a: np.ndarray, b: np.ndarray) -> float:
    return math.degrees(math.acos(float(np.clip(a @ b / np.linalg.norm(a) / np.linalg.norm(b), -1, 1))))


def test_the_floor_of_a_synthetic_room_with_a_sofa_mask() -> None:
    """The true floor, the true tilt (pitch -8, roll 2) and height (1.5 m), from an up hint 8 degrees off."""
    _, truth = room_photo(200, 150, 55.0, -8.0, 2.0, 30.0, seed=2)
    free = np.ones((150, 200), bool)
    free[90:130, 40:90] = False  # a furniture mask: never floor
    up = np.asarray(truth["up_blender"])
    floor = depth_floor(truth["depth"], 55.0, up + [0.1, 0.0, 0.08], free)
    assert floor is not None
    pitch, roll = floor.pitch_roll_deg()
    assert abs(pitch + 8.0) < 1.0 and abs(roll - 2.0) < 1.0 and abs(floor.height - 1.5) < 0.03
    true_floor = (truth["faces"] == FACE_NAMES.index("floor")) & free
    assert (floor.mask & true_floor).sum() >= 0.95 * true_floor.sum()
    assert not (floor.mask & ~free).any()


def test_no_floor_without_a_horizontal_plane_below_the_camera() -> None:
    """A single wall facing the camera has no floor: None, not the wall."""
    depth = np.full((120, 160), 3.0, np.float32)
    assert depth_floor(depth, 50.0, np.array([0.0, 1.0, 0.0]), np.ones_like(depth, bool)) is None


@pytest.mark.skipif(not SUN.is_dir(), reason="SUN RGB-D samples not present")
def test_sun_floors_from_depth_with_furniture_masked() -> None:
    """On the 4 real SUN RGB-D frames with their furniture masked: gravity within 4 degrees of Rtilt's and the
    camera height within 10 cm of the truth's floor level (sunrgbd._floor_level),
    from the true up hint tilted by ~6 degrees, and with a FOV
    40 % too narrow (the classical estimate's worst case here) the normal is still within 6 degrees."""
    from pipeline.app.bench.sunrgbd import sun_samples

    for s in sun_samples(SUN):
        free = ~np.isin(s.ids, [g.id for g in s.segments if g.kind == "thing"])
        true_up = np.asarray(s.truth["camera"]["rotation"])[2]
        floor = depth_floor(s.depth, s.fov_y_deg, true_up + [0.1, 0.0, 0.05], free)
        assert floor is not None, s.name
        assert _angle_deg(floor.normal, true_up) < 4.0, s.name
        assert abs(floor.height + s.floor_z) < 0.10, s.name  # two ways to the floor: plane fit, densest layer
        narrow = depth_floor(s.depth, 0.6 * s.fov_y_deg, true_up + [0.0, 0.0, -0.1], free)
        assert narrow is not None and _angle_deg(narrow.normal, true_up) < 6.0, s.name
