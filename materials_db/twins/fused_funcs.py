"""taichi per-texel functions of the fused material compiler that are too long to emit inline: Brick and the
torch-style subgradients of min/clamp. (Perlin, fBm and Voronoi come from ti_perlin.py / ti_voronoi.py.)

Each follows its torch twin in patterns.py step by step (same float32 op order, so values agree to rounding), and
each `*_vjp` returns the adjoints torch autograd would give (ties of torch.minimum split the gradient in half,
torch.clamp passes it on the closed interval).
"""

# no `from __future__ import annotations`: taichi reads the annotations as objects

import taichi as ti


@ti.func
def min_vjp(a, b, g):
    """Adjoints of torch.minimum(a, b) for upstream g (equal inputs share it, as torch does)."""
    ga = ti.select(a < b, g, ti.select(a == b, 0.5 * g, 0.0))
    gb = ti.select(b < a, g, ti.select(a == b, 0.5 * g, 0.0))
    return ga, gb


@ti.func
def max_vjp(a, b, g):
    """Adjoints of torch.maximum(a, b)."""
    ga = ti.select(a > b, g, ti.select(a == b, 0.5 * g, 0.0))
    gb = ti.select(b > a, g, ti.select(a == b, 0.5 * g, 0.0))
    return ga, gb


@ti.func
def clamp01(x):
    return ti.min(ti.max(x, 0.0), 1.0)


@ti.func
def in01(x):
    """1 where torch.clamp(x, 0, 1) passes its gradient on, else 0."""
    return ti.select((x >= 0.0) & (x <= 1.0), 1.0, 0.0)


@ti.func
def _brick_noise(key):
    n = (key + ti.u32(1013)) & ti.u32(0x7FFFFFFF)
    n = (n >> 13) ^ n
    inner = n * n
    inner = inner * ti.u32(60493) + ti.u32(19990303)
    nn = (n * inner + ti.u32(1376312589)) & ti.u32(0x7FFFFFFF)
    return 0.5 * (ti.cast(ti.cast(nn, ti.i32), ti.f32) / 1073741824.0)


@ti.func
def _brick_geom(v, scale, bw0, rh, offset: ti.template(), offf: ti.template(), squash: ti.template(),
                sqf: ti.template()):
    p = v * scale
    x = p[0]
    y = p[1]
    rownum = ti.floor(y / rh)
    bwf = 1.0
    on = 0.0
    if ti.static(offf != 0 and sqf != 0):
        rn = ti.cast(rownum, ti.i32)
        bwf = ti.select(rn % sqf != 0, 1.0, squash)
        on = ti.select(rn % offf != 0, 0.0, 1.0)
    bw = bwf * bw0
    off = ti.select(on != 0.0, bw * offset, 0.0)
    bricknum = ti.floor((x + off) / bw)
    bx = (x + off) - bw * bricknum
    by = y - rh * rownum
    key = (ti.cast(ti.cast(rownum, ti.i32), ti.u32) << 16) + (ti.cast(ti.cast(bricknum, ti.i32), ti.u32) & ti.u32(0xFFFF))
    return x, y, rownum, bricknum, bwf, bw, on, bx, by, key


@ti.func
def _brick_fac(min_dist, msize, ms):
    md = 1.0 - min_dist / msize
    msc = ti.max(ms, 1e-12)
    t = clamp01(md / msc)
    smooth = t * t * (3.0 - 2.0 * t)
    inner = ti.select(md < ms, smooth, 1.0)
    inner = ti.select(ms == 0.0, 1.0, inner)
    return ti.select(min_dist >= msize, 0.0, inner), md, msc, t


@ti.func
def brick(v, c1, c2, cm, scale, msize, ms, bias, bw0, rh, offset: ti.template(), offf: ti.template(),
          squash: ti.template(), sqf: ti.template()):
    """The Brick Texture node at one point: (Fac, Color)."""
    x, y, rownum, bricknum, bwf, bw, on, bx, by, key = _brick_geom(v, scale, bw0, rh, offset, offf, squash, sqf)
    tint = clamp01(_brick_noise(key) + bias)
    min_dist = ti.min(ti.min(bx, by), ti.min(bw - bx, rh - by))
    fac, md, msc, t = _brick_fac(min_dist, msize, ms)
    brick_c = c1
    if fac != 1.0:
        brick_c = (1.0 - tint) * c1 + tint * c2
    color = (1.0 - fac) * brick_c + fac * cm
    return fac, color


@ti.func
def brick_vjp(v, c1, c2, cm, scale, msize, ms, bias, bw0, rh, g_fac, g_col, offset: ti.template(),
              offf: ti.template(), squash: ti.template(), sqf: ti.template()):
    """Adjoints of `brick` w.r.t. (v, c1, c2, cm, scale, mortar size, mortar smooth, bias, brick width, row height)."""
    x, y, rownum, bricknum, bwf, bw, on, bx, by, key = _brick_geom(v, scale, bw0, rh, offset, offf, squash, sqf)
    traw = _brick_noise(key) + bias
    tint = clamp01(traw)
    m1 = ti.min(bx, by)
    m2 = ti.min(bw - bx, rh - by)
    min_dist = ti.min(m1, m2)
    fac, md, msc, t = _brick_fac(min_dist, msize, ms)
    brick_c = c1
    if fac != 1.0:
        brick_c = (1.0 - tint) * c1 + tint * c2
    g_brick = (1.0 - fac) * g_col
    g_cm = fac * g_col
    g_f = g_fac + g_col.dot(cm - brick_c)
    g_c1 = g_brick
    g_c2 = g_brick * 0.0
    g_tint = 0.0
    if fac != 1.0:
        g_c1 = (1.0 - tint) * g_brick
        g_c2 = tint * g_brick
        g_tint = g_brick.dot(c2 - c1)
    g_bias = g_tint * in01(traw)
    g_mind = 0.0
    g_msize = 0.0
    g_ms = 0.0
    if min_dist < msize and ms != 0.0 and md < ms:
        g_ratio = g_f * 6.0 * t * (1.0 - t) * in01(md / msc)
        g_md = g_ratio / msc
        g_ms = ti.select(ms >= 1e-12, -g_ratio * md / (msc * msc), 0.0)
        g_mind = -g_md / msize
        g_msize = g_md * min_dist / (msize * msize)
    g_m1, g_m2 = min_vjp(m1, m2, g_mind)
    g_bx, g_by = min_vjp(bx, by, g_m1)
    g_a, g_b = min_vjp(bw - bx, rh - by, g_m2)
    g_bx -= g_a
    g_by -= g_b
    g_bw = g_a - g_bx * bricknum + g_bx * offset * on
    g_rh = g_b - g_by * rownum
    g_v = ti.math.vec3(g_bx * scale, g_by * scale, 0.0)
    g_scale = g_bx * v[0] + g_by * v[1]
    return g_v, g_c1, g_c2, g_cm, g_scale, g_msize, g_ms, g_bias, g_bw * bwf, g_rh


@ti.func
def texel_uv(n, H, W):
    """UV of texel `n` of an H x W map (row-major, row 0 at the top: v near 1), at the texel centre."""
    row = n // W
    col = n - row * W
    return (ti.cast(col, ti.f32) + 0.5) / ti.cast(W, ti.f32), 1.0 - (ti.cast(row, ti.f32) + 0.5) / ti.cast(H, ti.f32)
