"""Weight-free texture statistics for material retrieval: colour in CIE Lab plus multi-scale filter-bank energies.

A crop (linear RGB) becomes one feature vector: the mean and spread of L*, a*, b* (what colour and how much it
varies), and, on L* with smooth shading (a quadratic across the crop: light gradients, highlights) removed, at
four scales (each a 2x2 box reduction of the last): the log spread of horizontal, vertical and diagonal
differences and of the Laplacian (edges, stripes and their direction: planks, grout, weave), their normalised
cross-correlation (the filter bank's Gram matrix, off the diagonal: diagonal structure), and the L* histogram's
skew (dark grout lines or knots on a light ground). Everything is a batch operation over (n, h, w, 3), so every
candidate at every texture scale of a crop is measured at once. No learned weights.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

SCALES = 4
NOISE_L = 0.6  # L* units: render and photo noise below this carry no texture (the flat material's floor)
_WHITE = np.array([0.95047, 1.0, 1.08883])
_RGB_TO_XYZ = np.array([[0.4124564, 0.3575761, 0.1804375],
                        [0.2126729, 0.7151522, 0.0721750],
                        [0.0193339, 0.1191920, 0.9503041]])


def linear_to_lab(rgb: np.ndarray) -> np.ndarray:
    """CIE Lab (D65) of linear sRGB (..., 3)."""
    xyz = np.maximum(rgb, 0.0) @ _RGB_TO_XYZ.T / _WHITE
    d = 6.0 / 29.0
    f = np.where(xyz > d ** 3, np.cbrt(xyz), xyz / (3 * d * d) + 4.0 / 29.0)
    return np.stack([116.0 * f[..., 1] - 16.0, 500.0 * (f[..., 0] - f[..., 1]), 200.0 * (f[..., 1] - f[..., 2])],
                    -1)


@lru_cache(maxsize=32)
def _shading_projector(h: int, w: int) -> np.ndarray:
    """The smooth-shading basis a + b x + c y + d x^2 + e y^2 + f xy over an (h, w) crop and its pseudo-inverse
    (least squares, once per size). Quadratic, not a plane: a lamp's highlight or a corner's falloff across a
    plain wall curves (measured on the benchmark's tuning rooms 3-9: plain walls kept flat 0.93 vs 0.87 of
    parts); a texture repeats within the crop, so a quadratic takes little of it."""
    yy, xx = np.mgrid[0:h, 0:w]
    x, y = (xx.ravel() - w / 2) / w, (yy.ravel() - h / 2) / h
    basis = np.stack([np.ones(h * w), x, y, x * x, y * y, x * y], 1)
    return basis, np.linalg.pinv(basis)


def _lightness(y: np.ndarray) -> np.ndarray:
    """CIE L* of relative luminance Y."""
    d = 6.0 / 29.0
    return 116.0 * np.where(y > d ** 3, np.cbrt(np.maximum(y, 0.0)), y / (3 * d * d) + 4.0 / 29.0) - 16.0


def _remove_shading(img: np.ndarray) -> np.ndarray:
    """(n, h, w) minus each image's least-squares quadratic (`_shading_projector`: smooth shading across the crop)."""
    n, h, w = img.shape
    basis, pinv = _shading_projector(h, w)
    flat = img.reshape(n, -1)
    return (flat - (flat @ pinv.T) @ basis.T).reshape(n, h, w)


def _reduce(img: np.ndarray) -> np.ndarray:
    n, h, w = img.shape
    h2, w2 = h // 2 * 2, w // 2 * 2
    return img[:, :h2, :w2].reshape(n, h2 // 2, 2, w2 // 2, 2).mean((2, 4))


def _logstd(x: np.ndarray, floor: float) -> np.ndarray:
    return np.log(np.sqrt((x * x).mean((1, 2)) + floor * floor))


def _corr(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a, b = a - a.mean((1, 2), keepdims=True), b - b.mean((1, 2), keepdims=True)
    den = np.sqrt((a * a).mean((1, 2)) * (b * b).mean((1, 2))) + NOISE_L * NOISE_L
    return (a * b).mean((1, 2)) / den


def features(crops_linear: np.ndarray) -> np.ndarray:
    """(n, F) feature vectors of crops (n, h, w, 3) in linear RGB (the layout `WEIGHTS` describes)."""
    rgb = crops_linear.astype(np.float32)
    n, h, w, _ = rgb.shape
    # Colour statistics at half resolution (a quarter of the cost; the same reduction for photo and candidates).
    half = rgb[:, :h // 2 * 2, :w // 2 * 2].reshape(n, h // 2, 2, w // 2, 2, 3).mean((2, 4)) if min(h, w) >= 8 else rgb
    lab = linear_to_lab(half).reshape(n, -1, 3)
    colour = np.concatenate([lab.mean(1), lab.std(1)], 1)  # (n, 6)
    lum = _remove_shading(_lightness(rgb @ _RGB_TO_XYZ[1].astype(np.float32)))
    spread = np.sqrt((lum * lum).mean((1, 2)) + NOISE_L * NOISE_L)
    skew = (lum ** 3).mean((1, 2)) / spread ** 3
    tex = [skew[:, None]]
    img = lum
    for level in range(SCALES):
        if level:
            img = _reduce(img)
        if min(img.shape[1:]) < 4:  # a small crop has no coarse scale: its statistics read as flat there
            tex.append(np.tile(np.array([np.log(NOISE_L)] * 5 + [0.0]), (len(img), 1)))
            continue
        dx = img[:, :-1, 1:] - img[:, :-1, :-1]
        dy = img[:, 1:, :-1] - img[:, :-1, :-1]
        d1 = img[:, 1:, 1:] - img[:, :-1, :-1]
        d2 = img[:, 1:, :-1] - img[:, :-1, 1:]
        lap = 4 * img[:, 1:-1, 1:-1] - img[:, :-2, 1:-1] - img[:, 2:, 1:-1] - img[:, 1:-1, :-2] - img[:, 1:-1, 2:]
        tex.append(np.stack([_logstd(dx, NOISE_L), _logstd(dy, NOISE_L), _logstd(d1, NOISE_L),
                             _logstd(d2, NOISE_L), _logstd(lap, 2 * NOISE_L), _corr(dx, dy)], 1))
    return np.concatenate([colour] + tex, 1)


# Per feature: the difference that counts as one unit of distance. Colour: a*/b* of about 6 (clearly another hue);
# L* of 20 (brightness is loosely known: a photo cannot tell albedo from light, and the optimiser refits it);
# spreads of 4 L* / 3 a*b*. Texture: a factor e^0.35 (~1.4x) in an energy, 0.35 in a correlation or skew.
_COLOUR_UNITS = [20.0, 6.0, 6.0, 4.0, 3.0, 3.0]
_TEX_UNITS = [0.6] + [0.35, 0.35, 0.35, 0.35, 0.35, 0.35] * SCALES
WEIGHTS = 1.0 / np.square(np.array(_COLOUR_UNITS + _TEX_UNITS))
COLOUR_FEATURES = len(_COLOUR_UNITS)


def distance(a: np.ndarray, b: np.ndarray, colour_weight: float = 1.0) -> np.ndarray:
    """Weighted squared distance between feature rows `a` (n, F) and `b` (F,) or (n, F), per row: the colour
    group's mean plus the texture group's mean (each group counts once whatever its size)."""
    d = np.square(a - b) * WEIGHTS
    return colour_weight * d[:, :COLOUR_FEATURES].mean(1) + d[:, COLOUR_FEATURES:].mean(1)
