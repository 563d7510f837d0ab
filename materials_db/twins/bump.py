"""The Bump node on a flat UV-mapped surface: height map -> tangent-space normal map.

On a plane whose UV axes are its tangent axes (1 UV unit = `uv_size` metres), Cycles' bump
(normalize(|det| N - distance * sign(det) * surfgrad)) reduces to normalize((-d dh/dx, -d dh/dy, 1)) with the
height gradient taken in world units. The twin differentiates the height map with periodic central differences
on the texel grid (materials are tileable), which matches the analytic gradient to O(texel^2).
"""

from __future__ import annotations

import torch


def bump(height: torch.Tensor, strength=1.0, distance=1.0, invert: bool = False, uv_size: float = 1.0) -> dict:
    """height (H, W) image-oriented (row 0 = top, v decreasing downwards) -> {'Normal': (H, W, 3)} in [-1, 1]."""
    h, w = height.shape[-2:]
    d = -distance if invert else distance
    # texel spacing in world units along u (columns) and v (rows, v grows upwards = towards row 0)
    du = uv_size / w
    dv = uv_size / h
    dh_du = (torch.roll(height, -1, -1) - torch.roll(height, 1, -1)) / (2 * du)
    dh_dv = (torch.roll(height, 1, -2) - torch.roll(height, -1, -2)) / (2 * dv)
    n = torch.stack([-d * dh_du, -d * dh_dv, torch.ones_like(height)], -1)
    n = torch.nn.functional.normalize(n, dim=-1)
    s = torch.clamp(torch.as_tensor(strength, dtype=torch.float32), min=0.0)
    flat = torch.tensor([0.0, 0.0, 1.0])
    n = torch.nn.functional.normalize(s * n + (1.0 - s) * flat, dim=-1)
    return {"Normal": n}
