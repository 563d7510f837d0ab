"""Click material selection (pipeline.matselect): texture level reaches every piece of the clicked material."""

from __future__ import annotations

import numpy as np

from pipeline.matselect import select
from pipeline.matselect.measure import connected_piece, iou


def _two_cushions() -> tuple[np.ndarray, np.ndarray]:
    """Two separate patches of one striped fabric on a plain wall, and the fabric's mask."""
    rng = np.random.default_rng(1)
    img = np.empty((100, 160, 3), np.float32)
    img[:] = [0.75, 0.72, 0.65]
    fabric = np.zeros((100, 160), bool)
    fabric[20:70, 10:60] = True
    fabric[30:85, 100:150] = True
    yy, xx = np.mgrid[:100, :160]
    stripes = ((xx + yy) // 2) % 2 == 0  # a fine weave: its statistics are steady at the click's scale
    img[fabric & stripes] = [0.6, 0.15, 0.15]
    img[fabric & ~stripes] = [0.85, 0.8, 0.3]
    img += rng.normal(0, 0.01, img.shape).astype(np.float32)
    return img, fabric


def test_texture_level_takes_every_piece_of_the_material():
    img, fabric = _two_cushions()
    mask = select(img, (35, 45), "texture")
    assert iou(mask, fabric) > 0.65 and mask[~fabric].mean() < 0.02
    near, far = mask[20:70, 10:60].mean(), mask[30:85, 100:150].mean()
    assert far > 0.6 and abs(far - near) < 0.15  # the other cushion, not connected to the click, as much as this one
    # the connected-region baseline keeps only the clicked one
    piece = connected_piece(mask, 35, 45)
    assert piece[30:85, 100:150].mean() < 0.05 and iou(piece, fabric) < 0.45


def test_subtexture_level_is_the_clicked_stripe_colour():
    img, fabric = _two_cushions()
    sub = select(img, (35, 44), "subtexture")
    clicked = np.all(np.abs(img - img[44, 35]) < 0.1, axis=-1) & fabric
    assert iou(sub, clicked) > 0.5 and sub[fabric & ~clicked].mean() < 0.2
