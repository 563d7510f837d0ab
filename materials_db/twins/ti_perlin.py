"""Fused taichi kernels for Blender's Perlin noise: value and analytic spatial gradient in one pass per point.

Hashing dominates the plain-torch twin (dozens of int64 tensor ops per lattice corner per octave); one fused
per-point kernel removes that. Gradients reach torch through `PerlinSigned`, an autograd Function whose backward
multiplies the upstream gradient by the kernel's d noise / d position, so everything around the noise (scale,
distortion, octave weights, lacunarity) stays ordinary differentiable torch. Arithmetic follows Blender's float32
order of operations, so values agree with the torch twin and with Blender to float rounding.
"""

# no `from __future__ import annotations`: taichi reads the annotations as objects

import contextlib
import os
import sys

# taichi prints a banner and "Starting on arch" to stdout; stdout may carry the pipeline's JSONL event stream.
os.environ.setdefault("ENABLE_TAICHI_HEADER_PRINT", "False")

import taichi as ti  # noqa: E402
import torch  # noqa: E402

_ARCH: list = [None]


def ensure_init(device: torch.device) -> None:
    """Initialise taichi once for the device's kind (re-initialises if the kind changes)."""
    arch = ti.cuda if device.type == "cuda" else ti.cpu
    if _ARCH[0] is None and ti.lang.impl.get_runtime().prog is not None:
        # someone else in this process already initialised taichi: share it rather than reset their state
        current = ti.lang.impl.current_cfg().arch
        _ARCH[0] = ti.cuda if current == ti.cuda else ti.cpu
    if _ARCH[0] is not arch:
        with contextlib.redirect_stdout(sys.stderr):
            ti.init(arch=arch, default_fp=ti.f32, default_ip=ti.i32, offline_cache=True, log_level=ti.WARN,
                    advanced_optimization=os.environ.get("PHOTO2SCENE_TI_ADVOPT", "0") == "1",
                    fast_math=os.environ.get("PHOTO2SCENE_TI_FASTMATH", "0") == "1",
                    cpu_max_num_threads=max(1, torch.get_num_threads()))
        _ARCH[0] = arch


@ti.func
def _rot(x, k: ti.template()):
    return (x << k) | (x >> (32 - k))


@ti.func
def _final(a, b, c):
    c ^= b
    c -= _rot(b, 14)
    a ^= c
    a -= _rot(c, 11)
    b ^= a
    b -= _rot(a, 25)
    c ^= b
    c -= _rot(b, 16)
    a ^= c
    a -= _rot(c, 4)
    b ^= a
    b -= _rot(a, 14)
    c ^= b
    c -= _rot(b, 24)
    return c


@ti.func
def _hash2(kx, ky):
    a = ti.u32(0xDEADBEEF + (2 << 2) + 13)
    b = a
    c = a
    b += ti.cast(ky, ti.u32)
    a += ti.cast(kx, ti.u32)
    return _final(a, b, c)


@ti.func
def _hash3(kx, ky, kz):
    a = ti.u32(0xDEADBEEF + (3 << 2) + 13)
    b = a
    c = a
    c += ti.cast(kz, ti.u32)
    b += ti.cast(ky, ti.u32)
    a += ti.cast(kx, ti.u32)
    return _final(a, b, c)


@ti.func
def _g3(h_in):
    h = h_in & 15
    u = ti.math.vec3(1.0, 0.0, 0.0) if h < 8 else ti.math.vec3(0.0, 1.0, 0.0)
    vt = ti.math.vec3(1.0, 0.0, 0.0) if (h == 12 or h == 14) else ti.math.vec3(0.0, 0.0, 1.0)
    v = ti.math.vec3(0.0, 1.0, 0.0) if h < 4 else vt
    su = -1.0 if (h & 1) != 0 else 1.0
    sv = -1.0 if (h & 2) != 0 else 1.0
    return su * u + sv * v


@ti.func
def _g2(h_in):
    h = h_in & 7
    u = ti.math.vec2(1.0, 0.0) if h < 4 else ti.math.vec2(0.0, 1.0)
    v = ti.math.vec2(0.0, 2.0) if h < 4 else ti.math.vec2(2.0, 0.0)
    su = -1.0 if (h & 1) != 0 else 1.0
    sv = -1.0 if (h & 2) != 0 else 1.0
    return su * u + sv * v


