"""Offline click segmentation, no weights: iterated graph cut on colour/texture words (GrabCut-like).

Energy per click set, at working resolution:
- unary: colour and (capped) texture log-likelihood ratios of fg against bg, the word histograms taken from the
  current estimate (first from the previous mask, or from what the clicks reach and the image border);
- click windows: the words in a disk around each click make a model of their own, mixed into its side's model at a
  fixed share, so a positive click on a part unlike the mask so far (the lit half of a bed) still counts;
- click box: with two or more positive clicks, background evidence inside the box spanning them and the previous
  mask is damped (GrabCut's box, given by the clicks), and the flood guard lets the mask fill that box;
- soft seeds: each click's geodesic reach (Dijkstra on a contrast-weighted grid, cached per click) leans
  towards that click's label, so a click claims its region, not just its disk;
- previous mask: a per-pixel cost for disagreeing with it, switched off where the newest click reaches, so a
  click edits its region and leaves the rest of the mask alone;
- pairwise: contrast-sensitive (and depth-sensitive) Potts on the 4-connected grid;
- growth prior (optional, off by default): labelling a pixel foreground costs more the farther it lies from every
  positive click (growth distance: geodesic + straight-line extent);
- strict negative clicks: what a negative click reaches geodesically before any positive click does is hard
  background, not just its disk;
- hard constraints: a small disk at each click; the result keeps only regions connected to a positive click;
- flood guard: pixels a click adds (outside the previous mask) must lie within a growth distance of a positive
  click, and a first click may not take more than a few times the area of the structure it landed on.
The working-resolution mask is then brought to full resolution with a guided filter on the full photo, so its
edge follows the photo's own edges.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from .features import FeatureParams, ImageFeatures, compute_features
from .types import Click


@dataclass
class OfflineParams:
    """Energy settings of the offline backend."""

    click_radius: float = 0.012
    """Radius of the hard-constraint disk at each click, as a fraction of the working diagonal."""
    iterations: int = 2
    """Graph cuts per click (colour models re-estimated from each result)."""
    texture_weight: float = 0.5
    """Weight of the texture likelihood against the colour likelihood."""
    texture_cap: float = 2.0
    """Largest texture log-likelihood ratio (nats) per pixel."""
    prior_weight: float = 0.5
    """Cost per pixel of disagreeing with the previous mask (away from the newest click)."""
    geodesic_scale: float = 2.0
    """Geodesic distance (in edge-cost units; one strong edge costs ~10) over which a click's reach halves ~e."""
    click_weight: float = 4.0
    """Cost of labelling a pixel against the click that reaches it geodesically (times its closeness)."""
    border: float = 0.03
    """With no previous mask: width of the image border taken as background evidence (fraction of the side)."""
    histogram_prior: float = 1.0
    """Pseudo-count per word in the colour and texture histograms."""
    distance_limit: float = 60.0
    """Geodesic distances are computed up to this (beyond: unreachable); bounds the Dijkstra work per click."""
    extent_cost: float = 0.08
    """Growth and flood-guard distances add this much per working pixel of straight-line distance to the
    geodesic one: dark-on-dark or flat regions are nearly free to cross geodesically, so extent must count too."""
    growth_weight: float = 0.0
    """Cost of foreground at the far end of the growth ramp (growth distance from the nearest positive click); off
    by default: on the COCO tuning half it cost clicks (NoC@85 10.94 with 1.0 against 10.10 without)."""
    growth_free: float = 4.0
    """Geodesic distance from a positive click within which foreground costs nothing extra."""
    growth_span: float = 20.0
    """Geodesic distance over which the growth cost ramps from 0 to `growth_weight`."""
    guard_reach: float = 40.0
    """Flood guard: pixels a click adds lie within this growth distance (geodesic + extent) of a positive click."""
    first_area: float = 4.0
    """Flood guard on a first click: at most this many times the area of the clicked structure (the pixels
    within `structure_reach` of the click) ..."""
    structure_reach: float = 6.0
    """... a structure being what a click reaches without crossing a strong edge (one costs ~10) ..."""
    first_min_fraction: float = 0.06
    """... and never less than this fraction of the image (a click on fine texture reaches little)."""
    negative_reach: float = 12.0
    """Pixels a negative click reaches within this distance, and before any positive click does, are background."""
    box_background: float = 0.3
    """With two or more positive clicks, background evidence inside their box (and the previous mask's), grown by
    `box_margin`, counts this fraction (1 = off): like GrabCut's box, clicks spread over a large object say that
    the pixels between them are likely object, so the background colour model must come mostly from outside."""
    box_margin: float = 0.15
    """Growth of that box on each side, as a fraction of its size."""
    box_guard: bool = True
    """Whether the flood guard also allows everything inside that box."""
    click_window: float = 0.08
    """Radius (fraction of the working diagonal) of the window around each click whose colours and textures make
    a model of their own (0 = off). On textured or shaded objects a click's geodesic reach is tiny, so the models
    come only from the previous mask and a positive click outside it adds little more than its disk."""
    click_model: float = 0.5
    """Share of the clicks' windows in the colour and texture models (the rest: the mask or its complement)."""
    window_trust: float = 1.0
    """How much the newest click's window lowers the trust in the previous mask there (0 = only its reach)."""


