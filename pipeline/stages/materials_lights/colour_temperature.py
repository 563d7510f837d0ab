"""Colour temperature: the linear sRGB colour of a black body at T kelvin, for lights whose colour is a temperature.

An artist sets a lamp's colour as a temperature (a warm 2700 K bulb, 4000 K office tubes, 6500 K daylight), not
as a free RGB tint; the fill lights share one, fitted to the photo. Planck's law is integrated against the CIE 1931
colour-matching functions (the multi-lobe Gaussian fit of Wyman, Sloan and Shirley, JCGT 2013, written out
below), taken to linear sRGB (Rec. 709 primaries, D65) and scaled to luminance 1, so the temperature sets the hue
and the light's power alone sets its brightness.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

XYZ_TO_SRGB = np.array([[3.2406, -1.5372, -0.4986],
                        [-0.9689, 1.8758, 0.0415],
                        [0.0557, -0.2040, 1.0570]])
LUMINANCE = np.array([0.2126, 0.7152, 0.0722])
TABLE_MIN, TABLE_MAX, TABLE_STEP = 1000.0, 20000.0, 10.0  # kelvin


def _lobe(x: np.ndarray, mu: float, s_lo: float, s_hi: float) -> np.ndarray:
    s = np.where(x < mu, s_lo, s_hi)
    return np.exp(-0.5 * ((x - mu) / s) ** 2)


def _cmf(nm: np.ndarray) -> np.ndarray:
    """CIE 1931 2-degree colour-matching functions (x, y, z) at wavelengths `nm` (multi-lobe fit)."""
    x = 1.056 * _lobe(nm, 599.8, 37.9, 31.0) + 0.362 * _lobe(nm, 442.0, 16.0, 26.7) \
        - 0.065 * _lobe(nm, 501.1, 20.4, 26.2)
    y = 0.821 * _lobe(nm, 568.8, 46.9, 40.5) + 0.286 * _lobe(nm, 530.9, 16.3, 31.1)
    z = 1.217 * _lobe(nm, 437.0, 11.8, 36.0) + 0.681 * _lobe(nm, 459.0, 26.0, 13.8)
    return np.stack([x, y, z], axis=1)


def _blackbody_many(kelvin: np.ndarray) -> np.ndarray:
    nm = np.arange(380.0, 781.0, 1.0)
    lam = nm * 1e-9
    c2 = 1.4388e-2  # second radiation constant, m K
    spectra = 1.0 / (lam[None] ** 5 * np.expm1(c2 / (lam[None] * np.asarray(kelvin, float)[:, None])))
    xyz = spectra @ _cmf(nm)
    rgb = np.maximum(xyz @ XYZ_TO_SRGB.T, 0.0)  # below ~1900 K blue leaves the sRGB gamut: clipped
    return rgb / (rgb @ LUMINANCE)[:, None]


@lru_cache(maxsize=1)
def _table() -> np.ndarray:
    return _blackbody_many(np.arange(TABLE_MIN, TABLE_MAX + TABLE_STEP / 2, TABLE_STEP))


def blackbody_rgb(kelvin: float) -> np.ndarray:
    """Linear sRGB colour of a black body at `kelvin`, luminance 1 (clamped to 1000-20000 K)."""
    t = float(np.clip(kelvin, TABLE_MIN, TABLE_MAX))
    return _blackbody_many(np.array([t]))[0]


def blackbody_rgb_torch(kelvin):
    """The same for a torch scalar, differentiable (linear interpolation of a 10 K table)."""
    import torch

    table = torch.from_numpy(_table().astype(np.float32))
    pos = ((kelvin - TABLE_MIN) / TABLE_STEP).clamp(0.0, len(table) - 1.001)
    i0 = pos.detach().floor().long()
    frac = pos - i0.to(pos.dtype)
    return table[i0] * (1.0 - frac) + table[i0 + 1] * frac


def temperature_of(rgb, lo: float = TABLE_MIN, hi: float = TABLE_MAX) -> float:
    """The temperature in [lo, hi] whose colour is nearest `rgb`'s (compared at luminance 1)."""
    rgb = np.maximum(np.asarray(rgb, float), 0.0)
    lum = float(rgb @ LUMINANCE)
    if lum <= 0:
        return 6500.0 if lo <= 6500.0 <= hi else (lo + hi) / 2
    kelvin = np.arange(TABLE_MIN, TABLE_MAX + TABLE_STEP / 2, TABLE_STEP)
    inside = (kelvin >= lo) & (kelvin <= hi)
    dist = np.abs(_table()[inside] - rgb / lum).sum(1)
    return float(kelvin[inside][int(np.argmin(dist))])
