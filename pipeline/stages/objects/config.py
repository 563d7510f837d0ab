"""The object stage's settings."""

from __future__ import annotations

from dataclasses import dataclass, field

from pipeline.core.config import Schedule, check_caps


@dataclass
class ObjectConfig:
    """Object stage (PSDR-Room section 4.3): retrieval, pose initialisation, yaw search, joint refinement."""

    asset_index: str = ""
    """Asset index (a folder built with `photo2scene assets index PATH... --index DIR`) to retrieve models from,
    with the built-in library. Empty: the default index ($PHOTO2SCENE_ASSETS_INDEX or
    ~/.cache/photo2scene/assets) when it holds models, else the built-in library alone. "builtin": the built-in
    library alone."""
    builtin_library: bool = True
    """Also search the built-in starter library (when the asset index does not already hold it)."""
    top_k: int = 5
    """Candidates kept per object (all stored in scene.json for the user to swap)."""
    rerank_k: int = 3
    """How many of the top-k are re-ranked by their fitted silhouette after refinement (1 = CLIP top-1 only)."""
    fit_candidates: int = 24
    """Shape retrieval: this many of retrieval's candidates (CLIP or category + size order; 24 covers every
    model of a category family in the built-in library) are each posed (initial pose + yaw search, at
    `fit_width`) and ranked by their silhouette and depth fit before one is chosen. 1 = retrieval's top-1."""
    align_points: bool = True
    """With depth: in the yaw search, each yaw's location is moved so the depth points lie on the model
    (translation-only ICP); only the front is seen, so the centre depends on the yaw."""
    fit_width: int = 160
    """Width of the renders that score candidates for shape retrieval. At 80 a chair is 10 pixels wide and two
    chairs of one pack that differ in their backs fit alike (tune room 5 of bench realistic: 160 tells them
    apart); the renders are small enough that 160 costs no more time than 80 on 2 cores."""
    fit_spp: int = 4
    """Samples per pixel of those renders."""
    scale_prior: float = 0.3
    """In shape retrieval, the fit loss grows by this x |log scale|: library models have real sizes, so a model
    that must be scaled to match is less likely the one in the photo."""
    category_prior: float = 0.03
    """Shape retrieval and re-ranking add this to a model of a category only related to the object's label (a
    mirror for a picture, a desk for a table): fits less than a hundredth apart chose the neighbour category on
    tune rooms 4 and 5 of bench realistic. Small, because a related category can be the better shape where the
    library has no look-alike of the label's own (0.1 put a slatted dining chair where an armchair covered a
    blocky cushioned chair better, test room 0 held out). 0 = the label's family alike."""
    appearance_weight: float = 0.4
    """Shape retrieval and re-ranking add this x the candidate's colour distance to the photo (its own base colours
    rendered at its fitted pose against the object's pixels, lighting left out; 0..1, objects/appearance.py):
    models that share a shape and differ in colour are told apart by the photo. 0 = shape alone. Tune rooms 3-5
    of bench realistic, 3-D IoU held out / with the models present / exact model: 0 -> 0.464 / 0.620 / 15 %,
    0.2 -> 0.469 / 0.612 / 20 %, 0.4 -> 0.511 / 0.713 / 40 %."""
    appearance_width: int = 320
    """Width of the renders that compare a candidate's colours with the photo (small objects need the pixels)."""
    clip_candidates: int = 8
    """With CLIP: only CLIP's top this-many of an object's category family are posed and fit (CLIP narrows what
    shape retrieval compares; without CLIP every one of `fit_candidates` is fit)."""
    clip_fit_weight: float = 2.0
    """With CLIP, shape retrieval ranks by fit loss + this x (CLIP's best cosine - the candidate's cosine)."""
    library_margin: float = 0.1
    """A curtain, blind or rug is built by its generator from the mask unless a library model of its kind fits
    about as well: shape fit (shape retrieval's, colour left out) at most this much worse than the generated
    one's. The artist's own rug has its real size and texture; a generic one is only sized from the photo."""
    erosion_px: int = 1
    """Pixels eroded from each object mask before taking its depth points."""
    min_pixels: int = 30
    """Object segments smaller than this (at working resolution) are skipped."""
    yaw_steps: int = 12
    """Yaw angles tried per object in the search (every 360/N degrees)."""
    yaw_depth_weight: float = 1.0
    """Weight of the depth term in the yaw search (breaks front/back ties of box-like silhouettes)."""
    refine_iters: int = 40
    """Iterations of joint differentiable refinement of all objects (0 = keep the search result)."""
    refine_width: int = 160
    """Width of the silhouette renders (height follows the photo's aspect)."""
    spp: int = 8
    """Samples per pixel of each silhouette render."""
    lr: float = 0.02
    """Adam learning rate (metres for translation; scale and yaw are scaled to match)."""
    schedule: Schedule = field(default_factory=Schedule)
    """Learning-rate schedule of the joint refinement."""
    aspect_limit: float = 0.1398
    """How far (log scale, per axis) refinement may stretch a model beyond its uniform scale (0 = uniform only;
    0.1398 = log 1.15: at most +-15 % per axis)."""
    stretch_margin: float = 0.1
    """A stretched model is kept only when its fit loss (silhouette + depth + scale prior, the object alone) is at
    least this much lower (relative) than the same model at its uniform scale; else it goes back to uniform."""
    points_weight: float = 1.0
    """Weight of the depth term: mean distance (metres, clipped at 0.3) from the object's depth points to the
    posed model's surface. PSDR-Room's loss is masks only; depth pins yaw and distance where silhouettes cannot."""
    pyramid_levels: int = 4
    """Levels of the Gaussian pyramid of blurred masks in the loss."""
    floor_contact_m: float = 0.12
    """An object whose lowest points are this close to the floor (and whose mask meets the floor's) stands on it."""
    support_gap_m: float = 0.15
    """An object whose bottom is this close to another's top (masks adjacent) rests on it."""
    wall_contact_m: float = 0.2
    """An object neither on the floor nor supported, this close to a wall, is wall-mounted."""
    proxy_below: float = 0.5
    """A retrieved model whose final mask IoU is below this is compared with a proxy built from the object's own
    mask and depth (a relief or an extruded silhouette); the proxy replaces it when its IoU is `proxy_gain` higher."""
    proxy_gain: float = 0.15
    """How much higher (absolute mask IoU) a proxy must score to replace a retrieved model that fits badly."""
    wall_snap_m: float = 0.15
    """After refinement, a floor-standing object is kept inside the walls, and one whose back faces a wall closer
    than this is moved back against it (0 = neither)."""
    revert_below: float = 0.05
    """An object whose final mask IoU (all objects rendered together) is this much below its IoU after the search
    goes back to its searched pose and model."""
    deterministic: int = 1
    """(1/0) CPU renders of this stage on one thread, so a run repeats exactly (pipeline/render/determinism.py:
    Mitsuba's film adds samples with atomics whose order varies between threads). 0 uses every core, faster."""
    max_iters: int = 1000
    """Cap on `refine_iters` (a bundle's config.json asking for more is refused; raise it deliberately)."""
    max_candidates: int = 256
    """Cap on `top_k`, `rerank_k`, `fit_candidates` and `yaw_steps`: each costs renders per object."""
    max_spp: int = 1024
    """Cap on `spp` and `fit_spp`."""


def check_budgets(cfg: ObjectConfig) -> None:
    """Refuse iteration, candidate and sample budgets beyond the caps (pipeline.core.config.check_caps)."""
    check_caps("objects", cfg, {"max_iters": ("refine_iters",),
                                "max_candidates": ("top_k", "rerank_k", "fit_candidates", "yaw_steps"),
                                "max_spp": ("spp", "fit_spp")})
