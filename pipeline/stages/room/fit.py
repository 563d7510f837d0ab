"""Geometric room fit (PSDR-Room 4.2, first half): from depth + masks to a Z-up world, a camera and a box.

1. Back-project depth; take the eroded floor, wall and ceiling points.
2. RANSAC the floor plane: its normal is world +Z, the camera's height is its distance to the plane.
3. Metric scale: metric depth as given, else a prior (ceiling height when the ceiling is seen, else camera height).
4. Wall planes by sequential RANSAC per wall segment (near-vertical normals only); their horizontal normals give
   the room's yaw (Manhattan: modulo 90 degrees) and their offsets the box's walls. A side with no visible wall
   is closed at the farthest room point, and at least `unseen_depth_m` behind the camera.
5. Room height: the ceiling plane when seen, else 1.2 x the highest visible room point.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.ndimage import binary_erosion

from p2s_common.errors import InputError

from pipeline.core.case import Case
from pipeline.core.geometry import backproject, ransac_plane
from pipeline.core.scene import Camera, Room
from .config import RoomConfig


@dataclass
class RoomFit:
    camera: Camera
    room: Room
    scale: dict
    floor_normal_cam: np.ndarray  # unit floor normal in the camera frame (after fitting)
    notes: list[str] = field(default_factory=list)


def _segment_points(case: Case, label: str, erosion: int, min_points: int = 20) -> list[np.ndarray]:
    """Back-projected (unscaled) points of each segment with this label, eroded separately (depth is unreliable
    at segment edges; thin segments are kept un-eroded)."""
    assert case.depth is not None
    pts = backproject(case.depth, case.fov_y_deg)
    out = []
    for seg in case.segments_labelled(label):
        m = case.segmentation == seg.id
        eroded = binary_erosion(m, iterations=erosion) if erosion > 0 else m
        m = (eroded if eroded.sum() >= 20 else m) & (case.depth > 0)
        if m.sum() >= min_points:
            out.append(pts[m])
    return out


def _points(case: Case, label: str, erosion: int) -> np.ndarray:
    """All points of a label's segments."""
    groups = _segment_points(case, label, erosion, min_points=1)
    return np.vstack(groups) if groups else np.zeros((0, 3))


