"""Differentiable refinement of the room box (PSDR-Room 4.2, second half).

Parameters: the four wall offsets, the floor and ceiling heights, and the yaw of the box, all as deltas from the
geometric fit. Loss = sum over wall/floor/ceiling of (1 - soft IoU) between Mitsuba's anti-aliased face masks
and the target masks, + `depth_weight` x L1 of depth normalised by the target's mean. Only pixels the target
labels as room surfaces count: furniture hides the box there. The depth term is the exact ray/box exit distance
in Dr.Jit (the box is convex and the camera inside), so it shares the parameters and the backward pass.
The loop (Adam, schedule, a new seed per iteration, best iterate by the exact loss) is pipeline/core/optimise.py's.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from pipeline.core.case import Case
from pipeline.core.events import Events
from pipeline.core.optimise import DrJitParams, OptimiseRecord, Param, optimise
from pipeline.core.resample import resize_area, resize_valid_mean
from pipeline.core.scene import Camera, Room
from pipeline.render.room_box import camera_rays_world, depth_and_faces, exit_distance, surface_labels, to_local
from pipeline.render.room_masks import RoomMaskRenderer
from .config import RoomConfig

SURFACES = ("wall", "floor", "ceiling")
SUPERSAMPLE = 3  # per axis, for the exact loss's anti-aliased masks (cost grows with its square)
PARAMS = ("x_min", "x_max", "y_min", "y_max", "floor", "ceiling", "yaw", "tilt_x", "tilt_y")


def _tilt(vx, vy, vz, ax, ay, transpose: bool = False):
    """Rotate vectors by T = Rx(ax) Ry(ay) (or by its transpose): the camera's small pitch/roll correction."""
    import drjit as dr

    ca, sa, cb, sb = dr.cos(ax), dr.sin(ax), dr.cos(ay), dr.sin(ay)
    if not transpose:  # Ry then Rx
        x, z = cb * vx + sb * vz, -sb * vx + cb * vz
        return x, ca * vy - sa * z, sa * vy + ca * z
    y, z = ca * vy + sa * vz, -sa * vy + ca * vz  # Rx^T then Ry^T
    return cb * vx - sb * z, y, sb * vx + cb * z


def tilt_matrix(ax: float, ay: float) -> np.ndarray:
    ca, sa, cb, sb = math.cos(ax), math.sin(ax), math.cos(ay), math.sin(ay)
    rx = np.array([[1, 0, 0], [0, ca, -sa], [0, sa, ca]])
    ry = np.array([[cb, 0, sb], [0, 1, 0], [-sb, 0, cb]])
    return rx @ ry


@dataclass
class RefineResult:
    room: Room
    camera: Camera  # the camera with its refined pitch/roll, in the room's frame
    losses: list[float] = field(default_factory=list)
    seconds_per_iter: float = 0.0
    forward_seconds: float = 0.0
    record: OptimiseRecord = field(default_factory=OptimiseRecord)


def target_maps(case: Case, width: int, height: int, depth_scale: float) -> dict[str, np.ndarray]:
    """Soft surface masks, the valid-pixel mask and the metric target depth at the refinement resolution."""
    size = (width, height)
    masks = {s: resize_area(case.mask(s).astype(np.float32), size) for s in SURFACES}
    coverage = sum(masks.values())
    valid = (coverage > 0.999).astype(np.float32)
    depth = np.zeros((height, width), np.float32)
    if case.depth is not None:
        room_depth = np.where(case.mask("wall") | case.mask("floor") | case.mask("ceiling"), case.depth, 0.0)
        depth = resize_valid_mean(room_depth, size) * depth_scale
    return {**masks, "valid": valid, "depth": depth, "depth_valid": ((depth > 0) & (valid > 0)).astype(np.float32)}


def exact_loss(camera: Camera, room: Room, tgt: dict[str, np.ndarray], depth_weight: float) -> float:
    """The refinement's loss with the box's exact anti-aliased masks (`SUPERSAMPLE`^2 samples per pixel) and
    depth: no sampling noise, and soft like the targets, so thin strips (a sliver of ceiling) are not biased."""
    height, width = tgt["valid"].shape
    depth, _ = depth_and_faces(camera, room, width, height)
    k = SUPERSAMPLE
    _, faces_hi = depth_and_faces(camera, room, width * k, height * k)
    labels_hi = surface_labels(faces_hi)
    valid = tgt["valid"]
    loss = 0.0
    for index, surf in enumerate(SURFACES):
        r = (labels_hi == index).reshape(height, k, width, k).mean(axis=(1, 3))
        t = tgt[surf]
        if (t * valid).sum() > 0.5:
            loss += 1.0 - (r * t * valid).sum() / max(((r + t - r * t) * valid).sum(), 1e-6)
        else:
            loss += (r * valid).sum() / max(valid.sum(), 1.0)
    dvalid = tgt["depth_valid"]
    if depth_weight > 0 and dvalid.sum() > 0:
        mean = (tgt["depth"] * dvalid).sum() / dvalid.sum()
        loss += depth_weight * (np.abs(depth - tgt["depth"]) * dvalid).sum() / (dvalid.sum() * mean)
    return float(loss)


