"""Manhattan vanishing points from line segments -> focal length and camera rotation, with uncertainties.

Coordinates: pixels centred on the principal point (the image centre), OpenCV axes (x right, y down, z forward),
K = diag(f, f, 1). A vanishing point v (homogeneous) is the image of the 3-D direction d = (v_x, v_y, f v_w).

1. Hypotheses (vectorised RANSAC):
   - four lines: v1 = l_i x l_j, v2 = l_k x l_l; orthogonality of their directions gives
     f^2 = -(v1_x v2_x + v1_y v2_y) / (v1_w v2_w) (Caprile & Torre 1990); d3 = d1 x d2;
   - three lines with f taken from a grid (covers views where f is not observable, e.g. one VP at infinity):
     v1 = l_i x l_j, d2 = n_k x d1 with n_k = K^T l_k the normal of line k's interpretation plane.
   Each is scored by the strength of the segments pointing at one of its three vanishing points (distance of
   its ends from the line through its midpoint and the VP).
2. Refinement: rotation (3) and log f (1) by robust least squares on n_i . (R e_k) for every segment i assigned to
   direction k, plus a weak prior on log f; segments are reassigned and the fit repeated.
3. Uncertainty: the Gauss-Newton covariance at the optimum gives sigma(log f) and the tilt's sigma; a focal
   length the lines do not constrain keeps the prior and reports a low FOV confidence.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import least_squares
from scipy.spatial.transform import Rotation


@dataclass
class VPParams:
    """Tuning of the vanishing-point search."""

    hypotheses: int = 3000
    """RANSAC hypotheses of each kind (four-line and three-line)."""
    max_lines: int = 300
    """Strongest segments used (the rest add little and cost time)."""
    inlier_px: float = 1.5
    """Largest distance (pixels) of a segment's ends from the line through its midpoint and a VP for it to count."""
    fov_y_range_deg: tuple[float, float] = (20.0, 120.0)
    """Vertical fields of view a hypothesis may have."""
    plausible_f_over_longest: tuple[float, float] = (0.4, 1.2)
    """Focal lengths (over the longest image side) of ordinary photos, 14-43 mm equivalent: hypotheses outside
    pay a score penalty, so a telephoto reading of near-parallel lines does not beat the real frame."""
    outside_penalty: float = 0.05
    """Score (fraction of segment strength) lost per (0.2 in log f outside the plausible range)^2."""
    prior_sigma_log_f: float = 0.35
    """Width of the prior on log f (0.35 ~ FOV 55 deg +- 17 deg): weak, it decides only what lines cannot."""
    noise_px: float = 1.0
    """Expected position noise of a segment's ends, pixels (sets the robust loss scale)."""
    seed: int = 0
    """Seed of the hypothesis sampling."""


@dataclass
class ManhattanFit:
    """Result: focal length, the three directions, and which segment went where."""

    f_px: float
    directions: np.ndarray  # 3x3, columns = Manhattan directions in OpenCV camera coordinates (unit)
    assignment: np.ndarray  # (N,) index of the direction each segment points to, -1 = none
    explained: float  # fraction of segment strength explained by the three directions
    sigma_log_f: float  # posterior standard deviation of log f
    up_index: int  # which column is world up
    up_sigma_deg: float  # standard deviation of the up direction, degrees
    support: list[float] = field(default_factory=list)  # strength fraction per direction

    @property
    def up(self) -> np.ndarray:
        """World up in OpenCV camera coordinates (points towards the top of the image)."""
        return self.directions[:, self.up_index]


def _homog_lines(seg: np.ndarray) -> np.ndarray:
    p1 = np.stack([seg[:, 0], seg[:, 1], np.ones(len(seg))], 1)
    p2 = np.stack([seg[:, 2], seg[:, 3], np.ones(len(seg))], 1)
    lines = np.cross(p1, p2)
    return lines / np.linalg.norm(lines[:, :2], axis=1, keepdims=True)


