"""Measure the selector on ../shared/data/matseg_samples (synthetic renders with per-material masks): one click
per material at its most interior pixel, IoU of the texture-level mask with the material's mask.

    python -m pipeline.matselect.measure [DATA_DIR]
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from PIL import Image
from scipy import ndimage

from . import StatsSelector

DEFAULT = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "matseg_samples"


def samples(root: Path):
    """(image sRGB float, [material masks]) per render folder."""
    for rgb in sorted(root.rglob("RGB__RGB.jpg")):
        image = np.asarray(Image.open(rgb).convert("RGB"), np.float32) / 255
        masks = [np.asarray(Image.open(p)) > 127 for p in sorted(rgb.parent.glob("mask0*.png"))]
        masks = [m for m in masks if m.mean() > 0.01]  # materials covering at least 1 % of the image
        if masks:
            yield rgb.parent, image, masks


def measure(root: Path = DEFAULT, selector=None, size: int = 320) -> dict:
    selector = selector or StatsSelector(max_side=size)
    ious = []
    for _, image, masks in samples(Path(root)):
        h, w = image.shape[:2]
        k = size / max(h, w)
        small = np.asarray(Image.fromarray((image * 255).astype(np.uint8)).resize((round(w * k), round(h * k)),
                                                                                 Image.BOX), np.float32) / 255
        for m in masks:
            ms = np.asarray(Image.fromarray(m.astype(np.uint8) * 255).resize(small.shape[1::-1], Image.NEAREST)) > 127
            inside = ndimage.distance_transform_edt(np.pad(ms, 1))[1:-1, 1:-1]
            cy, cx = np.unravel_index(np.argmax(inside), ms.shape)
            pred, _ = selector(small, (cx + 0.5, cy + 0.5))
            union = (pred | ms).sum()
            ious.append(float((pred & ms).sum() / union) if union else 1.0)
    return {"clicks": len(ious), "mean_iou": round(float(np.mean(ious)), 4) if ious else None,
            "median_iou": round(float(np.median(ious)), 4) if ious else None}


if __name__ == "__main__":
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT
    if not root.exists():
        print(f"no data at {root}")
        sys.exit(0)
    print(measure(root))
