"""Material retrieval by synthesis, weight-free (issue 16): every library material rendered in the crop's place.

Per material part with crops: each crop's pixels are looked up in every library material's albedo tile through
the surface's own UVs (one UV pass of the scene: the perspective, the surface's metric UVs, the pattern's size
and direction as the camera sees them), at each texture scale and rotation tried, and shaded by the crop's mean
irradiance (the photo crop's mean over the part's fitted flat albedo). This is the cheap equivalent of rendering
the candidate under the initial lighting: shading across a crop is smooth and `texture_stats` removes a quadratic of it,
and gloss and bump are second-order for telling a plank floor from tiles or paint (the joint optimisation fits
them afterwards). The synthesised crop and the photo crop are compared by `texture_stats.distance` (Lab colour
statistics + multi-scale filter-bank energies), averaged over the part's crops.

Cost control: albedo tiles are cached on disk per material (`materials_db.tiles`), the library is pruned by
mean colour first (`prune` nearest in Lab), and all scales of one candidate are measured as one batch. CLIP, when
its weights are here, narrows the shortlist further before the colour pruning; it never decides alone.
The flat material (the fitted colour) is scored the same way; a part stays homogeneous only when that beats
every textured candidate.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .texture_stats import WEIGHTS, distance, features, linear_to_lab


@dataclass
class CropView:
    """One crop of a part: the photo (linear, h x w x 3), the surface UVs there (h x w x 2, before the material's
    texture transform) and the crop's irradiance (3,) = photo crop mean / flat albedo."""

    photo: np.ndarray
    uv: np.ndarray
    irradiance: np.ndarray


@dataclass
class Scored:
    library: str
    category: str
    distance: float
    scale: float = 1.0
    rotation_deg: float = 0.0
    pattern: float = np.inf  # distance of its own crop to the flat colour's at its most visible scale

    @property
    def similarity(self) -> float:
        """exp(-distance) in (0, 1]: the candidate's score in scene.json (higher is better, like a cosine)."""
        return float(np.exp(-self.distance))


# A textured candidate replaces the flat colour only with evidence: its distance at least this fraction below the
# flat material's, and a similarity exp(-distance) of at least MIN_SIMILARITY. Without the floor, a part no
# library material resembles (a chair frame's crop: similarity 0.001) took whichever pattern was least unlike it.
# Set from the helper's randomised library materials (correct matches score far above it), not from bench rooms.
FLAT_MARGIN = 0.1
MIN_SIMILARITY = 0.05
# Candidates whose distance is within this fraction of the top's are as good as it; the least patterned of them
# (`Scored.pattern`) is chosen: faint grout at a crop's resolution is not told from plaster grain, and a wrong
# grid costs far more in the render than a pattern too faint.
SIMPLER_TOL = 0.25
# A room face whose photo is flat (no textured candidate beats the flat colour) still takes a library graph when
# one is near-flat: drawn in the crop at the part's colour (`synthesise`), its crop is within NEAR_FLAT of the flat
# colour's (`Scored.pattern`). Paint or plaster at its fitted colour renders as the flat colour does, so it is the
# flat material with an artist's knobs (and its category), on equal terms with it. Among near-flat graphs, the
# least distance plus own pattern wins (the photo shows none). Set on the realistic benchmark's tuning rooms 3-9
# (15 plain walls: 0.1 kept 14 flat-like, 0.15-0.5 kept 13) and on a synthetic mid-grey wall, where paint's faint
# mottling measures 0.10-0.13.
NEAR_FLAT = 0.2


@dataclass
class Retrieved:
    ranked: list[Scored]  # textured candidates, best first
    flat: float  # distance of the flat (homogeneous) material
    shortlist: int  # candidates scored after pruning
    previews: dict[str, np.ndarray] = field(default_factory=dict)  # library -> synthesised first crop (linear)
    near_flat: bool = False  # a near-flat graph may stand for the flat colour (room faces: NEAR_FLAT)

    @property
    def best(self) -> Scored | None:
        """The top textured candidate when it beats the flat material by FLAT_MARGIN with a similarity of at least
        MIN_SIMILARITY (evidence of a texture); else, with `near_flat` and when no candidate beats the flat
        material, the best near-flat graph (paint, plaster: `NEAR_FLAT`); else None (homogeneous)."""
        if not self.ranked:
            return None
        top = self.ranked[0]
        if top.distance < self.flat * (1 - FLAT_MARGIN) and top.similarity >= MIN_SIMILARITY:
            # Occam: among candidates as good as the top (within SIMPLER_TOL), the least patterned one.
            close = [r for r in self.ranked if r.distance <= top.distance * (1 + SIMPLER_TOL)]
            return min(close, key=lambda r: r.pattern)
        if self.near_flat and top.distance >= self.flat * (1 - FLAT_MARGIN):
            # The photo is flat (not merely unlike every pattern): the near-flat graph whose distance plus own
            # pattern is least (the photo shows none).
            flat_ones = [r for r in self.ranked if r.pattern <= NEAR_FLAT]
            return min(flat_ones, key=lambda r: r.distance + r.pattern) if flat_ones else None
        return None

    @property
    def flat_like(self) -> bool:
        """The chosen candidate stands for a flat photo (the tie rule), not for a texture seen in it."""
        best = self.best
        return best is not None and not best.distance < self.flat * (1 - FLAT_MARGIN)


