"""Per-image features for click segmentation, computed once per image (or crop) and reused by every click.

- colour words: k-means of CIE Lab (+ depth when given) into a small palette; a colour model is then a
  histogram over words, so building one per click is a bincount;
- texture words: k-means of local gradient energies at two scales;
- pairwise weights of the 4-connected grid: contrast-sensitive (Lab, and depth discontinuities when given);
- the graph of the min cut, assembled once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage
from scipy.sparse import csr_matrix

from p2s_common.images import srgb_to_lab

from pipeline.core.resample import resize_area, resize_valid_mean, working_shape
from .graphcut import GridCut


@dataclass
class FeatureParams:
    """Feature settings (offline backend)."""

    size: int = 320
    """Longest side, pixels, of the working resolution clicks are solved at."""
    colour_words: int = 48
    """Palette size of the colour model."""
    texture_words: int = 16
    """Palette size of the texture model."""
    smoothness: float = 6.0
    """Weight of the contrast-sensitive pairwise term (energy units per unit of boundary)."""
    depth_weight: float = 0.5
    """How strongly a depth discontinuity (relative depth step) cuts the pairwise weight; 0 ignores depth."""
    geodesic_base: float = 0.02
    """Geodesic cost of one pixel step inside a smooth region (distance itself, not only edges, separates)."""
    local_contrast: float = 0.0
    """How much geodesic edge costs are normalised by the local (rather than the image's) typical contrast:
    0 = global only; 1 = local only. Dark furniture against dark furniture has small Lab steps everywhere, so
    a global scale lets a click's reach run over all of it."""
    contrast_sigma: float = 6.0
    """Scale (working pixels) of the local typical contrast."""
    seed: int = 0
    """Seed of the k-means initialisations."""


@dataclass
class ImageFeatures:
    """Everything a click needs that depends on the image only (at working resolution)."""

    full_shape: tuple[int, int]  # (H, W) of the image the clicks and masks refer to
    shape: tuple[int, int]  # (h, w) working resolution
    lab: np.ndarray  # h x w x 3
    colour: np.ndarray  # h x w int: colour word
    n_colour: int
    texture: np.ndarray  # h x w int: texture word
    n_texture: int
    cut: GridCut
    geodesic: "csr_matrix"  # 4-connected grid graph with contrast costs, for geodesic distances from clicks
    depth: np.ndarray | None
    offset: tuple[int, int] = (0, 0)  # (row, col) of this crop's top-left in the full image (zoomed crops)
    crop_shape: tuple[int, int] | None = None  # (H, W) of the crop in full-image pixels
    cache: dict = field(default_factory=dict)  # per-click results worth keeping (geodesic maps)

    @property
    def scale(self) -> float:
        """Working pixels per full-image (or crop) pixel."""
        ref = self.crop_shape or self.full_shape
        return self.shape[1] / ref[1]




def kmeans_words(x: np.ndarray, k: int, rng: np.random.Generator, iters: int = 8,
                 sample: int = 6000) -> np.ndarray:
    """Assign each row of x (N, D) to one of k centres found by k-means++ and Lloyd on a subsample."""
    n = len(x)
    sub = x[rng.choice(n, size=min(sample, n), replace=False)]
    centres = [sub[rng.integers(len(sub))]]
    d2 = ((sub - centres[0]) ** 2).sum(1)
    for _ in range(1, k):
        if d2.sum() <= 0:
            break
        centres.append(sub[rng.choice(len(sub), p=d2 / d2.sum())])
        d2 = np.minimum(d2, ((sub - centres[-1]) ** 2).sum(1))
    c = np.array(centres)
    for _ in range(iters):
        lab = _nearest(sub, c)
        counts = np.bincount(lab, minlength=len(c))
        for dim in range(x.shape[1]):
            sums = np.bincount(lab, sub[:, dim], minlength=len(c))
            c[:, dim] = np.where(counts > 0, sums / np.maximum(counts, 1), c[:, dim])
    return _nearest(x, c)


def _nearest(x: np.ndarray, c: np.ndarray) -> np.ndarray:
    d = (x * x).sum(1)[:, None] - 2 * x @ c.T + (c * c).sum(1)[None, :]
    return d.argmin(1)


def compute_features(image: np.ndarray, depth: np.ndarray | None = None, params: FeatureParams | None = None,
                     full_shape: tuple[int, int] | None = None, offset: tuple[int, int] = (0, 0)) -> ImageFeatures:
    """Features of an HxWx3 sRGB image (optionally with an HxW depth map, 0 = unknown)."""
    p = params or FeatureParams()
    rng = np.random.default_rng(p.seed)
    h0, w0 = image.shape[:2]
    size = working_shape(w0, h0, p.size)
    small = resize_area(image.astype(np.float32), size)
    h, w = small.shape[:2]
    lab = srgb_to_lab(small)
    dep = None
    cols = [lab.reshape(-1, 3)]
    if depth is not None and p.depth_weight > 0:
        dep = resize_valid_mean(depth.astype(np.float32), size)
        valid = dep > 0
        if valid.mean() > 0.05:
            fill = np.where(valid, dep, np.median(dep[valid]))
            # log depth scaled so one octave of distance weighs like ~20 Lab units; plane slopes likewise.
            cols.append((np.log2(fill) * 20.0 * p.depth_weight).reshape(-1, 1))
            cols.append((plane_slopes(fill) * 20.0 * p.depth_weight).reshape(-1, 2))
        else:
            dep = None
    colour = kmeans_words(np.concatenate(cols, 1), p.colour_words, rng).reshape(h, w)
    # Texture: local energy of the luminance gradient at two scales, in both directions.
    L = lab[..., 0] / 100.0
    tex = []
    for s in (1.0, 2.5):
        gx = np.abs(ndimage.gaussian_filter(L, s, order=(0, 1)))
        gy = np.abs(ndimage.gaussian_filter(L, s, order=(1, 0)))
        tex += [ndimage.gaussian_filter(gx, 2 * s), ndimage.gaussian_filter(gy, 2 * s)]
    tex_arr = np.stack(tex, -1).reshape(-1, len(tex))
    tex_arr = tex_arr / (tex_arr.std(0, keepdims=True) + 1e-6)
    texture = kmeans_words(tex_arr, p.texture_words, rng).reshape(h, w)
    w_right, w_down = pairwise_weights(lab, dep, p)
    return ImageFeatures(full_shape or (h0, w0), (h, w), lab, colour, p.colour_words, texture, p.texture_words,
                         GridCut(w_right, w_down), geodesic_graph(lab, dep, p), dep, offset,
                         (h0, w0) if full_shape else None)


def plane_slopes(depth: np.ndarray) -> np.ndarray:
    """HxWx2 gradient of inverse depth, normalised by its median and the image height.

    Inverse depth is affine in image coordinates on any plane, so this is constant over a wall or a floor and
    changes at the crease where two surfaces meet: the cue that separates touching surfaces of one colour."""
    inv = 1.0 / np.maximum(depth, 1e-6)
    inv = ndimage.gaussian_filter(inv, 1.0) / max(float(np.median(inv)), 1e-9)
    gy, gx = np.gradient(inv)
    g = np.stack([gx, gy], -1) * depth.shape[0]
    return np.clip(g, -3.0, 3.0).astype(np.float32)


def geodesic_graph(lab: np.ndarray, depth: np.ndarray | None, p: FeatureParams) -> csr_matrix:
    """Grid graph whose edge cost is small inside smooth regions and large across edges.

    Cost = base + (|dLab| / typical |dLab|)^2 on a slightly blurred image: noise and gentle shading cost little,
    a real edge costs a lot, so a click's geodesic neighbourhood follows its region whatever the region's size."""
    smooth = ndimage.gaussian_filter(lab, (1.0, 1.0, 0))
    h, w = lab.shape[:2]
    idx = np.arange(h * w).reshape(h, w)
    dr = np.sqrt(((smooth[:, 1:] - smooth[:, :-1]) ** 2).sum(-1))
    dd = np.sqrt(((smooth[1:, :] - smooth[:-1, :]) ** 2).sum(-1))
    if depth is not None and p.depth_weight > 0:
        filled = np.where(depth > 0, depth, np.median(depth[depth > 0]))
        logd = np.log(filled)
        slope = plane_slopes(filled)
        # Depth steps (occlusions) and slope changes (creases) both lengthen geodesic paths.
        dr = dr + p.depth_weight * (100.0 * np.abs(logd[:, 1:] - logd[:, :-1])
                                    + 20.0 * np.abs(slope[:, 1:] - slope[:, :-1]).sum(-1))
        dd = dd + p.depth_weight * (100.0 * np.abs(logd[1:, :] - logd[:-1, :])
                                    + 20.0 * np.abs(slope[1:, :] - slope[:-1, :]).sum(-1))
    typical = max(float(np.median(np.concatenate([dr.ravel(), dd.ravel()]))), 1e-3)
    if p.local_contrast > 0:
        # Local typical contrast (mean step in a window), floored so flat areas do not turn noise into edges;
        # mixed geometrically with the global one.
        g = np.zeros((h, w), np.float32)
        g[:, :-1] += dr
        g[:-1, :] += dd
        # Steps are clipped before averaging so an edge does not raise its own scale and hide itself.
        local = np.maximum(ndimage.gaussian_filter(np.minimum(g / 2, 1.5 * typical), p.contrast_sigma),
                           0.25 * typical)
        t = typical ** (1 - p.local_contrast) * local ** p.local_contrast
        tr, td = np.maximum(t[:, 1:], t[:, :-1]), np.maximum(t[1:, :], t[:-1, :])
    else:
        tr = td = typical
    cr = p.geodesic_base + (dr / (3 * tr)) ** 2
    cd = p.geodesic_base + (dd / (3 * td)) ** 2
    a = np.concatenate([idx[:, :-1].ravel(), idx[:-1, :].ravel()])
    b = np.concatenate([idx[:, 1:].ravel(), idx[1:, :].ravel()])
    c = np.concatenate([cr.ravel(), cd.ravel()])
    return csr_matrix((np.concatenate([c, c]), (np.concatenate([a, b]), np.concatenate([b, a]))), shape=(h * w, h * w))


def pairwise_weights(lab: np.ndarray, depth: np.ndarray | None, p: FeatureParams) -> tuple[np.ndarray, np.ndarray]:
    """Contrast-sensitive weights gamma * exp(-beta |dLab|^2) (x a depth-step factor) to the right and down."""
    dr = np.zeros(lab.shape[:2], np.float32)
    dd = np.zeros(lab.shape[:2], np.float32)
    dr[:, :-1] = ((lab[:, 1:] - lab[:, :-1]) ** 2).sum(-1)
    dd[:-1, :] = ((lab[1:, :] - lab[:-1, :]) ** 2).sum(-1)
    beta = 1.0 / (2.0 * max(float(np.concatenate([dr[:, :-1].ravel(), dd[:-1, :].ravel()]).mean()), 1e-6))
    w_right = p.smoothness * np.exp(-beta * dr)
    w_down = p.smoothness * np.exp(-beta * dd)
    if depth is not None and p.depth_weight > 0:
        valid = depth > 0
        logd = np.log(np.where(valid, depth, 1.0))
        sr = np.zeros_like(dr)
        sd = np.zeros_like(dd)
        both_r = valid[:, 1:] & valid[:, :-1]
        both_d = valid[1:, :] & valid[:-1, :]
        sr[:, :-1] = np.where(both_r, (logd[:, 1:] - logd[:, :-1]) ** 2, 0)
        sd[:-1, :] = np.where(both_d, (logd[1:, :] - logd[:-1, :]) ** 2, 0)
        # Steps in log depth: an occluding edge cuts cheaply even where both sides have the same colour.
        beta_d = 1.0 / (2.0 * max(float(np.concatenate([sr.ravel(), sd.ravel()]).mean()), 1e-8))
        w_right *= np.exp(-p.depth_weight * beta_d * sr)
        w_down *= np.exp(-p.depth_weight * beta_d * sd)
    return w_right.astype(np.float32), w_down.astype(np.float32)
