"""Camera-frame geometry: back-projection, robust planes, rotations.

Camera frame is Blender's camera convention: +X right, +Y up, the camera looks along -Z; depth maps hold
z-depth (distance along the optical axis). Pixel (col, row) has its centre at (col + 0.5, row + 0.5).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


def pixel_rays(width: int, height: int, fov_y_deg: float) -> np.ndarray:
    """HxWx3 camera-frame ray directions scaled so that their z is -1 (so depth * ray = point)."""
    t = math.tan(math.radians(fov_y_deg) / 2)
    cols = (np.arange(width) + 0.5 - width / 2) / (height / 2) * t
    rows = -(np.arange(height) + 0.5 - height / 2) / (height / 2) * t
    x, y = np.meshgrid(cols, rows)
    return np.stack([x, y, -np.ones_like(x)], axis=-1)


def backproject(depth: np.ndarray, fov_y_deg: float) -> np.ndarray:
    """HxWx3 camera-frame points from a z-depth map."""
    h, w = depth.shape
    return pixel_rays(w, h, fov_y_deg) * depth[..., None]


def project(points: np.ndarray, width: int, height: int, fov_y_deg: float) -> np.ndarray:
    """Camera-frame points (N,3) -> pixel coordinates (N,2) (col, row); points must be in front (z < 0)."""
    f = (height / 2) / math.tan(math.radians(fov_y_deg) / 2)
    z = -points[:, 2]
    return np.stack([points[:, 0] / z * f + width / 2, -points[:, 1] / z * f + height / 2], axis=1)


@dataclass
class Plane:
    """Points p with normal . p + offset = 0; |normal| = 1."""

    normal: np.ndarray
    offset: float
    inliers: np.ndarray  # boolean mask over the fitted points

    def distance(self, points: np.ndarray) -> np.ndarray:
        return points @ self.normal + self.offset


def fit_plane_lsq(points: np.ndarray) -> tuple[np.ndarray, float]:
    """Least-squares plane through points: (unit normal, offset)."""
    centre = points.mean(axis=0)
    _, _, vt = np.linalg.svd(points - centre, full_matrices=False)
    normal = vt[-1]
    return normal, float(-normal @ centre)


def ransac_plane(points: np.ndarray, threshold: float, iters: int, rng: np.random.Generator,
                 normal_hint: np.ndarray | None = None, max_angle_deg: float = 90.0) -> Plane | None:
    """RANSAC plane with a least-squares refit on the inliers.

    With `normal_hint`, hypotheses whose normal is more than `max_angle_deg` from ±hint are rejected
    (floor/ceiling must be near-horizontal, walls near-vertical)."""
    n = len(points)
    if n < 3:
        return None
    cos_limit = math.cos(math.radians(max_angle_deg))
    best_count, best = -1, None
    sample = rng.integers(0, n, size=(iters, 3))
    for i, j, k in sample:
        normal = np.cross(points[j] - points[i], points[k] - points[i])
        norm = np.linalg.norm(normal)
        if norm < 1e-12:
            continue
        normal /= norm
        if normal_hint is not None and abs(normal @ normal_hint) < cos_limit:
            continue
        count = int((np.abs(points @ normal - normal @ points[i]) < threshold).sum())
        if count > best_count:
            best_count, best = count, (normal, float(-normal @ points[i]))
    if best is None:
        return None
    inliers = np.abs(points @ best[0] + best[1]) < threshold
    if inliers.sum() < 3:
        return None
    normal, offset = fit_plane_lsq(points[inliers])
    inliers = np.abs(points @ normal + offset) < threshold
    return Plane(normal, offset, inliers)


def rotation_z(yaw_rad: float) -> np.ndarray:
    c, s = math.cos(yaw_rad), math.sin(yaw_rad)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def angle_between_deg(a: np.ndarray, b: np.ndarray) -> float:
    cos = float(np.clip(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)), -1.0, 1.0))
    return math.degrees(math.acos(cos))


def box_iou_3d(center_a, size_a, yaw_a_deg, center_b, size_b, yaw_b_deg, samples: int = 200_000,
               seed: int = 0) -> float:
    """3-D IoU of two Z-up oriented boxes, by Monte-Carlo sampling of their union's bounding region."""
    rng = np.random.default_rng(seed)

    def corners(c, s, yaw):
        half = np.asarray(s) / 2
        pts = np.array([[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)]) * half
        return pts @ rotation_z(math.radians(yaw)).T + np.asarray(c)

    allc = np.vstack([corners(center_a, size_a, yaw_a_deg), corners(center_b, size_b, yaw_b_deg)])
    lo, hi = allc.min(axis=0), allc.max(axis=0)
    pts = rng.uniform(lo, hi, size=(samples, 3))

    def inside(c, s, yaw):
        local = (pts - np.asarray(c)) @ rotation_z(math.radians(yaw))
        return np.all(np.abs(local) <= np.asarray(s) / 2, axis=1)

    a, b = inside(center_a, size_a, yaw_a_deg), inside(center_b, size_b, yaw_b_deg)
    union = (a | b).sum()
    return float((a & b).sum() / union) if union else 0.0
