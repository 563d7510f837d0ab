"""Labels: ADE20K class names -> the project's vocabulary, and layout labels for unlabelled regions.

`ade_to_project` maps ADE20K-150 names (as a learned panoptic model reports them) to the names of
docs/case_format.md. `layout_labels` names classical region proposals from geometry alone: with the camera's
horizon, the region below it that touches the bottom of the photo is the floor, a region above it touching the
top is the ceiling, large regions spanning the horizon are walls; the rest stay unnamed proposals.
"""

from __future__ import annotations

import math

import numpy as np

from assets_index.categories import UNKNOWN, normalize_category

from .base import CameraEstimate, SegmentInfo

STUFF = {"wall", "floor", "ceiling", "window", "door"}

# ADE20K-150 names (first synonym) -> room surfaces, and the things no asset category covers (kept by name).
# Furniture and decor go through assets_index.categories instead, the one table of object names, so a segment's
# label is the category the object stage retrieves ("bookcase" -> "bookshelf", "painting" -> "painting").
ADE_STUFF = {
    "wall": "wall", "floor": "floor", "floor, flooring": "floor", "ceiling": "ceiling", "windowpane": "window",
    "window": "window", "door": "door", "double door": "door", "screen door": "door", "column": "wall",
    "pillar": "wall",
}
ADE_OTHER_THINGS = {
    "fireplace": "fireplace", "stairs": "stairs", "stairway": "stairs", "refrigerator": "refrigerator",
    "sink": "sink", "toilet": "toilet", "bathtub": "bathtub", "oven": "oven", "stove": "stove",
    "counter": "counter", "countertop": "counter", "radiator": "radiator", "towel": "towel",
}


def ade_to_project(name: str) -> tuple[str, str]:
    """(project label, kind) of an ADE20K class name ('windowpane, window' style names accepted).

    Surfaces first; then each synonym in order through `normalize_category` (the asset categories), so "blind,
    screen" is a blind and not a screen; names neither knows keep their first synonym as a thing."""
    key = name.strip().lower()
    first = key.split(",")[0].strip()
    stuff = ADE_STUFF.get(key) or ADE_STUFF.get(first)
    if stuff:
        return stuff, "stuff"
    other = ADE_OTHER_THINGS.get(key) or ADE_OTHER_THINGS.get(first)
    if other:
        return other, "thing"
    for synonym in key.split(","):
        category = normalize_category(synonym.strip())
        if category != UNKNOWN:
            return category, "thing"
    return first, "thing"


def below_horizon(width: int, height: int, camera: CameraEstimate) -> np.ndarray:
    """HxW signed elevation (radians-ish) of each pixel's ray: < 0 below the horizon."""
    f = (height / 2) / math.tan(math.radians(camera.fov_y_deg) / 2)
    up_b = camera.up_vector()
    up_cv = np.array([up_b[0], -up_b[1], -up_b[2]])  # Blender camera axes -> OpenCV (y down, z forward)
    u = np.arange(width) + 0.5 - width / 2
    v = np.arange(height) + 0.5 - height / 2
    uu, vv = np.meshgrid(u, v)
    return (uu * up_cv[0] + vv * up_cv[1] + f * up_cv[2]) / np.sqrt(uu ** 2 + vv ** 2 + f ** 2)


def layout_labels(ids: np.ndarray, camera: CameraEstimate, min_surface: float = 0.03
                  ) -> tuple[np.ndarray, list[SegmentInfo], np.ndarray]:
    """Name region proposals floor / ceiling / wall from the horizon.

    Returns (segmentation ids with only the named regions, their SegmentInfo, the proposals left unnamed).
    There is always a floor: without a convincing candidate, the largest region along the bottom edge is taken
    (score 0.2) so the room stage can run and the user can correct it with clicks."""
    h, w = ids.shape
    elev = below_horizon(w, h, camera)
    n = int(ids.max())
    area = np.bincount(ids.ravel(), minlength=n + 1) / ids.size
    below = np.bincount(ids.ravel(), (elev < 0).ravel(), minlength=n + 1) / np.maximum(area * ids.size, 1)
    bottom = np.bincount(ids[-1], minlength=n + 1) / w
    top = np.bincount(ids[0], minlength=n + 1) / w
    out = np.zeros_like(ids)
    infos: list[SegmentInfo] = []
    used: set[int] = set()

    def name(region: int, label: str, kind: str, score: float) -> None:
        sid = len(infos) + 1
        out[ids == region] = sid
        infos.append(SegmentInfo(sid, label, kind, round(float(score), 3)))
        used.add(region)

    floor_cands = [r for r in range(1, n + 1) if area[r] >= min_surface and below[r] > 0.9 and bottom[r] > 0.15]
    if floor_cands:
        best = max(floor_cands, key=lambda r: area[r] * bottom[r])
        name(best, "floor", "stuff", min(1.0, below[best] * (0.5 + bottom[best])))
    else:
        best = int(np.argmax(bottom[1:]) + 1)
        name(best, "floor", "stuff", 0.2)
    ceil_cands = [r for r in range(1, n + 1) if r not in used and area[r] >= min_surface and below[r] < 0.05
                  and top[r] > 0.15]
    if ceil_cands and camera.confidence > 0.3:
        best = max(ceil_cands, key=lambda r: area[r] * top[r])
        name(best, "ceiling", "stuff", 0.5 * (1 - below[best]) * min(1.0, top[best] * 2))
    for r in sorted(range(1, n + 1), key=lambda r: -area[r]):
        if r in used or area[r] < min_surface:
            continue
        # A wall straddles the horizon or stands above it, and is big.
        if below[r] < 0.7:
            name(r, "wall", "stuff", 0.4 * min(1.0, area[r] / 0.1))
    proposals = np.where(np.isin(ids, list(used)), 0, ids)
    return out, infos, proposals
