"""Measure the selector on ../shared/data/matseg_samples (synthetic renders with per-material masks): one click
per material at its most interior pixel, IoU of the texture-level mask with the material's mask.

The renders are split by folder (sorted; even positions tune the selector's constants, odd ones only test it),
and each is also scored for two references: the connected-region baseline (the same mask cut to the piece
touching the click, as a region-growing click selector gives) and an oracle (the best threshold of the same
dissimilarity for each click, chosen with the truth: the most any threshold on these statistics can reach).

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
    """(folder, image sRGB float, [material masks]) per render folder."""
    for rgb in sorted(root.rglob("RGB__RGB.jpg")):
        image = np.asarray(Image.open(rgb).convert("RGB"), np.float32) / 255
        masks = [np.asarray(Image.open(p)) > 127 for p in sorted(rgb.parent.glob("mask0*.png"))]
        masks = [m for m in masks if m.mean() > 0.01]  # materials covering at least 1 % of the image
        if masks:
            yield rgb.parent, image, masks


def iou(pred: np.ndarray, truth: np.ndarray) -> float:
    union = (pred | truth).sum()
    return float((pred & truth).sum() / union) if union else 1.0


def connected_piece(mask: np.ndarray, cx: int, cy: int) -> np.ndarray:
    labels, _ = ndimage.label(mask)
    return labels == labels[cy, cx] if labels[cy, cx] else mask


def measure(root: Path = DEFAULT, selector: StatsSelector | None = None, size: int = 320) -> dict:
    """Mean IoU per split ("tune", "test", "all") for the selector, the connected-region baseline and the oracle,
    and the per-click rows."""
    selector = selector or StatsSelector(max_side=size)
    rows = []
    folders = sorted(str(f) for f, _, _ in samples(Path(root)))
    for folder, image, masks in samples(Path(root)):
        h, w = image.shape[:2]
        k = size / max(h, w)
        small = np.asarray(Image.fromarray((image * 255).astype(np.uint8)).resize((round(w * k), round(h * k)),
                                                                                 Image.BOX), np.float32) / 255
        split = "tune" if folders.index(str(folder)) % 2 == 0 else "test"
        for j, m in enumerate(masks):
            ms = np.asarray(Image.fromarray(m.astype(np.uint8) * 255).resize(small.shape[1::-1], Image.NEAREST)) > 127
            inside = ndimage.distance_transform_edt(np.pad(ms, 1))[1:-1, 1:-1]
            cy, cx = (int(v) for v in np.unravel_index(np.argmax(inside), ms.shape))
            texture, _ = selector.select_small(small, cx, cy)
            dist, _ = selector.dissimilarity(small, cx, cy)
            oracle = max(iou(dist <= t, ms) for t in np.quantile(dist, np.linspace(0.005, 0.9, 80)))
            rows.append({"render": str(Path(folder).relative_to(root)), "material": j, "split": split,
                         "area": round(float(ms.mean()), 4), "selected": round(float(texture.mean()), 4),
                         "iou": round(iou(texture, ms), 4),
                         "connected_iou": round(iou(connected_piece(texture, cx, cy), ms), 4),
                         "oracle_iou": round(oracle, 4)})
    out: dict = {"clicks": len(rows)}
    for split in ("tune", "test", "all"):
        chosen = [r for r in rows if split in ("all", r["split"])]
        out[split] = {key: round(float(np.mean([r[key] for r in chosen])), 4) if chosen else None
                      for key in ("iou", "connected_iou", "oracle_iou")} | {"clicks": len(chosen)}
    out["rows"] = rows
    return out


if __name__ == "__main__":
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT
    if not root.exists():
        print(f"no data at {root}")
        sys.exit(0)
    result = measure(root)
    print("| render | material | split | area | selected | IoU | connected IoU | oracle IoU |")
    print("|---|---|---|---|---|---|---|---|")
    for r in result["rows"]:
        print(f"| {r['render']} | {r['material']} | {r['split']} | {r['area']} | {r['selected']} | {r['iou']} | "
              f"{r['connected_iou']} | {r['oracle_iou']} |")
    print()
    print("| split | clicks | texture-level mean IoU | connected-region baseline | oracle threshold |")
    print("|---|---|---|---|---|")
    for split in ("tune", "test", "all"):
        s = result[split]
        print(f"| {split} | {s['clicks']} | {s['iou']} | {s['connected_iou']} | {s['oracle_iou']} |")
