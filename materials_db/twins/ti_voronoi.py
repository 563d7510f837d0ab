"""Fused taichi kernels for the Voronoi Texture's single-octave F1 and Distance-to-Edge (euclidean, 2D/3D).

The per-point `ti.func`s (`f1_2d`, `f1_3d`, `edge_2d`) are shared with the fused material compiler (fused.py).

Same cell order, PCG hashes and strict comparisons as Blender (values match the torch twin bit for bit or to
float rounding); each kernel also returns the derivatives the backward pass needs, wrapped by `VoronoiF1` and
`VoronoiEdge` autograd Functions (gradients w.r.t. the coordinates and the randomness).
"""

# no `from __future__ import annotations`: taichi reads the annotations as objects

import taichi as ti
import torch

from .ti_perlin import ensure_init

_INV31 = 1.0 / 2147483648.0


@ti.func
def _sar16(x):
    return ti.cast(ti.cast(x, ti.i32) >> 16, ti.u32)


@ti.func
def _pcg2(ix, iy):
    x = ti.cast(ix, ti.u32) * ti.u32(1664525) + ti.u32(1013904223)
    y = ti.cast(iy, ti.u32) * ti.u32(1664525) + ti.u32(1013904223)
    x += y * ti.u32(1664525)
    y += x * ti.u32(1664525)
    x = x ^ _sar16(x)
    y = y ^ _sar16(y)
    x += y * ti.u32(1664525)
    y += x * ti.u32(1664525)
    return ti.math.vec2(ti.cast(ti.cast(x & ti.u32(0x7FFFFFFF), ti.i32), ti.f32),
                        ti.cast(ti.cast(y & ti.u32(0x7FFFFFFF), ti.i32), ti.f32)) * _INV31


@ti.func
def _pcg3(ix, iy, iz):
    x = ti.cast(ix, ti.u32) * ti.u32(1664525) + ti.u32(1013904223)
    y = ti.cast(iy, ti.u32) * ti.u32(1664525) + ti.u32(1013904223)
    z = ti.cast(iz, ti.u32) * ti.u32(1664525) + ti.u32(1013904223)
    x += y * z
    y += z * x
    z += x * y
    x = x ^ _sar16(x)
    y = y ^ _sar16(y)
    z = z ^ _sar16(z)
    x += y * z
    y += z * x
    z += x * y
    return ti.math.vec3(ti.cast(ti.cast(x & ti.u32(0x7FFFFFFF), ti.i32), ti.f32),
                        ti.cast(ti.cast(y & ti.u32(0x7FFFFFFF), ti.i32), ti.f32),
                        ti.cast(ti.cast(z & ti.u32(0x7FFFFFFF), ti.i32), ti.f32)) * _INV31


@ti.func
def _metric(d, metric: ti.template()):
    """Distance of the difference vector d and its derivative d distance / d d (torch's subgradients)."""
    dist = 0.0
    grad = d * 0.0
    if ti.static(metric == "EUCLIDEAN"):
        dist = ti.sqrt(d.dot(d))
        grad = d / ti.max(dist, 1e-10)
    elif ti.static(metric == "MANHATTAN"):
        dist = ti.abs(d).sum()
        grad = ti.math.sign(d)
    else:  # CHEBYCHEV: the gradient goes to the first largest component
        a = ti.abs(d)
        dist = a.max()
        taken = 0
        for k in ti.static(range(d.n)):
            if a[k] == dist and taken == 0:
                grad[k] = ti.math.sign(d[k])
                taken = 1
    return dist, grad


@ti.func
def f1_2d(c, rand, metric: ti.template()):
    """Single-octave F1 at coord c (vec2): distance, colour, feature position (absolute), d dist/d c, d dist/d
    randomness and d position/d randomness (the winning cell's hash)."""
    cf = ti.math.vec2(ti.floor(c[0]), ti.floor(c[1]))
    ci = ti.cast(cf, ti.i32)
    local = c - cf
    best = 3.4e38
    bo = ti.math.ivec2(0, 0)
    bp = ti.math.vec2(0.0, 0.0)
    bh = ti.math.vec2(0.0, 0.0)
    for j in ti.static(range(-1, 2)):
        for i in ti.static(range(-1, 2)):
            h = _pcg2(ci[0] + i, ci[1] + j)
            pp = ti.math.vec2(i, j) + h * rand
            d, _g = _metric(pp - local, metric)
            if d < best:
                best = d
                bo = ti.math.ivec2(i, j)
                bp = pp
                bh = h
    col = _pcg3(ci[0] + bo[0], ci[1] + bo[1], 0)
    _d, gd = _metric(bp - local, metric)
    return best, col, bp + cf, -gd, gd.dot(bh), bh


