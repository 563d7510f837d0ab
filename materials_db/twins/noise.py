"""Perlin noise and the Noise Texture node, after Blender 5.0's blenlib noise.cc (used by shaders and fields).

Only the continuous part (the fractional position inside a lattice cell) carries gradients; the lattice hash is
piecewise constant, as in Blender.
"""

from __future__ import annotations

import torch

from . import LazyOutputs
from .backend import core_backend
from .hashing import hash_float_to_float, hash_uint, lattice_table

# Blender's remapping of raw Perlin output to about [-1, 1], per dimension (from OSL).
_SCALE = {2: 0.6616, 3: 0.9820}

# 3D gradient table of Perlin's improved noise, as Blender's noise_grad(hash, x, y, z) selects it (h = hash & 15).
_G3 = torch.tensor(
    [
        [1, 1, 0], [-1, 1, 0], [1, -1, 0], [-1, -1, 0],
        [1, 0, 1], [-1, 0, 1], [1, 0, -1], [-1, 0, -1],
        [0, 1, 1], [0, -1, 1], [0, 1, -1], [0, -1, -1],
        [1, 1, 0], [0, -1, 1], [-1, 1, 0], [0, -1, -1],
    ],
    dtype=torch.float32,
)
# 2D: h = hash & 7; u = h<4 ? x : y; v = 2*(h<4 ? y : x); signs from bits 0 and 1.
_G2 = torch.tensor(
    [[1, 2], [-1, 2], [1, -2], [-1, -2], [2, 1], [2, -1], [-2, 1], [-2, -1]], dtype=torch.float32
)


def _fix_g3() -> torch.Tensor:
    """Build the 3D table from Blender's selection rule (keeps the rule, not a hand-typed table, authoritative)."""
    rows = []
    for h in range(16):
        # components as coefficient vectors over (x, y, z)
        u = [1, 0, 0] if h < 8 else [0, 1, 0]
        vt = [1, 0, 0] if h in (12, 14) else [0, 0, 1]
        v = [0, 1, 0] if h < 4 else vt
        su = -1 if h & 1 else 1
        sv = -1 if h & 2 else 1
        rows.append([su * u[i] + sv * v[i] for i in range(3)])
    return torch.tensor(rows, dtype=torch.float32)


def _fix_g2() -> torch.Tensor:
    rows = []
    for h in range(8):
        u = [1, 0] if h < 4 else [0, 1]
        v = [0, 2] if h < 4 else [2, 0]
        su = -1 if h & 1 else 1
        sv = -1 if h & 2 else 1
        rows.append([su * u[i] + sv * v[i] for i in range(2)])
    return torch.tensor(rows, dtype=torch.float32)


_G3 = _fix_g3()
_G2 = _fix_g2()


def _fade(t: torch.Tensor) -> torch.Tensor:
    return t * t * t * (t * (t * 6.0 - 15.0) + 10.0)