def fit_room(case: Case, config: RoomConfig, seed: int = 0) -> RoomFit:
    """Fit the camera pose and the room box in a Z-up world with the floor at z = 0."""
    if case.depth is None:
        raise InputError("the room stage needs a depth map (estimates/depth.npy); none was given")
    rng = np.random.default_rng(seed)
    notes: list[str] = []
    floor_pts = _points(case, "floor", config.erosion_px)
    if len(floor_pts) < 30:
        raise InputError(f"only {len(floor_pts)} floor pixels have valid depth; the floor segment is too small "
                         "or the depth is missing there")
    median_depth = float(np.median(case.depth[case.depth > 0]))
    thresh = config.ransac_threshold * median_depth

    # The floor's normal is roughly the camera's up vector for any sane photo; allow 60 degrees of tilt.
    floor = ransac_plane(floor_pts, thresh, config.ransac_iters, rng, normal_hint=np.array([0.0, 1.0, 0.0]),
                         max_angle_deg=60.0)
    if floor is None:
        raise InputError("no floor plane found in the floor segment's depth; check the floor mask and the depth")
    n, d = floor.normal, floor.offset
    if d < 0:  # orient the normal towards the camera (the origin) so height above floor is positive
        n, d = -n, -d
    cam_height_raw = d
    if cam_height_raw <= 1e-6:
        raise InputError("the fitted floor passes through the camera; the depth or the floor mask is wrong")

    def height(p: np.ndarray) -> np.ndarray:  # height above the floor, raw units
        return p @ n + d

    ceiling_pts = _points(case, "ceiling", config.erosion_px)
    ceiling_raw = None
    if len(ceiling_pts) >= 30:
        ceil = ransac_plane(ceiling_pts, thresh, config.ransac_iters, rng, normal_hint=n, max_angle_deg=20.0)
        if ceil is not None and ceil.inliers.sum() >= 20:
            ceiling_raw = float(np.median(height(ceiling_pts[ceil.inliers])))

    # Metric scale.
    if case.depth_metric:
        s, scale = 1.0, {"source": "metric_depth", "factor": 1.0,
                         "note": "depth given in metres (camera.json depth_units)"}
    elif ceiling_raw is not None:
        s = config.ceiling_height_prior_m / ceiling_raw
        scale = {"source": "prior:ceiling_height", "factor": s, "value_m": config.ceiling_height_prior_m,
                 "note": "relative depth; scaled so the fitted ceiling is at the prior height"}
    else:
        s = config.camera_height_prior_m / cam_height_raw
        scale = {"source": "prior:camera_height", "factor": s, "value_m": config.camera_height_prior_m,
                 "note": "relative depth, no ceiling visible; scaled so the camera is at the prior height"}

    # World axes in the camera frame: z = floor normal; x, y from the wall planes (Manhattan yaw).
    forward = np.array([0.0, 0.0, -1.0])
    e1 = forward - (forward @ n) * n
    if np.linalg.norm(e1) < 1e-3:  # looking straight down: use the camera's up vector instead
        e1 = np.array([0.0, 1.0, 0.0]) - n[1] * n
    e1 /= np.linalg.norm(e1)
    e2 = np.cross(n, e1)

    walls: list[tuple[np.ndarray, float, int]] = []  # (horizontal unit normal, offset, support)
    for group in _segment_points(case, "wall", config.erosion_px):
        remaining = group
        for _ in range(3):  # a segment may span two walls (one "wall" label for all)
            if len(remaining) < max(30, 0.05 * len(group)):
                break
            plane = ransac_plane(remaining, thresh, config.ransac_iters, rng, normal_hint=n, max_angle_deg=90.0)
            if plane is None or plane.inliers.sum() < max(30, 0.05 * len(group)):
                break
            if abs(plane.normal @ n) < math.sin(math.radians(15)):  # near-vertical plane = a wall
                h = plane.normal - (plane.normal @ n) * n
                h /= np.linalg.norm(h)
                walls.append((h, float(np.median(remaining[plane.inliers] @ h)), int(plane.inliers.sum())))
            remaining = remaining[~plane.inliers]

    if walls:
        # Circular mean of 4*angle: walls at 90 degrees to each other vote for the same yaw.
        angles = np.array([math.atan2(h @ e2, h @ e1) for h, _, _ in walls])
        weights = np.array([w for _, _, w in walls], float)
        yaw = math.atan2((weights * np.sin(4 * angles)).sum(), (weights * np.cos(4 * angles)).sum()) / 4
    else:
        yaw = 0.0
        notes.append("no wall plane found: the room's yaw follows the camera's view direction")
    ex = math.cos(yaw) * e1 + math.sin(yaw) * e2
    ey = np.cross(n, ex)
    axes = np.stack([ex, ey, n], axis=1)  # columns: world axes in the camera frame

    # All room points in world-aligned raw coordinates (origin at the camera's foot on the floor).
    room_pts = np.vstack([p for p in (_points(case, "wall", config.erosion_px), floor_pts, ceiling_pts) if len(p)])
    local = room_pts @ axes
    local[:, 2] += d  # height above floor

    lo, hi = np.zeros(2), np.zeros(2)
    unseen = config.unseen_depth_m / s
    for axis in range(2):
        vals = local[:, axis]
        offsets = []
        for h, off, support in walls:
            comp = h @ axes[:, axis]
            if abs(comp) > math.cos(math.radians(20)):
                offsets.append(off * math.copysign(1.0, comp))
        neg = [o for o in offsets if o < 0]
        pos = [o for o in offsets if o > 0]
        far_lo, far_hi = float(np.percentile(vals, 0.5)), float(np.percentile(vals, 99.5))
        lo[axis] = min(neg) if neg else min(far_lo, -unseen)
        hi[axis] = max(pos) if pos else max(far_hi, unseen)
        for side, found in (("min", neg), ("max", pos)):
            if not found:
                notes.append(f"no wall seen on the {'xy'[axis]}-{side} side: closed by the room points/prior")

    if ceiling_raw is not None:
        top = ceiling_raw
    else:
        top = 1.2 * float(np.percentile(local[:, 2], 99.5))
        notes.append("ceiling not visible: room height = 1.2 x the highest visible room point")
        # Furniture stands inside the room: a tall wardrobe seen to its top lifts a ceiling guessed from low walls.
        things = [i.id for i in case.segments if i.kind == "thing"]
        mask = np.isin(case.segmentation, things) & (case.depth > 0)
        if mask.sum() >= 20:
            tallest = float(np.percentile((backproject(case.depth, case.fov_y_deg)[mask] @ axes)[:, 2] + d, 99.5))
            if tallest + 0.1 / s > top:
                top = tallest + 0.1 / s
                notes.append("ceiling not visible: room height raised above the tallest furniture seen")
    top = max(top, cam_height_raw * 1.05)

    lo_m, hi_m = lo * s, hi * s
    centre_xy = (lo_m + hi_m) / 2
    size = [float(hi_m[0] - lo_m[0]), float(hi_m[1] - lo_m[1]), float(top * s)]
    # World origin: on the floor below the box centre. Camera position in that world:
    cam_pos = np.array([-centre_xy[0], -centre_xy[1], cam_height_raw * s])
    rotation = axes.T  # world-from-camera: camera-frame vectors -> world
    camera = Camera(cam_pos.tolist(), rotation.tolist(), case.fov_y_deg, case.width, case.height)
    room = Room(center=[0.0, 0.0, size[2] / 2], size=size, yaw_deg=0.0)
    return RoomFit(camera, room, scale, n, notes)
