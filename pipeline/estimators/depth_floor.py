"""The floor from a given depth map: where the user gives depth but no room surfaces (furniture masks only).

The photo-only segmentation guesses the floor from colour and the vanishing-point box, and on real photos it can
miss it entirely (a carpet read as wall, a wall read as floor). Given depth settles it: the floor is the lowest
large near-horizontal plane among the pixels no given mask covers (the furniture's own tops are masked out).
Its normal is also the camera's gravity, better than the vanishing points' when the room has few straight lines.
A wrong field of view scales x and y of the back-projected points, which keeps planes planar, so the plane is
found even before the FOV is right.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from pipeline.core.geometry import backproject, ransac_plane


@dataclass
class DepthFloor:
    """The floor found in a depth map."""

    mask: np.ndarray  # HxW bool: pixels on the floor plane
    normal: np.ndarray  # world up in Blender camera coordinates (x right, y up, z back)
    height: float  # the camera's height above the floor, in the depth's units
    tested: np.ndarray  # HxW bool: the free pixels with depth (those the plane could claim or reject)

    def pitch_roll_deg(self) -> tuple[float, float]:
        """camera.json's pitch and roll (the inverse of CameraEstimate.up_vector)."""
        n = self.normal
        return math.degrees(math.asin(float(np.clip(-n[2], -1, 1)))), math.degrees(math.atan2(n[0], n[1]))


def depth_floor(depth: np.ndarray, fov_y_deg: float, up_hint: np.ndarray, free: np.ndarray,
                max_angle_deg: float = 20.0, min_share: float = 0.03, seed: int = 0) -> DepthFloor | None:
    """The lowest well-supported near-horizontal plane below the camera among the `free` pixels with depth
    (None when there is none). `up_hint`: the estimated up (normals further than `max_angle_deg` are not tried);
    `min_share`: the least share of the free pixels a floor must hold (smaller planes are clutter)."""
    valid = free & (depth > 0) & np.isfinite(depth)
    if valid.sum() < 200:
        return None
    points_all = backproject(np.where(np.isfinite(depth), depth, 0.0), fov_y_deg)
    rng = np.random.default_rng(seed)
    idx = np.flatnonzero(valid)
    if len(idx) > 20000:  # RANSAC on a sample; the mask is taken over every pixel afterwards
        idx = rng.choice(idx, 20000, replace=False)
    points = points_all.reshape(-1, 3)[idx]
    # Kinect-like noise grows with distance: the inlier band is a share of the typical depth (4.5 cm at 3 m).
    threshold = 0.015 * float(np.median(-points[:, 2]))
    up_hint = np.asarray(up_hint, float) / np.linalg.norm(up_hint)
    remaining = np.ones(len(points), bool)
    candidates = []
    for _ in range(4):  # floor, ceiling, a low shelf or step: a few horizontal planes
        sub = np.flatnonzero(remaining)
        if len(sub) < 100:
            break
        plane = ransac_plane(points[sub], threshold, 500, rng, normal_hint=up_hint, max_angle_deg=max_angle_deg)
        if plane is None or plane.inliers.sum() < min_share * len(points):
            break
        normal, offset = plane.normal, plane.offset
        if normal @ up_hint < 0:
            normal, offset = -normal, -offset
        remaining[sub[plane.inliers]] = False
        # the least-squares refit may tilt away from the hint (a wall's foot in the band): not a floor then
        if normal @ up_hint >= math.cos(math.radians(max_angle_deg)) and offset > 0:  # camera above it
            below = float(np.mean(points @ normal + offset < -3 * threshold))
            candidates.append((below, int(plane.inliers.sum()), offset, normal))
    if not candidates:
        return None
    # Nothing is seen below a floor: a plane with points under it is a step, a bed's skirt, or a slanted plane
    # through the floor and the foot of a wall. Of the planes with (next to) nothing below, the best supported.
    least = min(c[0] for c in candidates)
    _, _, offset, normal = max((c for c in candidates if c[0] <= least + 0.01), key=lambda c: c[1])
    dist = points_all @ normal + offset
    mask = valid & (np.abs(dist) < threshold)
    return DepthFloor(mask, normal, float(offset), valid)