class OfflineSegmenter:
    """Backend that needs no weights. `prepare` once per image, `predict` per click."""

    name = "offline"

    def __init__(self, feature_params: FeatureParams | None = None, params: OfflineParams | None = None):
        self.feature_params = feature_params or FeatureParams()
        self.params = params or OfflineParams()

    def prepare(self, image: np.ndarray, depth: np.ndarray | None = None) -> ImageFeatures:
        return compute_features(image, depth, self.feature_params)

    def predict(self, feat: ImageFeatures, clicks: list[Click], prev: np.ndarray | None = None) -> np.ndarray:
        """Working-resolution float mask in [0, 1] from clicks (full-image coordinates) and a previous mask
        (working resolution, float or bool, or None)."""
        p = self.params
        h, w = feat.shape
        diag = math.hypot(h, w)
        rows, cols = np.mgrid[0:h, 0:w]
        pts = [(_to_working(feat, c), c.positive) for c in clicks]
        pts = [((r, c), pos) for (r, c), pos in pts if -0.5 <= r < h - 0.5 and -0.5 <= c < w - 0.5]
        if not any(pos for _, pos in pts) and (prev is None or not prev.any()):
            return np.zeros((h, w), np.float32)  # nothing says where the target is
        radius = max(1.5, p.click_radius * diag)
        hard_fg = np.zeros((h, w), bool)
        hard_bg = np.zeros((h, w), bool)
        dist = [self._distance(feat, r, c) for (r, c), _ in pts]  # geodesic distance from each click
        near = [np.exp(-d / p.geodesic_scale).astype(np.float32) for d in dist]  # closeness, in [0, 1]
        inf = np.full((h, w), np.inf, np.float32)
        # Growth distances: geodesic plus a cost per pixel of extent (see `extent_cost`).
        ext = [d + p.extent_cost * np.hypot(rows - r, cols - c) for d, ((r, c), _) in zip(dist, pts)]
        d_pos = np.min([d for d, (_, pos) in zip(ext, pts) if pos], axis=0) if any(pos for _, pos in pts) else inf
        d_neg = np.min([d for d, (_, pos) in zip(ext, pts) if not pos], axis=0) if not all(
            pos for _, pos in pts) else inf
        for (r, c), pos in pts:
            disk = (rows - r) ** 2 + (cols - c) ** 2 <= radius ** 2
            (hard_fg if pos else hard_bg)[disk] = True
        # Strict negatives: a negative click owns what it reaches before any positive click does.
        hard_bg |= (d_neg <= p.negative_reach) & (d_neg < d_pos)
        hard_fg &= ~hard_bg
        zero = np.zeros((h, w), np.float32)
        pos_list = [e for e, (_, pos) in zip(near, pts) if pos]
        pos_e = np.max(pos_list, axis=0) if pos_list else zero
        neg_list = [e for e, (_, pos) in zip(near, pts) if not pos]
        neg_e = np.max(neg_list, axis=0) if neg_list else zero

        if prev is not None:
            prev = np.clip(prev.astype(np.float32), 0, 1)
            base_fg, base_bg = prev, 1.0 - prev
            # Trust the previous mask except where the newest click reaches (geodesically): it was wrong there.
            trust = 1.0 - near[-1] if near else 1.0
            if near and p.click_window > 0 and p.window_trust > 0:
                (r, c), _ = pts[-1]
                newest = (rows - r) ** 2 + (cols - c) ** 2 <= (p.click_window * diag) ** 2
                trust = np.minimum(trust, 1.0 - p.window_trust * newest)
            prior_fg = p.prior_weight * trust * (1.0 - prev)
            prior_bg = p.prior_weight * trust * prev
        else:
            base_fg, base_bg = self._first_evidence(pos_e, h, w)
            prior_fg = prior_bg = 0.0
        box = _positive_box(pts, prev, p.box_margin)
        damp = np.where(box, np.float32(p.box_background), np.float32(1.0)) if box is not None else 1.0
        fg_w = np.maximum(base_fg * (1.0 - neg_e), pos_e)
        bg_w = np.maximum(base_bg * (1.0 - pos_e) * damp, neg_e)
        # Soft seeds: what a click reaches without crossing an edge leans towards the click's label.
        prior_bg = prior_bg + p.click_weight * pos_e
        prior_fg = prior_fg + p.click_weight * neg_e
        # Growth prior: foreground far (geodesically) from every positive click costs extra, except inside the
        # previous mask, which earlier clicks already vouched for.
        outside = np.ones((h, w), bool) if prev is None else prev < 0.5
        ramp = np.clip((np.minimum(d_pos, 1e6) - p.growth_free) / max(p.growth_span, 1e-6), 0, 1)
        prior_fg = prior_fg + p.growth_weight * ramp * outside
        allowed = ~outside | (d_pos <= p.guard_reach)
        if prev is None and p.first_area > 0:
            allowed &= self._first_click_limit(d_pos)
        if box is not None and p.box_guard:
            allowed |= box

        seeds = [(int(round(r)), int(round(c))) for (r, c), pos in pts if pos]
        win_fg = win_bg = None
        if p.click_window > 0:
            rad2 = (p.click_window * diag) ** 2
            win_fg, win_bg = zero.copy(), zero.copy()
            for (r, c), pos in pts:
                (win_fg if pos else win_bg)[(rows - r) ** 2 + (cols - c) ** 2 <= rad2] = 1.0
            # a window is evidence for its click's label only: keep it out of the other side's model
            fg_w, bg_w = fg_w * (1.0 - win_bg), bg_w * (1.0 - win_fg)
        mask = hard_fg
        for _ in range(p.iterations):
            cost_fg, cost_bg = self._likelihood_costs(feat, fg_w, bg_w, win_fg, win_bg)
            mask = feat.cut.solve(cost_fg + prior_fg, cost_bg + prior_bg, hard_fg, hard_bg)
            mask = _connected_to(mask & (allowed | hard_fg), seeds)  # flood guard
            fg_w = np.maximum(mask.astype(np.float32), pos_e)
            bg_w = np.maximum((~mask).astype(np.float32) * damp, neg_e)
            if win_fg is not None:
                fg_w, bg_w = fg_w * (1.0 - win_bg), bg_w * (1.0 - win_fg)
        return mask.astype(np.float32)

    def _distance(self, feat: ImageFeatures, r: float, c: float) -> np.ndarray:
        """Geodesic distance from a click (inf beyond `distance_limit`); cached per click position."""
        from scipy.sparse.csgraph import dijkstra

        h, w = feat.shape
        ri, ci = int(np.clip(round(r), 0, h - 1)), int(np.clip(round(c), 0, w - 1))
        limit = float(self.params.distance_limit)
        key = ("dist", ri, ci, limit)
        if key not in feat.cache:
            d = dijkstra(feat.geodesic, directed=True, indices=ri * w + ci, limit=limit)
            feat.cache[key] = d.reshape(h, w).astype(np.float32)
        return feat.cache[key]

    def _first_click_limit(self, d_pos: np.ndarray) -> np.ndarray:
        """Pixels a first click may take: those within the largest geodesic radius whose ball holds at most
        `first_area` times the clicked structure (what lies within `structure_reach`)."""
        p = self.params
        core = max(int((d_pos <= p.structure_reach).sum()), 1)
        budget = max(p.first_area * core, p.first_min_fraction * d_pos.size)
        reach = np.sort(d_pos[np.isfinite(d_pos)].ravel())
        if len(reach) <= budget:
            return np.ones(d_pos.shape, bool)
        radius = max(float(reach[int(budget) - 1]), p.structure_reach)
        return d_pos <= radius

    def _first_evidence(self, pos_e: np.ndarray, h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
        """Colour-model weights before any mask exists: what the positive clicks reach vs. the image border."""
        bw = max(1, int(round(self.params.border * min(h, w))))
        border = np.zeros((h, w), np.float32)
        border[:bw], border[-bw:], border[:, :bw], border[:, -bw:] = 1, 1, 1, 1
        return pos_e, np.maximum(border, 0.3 * (1.0 - pos_e))

    def _likelihood_costs(self, feat: ImageFeatures, fg_w: np.ndarray, bg_w: np.ndarray,
                          win_fg: np.ndarray | None = None, win_bg: np.ndarray | None = None):
        p = self.params
        cost_fg = np.zeros(feat.shape, np.float32)
        cost_bg = np.zeros(feat.shape, np.float32)

        def histogram(words: np.ndarray, n: int, weights: np.ndarray, window: np.ndarray | None) -> np.ndarray:
            hist = np.bincount(words.ravel(), weights.ravel(), n) + p.histogram_prior
            if window is None or not window.any():
                return hist / hist.sum()
            # the clicks' windows are a model of their own, mixed in at a fixed share however small they are
            own = np.bincount(words.ravel(), window.ravel(), n) + p.histogram_prior
            return (1.0 - p.click_model) * hist / hist.sum() + p.click_model * own / own.sum()

        for words, n, weight, cap in ((feat.colour, feat.n_colour, 1.0, np.inf),
                                      (feat.texture, feat.n_texture, p.texture_weight, p.texture_cap)):
            hf = histogram(words, n, fg_w, win_fg)
            hb = histogram(words, n, bg_w, win_bg)
            # Only the log-likelihood ratio matters; texture's is capped: edge-energy words sit on both sides of
            # every boundary, so an uncapped texture term pulls a ring of background into the object.
            ratio = np.clip(np.log(hf / hf.sum()) - np.log(hb / hb.sum()), -cap, cap)  # > 0: looks like fg
            cost_fg += weight * np.maximum(-ratio, 0)[words]
            cost_bg += weight * np.maximum(ratio, 0)[words]
        return cost_fg, cost_bg


def _to_working(feat: ImageFeatures, click: Click) -> tuple[float, float]:
    """(row, col) of a full-image click at working resolution (crop offset applied)."""
    s = feat.scale
    return (click.y - feat.offset[0]) * s - 0.5, (click.x - feat.offset[1]) * s - 0.5


def _positive_box(pts: list[tuple[tuple[float, float], bool]], prev: np.ndarray | None,
                  margin: float) -> np.ndarray | None:
    """h x w bool: the bounding box of the positive clicks and the previous mask, grown by `margin` of its size on
    each side; None with fewer than two positive clicks (one click says nothing about extent)."""
    pos = [rc for rc, positive in pts if positive]
    if len(pos) < 2 or prev is None:
        return None
    h, w = prev.shape
    rs, cs = [r for r, _ in pos], [c for _, c in pos]
    rr, cc = np.nonzero(prev >= 0.5)
    if len(rr):
        rs, cs = rs + [rr.min(), rr.max()], cs + [cc.min(), cc.max()]
    r0, r1, c0, c1 = min(rs), max(rs), min(cs), max(cs)
    gr, gc = margin * (r1 - r0) + 1, margin * (c1 - c0) + 1
    box = np.zeros((h, w), bool)
    box[max(0, int(r0 - gr)):int(math.ceil(r1 + gr)) + 1, max(0, int(c0 - gc)):int(math.ceil(c1 + gc)) + 1] = True
    return box


def _connected_to(mask: np.ndarray, seeds: list[tuple[int, int]]) -> np.ndarray:
    """Only the 4-connected regions of mask that contain a seed."""
    if not seeds:
        return mask
    labels, _ = ndimage.label(mask)
    keep = {labels[r, c] for r, c in seeds if 0 <= r < mask.shape[0] and 0 <= c < mask.shape[1]} - {0}
    return np.isin(labels, list(keep)) if keep else mask


def upsample_mask(soft: np.ndarray, guide: np.ndarray, radius: int | None = None, eps: float = 1e-3) -> np.ndarray:
    """Full-resolution bool mask from a working-resolution soft mask, edge-aligned by a guided filter
    (He et al., 2010) on the full-resolution photo's luminance."""
    from PIL import Image

    H, W = guide.shape[:2]
    up = np.asarray(Image.fromarray(soft.astype(np.float32), mode="F").resize((W, H), Image.BILINEAR))
    scale = W / soft.shape[1]
    if scale <= 1.05:
        return up > 0.5
    r = radius or max(2, int(round(scale * 1.5)))
    I = guide[..., :3].mean(-1) if guide.ndim == 3 else guide
    I = I.astype(np.float32)
    box = lambda x: ndimage.uniform_filter(x, 2 * r + 1, mode="nearest")  # noqa: E731
    mI, mp = box(I), box(up)
    cov = box(I * up) - mI * mp
    var = box(I * I) - mI * mI
    a = cov / (var + eps)
    b = mp - a * mI
    q = box(a) * I + box(b)
    return q > 0.5
