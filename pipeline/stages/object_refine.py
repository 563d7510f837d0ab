"""Joint differentiable refinement of every object's scale, horizontal position and yaw (PSDR-Room 4.3).

Loss = L1 of depth-weighted masks + L1 of Gaussian-pyramid-blurred masks, per channel (objects that touch in
the photo render in different channels, so each one's silhouette is compared with its own target). Contacts
constrain the degrees of freedom: floor objects keep their bottom at z = 0, supported objects ride on their
support's top (which moves with the support's scale), wall-mounted objects slide along their wall only.
"""

from __future__ import annotations

import math
import time

import numpy as np

from ..losses import Pyramid, channel
from ..render.silhouettes import SilhouetteRenderer, posed, surface_samples
from .object_pose import ObjectTarget, SearchTargets


def assign_channels(targets: list[ObjectTarget]) -> list[int]:
    """Greedy 3-colouring of the 'masks touch' graph, largest objects first; neighbours differ when possible."""
    from .object_pose import touches

    order = sorted(range(len(targets)), key=lambda i: -targets[i].mask.sum())
    channels = [0] * len(targets)
    for i in order:
        used = [channels[j] for j in order[:order.index(i)] if touches(targets[i].mask, targets[j].mask, 3)]
        counts = [used.count(c) for c in range(3)]
        channels[i] = int(np.argmin(counts))
    return channels


def refine_objects(renderer: SilhouetteRenderer, targets: list[ObjectTarget], channels: list[int],
                   t: SearchTargets, iters: int, lr: float, levels: int, events, seed: int = 0,
                   aspect_limit: float = 0.3, points_weight: float = 1.0) -> dict:
    """Refine all poses in place; returns losses and timings."""
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

    opt = mi.ad.Adam(lr=lr)
    # Units per Adam step (lr): metres for translation, log-units for scale (lr 0.02 = 2 %), 2 lr radians for yaw.
    # Besides a uniform scale, each axis may stretch by up to +-`aspect_limit` (log): library models rarely
    # have the photo's exact proportions.
    for i, tg in enumerate(targets):
        opt[f"s{i}"] = mi.Float(0.0)
        for axis in "xyz":
            opt[f"a{axis}{i}"] = mi.Float(0.0)
        if tg.contact == "wall":
            opt[f"u{i}"] = mi.Float(0.0)
            opt[f"z{i}"] = mi.Float(0.0)
        else:
            opt[f"x{i}"] = mi.Float(0.0)
            opt[f"y{i}"] = mi.Float(0.0)
            opt[f"yaw{i}"] = mi.Float(0.0)
            if tg.contact == "none":
                opt[f"z{i}"] = mi.Float(0.0)
    by_name = {tg.name: i for i, tg in enumerate(targets)}

    def pose_of(i: int, o):
        tg = targets[i]
        base = tg.pose.location
        uniform = tg.pose.scale * dr.exp(o[f"s{i}"])
        scale = tuple(uniform * float(tg.pose.aspect[a]) * dr.exp(o[f"a{'xyz'[a]}{i}"]) for a in range(3))
        if tg.contact == "wall":
            n = tg.wall_normal
            tangent = np.array([-n[1], n[0], 0.0])
            loc = [base[0] + tangent[0] * o[f"u{i}"], base[1] + tangent[1] * o[f"u{i}"], base[2] + o[f"z{i}"]]
            return loc, float(tg.pose.yaw), scale
        z = 0.0 if tg.contact == "floor" else base[2]
        if tg.contact == "none":
            z = base[2] + o[f"z{i}"]
        elif tg.contact.startswith("support:"):
            j = by_name[tg.contact.split(":", 1)[1]]
            loc_j, _, s_j = pose_of(j, o)  # rides on the support's top as the support moves and scales
            z = loc_j[2] + s_j[2] * float(targets[j].size[2])
        loc = [float(base[0]) + o[f"x{i}"], float(base[1]) + o[f"y{i}"], z]
        return loc, float(tg.pose.yaw) + 2.0 * o[f"yaw{i}"], scale

    losses = []
    start = time.perf_counter()
    for it in range(iters):
        opt.set_learning_rate(lr * (1.0 - 0.9 * it / max(1, iters - 1)))
        for i in range(len(targets)):
            renderer.set_pose(i, *pose_of(i, opt))
        img = renderer.render(seed=seed + it)
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
                px, py, pz = posed(samples[i], *pose_of(i, opt))
                tree = cKDTree(np.stack([np.array(px), np.array(py), np.array(pz)], axis=1))
                _, nearest = tree.query(points[i])
                idx = mi.UInt32(nearest.astype(np.uint32))
                q = [dr.gather(mi.Float, comp, idx) for comp in (px, py, pz)]
                dist = dr.sqrt(sum((q[a] - mi.Float(points[i][:, a].astype(np.float32))) ** 2 for a in range(3))
                               + 1e-8)
                loss += points_weight * dr.mean(dr.minimum(dist, 0.3))  # clipped: stray points do not dominate
        dr.backward(loss)
        opt.step()
        for key in opt.keys():
            if key[0] == "a" and key[1] in "xyz":
                opt[key] = dr.clip(opt[key], -aspect_limit, aspect_limit)
        losses.append(float(loss.array[0]) if hasattr(loss, "array") else float(loss[0]))
        events.step(it + 1, iters, "refining object poses", loss=losses[-1])
    per_iter = (time.perf_counter() - start) / max(iters, 1)

    final = {k: mi.Float(float(opt[k][0])) for k in opt.keys()}
    for i, tg in enumerate(targets):
        loc, yaw, scale = pose_of(i, final)
        tg.pose.location = np.array([float(v if isinstance(v, float) else v[0]) for v in loc])
        tg.pose.yaw = float(yaw if isinstance(yaw, float) else yaw[0]) % (2 * math.pi)
        scales = np.array([float(v[0]) for v in scale])
        tg.pose.scale = float(np.exp(np.log(scales).mean()))
        tg.pose.aspect = scales / tg.pose.scale
    return {"losses": [round(v, 6) for v in losses], "seconds_per_iteration": round(per_iter, 4)}
