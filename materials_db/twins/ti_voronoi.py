"""Fused taichi kernels for the Voronoi Texture's single-octave F1 and Distance-to-Edge (euclidean, 2D/3D).

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


@ti.kernel
def _f1_2d(c: ti.types.ndarray(dtype=ti.f32, ndim=2), rand: ti.f32, out: ti.types.ndarray(dtype=ti.f32, ndim=2)):
    # out: distance, color(3), position(2), d dist/d coord(2), d dist/d rand
    for n in range(c.shape[0]):
        cf = ti.math.vec2(ti.floor(c[n, 0]), ti.floor(c[n, 1]))
        ci = ti.cast(cf, ti.i32)
        local = ti.math.vec2(c[n, 0], c[n, 1]) - cf
        best = 3.4e38
        bo = ti.math.ivec2(0, 0)
        bp = ti.math.vec2(0.0, 0.0)
        bh = ti.math.vec2(0.0, 0.0)
        for j in ti.static(range(-1, 2)):
            for i in ti.static(range(-1, 2)):
                h = _pcg2(ci[0] + i, ci[1] + j)
                pp = ti.math.vec2(i, j) + h * rand
                d = ti.sqrt((pp - local).dot(pp - local))
                if d < best:
                    best = d
                    bo = ti.math.ivec2(i, j)
                    bp = pp
                    bh = h
        col = _pcg3(ci[0] + bo[0], ci[1] + bo[1], 0)
        diff = bp - local
        inv = 1.0 / ti.max(best, 1e-10)
        out[n, 0] = best
        out[n, 1] = col[0]
        out[n, 2] = col[1]
        out[n, 3] = col[2]
        out[n, 4] = bp[0] + cf[0]
        out[n, 5] = bp[1] + cf[1]
        out[n, 6] = -diff[0] * inv
        out[n, 7] = -diff[1] * inv
        out[n, 8] = diff.dot(bh) * inv
        out[n, 9] = bh[0]
        out[n, 10] = bh[1]


@ti.kernel
def _f1_3d(c: ti.types.ndarray(dtype=ti.f32, ndim=2), rand: ti.f32, out: ti.types.ndarray(dtype=ti.f32, ndim=2)):
    for n in range(c.shape[0]):
        cf = ti.math.vec3(ti.floor(c[n, 0]), ti.floor(c[n, 1]), ti.floor(c[n, 2]))
        ci = ti.cast(cf, ti.i32)
        local = ti.math.vec3(c[n, 0], c[n, 1], c[n, 2]) - cf
        best = 3.4e38
        bo = ti.math.ivec3(0, 0, 0)
        bp = ti.math.vec3(0.0, 0.0, 0.0)
        bh = ti.math.vec3(0.0, 0.0, 0.0)
        for k in ti.static(range(-1, 2)):
            for j in ti.static(range(-1, 2)):
                for i in ti.static(range(-1, 2)):
                    h = _pcg3(ci[0] + i, ci[1] + j, ci[2] + k)
                    pp = ti.math.vec3(i, j, k) + h * rand
                    d = ti.sqrt((pp - local).dot(pp - local))
                    if d < best:
                        best = d
                        bo = ti.math.ivec3(i, j, k)
                        bp = pp
                        bh = h
        col = _pcg3(ci[0] + bo[0], ci[1] + bo[1], ci[2] + bo[2])
        diff = bp - local
        inv = 1.0 / ti.max(best, 1e-10)
        out[n, 0] = best
        out[n, 1] = col[0]
        out[n, 2] = col[1]
        out[n, 3] = col[2]
        out[n, 4] = bp[0] + cf[0]
        out[n, 5] = bp[1] + cf[1]
        out[n, 6] = bp[2] + cf[2]
        out[n, 7] = -diff[0] * inv
        out[n, 8] = -diff[1] * inv
        out[n, 9] = -diff[2] * inv
        out[n, 10] = diff.dot(bh) * inv
        out[n, 11] = bh[0]
        out[n, 12] = bh[1]
        out[n, 13] = bh[2]


@ti.kernel
def _edge_2d(c: ti.types.ndarray(dtype=ti.f32, ndim=2), rand: ti.f32, out: ti.types.ndarray(dtype=ti.f32, ndim=2)):
    # out: distance, d/d coord(2), d/d rand
    for n in range(c.shape[0]):
        cf = ti.math.vec2(ti.floor(c[n, 0]), ti.floor(c[n, 1]))
        ci = ti.cast(cf, ti.i32)
        local = ti.math.vec2(c[n, 0], c[n, 1]) - cf
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