def _angles_to_vps(seg: np.ndarray, vps: np.ndarray) -> np.ndarray:
    """Image angle (radians) between each segment and the line from its midpoint to each VP.

    seg: (N, 4) centred endpoints; vps: (..., 3) homogeneous. Returns (..., N)."""
    mid = 0.5 * (seg[:, :2] + seg[:, 2:4])
    u = seg[:, 2:4] - seg[:, :2]
    u = u / np.linalg.norm(u, axis=1, keepdims=True)
    vx, vy, vw = vps[..., 0:1], vps[..., 1:2], vps[..., 2:3]
    wx = vx - mid[:, 0] * vw
    wy = vy - mid[:, 1] * vw
    cos = np.abs(wx * u[:, 0] + wy * u[:, 1]) / np.maximum(np.hypot(wx, wy), 1e-12)
    return np.arccos(np.clip(cos, 0.0, 1.0))


def _endpoint_errors(seg: np.ndarray, vps: np.ndarray) -> np.ndarray:
    """Distance (pixels) of a segment's ends from the line through its midpoint and each VP: (..., N).

    Unlike the bare angle, this is as strict for a long segment as its measured ends allow, and lenient
    for a short one, so far-away (narrow-FOV) hypotheses do not win by catching every near-parallel line."""
    half = 0.5 * np.hypot(seg[:, 2] - seg[:, 0], seg[:, 3] - seg[:, 1])
    return half * np.sin(_angles_to_vps(seg, vps))


def _score(seg: np.ndarray, weight: np.ndarray, dirs: np.ndarray, f: np.ndarray, thr: float,
           extra_weight: float = 0.7, bins: int = 90) -> np.ndarray:
    """Scores of hypotheses dirs (M, 3, 3) (columns = directions) with focal lengths f (M,).

    Manhattan part: segment strength within `thr` of one of the three vanishing points. Atlanta part: rooms
    hold furniture turned about the vertical (a bed at 30 degrees to the wall), whose horizontal edges meet at a
    fourth vanishing point on the same horizon. Without it, the best Manhattan explanation of such a photo can
    trade the true vertical for the furniture's direction. The segments left over are mapped to the azimuth of
    the horizontal direction they could image; the strongest azimuth bin counts (down-weighted, the bin being
    looser than `thr`)."""
    vps = np.stack([dirs[:, 0, :] * f[:, None], dirs[:, 1, :] * f[:, None], dirs[:, 2, :]], axis=-1)  # (M,3,3)
    err = _endpoint_errors(seg, vps)  # (M, 3, N)
    best = err.min(axis=1)
    score = ((1.0 - (best / thr) ** 2).clip(0.0) * weight).sum(axis=1)
    if extra_weight <= 0:
        return score
    m = len(f)
    up_idx = np.abs(dirs[:, 1, :]).argmax(axis=1)  # world up: the direction closest to the image vertical
    rows = np.arange(m)
    up = dirs[rows, :, up_idx]  # (M, 3)
    h1 = dirs[rows, :, (up_idx + 1) % 3]
    h2 = dirs[rows, :, (up_idx + 2) % 3]
    x1, y1, x2, y2 = (seg[:, i][None, :] for i in range(4))
    fm = f[:, None]
    normals = np.stack([fm * (y1 - y2), fm * (x2 - x1), np.broadcast_to(x1 * y2 - y1 * x2, (m, len(seg)))], -1)
    normals = _normalise(normals)  # (M, N, 3) interpretation planes
    d = np.cross(normals, up[:, None, :])  # the horizontal direction each segment could image
    dn = np.linalg.norm(d, axis=-1)
    az = np.mod(np.arctan2((d * h2[:, None, :]).sum(-1), (d * h1[:, None, :]).sum(-1)), np.pi)
    left = (best >= thr) & (dn > 0.2)  # unexplained, and not (near-)vertical
    b = np.minimum((az / np.pi * bins).astype(int), bins - 1)
    hist = np.zeros((m, bins))
    np.add.at(hist, (np.nonzero(left)[0], b[left]), np.broadcast_to(weight, left.shape)[left])
    extra = (hist + np.roll(hist, 1, axis=1)).max(axis=1)
    return score + extra_weight * extra


def _normalise(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-12)


