"""Run configuration: nested dataclasses whose attribute docstrings become the CLI help (nerfstudio style).

Every field can be set from the command line as `--<section>.<field>` (e.g. `--room.refine-iters 20`); the
resolved config is saved in each bundle, and every random choice takes its seed from `seed`.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import inspect
import textwrap
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, get_type_hints


@dataclass
class Schedule:
    """Learning-rate schedule of an optimisation loop (pipeline/optimise.py): every parameter's rate is its stage's
    rate times a factor that decays from 1 to `final` over the run."""

    kind: str = "linear"
    """linear, cosine, step (three equal plateaus: 1, sqrt(final), final) or constant."""
    final: float = 0.1
    """The factor at the last iteration: large early steps, then settle despite Monte-Carlo noise."""
    warmup: int = 0
    """Iterations of linear warm-up before the decay (Adam's first steps are full-size whatever the gradient)."""


@dataclass
class RoomConfig:
    """Room stage (PSDR-Room section 4.2): RANSAC floor, box fit, differentiable refinement."""

    erosion_px: int = 2
    """Pixels eroded from each surface mask before taking its points (depth is unreliable at segment edges)."""
    ransac_iters: int = 400
    """RANSAC hypotheses per plane."""
    ransac_threshold: float = 0.015
    """RANSAC inlier distance, as a fraction of the median scene depth."""
    camera_height_prior_m: float = 1.5
    """Scale prior when depth is relative and no ceiling is visible: the camera's height above the floor."""
    ceiling_height_prior_m: float = 2.6
    """Scale prior when depth is relative and the ceiling is visible: floor-to-ceiling height."""
    unseen_depth_m: float = 1.0
    """How far an unseen wall (behind the camera) is placed beyond the camera, at least."""
    refine_iters: int = 40
    """Iterations of differentiable refinement (0 = keep the geometric fit)."""
    refine_width: int = 160
    """Width in pixels of the mask renders used by the refinement (height follows the photo's aspect)."""
    spp: int = 8
    """Samples per pixel of each mask render."""
    lr: float = 0.02
    """Adam learning rate, in metres per step for wall offsets (yaw is scaled to match)."""
    schedule: Schedule = field(default_factory=Schedule)
    """Learning-rate schedule of the refinement."""
    depth_weight: float = 1.0
    """Weight of the L1 of normalised depth against the sum of (1 - soft IoU) over wall, floor, ceiling."""
    tilt_prior: float = 10.0
    """With depth: weight of the squared change (radians) of the camera's pitch and roll, which the floor plane
    fitted on depth already fixes (noisy masks should not tilt it). Without depth the tilt is free."""
    face_gap_m: float = 0.01
    """Each face's edges are pulled in by this many metres so junctions are sampled as silhouettes (ARCHITECTURE.md)."""


@dataclass
class ReconstructConfig:
    """Everything a reconstruction run depends on."""

    working_size: int = 320
    """Longest side, in pixels, of the working resolution that photo and estimates are resampled to."""
    device: str = "auto"
    """Render device: auto (GPU when usable), cpu (llvm_ad_rgb) or gpu (cuda_ad_rgb)."""
    seed: int = 0
    """Seed for every random choice (RANSAC, sampling)."""
    estimate_download: str = "never"
    """When no estimates are given: never (use learned weights already on this machine, else the classical
    estimators) or auto (also try to download them; `photo2scene models fetch` pre-fetches)."""
    room: RoomConfig = field(default_factory=RoomConfig)
    objects: "ObjectConfig" = field(default_factory=lambda: ObjectConfig())
    materials_lights: "MaterialLightConfig" = field(default_factory=lambda: MaterialLightConfig())


@lru_cache(maxsize=None)
def field_docs(cls: type) -> dict[str, str]:
    """Attribute docstrings of a dataclass: the string literal that follows each annotated field."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    body = tree.body[0].body  # type: ignore[attr-defined]
    docs: dict[str, str] = {}
    for node, nxt in zip(body, body[1:]):
        if (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
                and isinstance(nxt, ast.Expr) and isinstance(nxt.value, ast.Constant)
                and isinstance(nxt.value.value, str)):
            docs[node.target.id] = " ".join(nxt.value.value.split())
    return docs


def add_config_arguments(parser: argparse.ArgumentParser, cls: type = ReconstructConfig, prefix: str = "",
                         presets: dict | None = None, defaults: Any = None) -> None:
    """Add `--[prefix.]field` options for every leaf field of the dataclass `cls` (defaults left unset), and
    `--preset` at the top level when the config has presets (ReconstructConfig's: PRESETS). The help shows the
    values of `defaults` (default: `cls()`): a nested section may default differently from its class."""
    defaults = defaults if defaults is not None else cls()
    presets = presets if presets is not None else (PRESETS if cls is ReconstructConfig else None)
    if not prefix and presets:
        parser.add_argument("--preset", choices=sorted(presets), help="draft: fewer iterations and samples, "
                            "for a quick look; final: the defaults. Options given after it override it.")
    hints = get_type_hints(cls)
    group = parser.add_argument_group(prefix.rstrip(".") or "config", cls.__doc__)
    for f in dataclasses.fields(cls):
        kind = hints[f.name]
        if dataclasses.is_dataclass(kind):
            add_config_arguments(parser, kind, f"{prefix}{f.name}.", defaults=getattr(defaults, f.name))
            continue
        default = getattr(defaults, f.name)
        flag = "--" + (prefix + f.name).replace("_", "-")
        # argparse %-formats help strings; docstrings say "4 %" freely.
        help_text = f"{field_docs(cls).get(f.name, '')} (default: {default})".replace("%", "%%")
        group.add_argument(flag, dest="cfg:" + prefix + f.name, type=_parse_bool if kind is bool else kind,
                           default=None, help=help_text,
                           metavar=kind.__name__.upper())


def _parse_bool(text: str) -> bool:
    """`--x.flag 0` must mean False (argparse's type=bool would read any non-empty string as True)."""
    value = text.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected a yes/no value (1/0, true/false), not {text!r}")


def config_from_args(args: argparse.Namespace, cls: type = ReconstructConfig, base: Any = None,
                     presets: dict | None = None) -> Any:
    """Build the config from `base` (default: the defaults, with `--preset` if given) overridden by the options
    the user gave."""
    presets = presets if presets is not None else (PRESETS if cls is ReconstructConfig else {})
    config = base if base is not None else apply_preset(cls(), getattr(args, "preset", None), presets)
    for key, value in vars(args).items():
        if key.startswith("cfg:") and value is not None:
            set_path(config, key[4:], value)
    return config


def set_path(config: Any, dotted: str, value: Any) -> None:
    """Set `room.refine_iters`-style paths on a nested config."""
    *parents, leaf = dotted.split(".")
    target = config
    for name in parents:
        target = getattr(target, name)
    if not hasattr(target, leaf):
        raise KeyError(dotted)
    setattr(target, leaf, value)


def to_dict(config: Any) -> dict[str, Any]:
    return dataclasses.asdict(config)


def from_dict(data: dict[str, Any], cls: type = ReconstructConfig) -> Any:
    """Inverse of `to_dict`; unknown keys are an error so a stale config is noticed."""
    hints = get_type_hints(cls)
    kwargs = {}
    for key, value in data.items():
        if key not in hints:
            raise KeyError(f"unknown config field {cls.__name__}.{key}")
        kwargs[key] = from_dict(value, hints[key]) if dataclasses.is_dataclass(hints[key]) else value
    return cls(**kwargs)


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
    fit_width: int = 80
    """Width of the renders that score candidates for shape retrieval."""
    fit_spp: int = 4
    """Samples per pixel of those renders."""
    scale_prior: float = 0.3
    """In shape retrieval, the fit loss grows by this x |log scale|: library models have real sizes, so a model
    that must be scaled to match is less likely the one in the photo."""
    clip_fit_weight: float = 2.0
    """With CLIP, shape retrieval ranks by fit loss + this x (CLIP's best cosine - the candidate's cosine)."""
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
    aspect_limit: float = 0.3
    """How far (log scale, per axis) refinement may stretch a model beyond its uniform scale (0 = uniform only)."""
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


@dataclass
class MaterialLightConfig:
    """Material and light stage (PSDR-Room section 4.4): lights init, material retrieval, joint optimisation."""

    iters: int = 40
    """Iterations of joint optimisation of materials and lights (0 = keep the initialisation)."""
    init_rounds: int = 3
    """Rounds of per-light least-squares radiance fits alternated with albedo rescaling before the optimisation."""
    init_spp: int = 32
    """Samples per pixel of the initialisation renders (one per light per round)."""
    render_downscale: int = 4
    """Optimisation renders are the working resolution divided by this; the L1 compares them at 1/8 size."""
    spp: int = 16
    """Samples per pixel of each optimisation render."""
    max_depth: int = 6
    """Path length of every render (6 = 4 indirect bounces: Cycles' default diffuse/glossy bounces)."""
    lr_colour: float = 0.02
    """Adam learning rate of homogeneous base colours (linear RGB units)."""
    lr_roughness: float = 0.02
    """Adam learning rate of homogeneous roughness."""
    lr_texture: float = 0.01
    """Adam learning rate of procedural parameters (normalised to [0, 1])."""
    lr_light: float = 0.04
    """Adam learning rate of light radiances (log units: 0.04 = 4 % per step)."""
    schedule: Schedule = field(default_factory=lambda: Schedule(final=0.2))
    """Learning-rate schedule of the joint optimisation (to a fifth, not a tenth: this loop's schedule from before
    the shared harness, kept as its default)."""
    colour_weight: float = 1.0
    """Weight of the per-material mean-colour term against the L1 at 1/8 size."""
    gram_weight: float = 0.05
    """Weight of the Gram loss over procedural materials' crop pairs."""
    gram_every: int = 4
    """Evaluate the Gram term every N iterations (crop renders and VGG are the costly part)."""
    gram_crops: int = 2
    """Crop pairs per Gram evaluation."""
    crop_spp: int = 8
    """Samples per pixel of crop renders in the Gram term of the optimisation."""
    search_crops: int = 2
    """Crops per material scored in the texture search."""
    search_spp: int = 32
    """Samples per pixel of crop renders in the texture search (render noise reads as texture to a Gram matrix)."""
    grid_m: float = 1.0
    """Size of the ceiling grid's cells, metres (each light is a cell scaled by light_scale)."""
    light_scale: float = 0.8
    """Ceiling lights' size relative to their cell."""
    prune_fraction: float = 0.005
    """Lights left with less than this fraction of the total power after optimisation are removed."""
    lights_in_view: int = 1
    """(1/0) Keep ceiling lights the camera would see (lights are invisible to the camera in our Mitsuba renders,
    as Blender's light objects are); 0 drops them as in PSDR-Room (measured: docs/materials_lights.md)."""
    behind_camera_light: int = 1
    """(1/0) Add a large area light behind the camera."""
    unseen_wall_lights: int = 1
    """(1/0) Add a window-sized light on every wall the camera does not see."""
    window_lights: int = 1
    """(1/0) Visible windows (segments labelled window) become area lights at the photo's radiance."""
    lamp_emitters: int = 1
    """(1/0) Visible lamps whose largest part is this much brighter than the photo's median (lamp_min_brightness) emit."""
    lamp_min_brightness: float = 4.0
    """A lamp part emits when its median luminance is this many times the photo's median luminance."""
    lamp_over_room: float = 1.5
    """... and this many times the 99th percentile luminance of walls, floor and ceiling (a lit lamp outshines the
    surfaces it lights; a white shade under a ceiling light does not)."""
    wall_merge: float = 0.05
    """Visible walls get a material each; those whose colours end within this of each other share one again."""
    ceiling_albedo: float = 0.8
    """Scale prior: the ceiling's albedo when it is visible (a single photo cannot tell albedo from light power)."""
    wall_albedo: float = 0.6
    """Scale prior when no ceiling is visible: the walls' albedo."""
    prior_weight: float = 0.1
    """Weight of the scale prior (the anchor's albedo) in the joint optimisation's loss."""
    retrieval: str = "auto"
    """Procedural materials: auto (CLIP when its weights and the material index are here), clip, or none."""
    top_k: int = 10
    """Materials retrieved per crop (votes are counted over these); all voted ones are kept as candidates."""
    keep_candidates: int = 5
    """Candidates stored per material in scene.json."""
    min_cosine: float = 0.25
    """Below this mean CLIP cosine a part stays homogeneous."""
    crops_per_material: int = 3
    """Crop pairs per material (largest rectangles inside its region)."""
    crop_min_px: int = 12
    """Smallest crop side, pixels at working resolution."""
    crop_max_px: int = 64
    """Largest crop side; larger rectangles are cut into tiles."""
    crop_pairs: str = ""
    """JSON file of user crop pairs (docs/materials_lights.md); they replace the automatic crops of their materials."""
    texture_search: int = 1
    """(1/0) Search each procedural material's texture scale and rotation by the Gram loss on its crops."""
    scales: str = "0.5,1,2,4,8"
    """Texture scales tried (UV multipliers)."""
    rotations: str = "-45,0,45,90"
    """Texture rotations tried, degrees."""
    texture_res: int = 128
    """Resolution of a procedural material's maps over one UV tile during optimisation."""
    final_spp: int = 64
    """Samples per pixel of the final render (report, metrics)."""
    denoise: int = 1
    """(1/0) Edge-aware filtering of the final render (guided by shape ids, normals and depth); metrics give both."""
    vgg_random_ok: int = 1
    """(1/0) Without local VGG-19 weights, use a seeded random VGG for Gram losses (else skip the Gram terms)."""


# Named settings applied before the user's own options (which override them). "final" is the defaults.
PRESETS: dict[str, dict[str, object]] = {
    "draft": {"working_size": 240, "room.refine_iters": 15, "room.refine_width": 120, "room.spp": 4,
              "objects.refine_iters": 15, "objects.refine_width": 120, "objects.spp": 4, "objects.rerank_k": 2,
              "objects.yaw_steps": 8, "materials_lights.iters": 25, "materials_lights.spp": 8,
              "materials_lights.final_spp": 16, "materials_lights.texture_search": 0},
    "final": {},
}


def apply_preset(config: Any, name: str | None, presets: dict | None = None) -> Any:
    """Set a preset's fields (dotted paths) on `config` (in place) and return it."""
    for dotted, value in (PRESETS if presets is None else presets).get(name or "final", {}).items():
        set_path(config, dotted, value)
    return config