@ti.func
def _fade(t):
    return t * t * t * (t * (t * 6.0 - 15.0) + 10.0)


@ti.func
def _dfade(t):
    return 30.0 * t * t * (t - 1.0) * (t - 1.0)


@ti.func
def _floorfrac(x):
    i = ti.cast(x, ti.i32) - (1 if x < 0 else 0)
    return i, x - ti.cast(i, ti.f32)


@ti.func
def _lattice3(q):
    """Corner dot products and gradient vectors of the 3D lattice cell around q (Blender's order)."""
    X, fx = _floorfrac(q[0])
    Y, fy = _floorfrac(q[1])
    Z, fz = _floorfrac(q[2])
    vals = ti.Vector([0.0] * 8)
    grads = ti.Matrix([[0.0] * 3 for _ in range(8)])
    for k in ti.static(range(8)):
        i, j, l = k & 1, (k >> 1) & 1, (k >> 2) & 1
        g = _g3(_hash3(X + i, Y + j, Z + l))
        vals[k] = g[0] * (fx - i) + g[1] * (fy - j) + g[2] * (fz - l)
        grads[k, 0] = g[0]
        grads[k, 1] = g[1]
        grads[k, 2] = g[2]
    return fx, fy, fz, vals, grads


@ti.func
def _lerp3(vals, u, v, w):
    x1 = 1.0 - u
    y1 = 1.0 - v
    z1 = 1.0 - w
    return z1 * (y1 * (vals[0] * x1 + vals[1] * u) + v * (vals[2] * x1 + vals[3] * u)) + w * (
        y1 * (vals[4] * x1 + vals[5] * u) + v * (vals[6] * x1 + vals[7] * u))


@ti.func
def perlin3(q):
    """perlin_signed value at q (vec3), without the gradient (the fused compiler's forward pass)."""
    fx, fy, fz, vals, grads = _lattice3(q)
    return _lerp3(vals, _fade(fx), _fade(fy), _fade(fz)) * 0.9820


@ti.func
def _lerp2(a0, a1, a2, a3, s, t):
    """Bilinear interpolation of the 4 corners (a0 at s=t=0, a1 at s=1, a2 at t=1, a3 at s=t=1)."""
    return (1.0 - t) * (a0 * (1.0 - s) + a1 * s) + t * (a2 * (1.0 - s) + a3 * s)


@ti.func
def _perlin3_vg(q):
    """perlin_signed value and gradient at q (vec3).

    d/dx of the trilinear blend = dfade(fx) x (the yz-blend of the corner differences along x) + the xyz-blend of
    the corner gradients' x components (likewise for y and z): ~half the arithmetic of a per-corner sum."""
    fx, fy, fz, vals, grads = _lattice3(q)
    u = _fade(fx)
    v = _fade(fy)
    w = _fade(fz)
    r = _lerp3(vals, u, v, w)
    gx = _lerp3(ti.Vector([grads[k, 0] for k in ti.static(range(8))]), u, v, w)
    gy = _lerp3(ti.Vector([grads[k, 1] for k in ti.static(range(8))]), u, v, w)
    gz = _lerp3(ti.Vector([grads[k, 2] for k in ti.static(range(8))]), u, v, w)
    gx += _dfade(fx) * _lerp2(vals[1] - vals[0], vals[3] - vals[2], vals[5] - vals[4], vals[7] - vals[6], v, w)
    gy += _dfade(fy) * _lerp2(vals[2] - vals[0], vals[3] - vals[1], vals[6] - vals[4], vals[7] - vals[5], u, w)
    gz += _dfade(fz) * _lerp2(vals[4] - vals[0], vals[5] - vals[1], vals[6] - vals[2], vals[7] - vals[3], u, v)
    return r * 0.9820, ti.math.vec3(gx, gy, gz) * 0.9820


@ti.func
def _lattice2(q):
    X, fx = _floorfrac(q[0])
    Y, fy = _floorfrac(q[1])
    vals = ti.Vector([0.0] * 4)
    grads = ti.Matrix([[0.0] * 2 for _ in range(4)])
    for k in ti.static(range(4)):
        i, j = k & 1, (k >> 1) & 1
        g = _g2(_hash2(X + i, Y + j))
        vals[k] = g[0] * (fx - i) + g[1] * (fy - j)
        grads[k, 0] = g[0]
        grads[k, 1] = g[1]
    return fx, fy, vals, grads