def _hypotheses(seg: np.ndarray, lines: np.ndarray, weight: np.ndarray, f_prior: float, f_lo: float, f_hi: float,
                p: VPParams, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(M, 3, 3) direction triples (columns) and (M,) focal lengths."""
    n = len(seg)
    prob = weight / weight.sum()
    all_dirs, all_f = [], []
    # Four-line hypotheses: f from the orthogonality of two vanishing points.
    idx = rng.choice(n, size=(p.hypotheses, 4), p=prob)
    v1 = np.cross(lines[idx[:, 0]], lines[idx[:, 1]])
    v2 = np.cross(lines[idx[:, 2]], lines[idx[:, 3]])
    with np.errstate(divide="ignore", invalid="ignore"):
        f2 = -(v1[:, 0] * v2[:, 0] + v1[:, 1] * v2[:, 1]) / (v1[:, 2] * v2[:, 2])
    ok = np.isfinite(f2) & (f2 > f_lo ** 2) & (f2 < f_hi ** 2)
    if ok.any():
        f = np.sqrt(f2[ok])
        d1 = _normalise(np.stack([v1[ok, 0], v1[ok, 1], f * v1[ok, 2]], 1))
        d2 = _normalise(np.stack([v2[ok, 0], v2[ok, 1], f * v2[ok, 2]], 1))
        d2 = _normalise(d2 - (d1 * d2).sum(1, keepdims=True) * d1)
        all_dirs.append(np.stack([d1, d2, np.cross(d1, d2)], axis=-1))
        all_f.append(f)
    # Three-line hypotheses on a grid of focal lengths around the prior.
    grid = f_prior * np.exp(np.linspace(-0.6, 0.6, 7))
    grid = grid[(grid > f_lo) & (grid < f_hi)]
    if len(grid):
        idx = rng.choice(n, size=(p.hypotheses, 3), p=prob)
        f = grid[rng.integers(0, len(grid), p.hypotheses)]
        v1 = np.cross(lines[idx[:, 0]], lines[idx[:, 1]])
        d1 = _normalise(np.stack([v1[:, 0], v1[:, 1], f * v1[:, 2]], 1))
        lk = lines[idx[:, 2]]
        nk = _normalise(np.stack([f * lk[:, 0], f * lk[:, 1], lk[:, 2]], 1))
        d2 = _normalise(np.cross(nk, d1))
        good = np.isfinite(d1).all(1) & np.isfinite(d2).all(1) & (np.linalg.norm(np.cross(nk, d1), axis=1) > 1e-6)
        all_dirs.append(np.stack([d1, d2, np.cross(d1, d2)], axis=-1)[good])
        all_f.append(f[good])
    if not all_dirs:
        return np.zeros((0, 3, 3)), np.zeros(0)
    return np.concatenate(all_dirs), np.concatenate(all_f)


def _plane_normals(seg: np.ndarray, f: float) -> np.ndarray:
    a = np.stack([seg[:, 0], seg[:, 1], np.full(len(seg), f)], 1)
    b = np.stack([seg[:, 2], seg[:, 3], np.full(len(seg), f)], 1)
    return _normalise(np.cross(a, b))


def _assign(seg: np.ndarray, dirs: np.ndarray, f: float, thr: float) -> tuple[np.ndarray, np.ndarray]:
    """Nearest VP of each segment (-1 beyond thr) and all angles; dirs has the directions as columns."""
    vps = np.stack([dirs[0] * f, dirs[1] * f, dirs[2]], axis=-1)  # rows: VPs (3, 3)
    err = _endpoint_errors(seg, vps)  # (3, N)
    best = err.argmin(axis=0)
    return np.where(err.min(axis=0) < thr, best, -1), err


def _refine(seg: np.ndarray, weight: np.ndarray, assign: np.ndarray, dirs: np.ndarray, f: float, f_prior: float,
            p: VPParams) -> tuple[np.ndarray, float, np.ndarray]:
    """Least-squares rotation + log f; returns (directions, f, covariance of [rotvec, log f])."""
    used = assign >= 0
    s, k = seg[used], assign[used]
    w = np.sqrt(weight[used] / weight[used].mean())
    sigma = p.noise_px / f  # angle noise of an interpretation plane, roughly
    e = np.eye(3)[:, k].T  # (n, 3): unit axis per segment

    def residuals(x: np.ndarray) -> np.ndarray:
        rot = Rotation.from_rotvec(x[:3]).as_matrix() @ dirs
        normals = _plane_normals(s, math.exp(x[3]))
        r = np.einsum("ij,ij->i", normals, e @ rot.T) / sigma * w
        return np.append(r, (x[3] - math.log(f_prior)) / p.prior_sigma_log_f)

    x0 = np.array([0.0, 0.0, 0.0, math.log(f)])
    sol = least_squares(residuals, x0, loss="soft_l1", f_scale=2.0, x_scale=[0.01, 0.01, 0.01, 0.05])
    # Covariance from the Jacobian (robust weights folded in by least_squares' scaled Jacobian).
    jac = sol.jac
    try:
        cov = np.linalg.inv(jac.T @ jac)
    except np.linalg.LinAlgError:
        cov = np.diag([1.0, 1.0, 1.0, p.prior_sigma_log_f ** 2])
    rot = Rotation.from_rotvec(sol.x[:3]).as_matrix() @ dirs
    return rot, math.exp(sol.x[3]), cov


def estimate_manhattan(segments: np.ndarray, width: int, height: int, f_prior_px: float,
                       params: VPParams | None = None) -> ManhattanFit | None:
    """Fit the Manhattan frame to segments ((N, >=4) x1 y1 x2 y2 [strength] in pixels). None if too few lines."""
    p = params or VPParams()
    if len(segments) < 6:
        return None
    segments = segments[: p.max_lines]
    seg = segments[:, :4] - np.array([width / 2, height / 2, width / 2, height / 2])
    length = np.hypot(seg[:, 2] - seg[:, 0], seg[:, 3] - seg[:, 1])
    weight = segments[:, 4] if segments.shape[1] > 4 else length
    lines = _homog_lines(seg)
    thr = p.inlier_px
    f_lo = (height / 2) / math.tan(math.radians(p.fov_y_range_deg[1]) / 2)
    f_hi = (height / 2) / math.tan(math.radians(p.fov_y_range_deg[0]) / 2)
    rng = np.random.default_rng(p.seed)
    dirs, fs = _hypotheses(seg, lines, weight, f_prior_px, f_lo, f_hi, p, rng)
    if len(fs) == 0:
        return None
    scores = np.concatenate([_score(seg, weight, dirs[i:i + 500], fs[i:i + 500], thr)
                             for i in range(0, len(fs), 500)]) / weight.sum()
    lo, hi = (r * max(width, height) for r in p.plausible_f_over_longest)
    outside = np.maximum(np.log(lo / fs), 0.0) + np.maximum(np.log(fs / hi), 0.0)
    scores = scores - p.outside_penalty * (outside / 0.2) ** 2
    best = int(np.argmax(scores))
    d, f = dirs[best], float(fs[best])
    cov = np.diag([1.0, 1.0, 1.0, p.prior_sigma_log_f ** 2])
    for _ in range(3):
        assign, _ = _assign(seg, d, f, thr * 1.5)
        if (assign >= 0).sum() < 4:
            break
        d, f, cov = _refine(seg, weight, assign, d, f, f_prior_px, p)
        f = float(np.clip(f, f_lo, f_hi))
    assign, _ = _assign(seg, d, f, thr)
    support = [float(weight[assign == i].sum() / weight.sum()) for i in range(3)]
    up_index = int(np.argmax(np.abs(d[1])))  # world up is the direction closest to the image's vertical
    d = d.copy()
    if d[1, up_index] > 0:
        d[:, up_index] *= -1  # y is down in OpenCV coordinates: up must have negative y
    # Up-direction uncertainty: rotations about the two axes perpendicular to up tilt it.
    up = d[:, up_index]
    rot_cov = cov[:3, :3]
    tilt_var = float(np.trace(rot_cov) - up @ rot_cov @ up)
    return ManhattanFit(
        f_px=f, directions=d, assignment=assign, explained=float(sum(support)),
        sigma_log_f=float(math.sqrt(max(cov[3, 3], 0.0))), up_index=up_index,
        up_sigma_deg=math.degrees(math.sqrt(max(tilt_var, 0.0))), support=support)
