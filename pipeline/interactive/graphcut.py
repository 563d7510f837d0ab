"""Binary s-t min cut on a 4-connected pixel grid (scipy's Dinic max-flow), with the graph built once per size.

The pairwise capacities depend on the image only, so the sparse matrix is assembled once per image; each solve
only rewrites the terminal capacities (positions in the CSR data array are known) and runs the max flow. The
source side of the cut (reachable from the source in the residual graph) is the foreground.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import breadth_first_order, maximum_flow

SCALE = 64.0  # energies are floats; max-flow needs integers: this many units per energy unit
HARD = 1 << 24  # capacity standing for "infinite" (hard constraints), far above any sum of soft terms


class GridCut:
    """Min cut over an HxW grid with fixed pairwise weights (right and down neighbours, symmetric)."""

    def __init__(self, w_right: np.ndarray, w_down: np.ndarray):
        h, w = w_right.shape[0], w_down.shape[1]
        self.shape = (h, w)
        n = h * w
        self.n = n
        idx = np.arange(n).reshape(h, w)
        src, snk = n, n + 1
        a_r, b_r = idx[:, :-1].ravel(), idx[:, 1:].ravel()
        a_d, b_d = idx[:-1, :].ravel(), idx[1:, :].ravel()
        cr = np.maximum(np.round(w_right[:, :-1].ravel() * SCALE), 0)
        cd = np.maximum(np.round(w_down[:-1, :].ravel() * SCALE), 0)
        pix = np.arange(n)
        rows = np.concatenate([a_r, b_r, a_d, b_d, np.full(n, src), pix])
        cols = np.concatenate([b_r, a_r, b_d, a_d, pix, np.full(n, snk)])
        data = np.concatenate([cr, cr, cd, cd, np.ones(n), np.ones(n)]).astype(np.int64)
        # Build with a marker in the terminal slots so their positions in the CSR data can be found again.
        order = np.lexsort((cols, rows))
        rows, cols, data = rows[order], cols[order], data[order]
        kind = np.concatenate([np.zeros(2 * len(a_r) + 2 * len(a_d), np.int8), np.full(n, 1, np.int8),
                               np.full(n, 2, np.int8)])[order]
        indptr = np.zeros(n + 3, np.int64)
        np.add.at(indptr, rows + 1, 1)
        indptr = np.cumsum(indptr)
        self.indptr, self.indices = indptr.astype(np.int32), cols.astype(np.int32)
        self.base = data.astype(np.int32)
        self.pos_src = np.nonzero(kind == 1)[0]  # data slots of source->pixel, in pixel order (rows sorted)
        self.pos_snk = np.nonzero(kind == 2)[0]  # data slots of pixel->sink, in pixel order
        # Sort keys guarantee pixel order: source row lists pixels by column; sink slots follow pixel rows.
        self.src_pix = cols[self.pos_src]
        self.snk_pix = rows[self.pos_snk]

    def solve(self, cost_fg: np.ndarray, cost_bg: np.ndarray, hard_fg: np.ndarray | None = None,
              hard_bg: np.ndarray | None = None) -> np.ndarray:
        """HxW bool foreground minimising sum(cost of the chosen label) + pairwise cut weights.

        cost_fg: cost of labelling a pixel foreground; cost_bg: of labelling it background."""
        h, w = self.shape
        # Only the difference matters per pixel: source capacity = cost of bg, sink capacity = cost of fg.
        diff = (np.asarray(cost_bg, np.float64) - np.asarray(cost_fg, np.float64)).ravel()
        to_src = np.clip(np.round(diff * SCALE), 0, HARD // 2)
        to_snk = np.clip(np.round(-diff * SCALE), 0, HARD // 2)
        if hard_fg is not None:
            to_src[hard_fg.ravel()], to_snk[hard_fg.ravel()] = HARD, 0
        if hard_bg is not None:
            to_snk[hard_bg.ravel()], to_src[hard_bg.ravel()] = HARD, 0
        data = self.base.copy()
        data[self.pos_src] = to_src[self.src_pix]
        data[self.pos_snk] = to_snk[self.snk_pix]
        n = self.n
        graph = csr_matrix((data, self.indices, self.indptr), shape=(n + 2, n + 2))
        flow = maximum_flow(graph, n, n + 1, method="dinic").flow
        residual = (graph - flow).tocsr()
        residual.data = (residual.data > 0).astype(np.int8)
        residual.eliminate_zeros()
        reached = breadth_first_order(residual, n, directed=True, return_predecessors=False)
        fg = np.zeros(n + 2, bool)
        fg[reached] = True
        return fg[:n].reshape(h, w)