@ti.func
def perlin2(q):
    """perlin_signed value at q (vec2), without the gradient."""
    fx, fy, vals, grads = _lattice2(q)
    u = _fade(fx)
    v = _fade(fy)
    x1 = 1.0 - u
    return ((1.0 - v) * (vals[0] * x1 + vals[1] * u) + v * (vals[2] * x1 + vals[3] * u)) * 0.6616


@ti.func
def _perlin2_vg(q):
    """perlin_signed value and gradient at q (vec2) (the bilinear counterpart of `_perlin3_vg`)."""
    fx, fy, vals, grads = _lattice2(q)
    u = _fade(fx)
    v = _fade(fy)
    x1 = 1.0 - u
    r = (1.0 - v) * (vals[0] * x1 + vals[1] * u) + v * (vals[2] * x1 + vals[3] * u)
    gx = _lerp2(grads[0, 0], grads[1, 0], grads[2, 0], grads[3, 0], u, v)
    gy = _lerp2(grads[0, 1], grads[1, 1], grads[2, 1], grads[3, 1], u, v)
    gx += _dfade(fx) * ((1.0 - v) * (vals[1] - vals[0]) + v * (vals[3] - vals[2]))
    gy += _dfade(fy) * ((1.0 - u) * (vals[2] - vals[0]) + u * (vals[3] - vals[1]))
    return r * 0.6616, ti.math.vec2(gx, gy) * 0.6616


@ti.kernel
def _perlin3(p: ti.types.ndarray(dtype=ti.f32, ndim=2), out: ti.types.ndarray(dtype=ti.f32, ndim=1),
             dout: ti.types.ndarray(dtype=ti.f32, ndim=2)):
    for n in range(p.shape[0]):
        r, g = _perlin3_vg(ti.math.vec3(p[n, 0], p[n, 1], p[n, 2]))
        out[n] = r
        dout[n, 0] = g[0]
        dout[n, 1] = g[1]
        dout[n, 2] = g[2]


@ti.kernel
def _perlin2(p: ti.types.ndarray(dtype=ti.f32, ndim=2), out: ti.types.ndarray(dtype=ti.f32, ndim=1),
             dout: ti.types.ndarray(dtype=ti.f32, ndim=2)):
    for n in range(p.shape[0]):
        r, g = _perlin2_vg(ti.math.vec2(p[n, 0], p[n, 1]))
        out[n] = r
        dout[n, 0] = g[0]
        dout[n, 1] = g[1]


@ti.func
def _fbm_point(p, n: ti.i32, rmd: ti.f32, r: ti.f32, lac: ti.f32, normalize: ti.i32, vg: ti.template()):
    """Blender's perlin_fbm at p plus d/dp, d/droughness, d/dlacunarity (same float op order as Blender)."""
    fscale = 1.0
    amp = 1.0
    maxamp = 0.0
    total = 0.0
    d_amp_r = 0.0
    d_max_r = 0.0
    d_sum_r = 0.0
    d_fs_l = 0.0
    d_sum_l = 0.0
    gp = p * 0.0
    for _ in range(n + 1):
        t, gt = vg(fscale * p)
        total += t * amp
        d_sum_r += t * d_amp_r
        d_sum_l += amp * gt.dot(p) * d_fs_l
        gp += amp * fscale * gt
        maxamp += amp
        d_max_r += d_amp_r
        d_amp_r = d_amp_r * r + amp
        amp *= r
        d_fs_l = d_fs_l * lac + fscale
        fscale *= lac
    value = 0.0
    dr = 0.0
    dl = 0.0
    dp = gp * 0.0
    if rmd != 0.0:
        t, gt = vg(fscale * p)
        total2 = total + t * amp
        d_sum2_r = d_sum_r + t * d_amp_r
        d_sum2_l = d_sum_l + amp * gt.dot(p) * d_fs_l
        gp2 = gp + amp * fscale * gt
        if normalize != 0:
            m2 = maxamp + amp
            dm2 = d_max_r + d_amp_r
            a = 0.5 * total / maxamp + 0.5
            b = 0.5 * total2 / m2 + 0.5
            value = (1 - rmd) * a + rmd * b
            dr = (1 - rmd) * 0.5 * (d_sum_r / maxamp - total * d_max_r / (maxamp * maxamp)) + rmd * 0.5 * (
                d_sum2_r / m2 - total2 * dm2 / (m2 * m2))
            dl = (1 - rmd) * 0.5 * d_sum_l / maxamp + rmd * 0.5 * d_sum2_l / m2
            dp = (1 - rmd) * 0.5 * gp / maxamp + rmd * 0.5 * gp2 / m2
        else:
            value = (1 - rmd) * total + rmd * total2
            dr = (1 - rmd) * d_sum_r + rmd * d_sum2_r
            dl = (1 - rmd) * d_sum_l + rmd * d_sum2_l
            dp = (1 - rmd) * gp + rmd * gp2
    else:
        if normalize != 0:
            value = 0.5 * total / maxamp + 0.5
            dr = 0.5 * (d_sum_r / maxamp - total * d_max_r / (maxamp * maxamp))
            dl = 0.5 * d_sum_l / maxamp
            dp = 0.5 * gp / maxamp
        else:
            value = total
            dr = d_sum_r
            dl = d_sum_l
            dp = gp
    return value, dp, dr, dl


