"""Wave, Brick, Checker and Gradient texture nodes, after Blender 5.0 (svm/*.h and the field implementations)."""

from __future__ import annotations

import math

import torch

from .noise import fbm


def _s(x):
    """Per-point float input -> broadcastable against (..., 3)."""
    return x.unsqueeze(-1) if torch.is_tensor(x) and x.dim() > 0 else x


def wave_texture(
    vector: torch.Tensor,
    scale=5.0,
    distortion=0.0,
    detail=2.0,
    detail_scale=1.0,
    detail_roughness=0.5,
    phase_offset=0.0,
    wave_type: str = "BANDS",
    bands_direction: str = "X",
    rings_direction: str = "X",
    wave_profile: str = "SIN",
) -> dict[str, torch.Tensor]:
    """The Wave Texture node: {'Fac', 'Color'}."""
    p = vector * _s(scale)
    # Blender nudges unit coordinates to avoid precision issues on exact integers.
    p = (p + 0.000001) * 0.999999
    if wave_type == "BANDS":
        if bands_direction == "X":
            n = p[..., 0] * 20.0
        elif bands_direction == "Y":
            n = p[..., 1] * 20.0
        elif bands_direction == "Z":
            n = p[..., 2] * 20.0
        else:  # DIAGONAL
            n = (p[..., 0] + p[..., 1] + p[..., 2]) * 10.0
    else:
        rp = p
        if rings_direction == "X":
            rp = p * torch.tensor([0.0, 1.0, 1.0])
        elif rings_direction == "Y":
            rp = p * torch.tensor([1.0, 0.0, 1.0])
        elif rings_direction == "Z":
            rp = p * torch.tensor([1.0, 1.0, 0.0])
        n = torch.sqrt(torch.clamp((rp * rp).sum(-1), min=1e-20)) * 20.0
    n = n + phase_offset
    if torch.is_tensor(distortion) or distortion != 0.0:
        d = min(max(float(detail), 0.0), 15.0)
        n = n + distortion * (fbm(p * _s(detail_scale), d, detail_roughness, 2.0, True) * 2.0 - 1.0)
    if wave_profile == "SIN":
        fac = 0.5 + 0.5 * torch.sin(n - math.pi / 2)
    elif wave_profile == "SAW":
        n = n / (2 * math.pi)
        fac = n - torch.floor(n).detach()
    else:  # TRI
        n = n / (2 * math.pi)
        fac = torch.abs(n - torch.floor(n + 0.5).detach()) * 2.0
    return {"Fac": fac, "Color": fac.unsqueeze(-1).expand(*fac.shape, 3)}


def checker_texture(vector: torch.Tensor, color1=(0.8, 0.8, 0.8), color2=(0.2, 0.2, 0.2), scale=5.0):
    """The Checker Texture node: {'Fac', 'Color'}. Piecewise constant: gradients reach only the colours."""
    p = (vector * _s(scale) + 0.000001) * 0.999999
    xi = torch.floor(p).detach().to(torch.int64).abs() % 2
    fac = ((xi[..., 0] == xi[..., 1]).to(torch.int64) == xi[..., 2]).to(torch.float32)
    c1 = torch.as_tensor(color1, dtype=torch.float32)
    c2 = torch.as_tensor(color2, dtype=torch.float32)
    color = torch.where(fac.unsqueeze(-1) == 1.0, c1.expand(*fac.shape, 3), c2.expand(*fac.shape, 3))
    return {"Fac": fac, "Color": color}


GRADIENT_TYPES = ("LINEAR", "QUADRATIC", "EASING", "DIAGONAL", "SPHERICAL", "QUADRATIC_SPHERE", "RADIAL")