def _floor_fraction(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    # Blender: i = int(x) - (x < 0); f = x - i. Equals floor except at negative integers (where f becomes 1.0).
    i = torch.trunc(x) - (x < 0).to(x.dtype)
    return i.detach(), x - i.detach()


def perlin_signed(p: torch.Tensor) -> torch.Tensor:
    """Blender's perlin_signed for 2D (p[...,2]) or 3D (p[...,3]) positions, about [-1, 1]."""
    if core_backend() == "taichi" and bool((p.detach().abs() < 100000.0).all()):
        # lazy: loads Taichi, which importing this module does not
        from .ti_perlin import PerlinSigned  # lazy: importing taichi starts its runtime; only its backend needs it

        return PerlinSigned.apply(p)
    return perlin_signed_torch(p)


def perlin_signed_torch(p: torch.Tensor) -> torch.Tensor:
    """The plain-torch Perlin core (reference for the taichi kernel; used when taichi is unavailable)."""
    dim = p.shape[-1]
    # Blender repeats the noise every 1e5 units for precision (math::mod = fmod); no-op for ordinary coordinates.
    big = p.detach().abs() >= 100000.0
    if bool(big.any()):
        p = torch.where(big, torch.fmod(p, 100000.0) + 0.5 * (p.detach().abs() >= 1000000.0).to(p.dtype), p)
    ints, fracs = zip(*[_floor_fraction(p[..., k]) for k in range(dim)])
    ints = [i.to(torch.int64) for i in ints]
    table = _G3 if dim == 3 else _G2
    grad = lattice_table(list(ints), lambda c: table.to(p.device)[hash_uint(*c) & (15 if dim == 3 else 7)])
    fades = [_fade(f) for f in fracs]
    if dim == 2:
        fx, fy = fracs
        u, v = fades

        def corner(i: int, j: int) -> torch.Tensor:
            g = grad([i, j])
            return g[..., 0] * (fx - i) + g[..., 1] * (fy - j)

        x1 = 1.0 - u
        r = (1.0 - v) * (corner(0, 0) * x1 + corner(1, 0) * u) + v * (corner(0, 1) * x1 + corner(1, 1) * u)
    elif dim == 3:
        fx, fy, fz = fracs
        u, v, w = fades

        def corner(i: int, j: int, k: int) -> torch.Tensor:
            g = grad([i, j, k])
            return g[..., 0] * (fx - i) + g[..., 1] * (fy - j) + g[..., 2] * (fz - k)

        x1, y1, z1 = 1.0 - u, 1.0 - v, 1.0 - w
        r = z1 * (y1 * (corner(0, 0, 0) * x1 + corner(1, 0, 0) * u) + v * (corner(0, 1, 0) * x1 + corner(1, 1, 0) * u)) + w * (
            y1 * (corner(0, 0, 1) * x1 + corner(1, 0, 1) * u) + v * (corner(0, 1, 1) * x1 + corner(1, 1, 1) * u)
        )
    else:
        raise ValueError(f"perlin noise twin supports 2D and 3D, not {dim}D")
    return r * _SCALE[dim]


def random_offset(seed: float, dim: int, device=None) -> torch.Tensor:
    """Blender's random_floatN_offset(seed): per-axis offsets in [100, 200] used to decorrelate noises."""
    s = torch.tensor([seed], dtype=torch.float32, device=device)
    vals = [100.0 + hash_float_to_float(s, torch.tensor([float(k)], device=device)) * 100.0 for k in range(dim)]
    return torch.cat(vals)


def fbm(p: torch.Tensor, detail: float, roughness, lacunarity, normalize: bool) -> torch.Tensor:
    """perlin_fbm: octaves summed with amplitude *= roughness, frequency *= lacunarity; fractional detail blends."""
    detail = float(detail)
    lac_f = float(lacunarity.detach()) if torch.is_tensor(lacunarity) else float(lacunarity)
    if core_backend() == "taichi" and bool((p.detach().abs() * lac_f ** int(detail + 1) < 100000.0).all()):
        # lazy: loads Taichi, which importing this module does not
        from .ti_perlin import Fbm

        r = roughness if torch.is_tensor(roughness) else torch.tensor(float(roughness))
        lac = lacunarity if torch.is_tensor(lacunarity) else torch.tensor(float(lacunarity))
        if r.dim() == 0 and lac.dim() == 0:
            return Fbm.apply(p, r, lac, detail, normalize)
    return _fbm_torch(p, detail, roughness, lacunarity, normalize)


def _fbm_torch(p: torch.Tensor, detail: float, roughness, lacunarity, normalize: bool) -> torch.Tensor:
    detail = float(detail)
    fscale, amp = 1.0, 1.0
    maxamp, total = 0.0, 0.0
    for _ in range(int(detail) + 1):
        t = perlin_signed(fscale * p)
        total = total + t * amp
        maxamp = maxamp + amp
        amp = amp * roughness
        fscale = fscale * lacunarity
    rmd = detail - float(int(detail))
    if rmd != 0.0:
        t = perlin_signed(fscale * p)
        total2 = total + t * amp
        if normalize:
            a = 0.5 * total / maxamp + 0.5
            b = 0.5 * total2 / (maxamp + amp) + 0.5
            return (1 - rmd) * a + rmd * b
        return (1 - rmd) * total + rmd * total2
    return 0.5 * total / maxamp + 0.5 if normalize else total


def multi_fractal(p, detail, roughness, lacunarity):
    value, pwr = 1.0, 1.0
    for _ in range(int(detail) + 1):
        value = value * (pwr * perlin_signed(p) + 1.0)
        pwr = pwr * roughness
        p = p * lacunarity
    rmd = detail - float(int(detail))
    if rmd != 0.0:
        value = value * (rmd * pwr * perlin_signed(p) + 1.0)
    return value


def hetero_terrain(p, detail, roughness, lacunarity, offset):
    pwr = roughness
    value = offset + perlin_signed(p)
    p = p * lacunarity
    for _ in range(1, int(detail) + 1):
        value = value + (perlin_signed(p) + offset) * pwr * value
        pwr = pwr * roughness
        p = p * lacunarity
    rmd = detail - float(int(detail))
    if rmd != 0.0:
        value = value + rmd * ((perlin_signed(p) + offset) * pwr * value)
    return value


def hybrid_multi_fractal(p, detail, roughness, lacunarity, offset, gain):
    pwr = 1.0
    value = torch.zeros(p.shape[:-1], dtype=p.dtype, device=p.device)
    weight = torch.ones_like(value)
    for _ in range(int(detail) + 1):
        # Blender stops per point once weight <= 0.001; masking reproduces that without a data-dependent loop.
        alive = weight > 0.001
        weight = torch.clamp(weight, max=1.0)
        signal = (perlin_signed(p) + offset) * pwr
        pwr = pwr * roughness
        value = torch.where(alive, value + weight * signal, value)
        weight = torch.where(alive, weight * gain * signal, weight)
        p = p * lacunarity
        # once dead, stay dead
        weight = torch.where(alive, weight, torch.zeros_like(weight))
    rmd = detail - float(int(detail))
    if rmd != 0.0:
        alive = weight > 0.001
        w = torch.clamp(weight, max=1.0)
        signal = (perlin_signed(p) + offset) * pwr
        value = torch.where(alive, value + rmd * w * signal, value)
    return value


def ridged_multi_fractal(p, detail, roughness, lacunarity, offset, gain):
    pwr = roughness
    signal = offset - perlin_signed(p).abs()
    signal = signal * signal
    value = signal
    for _ in range(1, int(detail) + 1):
        p = p * lacunarity
        weight = torch.clamp(signal * gain, 0.0, 1.0)
        signal = offset - perlin_signed(p).abs()
        signal = signal * signal * weight
        value = value + signal * pwr
        pwr = pwr * roughness
    return value


NOISE_TYPES = ("FBM", "MULTIFRACTAL", "HYBRID_MULTIFRACTAL", "RIDGED_MULTIFRACTAL", "HETERO_TERRAIN")


def _select(p, noise_type, detail, roughness, lacunarity, offset, gain, normalize):
    if noise_type == "FBM":
        return fbm(p, detail, roughness, lacunarity, normalize)
    if noise_type == "MULTIFRACTAL":
        return multi_fractal(p, detail, roughness, lacunarity)
    if noise_type == "HYBRID_MULTIFRACTAL":
        return hybrid_multi_fractal(p, detail, roughness, lacunarity, offset, gain)
    if noise_type == "RIDGED_MULTIFRACTAL":
        return ridged_multi_fractal(p, detail, roughness, lacunarity, offset, gain)
    if noise_type == "HETERO_TERRAIN":
        return hetero_terrain(p, detail, roughness, lacunarity, offset)
    raise ValueError(f"unknown noise_type {noise_type!r}")


def noise_texture(
    vector: torch.Tensor,
    scale=5.0,
    detail=2.0,
    roughness=0.5,
    lacunarity=2.0,
    offset=0.0,
    gain=1.0,
    distortion=0.0,
    dimensions: str = "3D",
    noise_type: str = "FBM",
    normalize: bool = True,
) -> dict[str, torch.Tensor]:
    """The Noise Texture node: {'Fac': (...,), 'Color': (..., 3)}. `detail` must be a Python/0-d scalar."""
    dim = {"2D": 2, "3D": 3}.get(dimensions)
    if dim is None:
        raise ValueError(f"noise twin supports 2D and 3D, not {dimensions}")
    detail = min(max(float(detail), 0.0), 15.0)
    roughness = torch.clamp(torch.as_tensor(roughness, dtype=torch.float32), min=0.0) if torch.is_tensor(roughness) else max(float(roughness), 0.0)
    scale = _expand(scale)
    p = vector[..., :dim] * scale
    distortion_t = distortion if torch.is_tensor(distortion) else float(distortion)
    if torch.is_tensor(distortion_t) or distortion_t != 0.0:
        seeds = (0.0, 1.0) if dim == 2 else (0.0, 1.0, 2.0)
        d = _expand(distortion_t)
        p = p + torch.stack(
            [perlin_signed(p + random_offset(s, dim, p.device)) for s in seeds], -1
        ) * d
    fac = _select(p, noise_type, detail, roughness, lacunarity, offset, gain, normalize)
    s1, s2 = (2.0, 3.0) if dim == 2 else (3.0, 4.0)

    def color() -> torch.Tensor:
        g = _select(p + random_offset(s1, dim, p.device), noise_type, detail, roughness, lacunarity, offset, gain, normalize)
        b = _select(p + random_offset(s2, dim, p.device), noise_type, detail, roughness, lacunarity, offset, gain, normalize)
        return torch.stack([fac, g, b], -1)

    return LazyOutputs({"Fac": fac}, {"Color": color})


def _expand(x):
    """Scalar or per-point float input -> something that broadcasts against (..., dim) coordinates."""
    if torch.is_tensor(x) and x.dim() > 0:
        return x.unsqueeze(-1)
    return x
