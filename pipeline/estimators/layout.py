"""Room layout of a bare photo without weights: box hypotheses from the vanishing points, scored by line
support and surface orientation (after Hedau, Hoiem and Forsyth 2009; Lee, Hebert and Kanade 2009).

The camera estimate gives the three Manhattan directions. In that frame, with the camera at the origin and its
height above the floor as the unit, a room box is five numbers: the ceiling's height over the camera (`c`) and
the distances of the four walls (x-, x+, z-, z+). Each pixel sees the face its ray meets first, so a hypothesis is
a label map: floor, ceiling and up to four walls. Two cues score it, both from the photo's line segments (each
assigned to the vanishing point it points at):

- line support: box edges (where two faces meet) that lie on a detected segment of the edge's direction count;
  edges with no segment under them cost a little;
- surface orientation: a face with normal axis m is covered by lines of the two other axes (a wall facing x
  shows vertical and z lines, the floor x and z lines); blurred line densities give each pixel's evidence for
  each orientation (a soft version of Lee et al.'s orientation map), and a hypothesis earns the evidence of
  its faces' orientations.

Random hypotheses (log-uniform sizes) are scored in batches at a small resolution, the best are perturbed and
rescored a few rounds. The result is the label map at the image's resolution, which face each wall label is,
and `ceiling_over_camera` (the ceiling height over the camera height, the scale cue when a ceiling is seen).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from pipeline.core.resample import resize_area, resize_nearest, working_shape
from .lines import detect_segments
from .vanishing import _assign

FACES = ("floor", "ceiling", "wall x-", "wall x+", "wall z-", "wall z+")
NORMAL_AXIS = np.array([1, 1, 0, 0, 2, 2])  # world axis (x, up, z) each face is perpendicular to


@dataclass
class LayoutParams:
    """Tuning of the box search."""

    size: int = 96
    """Longest side, pixels, of the label maps that hypotheses are scored at."""
    hypotheses: int = 3000
    """Random hypotheses in the first round."""
    rounds: int = 4
    """Rounds of perturbing the best hypotheses."""
    line_weight: float = 1.0
    """Weight of line support against surface orientation."""
    unsupported_cost: float = 0.3
    """What an edge pixel with no segment of its direction under it costs, against 1 for a supported one."""
    blur: float = 0.08
    """Gaussian blur of the line densities, as a fraction of the longest side."""
    ceiling_prior: float = 1.0
    """Typical ceiling height over the camera height (2.6 m ceiling, 1.3 m camera): lines alone confuse a
    furniture top with a wall's base or a wall with the ceiling, the prior settles what they cannot."""
    ceiling_sigma: float = 0.35
    """Width of that prior in log units."""
    prior_weight: float = 0.1
    """Score lost at one sigma from the ceiling prior."""
    near_wall: float = 2.0
    """Walls nearer than this (camera heights) pay `prior_weight` per 0.5 in log distance squared: furniture
    edges in front of a wall otherwise pass for its base."""
    seed: int = 0


@dataclass
class Layout:
    """The best box: per-pixel face (index into FACES, at the photo's resolution) and its shape."""

    faces: np.ndarray  # HxW int, index into FACES
    box: dict  # ceiling_over_camera, x-, x+, z-, z+ (camera height = 1)
    score: float
    line_support: float  # fraction of the box's edge pixels lying on a segment of their direction
    orientation: float  # mean orientation evidence of the faces (0..1)
    depth: np.ndarray  # HxW z-depth of the box, in camera heights (a relative depth of the room's surfaces)

    @property
    def ceiling_over_camera(self) -> float:
        return float(self.box["ceiling_over_camera"])

    def visible(self, face: str) -> bool:
        return bool((self.faces == FACES.index(face)).any())


def _world_rays(w: int, h: int, f: float, directions: np.ndarray, up_index: int) -> np.ndarray:
    """N x 3 ray directions of a w x h grid (image scaled so that f applies) in the frame (x, up, z)."""
    u, v = np.meshgrid(np.arange(w) + 0.5 - w / 2, np.arange(h) + 0.5 - h / 2)
    rays = np.stack([u, v, np.full_like(u, f)], -1).reshape(-1, 3)
    axes = [(up_index + 1) % 3, up_index, (up_index + 2) % 3]
    return rays @ directions[:, axes]


def _base_distances(rw: np.ndarray) -> np.ndarray:
    """N x 6: ray parameter to each face when its distance (floor: the camera height) is 1; inf if not met."""
    with np.errstate(divide="ignore"):
        x, y, z = rw[:, 0], rw[:, 1], rw[:, 2]
        cols = [np.where(y < 0, -1 / y, np.inf), np.where(y > 0, 1 / y, np.inf),
                np.where(x < 0, -1 / x, np.inf), np.where(x > 0, 1 / x, np.inf),
                np.where(z < 0, -1 / z, np.inf), np.where(z > 0, 1 / z, np.inf)]
    return np.stack(cols, 1)


