"""Offline clicks that do not flood: growth prior, flood guard, strict negatives, local-contrast geodesics, and the
click benchmark's summary (small synthetic images; shared-data checks skip when the data is absent)."""

from __future__ import annotations

import argparse

import numpy as np
import pytest

from box_case import SHARED_DATA
from pipeline.interactive.features import FeatureParams, geodesic_graph
from pipeline.interactive.offline import OfflineParams, OfflineSegmenter
from pipeline.interactive.session import ClickSession, SessionParams

NO_ZOOM = SessionParams(zoom_below=0.0)


def dark_furniture(h: int = 240, w: int = 320, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A small dark box touching a large dark block of almost the same colour, on a light wall (the SUN case:
    a night stand against a bed's foot board). At the benchmark's working resolution: growth distances count
    working pixels."""
    rng = np.random.default_rng(seed)
    image = np.full((h, w, 3), 0.8, np.float32)
    image[80:220, 40:300] = 0.10  # the big dark block
    small = np.zeros((h, w), bool)
    small[110:160, 120:170] = True
    image[small] = 0.11  # a faint step only
    image = np.clip(image + rng.normal(0, 0.01, image.shape), 0, 1).astype(np.float32)
    return image, small


def test_first_click_on_a_small_box_does_not_flood_the_block():
    image, small = dark_furniture()
    session = ClickSession(image, OfflineSegmenter(), params=NO_ZOOM)
    mask = session.add_click(145.5, 135.5, True)
    assert mask[135, 145]
    # The budget is 4x the clicked structure; the backend before the flood guard took the whole block (14.6x).
    assert mask.sum() <= 4 * small.sum()


def test_first_click_on_a_uniform_image_stays_local():
    rng = np.random.default_rng(1)
    image = np.clip(0.5 + rng.normal(0, 0.02, (240, 320, 3)), 0, 1).astype(np.float32)
    mask = ClickSession(image, OfflineSegmenter(), params=NO_ZOOM).add_click(160.5, 120.5, True)
    assert mask[120, 160] and mask.mean() < 0.5


def test_first_click_limit_keeps_a_budget_of_the_clicked_structure():
    seg = OfflineSegmenter(params=OfflineParams(first_area=4.0, structure_reach=1.0, first_min_fraction=0.0))
    d = np.arange(100, dtype=np.float32).reshape(10, 10) / 10.0  # 10 pixels per unit of distance
    allowed = seg._first_click_limit(d)
    # structure = d <= 1: 11 pixels; budget 44 pixels -> radius 4.3
    assert 40 <= allowed.sum() <= 50 and allowed[0, 0] and not allowed[9, 9]
    d[5:] = np.inf  # unreachable pixels are never allowed
    assert not seg._first_click_limit(d)[5:].any()


def test_negative_click_removes_its_whole_region_not_just_a_disk():
    h, w = 90, 140
    image = np.full((h, w, 3), 0.2, np.float32)
    left = np.zeros((h, w), bool)
    left[20:70, 10:60] = True
    right = np.zeros((h, w), bool)
    right[20:70, 80:130] = True
    image[left | right] = [0.9, 0.6, 0.2]  # same colour: the colour model alone cannot tell them apart
    image[20:70, 60:80] = [0.85, 0.6, 0.25]  # a faint bridge joins them
    image = np.clip(image + np.random.default_rng(0).normal(0, 0.01, image.shape), 0, 1).astype(np.float32)
    session = ClickSession(image, OfflineSegmenter(), params=NO_ZOOM)
    session.set_mask(left | right | (np.zeros_like(left)))  # a previous mask that flooded both boxes
    session.mask[20:70, 60:80] = True
    mask = session.add_click(105.5, 45.5, False)
    assert not mask[45, 105] and (mask & right).sum() < 0.1 * right.sum()
    assert (mask & left).sum() > 0.9 * left.sum()  # the rest of the mask stands


def test_later_click_growth_stays_near_a_positive_click():
    image, small = dark_furniture()
    params = OfflineParams(guard_reach=3.0, growth_weight=0.0)
    session = ClickSession(image, OfflineSegmenter(params=params), params=NO_ZOOM)
    session.add_click(145.5, 135.5, True)
    seg = session.backend
    feat = session.features
    d = seg._distance(feat, 135.5 * feat.scale - 0.5, 145.5 * feat.scale - 0.5)
    mask = session.add_click(146.5, 136.5, True)
    far = d > params.guard_reach + 1.0
    assert not (mask & far & ~small).any()


def test_local_contrast_makes_a_faint_dark_edge_cost_more():
    # Lab directly: a busy, textured wall sets the image's typical contrast; a smooth dark block with a faint step.
    rng = np.random.default_rng(0)
    h, w = 60, 80
    lab = np.zeros((h, w, 3), np.float32)
    lab[..., 0] = 70 + rng.normal(0, 4.0, (h, w))  # wall texture
    lab[40:, :, 0] = 8 + rng.normal(0, 0.2, (h - 40, w))  # dark block, nearly noiseless
    lab[40:, 40:, 0] += 2.0  # the faint step between two dark pieces
    costs = {}
    for lc in (0.0, 0.5):
        g = geodesic_graph(lab, None, FeatureParams(local_contrast=lc)).tocsr()
        a = 50 * w + 39
        costs[lc] = float(g[a, a + 1])
    assert costs[0.5] > 2 * costs[0.0]


def test_click_summary_counts_noc_iou_at_k_and_floods():
    from pipeline.app.bench.estimators import click_summary

    runs = [{"ious": [0.5, 0.86, 0.91], "first_area_ratio": 0.5},
            {"ious": [0.95], "first_area_ratio": 1.0},
            {"ious": [0.1] * 20, "first_area_ratio": 5.0}]
    r = click_summary(runs, 20)
    assert r["noc85"] == pytest.approx((2 + 1 + 20) / 3) and r["noc90"] == pytest.approx((3 + 1 + 20) / 3)
    assert r["iou1"] == pytest.approx((0.5 + 0.95 + 0.1) / 3)
    assert r["iou5"] == pytest.approx((0.91 + 0.95 + 0.1) / 3)  # stopped runs keep their last IoU
    assert r["flood_rate"] == pytest.approx(1 / 3) and r["fail85"] == 1


SUN = SHARED_DATA / "sunrgbd_mmdet3d_samples"


@pytest.mark.skipif(not (SUN / "depth_gt_png").is_dir(), reason="SUN RGB-D samples not present")
def test_sun_click_rows_one_object():
    from pipeline.app.bench.estimators import sun_click_rows

    args = argparse.Namespace(data=SHARED_DATA, max_clicks=3, limit=1, no_zoom=False)
    rows = sun_click_rows(args)
    assert rows and rows[0]["targets"] == 1 and 0.0 <= rows[0]["iou1"] <= 1.0


def test_growth_prior_shrinks_a_first_click_on_a_uniform_image():
    rng = np.random.default_rng(2)
    image = np.clip(0.5 + rng.normal(0, 0.02, (90, 120, 3)), 0, 1).astype(np.float32)
    areas = []
    for gw in (0.0, 5.0):
        seg = OfflineSegmenter(params=OfflineParams(growth_weight=gw, growth_free=1.0, growth_span=2.0))
        areas.append(ClickSession(image, seg, params=NO_ZOOM).add_click(60.5, 45.5, True).sum())
    assert 0 < areas[1] < areas[0]
