"""Synthetic photos with known camera (FOV, pitch, roll): a textured box room seen from inside.

Walls, floor and ceiling carry axis-aligned panels and tile joints (Manhattan lines), plus noise; no renderer
needed. Used by the tests and by `photo2scene bench camera` as cases whose truth is exact.
"""

from __future__ import annotations

import math

import numpy as np

from pipeline.core.geometry import pixel_rays, rotation_z
from pipeline.core.scene import Camera, Room
from ..render.room_box import FACE_NAMES, depth_and_faces


def camera_rotation(pitch_deg: float, roll_deg: float, yaw_deg: float) -> np.ndarray:
    """World-from-camera rotation (Blender camera convention), camera looking along +Y at yaw 0."""
    base = np.array([[1.0, 0, 0], [0, 0, -1.0], [0, 1.0, 0]])  # camera -Z -> world +Y, camera +Y -> world +Z
    p, r = math.radians(pitch_deg), math.radians(roll_deg)
    rx = np.array([[1, 0, 0], [0, math.cos(p), -math.sin(p)], [0, math.sin(p), math.cos(p)]])
    # Roll > 0 turns the camera counter-clockwise as seen from behind it, about +Z (it looks along -Z).
    rz = np.array([[math.cos(r), -math.sin(r), 0], [math.sin(r), math.cos(r), 0], [0, 0, 1]])
    return rotation_z(math.radians(yaw_deg)) @ base @ rx @ rz


def room_photo(width: int = 320, height: int = 240, fov_y_deg: float = 55.0, pitch_deg: float = -8.0,
               roll_deg: float = 3.0, yaw_deg: float = 25.0, seed: int = 0,
               room_size: tuple[float, float, float] = (5.0, 4.0, 2.7), camera_height: float = 1.5,
               noise: float = 0.01) -> tuple[np.ndarray, dict]:
    """(HxWx3 sRGB image in [0,1], truth dict with fov_y_deg, pitch_deg, roll_deg, up_blender, depth, faces)."""
    rng = np.random.default_rng(seed)
    rot = camera_rotation(pitch_deg, roll_deg, yaw_deg)
    pos = [rng.uniform(-0.8, 0.8), rng.uniform(-1.2, 0.2), camera_height]
    cam = Camera(pos, rot.tolist(), fov_y_deg, width, height)
    room = Room([0.0, 0.0, room_size[2] / 2], list(room_size), 0.0)
    depth, faces = depth_and_faces(cam, room, width, height)

    rays = pixel_rays(width, height, fov_y_deg) @ rot.T
    points = np.asarray(pos) + rays * depth[..., None]
    base = rng.uniform(0.35, 0.85, size=(len(FACE_NAMES), 3))
    image = base[faces].copy()
    # Tile joints / panel edges every `step` metres along each in-plane axis of the face.
    for axis_pair, step in (((0, 1), 0.6), ((0, 2), 0.9), ((1, 2), 0.9)):
        for axis in axis_pair:
            frac = np.mod(points[..., axis] / step, 1.0)
            joint = (frac < 0.02) | (frac > 0.98)
            on_face = _faces_spanning(faces, FACE_NAMES, axis_pair)
            image[joint & on_face] *= 0.55
    # A few axis-aligned dark frames on the walls (pictures, doors): strong, long lines.
    for _ in range(6):
        axis = int(rng.integers(0, 2))
        lo, hi = sorted(rng.uniform(-2.0, 2.0, 2))
        zlo, zhi = sorted(rng.uniform(0.3, 2.4, 2))
        other = 1 - axis
        inside = (points[..., axis] > lo) & (points[..., axis] < hi) & (points[..., 2] > zlo) & (points[..., 2] < zhi)
        wall = np.isin(faces, [i for i, n in enumerate(FACE_NAMES) if n.startswith("wall") and
                               ("x" if other == 0 else "y") in n.split("_")[1]])
        image[inside & wall] = image[inside & wall] * 0.5 + rng.uniform(0, 0.5, 3)
    image = np.clip(image + rng.normal(0, noise, image.shape), 0, 1).astype(np.float32)
    up = rot.T @ np.array([0, 0, 1.0])
    truth = {"fov_y_deg": fov_y_deg, "pitch_deg": pitch_deg, "roll_deg": roll_deg, "up_blender": up,
             "depth": depth.astype(np.float32), "faces": faces}
    return image, truth


def _faces_spanning(faces: np.ndarray, names: list[str], axis_pair: tuple[int, int]) -> np.ndarray:
    """Pixels on faces whose plane contains both axes of `axis_pair` (0 x, 1 y, 2 z)."""
    keep = []
    for i, n in enumerate(names):
        normal_axis = 2 if n in ("floor", "ceiling") else (0 if n.startswith("wall_x") else 1)
        if normal_axis not in axis_pair:
            keep.append(i)
    return np.isin(faces, keep)
