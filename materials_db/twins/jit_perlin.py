"""Blender's Perlin noise and fBm for the fused compiler's Dr.Jit target: the per-texel functions of ti_perlin.py
(same names, arguments and float op order), written over Dr.Jit lanes so that one call traces the value (and the
analytic derivatives) for every texel at once. Data-dependent branches become selects; octave loops unroll."""

from __future__ import annotations

import drjit as dr

from . import jit_ti as ti
from .hashing import lookup3_final
from .jit_ti import math as _tm


def _hash2(kx, ky):
    init = 0xDEADBEEF + (2 << 2) + 13
    a = ti.cast(kx, ti.u32) + init
    b = ti.cast(ky, ti.u32) + init
    return lookup3_final(a, b, ti.UInt32(init))


def _hash3(kx, ky, kz):
    init = 0xDEADBEEF + (3 << 2) + 13
    a = ti.cast(kx, ti.u32) + init
    b = ti.cast(ky, ti.u32) + init
    c = ti.cast(kz, ti.u32) + init
    return lookup3_final(a, b, c)


def _g3(h_in):
    """Blender's 3D gradient of a hash, as its three components (each -1, 0 or 1)."""
    h = h_in & 15
    su = dr.select((h & 1) != 0, -1.0, 1.0)
    sv = dr.select((h & 2) != 0, -1.0, 1.0)
    lo8, lo4 = h < 8, h < 4
    v_is_x = ~lo4 & ((h == 12) | (h == 14))
    ux = dr.select(lo8, 1.0, 0.0)
    vx = dr.select(v_is_x, 1.0, 0.0)
    vy = dr.select(lo4, 1.0, 0.0)
    vz = dr.select(~lo4 & ~v_is_x, 1.0, 0.0)
    return su * ux + sv * vx, su * (1.0 - ux) + sv * vy, su * 0.0 + sv * vz


def _g2(h_in):
    h = h_in & 7
    su = dr.select((h & 1) != 0, -1.0, 1.0)
    sv = dr.select((h & 2) != 0, -1.0, 1.0)
    lo = h < 4
    return su * dr.select(lo, 1.0, 0.0) + sv * dr.select(lo, 0.0, 2.0), \
        su * dr.select(lo, 0.0, 1.0) + sv * dr.select(lo, 2.0, 0.0)


def _fade(t):
    return t * t * t * (t * (t * 6.0 - 15.0) + 10.0)


def _dfade(t):
    return 30.0 * t * t * (t - 1.0) * (t - 1.0)


def _floorfrac(x):
    """Blender's floor_fraction: int(x) - (x < 0), and x minus that."""
    i = ti.Int32(x) - dr.select(x < 0, ti.Int32(1), ti.Int32(0))
    return i, x - ti.Float(i)


def _lattice3(q):
    X, fx = _floorfrac(q[0])
    Y, fy = _floorfrac(q[1])
    Z, fz = _floorfrac(q[2])
    vals, grads = [], []
    for k in range(8):
        i, j, l = k & 1, (k >> 1) & 1, (k >> 2) & 1
        g0, g1, g2 = _g3(_hash3(X + i, Y + j, Z + l))
        vals.append(g0 * (fx - i) + g1 * (fy - j) + g2 * (fz - l))
        grads.append((g0, g1, g2))
    return fx, fy, fz, vals, grads


def _lerp3(vals, u, v, w):
    x1 = 1.0 - u
    y1 = 1.0 - v
    z1 = 1.0 - w
    return z1 * (y1 * (vals[0] * x1 + vals[1] * u) + v * (vals[2] * x1 + vals[3] * u)) + w * (
        y1 * (vals[4] * x1 + vals[5] * u) + v * (vals[6] * x1 + vals[7] * u))


def _lerp2(a0, a1, a2, a3, s, t):
    return (1.0 - t) * (a0 * (1.0 - s) + a1 * s) + t * (a2 * (1.0 - s) + a3 * s)


def perlin3(q):
    fx, fy, fz, vals, _ = _lattice3(q)
    return _lerp3(vals, _fade(fx), _fade(fy), _fade(fz)) * 0.9820


