"""Multi-surface mode: many adjacent surfaces of one image (walls, floor, rug, sofa, cushions) in one label map.

Each surface has its own click session; all share the image's features. After every click the surface's new
mask is merged into the label map by fixed rules, so fixing one surface does not break its neighbour:

1. A positive click takes pixels from another surface only in the connected pieces of the change that contain
   the click or touch its disk: the user said "this is A" there and nowhere else. Elsewhere the other surface
   keeps its pixels even if A's new mask grew over them. Unlabelled pixels are taken freely.
2. A negative click only removes pixels from A; they become unlabelled (never silently handed to a neighbour).
3. Afterwards, pieces of any touched surface smaller than `min_area` that hold none of its positive clicks are
   dropped (slivers left by the edit), and unlabelled holes smaller than `min_area` enclosed by one surface
   are filled with it (unless this very click made the hole).
Each session's own mask is then set to what the label map shows, so its next click starts from what the user sees.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage

from .offline import OfflineSegmenter
from .session import ClickSession, SessionParams
from .types import ClickBackend
from .clicks import iou, next_click


@dataclass
class MultiSurfaceSession:
    """A label map (0 = unlabelled) edited by clicks on one surface at a time."""

    image: np.ndarray
    labels: np.ndarray | None = None  # HxW int ids to start from (e.g. a learned segmentation), or None
    backend: ClickBackend = field(default_factory=OfflineSegmenter)
    depth: np.ndarray | None = None
    min_area: float = 0.0005
    """Pieces and holes smaller than this fraction of the image are filtered (rule 3)."""
    click_reach: float = 0.02
    """Radius, as a fraction of the image diagonal, of a click's disk in rule 1."""
    params: SessionParams = field(default_factory=SessionParams)

    def __post_init__(self) -> None:
        h, w = self.image.shape[:2]
        self.labels = np.zeros((h, w), np.int32) if self.labels is None else self.labels.astype(np.int32).copy()
        self.features = self.backend.prepare(self.image, self.depth)
        self.crops: dict = {}
        self.sessions: dict[int, ClickSession] = {}
        self.history: list[tuple[np.ndarray, int, object]] = []

    def session(self, surface: int) -> ClickSession:
        if surface <= 0:
            raise ValueError("surface ids are positive (0 is 'unlabelled')")
        if surface not in self.sessions:
            s = ClickSession(self.image, self.backend, self.depth, self.params, features=self.features,
                             crops=self.crops)
            current = self.labels == surface
            s.mask = current if current.any() else None
            self.sessions[surface] = s
        return self.sessions[surface]

    def click(self, surface: int, x: float, y: float, positive: bool) -> np.ndarray:
        """One click on one surface; returns the updated label map."""
        sess = self.session(surface)
        self.history.append((self.labels.copy(), surface, (list(sess.clicks), sess.mask)))
        # The session starts from what the label map shows for this surface.
        shown = self.labels == surface
        sess.mask = shown if shown.any() else None
        new = sess.add_click(x, y, positive)
        self.labels = self._merge(surface, new, x, y, positive)
        sess.mask = self.labels == surface
        return self.labels

    def set_surface_mask(self, surface: int, mask: np.ndarray) -> np.ndarray:
        """Replace a surface's mask wholesale (a hand edit): it wins everywhere it covers."""
        self.history.append((self.labels.copy(), surface, None))
        self.labels[self.labels == surface] = 0
        self.labels[np.asarray(mask, bool)] = surface
        self.session(surface).mask = self.labels == surface
        return self.labels

    def undo(self) -> np.ndarray:
        if self.history:
            self.labels, surface, state = self.history.pop()
            if state is not None and surface in self.sessions:
                self.sessions[surface].clicks, self.sessions[surface].mask = state
        return self.labels

    def mask(self, surface: int) -> np.ndarray:
        return self.labels == surface

    # --- the merge rules ------------------------------------------------------------------------------------

    def _merge(self, surface: int, new: np.ndarray, x: float, y: float, positive: bool) -> np.ndarray:
        labels = self.labels.copy()
        h, w = labels.shape
        old = labels == surface
        lost = old & ~new
        labels[lost] = 0  # rule 2
        gained = new & ~old
        free = gained & (labels == 0)
        labels[free] = surface
        if positive:
            contested = gained & (labels != 0) & (labels != surface)
            if contested.any():
                pieces, _ = ndimage.label(contested)
                rows, cols = np.ogrid[0:h, 0:w]
                radius = max(2.0, self.click_reach * np.hypot(h, w))
                disk = (rows - (y - 0.5)) ** 2 + (cols - (x - 0.5)) ** 2 <= radius ** 2
                chosen = np.unique(pieces[disk & contested])
                take = np.isin(pieces, chosen[chosen > 0])
                touched = set(np.unique(labels[take]).tolist()) - {0}
                labels[take] = surface  # rule 1
            else:
                touched = set()
        else:
            touched = set()
        return self._filter(labels, touched | {surface}, lost)

    def _filter(self, labels: np.ndarray, touched: set[int], lost: np.ndarray | None = None) -> np.ndarray:
        min_px = max(4, int(self.min_area * labels.size))
        for sid in touched:
            m = labels == sid
            if not m.any():
                continue
            pieces, n = ndimage.label(m)
            if n <= 1:
                continue
            sizes = np.bincount(pieces.ravel())
            keep_ids = {i for i in range(1, n + 1) if sizes[i] >= min_px}
            sess = self.sessions.get(sid)
            for c in (sess.clicks if sess else []):
                r, col = int(c.y), int(c.x)
                if c.positive and 0 <= r < labels.shape[0] and 0 <= col < labels.shape[1] and pieces[r, col]:
                    keep_ids.add(int(pieces[r, col]))
            drop = (pieces > 0) & ~np.isin(pieces, list(keep_ids))
            labels[drop] = 0
        # Small unlabelled holes inside one surface take that surface.
        holes, n = ndimage.label(labels == 0)
        if n:
            sizes = np.bincount(holes.ravel())
            small = np.nonzero((sizes < min_px) & (np.arange(len(sizes)) > 0))[0]
            for i in small[:200]:  # bounded: a pathological map must not stall a click
                piece = holes == i
                if lost is not None and (piece & lost).any():
                    continue  # this click just removed it: refilling would undo the click
                ring = ndimage.binary_dilation(piece) & ~piece
                around = np.unique(labels[ring])
                if len(around) == 1 and around[0] > 0:
                    labels[piece] = around[0]
        return labels


def simulate_multi(session: MultiSurfaceSession, gt: np.ndarray, surfaces: list[int], threshold: float,
                   max_clicks: int) -> dict:
    """Multi-surface click simulation: click the worst surface until the mean IoU reaches the threshold.

    Returns clicks used, clicks per surface, whether it failed (budget spent first), and the final IoUs."""
    clicks = 0
    while True:
        ious = {s: iou(session.labels == s, gt == s) for s in surfaces}
        if np.mean(list(ious.values())) >= threshold or clicks >= max_clicks:
            break
        worst = min(ious, key=ious.get)
        x, y, positive = next_click(session.labels == worst, gt == worst)
        session.click(worst, x, y, positive)
        clicks += 1
    ok = np.mean(list(ious.values())) >= threshold
    return {"clicks": clicks, "clicks_per_surface": clicks / len(surfaces), "failed": not ok, "ious": ious}
