"""Texture scale/rotation search by the VGG Gram loss (PSDR-Room 4.4), without a render per candidate.

A textured surface in a crop is (smooth) shading times the texture looked up at the pixel's UV. So per material
one render of its crops with the flat (homogeneous) material gives the shading (divided by the flat albedo and
blurred: shading is smooth, render noise is not), one UV pass gives each pixel's UV, and every (scale, rotation)
candidate is then a texture lookup in torch: candidates are compared noise-free and cost no render. The flat
material is a candidate too (its crop is the blurred shading times its colour); a material stays homogeneous when
that scores best. Crops are compared after dividing each by its mean colour: the pattern is searched here, the
colour is the optimiser's job.
"""

from __future__ import annotations


import numpy as np

from pipeline.render.scene_render import UNIT_RECT, material_uvs
from .crops import CropPair, cut


def bilinear_taps(uv: np.ndarray, scale: float, rotation_deg: float, res_h: int, res_w: int
                  ) -> tuple[np.ndarray, np.ndarray]:
    """The four texels (flat indices into a repeating (res_h, res_w) tile, image oriented) and their bilinear
    weights at UVs (h, w, 2) transformed by R(t)(s uv): (4, h, w) int and (4, h, w) float. They depend on the
    UVs and the transform only, so one set serves every texture of that size (retrieval gathers a whole library
    with it)."""
    u, v = np.moveaxis(material_uvs(uv, scale, rotation_deg), -1, 0)
    x = (np.mod(u, 1.0) * res_w - 0.5)
    y = (np.mod(1.0 - v, 1.0) * res_h - 0.5)  # row 0 is the top of the tile (v near 1)
    x0, y0 = np.floor(x).astype(int), np.floor(y).astype(int)
    fx, fy = x - x0, y - y0
    xs, ys = (np.mod(x0, res_w), np.mod(x0 + 1, res_w)), (np.mod(y0, res_h), np.mod(y0 + 1, res_h))
    index = np.stack([ys[0] * res_w + xs[0], ys[0] * res_w + xs[1], ys[1] * res_w + xs[0], ys[1] * res_w + xs[1]])
    weight = np.stack([(1 - fx) * (1 - fy), fx * (1 - fy), (1 - fx) * fy, fx * fy])
    return index, weight


def lookup(texture, uv: np.ndarray, scale: float, rotation_deg: float):
    """Texture (R, R, 3) torch, image oriented, repeating) at UVs (h, w, 2) transformed by R(t)(s uv): (h, w, 3)."""
    import torch

    index, weight = bilinear_taps(uv, scale, rotation_deg, texture.shape[0], texture.shape[1])
    flat = texture.reshape(-1, texture.shape[-1])
    taps = flat[torch.from_numpy(index.reshape(-1))].reshape(4, *index.shape[1:], texture.shape[-1])
    return (taps * torch.from_numpy(weight[..., None]).to(taps.dtype)).sum(0)


def _blur(img: np.ndarray, sigma: float) -> np.ndarray:
    from scipy.ndimage import gaussian_filter

    return np.stack([gaussian_filter(img[..., k], sigma, mode="nearest") for k in range(img.shape[-1])], -1)


def search(opt, name: str, pairs: list[CropPair], scales: list[float], rotations: list[float], spp: int,
           seed: int = 0, samples: int = 8) -> tuple[dict, float]:
    """Scores {(scale, rotation): Gram loss} of the procedural material `name` and the flat material's score."""
    import torch

    state = opt.states[name]
    flat = state.homogeneous
    h, w = opt.targets.photo.shape[:2]
    opt.renderer.set_uvs(name, 1.0, 0.0)
    with torch.no_grad():
        texture = state.maps(UNIT_RECT)[0]  # one tile: the search compares statistics, `lookup` repeats it
        flat_colour = flat.maps()[0].numpy().astype(float)
    opt.states[name] = flat
    data = []
    try:
        for pair in pairs:
            with torch.no_grad():
                shade = opt.render_crop(pair.render, seed, spp).numpy() / np.maximum(flat_colour, 1e-3)
            shade = _blur(shade, 1.5)
            uvs = []  # several jittered samples per pixel: the lookup is averaged over the pixel like a render
            for k in range(samples):
                uv_aov = opt.renderer.aov(w, h, "uv", seed + k, crop=tuple(pair.render))
                uvs.append(np.stack([uv_aov[..., 0], 1.0 - uv_aov[..., 1]], -1))  # undo the renderer's v flip
            photo = torch.from_numpy(np.ascontiguousarray(cut(opt.targets.photo, pair.photo))).float()
            data.append((torch.from_numpy(shade).float(), uvs, photo))
    finally:
        opt.states[name] = state

    def score(make) -> float:
        values = []
        with torch.no_grad():
            for shade, uvs, photo in data:
                crop = shade * torch.stack([make(uv) for uv in uvs]).mean(0)
                crop = crop / crop.mean((0, 1)).clamp(min=1e-4) * 0.25
                target = photo / photo.mean((0, 1)).clamp(min=1e-4) * 0.25
                values.append(float(opt.vgg.loss(crop[None], target[None])))
        return float(np.mean(values))

    scores = {}
    for s in scales:  # scales at rotation 0, then rotations at the best scale
        scores[(s, 0.0)] = score(lambda uv, s=s: lookup(texture, uv, s, 0.0))
    s_first = min(scores, key=scores.get)[0]
    for r in rotations:
        if (s_first, r) not in scores:
            scores[(s_first, r)] = score(lambda uv, r=r: lookup(texture, uv, s_first, r))
    flat_t = torch.tensor(flat_colour, dtype=torch.float32)
    flat_score = score(lambda uv: flat_t.expand(*uv.shape[:2], 3))
    return scores, flat_score
