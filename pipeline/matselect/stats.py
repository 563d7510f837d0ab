"""The weight-free selector: similarity of local colour and texture statistics to the clicked point's.

Per pixel, a descriptor of its neighbourhood at two window sizes: the mean and standard deviation of CIE Lab, and
the mean gradient energy along x, y and the diagonals (orientation of the texture). Dimensions are whitened over
the image. The clicked point's descriptor is the median over a small disk around it. Texture level: pixels whose
descriptor is within a threshold (set from the distance distribution: the valley after the click's own mode, by
Otsu on the distances, limited to a range), then cleaned (small holes filled, small islands removed, the region
touching the click kept with every region at least as similar). Subtexture level: inside the texture mask, pixels
whose lightly smoothed colour is closer to the click's colour than to the texture's other dominant colour.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage


def srgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """CIE Lab (D65) of sRGB in [0, 1]."""
    c = np.clip(rgb, 0, 1)
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    m = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
    xyz = lin @ m.T / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], -1)


def descriptors(image_srgb: np.ndarray, windows=(7, 15)) -> np.ndarray:
    """HxWxD local statistics (see the module docstring), whitened."""
    lab = srgb_to_lab(image_srgb)
    lum = lab[..., 0]
    gy, gx = np.gradient(lum)
    d1, d2 = (gx + gy) / np.sqrt(2), (gx - gy) / np.sqrt(2)
    energies = [gx ** 2, gy ** 2, d1 ** 2, d2 ** 2]
    feats = []
    for w in windows:
        mean = np.stack([ndimage.uniform_filter(lab[..., k], w) for k in range(3)], -1)
        sq = np.stack([ndimage.uniform_filter(lab[..., k] ** 2, w) for k in range(3)], -1)
        feats += [mean, np.sqrt(np.maximum(sq - mean ** 2, 0))]
        feats.append(np.stack([np.sqrt(np.maximum(ndimage.uniform_filter(e, w), 0)) for e in energies], -1))
    f = np.concatenate(feats, -1)
    flat = f.reshape(-1, f.shape[-1])
    return ((f - flat.mean(0)) / (flat.std(0) + 1e-6)).astype(np.float32)


def otsu(values: np.ndarray, bins: int = 64) -> float:
    hist, edges = np.histogram(values, bins=bins)
    centres = (edges[:-1] + edges[1:]) / 2
    w0 = np.cumsum(hist)
    w1 = w0[-1] - w0
    m0 = np.cumsum(hist * centres) / np.maximum(w0, 1)
    m1 = (np.sum(hist * centres) - np.cumsum(hist * centres)) / np.maximum(w1, 1)
    between = w0 * w1 * (m0 - m1) ** 2
    return float(centres[int(np.argmax(between))])


@dataclass
class StatsSelector:
    """Callable selector (image sRGB HxWx3 in [0, 1], click (x, y)) -> (texture mask, subtexture mask)."""

    max_side: int = 320  # work at this resolution at most; masks come back at the image's size
    disk: int = 3  # radius (working pixels) of the click's neighbourhood
    max_threshold: float = 4.0
    threshold: float | None = 1.0  # descriptor distance (whitened units); None: Otsu on the distances

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

    def select_small(self, image: np.ndarray, cx: int, cy: int) -> tuple[np.ndarray, np.ndarray]:
        h, w = image.shape[:2]
        f = descriptors(image)
        yy, xx = np.mgrid[:h, :w]
        near = (xx - cx) ** 2 + (yy - cy) ** 2 <= self.disk ** 2
        ref = np.median(f[near], axis=0)
        dist = np.sqrt(((f - ref) ** 2).mean(-1))
        # Otsu between "like the click" and the rest, never tighter than the click's own neighbourhood's spread.
        thr = self.threshold if self.threshold is not None else float(
            np.clip(otsu(dist), 2.0 * float(np.median(dist[near])) + 1e-3, self.max_threshold))
        mask = dist <= thr
        mask = ndimage.binary_closing(mask, iterations=2)
        mask = ndimage.binary_fill_holes(mask) if mask.mean() < 0.9 else mask
        labels, n = ndimage.label(mask)
        if n:
            sizes = ndimage.sum(mask, labels, range(1, n + 1))
            keep = np.zeros(n + 1, bool)
            keep[1:] = sizes >= max(16, 0.002 * h * w)
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
