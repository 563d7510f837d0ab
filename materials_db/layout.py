"""Map layout shared by the node-by-node evaluator and the fused compiler: which UV rectangle a map covers and the
UV size of one of its texels. A leaf module (stdlib only), so both may import it without importing each other."""

from __future__ import annotations

UVRect = tuple[float, float, float, float]
UNIT_RECT: UVRect = (0.0, 0.0, 1.0, 1.0)  # (u0, v0, width, height): the tile [0, 1]^2


def texel_size(resolution: int | tuple[int, int], uv_rect: UVRect = UNIT_RECT) -> float:
    """Mean UV size of one texel of a map: the default `bump_texel` (the map is Cycles' NORMAL bake at its size)."""
    h, w = (resolution, resolution) if isinstance(resolution, int) else resolution
    return 0.5 * (float(uv_rect[2]) / w + float(uv_rect[3]) / h)
