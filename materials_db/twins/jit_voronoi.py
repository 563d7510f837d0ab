"""The Voronoi Texture's single-octave F1 and Distance-to-Edge for the fused compiler's Dr.Jit target: the per-texel
functions of ti_voronoi.py (same names, arguments, cell order, PCG hashes and strict comparisons), over Dr.Jit
lanes; the "closest so far" updates become selects."""

from __future__ import annotations

import drjit as dr

from . import jit_ti as ti

_INV31 = 1.0 / 2147483648.0


def _sar16(x):
    return ti.cast(ti.cast(x, ti.i32) >> 16, ti.u32)


def _unit(x):
    return ti.Float(ti.Int32(x & 0x7FFFFFFF)) * _INV31


def _pcg2(ix, iy):
    x = ti.cast(ix, ti.u32) * 1664525 + 1013904223
    y = ti.cast(iy, ti.u32) * 1664525 + 1013904223
    x += y * 1664525
    y += x * 1664525
    x = x ^ _sar16(x)
    y = y ^ _sar16(y)
    x += y * 1664525
    y += x * 1664525
    return ti.math.vec2(_unit(x), _unit(y))


def _pcg3(ix, iy, iz):
    x = ti.cast(ix, ti.u32) * 1664525 + 1013904223
    y = ti.cast(iy, ti.u32) * 1664525 + 1013904223
    z = ti.cast(iz, ti.u32) * 1664525 + 1013904223
    x += y * z
    y += z * x
    z += x * y
    x = x ^ _sar16(x)
    y = y ^ _sar16(y)
    z = z ^ _sar16(z)
    x += y * z
    y += z * x
    z += x * y
    return ti.math.vec3(_unit(x), _unit(y), _unit(z))


def _metric(d, metric: str):
    """Distance of the difference vector d and d distance / d d (torch's subgradients)."""
    if metric == "EUCLIDEAN":
        dist = dr.sqrt(d.dot(d))
        return dist, d / dr.maximum(dist, 1e-10)
    a = dr.abs(d)
    if metric == "MANHATTAN":
        return a.sum(), ti.math.sign(d)
    dist = a.max()  # CHEBYCHEV: the gradient goes to the first largest component
    grad = d * 0.0
    taken = ti.Bool(False)
    for k in range(len(d)):
        hit = (a[k] == dist) & ~taken
        grad[k] = dr.select(hit, ti.math.sign(d[k]), 0.0)
        taken = taken | hit
    return dist, grad


def _cells(c, dim: int):
    cf = dr.floor(c)
    return cf, [ti.Int32(cf[k]) for k in range(dim)], c - cf


def f1_2d(c, rand, metric: str):
    """Single-octave F1 at c (vec2): distance, colour, feature position, d dist/d c, d dist/d rand, d pos/d rand."""
    cf, ci, local = _cells(c, 2)
    best = ti.Float(3.4e38)
    bo = [ti.Int32(0), ti.Int32(0)]
    bp = local * 0.0
    bh = local * 0.0
    for j in range(-1, 2):
        for i in range(-1, 2):
            h = _pcg2(ci[0] + i, ci[1] + j)
            pp = ti.math.vec2(float(i), float(j)) + h * rand
            d, _ = _metric(pp - local, metric)
            win = d < best
            best = dr.select(win, d, best)
            bo = [dr.select(win, ti.Int32(i), bo[0]), dr.select(win, ti.Int32(j), bo[1])]
            bp = dr.select(win, pp, bp)
            bh = dr.select(win, h, bh)
    col = _pcg3(ci[0] + bo[0], ci[1] + bo[1], ti.Int32(0))
    _, gd = _metric(bp - local, metric)
    return best, col, bp + cf, -gd, gd.dot(bh), bh


def f1_3d(c, rand, metric: str):
    """3D counterpart of `f1_2d` (Blender walks z outermost, x innermost)."""
    cf, ci, local = _cells(c, 3)
    best = ti.Float(3.4e38)
    bo = [ti.Int32(0)] * 3
    bp = local * 0.0
    bh = local * 0.0
    for k in range(-1, 2):
        for j in range(-1, 2):
            for i in range(-1, 2):
                h = _pcg3(ci[0] + i, ci[1] + j, ci[2] + k)
                pp = ti.math.vec3(float(i), float(j), float(k)) + h * rand
                d, _ = _metric(pp - local, metric)
                win = d < best
                best = dr.select(win, d, best)
                bo = [dr.select(win, ti.Int32(o), b) for o, b in zip((i, j, k), bo)]
                bp = dr.select(win, pp, bp)
                bh = dr.select(win, h, bh)
    col = _pcg3(ci[0] + bo[0], ci[1] + bo[1], ci[2] + bo[2])
    _, gd = _metric(bp - local, metric)
    return best, col, bp + cf, -gd, gd.dot(bh), bh


def edge_2d(c, rand):
    """Single-octave Distance to Edge (euclidean, vec2): distance, d/d c, d/d randomness."""
    cf, ci, local = _cells(c, 2)
    cells = []
    best = ti.Float(3.4e38)
    vc = local * 0.0
    hc = local * 0.0
    for j in range(-1, 2):
        for i in range(-1, 2):
            h = _pcg2(ci[0] + i, ci[1] + j)
            v = ti.math.vec2(float(i), float(j)) + h * rand - local
            cells.append((h, v))
            d = v.dot(v)
            win = d < best
            best = dr.select(win, d, best)
            vc = dr.select(win, v, vc)
            hc = dr.select(win, h, hc)
    m = ti.Float(3.4e38)
    gl = local * 0.0
    gr = ti.Float(0.0)
    for h, v in cells:
        e = v - vc
        ee = e.dot(e)
        ln = dr.sqrt(ee)
        nrm = e / ln
        de = ((vc + v) / 2.0).dot(nrm)
        win = (ee > 0.0001) & (de < m)
        m = dr.select(win, de, m)
        gl = dr.select(win, -nrm, gl)
        dedr = h - hc
        dn = (dedr - nrm * nrm.dot(dedr)) / ln
        gr = dr.select(win, ((hc + h) / 2.0).dot(nrm) + ((vc + v) / 2.0).dot(dn), gr)
    return m, gl, gr
