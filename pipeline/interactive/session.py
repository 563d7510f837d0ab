"""A click session on one mask: clicks in, full-resolution mask out, each click refining the previous mask.

The image's features are computed once (per zoom crop: once per crop). The previous mask may come from anywhere
(a learned segmenter, an earlier click, a rough hand edit): it is normalised the same way whatever its source
(snapped to the working grid, specks and pinholes removed) so the same clicks give the same kind of result.

Small targets are zoomed into: when the target's box (previous mask and clicks) covers a small part of the photo,
the solve runs on a crop around it at the full working resolution, and its mask is pasted back.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage

from pipeline.core.resample import resize_area
from .features import ImageFeatures, compute_features
from .offline import OfflineSegmenter, upsample_mask
from .types import Click, ClickBackend


@dataclass
class SessionParams:
    """Session behaviour."""

    zoom_below: float = 0.2
    """Zoom into a crop when the target's box covers less than this fraction of the photo (0 = never)."""
    zoom_margin: float = 0.4
    """Margin added around the target's box on each side, as a fraction of the box size."""
    min_speck: float = 0.0005
    """Specks and pinholes of the previous mask smaller than this fraction of the image are removed."""


@dataclass
class ClickSession:
    """Clicks -> mask for one target in one image."""

    image: np.ndarray  # HxWx3 sRGB in [0, 1], full resolution
    backend: ClickBackend = field(default_factory=OfflineSegmenter)
    depth: np.ndarray | None = None
    params: SessionParams = field(default_factory=SessionParams)
    clicks: list[Click] = field(default_factory=list)
    mask: np.ndarray | None = None  # full-resolution bool mask after the last click
    history: list = field(default_factory=list)
    timings: list[float] = field(default_factory=list)
    features: ImageFeatures | None = None  # pass to share one image's features between sessions
    crops: dict = field(default_factory=dict)  # zoom-crop features, shareable the same way

    def __post_init__(self) -> None:
        if self.features is None:
            self.features = self.backend.prepare(self.image, self.depth)

    @property
    def shape(self) -> tuple[int, int]:
        return self.image.shape[:2]

    def set_mask(self, mask: np.ndarray | None) -> None:
        """Start from a mask made elsewhere (learned segmenter, hand edit); clicks so far are kept."""
        self.history.append((list(self.clicks), self.mask))
        self.mask = None if mask is None else np.asarray(mask).astype(bool)

    def add_click(self, x: float, y: float, positive: bool) -> np.ndarray:
        """Add a click and return the new full-resolution bool mask."""
        start = time.perf_counter()
        self.history.append((list(self.clicks), self.mask))
        self.clicks.append(Click(float(x), float(y), bool(positive)))
        self.mask = self._solve()
        self.timings.append(time.perf_counter() - start)
        return self.mask

    def undo(self) -> np.ndarray | None:
        if self.history:
            self.clicks, self.mask = self.history.pop()
        return self.mask

    def reset(self) -> None:
        self.history.clear()
        self.clicks, self.mask = [], None

    # --- internals ----------------------------------------------------------------------------------------

    def _solve(self) -> np.ndarray:
        H, W = self.shape
        prev_full = self._clean(self.mask) if self.mask is not None and self.mask.any() else None
        if getattr(self.backend, "full_resolution", False):  # e.g. SAM: its own resolution handling
            return self.backend.predict(self.features, self.clicks, prev_full)
        feat = self._features_for_target()
        prev = None if prev_full is None else self._prev_on(feat, prev_full)
        soft = self.backend.predict(feat, self.clicks, prev)
        r0, c0 = feat.offset
        ch, cw = feat.crop_shape or (H, W)
        guide = self.image[r0:r0 + ch, c0:c0 + cw]
        local = upsample_mask(soft, guide)
        if feat.crop_shape is None:
            return local
        # Outside the crop the previous mask stands (the crop was chosen to contain the whole target).
        out = np.zeros((H, W), bool) if self.mask is None else self.mask.copy()
        out[r0:r0 + ch, c0:c0 + cw] = local
        return out

    def _clean(self, mask: np.ndarray) -> np.ndarray:
        """Remove specks and fill pinholes, whatever made the mask."""
        min_area = max(4, int(self.params.min_speck * mask.size))
        lab, n = ndimage.label(mask)
        if n:
            sizes = np.bincount(lab.ravel())
            mask = sizes[lab] >= min_area
            mask &= lab > 0
        lab, n = ndimage.label(~mask)
        if n:
            sizes = np.bincount(lab.ravel())
            holes = (sizes[lab] < min_area) & (lab > 0)
            mask = mask | holes
        return mask

    def _prev_on(self, feat: ImageFeatures, mask: np.ndarray) -> np.ndarray:
        """Previous mask (full resolution) as a soft mask on the features' working grid."""
        r0, c0 = feat.offset
        ch, cw = feat.crop_shape or self.shape
        crop = mask[r0:r0 + ch, c0:c0 + cw].astype(np.float32)
        return resize_area(crop, (feat.shape[1], feat.shape[0]))

    def _features_for_target(self) -> ImageFeatures:
        """Whole-image features, or those of a crop around a small target (computed once per crop)."""
        zb = self.params.zoom_below
        if zb <= 0:
            return self.features
        H, W = self.shape
        ys = [c.y for c in self.clicks]
        xs = [c.x for c in self.clicks]
        pos = [c for c in self.clicks if c.positive]
        if self.mask is not None and self.mask.any():
            rows = np.nonzero(self.mask.any(1))[0]
            cols = np.nonzero(self.mask.any(0))[0]
            ys += [rows[0], rows[-1] + 1]
            xs += [cols[0], cols[-1] + 1]
        elif len(pos) < 2:
            return self.features  # one click says nothing about the target's size yet
        y0, y1, x0, x1 = min(ys), max(ys), min(xs), max(xs)
        bh, bw = max(y1 - y0, 1.0), max(x1 - x0, 1.0)
        if bh * bw > zb * H * W:
            return self.features
        m = self.params.zoom_margin
        side_h, side_w = bh * (1 + 2 * m) + 16, bw * (1 + 2 * m) + 16
        # Quantise the crop so consecutive clicks on the same target reuse the same features.
        q = max(8, int(0.05 * max(H, W)))
        r0 = int(max(0, (y0 - (side_h - bh) / 2) // q * q))
        c0 = int(max(0, (x0 - (side_w - bw) / 2) // q * q))
        r1 = int(min(H, -(-(y1 + (side_h - bh) / 2) // q) * q))
        c1 = int(min(W, -(-(x1 + (side_w - bw) / 2) // q) * q))
        key = (r0, c0, r1, c1)
        # A crop already computed that holds this one, and is not much bigger, serves as well: features are the
        # expensive part of a zoomed click.
        for k in self.crops:
            if k[0] <= r0 and k[1] <= c0 and k[2] >= r1 and k[3] >= c1 and \
                    (k[2] - k[0]) * (k[3] - k[1]) <= 2.0 * (r1 - r0) * (c1 - c0):
                return self.crops[k]
        if key not in self.crops:
            params = getattr(self.backend, "feature_params", None)
            depth = None if self.depth is None else self.depth[r0:r1, c0:c1]
            self.crops[key] = compute_features(self.image[r0:r1, c0:c1], depth, params, full_shape=(H, W),
                                                offset=(r0, c0))
        return self.crops[key]