class SynthesisLibrary:
    """The library's albedo tiles, loaded once per run, as mip stacks: level k holds every material's tile at
    1/2^k of the resolution (2x2 box means), so one gather synthesises many candidates at once, anti-aliased."""

    def __init__(self, names: list[str] | None = None, resolution: int = 128):
        # lazy: loads torch, which importing this module does not
        from materials_db import list_materials, load_graph
        from materials_db.tiles import albedo_tile

        self.names = list(names if names is not None else list_materials())
        self.categories = {n: load_graph(n).category for n in self.names}
        self.row = {n: i for i, n in enumerate(self.names)}
        self.resolution = resolution
        tiles = np.stack([albedo_tile(n, resolution) for n in self.names]).astype(np.float32)
        self.mean_colour = {n: tiles[i].reshape(-1, 3).mean(0) for i, n in enumerate(self.names)}
        self.levels = [tiles]
        while self.levels[-1].shape[1] >= 8:
            t = self.levels[-1]
            n, r = t.shape[0], t.shape[1] // 2
            self.levels.append(t.reshape(n, r, 2, r, 2, 3).mean((2, 4)))
        self.levels = [t.reshape(t.shape[0], -1, 3) for t in self.levels]  # flat texels for gathers

    def level_for(self, footprint: float, scale: float) -> int:
        """The mip level whose texel is about one pixel's footprint at texture scale `scale`."""
        texels = max(footprint * scale * self.resolution, 1e-6)
        return int(np.clip(np.floor(np.log2(texels) + 0.5), 0, len(self.levels) - 1))


def uv_footprint(uv: np.ndarray) -> float:
    """Median UV distance between neighbouring pixels of a crop (how much texture one pixel covers)."""
    du = np.linalg.norm(np.diff(uv, axis=1), axis=-1)
    dv = np.linalg.norm(np.diff(uv, axis=0), axis=-1)
    step = np.concatenate([du.ravel(), dv.ravel()])
    return float(np.median(step)) if step.size else 0.0


def synthesise(library: SynthesisLibrary, names: list[str], view: CropView, scale: float, rotation_deg: float,
               footprint: float | None = None, colour: np.ndarray | None = None) -> np.ndarray:
    """The crop as each library material in `names` would show it: albedo at the pixel's UV (at the mip level of
    the pixel's footprint) times the crop's irradiance. With `colour` (the part's fitted flat albedo), each tile
    is first scaled per channel to that mean colour, as the chosen graph's colours are (`colour_matched_values`):
    the pattern is compared, not the library's default colours. (len(names), h, w, 3) linear."""
    from .texture_search import bilinear_taps

    fp = uv_footprint(view.uv) if footprint is None else footprint
    level = library.level_for(fp, scale)
    res = library.resolution >> level
    index, weight = bilinear_taps(view.uv, scale, rotation_deg, res, res)
    texels = library.levels[level][[library.row[n] for n in names]]  # (n, res*res, 3)
    out = np.einsum("kp,nkpc->npc", weight.reshape(4, -1).astype(np.float32),
                    texels[:, index.reshape(4, -1)])
    h, w = view.uv.shape[:2]
    gain = view.irradiance.astype(np.float32)[None].repeat(len(names), 0)
    if colour is not None:
        gain = gain * (np.asarray(colour, np.float32)
                       / np.maximum([library.mean_colour[n] for n in names], 1e-3)).astype(np.float32)
    return out.reshape(len(names), h, w, 3) * gain[:, None, None, :]


# Sub-windows of a photo crop: its four corners at this fraction of its size. A crop's edge often shows a little
# of what borders the region (a shelf's edge, a frame, the ceiling line: the scene's regions are a few pixels off
# the photo's), which reads as texture on a plain wall. Every candidate, and the flat colour, is drawn over the
# whole crop and its statistics compared with the photo window they fit best (statistics, not pixels, are
# compared, so a window of the photo is compared with the whole candidate crop: a large pattern cannot hide its
# grout by choosing a window; on a textured surface every window shows the texture, so the flat colour gains
# nothing).
SUBWINDOW = 0.7
MIN_SUBWINDOW_PX = 24


def subviews(view: CropView) -> list[CropView]:
    """The crop and its four corner sub-windows (SUBWINDOW of its size; only the crop when that is under
    MIN_SUBWINDOW_PX), each with the crop's irradiance."""
    h, w = view.photo.shape[:2]
    sh, sw = int(round(h * SUBWINDOW)), int(round(w * SUBWINDOW))
    if min(sh, sw) < MIN_SUBWINDOW_PX:
        return [view]
    return [view] + [CropView(view.photo[y:y + sh, x:x + sw], view.uv[y:y + sh, x:x + sw], view.irradiance)
                     for y in (0, h - sh) for x in (0, w - sw)]


