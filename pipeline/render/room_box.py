"""The room box seen from inside, exactly: per-pixel depth and which face each pixel sees.

Written once for any array module `xp` with minimum/maximum (numpy, or drjit for a differentiable depth term):
the box is convex and the camera inside it, so the visible point along a ray is where it leaves the box:
t = min over axes of max((lo - o) / d, (hi - o) / d).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from pipeline.core.geometry import pixel_rays
from pipeline.core.scene import Camera, Room, ROOM_FACES

FACE_NAMES = list(ROOM_FACES)


def camera_rays_world(camera: Camera, width: int, height: int) -> np.ndarray:
    """(H*W, 3) world ray directions scaled so that the ray parameter equals z-depth."""
    rays = pixel_rays(width, height, camera.fov_y_deg).reshape(-1, 3)
    return rays @ camera.R.T


def exit_distance(xp: Any, origin_local, dirs_local, lo, hi):
    """Ray parameter where rays from inside leave the axis-aligned box [lo, hi] (per component lists)."""
    t = None
    for a in range(3):
        d = dirs_local[a]
        # Rays parallel to a slab never leave through it: push that slab's exit to infinity without NaNs.
        safe = _nonzero(xp, d)
        t0 = (lo[a] - origin_local[a]) / safe
        t1 = (hi[a] - origin_local[a]) / safe
        ta = xp.maximum(t0, t1)
        t = ta if t is None else xp.minimum(t, ta)
    return t


def _nonzero(xp: Any, d):
    """d with |d| < 1e-9 replaced by 1e-9 (numpy or drjit)."""
    if xp is np:
        return np.where(np.abs(d) > 1e-9, d, 1e-9)
    return xp.select(xp.abs(d) > 1e-9, d, 1e-9)


def to_local(camera_pos, dirs, center, yaw_rad_cos, yaw_rad_sin):
    """Camera origin and ray directions in the box's frame (undo the yaw about +Z, then the centre)."""
    c, s = yaw_rad_cos, yaw_rad_sin
    ox, oy, oz = (camera_pos[i] - center[i] for i in range(3))
    o = (c * ox + s * oy, -s * ox + c * oy, oz)
    d = (c * dirs[0] + s * dirs[1], -s * dirs[0] + c * dirs[1], dirs[2])
    return o, d


def depth_and_faces(camera: Camera, room: Room, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """(HxW z-depth, HxW index into FACE_NAMES) of the room box seen by the camera."""
    dirs = camera_rays_world(camera, width, height).T
    yaw = math.radians(room.yaw_deg)
    o, d = to_local(camera.t, dirs, room.center, math.cos(yaw), math.sin(yaw))
    lo, hi = room.bounds_local()
    # Per axis, where the ray leaves that slab; the box is left through the axis that comes first, on the side
    # the ray heads to.
    exits = []
    for a in range(3):
        safe = _nonzero(np, d[a])
        exits.append(np.maximum((lo[a] - o[a]) / safe, (hi[a] - o[a]) / safe))
    exits = np.stack(exits)
    axis = np.argmin(exits, axis=0)
    t = np.take_along_axis(exits, axis[None], axis=0)[0]
    side = (np.take_along_axis(np.stack(d), axis[None], axis=0)[0] > 0).astype(int)
    lut = np.zeros((3, 2), int)
    for index, (face_axis, face_side) in enumerate(ROOM_FACES.values()):
        lut[face_axis, face_side] = index
    return t.reshape(height, width), lut[axis, side].reshape(height, width)


def surface_labels(faces: np.ndarray) -> np.ndarray:
    """Face indices -> 0 wall, 1 floor, 2 ceiling."""
    lut = np.array([{"wall": 0, "floor": 1, "ceiling": 2}["wall" if n.startswith("wall") else n] for n in FACE_NAMES])
    return lut[faces]
