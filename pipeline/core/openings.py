"""Window and door openings as both the room stage (which fits them) and the light stage (which may widen a window
the photo's border cuts, `materials_lights/sun.py`) need them: the wall margin a hole keeps, and the picture of the
outdoors its backdrop shows."""

from __future__ import annotations

import math

import numpy as np

from blender_addon.scene_format import Opening, outdoors_point

from pipeline.core.geometry import project
from pipeline.core.scene import Camera, Room

EDGE_MARGIN_M = 0.02  # a hole keeps this much wall to the wall's edges (its reveals need a wall around them)
MAX_TEXTURE_PX = 512  # a backdrop picture's longer side


def outdoors_texture(camera: Camera, room: Room, opening: Opening, photo_linear: np.ndarray, mask: np.ndarray,
                     fill: np.ndarray) -> np.ndarray:
    """HxWx3 linear picture of a window's backdrop, image-oriented (row 0 = texture t near 1): each texel takes
    the photo where the camera sees that point of the backdrop (bilinear), or `fill` (the window's median) where
    that pixel is not the window's (a curtain or a frame in front) or lies outside the photo."""
    h, w = mask.shape
    p00, p10, p01 = (np.asarray(outdoors_point(room, opening, s, t)) for s, t in ((0, 0), (1, 0), (0, 1)))
    corners = np.stack([p00, p10, p01, p10 + p01 - p00])
    px = project(camera.world_to_camera(corners), w, h, camera.fov_y_deg)
    span = max(float(np.ptp(px[:, 0])), float(np.ptp(px[:, 1])), 1.0)
    aspect = np.linalg.norm(p10 - p00) / max(np.linalg.norm(p01 - p00), 1e-6)
    long_side = int(np.clip(2 * span, 16, MAX_TEXTURE_PX))
    tw, th = (long_side, max(4, int(round(long_side / aspect)))) if aspect >= 1 else \
        (max(4, int(round(long_side * aspect))), long_side)
    s = (np.arange(tw) + 0.5) / tw
    t = 1.0 - (np.arange(th) + 0.5) / th
    points = p00 + s[None, :, None] * (p10 - p00) + t[:, None, None] * (p01 - p00)
    local = camera.world_to_camera(points.reshape(-1, 3))
    xy = project(local, w, h, camera.fov_y_deg) - 0.5  # pixel centres at integer coordinates
    x, y = xy[:, 0], xy[:, 1]
    inside = (local[:, 2] < 0) & (x >= -0.5) & (x <= w - 0.5) & (y >= -0.5) & (y <= h - 0.5)
    x, y = np.clip(x, 0, w - 1), np.clip(y, 0, h - 1)
    x0, y0 = np.minimum(np.floor(x).astype(int), w - 2), np.minimum(np.floor(y).astype(int), h - 2)
    fx, fy = (x - x0)[:, None], (y - y0)[:, None]
    img = photo_linear.astype(np.float32)
    value = ((1 - fx) * (1 - fy) * img[y0, x0] + fx * (1 - fy) * img[y0, x0 + 1]
             + (1 - fx) * fy * img[y0 + 1, x0] + fx * fy * img[y0 + 1, x0 + 1])
    seen = inside & mask[np.rint(y).astype(int), np.rint(x).astype(int)]
    value[~seen] = np.asarray(fill, np.float32)
    return value.reshape(th, tw, 3)


def round_inside(rect: list[float], digits: int = 4) -> list[float]:
    """`rect` rounded to `digits` decimals towards its inside: a door's top at the wall's full height (2.791474 m)
    must not round up past the wall (2.7915 m), which scene.json's validation refuses."""
    q = 10.0 ** digits
    u0, v0, u1, v1 = rect
    return [math.ceil(u0 * q) / q, math.ceil(v0 * q) / q, math.floor(u1 * q) / q, math.floor(v1 * q) / q]
