"""Click segmentation (offline backend): graph cut, click simulation, sessions, zoom, consistency."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from pipeline.interactive.clicks import ClickRun, iou, next_click, simulate
from pipeline.interactive.graphcut import GridCut
from pipeline.interactive.offline import OfflineSegmenter
from pipeline.interactive.session import ClickSession, SessionParams


def scene(h: int = 120, w: int = 160, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A textured background with an orange disc (the target) and a second orange disc far away (a decoy)."""
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[0:h, 0:w]
    image = np.empty((h, w, 3), np.float32)
    image[:] = [0.35, 0.4, 0.5]
    image += 0.08 * np.sin(cols[..., None] / 3.0) * np.array([1, 1, 1])  # stripes: texture
    target = (rows - 60) ** 2 + (cols - 55) ** 2 < 30 ** 2
    decoy = (rows - 25) ** 2 + (cols - 135) ** 2 < 14 ** 2
    image[target] = [0.9, 0.5, 0.1]
    image[decoy] = [0.9, 0.5, 0.1]
    image = np.clip(image + rng.normal(0, 0.02, image.shape), 0, 1).astype(np.float32)
    return image, target, decoy


def test_grid_cut_recovers_a_noisy_rectangle_and_keeps_hard_constraints():
    rng = np.random.default_rng(0)
    truth = np.zeros((40, 50), bool)
    truth[10:30, 15:40] = True
    evidence = np.where(truth, 1.0, -1.0) + rng.normal(0, 1.2, truth.shape)
    cut = GridCut(np.full(truth.shape, 1.0), np.full(truth.shape, 1.0))
    mask = cut.solve(np.maximum(-evidence, 0), np.maximum(evidence, 0))
    assert (mask == truth).mean() > 0.97
    hard_bg = np.zeros_like(truth)
    hard_bg[20, 20] = True
    hard_fg = np.zeros_like(truth)
    hard_fg[0, 0] = True
    mask = cut.solve(np.maximum(-evidence, 0), np.maximum(evidence, 0), hard_fg, hard_bg)
    assert mask[0, 0] and not mask[20, 20]


def test_next_click_is_the_interior_of_the_largest_error():
    gt = np.zeros((50, 60), bool)
    gt[10:40, 10:50] = True
    pred = np.zeros_like(gt)
    x, y, positive = next_click(pred, gt)
    assert positive and 20 <= x <= 40 and abs(y - 25) <= 1  # on the ridge of the distance transform
    pred = gt.copy()
    pred[0:6, 0:60] = True  # a false-positive band, thinner than the false negatives below
    pred[10:40, 30:50] = False
    x, y, positive = next_click(pred, gt)
    assert positive and x > 30
    run = ClickRun(ious=[0.5, 0.86, 0.91])
    assert run.noc(0.85) == 2 and run.noc(0.90) == 3 and run.noc(0.95, 20) == 20


def test_one_click_segments_the_target_not_the_decoy():
    image, target, decoy = scene()
    session = ClickSession(image)
    mask = session.add_click(55.5, 60.5, True)
    assert mask.shape == target.shape
    assert iou(mask, target) > 0.9
    assert not (mask & decoy).any()  # only regions connected to a positive click are kept


def test_simulation_reaches_90_quickly_and_negative_clicks_remove():
    image, target, _ = scene(seed=1)
    run = simulate(ClickSession(image), target, None, max_clicks=5)
    assert run.noc(0.90, 5) <= 3
    session = ClickSession(image)
    session.add_click(55.5, 60.5, True)
    grown = target | ((np.mgrid[0:120, 0:160][0] > 55) & (np.mgrid[0:120, 0:160][1] > 80)
                      & (np.mgrid[0:120, 0:160][1] < 100))
    session.set_mask(grown)  # a bad hand edit that spills over the background
    mask = session.add_click(90.5, 100.5, False)
    assert not mask[100, 90]
    assert iou(mask, target) > iou(grown, target)


def test_same_clicks_give_consistent_results_whatever_the_previous_mask():
    image, target, _ = scene(seed=2)
    clean = ClickSession(image)
    clean.set_mask(target)
    a = clean.add_click(55.5, 60.5, True)
    rough = ClickSession(image)
    rng = np.random.default_rng(0)
    jagged = ndimage.binary_dilation(target, iterations=3) & (rng.random(target.shape) > 0.15)  # speckled, fat
    rough.set_mask(jagged)
    b = rough.add_click(55.5, 60.5, True)
    assert iou(a, b) > 0.9
    assert iou(b, target) > 0.85


def test_small_targets_are_zoomed_into():
    rng = np.random.default_rng(3)
    h, w = 400, 600
    image = np.clip(np.full((h, w, 3), 0.5, np.float32) + rng.normal(0, 0.03, (h, w, 3)), 0, 1).astype(np.float32)
    rows, cols = np.mgrid[0:h, 0:w]
    small = (np.abs(rows - 200) < 9) & (np.abs(cols - 300) < 14)
    image[small] = [0.1, 0.7, 0.2]
    session = ClickSession(image, params=SessionParams(zoom_below=0.2))
    session.add_click(300.5, 200.5, True)
    mask = session.add_click(300.5, 195.5, True)
    assert session.crops, "a crop's features were computed"
    assert iou(mask, small) > 0.85
    assert mask.shape == (h, w)


def test_undo_and_reset():
    image, target, _ = scene()
    session = ClickSession(image)
    first = session.add_click(55.5, 60.5, True).copy()
    session.add_click(10.5, 10.5, False)
    assert np.array_equal(session.undo(), first)
    session.reset()
    assert session.mask is None and not session.clicks


def test_depth_separates_same_coloured_touching_surfaces():
    h, w = 80, 100
    image = np.clip(np.full((h, w, 3), 0.6, np.float32) + np.random.default_rng(0).normal(0, 0.02, (h, w, 3)), 0, 1)
    depth = np.full((h, w), 3.0, np.float32)
    depth[:, 50:] = 1.5  # a box in front of the wall, same colour
    truth = np.zeros((h, w), bool)
    truth[:, 50:] = True
    with_depth = ClickSession(image.astype(np.float32), OfflineSegmenter(), depth)
    without = ClickSession(image.astype(np.float32), OfflineSegmenter())
    a = with_depth.add_click(75.5, 40.5, True)
    b = without.add_click(75.5, 40.5, True)
    assert iou(a, truth) > 0.9
    assert iou(a, truth) > iou(b, truth)


@pytest.mark.parametrize("h,w", [(30, 40), (7, 9)])
def test_tiny_images_work(h, w):
    image = np.random.default_rng(0).random((h, w, 3)).astype(np.float32)
    mask = ClickSession(image).add_click(w / 2, h / 2, True)
    assert mask.shape == (h, w) and mask[h // 2, w // 2]