@ti.func
def fbm_vg(p, n: ti.template(), rmd: ti.template(), r, lac, normalize: ti.template(), vg: ti.template()):
    """`_fbm_point` with compile-time octave count, remainder and normalisation (the fused compiler's forward
    pass when gradients are wanted): value, d/dp, d/droughness, d/dlacunarity. The constants make the branches
    on them fold away at compile time."""
    return _fbm_point(p, n, rmd, r, lac, normalize, vg)


@ti.func
def fbm_value(p, n: ti.template(), rmd: ti.template(), r, lac, normalize: ti.template(), noise: ti.template()):
    """perlin_fbm value only (same float op order as `_fbm_point`); n, rmd, normalize are compile-time constants.

    The fused material compiler's forward pass uses this; its backward pass uses `_fbm_point` for the derivatives.
    """
    fscale = 1.0
    amp = 1.0
    maxamp = 0.0
    total = 0.0
    for _ in range(n + 1):
        t = noise(fscale * p)
        total += t * amp
        maxamp += amp
        amp *= r
        fscale *= lac
    value = 0.0
    if ti.static(rmd != 0.0):
        t = noise(fscale * p)
        total2 = total + t * amp
        if ti.static(normalize):
            a = 0.5 * total / maxamp + 0.5
            b = 0.5 * total2 / (maxamp + amp) + 0.5
            value = (1 - rmd) * a + rmd * b
        else:
            value = (1 - rmd) * total + rmd * total2
    else:
        if ti.static(normalize):
            value = 0.5 * total / maxamp + 0.5
        else:
            value = total
    return value


@ti.kernel
def _fbm3(p: ti.types.ndarray(dtype=ti.f32, ndim=2), n: ti.i32, rmd: ti.f32, r: ti.f32, lac: ti.f32,
          normalize: ti.i32, out: ti.types.ndarray(dtype=ti.f32, ndim=2)):
    for k in range(p.shape[0]):
        q = ti.math.vec3(p[k, 0], p[k, 1], p[k, 2])
        v, dp, dr, dl = _fbm_point(q, n, rmd, r, lac, normalize, _perlin3_vg)
        out[k, 0] = v
        out[k, 1] = dp[0]
        out[k, 2] = dp[1]
        out[k, 3] = dp[2]
        out[k, 4] = dr
        out[k, 5] = dl


@ti.kernel
def _fbm2(p: ti.types.ndarray(dtype=ti.f32, ndim=2), n: ti.i32, rmd: ti.f32, r: ti.f32, lac: ti.f32,
          normalize: ti.i32, out: ti.types.ndarray(dtype=ti.f32, ndim=2)):
    for k in range(p.shape[0]):
        q = ti.math.vec2(p[k, 0], p[k, 1])
        v, dp, dr, dl = _fbm_point(q, n, rmd, r, lac, normalize, _perlin2_vg)
        out[k, 0] = v
        out[k, 1] = dp[0]
        out[k, 2] = dp[1]
        out[k, 4] = dr
        out[k, 5] = dl


