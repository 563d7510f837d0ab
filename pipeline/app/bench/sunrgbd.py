"""SUN RGB-D samples (../shared/data/sunrgbd_mmdet3d_samples) as room-stage cases.

The samples carry intrinsics, the camera tilt (Rtilt), metric depth and 3-D furniture boxes, but no
segmentation. For the room benchmark we derive one from that ground truth and say so: floor = points within
6 cm of the floor level (the densest layer of depth points outside the boxes near their bottoms), things = points inside a furniture box,
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


def _floor_level(p: np.ndarray, valid: np.ndarray, boxes: list[dict]) -> float:
    """The floor's height in the upright frame: the densest 2 cm layer of the depth's points outside the boxes
    and no more than 25 cm above the boxes' median bottom. The box bottoms alone sit 5-10 cm above the floor on
    these frames (the legs' feet, the annotators' boxes), which biased the true camera height and so the scale."""
    bottoms = [b["center"][2] - b["half"][2] for b in boxes]
    outside = valid.copy()
    for box in boxes:
        local = (p - box["center"]) @ rotation_z(-box["heading"])
        outside &= ~np.all(np.abs(local) <= box["half"], axis=-1)
    z = p[..., 2][outside]
    if bottoms:
        z = z[z < float(np.median(bottoms)) + 0.25]
    if len(z) < 500:  # no floor in view: the boxes' bottoms, else the lowest points
        return float(np.median(bottoms)) if bottoms else float(np.percentile(p[..., 2][valid], 1))
    hist, edges = np.histogram(z, bins=np.arange(z.min(), z.max() + 0.02, 0.02))
    i = int(np.argmax(hist))
    return float(np.median(z[(z >= edges[i]) & (z < edges[i + 1])]))


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
        valid = depth > 0
        floor_z = _floor_level(p, valid, boxes)
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


def layout_row(sample: SunSample, working_size: int = 640, ceiling_m: float = 2.6,
               camera_m: float = 1.5) -> dict:
    """The weight-free camera + box layout (estimators.layout) on one bare SUN photo, against its truth:
    FOV and horizon error (deg), camera height (from the ceiling when one is seen, else the `camera_m` prior)
    against the depth's floor, and the share of the depth's points inside the box once the box is scaled so the
    camera heights agree (a 10 cm margin)."""
    from pipeline.estimators.camera_classical import ClassicalCamera
    from pipeline.estimators.layout import camera_height_from_ceiling, estimate_layout

    photo, _ = read_photo(sample.photo_path)
    h0, w0 = photo.shape[:2]
    size = working_shape(w0, h0, working_size)
    image = resize_area(photo, size)
    cam = ClassicalCamera().estimate(image)
    row: dict = {"case": sample.name, "fov_err": abs(cam.fov_y_deg - sample.fov_y_deg)}
    true_up = np.asarray(sample.truth["camera"]["rotation"])[2]  # world up in Blender camera axes
    row["horizon_err"] = math.degrees(math.acos(float(np.clip(cam.up_vector() @ true_up, -1, 1))))
    if "directions" not in cam.details:
        return row | {"note": "no Manhattan frame"}
    dirs = np.asarray(cam.details["directions"])
    lay = estimate_layout(image, cam.details["f_px"], dirs, int(cam.details["up_index"]))  # f at `image`'s size
    truth_h = -sample.floor_z
    est_h = camera_height_from_ceiling(lay, ceiling_m)
    row.update(cam_h=est_h or camera_m, cam_h_true=truth_h, ceiling_seen=est_h is not None,
               cam_h_err=abs((est_h or camera_m) - truth_h) / truth_h, line_support=lay.line_support,
               orientation=lay.orientation, box=lay.box)
    d = sample.depth
    valid = d > 0
    rows_, cols_ = np.nonzero(valid)
    z = d[valid]
    pts = np.stack([(cols_ + 0.5 - sample.k[0, 2]) / sample.k[0, 0] * z,
                    (rows_ + 0.5 - sample.k[1, 2]) / sample.k[1, 1] * z, z], 1)  # OpenCV camera axes
    up_i = int(cam.details["up_index"])
    world = pts @ dirs[:, [(up_i + 1) % 3, up_i, (up_i + 2) % 3]]  # (x, up, z) of the estimated frame
    b = {k: v * truth_h for k, v in lay.box.items()}
    m = 0.1
    inside = ((world[:, 1] >= -truth_h - m) & (world[:, 1] <= b["ceiling_over_camera"] + m)
              & (world[:, 0] >= -b["x-"] - m) & (world[:, 0] <= b["x+"] + m)
              & (world[:, 2] >= -b["z-"] - m) & (world[:, 2] <= b["z+"] + m))
    row["inside"] = float(inside.mean())
    return row


def layout_table(root: Path) -> list[dict]:
    """layout_row for every sample, printed as a table with medians."""
    rows = []
    print(f"{'case':<12} {'FOV err':>7} {'horizon':>7} {'cam h':>6} {'true':>5} {'err':>5} {'ceil':>4} "
          f"{'inside':>6} {'lines':>5} {'orient':>6}")
    for sample in sun_samples(root):
        r = layout_row(sample)
        rows.append(r)
        print(f"{r['case']:<12} {r['fov_err']:7.2f} {r['horizon_err']:7.2f} {r.get('cam_h', float('nan')):6.2f} "
              f"{r.get('cam_h_true', float('nan')):5.2f} {r.get('cam_h_err', float('nan')):5.2f} "
              f"{'yes' if r.get('ceiling_seen') else 'no':>4} {r.get('inside', float('nan')):6.3f} "
              f"{r.get('line_support', float('nan')):5.2f} {r.get('orientation', float('nan')):6.2f}", flush=True)
    med = {k: float(np.median([r[k] for r in rows if k in r])) for k in ("fov_err", "horizon_err", "cam_h_err",
                                                                          "inside")}
    print(f"median: FOV err {med['fov_err']:.2f} deg, horizon {med['horizon_err']:.2f} deg, camera height err "
          f"{100 * med['cam_h_err']:.0f} %, depth points inside the box {100 * med['inside']:.1f} %")
    return rows
