"""SUN RGB-D samples (../shared/data/sunrgbd_mmdet3d_samples) as room-stage cases.

The samples carry intrinsics, the camera tilt (Rtilt), metric depth and 3-D furniture boxes, but no
segmentation. For the room benchmark we derive one from that ground truth and say so: floor = points within
6 cm of the floor level (the median bottom of the furniture boxes), things = points inside a furniture box,
wall = every other valid point (so clutter counts as wall: a hard, honest case), unlabeled = no depth.
Scored: floor-normal error against Rtilt's gravity and camera-height error.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np
from PIL import Image

from p2s_common.images import read_photo, srgb_to_linear

from pipeline.core.case import Case, Segment
from pipeline.core.geometry import rotation_z
from pipeline.core.resample import resize_area, resize_nearest, resize_valid_mean, working_shape


def _read_calib(path: Path) -> tuple[np.ndarray, np.ndarray]:
    lines = path.read_text().split("\n")
    rtilt = np.array(lines[0].split(), float).reshape(3, 3, order="F")
    k = np.array(lines[1].split(), float).reshape(3, 3, order="F")
    return rtilt, k


def _read_boxes(path: Path) -> list[dict]:
    boxes = []
    for line in path.read_text().splitlines():
        f = line.split()
        if len(f) < 13:
            continue
        v = [float(x) for x in f[5:13]]
        boxes.append({"label": f[0].replace("_", " "), "center": np.array(v[0:3]),
                      # VoteNet convention: extents (l along x, w along y, h) are half sizes; heading below.
                      "half": np.array([v[4], v[3], v[5]]), "heading": -math.atan2(v[7], v[6])})
    return boxes


@dataclass
class SunSample:
    """One SUN RGB-D sample at full resolution, with a segmentation derived from its ground truth."""

    name: str
    photo_path: Path
    depth: np.ndarray  # metres, 0 = no depth
    k: np.ndarray  # intrinsics
    ids: np.ndarray  # derived instance ids (1 wall, 2 floor, 10 + i the i-th box)
    segments: list[Segment]
    boxes: list[dict]
    floor_z: float
    truth: dict  # camera (rotation world-from-camera, position; floor at z = 0)

    @property
    def fov_y_deg(self) -> float:
        return math.degrees(2 * math.atan(self.depth.shape[0] / 2 / self.k[1, 1]))


def sun_samples(root: Path) -> Iterator[SunSample]:
    """Every sample with a depth PNG, its segmentation derived as the module docstring says."""
    data = root / "sunrgbd_trainval"
    for depth_png in sorted((root / "depth_gt_png").glob("*_depth_mm.png")):
        idx = depth_png.name.split("_")[0]
        rtilt, k = _read_calib(data / "calib" / f"{idx}.txt")
        boxes = _read_boxes(data / "label" / f"{idx}.txt")
        depth = np.asarray(Image.open(depth_png), np.float32) / 1000.0
        h, w = depth.shape
        # OpenCV camera points -> upright (gravity-aligned, z up) coordinates: q = (x, z, -y), p = Rtilt q.
        cols, rows = np.meshgrid(np.arange(w) + 0.5, np.arange(h) + 0.5)
        x = (cols - k[0, 2]) / k[0, 0] * depth
        y = (rows - k[1, 2]) / k[1, 1] * depth
        q = np.stack([x, depth, -y], axis=-1)
        p = q @ rtilt.T
        floor_z = float(np.median([b["center"][2] - b["half"][2] for b in boxes])) if boxes else float(
            np.percentile(p[..., 2][depth > 0], 1))
        valid = depth > 0
        ids = np.zeros((h, w), np.int32)
        ids[valid] = 1  # wall (everything else)
        ids[valid & (np.abs(p[..., 2] - floor_z) < 0.06)] = 2  # floor
        segments = [Segment(1, "wall", "stuff"), Segment(2, "floor", "stuff")]
        for i, box in enumerate(boxes):
            local = (p - box["center"]) @ rotation_z(-box["heading"])  # inverse of rotz(-heading)
            inside = valid & np.all(np.abs(local) <= box["half"], axis=-1)
            if inside.sum() > 50:
                ids[inside] = 10 + i
                segments.append(Segment(10 + i, box["label"], "thing"))
        segments = [s for s in segments if (ids == s.id).any()]
        # Truth in our conventions: camera rotation whose world-up row matches gravity (yaw arbitrary).
        up_q = rtilt.T @ np.array([0, 0, 1.0])
        up_b = np.array([up_q[0], up_q[2], -up_q[1]])  # q -> Blender camera axes (x right, y up, z back)
        x_b = np.cross(np.array([0, 0, -1.0]), up_b)
        x_b /= np.linalg.norm(x_b)
        rot = np.stack([x_b, np.cross(up_b, x_b), up_b])  # rows: world axes in camera coordinates
        truth = {"camera": {"rotation": rot.tolist(), "position": [0.0, 0.0, -floor_z]}}
        yield SunSample(f"sun_{idx}", data / "image" / f"{idx}.jpg", depth, k, ids, segments, boxes, floor_z,
                        truth)


def sun_cases(root: Path, working_size: int) -> Iterator[tuple[str, Case, dict]]:
    """(name, Case, truth) for each sample with a depth PNG."""
    for sample in sun_samples(root):
        photo, _ = read_photo(sample.photo_path)
        h, w = sample.depth.shape
        size = working_shape(w, h, working_size)
        srgb = resize_area(photo, size)
        case = Case(srgb, srgb_to_linear(srgb), sample.fov_y_deg, resize_valid_mean(sample.depth, size), True,
                    resize_nearest(sample.ids, size), sample.segments,
                    {"photo": f"SUN RGB-D {sample.name[4:]}", "segmentation": "derived from GT depth, tilt and boxes"})
        yield sample.name, case, sample.truth
