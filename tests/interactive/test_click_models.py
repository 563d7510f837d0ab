"""Offline clicks on large textured objects: each click's window makes a colour/texture model of its own, and
positive clicks spread over an object bound the background model like GrabCut's box (small synthetic images)."""

from __future__ import annotations

import numpy as np

from pipeline.interactive.offline import OfflineParams, OfflineSegmenter, _positive_box
from pipeline.interactive.session import ClickSession, SessionParams

NO_ZOOM = SessionParams(zoom_below=0.0)


def checker_object(h: int = 120, w: int = 160) -> tuple[np.ndarray, np.ndarray]:
    """A large object of a fine red/green checkerboard (an edge every 4 px, so a click's geodesic reach is a few
    pixels) on a grey noisy wall."""
    rng = np.random.default_rng(0)
    image = np.clip(0.5 + rng.normal(0, 0.02, (h, w, 3)), 0, 1).astype(np.float32)
    obj = np.zeros((h, w), bool)
    obj[20:100, 20:140] = True
    yy, xx = np.mgrid[:h, :w]
    cells = ((yy // 4 + xx // 4) % 2).astype(bool)
    image[obj & cells] = [0.8, 0.2, 0.2]
    image[obj & ~cells] = [0.2, 0.7, 0.2]
    return image, obj


def test_positive_box_needs_two_positive_clicks_and_holds_them_and_the_mask():
    prev = np.zeros((50, 60), np.float32)
    prev[10:20, 10:20] = 1
    assert _positive_box([((15.0, 15.0), True)], prev, 0.1) is None
    box = _positive_box([((15.0, 15.0), True), ((40.0, 50.0), True), ((5.0, 5.0), False)], prev, 0.1)
    assert box[10, 10] and box[40, 50] and box[15, 15]
    assert not box[0, 0]  # the negative click does not widen the box
    assert not box[:, 57:].any() and box[:, 52].any()  # margin: 10 % of the 40-pixel width, about 4 pixels


def test_click_window_makes_a_model_of_its_own_against_a_large_mask():
    """A positive click on the object's other colour (absent from the mask so far, common in its complement): the
    window's share of the model makes that colour cheaper as foreground; without it, it stays background."""
    image, obj = checker_object(200, 300)  # the wall is most of the complement, as in a photo
    seg = OfflineSegmenter()
    feat = seg.prepare(image)
    h, w = feat.shape
    red = np.abs(feat.lab[..., 1] - feat.lab[..., 1].max()) < 5  # the checkerboard's red cells
    mask = obj & ~red  # the previous mask: the object's green cells only
    window = np.zeros((h, w), np.float32)
    window[50:70, 90:110] = 1.0  # a click's window on the object: half red
    fg, bg = mask.astype(np.float32), (~mask).astype(np.float32) * (1 - window)
    plain_fg, plain_bg = seg._likelihood_costs(feat, fg, bg)
    win_fg, win_bg = seg._likelihood_costs(feat, fg, bg, window, None)
    r, c = np.argwhere(red & obj)[0]
    assert plain_fg[r, c] > plain_bg[r, c]  # the mask's model alone calls red background
    assert win_fg[r, c] < win_bg[r, c]  # the window's model calls it object
    wall = ~obj
    assert (win_fg[wall] > win_bg[wall]).mean() > 0.95  # and the wall stays background


def test_click_box_lets_the_flood_guard_fill_between_positive_clicks_only():
    rng = np.random.default_rng(2)
    h, w = 120, 160
    image = np.clip(0.5 + rng.normal(0, 0.02, (h, w, 3)), 0, 1).astype(np.float32)
    obj = np.zeros((h, w), bool)
    obj[20:100, 20:140] = True
    image[obj] = [0.9, 0.5, 0.1]
    left = np.zeros_like(obj)
    left[20:100, 20:40] = True

    def two_clicks(box_guard: bool) -> np.ndarray:
        params = OfflineParams(guard_reach=3.0, box_guard=box_guard)  # a guard that lets clicks add little
        session = ClickSession(image, OfflineSegmenter(params=params), params=NO_ZOOM)
        session.set_mask(left)
        session.add_click(30.5, 60.5, True)
        return session.add_click(130.5, 60.5, True)

    guarded, boxed = two_clicks(False), two_clicks(True)
    assert (guarded & obj).sum() < 0.7 * obj.sum()
    assert (boxed & obj).sum() > 0.9 * obj.sum()
    assert (boxed & ~obj).sum() < 0.05 * obj.sum()  # the box is filled by the object, not by the wall
