"""Classical camera estimator: line segments -> Manhattan vanishing points -> FOV, pitch, roll, confidence.

No weights. Where the lines do not constrain the focal length (a single finite vanishing point, too few lines),
the FOV stays at the prior (the EXIF focal length when the photo has one, else a typical phone camera's) and
`fov_confidence` says so.
"""

from __future__ import annotations

import math
import time

import numpy as np

from pipeline.core.resample import resize_area, working_shape
from .base import CameraEstimate, tilt_from_up
from .lines import LineParams, detect_segments
from .vanishing import VPParams, estimate_manhattan

# A phone's main camera (26 mm equivalent on the 36 mm side): f = 0.72 x the longest image side. Typical of the
# photos users bring; also the prior when the lines say nothing.
PRIOR_F_OVER_LONGEST = 0.72


def prior_focal_px(width: int, height: int) -> float:
    return PRIOR_F_OVER_LONGEST * max(width, height)


class ClassicalCamera:
    """Manhattan vanishing points from the photo's straight lines."""

    name = "classical"

    def __init__(self, working_size: int = 640, seed: int = 0, line_params: LineParams | None = None,
                 vp_params: VPParams | None = None, prior_f_over_longest: float = PRIOR_F_OVER_LONGEST):
        self.working_size = working_size
        self.line_params = line_params or LineParams()
        self.vp_params = vp_params or VPParams(seed=seed)
        self.prior_f_over_longest = prior_f_over_longest

    def estimate(self, image: np.ndarray, focal_hint_px: float | None = None) -> CameraEstimate:
        """Estimate from an HxWx3 sRGB image; `focal_hint_px` (at the image's resolution) replaces the prior."""
        start = time.perf_counter()
        h0, w0 = image.shape[:2]
        size = working_shape(w0, h0, self.working_size)
        small = resize_area(image, size)
        w, h = size
        scale = w / w0
        f_prior = focal_hint_px * scale if focal_hint_px else self.prior_f_over_longest * max(w, h)
        segments = detect_segments(small, self.line_params)
        fit = estimate_manhattan(segments, w, h, f_prior, self.vp_params)
        details: dict = {"segments": int(len(segments)), "working_size": [w, h],
                         "prior_fov_y_deg": _fov(f_prior, h), "prior": "EXIF" if focal_hint_px else "phone camera"}
        if fit is None:
            details["seconds"] = time.perf_counter() - start
            return CameraEstimate(_fov(f_prior, h), 0.0, 0.0, 0.0, "prior (too few straight lines)", 0.0, details)
        up_cv = fit.up
        pitch, roll = tilt_from_up(np.array([up_cv[0], -up_cv[1], -up_cv[2]]))  # OpenCV -> Blender axes
        fov = _fov(fit.f_px, h)
        # FOV confidence: how much the lines narrowed the prior on log f (1 = far tighter than the prior).
        fov_conf = float(np.clip(1.0 - fit.sigma_log_f / self.vp_params.prior_sigma_log_f, 0.0, 1.0))
        # Tilt confidence: small up uncertainty and a vertical family with real support.
        tilt_conf = float(math.exp(-fit.up_sigma_deg / 2.0) * min(1.0, fit.support[fit.up_index] / 0.1))
        confidence = float(min(1.0, fit.explained / 0.4) * tilt_conf * (0.5 + 0.5 * fov_conf))
        details.update({
            "f_px": fit.f_px / scale, "fov_sigma_deg": _fov_sigma(fit.f_px, fit.sigma_log_f, h),
            "up_sigma_deg": fit.up_sigma_deg, "explained": fit.explained, "support": fit.support,
            "tilt_confidence": tilt_conf, "seconds": time.perf_counter() - start,
            "vanishing_points": _vps(fit, w, h, scale),
            # The Manhattan frame (OpenCV camera axes, columns; scale-free) for the box layout (layout.py).
            "directions": fit.directions.tolist(), "up_index": fit.up_index})
        return CameraEstimate(fov, pitch, roll, confidence, "classical (Manhattan vanishing points)", fov_conf,
                              details)


def _fov(f_px: float, height: int) -> float:
    return math.degrees(2 * math.atan(height / 2 / f_px))


def _fov_sigma(f_px: float, sigma_log_f: float, height: int) -> float:
    return abs(_fov(f_px * math.exp(-sigma_log_f), height) - _fov(f_px, height))


def _vps(fit, w: int, h: int, scale: float) -> list:
    """Vanishing points in original-image pixels ([x, y] or null when at infinity)."""
    out = []
    for k in range(3):
        d = fit.directions[:, k]
        if abs(d[2]) < 1e-6:
            out.append(None)
        else:
            out.append([float((fit.f_px * d[0] / d[2] + w / 2) / scale), float((fit.f_px * d[1] / d[2] + h / 2) / scale)])
    return out
