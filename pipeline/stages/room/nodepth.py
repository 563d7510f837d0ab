"""Room geometry without a depth map: a metric pseudo-depth from the masks, the camera's tilt and a height prior.

The floor is the plane `camera_height_prior_m` below the camera, perpendicular to the world's up (from the
camera's pitch and roll when camera.json gives them, else a level camera). Floor pixels get their ray's
intersection with it; each wall segment's base (floor pixels touching it) lifted along up gives vertical wall
planes, and wall pixels take the nearest such plane along their ray (a box seen from inside); the ceiling sits
at the height where wall pixels meet ceiling pixels. The room fit then runs on this pseudo-depth exactly as on a
measured one; the differentiable refinement uses the masks only and corrects the tilt.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
from scipy.ndimage import binary_dilation

from pipeline.core.case import Case
from pipeline.core.geometry import pixel_rays, ransac_plane
from .config import RoomConfig
from p2s_common.errors import InputError
from .fit import fit_room
from .refine import exact_loss, target_maps


def up_from_tilt(tilt_deg: tuple[float, float] | None) -> np.ndarray:
    """World up in Blender camera coordinates from (pitch, roll) in degrees (docs/estimators.md)."""
    p, r = (math.radians(v) for v in (tilt_deg or (0.0, 0.0)))
    return np.array([math.cos(p) * math.sin(r), math.cos(p) * math.cos(r), -math.sin(p)])


def pseudo_depth(case: Case, config: RoomConfig, seed: int = 0,
                 tilt_deg: tuple[float, float] | None = None) -> tuple[np.ndarray, list[str]]:
    """(HxW metric z-depth for floor, wall and ceiling pixels (0 elsewhere), notes on what was assumed)."""
    rng = np.random.default_rng(seed)
    notes = []
    up = up_from_tilt(tilt_deg if tilt_deg is not None else case.tilt_deg)
    h = config.camera_height_prior_m
    rays = pixel_rays(case.width, case.height, case.fov_y_deg)
    depth = np.zeros((case.height, case.width), np.float32)
    facing_floor = rays @ up
    floor_t = np.where(facing_floor < -1e-6, -h / np.minimum(facing_floor, -1e-6), 0.0)
    floor = case.mask("floor") & (floor_t > 0)
    depth[floor] = floor_t[floor]

    planes = []  # (normal, offset): normal . p + offset = 0, vertical
    for seg in case.segments_labelled("wall"):
        wall = case.segmentation == seg.id
        base = floor & binary_dilation(wall, iterations=2)
        if base.sum() < 5:
            continue
        b = rays[base] * floor_t[base][:, None]
        lifted = np.vstack([b + k * up for k in (0.0, 0.5, 1.0, 1.5)])
        remaining = lifted
        for _ in range(2):  # one segment may cover two walls
            if len(remaining) < 20:
                break
            plane = ransac_plane(remaining, 0.03, 200, rng, normal_hint=up, max_angle_deg=90.0)
            if plane is None or plane.inliers.sum() < 20 or abs(plane.normal @ up) > 0.2:
                break
            normal = plane.normal - (plane.normal @ up) * up
            normal /= np.linalg.norm(normal)
            planes.append((normal, float(-np.median(remaining[plane.inliers] @ normal))))
            remaining = remaining[~plane.inliers]
    walls = case.mask("wall")
    if planes:
        ts = []
        for normal, offset in planes:
            denom = rays @ normal
            t = np.where(np.abs(denom) > 1e-6, -offset / np.where(np.abs(denom) > 1e-6, denom, 1.0), np.inf)
            ts.append(np.where(t > 0, t, np.inf))
        wall_t = np.min(np.stack(ts), axis=0)
        ok = walls & np.isfinite(wall_t)
        depth[ok] = wall_t[ok]
        ceiling = case.mask("ceiling")
        junction = ok & binary_dilation(ceiling, iterations=2)
        if junction.sum() >= 5 and ceiling.any():
            top = float(np.median((rays[junction] * depth[junction][:, None]) @ up)) + h
            ceil_t = np.where(facing_floor > 1e-6, (top - h) / np.maximum(facing_floor, 1e-6), 0.0)
            ok_c = ceiling & (ceil_t > 0)
            depth[ok_c] = ceil_t[ok_c]
            if top > h:  # a seen ceiling sets the scale: the room is ceiling_height_prior_m high, not the camera
                depth *= config.ceiling_height_prior_m / top
                notes.append(f"scale from the ceiling: camera {h * config.ceiling_height_prior_m / top:.2f} m "
                             f"above the floor for a {config.ceiling_height_prior_m:.2f} m room")
    else:
        notes.append("no wall base seen on the floor: walls are placed by the priors alone")
    return depth, notes


def case_with_pseudo_depth(case: Case, config: RoomConfig, seed: int = 0,
                           tilt_deg: tuple[float, float] | None = None) -> tuple[Case, list[str]]:
    """A copy of `case` whose depth is the metric pseudo-depth (for the geometric fit only)."""
    depth, notes = pseudo_depth(case, config, seed, tilt_deg)
    return replace(case, depth=depth, depth_metric=True), notes


def search_tilt(case: Case, config: RoomConfig, seed: int = 0) -> tuple[float, float]:
    """Pitch and roll that make the box fitted on the pseudo-depth explain the masks best (exact mask loss):
    pitch over -35..15 degrees in 2.5 degree steps, then roll over -6..6 around the best pitch."""
    width = min(config.refine_width, case.width)
    tgt = target_maps(case, width, max(1, round(width * case.height / case.width)), 1.0)

    def score(tilt: tuple[float, float]) -> float:
        try:
            fit = fit_room(case_with_pseudo_depth(case, config, seed, tilt)[0], config, seed)
        except InputError:
            return float("inf")
        return exact_loss(fit.camera, fit.room, tgt, 0.0)

    pitch = min(np.arange(-35.0, 15.01, 2.5), key=lambda p: score((float(p), 0.0)))
    roll = min(np.arange(-6.0, 6.01, 2.0), key=lambda r: score((float(pitch), float(r))))
    return float(pitch), float(roll)