class Fbm(torch.autograd.Function):
    """Blender's perlin_fbm(p, detail, roughness, lacunarity, normalize) fused in one taichi kernel per point.

    Differentiable in p (..., 2|3), roughness and lacunarity (0-d tensors); detail is a Python float.
    """

    @staticmethod
    def forward(ctx, p, roughness, lacunarity, detail: float, normalize: bool):
        ensure_init(p.device)
        shape = p.shape
        dim = shape[-1]
        flat = p.detach().reshape(-1, dim).to(torch.float32).contiguous()
        out = torch.zeros(flat.shape[0], 6, dtype=torch.float32, device=p.device)
        n = int(detail)
        rmd = float(detail) - float(n)
        kern = _fbm3 if dim == 3 else _fbm2
        kern(flat, n, rmd, float(roughness), float(lacunarity), int(bool(normalize)), out)
        if p.device.type == "cuda":
            ti.sync()
        ctx.save_for_backward(out[:, 1:1 + dim].reshape(shape), out[:, 4].reshape(shape[:-1]),
                              out[:, 5].reshape(shape[:-1]))
        return out[:, 0].reshape(shape[:-1]).clone()

    @staticmethod
    def backward(ctx, g):
        dp, dr, dl = ctx.saved_tensors
        gp = g.unsqueeze(-1) * dp if ctx.needs_input_grad[0] else None
        gr = (g * dr).sum() if ctx.needs_input_grad[1] else None
        gl = (g * dl).sum() if ctx.needs_input_grad[2] else None
        return gp, gr, gl, None, None


class PerlinSigned(torch.autograd.Function):
    """perlin_signed(p) for p (..., 2|3): taichi forward (value + gradient), backward = upstream * gradient."""

    @staticmethod
    def forward(ctx, p: torch.Tensor) -> torch.Tensor:
        ensure_init(p.device)
        shape = p.shape
        flat = p.detach().reshape(-1, shape[-1]).to(torch.float32).contiguous()
        out = torch.empty(flat.shape[0], dtype=torch.float32, device=p.device)
        dout = torch.empty_like(flat)
        (_perlin3 if shape[-1] == 3 else _perlin2)(flat, out, dout)
        if p.device.type == "cuda":
            ti.sync()
        ctx.save_for_backward(dout.reshape(shape))
        return out.reshape(shape[:-1])

    @staticmethod
    def backward(ctx, grad_out: torch.Tensor) -> torch.Tensor:
        (dout,) = ctx.saved_tensors
        return grad_out.unsqueeze(-1) * dout


@ti.func
def _abs_sign(s):
    return ti.abs(s), ti.select(s > 0, 1.0, ti.select(s < 0, -1.0, 0.0))


@ti.func
def _in01(x):
    return ti.select((x >= 0.0) & (x <= 1.0), 1.0, 0.0)


@ti.func
def ridged_vg(p, n: ti.template(), r, lac, off, gain, vg: ti.template()):
    """Blender's ridged multifractal at p (noise.ridged_multi_fractal's op order) with d/dp, d/droughness,
    d/dlacunarity, d/doffset, d/dgain, carried forward through the octaves (jit_perlin.ridged_vg line by line)."""
    s, g = vg(p)
    a_abs, sg = _abs_sign(s)
    a = off - a_abs
    sig = a * a
    ds_p = g * (-sg * 2.0 * a)
    ds_l = 0.0
    ds_o = 2.0 * a
    ds_g = 0.0
    value = sig
    dv_p = ds_p
    dv_r = 0.0
    dv_l = 0.0
    dv_o = ds_o
    dv_g = 0.0
    pwr = r
    dpwr = 1.0
    pk = p
    dpk_l = p * 0.0
    lk = 1.0
    for _ in ti.static(range(1, n + 1)):
        dpk_l = dpk_l * lac + pk
        pk = pk * lac
        lk = lk * lac
        wraw = sig * gain
        w = ti.min(ti.max(wraw, 0.0), 1.0)
        pas = _in01(wraw)
        dw_p = ds_p * (gain * pas)
        dw_l = ds_l * gain * pas
        dw_o = ds_o * gain * pas
        dw_g = (ds_g * gain + sig) * pas
        s2, g2 = vg(pk)
        a_abs2, sg2 = _abs_sign(s2)
        a2 = off - a_abs2
        aa = a2 * a2
        sig = aa * w
        da = -sg2 * 2.0 * a2
        ds_p = g2 * (da * lk * w) + dw_p * aa
        ds_l = da * g2.dot(dpk_l) * w + aa * dw_l
        ds_o = 2.0 * a2 * w + aa * dw_o
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