def _perlin3_vg(q):
    fx, fy, fz, vals, grads = _lattice3(q)
    u, v, w = _fade(fx), _fade(fy), _fade(fz)
    r = _lerp3(vals, u, v, w)
    gx = _lerp3([g[0] for g in grads], u, v, w)
    gy = _lerp3([g[1] for g in grads], u, v, w)
    gz = _lerp3([g[2] for g in grads], u, v, w)
    gx += _dfade(fx) * _lerp2(vals[1] - vals[0], vals[3] - vals[2], vals[5] - vals[4], vals[7] - vals[6], v, w)
    gy += _dfade(fy) * _lerp2(vals[2] - vals[0], vals[3] - vals[1], vals[6] - vals[4], vals[7] - vals[5], u, w)
    gz += _dfade(fz) * _lerp2(vals[4] - vals[0], vals[5] - vals[1], vals[6] - vals[2], vals[7] - vals[3], u, v)
    return r * 0.9820, _tm.vec3(gx * 0.9820, gy * 0.9820, gz * 0.9820)


def _lattice2(q):
    X, fx = _floorfrac(q[0])
    Y, fy = _floorfrac(q[1])
    vals, grads = [], []
    for k in range(4):
        i, j = k & 1, (k >> 1) & 1
        g0, g1 = _g2(_hash2(X + i, Y + j))
        vals.append(g0 * (fx - i) + g1 * (fy - j))
        grads.append((g0, g1))
    return fx, fy, vals, grads


def perlin2(q):
    fx, fy, vals, _ = _lattice2(q)
    u, v = _fade(fx), _fade(fy)
    x1 = 1.0 - u
    return ((1.0 - v) * (vals[0] * x1 + vals[1] * u) + v * (vals[2] * x1 + vals[3] * u)) * 0.6616


def _perlin2_vg(q):
    fx, fy, vals, grads = _lattice2(q)
    u, v = _fade(fx), _fade(fy)
    x1 = 1.0 - u
    r = (1.0 - v) * (vals[0] * x1 + vals[1] * u) + v * (vals[2] * x1 + vals[3] * u)
    gx = _lerp2(grads[0][0], grads[1][0], grads[2][0], grads[3][0], u, v)
    gy = _lerp2(grads[0][1], grads[1][1], grads[2][1], grads[3][1], u, v)
    gx += _dfade(fx) * ((1.0 - v) * (vals[1] - vals[0]) + v * (vals[3] - vals[2]))
    gy += _dfade(fy) * ((1.0 - u) * (vals[2] - vals[0]) + u * (vals[3] - vals[1]))
    return r * 0.6616, _tm.vec2(gx * 0.6616, gy * 0.6616)


def fbm_vg(p, n: int, rmd: float, r, lac, normalize: bool, vg):
    """perlin_fbm at p plus d/dp, d/droughness, d/dlacunarity (ti_perlin._fbm_point, unrolled)."""
    fscale, amp, maxamp, total = 1.0, 1.0, 0.0, 0.0
    d_amp_r = d_max_r = d_sum_r = d_fs_l = d_sum_l = 0.0
    gp = p * 0.0
    for _ in range(n + 1):
        t, gt = vg(p * fscale)
        total = total + t * amp
        d_sum_r = d_sum_r + t * d_amp_r
        d_sum_l = d_sum_l + amp * gt.dot(p) * d_fs_l
        gp = gp + gt * (amp * fscale)
        maxamp = maxamp + amp
        d_max_r = d_max_r + d_amp_r
        d_amp_r = d_amp_r * r + amp
        amp = amp * r
        d_fs_l = d_fs_l * lac + fscale
        fscale = fscale * lac
    if rmd != 0.0:
        t, gt = vg(p * fscale)
        total2 = total + t * amp
        d_sum2_r = d_sum_r + t * d_amp_r
        d_sum2_l = d_sum_l + amp * gt.dot(p) * d_fs_l
        gp2 = gp + gt * (amp * fscale)
        if normalize:
            m2 = maxamp + amp
            dm2 = d_max_r + d_amp_r
            a = 0.5 * total / maxamp + 0.5
            b = 0.5 * total2 / m2 + 0.5
            value = (1 - rmd) * a + rmd * b
            dr_ = (1 - rmd) * 0.5 * (d_sum_r / maxamp - total * d_max_r / (maxamp * maxamp)) + rmd * 0.5 * (
                d_sum2_r / m2 - total2 * dm2 / (m2 * m2))
            dl = (1 - rmd) * 0.5 * d_sum_l / maxamp + rmd * 0.5 * d_sum2_l / m2
            dp = gp * ((1 - rmd) * 0.5) / maxamp + gp2 * (rmd * 0.5) / m2
        else:
            value = (1 - rmd) * total + rmd * total2
            dr_ = (1 - rmd) * d_sum_r + rmd * d_sum2_r
            dl = (1 - rmd) * d_sum_l + rmd * d_sum2_l
            dp = gp * (1 - rmd) + gp2 * rmd
    elif normalize:
        value = 0.5 * total / maxamp + 0.5
        dr_ = 0.5 * (d_sum_r / maxamp - total * d_max_r / (maxamp * maxamp))
        dl = 0.5 * d_sum_l / maxamp
        dp = gp * 0.5 / maxamp
    else:
        value, dr_, dl, dp = total, d_sum_r, d_sum_l, gp
    return value, dp, dr_, dl


