"""The material and light stage's settings."""

from __future__ import annotations

from dataclasses import dataclass, field


from pipeline.core.config import Schedule, check_caps


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
    lr_temperature: float = 0.05
    """Adam learning rate of the fills' shared colour temperature (kilokelvin: 0.05 = 50 K per step)."""
    temperature_min_k: float = 2200.0
    """Warmest fill colour allowed, kelvin (a very warm incandescent bulb); fills share one temperature."""
    temperature_max_k: float = 7500.0
    """Coolest fill colour tried, kelvin (overcast daylight)."""
    schedule: Schedule = field(default_factory=lambda: Schedule(final=0.2))
    """Learning-rate schedule of the joint optimisation (to a fifth, not a tenth: this loop's schedule from before
    the shared harness, kept as its default)."""
    photo_loss: str = "l1-linear"
    """The photo term of the joint optimisation's loss, at 1/8 size: l1-linear (L1 of linear radiance), l1-srgb or
    l2-srgb (of sRGB values: the space of the photo PSNR)."""
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
    ceiling_panels: int = 4
    """The ceiling grid's cells are merged into at most this many panels ("Ceiling lamp 1", ...): a few lamps for
    the artist, and an initialisation whose cost does not grow with the room."""
    max_lights: int = 16
    """Cap on the lights the stage fits (fills, windows, a re-run's lights): each costs a render per round. Raise
    it with --materials-lights.max-lights N."""
    max_iters: int = 1000
    """Cap on `iters` and `init_rounds` (a bundle's config.json asking for more is refused)."""
    max_spp: int = 1024
    """Cap on every samples-per-pixel setting of this stage."""
    fill_watts: float = 200.0
    """The brightest fill light's power in Blender, watts: a fresh run sets the camera's exposure (scene.json
    camera.exposure_ev, Cycles' Film > Exposure) so the render keeps the photo's brightness with lights of
    plausible power. 0: no exposure (watts in the photo's own units, often a few W)."""
    deterministic: int = 1
    """(1/0) CPU renders of this stage on one thread, so a run repeats exactly (Mitsuba's film adds samples with
    atomics whose order varies between threads, and the optimiser amplifies the difference;
    pipeline/render/determinism.py). 0 uses every core, faster, and results vary a little from run to run."""
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
    sun: int = 1
    """(1/0) A sun through the visible windows when the photo shows its sunlit patch (`sun.find_sun`): a Blender
    Sun, Mitsuba's directional emitter."""
    sun_min_step: float = 0.25
    """The sun is placed only when its patch's edge steps up by this much log luminance on average (0.25: x1.3)."""
    lamp_emitters: int = 1
    """(1/0) Visible lamps whose largest part is this much brighter than the photo's median (lamp_min_brightness) emit."""
    lamp_lights: int = 1
    """(1/0) Every lamp the photo shows gets a bulb, a sphere light (Blender: a point light with a radius) in front
    of its brightest pixels; the fits set its power, and a lamp that is off ends dark and is pruned."""
    lamp_radius_m: float = 0.05
    """The bulbs' radius, metres."""
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
    """Procedural materials: auto (retrieval by synthesis, weight-free; CLIP narrows its shortlist when its weights
    and the material index are here), synthesis (never CLIP), clip (CLIP voting alone: needs its weights), none."""
    synthesis_prune: int = 24
    """Retrieval by synthesis: library materials kept after the mean-colour pruning (scored at every scale)."""
    synthesis_crops: int = 2
    """Retrieval by synthesis: crops per part compared."""
    synthesis_res: int = 256
    """Retrieval by synthesis: texels per UV unit of the library's albedo tiles (cached on disk). 256, not 128:
    thin grout and seams need it to be averaged into the mip levels rather than missed by point samples
    (randomised library materials: category top-1 0.89 -> 0.92, top-5 0.92 -> 0.97)."""
    clip_shortlist: int = 20
    """With CLIP weights: library materials CLIP voted for that retrieval by synthesis scores (the rest are not)."""
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
    """(1/0) With CLIP retrieval: search each procedural material's texture scale and rotation by the Gram loss on
    its crops (retrieval by synthesis searches them itself)."""
    scales: str = "0.5,1,2,4,8"
    """Texture scales tried (UV multipliers)."""
    rotations: str = "-45,0,45,90"
    """Texture rotations tried, degrees."""
    texture_res: int = 128
    """Resolution of a procedural material's maps over one UV tile during optimisation."""
    final_spp: int = 64
    """Samples per pixel of the final render (report, metrics)."""
    validate_every: int = 5
    """Every N steps the joint optimisation renders the full-size picture (fixed seed, `validate_spp`) and scores
    it against the photo (PSNR); the best-scoring iterate, the start included, is the stage's result."""
    patience: int = 2
    """Stop the joint optimisation once this many validations in a row did not beat the best iterate (0: run all
    `iters`). On tune room_003 of bench realistic the validation PSNR peaked at step 10 of 40 and fell after it,
    while the 30 steps after the peak cost 190 s."""
    validate_spp: int = 16
    """Samples per pixel of those validation renders."""
    denoise: int = 1
    """(1/0) Edge-aware filtering of the final render (guided by shape ids, normals and depth); metrics give both."""
    vgg_random_ok: int = 1
    """(1/0) Without local VGG-19 weights, a seeded random VGG-19 scores the CLIP path's texture search (else it is
    off); the joint optimisation's Gram term needs `gram_random` as well."""
    gram_random: int = 0
    """(1/0) Keep the joint optimisation's Gram term on a random VGG-19 when no real weights are here. Off: random
    features are no texture statistics, and their Gram loss jumped to 4-108 on the steps it ran (L1 about 0.05),
    pulling the parameters away from the photo. Tune rooms 003/004 of bench realistic, 40 steps: with it,
    22.25 -> 22.83 dB (best at step 10, falling after) in 350 s; without, 22.25 -> 23.32 and 19.18 -> 20.30 dB,
    rising to the last step, in 130-163 s."""


SPP_FIELDS = ("init_spp", "spp", "crop_spp", "search_spp", "final_spp", "validate_spp")


def check_budgets(cfg: MaterialLightConfig) -> None:
    """Refuse iteration and sample budgets beyond the caps (pipeline.core.config.check_caps)."""
    check_caps("materials_lights", cfg, {"max_iters": ("iters", "init_rounds"), "max_spp": SPP_FIELDS})
