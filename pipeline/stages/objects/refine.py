"""Joint differentiable refinement of every object's scale, horizontal position and yaw (PSDR-Room 4.3).

Loss = L1 of depth-weighted masks + L1 of Gaussian-pyramid-blurred masks, per channel (objects that touch in
the photo render in different channels, so each one's silhouette is compared with its own target). Contacts
constrain the degrees of freedom: floor objects keep their bottom at z = 0, supported objects ride on their
support's top (which moves with the support's scale), wall-mounted objects slide along their wall only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from pipeline.core.config import Schedule
from pipeline.core.optimise import DrJitParams, OptimiseRecord, Param, optimise
from pipeline.render.silhouettes import SilhouetteRenderer, posed, surface_samples
from .losses import Pyramid, channel
from .pose import ObjectTarget, SearchTargets, touches


def assign_channels(targets: list[ObjectTarget]) -> list[int]:
    """Greedy 3-colouring of the 'masks touch' graph, largest objects first; neighbours differ when possible."""
    order = sorted(range(len(targets)), key=lambda i: -targets[i].mask.sum())
    channels = [0] * len(targets)
    for i in order:
        used = [channels[j] for j in order[:order.index(i)] if touches(targets[i].mask, targets[j].mask, 3)]
        counts = [used.count(c) for c in range(3)]
        channels[i] = int(np.argmin(counts))
    return channels


@dataclass
class ObjectParams:
    """One object's free parameters in the joint refinement, all deltas from its searched pose (zero at the start).
    Units per Adam step (lr): metres for translation, log-units for scale (lr 0.02 = 2 %), 2 lr radians for yaw.
    Contacts decide which exist: wall-mounted objects slide along their wall and up/down, floor and supported ones
    move and turn in the plane, free ones also move up/down."""

    scale: Param  # log of the uniform scale
    aspect: tuple[Param, Param, Param]  # log stretch per axis, clamped to +-aspect_limit
    x: Param | None = None
    y: Param | None = None
    yaw: Param | None = None
    z: Param | None = None
    along_wall: Param | None = None

    @classmethod
    def create(cls, i: int, target: ObjectTarget, lr: float, aspect_limit: float) -> "ObjectParams":
        def param(kind: str, lo: float | None = None, hi: float | None = None) -> Param:
            return Param(f"{i}:{target.name}.{kind}", 0.0, lr, lo, hi)  # the index keeps names unique

        # Cut by the photo's border: the model does not shrink to fit the visible part. When the border hides its
        # height, not below its own size (or its searched scale, when smaller); else not below its searched scale,
        # which the seen height set, by more than 5 %.
        lo = None
        if target.height_unseen(target.contact == "floor"):
            lo = min(0.0, -math.log(max(target.pose.scale, 1e-6)))
        elif target.cut:
            lo = math.log(0.95)
        out = cls(param("scale", lo), tuple(param(f"aspect_{a}", -aspect_limit, aspect_limit) for a in "xyz"))
        if target.contact == "wall":
            out.along_wall, out.z = param("along_wall"), param("z")
        else:
            out.x, out.y, out.yaw = param("x"), param("y"), param("yaw")
            if target.contact == "none":
                out.z = param("z")
        return out

    def all(self) -> list[Param]:
        """The parameters that exist, in a fixed order."""
        return [p for p in (self.scale, *self.aspect, self.x, self.y, self.yaw, self.z, self.along_wall)
                if p is not None]


def refine_objects(renderer: SilhouetteRenderer, targets: list[ObjectTarget], channels: list[int],
                   t: SearchTargets, iters: int, lr: float, levels: int, events, seed: int = 0,
                   aspect_limit: float = 0.3, points_weight: float = 1.0,
                   schedule: Schedule | None = None) -> OptimiseRecord:
    """Refine all poses in place; returns what the harness measured (losses, timings)."""
    import drjit as dr
    import mitsuba as mi
    from scipy.spatial import cKDTree

    # Depth term: the object's depth points should lie on the posed model's surface (one-sided: the model may
    # have sides the photo does not show). Nearest model points are re-assigned every iteration, ICP-style.
    rng = np.random.default_rng(seed)
    samples, points = [], []
    for tg in targets:
        s_np = surface_samples(tg.mesh[0], tg.mesh[1], 800, rng)
        samples.append([mi.Float(s_np[:, a].astype(np.float32)) for a in range(3)])
        p = tg.points[rng.choice(len(tg.points), size=min(400, len(tg.points)), replace=False)] \
            if len(tg.points) else np.zeros((0, 3))
        points.append(p)

    npx = t.width * t.height
    target_c, weight = [], np.ones(npx, np.float32)
    for c in range(3):
        m = sum((t.masks[i] for i in range(len(targets)) if channels[i] == c), np.zeros((t.height, t.width)))
        target_c.append(np.clip(m, 0, 1).astype(np.float32).ravel())
    d = t.depth_ray.ravel()
    if (d > 0).any():
        # Depth-weighted: far objects look small; weighting by distance keeps their share of the loss.
        weight = np.where(d > 0, d / d[d > 0].mean(), 1.0).astype(np.float32)
    pyramid = Pyramid(t.width, t.height, levels)
    T = [mi.Float(m) for m in target_c]
    T_pyr = [[mi.Float(level) for level in pyramid.numpy(m.reshape(t.height, t.width))] for m in target_c]
    W = mi.Float(weight)
    used_channels = sorted(set(channels))
    schedule = schedule if schedule is not None else Schedule()

    # Besides a uniform scale, each axis may stretch by up to +-`aspect_limit` (log): library models rarely
    # have the photo's exact proportions.
    free = [ObjectParams.create(i, tg, lr, aspect_limit) for i, tg in enumerate(targets)]
    opt = DrJitParams([p for f in free for p in f.all()])
    by_name = {tg.name: i for i, tg in enumerate(targets)}

    def pose_of(i: int, value: Callable[[Param], object]):
        """(location, yaw, per-axis scale) of object `i` with parameter values `value(param)`."""
        tg, f = targets[i], free[i]
        base = tg.pose.location
        uniform = tg.pose.scale * dr.exp(value(f.scale))
        scale = tuple(uniform * float(tg.pose.aspect[a]) * dr.exp(value(f.aspect[a])) for a in range(3))
        if tg.contact == "wall":
            n = tg.wall_normal
            tangent = np.array([-n[1], n[0], 0.0])
            u = value(f.along_wall)
            loc = [base[0] + tangent[0] * u, base[1] + tangent[1] * u, base[2] + value(f.z)]
            return loc, float(tg.pose.yaw), scale
        z = 0.0 if tg.contact == "floor" else base[2]
        if tg.contact == "none":
            z = base[2] + value(f.z)
        elif tg.contact.startswith("support:"):
            j = by_name[tg.contact.split(":", 1)[1]]
            loc_j, _, s_j = pose_of(j, value)  # rides on the support's top as the support moves and scales
            z = loc_j[2] + s_j[2] * float(targets[j].size[2])
        loc = [float(base[0]) + value(f.x), float(base[1]) + value(f.y), z]
        return loc, float(tg.pose.yaw) + 2.0 * value(f.yaw), scale

    def loss_at(it: int, it_seed: int):
        for i in range(len(targets)):
            renderer.set_pose(i, *pose_of(i, opt.__getitem__))
        img = renderer.render(seed=it_seed)
        loss = mi.Float(0.0)
        for c in used_channels:
            r = channel(img, c)
            loss += dr.mean(W * dr.abs(r - T[c]))
            for level, tgt in zip(pyramid(r), T_pyr[c]):
                loss += dr.mean(dr.abs(level - tgt))
        if points_weight > 0:
            for i in range(len(targets)):
                if len(points[i]) < 10:
                    continue
                px, py, pz = posed(samples[i], *pose_of(i, opt.__getitem__))
                tree = cKDTree(np.stack([np.array(px), np.array(py), np.array(pz)], axis=1))
                _, nearest = tree.query(points[i])
                idx = mi.UInt32(nearest.astype(np.uint32))
                q = [dr.gather(mi.Float, comp, idx) for comp in (px, py, pz)]
                dist = dr.sqrt(sum((q[a] - mi.Float(points[i][:, a].astype(np.float32))) ** 2 for a in range(3))
                               + 1e-8)
                loss += points_weight * dr.mean(dr.minimum(dist, 0.3))  # clipped: stray points do not dominate
        return loss

    record = optimise(opt, loss_at, iters, schedule, seed, events, "refining object poses")

    final = {p: mi.Float(opt.value(p)) for p in opt.params}  # detached: the poses are plain numbers from here
    for i, tg in enumerate(targets):
        loc, yaw, scale = pose_of(i, final.__getitem__)
        tg.pose.location = np.array([float(v if isinstance(v, float) else v[0]) for v in loc])
        tg.pose.yaw = float(yaw if isinstance(yaw, float) else yaw[0]) % (2 * math.pi)
        scales = np.array([float(v[0]) for v in scale])
        tg.pose.scale = float(np.exp(np.log(scales).mean()))
        tg.pose.aspect = scales / tg.pose.scale
    return record