def colour_prune(library: SynthesisLibrary, names: list[str], flat_albedo: np.ndarray, keep: int) -> list[str]:
    """The `keep` names whose mean albedo is nearest the part's flat albedo in Lab (the colour units of
    `texture_stats`: hue counts, brightness loosely)."""
    if len(names) <= keep:
        return list(names)
    target = linear_to_lab(np.asarray(flat_albedo, float))
    lab = linear_to_lab(np.array([library.mean_colour[n] for n in names], float))
    d = (np.square(lab - target) * WEIGHTS[:3]).sum(1)
    return [names[i] for i in np.argsort(d, kind="stable")[:keep]]


# Weight of the library colour's Lab distance to the part's flat colour when candidates are drawn at the part's
# colour (`rank`): a hint, not a filter (the randomised benchmark graphs and an artist's paint vary in colour).
COLOUR_PRIOR = 0.25


def rank(library: SynthesisLibrary, views: list[CropView], flat_albedo: np.ndarray, scales: list[float],
         rotations: list[float], shortlist: list[str] | None = None, prune: int = 24,
         colour_weight: float = 1.0, match_colour: bool = True, colour_prior: float = COLOUR_PRIOR,
         near_flat: bool = False) -> Retrieved:
    """Score every (pruned) library material at its best scale/rotation, and the flat material, on `views`:
    scales at rotation 0 first, then the other rotations at each candidate's best scale. With `match_colour`,
    candidates are drawn at the part's flat colour (`synthesise`) and their library colour only adds
    `colour_prior` x its Lab distance to the flat colour (a hint: brown floors are more often wood)."""
    targets = [[features(w.photo[None])[0] for w in subviews(v)] for v in views]  # the photo's windows
    footprints = [uv_footprint(v.uv) for v in views]
    names = [n for n in (shortlist if shortlist is not None else library.names) if n in library.row]
    names = colour_prune(library, names, flat_albedo, prune)
    colour = np.asarray(flat_albedo, float) if match_colour else None
    prior = {n: colour_prior * _colour_gap(library.mean_colour[n], flat_albedo) if match_colour else 0.0
             for n in names}

    def score(group: list[str], s: float, r: float) -> np.ndarray:
        total = np.zeros(len(group))
        for view, ts, fp in zip(views, targets, footprints):
            f = features(synthesise(library, group, view, s, r, fp, colour))
            total += np.min([distance(f, t, colour_weight) for t in ts], 0)
        return total / len(views) + np.array([prior[n] for n in group])

    best = {n: (np.inf, 1.0, 0.0) for n in names}
    for s in scales:
        for n, d in zip(names, score(names, s, 0.0)) if names else ():
            if d < best[n][0]:
                best[n] = (float(d), s, 0.0)
    for s in sorted({b[1] for b in best.values()}):
        group = [n for n in names if best[n][1] == s]
        for r in rotations:
            if r == 0.0:
                continue
            for n, d in zip(group, score(group, s, r)):
                if d < best[n][0]:
                    best[n] = (float(d), s, r)
    ranked = sorted((Scored(n, library.categories[n], *best[n]) for n in names), key=lambda x: x.distance)

    def flat_crop(v: CropView) -> np.ndarray:
        return np.broadcast_to(np.asarray(flat_albedo, float) * v.irradiance, v.photo.shape)[None]

    flat = float(np.mean([min(distance(features(flat_crop(v)), t, colour_weight)[0] for t in ts)
                          for v, ts in zip(views, targets)]))
    # How visible each candidate's pattern is in the first crop, drawn at the part's colour: at the scale where it
    # shows most (a tiled floor at a scale whose grout falls outside the crop is not a flat material).
    flat_features = features(flat_crop(views[0]))[0]
    if ranked:
        order = [r.library for r in ranked]
        seen = np.max([distance(features(synthesise(library, order, views[0], s, 0.0, footprints[0], colour)),
                                flat_features, colour_weight) for s in scales], 0)
        for r, v in zip(ranked, seen):
            r.pattern = float(v)
    out = Retrieved(ranked, flat, len(names), near_flat=near_flat)
    for r in ranked[:2] + ([out.best] if out.best is not None else []):
        out.previews[r.library] = synthesise(library, [r.library], views[0], r.scale, r.rotation_deg,
                                             colour=colour)[0]
    return out



def _colour_gap(library_colour: np.ndarray, flat_albedo: np.ndarray) -> float:
    """Mean weighted squared Lab difference of two mean albedos (the units of `texture_stats` colour means)."""
    d = linear_to_lab(np.asarray(library_colour, float)) - linear_to_lab(np.asarray(flat_albedo, float))
    return float((np.square(d) * WEIGHTS[:3]).mean())