@ti.func
def f1_3d(c, rand, metric: ti.template()):
    """3D counterpart of `f1_2d` (Blender walks z outermost, x innermost)."""
    cf = ti.math.vec3(ti.floor(c[0]), ti.floor(c[1]), ti.floor(c[2]))
    ci = ti.cast(cf, ti.i32)
    local = c - cf
    best = 3.4e38
    bo = ti.math.ivec3(0, 0, 0)
    bp = ti.math.vec3(0.0, 0.0, 0.0)
    bh = ti.math.vec3(0.0, 0.0, 0.0)
    for k in ti.static(range(-1, 2)):
        for j in ti.static(range(-1, 2)):
            for i in ti.static(range(-1, 2)):
                h = _pcg3(ci[0] + i, ci[1] + j, ci[2] + k)
                pp = ti.math.vec3(i, j, k) + h * rand
                d, _g = _metric(pp - local, metric)
                if d < best:
                    best = d
                    bo = ti.math.ivec3(i, j, k)
                    bp = pp
                    bh = h
    col = _pcg3(ci[0] + bo[0], ci[1] + bo[1], ci[2] + bo[2])
    _d, gd = _metric(bp - local, metric)
    return best, col, bp + cf, -gd, gd.dot(bh), bh


@ti.func
def edge_2d(c, rand):
    """Single-octave Distance to Edge (euclidean, vec2): distance, d/d c, d/d randomness."""
    cf = ti.math.vec2(ti.floor(c[0]), ti.floor(c[1]))
    ci = ti.cast(cf, ti.i32)
    local = c - cf
    best = 3.4e38
    vc = ti.math.vec2(0.0, 0.0)
    hc = ti.math.vec2(0.0, 0.0)
    for j in ti.static(range(-1, 2)):
        for i in ti.static(range(-1, 2)):
            h = _pcg2(ci[0] + i, ci[1] + j)
            v = ti.math.vec2(i, j) + h * rand - local
            d = v.dot(v)
            if d < best:
                best = d
                vc = v
                hc = h
    m = 3.4e38
    gl = ti.math.vec2(0.0, 0.0)
    gr = 0.0
    for j in ti.static(range(-1, 2)):
        for i in ti.static(range(-1, 2)):
            h = _pcg2(ci[0] + i, ci[1] + j)
            v = ti.math.vec2(i, j) + h * rand - local
            e = v - vc
            if e.dot(e) > 0.0001:
                ln = ti.sqrt(e.dot(e))
                nrm = e / ln
                de = ((vc + v) / 2.0).dot(nrm)
                if de < m:
                    m = de
                    gl = -nrm
                    dedr = h - hc
                    dn = (dedr - nrm * nrm.dot(dedr)) / ln
                    gr = ((hc + h) / 2.0).dot(nrm) + ((vc + v) / 2.0).dot(dn)
    return m, gl, gr


@ti.kernel
def _f1_2d(c: ti.types.ndarray(dtype=ti.f32, ndim=2), rand: ti.f32, out: ti.types.ndarray(dtype=ti.f32, ndim=2)):
    # out: distance, color(3), position(2), d dist/d coord(2), d dist/d rand, d position/d rand(2)
    for n in range(c.shape[0]):
        d, col, pos, dc, dr, dp = f1_2d(ti.math.vec2(c[n, 0], c[n, 1]), rand, "EUCLIDEAN")
        out[n, 0] = d
        for k in ti.static(range(3)):
            out[n, 1 + k] = col[k]
        for k in ti.static(range(2)):
            out[n, 4 + k] = pos[k]
            out[n, 6 + k] = dc[k]
            out[n, 9 + k] = dp[k]
        out[n, 8] = dr


