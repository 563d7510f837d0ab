"""Test helpers: an exact box-room case written in the case format, built without Blender or a renderer."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np
from PIL import Image


REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
EXAMPLE = REPO / "examples" / "living_room"
# Render device for tests: cpu everywhere (CI); PHOTO2SCENE_TEST_DEVICE=gpu runs them on cuda_ad_rgb.
DEVICE = os.environ.get("PHOTO2SCENE_TEST_DEVICE", "cpu")


def look_rotation(yaw_deg: float, pitch_deg: float) -> np.ndarray:
    """World-from-camera rotation (Blender camera convention) looking along +Y, then pitched, then yawed."""
    from pipeline.core.geometry import rotation_z

    base = np.array([[1.0, 0, 0], [0, 0, -1.0], [0, 1.0, 0]])  # camera -Z -> world +Y, camera +Y -> world +Z
    p = math.radians(pitch_deg)
    rx = np.array([[1, 0, 0], [0, math.cos(p), -math.sin(p)], [0, math.sin(p), math.cos(p)]])
    return rotation_z(math.radians(yaw_deg)) @ base @ rx


def write_box_case(folder: Path, width: int = 96, height: int = 72, metric: bool = True, yaw: float = 20.0,
                   pitch: float = -12.0, room_size=(5.0, 4.0, 2.7), camera_xy=(0.5, -1.0), camera_z: float = 1.4,
                   fov_y: float = 55.0) -> dict:
    """Write photo.png + estimates/ for a camera inside an empty box room; returns the ground truth."""
    from pipeline.core.scene import Camera, Room
    from pipeline.render.room_box import FACE_NAMES, depth_and_faces

    cam = Camera([camera_xy[0], camera_xy[1], camera_z], look_rotation(yaw, pitch).tolist(), fov_y, width, height)
    room = Room([0.0, 0.0, room_size[2] / 2], list(room_size), 0.0)
    depth, faces = depth_and_faces(cam, room, width, height)
    est = folder / "estimates"
    est.mkdir(parents=True, exist_ok=True)
    colours = np.array([[200, 190, 170], [180, 185, 175], [190, 180, 160], [170, 175, 185], [120, 90, 60],
                        [240, 240, 235]], np.uint8)
    order = {"wall_x_min": 0, "wall_x_max": 1, "wall_y_min": 2, "wall_y_max": 3, "floor": 4, "ceiling": 5}
    photo = np.zeros((height, width, 3), np.uint8)
    ids = np.zeros((height, width), np.uint16)
    segments = []
    for i, name in enumerate(FACE_NAMES):
        m = faces == i
        photo[m] = colours[order[name]]
        if m.any():
            ids[m] = i + 1
            segments.append({"id": i + 1, "label": "wall" if name.startswith("wall") else name, "kind": "stuff"})
    Image.fromarray(photo).save(folder / "photo.png")
    np.save(est / "depth.npy", (depth if metric else depth * 0.37).astype(np.float32))
    Image.fromarray(ids).save(est / "segmentation.png")
    (est / "segments.json").write_text(json.dumps(segments))
    (est / "camera.json").write_text(json.dumps({"fov_y_deg": fov_y, "width": width, "height": height,
                                                 "depth_units": "metres" if metric else "relative"}))
    return {"camera": cam, "room": room}


def backproject_world(depth: np.ndarray, cam: dict) -> np.ndarray:
    """World points (H, W, 3) of a z-depth map under a ground-truth camera (pixel centres, Blender camera)."""
    h, w = depth.shape
    f = (h / 2) / math.tan(math.radians(cam["fov_y_deg"]) / 2)
    u = (np.arange(w) + 0.5 - w / 2) / f
    v = -(np.arange(h) + 0.5 - h / 2) / f
    uu, vv = np.meshgrid(u, v)
    local = np.stack([uu * depth, vv * depth, -depth], axis=-1)
    return local @ np.asarray(cam["rotation"]).T + np.asarray(cam["position"])


def inside_box(points: np.ndarray, obj: dict, tol: float) -> np.ndarray:
    """Which points lie in a ground-truth oriented box (center, size, yaw_deg about +Z), grown by `tol`."""
    yaw = math.radians(obj["yaw_deg"])
    rot = np.array([[math.cos(yaw), -math.sin(yaw), 0], [math.sin(yaw), math.cos(yaw), 0], [0, 0, 1]])
    local = (points - np.asarray(obj["center"])) @ rot  # rows: rot.T @ (p - c)
    return np.all(np.abs(local) <= np.asarray(obj["size"]) / 2 + tol, axis=-1)
