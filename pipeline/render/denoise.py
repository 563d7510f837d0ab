"""Edge-aware filtering of a path-traced image, guided by what the camera sees (shape ids, normals, depth).

Path-traced rooms are noisy at affordable sample counts, mostly in their smooth indirect light; the photo they are
compared with is denoised (Cycles + OpenImageDenoise in generated cases). A cross-bilateral filter over a small
window averages only pixels of the same shape with similar normal and depth, so edges between surfaces stay
sharp. Texture detail inside a shape is blurred by at most the spatial sigma (a few pixels).
"""

from __future__ import annotations

import numpy as np

from pipeline.core import interrupt


def guide_aovs(mscene, sensor, spp: int = 16) -> dict[str, np.ndarray]:
    """Shape index (0 = nothing), shading normal, depth and texture coordinates (Mitsuba's), averaged over `spp` samples per pixel, and `pure`:
    whether every sample of the pixel saw the same shape. (Mitsuba keeps the spp a render asks for in the
    sensor's sampler: pass a sensor of its own, or render the image first.)

    Why averaged: at one sample per pixel an edge pixel is given to one side at random, and filtering it with
    that side's interior turns anti-aliased silhouettes into jagged, dotted ones."""
    import mitsuba as mi

    integ = mi.load_dict({"type": "aov", "aovs": "i:shape_index,n:sh_normal,d:depth,t:uv"})
    interrupt.check()  # a requested stop before the next native render (core/interrupt.py)
    img = np.array(mi.render(mscene, sensor=sensor, integrator=integ, spp=spp, seed=0))
    ids = img[..., 0]
    pure = np.abs(ids - np.rint(ids)) < 1e-3
    return {"ids": np.rint(ids).astype(int), "pure": pure, "normal": img[..., 1:4], "depth": img[..., 4],
            "uv": img[..., 5:7]}


def bilateral(image: np.ndarray, ids: np.ndarray, normal: np.ndarray, depth: np.ndarray, radius: int = 4,
              sigma_px: float = 2.5, sigma_normal: float = 0.2, sigma_depth: float = 0.05,
              pure: np.ndarray | None = None) -> np.ndarray:
    """Cross-bilateral filter of an HxWx3 image; `sigma_depth` is relative to the depth.

    `pure` (from `guide_aovs`): pixels that saw one shape only. Mixed (edge) pixels take no part in the averages
    of pure ones; they are averaged only with mixed neighbours of similar (averaged) normal and depth, i.e. along
    the same edge."""
    h, w = ids.shape
    if pure is not None:
        ids = np.where(pure, ids, -2)  # -2 matches no shape: mixed pixels form a class of their own
    pad = radius
    img_p = np.pad(image, ((pad, pad), (pad, pad), (0, 0)), mode="edge")
    ids_p = np.pad(ids, pad, mode="constant", constant_values=-1)
    n_p = np.pad(normal, ((pad, pad), (pad, pad), (0, 0)), mode="edge")
    d_p = np.pad(depth, pad, mode="edge")
    acc = np.zeros_like(image, dtype=np.float64)
    wsum = np.zeros((h, w), np.float64)
    rel = np.maximum(depth, 1e-3) * sigma_depth
    for dy in range(-radius, radius + 1):
        for dx in range(-radius, radius + 1):
            sl = (slice(pad + dy, pad + dy + h), slice(pad + dx, pad + dx + w))
            wgt = np.exp(-(dx * dx + dy * dy) / (2 * sigma_px ** 2)) * (ids_p[sl] == ids)
            wgt = wgt * np.exp(-((n_p[sl] - normal) ** 2).sum(-1) / (2 * sigma_normal ** 2))
            wgt = wgt * np.exp(-((d_p[sl] - depth) / rel) ** 2 / 2)
            acc += wgt[..., None] * img_p[sl]
            wsum += wgt
    return (acc / np.maximum(wsum, 1e-9)[..., None]).astype(np.float32)
