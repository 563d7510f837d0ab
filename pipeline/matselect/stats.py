"""The weight-free selector: similarity of local colour and texture statistics to the clicked point's.

Per pixel, descriptors of its neighbourhood at several window sizes (`descriptors`: log-lightness, chroma relative
to lightness and its spread, texture contrast and gradient energy by orientation). The click's descriptor is the
median over a small disk around it. Texture level: pixels whose dissimilarity (the statistics' distance averaged
over the window sizes, plus the geodesic distance from the click over the mid-scale statistics) is under a threshold,
specks removed. Subtexture level: inside the texture mask, pixels whose lightly smoothed colour is closer to the
click's colour than to the texture's other dominant colour.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from p2s_common.images import srgb_to_lab



def descriptors(image_srgb: np.ndarray, windows=(5, 11, 23)) -> list[np.ndarray]:
    """Per window size, HxWxD local statistics in fixed units (comparable across images): the mean of
    log-lightness (weighted down: shading changes it over one material), the mean and spread of chroma relative
    to lightness (shading-invariant colour), and texture contrast (the spread of log-lightness and the gradient
    energy along x, y and the diagonals)."""
    lab = srgb_to_lab(image_srgb)
    log_l = np.log(np.maximum(lab[..., 0], 1.0) + 5.0)
    chroma = lab[..., 1:] / np.maximum(lab[..., 0:1], 10.0) * 50.0
    gy, gx = np.gradient(log_l)
    energies = [gx ** 2, gy ** 2, (gx + gy) ** 2 / 2, (gx - gy) ** 2 / 2]
    out = []
    for w in windows:
        def box(a: np.ndarray) -> np.ndarray:
            return ndimage.uniform_filter(a, w)

        def spread(a: np.ndarray) -> np.ndarray:
            return np.sqrt(np.maximum(box(a ** 2) - box(a) ** 2, 0.0))

        mean_l = box(log_l)[..., None] * 1.5
        mean_c = np.stack([box(chroma[..., k]) for k in range(2)], -1) / 10.0
        spread_c = np.stack([spread(chroma[..., k]) for k in range(2)], -1) / 5.0
        contrast = spread(log_l)[..., None] * 6.0
        grads = np.stack([np.sqrt(np.maximum(box(e), 0.0)) for e in energies], -1) * 6.0
        out.append(np.concatenate([mean_l, mean_c, spread_c, contrast, grads], -1).astype(np.float32))
    return out


def geodesic(features: np.ndarray, seeds: np.ndarray, step: float) -> np.ndarray:
    """HxW shortest-path distance from the nearest seed pixel (HxW bool) over the 4-connected grid, each edge
    costing the features' change across it plus `step`: low inside the seeds' regions, rising at every material
    boundary crossed."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import dijkstra

    h, w = features.shape[:2]
    idx = np.arange(h * w).reshape(h, w)
    rows, cols, costs = [], [], []
    for a, b, fa, fb in ((idx[:, :-1], idx[:, 1:], features[:, :-1], features[:, 1:]),
                         (idx[:-1], idx[1:], features[:-1], features[1:])):
        rows.append(a.ravel())
        cols.append(b.ravel())
        costs.append((np.sqrt(((fa - fb) ** 2).sum(-1)) + step).ravel())
    graph = coo_matrix((np.concatenate(costs), (np.concatenate(rows), np.concatenate(cols))), shape=(h * w, h * w))
    return dijkstra(graph.tocsr(), directed=False, indices=np.flatnonzero(seeds), min_only=True).reshape(h, w)