def fbm_value(p, n: int, rmd: float, r, lac, normalize: bool, noise):
    """perlin_fbm value only (ti_perlin.fbm_value, unrolled)."""
    fscale, amp, maxamp, total = 1.0, 1.0, 0.0, 0.0
    for _ in range(n + 1):
        t = noise(p * fscale)
        total = total + t * amp
        maxamp = maxamp + amp
        amp = amp * r
        fscale = fscale * lac
    if rmd != 0.0:
        t = noise(p * fscale)
        total2 = total + t * amp
        if normalize:
            return (1 - rmd) * (0.5 * total / maxamp + 0.5) + rmd * (0.5 * total2 / (maxamp + amp) + 0.5)
        return (1 - rmd) * total + rmd * total2
    return 0.5 * total / maxamp + 0.5 if normalize else total


def _abs_sign(s):
    """|s| and torch's d|s|/ds (0 at 0)."""
    return dr.abs(s), dr.select(s > 0, 1.0, dr.select(s < 0, -1.0, 0.0))


def _in01(x):
    return dr.select((x >= 0.0) & (x <= 1.0), 1.0, 0.0)


def ridged_vg(p, n: int, r, lac, off, gain, vg):
    """Blender's ridged multifractal at p (noise.ridged_multi_fractal's op order) with d/dp, d/droughness,
    d/dlacunarity, d/doffset, d/dgain, carried forward through the octaves."""
    s, g = vg(p)
    a_abs, sg = _abs_sign(s)
    a = off - a_abs
    sig = a * a
    ds_p = g * (-sg * 2.0 * a)  # d signal / d p (p_0 = p)
    ds_l = 0.0
    ds_o = 2.0 * a
    ds_g = 0.0
    value, dv_p, dv_r, dv_l, dv_o, dv_g = sig, ds_p, 0.0, 0.0, ds_o, 0.0
    pwr, dpwr = r, 1.0
    pk, dpk_l, lk = p, p * 0.0, 1.0  # octave position, its d/dlacunarity, its d/dp (a scalar)
    for _ in range(1, n + 1):
        dpk_l = dpk_l * lac + pk
        pk = pk * lac
        lk = lk * lac
        wraw = sig * gain
        w = dr.clip(wraw, 0.0, 1.0)
        pas = _in01(wraw)
        dw_p, dw_l, dw_o, dw_g = ds_p * (gain * pas), ds_l * gain * pas, ds_o * gain * pas, (ds_g * gain + sig) * pas
        s, g = vg(pk)
        a_abs, sg = _abs_sign(s)
        a = off - a_abs
        aa = a * a
        sig = aa * w
        da = -sg * 2.0 * a  # d(a*a) / ds
        ds_p = g * (da * lk * w) + dw_p * aa
        ds_l = da * g.dot(dpk_l) * w + aa * dw_l
        ds_o = 2.0 * a * w + aa * dw_o
        ds_g = aa * dw_g
        value = value + sig * pwr
        dv_p = dv_p + ds_p * pwr
        dv_r = dv_r + sig * dpwr
        dv_l = dv_l + ds_l * pwr
        dv_o = dv_o + ds_o * pwr
        dv_g = dv_g + ds_g * pwr
        dpwr = dpwr * r + pwr
        pwr = pwr * r
    return value, dv_p, dv_r, dv_l, dv_o, dv_g
