"""The standard click simulation and NoC metrics (as in the interactive-segmentation literature).

Next click: the error pixel farthest from the error's boundary (distance transform of the false-negative and
false-positive masks, the image border counting as boundary); positive when that pixel is a false negative.
IoU ignores pixels the ground truth marks as unknown. NoC@t: clicks until IoU >= t, or `max_clicks` if never.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage


def iou(pred: np.ndarray, gt: np.ndarray, ignore: np.ndarray | None = None) -> float:
    keep = ~ignore if ignore is not None else np.ones_like(gt, bool)
    inter = (pred & gt & keep).sum()
    union = ((pred | gt) & keep).sum()
    return float(inter / union) if union else 1.0


def next_click(pred: np.ndarray, gt: np.ndarray, ignore: np.ndarray | None = None) -> tuple[float, float, bool]:
    """(x, y, positive) of the next simulated click."""
    keep = ~ignore if ignore is not None else np.ones_like(gt, bool)
    fn = gt & ~pred & keep
    fp = ~gt & pred & keep
    d_fn = ndimage.distance_transform_edt(np.pad(fn, 1))[1:-1, 1:-1]
    d_fp = ndimage.distance_transform_edt(np.pad(fp, 1))[1:-1, 1:-1]
    positive = d_fn.max() >= d_fp.max()
    d = d_fn if positive else d_fp
    r, c = np.unravel_index(int(d.argmax()), d.shape)
    return c + 0.5, r + 0.5, bool(positive)


@dataclass
class ClickRun:
    """IoU after each click and the time each click took."""

    ious: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)

    def noc(self, threshold: float, max_clicks: int = 20) -> int:
        for i, v in enumerate(self.ious):
            if v >= threshold:
                return i + 1
        return max_clicks


def simulate(session, gt: np.ndarray, ignore: np.ndarray | None = None, max_clicks: int = 20,
             stop_at: float | None = None) -> ClickRun:
    """Run the click simulation on a ClickSession (or anything with add_click and mask)."""
    run = ClickRun()
    pred = session.mask if session.mask is not None else np.zeros_like(gt, bool)
    for _ in range(max_clicks):
        x, y, positive = next_click(pred, gt, ignore)
        start = time.perf_counter()
        pred = session.add_click(x, y, positive)
        run.seconds.append(time.perf_counter() - start)
        run.ious.append(iou(pred, gt, ignore))
        if stop_at is not None and run.ious[-1] >= stop_at:
            break
    return run