def gradient_texture(vector: torch.Tensor, gradient_type: str = "LINEAR"):
    """The Gradient Texture node: {'Fac', 'Color'}, Fac clamped to [0, 1]."""
    x, y = vector[..., 0], vector[..., 1]
    if gradient_type == "LINEAR":
        f = x
    elif gradient_type == "QUADRATIC":
        r = torch.clamp(x, min=0.0)
        f = r * r
    elif gradient_type == "EASING":
        r = torch.clamp(x, 0.0, 1.0)
        t = r * r
        f = 3.0 * t - 2.0 * t * r
    elif gradient_type == "DIAGONAL":
        f = (x + y) * 0.5
    elif gradient_type == "RADIAL":
        f = torch.atan2(y, x) / (2 * math.pi) + 0.5
    else:
        length = torch.sqrt(torch.clamp((vector * vector).sum(-1), min=1e-20))
        r = torch.clamp(0.999999 - length, min=0.0)
        f = r * r if gradient_type == "QUADRATIC_SPHERE" else r
    f = torch.clamp(f, 0.0, 1.0)
    return {"Fac": f, "Color": f.unsqueeze(-1).expand(*f.shape, 3)}


def _brick_noise(n: torch.Tensor) -> torch.Tensor:
    """Blender's integer brick noise, in uint32 arithmetic carried by int64."""
    n = (n + 1013) & 0x7FFFFFFF
    n = (n >> 13) ^ n
    inner = (n * n) & 0xFFFFFFFF
    inner = (inner * 60493 + 19990303) & 0xFFFFFFFF
    nn = (n * inner + 1376312589) & 0x7FFFFFFF
    return 0.5 * (nn.to(torch.float32) / 1073741824.0)


def brick_texture(
    vector: torch.Tensor,
    color1=(0.8, 0.8, 0.8),
    color2=(0.2, 0.2, 0.2),
    mortar=(0.0, 0.0, 0.0),
    scale=5.0,
    mortar_size=0.02,
    mortar_smooth=0.1,
    bias=0.0,
    brick_width=0.5,
    row_height=0.25,
    offset=0.5,
    offset_frequency: int = 2,
    squash=1.0,
    squash_frequency: int = 2,
):
    """The Brick Texture node: {'Fac' (mortar), 'Color'}."""
    p = vector * _s(scale)
    x, y = p[..., 0], p[..., 1]
    rownum = torch.floor(y / row_height).detach()
    bw = brick_width
    off = torch.zeros_like(x)
    if offset_frequency and squash_frequency:
        rn = rownum.to(torch.int64)
        # C's % keeps the dividend's sign; only "is zero" matters here, which both conventions agree on.
        bw = torch.where(rn % squash_frequency != 0, torch.ones_like(x), torch.ones_like(x) * squash) * brick_width
        off = torch.where(rn % offset_frequency != 0, torch.zeros_like(x), bw * offset)
    bricknum = torch.floor((x + off) / bw).detach()
    bx = (x + off) - bw * bricknum
    by = y - row_height * rownum
    key = ((rownum.to(torch.int64) << 16) + (bricknum.to(torch.int64) & 0xFFFF)) & 0xFFFFFFFF
    tint = torch.clamp(_brick_noise(key) + bias, 0.0, 1.0)
    min_dist = torch.minimum(torch.minimum(bx, by), torch.minimum(bw - bx, row_height - by))
    if isinstance(mortar_smooth, (int, float)) and mortar_smooth == 0.0:
        fac = torch.where(min_dist >= mortar_size, torch.zeros_like(x), torch.ones_like(x))
    else:
        md = 1.0 - min_dist / mortar_size
        ms = mortar_smooth if torch.is_tensor(mortar_smooth) else torch.tensor(float(mortar_smooth))
        t = torch.clamp(md / torch.clamp(ms, min=1e-12), 0.0, 1.0)
        smooth = t * t * (3.0 - 2.0 * t)
        inner = torch.where(md < ms, smooth, torch.ones_like(x))
        inner = torch.where(ms == 0.0, torch.ones_like(x), inner)
        fac = torch.where(min_dist >= mortar_size, torch.zeros_like(x), inner)
    c1 = torch.as_tensor(color1, dtype=torch.float32)
    c2 = torch.as_tensor(color2, dtype=torch.float32)
    cm = torch.as_tensor(mortar, dtype=torch.float32)
    t = tint.unsqueeze(-1)
    brick = torch.where((fac != 1.0).unsqueeze(-1), (1.0 - t) * c1 + t * c2, c1.expand(*x.shape, 3))
    f = fac.unsqueeze(-1)
    color = (1.0 - f) * brick + f * cm
    return {"Fac": fac, "Color": color}
