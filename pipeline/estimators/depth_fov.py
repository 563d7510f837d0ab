"""The field of view from a given depth map: a room's planes meet at right angles only at the true FOV.

Back-projecting a z-depth map with a wrong focal length scales every point's x and y by one factor t (the ratio
of the assumed to the true focal length) and leaves z alone. Planes stay planes, so the same planes are found
whatever FOV is assumed, but their normals (a, b, c) become (a / t, b / t, c): the angles between them change.
Floor and walls, and neighbouring walls, are perpendicular in a room; the FOV at which the depth's large planes
come closest to right angles is the camera's. Vanishing points need long straight edges (a furniture showroom's
are the furniture's); a depth map needs only two visible room surfaces at an angle to each other.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from pipeline.core.geometry import backproject, ransac_plane

MAX_RESIDUAL_DEG = 8.0  # the right angles must hold this well at the answer (else the planes are not a room's)
RIGHT_ANGLE_TOLERANCE_DEG = 15.0  # a pair further from perpendicular than this at the best FOV costs a constant
FOV_RANGE_DEG = (20.0, 120.0)  # vertical FOVs tried: a long lens to an ultra-wide phone camera
START_FOV_DEG = 60.0  # the planes are first separated at a mid-range FOV (the answer is searched over the range)


@dataclass
class DepthFov:
    """The FOV the depth's planes give, and how well they give it."""

    fov_y_deg: float
    planes: int  # large planes found among the free pixels
    pairs: int  # pairs of them near a right angle (the evidence)
    residual_deg: float  # RMS departure from 90 degrees of those pairs at the chosen FOV
    sharpness: float  # the cost at a focal length 20 % off over the cost at the answer (>1: a clear minimum)


def depth_fov(depth: np.ndarray, free: np.ndarray | None = None, seed: int = 0, max_planes: int = 8,
              min_share: float = 0.02) -> DepthFov | None:
    """The vertical FOV at which the large planes of `depth` (among the `free` pixels: furniture masked out)
    are closest to perpendicular; None when the depth holds no pair of planes at an angle that fixes it (one
    wall, only parallel planes, too few valid pixels) or its planes do not meet at right angles at any FOV."""
    free = np.ones(depth.shape, bool) if free is None else free
    normals, weights = _planes(depth, free, START_FOV_DEG, np.random.default_rng(seed), max_planes, min_share)
    found = _best_fov(normals, weights, START_FOV_DEG)
    if found is None or found[2] > MAX_RESIDUAL_DEG:
        return None
    return DepthFov(found[0], len(normals), *found[1:])


def _planes(depth: np.ndarray, free: np.ndarray, fov_y_deg: float, rng: np.random.Generator, max_planes: int,
            min_share: float) -> tuple[list[np.ndarray], list[int]]:
    """Normals and inlier counts of the large planes, found one after another by RANSAC on a sample of pixels."""
    valid = (free & (depth > 0) & np.isfinite(depth)).ravel()
    idx = np.flatnonzero(valid)
    if len(idx) < 500:
        return [], []
    if len(idx) > 20000:
        idx = rng.choice(idx, 20000, replace=False)
    points = backproject(np.where(np.isfinite(depth), depth, 0.0), fov_y_deg).reshape(-1, 3)[idx]
    # Depth noise grows with distance: the inlier band is a share of the typical depth (3.6 cm at 3 m).
    threshold = 0.012 * float(np.median(-points[:, 2]))
    remaining = np.ones(len(points), bool)
    normals, weights = [], []
    for _ in range(max_planes):
        sub = np.flatnonzero(remaining)
        if len(sub) < 200:
            break
        plane = ransac_plane(points[sub], threshold, 400, rng)
        if plane is None or plane.inliers.sum() < min_share * len(points):
            break
        remaining[sub[plane.inliers]] = False
        normals.append(plane.normal)
        weights.append(int(plane.inliers.sum()))
    return normals, weights


def _best_fov(normals: list[np.ndarray], weights: list[int], fov_deg: float) -> tuple[float, int, float, float] | None:
    """(FOV, pairs, residual degrees, sharpness) minimising the capped squared cosines of the plane pairs more
    than 50 degrees apart (parallel planes say nothing about the FOV), each pair weighted by the geometric mean
    of its planes' support; `normals` were fitted at `fov_deg`. None without evidence."""
    cap = math.sin(math.radians(RIGHT_ANGLE_TOLERANCE_DEG)) ** 2
    fovs = np.arange(FOV_RANGE_DEG[0], FOV_RANGE_DEG[1] + 1e-9, 0.25)
    scales = np.tan(np.radians(fovs) / 2) / math.tan(math.radians(fov_deg) / 2)  # assumed / true focal length
    cos2, w = [], []
    for i in range(len(normals)):
        for j in range(i + 1, len(normals)):
            a, b = normals[i], normals[j]
            if abs(float(a @ b)) > math.cos(math.radians(50.0)):
                continue
            na = np.stack([a[0] / scales, a[1] / scales, np.full_like(scales, a[2])], 1)
            nb = np.stack([b[0] / scales, b[1] / scales, np.full_like(scales, b[2])], 1)
            cos = (na * nb).sum(1) / np.linalg.norm(na, axis=1) / np.linalg.norm(nb, axis=1)
            cos2.append(cos ** 2)
            w.append(math.sqrt(weights[i] * weights[j]))
    if not cos2:
        return None
    cos2_arr, w_arr = np.asarray(cos2), np.asarray(w, float)[:, None]
    cost = (w_arr * np.minimum(cos2_arr, cap)).sum(0)
    best = int(np.argmin(cost))
    if best in (0, len(fovs) - 1):  # the minimum at the search's edge: no answer inside the plausible range
        return None
    around = [cost[k] for k in (int(np.argmin(np.abs(scales - scales[best] / 1.2))),
                                int(np.argmin(np.abs(scales - scales[best] * 1.2))))]
    sharpness = float(min(around) / max(cost[best], 1e-12))
    near = cos2_arr[:, best] < cap  # the pairs that are right angles at the answer
    if not near.any():
        return None
    residual = math.degrees(math.asin(math.sqrt(float((w_arr[near, 0] * cos2_arr[near, best]).sum()
                                                       / w_arr[near, 0].sum()))))
    return float(fovs[best]), int(near.sum()), residual, sharpness