@ti.kernel
def _f1_3d(c: ti.types.ndarray(dtype=ti.f32, ndim=2), rand: ti.f32, out: ti.types.ndarray(dtype=ti.f32, ndim=2)):
    for n in range(c.shape[0]):
        d, col, pos, dc, dr, dp = f1_3d(ti.math.vec3(c[n, 0], c[n, 1], c[n, 2]), rand, "EUCLIDEAN")
        out[n, 0] = d
        for k in ti.static(range(3)):
            out[n, 1 + k] = col[k]
            out[n, 4 + k] = pos[k]
            out[n, 7 + k] = dc[k]
            out[n, 11 + k] = dp[k]
        out[n, 10] = dr


@ti.kernel
def _edge_2d(c: ti.types.ndarray(dtype=ti.f32, ndim=2), rand: ti.f32, out: ti.types.ndarray(dtype=ti.f32, ndim=2)):
    # out: distance, d/d coord(2), d/d rand
    for n in range(c.shape[0]):
        m, gl, gr = edge_2d(ti.math.vec2(c[n, 0], c[n, 1]), rand)
        out[n, 0] = m
        out[n, 1] = gl[0]
        out[n, 2] = gl[1]
        out[n, 3] = gr


class VoronoiF1(torch.autograd.Function):
    """Single-octave euclidean F1: (distance, color, position) for coord (..., 2|3) and 0-d randomness."""

    @staticmethod
    def forward(ctx, coord, randomness):
        ensure_init(coord.device)
        shape = coord.shape
        dim = shape[-1]
        flat = coord.detach().reshape(-1, dim).to(torch.float32).contiguous()
        out = torch.empty(flat.shape[0], 11 if dim == 2 else 14, dtype=torch.float32, device=coord.device)
        (_f1_2d if dim == 2 else _f1_3d)(flat, float(randomness), out)
        if coord.device.type == "cuda":
            ti.sync()
        lead = shape[:-1]
        dist = out[:, 0].reshape(lead).clone()
        color = out[:, 1:4].reshape(*lead, 3).clone()
        pos = out[:, 4:4 + dim].reshape(*lead, dim).clone()
        g0 = 4 + dim
        ctx.save_for_backward(out[:, g0:g0 + dim].reshape(*lead, dim), out[:, g0 + dim].reshape(lead),
                              out[:, g0 + dim + 1:g0 + 2 * dim + 1].reshape(*lead, dim))
        ctx.mark_non_differentiable(color)
        return dist, color, pos

    @staticmethod
    def backward(ctx, gd, gc, gp):
        dd_dc, dd_dr, dp_dr = ctx.saved_tensors
        g_coord = gd.unsqueeze(-1) * dd_dc if ctx.needs_input_grad[0] else None
        g_rand = None
        if ctx.needs_input_grad[1]:
            g_rand = (gd * dd_dr).sum() + (gp * dp_dr).sum()
        return g_coord, g_rand


class VoronoiEdge(torch.autograd.Function):
    """Single-octave Distance to Edge (2D): distance for coord (..., 2) and 0-d randomness."""

    @staticmethod
    def forward(ctx, coord, randomness):
        ensure_init(coord.device)
        shape = coord.shape
        flat = coord.detach().reshape(-1, 2).to(torch.float32).contiguous()
        out = torch.empty(flat.shape[0], 4, dtype=torch.float32, device=coord.device)
        _edge_2d(flat, float(randomness), out)
        if coord.device.type == "cuda":
            ti.sync()
        lead = shape[:-1]
        ctx.save_for_backward(out[:, 1:3].reshape(*lead, 2), out[:, 3].reshape(lead))
        return out[:, 0].reshape(lead).clone()

    @staticmethod
    def backward(ctx, gd):
        dd_dc, dd_dr = ctx.saved_tensors
        g_coord = gd.unsqueeze(-1) * dd_dc if ctx.needs_input_grad[0] else None
        g_rand = (gd * dd_dr).sum() if ctx.needs_input_grad[1] else None
        return g_coord, g_rand