@dataclass
class StatsSelector:
    """Callable selector (image sRGB HxWx3 in [0, 1], click (x, y)) -> (texture mask, subtexture mask).

    Texture level: a pixel is taken when its dissimilarity to the click is under `threshold`; the dissimilarity
    adds log(1 + d) of two measures. d_stats: the distance of the pixel's statistics to the click's, per window
    size in units of the spread seen around the click, averaged over the sizes (`windows`; the small one keeps
    boundaries sharp, the large ones carry the texture). d_path: the geodesic distance over the mid-scale
    statistics (`geodesic`; smooth inside a texture, so a pattern's own edges cost little) from the click and from
    every pixel whose statistics alone are very like the click's (under `alike`), so the far pieces of the
    material are taken with their boundaries as the clicked piece is. Constants tuned on half of
    ../shared/data/matseg_samples (`python -m pipeline.matselect.measure`)."""

    max_side: int = 320  # work at this resolution at most; masks come back at the image's size
    disk: int = 4  # radius (working pixels) of the click's neighbourhood
    windows: tuple[int, ...] = (5, 11, 23)
    spread_floor: float = 0.3  # least spread around the click (a flat colour would make every change huge)
    step: float = 0.05  # geodesic cost per pixel, on top of the statistics' change
    path_window: int = 11  # window of the statistics the geodesic distance runs over
    threshold: float = 3.5
    alike: float = 0.5  # pixels with log(1 + d_stats) under this seed the geodesic distance like the click

    def __call__(self, image_srgb: np.ndarray, click: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
        from PIL import Image

        h, w = image_srgb.shape[:2]
        k = min(1.0, self.max_side / max(h, w))
        sh, sw = max(8, round(h * k)), max(8, round(w * k))
        small = np.asarray(Image.fromarray((np.clip(image_srgb, 0, 1) * 255).astype(np.uint8)).resize(
            (sw, sh), Image.BOX), np.float32) / 255
        cx = int(np.clip(click[0] * sw / w, 0, sw - 1))
        cy = int(np.clip(click[1] * sh / h, 0, sh - 1))
        texture, sub = self.select_small(small, cx, cy)

        def up(m: np.ndarray) -> np.ndarray:
            return np.asarray(Image.fromarray(m.astype(np.uint8) * 255).resize((w, h), Image.BILINEAR)) > 127

        return up(texture), up(sub)

    def dissimilarity(self, image: np.ndarray, cx: int, cy: int) -> tuple[np.ndarray, np.ndarray]:
        """(HxW dissimilarity to the click, HxW bool of the click's neighbourhood) at working resolution."""
        h, w = image.shape[:2]
        yy, xx = np.mgrid[:h, :w]
        near = (xx - cx) ** 2 + (yy - cy) ** 2 <= self.disk ** 2
        per_scale = []
        for f in descriptors(image, self.windows):
            ref = np.median(f[near], axis=0)
            d = np.sqrt(((f - ref) ** 2).sum(-1))
            per_scale.append(d / max(float(np.percentile(d[near], 90)), self.spread_floor))
        stats = np.log1p(np.mean(per_scale, axis=0))
        # paths start at the click and at every pixel whose statistics alone are very like it (the material's
        # other pieces), so each piece's boundary is found the same way as the clicked one's
        d_path = geodesic(descriptors(image, (self.path_window,))[0], near | (stats <= self.alike), self.step)
        return np.log1p(d_path) + stats, near

    def select_small(self, image: np.ndarray, cx: int, cy: int) -> tuple[np.ndarray, np.ndarray]:
        h, w = image.shape[:2]
        dist, near = self.dissimilarity(image, cx, cy)
        mask = dist <= self.threshold
        labels, n = ndimage.label(mask)
        if n:  # specks (a few pixels of a similar colour elsewhere) are noise, not the material
            sizes = ndimage.sum(mask, labels, range(1, n + 1))
            keep = np.zeros(n + 1, bool)
            keep[1:] = sizes >= max(16, 0.001 * h * w)
            keep[labels[cy, cx]] = True
            mask = keep[labels]
        mask[near] = True
        # Subtexture: pixel colours within the texture mask, nearer the click's colour than the mask's other mode.
        lab = ndimage.uniform_filter(srgb_to_lab(image), size=(3, 3, 1))
        click_lab = np.median(lab[near], axis=0)
        inside = lab[mask]
        d_click = np.linalg.norm(inside - click_lab, axis=-1)
        far = inside[d_click > np.percentile(d_click, 50)]
        other = np.median(far, axis=0) if len(far) else click_lab + 50
        d_other = np.linalg.norm(lab - other, axis=-1)
        d_self = np.linalg.norm(lab - click_lab, axis=-1)
        sub = mask & (d_self < d_other) & (d_self < max(10.0, 0.5 * np.linalg.norm(other - click_lab)))
        sub[near] = True
        return mask, sub