def _line_maps(segments: np.ndarray, assign: np.ndarray, w: int, h: int, scale: float) -> np.ndarray:
    """3 x h x w: strength of the segments of each direction rasterised at the score resolution."""
    maps = np.zeros((3, h, w), np.float32)
    for seg, k in zip(segments, assign):
        if k < 0:
            continue
        x1, y1, x2, y2 = seg[:4] * scale
        n = int(max(abs(x2 - x1), abs(y2 - y1))) + 2
        xs = np.clip(np.linspace(x1, x2, n).astype(int), 0, w - 1)
        ys = np.clip(np.linspace(y1, y2, n).astype(int), 0, h - 1)
        maps[k, ys, xs] = 1.0
    return maps


def estimate_layout(image: np.ndarray, f_px: float, directions: np.ndarray, up_index: int,
                    params: LayoutParams | None = None) -> Layout:
    """The best box for an HxWx3 sRGB photo, given the focal length (pixels at the photo's resolution) and the
    Manhattan directions (3x3 columns, OpenCV camera axes; column `up_index` is world up)."""
    p = params or LayoutParams()
    h0, w0 = image.shape[:2]
    # Lines at a moderate resolution (the detector's lengths are relative), scored at a small one.
    lw, lh = working_shape(w0, h0, 480)
    segments = detect_segments(resize_area(image, (lw, lh)))
    s_line = lw / w0
    seg_c = segments[:, :4] - np.array([lw / 2, lh / 2, lw / 2, lh / 2])
    assign_cv = _assign(seg_c, directions, f_px * s_line, 2.0)[0] if len(segments) else np.zeros(0, int)
    # Column index -> world axis (x, up, z), as in _world_rays.
    col_to_axis = {(up_index + 1) % 3: 0, up_index: 1, (up_index + 2) % 3: 2}
    assign = np.array([col_to_axis[int(a)] if a >= 0 else -1 for a in assign_cv], int)
    w, h = working_shape(w0, h0, p.size)
    s = w / w0
    lines = _line_maps(segments, assign, w, h, w / lw)
    near = np.stack([ndimage.binary_dilation(m > 0, iterations=1) for m in lines])
    sigma = p.blur * max(w, h)
    dens = np.stack([ndimage.gaussian_filter(m, sigma) for m in lines])
    dens = dens / max(float(dens.max()), 1e-9)
    evid = np.stack([np.sqrt(dens[1] * dens[2]), np.sqrt(dens[0] * dens[2]), np.sqrt(dens[0] * dens[1])])
    total = evid.sum(0)
    orient = (evid / np.maximum(total, 1e-9)).reshape(3, -1)  # per-pixel share of each orientation
    conf = (total / max(float(total.max()), 1e-9)).reshape(-1)  # where lines say something at all
    base = _base_distances(_world_rays(w, h, f_px * s, directions, up_index))
    face_orient = orient[NORMAL_AXIS]  # 6 x N
    # Edge direction between faces i and j: the axis neither is perpendicular to (-1: no edge, e.g. x- | x+).
    edge_axis = -np.ones((6, 6), int)
    for i in range(6):
        for j in range(6):
            a, b = NORMAL_AXIS[i], NORMAL_AXIS[j]
            if a != b:
                edge_axis[i, j] = 3 - a - b
    rng = np.random.default_rng(p.seed)

    def score(hyp: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """hyp: M x 6 face distances (floor = 1). Returns (score, line support, orientation) per hypothesis."""
        out_s, out_l, out_o = [], [], []
        for chunk in np.array_split(hyp, max(1, len(hyp) // 200)):
            lab = np.argmin(base[None] * chunk[:, None, :], axis=2)  # M x N
            o = (np.take_along_axis(face_orient.T[None], lab[..., None], 2)[..., 0] * conf).sum(1) / max(
                conf.sum(), 1e-9)
            grid = lab.reshape(len(chunk), h, w)
            sup = np.zeros(len(chunk))
            cnt = np.zeros(len(chunk))
            for a_, b_ in ((grid[:, :, 1:], grid[:, :, :-1]), (grid[:, 1:, :], grid[:, :-1, :])):
                ax = edge_axis[a_, b_]  # M x h' x w'
                is_edge = a_ != b_
                hit = np.zeros_like(is_edge)
                for k in range(3):
                    nk = near[k][: a_.shape[1], : a_.shape[2]]
                    hit |= (ax == k) & nk[None]
                sup += (hit & is_edge).sum((1, 2))
                cnt += is_edge.sum((1, 2))
            lsup = (sup - p.unsupported_cost * (cnt - sup)) / (w + h)
            prior = p.prior_weight * (np.log(chunk[:, 1] / p.ceiling_prior) / p.ceiling_sigma) ** 2
            if p.near_wall > 0:
                prior = prior + p.prior_weight * ((np.log(p.near_wall / chunk[:, 2:]).clip(0) / 0.5) ** 2).sum(1)
            out_s.append(o + p.line_weight * lsup - prior)
            out_l.append(sup / np.maximum(cnt, 1))
            out_o.append(o)
        return np.concatenate(out_s), np.concatenate(out_l), np.concatenate(out_o)

    def sample(n: int) -> np.ndarray:
        hyp = np.exp(rng.uniform(np.log(0.3), np.log(12.0), (n, 6)))
        hyp[:, 0] = 1.0
        hyp[:, 1] = np.exp(rng.uniform(np.log(0.25), np.log(2.5), n))
        return hyp

    hyp = sample(p.hypotheses)
    sc = score(hyp)[0]
    for _ in range(p.rounds):
        top = hyp[np.argsort(-sc)[:30]]
        new = np.repeat(top, 20, axis=0) * np.exp(rng.normal(0, 0.15, (len(top) * 20, 6)))
        new[:, 0] = 1.0
        hyp = np.vstack([top, new])
        sc = score(hyp)[0]
    best = int(np.argmax(sc))
    s_best, l_best, o_best = (v[0] for v in score(hyp[best:best + 1]))
    # The label map at the photo's resolution.
    full = _base_distances(_world_rays(w0, h0, f_px, directions, up_index))
    dist = full * hyp[best][None, :]
    faces = np.argmin(dist, axis=1).reshape(h0, w0)
    depth = (dist.min(axis=1) * f_px).reshape(h0, w0).astype(np.float32)  # rays are (u, v, f): z = t f
    box = {"ceiling_over_camera": float(hyp[best, 1]), "x-": float(hyp[best, 2]), "x+": float(hyp[best, 3]),
           "z-": float(hyp[best, 4]), "z+": float(hyp[best, 5])}
    return Layout(faces, box, float(s_best), float(l_best), float(o_best), depth)


def snap_to_regions(faces: np.ndarray, regions: np.ndarray, purity: float = 0.7, image: np.ndarray | None = None,
                    same_colour: float = 0.12) -> tuple[np.ndarray, np.ndarray]:
    """Combine the box with the unsupervised regions: a region mostly (>= `purity`) on one face takes that face
    whole (the box's straight edges move to the photo's real boundaries); the others keep the box's faces and are
    returned as a mask of clutter (what the box does not explain: furniture, mostly). With `image`, a region
    within `same_colour` of its face's main region in every channel is that surface, not clutter."""
    h, w = faces.shape
    if regions.shape != faces.shape:
        regions = resize_nearest(regions, (w, h))
    n = int(regions.max()) + 1
    counts = np.zeros((n, len(FACES)), np.int64)
    np.add.at(counts, (regions.ravel(), faces.ravel()), 1)
    share = counts.max(1) / np.maximum(counts.sum(1), 1)
    major = counts.argmax(1)
    pure = share >= purity
    out = np.where(pure[regions], major[regions], faces)
    # Within a face, the region holding most of it is the surface; another pure region of some size on the floor
    # or on a wall is something in front of it (a bed on the floor, a dresser against a wall): clutter too.
    surface = {int(k): int(np.argmax(np.where(pure & (major == k), counts[:, k], -1))) for k in np.unique(major[pure])}
    sizes = counts.sum(1)
    inside = np.array([bool(pure[r]) and surface.get(int(major[r])) != r and major[r] != FACES.index("ceiling")
                       and sizes[r] >= 0.01 * regions.size for r in range(n)])
    if image is not None:  # a region the colour of its face's surface is more of that surface (lit differently)
        img = image if image.shape[:2] == (h, w) else resize_area(image, (w, h))
        mean = np.stack([np.bincount(regions.ravel(), img[..., c].ravel(), n) for c in range(3)], 1) / np.maximum(
            sizes, 1)[:, None]
        for r in np.nonzero(inside)[0]:
            if np.abs(mean[r] - mean[surface[int(major[r])]]).max() < same_colour:
                inside[r] = False
    return out, ~pure[regions] | inside[regions]


def camera_height_from_ceiling(layout: Layout, ceiling_height_m: float) -> float | None:
    """Camera height above the floor (m) if the ceiling is seen and the room is `ceiling_height_m` high."""
    if not layout.visible("ceiling"):
        return None
    return ceiling_height_m / (1.0 + layout.ceiling_over_camera)


def fov_from_f(f_px: float, height: int) -> float:
    return math.degrees(2 * math.atan(height / 2 / f_px))
