"""The fused compiler's per-texel helpers (fused_funcs.py: Brick, min/max/clamp subgradients, texel uv) for its
Dr.Jit target: same names, arguments and float op order, over Dr.Jit lanes; branches become selects."""

from __future__ import annotations

import drjit as dr

from . import jit_ti as ti


def min_vjp(a, b, g):
    ga = ti.select(a < b, g, ti.select(a == b, 0.5 * g, 0.0))
    gb = ti.select(b < a, g, ti.select(a == b, 0.5 * g, 0.0))
    return ga, gb


def max_vjp(a, b, g):
    ga = ti.select(a > b, g, ti.select(a == b, 0.5 * g, 0.0))
    gb = ti.select(b > a, g, ti.select(a == b, 0.5 * g, 0.0))
    return ga, gb


def clamp01(x):
    return ti.min(ti.max(x, 0.0), 1.0)


def in01(x):
    if ti.is_num(x):
        return 1.0 if 0.0 <= x <= 1.0 else 0.0
    return dr.select((x >= 0.0) & (x <= 1.0), 1.0, 0.0)


def _all(*conds):
    """Conjunction of masks and Python bools."""
    out = True
    for c in conds:
        if isinstance(c, bool):
            if not c:
                return False
        else:
            out = c if out is True else out & c
    return out


def _brick_noise(key):
    n = (key + 1013) & 0x7FFFFFFF
    n = (n >> 13) ^ n
    inner = n * n
    inner = inner * 60493 + 19990303
    nn = (n * inner + 1376312589) & 0x7FFFFFFF
    return 0.5 * (ti.Float(ti.cast(nn, ti.i32)) / 1073741824.0)


def _brick_geom(v, scale, bw0, rh, offset, offf, squash, sqf):
    p = v * scale
    x = p[0]
    y = p[1]
    rownum = dr.floor(y / rh)
    bwf = 1.0
    on = 0.0
    if offf != 0 and sqf != 0:
        rn = ti.Int32(rownum)
        bwf = ti.select(rn % sqf != 0, 1.0, squash)
        on = ti.select(rn % offf != 0, 0.0, 1.0)
    bw = bwf * bw0
    off = ti.select(on != 0.0, bw * offset, 0.0)
    bricknum = dr.floor((x + off) / bw)
    bx = (x + off) - bw * bricknum
    by = y - rh * rownum
    key = (ti.cast(ti.Int32(rownum), ti.u32) << 16) + (ti.cast(ti.Int32(bricknum), ti.u32) & 0xFFFF)
    return x, y, rownum, bricknum, bwf, bw, on, bx, by, key


def _brick_fac(min_dist, msize, ms):
    md = 1.0 - min_dist / msize
    msc = ti.max(ms, 1e-12)
    t = clamp01(md / msc)
    smooth = t * t * (3.0 - 2.0 * t)
    inner = ti.select(md < ms, smooth, 1.0)
    inner = ti.select(ms == 0.0, 1.0, inner)
    return ti.select(min_dist >= msize, 0.0, inner), md, msc, t


def brick(v, c1, c2, cm, scale, msize, ms, bias, bw0, rh, offset, offf, squash, sqf):
    """The Brick Texture node: (Fac, Color)."""
    x, y, rownum, bricknum, bwf, bw, on, bx, by, key = _brick_geom(v, scale, bw0, rh, offset, offf, squash, sqf)
    tint = clamp01(_brick_noise(key) + bias)
    min_dist = ti.min(ti.min(bx, by), ti.min(bw - bx, rh - by))
    fac, md, msc, t = _brick_fac(min_dist, msize, ms)
    brick_c = dr.select(fac != 1.0, (1.0 - tint) * c1 + tint * c2, c1)
    color = (1.0 - fac) * brick_c + fac * cm
    return fac, color


def brick_vjp(v, c1, c2, cm, scale, msize, ms, bias, bw0, rh, g_fac, g_col, offset, offf, squash, sqf):
    """Adjoints of `brick` w.r.t. (v, c1, c2, cm, scale, mortar size, mortar smooth, bias, brick width, row height)."""
    x, y, rownum, bricknum, bwf, bw, on, bx, by, key = _brick_geom(v, scale, bw0, rh, offset, offf, squash, sqf)
    traw = _brick_noise(key) + bias
    tint = clamp01(traw)
    m1 = ti.min(bx, by)
    m2 = ti.min(bw - bx, rh - by)
    min_dist = ti.min(m1, m2)
    fac, md, msc, t = _brick_fac(min_dist, msize, ms)
    mixed = fac != 1.0
    brick_c = dr.select(mixed, (1.0 - tint) * c1 + tint * c2, c1)
    g_brick = (1.0 - fac) * g_col
    g_cm = fac * g_col
    g_f = g_fac + g_col.dot(cm - brick_c)
    g_c1 = dr.select(mixed, (1.0 - tint) * g_brick, g_brick)
    g_c2 = dr.select(mixed, tint * g_brick, g_brick * 0.0)
    g_tint = dr.select(mixed, g_brick.dot(c2 - c1), 0.0)
    g_bias = g_tint * in01(traw)
    smooth = _all(min_dist < msize, ms != 0.0, md < ms)
    g_ratio = g_f * 6.0 * t * (1.0 - t) * in01(md / msc)
    g_md = g_ratio / msc
    g_ms = ti.select(smooth, ti.select(ms >= 1e-12, -g_ratio * md / (msc * msc), 0.0), 0.0)
    g_mind = ti.select(smooth, -g_md / msize, 0.0)
    g_msize = ti.select(smooth, g_md * min_dist / (msize * msize), 0.0)
    g_m1, g_m2 = min_vjp(m1, m2, g_mind)
    g_bx, g_by = min_vjp(bx, by, g_m1)
    g_a, g_b = min_vjp(bw - bx, rh - by, g_m2)
    g_bx -= g_a
    g_by -= g_b
    g_bw = g_a - g_bx * bricknum + g_bx * offset * on
    g_rh = g_b - g_by * rownum
    g_v = ti.math.vec3(g_bx * scale, g_by * scale, ti.Float(0.0))
    g_scale = g_bx * v[0] + g_by * v[1]
    return g_v, g_c1, g_c2, g_cm, g_scale, g_msize, g_ms, g_bias, g_bw * bwf, g_rh


def texel_uv(n, H: int, W: int):
    """UV of texel `n` of an H x W map (row-major, row 0 at the top: v near 1), at the texel centre."""
    row = n // W
    col = n - row * W
    return (ti.Float(col) + 0.5) / float(W), 1.0 - (ti.Float(row) + 0.5) / float(H)
