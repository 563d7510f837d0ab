"""Image agreement figures: PSNR and SSIM on sRGB-encoded images in [0, 1] (how people look at photos)."""

from __future__ import annotations

import numpy as np

from p2s_common.images import linear_to_srgb


def psnr(a: np.ndarray, b: np.ndarray, mask: np.ndarray | None = None) -> float:
    """PSNR in dB of two images in [0, 1] (optionally over a mask of pixels)."""
    d = (np.clip(a, 0, 1) - np.clip(b, 0, 1)) ** 2
    if mask is not None:
        d = d[mask]
    mse = float(np.mean(d))
    return float("inf") if mse == 0 else 10.0 * np.log10(1.0 / mse)


def ssim(a: np.ndarray, b: np.ndarray, sigma: float = 1.5) -> float:
    """Mean SSIM (Wang et al. 2004: Gaussian window sigma 1.5, K1 0.01, K2 0.03), averaged over channels."""
    from scipy.ndimage import gaussian_filter

    a = np.clip(np.asarray(a, np.float64), 0, 1)
    b = np.clip(np.asarray(b, np.float64), 0, 1)
    if a.ndim == 2:
        a, b = a[..., None], b[..., None]
    c1, c2 = 0.01 ** 2, 0.03 ** 2
    out = []
    for c in range(a.shape[2]):
        x, y = a[..., c], b[..., c]

        def blur(z):
            return gaussian_filter(z, sigma, truncate=3.5)

        mx, my = blur(x), blur(y)
        vx, vy, cxy = blur(x * x) - mx * mx, blur(y * y) - my * my, blur(x * y) - mx * my
        s = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
        out.append(float(s.mean()))
    return float(np.mean(out))


def compare_linear(render: np.ndarray, photo: np.ndarray) -> dict[str, float]:
    """PSNR and SSIM of a linear render against a linear photo, both encoded to sRGB first."""
    r, p = linear_to_srgb(render), linear_to_srgb(photo)
    return {"psnr_db": round(psnr(r, p), 3), "ssim": round(ssim(r, p), 4)}