def refine_room(camera: Camera, room: Room, case: Case, depth_scale: float, config: RoomConfig,
                events: Events, seed: int = 0) -> RefineResult:
    """Refine `room` (seen by a fixed `camera`) against the case's masks and depth."""
    import drjit as dr
    import mitsuba as mi

    width = min(config.refine_width, case.width)
    height = max(1, round(width * case.height / case.width))
    tgt = target_maps(case, width, height, depth_scale)
    npx = width * height
    T = {k: mi.Float(v.ravel().astype(np.float32)) for k, v in tgt.items()}
    valid_sum = float(tgt["valid"].sum())
    has = {s: float((tgt[s] * tgt["valid"]).sum()) > 0.5 for s in SURFACES}
    dvalid_sum = float(tgt["depth_valid"].sum())
    depth_mean = float((tgt["depth"] * tgt["depth_valid"]).sum() / max(dvalid_sum, 1.0))

    # Each corner coordinate is a bound (lo or hi) plus a fixed gap, so a face moves only with its own bounds.
    unit = Room(center=[0.5, 0.5, 0.5], size=[1.0, 1.0, 1.0]).face_quads()
    gap = config.face_gap_m
    # Plain floats: numpy scalars would swallow Dr.Jit arrays in mixed arithmetic.
    half = [float(v) / 2 for v in room.size]
    centre = [float(v) for v in room.center]
    yaw0 = math.radians(room.yaw_deg)
    yaw_scale = max(1.0, float(np.linalg.norm(room.size[:2])) / 2)  # radians -> metres of arc at the walls
    rays = camera_rays_world(camera, width, height).T.astype(np.float32)
    dirs = [mi.Float(rays[a]) for a in range(3)]
    idx = dr.arange(mi.UInt32, npx) * 3

    renderer = RoomMaskRenderer(camera, room.face_quads(config.face_gap_m), width, height, config.spp)
    # All deltas from the geometric fit, in metres (yaw and tilt as metres of arc at the walls).
    params = {name: Param(name, 0.0, config.lr) for name in PARAMS}
    opt = DrJitParams(list(params.values()))

    def geometry(o):
        """Box bounds, yaw and tilt of parameter values `o` (name -> Dr.Jit Float or float)."""
        lo = [-half[0] + o["x_min"], -half[1] + o["y_min"], -half[2] + o["floor"]]
        hi = [half[0] + o["x_max"], half[1] + o["y_max"], half[2] + o["ceiling"]]
        yaw = yaw0 + o["yaw"] / yaw_scale
        tilt = (o["tilt_x"] / yaw_scale, o["tilt_y"] / yaw_scale)
        return lo, hi, dr.cos(yaw), dr.sin(yaw), tilt

    cam = [float(v) for v in camera.t]

    def face_corners(lo, hi, c, s, tilt):
        out = {}
        for name, u in unit.items():
            local = []
            for a in range(3):
                is_hi = mi.Float(u[:, a].astype(np.float32))
                along = bool(np.ptp(u[:, a]) > 0)  # edges along this axis get the gap; the face's own axis not
                g = gap if along else 0.0
                local.append((lo[a] + g) * (1.0 - is_hi) + (hi[a] - g) * is_hi)
            # Box in the world, then the pitch/roll correction: rotate it about the camera by T.
            wx = centre[0] + c * local[0] - s * local[1] - cam[0]
            wy = centre[1] + s * local[0] + c * local[1] - cam[1]
            wz = centre[2] + local[2] - cam[2]
            tx, ty, tz = _tilt(wx, wy, wz, *tilt)
            out[name] = mi.Point3f(tx + cam[0], ty + cam[1], tz + cam[2])
        return out

    def loss_fn(img, lo, hi, c, s, tilt):
        loss = mi.Float(0.0)
        valid = T["valid"]
        for k, surf in enumerate(SURFACES):
            r = dr.clip(dr.gather(mi.Float, img.array, idx + k), 0.0, 1.0)
            if has[surf]:
                inter = dr.sum(r * T[surf] * valid)
                union = dr.sum((r + T[surf] - r * T[surf]) * valid)
                loss += 1.0 - inter / dr.maximum(union, 1e-6)
            else:  # surface absent from the photo: push it out of view
                loss += dr.sum(r * valid) / max(valid_sum, 1.0)
        if config.depth_weight > 0 and dvalid_sum > 0:
            # Rotating the box by T about the camera = rotating the rays by T^T.
            o, d = to_local(cam, _tilt(*dirs, *tilt, transpose=True), centre, c, s)
            t = exit_distance(dr, o, d, lo, hi)
            l1 = dr.sum(dr.abs(t - T["depth"]) * T["depth_valid"]) / (dvalid_sum * depth_mean)
            loss += config.depth_weight * l1
        return loss + tilt_weight * (tilt[0] ** 2 + tilt[1] ** 2)

    # One plain forward render at the same settings, for the forward+backward / forward ratio (after a warm-up
    # render, so neither figure includes Dr.Jit's first kernel compilation).
    lo, hi, c, s, tilt = geometry({k: mi.Float(0.0) for k in PARAMS})
    corners = face_corners(lo, hi, c, s, tilt)
    dr.eval(renderer.render(corners, seed=seed))
    start = time.perf_counter()
    dr.eval(renderer.render(corners, seed=seed + 1))
    forward_seconds = time.perf_counter() - start

    def camera_of(o: dict[str, float]) -> Camera:
        """The box tilted by T about the camera = the camera tilted by T^T in the box's frame."""
        t = tilt_matrix(o["tilt_x"] / yaw_scale, o["tilt_y"] / yaw_scale)
        return Camera(list(camera.position), (t.T @ camera.R).tolist(), camera.fov_y_deg, camera.width,
                      camera.height)

    def room_of(o: dict[str, float]) -> Room:
        lo_np = np.array([-half[0] + o["x_min"], -half[1] + o["y_min"], -half[2] + o["floor"]])
        hi_np = np.array([half[0] + o["x_max"], half[1] + o["y_max"], half[2] + o["ceiling"]])
        yaw = yaw0 + o["yaw"] / yaw_scale
        mid = (lo_np + hi_np) / 2
        cz, sz = math.cos(yaw), math.sin(yaw)
        new_centre = np.asarray(centre) + np.array([cz * mid[0] - sz * mid[1], sz * mid[0] + cz * mid[1], mid[2]])
        return Room(center=new_centre.tolist(), size=(hi_np - lo_np).tolist(), yaw_deg=math.degrees(yaw),
                    materials=dict(room.materials))

    # The Monte-Carlo gradient steps are noisy; the same loss evaluated exactly (the box's faces and depth are
    # known in closed form) picks the best iterate, so refinement never ends worse than it started.
    # A floor plane fitted on measured depth is trusted: changing the camera's tilt costs; without depth the tilt
    # is a guess and only the masks decide.
    tilt_weight = config.tilt_prior if dvalid_sum > 0 else 0.0
    initial_exact = exact_loss(camera, room, tgt, config.depth_weight)

    def current() -> dict:
        return {name: opt[p] for name, p in params.items()}

    def loss_at(it: int, it_seed: int):
        lo, hi, c, s, tilt = geometry(current())
        img = renderer.render(face_corners(lo, hi, c, s, tilt), seed=it_seed)
        return loss_fn(img, lo, hi, c, s, tilt)

    def exact_score() -> float:
        values = {name: opt.value(p) for name, p in params.items()}
        tilt_rad = (values["tilt_x"] / yaw_scale, values["tilt_y"] / yaw_scale)
        return exact_loss(camera_of(values), room_of(values), tgt, config.depth_weight) \
            + tilt_weight * (tilt_rad[0] ** 2 + tilt_rad[1] ** 2)

    record = optimise(opt, loss_at, config.refine_iters, config.schedule, seed, events, "refining the room box",
                      score=exact_score, initial_score=initial_exact)
    best_room, best_camera = room, camera  # no iterate beat the geometric fit: keep it exactly
    if record.best_iteration is not None:
        values = {name: opt.value(p) for name, p in params.items()}
        best_room, best_camera = room_of(values), camera_of(values)
    events.log(f"room: exact loss {initial_exact:.4f} -> {record.best_score:.4f} "
               f"(best of {config.refine_iters} iterates)")
    return RefineResult(best_room, best_camera, record.losses, record.seconds_per_iteration, forward_seconds,
                        record)
