"""Material and light stage (PSDR-Room 4.4): lights, material retrieval, joint optimisation under GI.

1. Lights: a ceiling grid (minus lights in view or behind the camera), a panel behind the camera, one per unseen
   wall, visible windows at the photo's radiance (`lights_init.py`); bright visible lamps' largest part emits.
2. Regions and crops: which pixels show each material in both render and photo; crop pairs inside them
   (`crops.py`), or the user's.
3. Initial albedo and radiance: a grey-world render gives each material's irradiance; albedo = photo colour /
   irradiance, with the scale fixed by a prior on the ceiling's (or walls') albedo; then, as in the paper, the
   scalar on the lights' radiance that minimises the L1 of luminance at low resolution (transport is linear in
   radiance).
4. Procedural materials: retrieval by synthesis (`synthesis.py`, weight-free: every library material looked up
   in the crops' place through their UVs at each texture scale/rotation, ranked by colour and texture statistics;
   CLIP narrows the shortlist when its weights are here), or CLIP voting alone with the texture scale/rotation by
   the VGG Gram loss (`retrieval.py`); homogeneous when retrieval is off or the flat colour scores best.
5. Joint optimisation of every material and light parameter (`optimise.py`), Mitsuba `prb`, >= 2 bounces.
6. Scene: lights with Blender watts (P = L pi A), materials (principled or graph + values), report images.
"""

from __future__ import annotations

import copy
import time
from pathlib import Path

import numpy as np

from p2s_common.errors import InputError, SetupError
from p2s_common.images import linear_to_srgb, png_bytes

from blender_addon.scene_format import Opening, exposure_scale, room_face_name, window_light_pose

from pipeline.core.bundle import BundleFiles
from pipeline.core.case import Case
from pipeline.core.events import Events
from pipeline.core.image_metrics import compare_linear
from pipeline.core.openings import outdoors_texture, round_inside
from pipeline.core.optimise import OptimiseRecord
from pipeline.core.scene import MaterialEntry, Scene
from pipeline.render.backend import init_mitsuba
from pipeline.render.determinism import deterministic_renders
from pipeline.render.differentiable import SceneRenderer
from pipeline.render.room_box import FACE_NAMES, depth_and_faces
from pipeline.render.scene_render import RenderSettings, light_radiance, light_watts, path_tracer, scene_surfaces
from pipeline.stages.config import ReconstructConfig
from . import report as ml_report
from .crops import CropPair, auto_crops, cut, load_user_crops, material_regions
from .initialise import InitRenderer, initial_albedo_and_scale, refine_lights_and_albedo
from .config import check_budgets
from .lights_init import FILL_SOURCES, LightInit, initial_lights, lamp_lights, luminance, seen_walls
from .optimise import JointOptimiser, make_targets
from .photo_score import PhotoScore
from .record import MaterialsLightsRecord
from .state import Procedural, from_scene
from .sun import (SunSearch, cut_ends, find_sun, opening_frame, reach_of_cut_windows, sun_light, wall_end,
                  widened, window_frames)
from .candidates import material_candidates, refresh_in_use
from .retrieval import choose, open_clip_materials, stale_note
from .retrieve_parts import retrieval_inputs, retrieve_by_synthesis
from .texture_search import search
from .vgg import load_vgg, local_weights

STAGE = "materials_lights"
LOSS_DOWNSCALE = 8  # the photo/render L1 is compared at 1/8 of the working resolution (PSDR-Room)


def run(scene: Scene, case: Case, config: ReconstructConfig, events: Events, files: BundleFiles | None = None,
        clip=None, vgg=None) -> Scene:
    """Add lights and optimised materials to the Scene. The bundle's files (object meshes, material graphs) are
    read from and written to `files` (a throw-away one when not given). `clip`/`vgg` may be injected (tests)."""
    check_budgets(config.materials_lights)
    init_mitsuba(config.device)
    with deterministic_renders(bool(config.materials_lights.deterministic)):
        return _run(scene, case, config, events, files, clip, vgg)


def _run(scene: Scene, case: Case, config: ReconstructConfig, events: Events, files: BundleFiles | None,
         clip, vgg) -> Scene:
    import torch

    files = files if files is not None else BundleFiles()
    cfg = config.materials_lights
    start = time.perf_counter()
    timings: dict[str, float] = {}
    notes: list[str] = []
    if scene is None or scene.room is None:
        raise InputError("the material+light stage needs the room stage's camera and room; re-run from the room "
                         "stage (`photo2scene refine BUNDLE --from-stage room`)")
    torch.manual_seed(config.seed)
    events.stage(STAGE, cfg.iters + 5, "materials and lights")
    fresh = STAGE not in scene.stages or not scene.lights
    w, h = case.width, case.height
    split = _split_walls(scene, case) if fresh else {}
    surfaces = scene_surfaces(scene, files.read)
    used = sorted({s.material for s in surfaces if s.material})
    states = {name: from_scene(name, scene.materials.get(name) or MaterialEntry("principled"), files.read,
                               cfg.texture_res, surfaces) for name in used}
    locked_materials = frozenset(n for n in used if n in scene.materials and scene.materials[n].locked)

    # 1. Lights.
    t0 = time.perf_counter()
    if fresh:
        lights = initial_lights(scene.camera, scene.room, case, cfg.grid_m, cfg.light_scale,
                                bool(cfg.behind_camera_light), bool(cfg.unseen_wall_lights), bool(cfg.window_lights),
                                drop_in_view=not cfg.lights_in_view, ceiling_panels=cfg.ceiling_panels)
        if cfg.lamp_lights:
            panels = [li.light.size[0] * li.light.size[1] for li in lights if not li.known]
            bulbs = lamp_lights(scene.camera, scene.objects, case, float(np.mean(panels)) if panels else 1.0,
                                cfg.lamp_radius_m)
            lights += bulbs
            if bulbs:
                notes.append(f"{len(bulbs)} lamp bulb(s): " + ", ".join(li.light.name for li in bulbs))
        lights = _cap_windows(lights, cfg.max_lights, notes)
    else:  # a re-run: start from the scene's lights (possibly edited in Blender); locked ones stay as they are
        old = {d.get("name"): d for d in scene.stages.get(STAGE, {}).get("lights", [])}
        if scene.camera.exposure_ev is None:  # a re-run room stage made a new camera: the watts' exposure is here
            scene.camera.exposure_ev = scene.stages.get(STAGE, {}).get("exposure_ev")
        lights = []
        for li in scene.lights:
            source = li.source or old.get(li.name, {}).get("source", "kept")
            # Only unlocked fills are re-fitted by the initialisation; windows and the artist's own lights start
            # where they are (and stay free RGB radiances in the optimisation unless locked).
            known = bool(li.locked) or source not in FILL_SOURCES
            lights.append(LightInit(li, source, light_radiance(li) / exposure_scale(scene.camera), known=known))
    if len(lights) > cfg.max_lights:
        raise InputError(f"{len(lights)} lights is over the cap materials_lights.max_lights={cfg.max_lights} (each "
                         f"costs renders); raise it with --materials-lights.max-lights {len(lights)} if you mean it")
    timings["lights_init"] = time.perf_counter() - t0

    ds = max(1, cfg.render_downscale)
    pool = max(1, LOSS_DOWNSCALE // ds)
    wr, hr = max(pool, (w // ds) // pool * pool), max(pool, (h // ds) // pool * pool)
    # Emitters are never seen by the camera (Blender's light objects are not): where the photo shows a window or a
    # glowing lamp, the loss looks away and the final render shows the emitter's radiance.
    settings = RenderSettings(wr, hr, cfg.spp, cfg.max_depth, path_tracer([li.light for li in lights]),
                              extra={"hide_emitters": True})

    def build(states_now) -> SceneRenderer:
        maps = {n: s.render_maps() for n, s in states_now.items()}
        return SceneRenderer(scene, maps, [li.light for li in lights], [li.radiance for li in lights], settings,
                             surfaces)

    # 2. Regions (render shows it and the photo agrees) and crop pairs.
    t0 = time.perf_counter()
    renderer = build(states)
    ids = renderer.aov(w, h, "shape_index", seed=config.seed)
    regions = material_regions(ids, surfaces, renderer.shape_names, scene, case)
    crops = auto_crops(regions, cfg.crops_per_material, cfg.crop_min_px, cfg.crop_max_px)
    if cfg.crop_pairs:
        user = load_user_crops(Path(cfg.crop_pairs), scene, w, h, case.photo_srgb, regions, cfg.crops_per_material,
                               cfg.crop_min_px, cfg.crop_max_px)
        crops.update(user)
        notes.append(f"user crop pairs for {len(user)} materials from {cfg.crop_pairs}")
    all_crops = [c for name in sorted(crops) for c in crops[name]]
    if fresh and cfg.lamp_emitters:
        _lamps(scene, case, regions, states, cfg.lamp_min_brightness, notes, cfg.lamp_over_room)
        if any(s.emission is not None for s in states.values()):
            renderer = build(states)
    emitting = np.zeros((h, w), bool)
    for li in lights:
        if li.segment_id is not None:
            emitting |= case.segmentation == li.segment_id
    for name, st in states.items():
        if st.emission is not None and name in regions:
            emitting |= regions[name]
    timings["regions_crops"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    if fresh and cfg.sun:
        said = len(notes)
        found, wide = _sun(renderer, ids, emitting, case, scene, lights, cfg, notes, config.seed)
        if wide:  # beyond the photo's border: the regions and crops stay as they are
            _widen_windows(scene, case, files, lights, wide)
            surfaces = scene_surfaces(scene, files.read)
            states.update({n: from_scene(n, scene.materials[n], files.read, cfg.texture_res, surfaces)
                           for o in wide for n in o.materials.values() if n in states and n in scene.materials})
        if found is not None:
            lights.append(found)
            settings.integrator = path_tracer([li.light for li in lights])
            renderer = build(states)
        for note in notes[said:]:  # as it happens: a sun changes the whole picture (and the render's cost)
            events.log(f"materials+lights: {note}")
    timings["sun"] = time.perf_counter() - t0
    targets = make_targets(case.photo_linear, regions, (wr, hr), pool, all_crops, exclude=emitting)
    events.step(1, cfg.iters + 5, "regions and crops")

    # 3. Initial albedo and light scale.
    t0 = time.perf_counter()
    init_info: dict = {}
    init_render = InitRenderer(renderer, states, targets, cfg.init_spp, config.seed + 101)
    if fresh:
        init_info = initial_albedo_and_scale(init_render, states, lights, targets, cfg, notes, locked_materials)
    if cfg.init_rounds > 0:
        init_info["refine"] = refine_lights_and_albedo(init_render, states, lights, targets, cfg.init_rounds,
                                                       temperature_range=(cfg.temperature_min_k,
                                                                          cfg.temperature_max_k),
                                                       locked=locked_materials)
    timings["albedo_light_init"] = time.perf_counter() - t0
    events.step(2, cfg.iters + 5, "initial albedo and light scale")

    # 4. Procedural materials.
    t0 = time.perf_counter()
    vgg = vgg if vgg is not None else _open_vgg(cfg, notes)
    retrieval = {"mode": "none", "note": "kept from the previous run"}
    chosen: dict[str, dict] = {}
    retrieved: list = []
    opt = JointOptimiser(renderer, states, np.array([li.radiance for li in lights]), targets, cfg, vgg, config.seed,
                         fills=[li.source in FILL_SOURCES and not li.known for li in lights],
                         locked=[bool(li.light.locked) for li in lights], locked_materials=locked_materials)
    # Windows the photo shows; but where the room has window openings their backdrops show the outdoors and the
    # panels are not seen, as in Blender (builders/scene.py hides window lights from the camera there).
    openings = scene.room is not None and any(o.kind == "window" for o in scene.room.openings or [])
    opt.visible_lights = [(li.segment_id is not None or bool(li.light.visible_camera))
                          and not (openings and li.source == "window") for li in lights]
    if fresh:
        inputs: dict = {}
        hints = {part.material: part.material_hint for obj in scene.objects for part in obj.parts
                 if part.material and part.material_hint}
        retrieval, chosen, retrieved = _retrieve(case, states, crops, cfg, clip, notes, locked_materials, renderer,
                                                 config.seed, inputs, hints)
        if inputs:  # what `bench retrieval` re-ranks without rendering
            files.write("report/retrieval_inputs.npz", retrieval_inputs(inputs))
        if any(isinstance(s, Procedural) for s in states.values()):
            for state in states.values():  # retrieved maps span their surfaces' tiles
                if isinstance(state, Procedural):
                    state.cover(surfaces)
            opt.renderer = renderer = build(states)  # texture maps and metallic lobes change the BSDFs
        timings["retrieval"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        if cfg.texture_search and vgg is not None:
            _texture_search(opt, chosen, crops, cfg, notes)
        timings["texture_search"] = time.perf_counter() - t0
    events.step(3, cfg.iters + 5, "materials retrieved")

    # The shown picture before optimising (the report's "init" crops). The same picture, same seed, at
    # `validate_spp` validates every `validate_every` steps and the best iterate is kept; the final picture is then
    # checked against the first: the stage never ends worse than it started.
    t0 = time.perf_counter()
    scorer = PhotoScore(opt, states, case.photo_linear, config.seed + 11, bool(cfg.denoise))
    raw_first, first = scorer.render(opt.radiance().detach().numpy().astype(float), cfg.final_spp)
    timings["init_render"] = time.perf_counter() - t0

    def validate() -> float:
        return -scorer.psnr_db(scorer.render(opt.radiance().detach().numpy().astype(float), cfg.validate_spp)[1])

    # 5. Joint optimisation.
    t0 = time.perf_counter()
    record = OptimiseRecord()
    if cfg.iters > 0:
        record = opt.run(cfg.iters, _Offset(events, 3, cfg.iters + 5), score=validate,
                         score_every=max(1, cfg.validate_every), patience=cfg.patience)
    timings["optimise"] = time.perf_counter() - t0

    # 6. Final picture, scene update, report.
    t0 = time.perf_counter()
    raw, final = raw_first, first
    if record.best_iteration is not None:  # else the harness has put the initial parameters back
        with torch.no_grad():
            raw, final = scorer.render(opt.radiance().numpy().astype(float), cfg.final_spp)
        if scorer.psnr_db(final) < scorer.psnr_db(first):
            opt.restore_initial()
            raw, final = raw_first, first
            notes.append("the optimised picture scored below the initial one at full size: initial values kept")
    with torch.no_grad():
        radiance = opt.radiance().numpy().astype(float)
    timings["final_render"] = time.perf_counter() - t0
    metrics = compare_linear(final, case.photo_linear)
    metrics["raw"] = compare_linear(raw, case.photo_linear)
    metrics_init = compare_linear(first, case.photo_linear)
    fills = [bool(x) for x in opt.fill_mask.tolist()]
    if scene.camera.exposure_ev is None and cfg.fill_watts > 0:
        scene.camera.exposure_ev = _exposure_ev(lights, radiance, fills, cfg.fill_watts)
    light_entries = _write_lights(scene, lights, radiance, cfg.prune_fraction, opt.fill_temperature_k(), fills)
    _write_materials(scene, files, states, chosen, retrieval)
    renamed = _merge_walls(scene, split, {n: int(m.sum()) for n, m in regions.items()}, cfg.wall_merge, notes)
    for old, new in renamed.items():  # the record speaks of the materials the scene keeps
        if old in regions:
            regions[new] = regions.get(new, np.zeros_like(regions[old])) | regions.pop(old)
    images = _report(files, case, states, chosen, all_crops, first, final, opt.history, metrics, metrics_init)
    if retrieved:
        files.write("report/materials_lights_retrieval.png", ml_report.retrieval_sheet(retrieved))
        images.append(["report/materials_lights_retrieval.png",
                       "retrieval by synthesis: photo crop | chosen | runner-up | flat, with distances"])
    timings = {k: round(v, 3) for k, v in timings.items()}
    scene.stages[STAGE] = MaterialsLightsRecord(
        lights=light_entries,
        retrieval=retrieval,
        vgg=getattr(vgg, "source", "none"),
        render={"integrator": settings.integrator, "max_depth": cfg.max_depth, "width": wr, "height": hr,
                "spp": cfg.spp, "loss_size": [wr // pool, hr // pool]},
        init=init_info,
        metrics_init=metrics_init,
        metrics=metrics,
        losses=[h["total"] for h in opt.history],
        loss_terms=opt.history[-1] if opt.history else {},
        seconds_per_iteration=round(record.seconds_per_iteration, 4),
        optimiser=record.summary(),
        timings=timings,
        region_pixels={n: int(m.sum()) for n, m in sorted(regions.items())},
        final_region_colours={n: [[round(float(x), 4) for x in final[m].mean(0)],
                                  [round(float(x), 4) for x in np.median(case.photo_linear[m], axis=0)]]
                              for n, m in sorted(regions.items()) if m.sum() >= 4},
        crops=[{"material": c.material, "photo": list(c.photo), "render": list(c.render), "source": c.source}
               for c in all_crops],
        notes=notes,
        report_images=images,
        seconds=round(time.perf_counter() - start, 3),
        exposure_ev=scene.camera.exposure_ev,
    ).to_dict()
    events.log(f"materials+lights: photo PSNR init {metrics_init['psnr_db']:.2f} dB -> final "
               f"{metrics['psnr_db']:.2f} dB (best of {len(record.scores) + 1} validated iterates: "
               f"{'the start' if record.best_iteration is None else f'after step {record.best_iteration + 1}'})")
    events.log(f"materials+lights: {len(lights)} lights, {len(states)} materials "
               f"({sum(isinstance(s, Procedural) for s in states.values())} procedural); final render PSNR "
               f"{metrics['psnr_db']:.2f} dB, SSIM {metrics['ssim']:.3f} (init {metrics_init['psnr_db']:.2f} dB)")
    events.done("material+light stage done")
    return scene


class _Offset:
    """Progress events of a sub-step, shifted into the stage's step count."""

    def __init__(self, events: Events, offset: int, total: int):
        self.events, self.offset, self.total = events, offset, total

    def step(self, step: int, total: int, message: str = "", loss: float | None = None) -> None:
        self.events.step(self.offset + step, self.total, message, loss=loss)


def _lamps(scene: Scene, case: Case, regions: dict, states: dict, min_brightness: float, notes: list,
           over_room: float = 1.5) -> None:
    """Bright visible lamps: their largest visible part emits the photo's colour there.

    Bright is both `min_brightness` x the photo's median and `over_room` x the 99th percentile of the room's
    surfaces: a white shade right under a ceiling light is as bright as the lit wall beside it and is a
    reflector, whereas a lit lamp outshines every surface it lights."""
    med = float(np.median(luminance(case.photo_linear))) + 1e-6
    room = np.zeros(case.photo_linear.shape[:2], bool)
    for label in ("wall", "floor", "ceiling"):
        room |= case.mask(label)
    room_top = float(np.percentile(luminance(case.photo_linear[room]), 99)) if room.any() else 0.0
    for obj in scene.objects:
        if "lamp" not in (obj.label or ""):
            continue
        parts = [(regions[p.material].sum(), p.material) for p in obj.parts if p.material in regions]
        if not parts:
            continue
        count, mat = max(parts)
        colour = np.median(case.photo_linear[regions[mat]], axis=0)
        if luminance(colour) < over_room * room_top:
            notes.append(f"lamp {obj.name}: not an emitter (luminance {luminance(colour):.3f}, no brighter than "
                         f"{over_room} x the room's brightest surfaces, {room_top:.3f})")
        elif luminance(colour) >= min_brightness * med and count >= 4:
            states[mat].emission = colour.astype(float)
            notes.append(f"lamp {obj.name}: part {mat} emits (luminance {luminance(colour):.3f}, "
                         f"{luminance(colour) / med:.1f}x the photo's median)")


def _open_vgg(cfg, notes: list):
    if local_weights() is None and not cfg.vgg_random_ok:
        notes.append("no VGG-19 weights: Gram terms and texture search off")
        return None
    vgg = load_vgg(allow_random=True)
    if local_weights() is None:
        gram = "and the joint optimisation's Gram term" if cfg.gram_random else \
            "(the joint optimisation runs without its Gram term)"
        notes.append(f"VGG-19: no local ImageNet weights: a seeded random VGG-19 scores the texture search {gram}; "
                     "put vgg19-dcbb9e9d.pth in the torch hub cache for the real one")
    return vgg


def _retrieve(case: Case, states: dict, crops: dict, cfg, clip, notes: list,
              locked: frozenset[str] = frozenset(), renderer=None, seed: int = 0,
              inputs: dict | None = None, hints: dict[str, str] | None = None) -> tuple[dict, dict, list]:
    """Material retrieval per part with crops (not the `locked` ones: the artist's); chosen ones become
    Procedural. Returns (retrieval info, chosen, report rows). By synthesis (`retrieve_parts.py`) unless
    `retrieval` is clip (CLIP voting alone) or none."""
    if cfg.retrieval == "none":
        return {"mode": "none", "note": "retrieval off (--materials-lights.retrieval none): homogeneous"}, {}, []
    if cfg.retrieval not in ("auto", "synthesis", "clip"):
        raise InputError(f"unknown --materials-lights.retrieval {cfg.retrieval!r}; choose auto, synthesis, clip "
                         "or none")
    note = "injected"
    if clip is None and cfg.retrieval != "synthesis":
        clip, note = open_clip_materials()
        if clip is None:
            if cfg.retrieval == "clip":
                raise SetupError(f"CLIP material retrieval asked for, but {note}")
            notes.append(f"no CLIP shortlist ({note}): retrieval by synthesis scores the whole library")
    if clip is not None and getattr(clip, "stale", None):
        notes.append(stale_note(clip.stale))
    if cfg.retrieval != "clip":
        crops = {k: v for k, v in crops.items() if k not in locked}  # the artist's locked materials stay
        uv_image = _uv_pass(renderer, case, seed) if renderer is not None and crops else None
        return retrieve_by_synthesis(case, states, crops, uv_image, cfg,
                                     clip if cfg.retrieval == "auto" else None, notes, inputs, hints)
    chosen: dict[str, dict] = {}
    for name, pairs in sorted(crops.items()):
        if name not in states or states[name].emission is not None or name in locked:
            continue
        ranked = clip.rank([cut(case.photo_srgb, p.photo) for p in pairs], cfg.top_k)
        best = choose(ranked, cfg.min_cosine)
        cands = [{"library": r.name, "votes": r.votes, "cosine": round(r.mean_cosine, 4)}
                 for r in ranked[:cfg.keep_candidates]]
        info = {"candidates": cands, "best": best.name if best else None}
        if best is not None:
            # lazy: loads torch, which importing this module does not
            from materials_db import load_graph

            old = states[name]
            proc = Procedural.create(name, load_graph(best.name), resolution=cfg.texture_res)
            proc.homogeneous = old  # type: ignore[attr-defined]  # kept for the texture search's comparison
            states[name] = proc
        chosen[name] = info
    n = sum(1 for v in chosen.values() if v["best"])
    return {"mode": "clip", "note": note, "procedural": n, "homogeneous": len(states) - n}, chosen, []


def _uv_pass(renderer: SceneRenderer, case: Case, seed: int) -> np.ndarray:
    """Every surface's UVs at working resolution (h, w, 2), before texture transforms: the materials are flat
    here, at scale 1 over the unit tile, so undoing the renderer's v flip gives the surfaces' own UVs."""
    uv = renderer.aov(case.width, case.height, "uv", seed)
    return np.stack([uv[..., 0], 1.0 - uv[..., 1]], -1)


def _texture_search(opt: JointOptimiser, chosen: dict, crops: dict, cfg, notes: list) -> None:
    """Per procedural material: the (scale, rotation) with the lowest Gram loss on its crops
    (`texture_search.py`); back to homogeneous when the flat material scores better than every option tried."""
    scales = [float(s) for s in cfg.scales.split(",") if s.strip()]
    rotations = [float(r) for r in cfg.rotations.split(",") if r.strip()]
    for name, info in chosen.items():
        state = opt.states.get(name)
        if not isinstance(state, Procedural) or name not in crops or "texture_search" in info or not info["best"]:
            # retrieval by synthesis chose the transform already; or retrieval chose no graph (a re-run keeps the
            # previous run's procedural state then, with nothing flat to compare it with)
            continue
        scores, flat_score = search(opt, name, crops[name][:cfg.search_crops], scales, rotations, cfg.search_spp)
        (s_best, r_best), best = min(scores.items(), key=lambda kv: kv[1])
        info["texture_search"] = {"scale": s_best, "rotation_deg": r_best, "gram": round(best, 5),
                                  "homogeneous_gram": round(flat_score, 5)}
        if flat_score <= best:
            opt.states[name] = state.homogeneous
            opt.renderer.set_uvs(name, 1.0, 0.0)
            info["best"] = None
            notes.append(f"{name}: homogeneous scores better than {state.library} at any scale/rotation; kept flat")
            continue
        state.uv_scale, state.uv_rotation_deg = s_best, r_best
        state.cover(opt.renderer.surfaces)
        opt.renderer.set_uvs(name, s_best, r_best, state.uv_rect)


def _split_walls(scene: Scene, case: Case) -> dict[str, list[str]]:
    """Visible walls sharing a material get one each (`room_<face>`): rooms often have an accent wall, and one
    colour for all walls cannot fit it. Walls the photo does not show go with the largest visible wall of their
    material: left on the shared material, no pixel would fit it and it would keep the room stage's placeholder
    (the photo's colour, far darker than the fitted albedo), lighting the room less than in Blender, which gives
    such a wall a fitted wall's material (builders/room.py): room_002 of the realistic benchmark rendered 15-30 %
    brighter on its walls and ceiling in Cycles than in the stage. Returns {shared material: [split names]};
    `_merge_walls` undoes the split where the walls end up alike."""
    _, faces = depth_and_faces(scene.camera, scene.room, case.width, case.height)
    pixels = dict(zip(FACE_NAMES, np.bincount(faces.ravel(), minlength=len(FACE_NAMES)).tolist()))
    seen = sorted(f for f in seen_walls(scene.camera, scene.room, case) if f.startswith("wall"))
    by_material: dict[str, list[str]] = {}
    for face in seen:
        by_material.setdefault(scene.room.materials.get(face, ""), []).append(face)
    out: dict[str, list[str]] = {}
    for mat, faces_of in by_material.items():
        if not mat or len(faces_of) < 2 or mat not in scene.materials:
            continue
        out[mat] = []
        for face in faces_of:
            name = room_face_name(face)
            scene.materials[name] = copy.deepcopy(scene.materials[mat])
            scene.room.materials[face] = name
            out[mat].append(name)
        largest = room_face_name(max(faces_of, key=lambda f: pixels[f]))
        for face, m in list(scene.room.materials.items()):
            if m == mat and face.startswith("wall"):  # the walls left on the shared material: unseen
                scene.room.materials[face] = largest
        parts = {p.material for o in scene.objects for p in o.parts}
        if mat not in scene.room.materials.values() and mat not in parts:
            del scene.materials[mat]  # nothing uses it now (`_merge_walls` writes it again if it merges)
    return out


def _merge_walls(scene: Scene, split: dict[str, list[str]], pixels: dict[str, int], tol: float,
                 notes: list) -> dict[str, str]:
    """Walls split by `_split_walls` that ended homogeneous and within `tol` of each other share one material
    again (their pixel-weighted mean colour). Returns {split name: shared name} for the merged ones."""
    renamed: dict[str, str] = {}
    for shared, names in split.items():
        specs = [scene.materials[n] for n in names]
        if any(sp.type != "principled" for sp in specs):
            continue
        colours = np.array([sp.base_color for sp in specs])
        if np.abs(colours - colours.mean(0)).max() > tol:
            notes.append(f"walls {', '.join(names)} kept apart (colours differ by more than {tol})")
            continue
        weights = np.array([max(pixels.get(n, 0), 1) for n in names], float)
        merged = copy.deepcopy(specs[0])
        merged.base_color = [round(float(c), 5) for c in (colours * weights[:, None]).sum(0) / weights.sum()]
        merged.roughness = round(float(np.average([sp.roughness_or_default() for sp in specs], weights=weights)), 4)
        scene.materials[shared] = merged
        for face, mat in list(scene.room.materials.items()):
            if mat in names:
                scene.room.materials[face] = shared
        for n in names:
            scene.materials.pop(n, None)
            renamed[n] = shared
    return renamed


def _sun(renderer: SceneRenderer, ids: np.ndarray, emitting: np.ndarray, case: Case, scene: Scene,
         lights: list[LightInit], cfg, notes: list, seed: int) -> tuple[LightInit | None, list[Opening]]:
    """The sun through the visible windows when the photo shows its patch (`sun.find_sun`), else None; and the
    window openings the photo's border cuts, widened as far as that patch says they reach (`sun.cut_ends`)."""
    windows = [li for li in lights if li.source == "window"]
    if not windows:
        return None, []
    h, w = ids.shape
    points = renderer.aov(w, h, "position", seed=seed)
    normals = renderer.aov(w, h, "geo_normal", seed=seed)
    to_camera = np.asarray(scene.camera.position, float) - points
    normals = np.where((np.sum(normals * to_camera, axis=-1) < 0)[..., None], -normals, normals)
    search = SunSearch(points, normals, ids.astype(np.int64), (ids > 0) & ~emitting, case.photo_linear,
                       _occlusion(renderer))
    room = scene.room
    openings = [o for o in room.openings or [] if o.kind == "window"]
    by_segment = {o.segment_id: o for o in openings}
    frames, cut = [], {}
    for li in windows:
        opening = by_segment.get(li.segment_id)
        if opening is None:  # no hole in the wall (the room stage made none): the panel itself
            frames += window_frames([li.light])
            continue
        ends = cut_ends(opening, room, scene.camera, case.segmentation == opening.segment_id)
        reach = opening
        for end in ends:  # searched as if reaching the wall's edge; the patch then says how far it does
            reach = widened(reach, end, wall_end(reach, room, end))
        if ends:
            cut[opening.name] = ends
        frames.append(opening_frame(room, reach))
    patch = find_sun(search, frames, cfg.sun_min_step)
    if patch is None:
        notes.append("no sun: the photo shows no sunlit patch a window could throw (the fills light the room)")
        return None, []
    rec = patch.record()
    notes.append(f"sun through the window(s), {rec['elevation_deg']:.0f} degrees up: its patch is "
                 f"{np.exp(patch.step):.1f}x brighter at its edge ({patch.pairs} pixel pairs); {rec}")
    wide = [new for old, new in zip(openings, reach_of_cut_windows(search, room, openings, cut, patch.direction))
            if new.rect != old.rect]
    for new in wide:
        old = by_segment[new.segment_id]
        notes.append(f"{new.name}: the photo's border cuts it; the sun's patch says it is "
                     f"{new.rect[2] - new.rect[0]:.2f} m wide, not {old.rect[2] - old.rect[0]:.2f} m")
    return sun_light(patch, [li.light for li in windows]), wide


def _occlusion(renderer: SceneRenderer):
    """`SunSearch.blocked` on the stage's scene: a ray from each point towards the sun hits a surface before it
    comes within 3 cm of the window's plane (the window's own light panel and frame lie there)."""
    import mitsuba as mi

    def blocked(points: np.ndarray, to_sun: np.ndarray, distances: np.ndarray) -> np.ndarray:
        o = points + 0.01 * to_sun
        d = np.broadcast_to(to_sun, points.shape)
        ray = mi.Ray3f(mi.Point3f(*(o[:, k].astype(np.float32) for k in range(3))),
                       mi.Vector3f(*(d[:, k].astype(np.float32) for k in range(3))))
        ray.maxt = mi.Float(np.maximum(distances - 0.04, 0.0).astype(np.float32))
        hit = renderer.mscene.ray_test(ray)
        return np.array(hit, dtype=bool)

    return blocked


def _widen_windows(scene: Scene, case: Case, files: BundleFiles, lights: list[LightInit],
                   wide: list[Opening]) -> None:
    """Put the widened window openings in the room: their holes, lights (the glass's rectangle) and backdrops'
    pictures (the photo through the window, reprojected; the part beyond the photo's border takes its median)."""
    room = scene.room
    by_name = {o.name: o for o in room.openings}
    for new in wide:
        opening = by_name[new.name]
        opening.rect = round_inside(new.rect)
        mask = case.segmentation == opening.segment_id
        for li in lights:
            if li.source == "window" and li.segment_id == opening.segment_id:
                # The same radiance (the sky's) over the larger glass.
                position, rotation, size = window_light_pose(room, opening)
                li.light.position, li.light.rotation = [float(x) for x in position], [list(r) for r in rotation]
                li.light.size = [float(x) for x in size]
        name = opening.materials.get("outdoors")
        entry = scene.materials.get(name) if name else None
        if entry is not None and entry.textures and entry.textures.get("emission"):
            colour = np.median(case.photo_linear[mask], axis=0)
            picture = outdoors_texture(scene.camera, room, opening, case.photo_linear, mask, colour)
            files.write(entry.textures["emission"], png_bytes(linear_to_srgb(picture)))


def _cap_windows(lights: list[LightInit], cap: int, notes: list) -> list[LightInit]:
    """Keep the largest windows when fills and windows together pass the light cap (fills are bounded already)."""
    windows = sorted((li for li in lights if li.source == "window"),
                     key=lambda li: -li.light.size[0] * li.light.size[1])
    room = cap - (len(lights) - len(windows))
    if len(windows) <= max(room, 0):
        return lights
    dropped = {id(li) for li in windows[max(room, 0):]}
    notes.append(f"{len(dropped)} of {len(windows)} windows left out: the light cap materials_lights.max_lights is "
                 f"{cap} (raise it with --materials-lights.max-lights N)")
    return [li for li in lights if id(li) not in dropped]


def _exposure_ev(lights: list[LightInit], radiance: np.ndarray, fills: list[bool], watts: float) -> float:
    """The camera exposure (EV, half stops, 0..12) that makes the brightest fill `watts` in Blender: the photo's
    linear values fix the lights only up to the camera's exposure, and a scene lit by 3 W panels reads wrong."""
    powers = [light_watts(li.light, rad)[0] for li, rad, fill in zip(lights, radiance, fills) if fill]
    if not powers or max(powers) <= 0:  # no fills: the other lights but a sun (W/m^2 are not watts)
        powers = [light_watts(li.light, rad)[0] for li, rad in zip(lights, radiance) if li.light.type != "sun"]
    if not powers or max(powers) <= 0:
        return 0.0
    return float(np.clip(np.round(2 * np.log2(watts / max(powers))) / 2, 0.0, 12.0))


# What each placed light stands for, as the artist reads it (scene.json `role`; the name says it too).
ROLES = {"ceiling": "Ceiling lamp", "behind_camera": "Fill behind camera", "unseen_wall": "Fill from an unseen wall",
         "window": "Window", "lamp": "Lamp", "sun": "Sun"}


def _write_lights(scene: Scene, lights: list[LightInit], radiance: np.ndarray, prune: float = 0.0,
                  fill_kelvin: float | None = None, fills: list[bool] | None = None) -> list[dict]:
    """Lights into the Scene in Blender's watts (P = L pi A), without those the fit left (nearly) dark; per-light
    metadata for the stage's record. Fills carry their shared colour temperature; locked lights are written back
    exactly as they came. Watts are scene units: render-unit radiance x the camera's exposure scale."""
    scale = exposure_scale(scene.camera)
    scene.lights = []
    entries = []
    fills = fills if fills is not None else [False] * len(lights)
    powers = [light_watts(li.light, rad)[0] for li, rad in zip(lights, radiance)]
    total = sum(p for p, li in zip(powers, lights) if li.light.type != "sun")  # W/m^2 are not watts
    for li, rad, fill in zip(lights, radiance, fills):
        if li.light.locked:
            light = copy.deepcopy(li.light)
        else:
            power, colour = light_watts(li.light, rad)
            if power < prune * total and not li.known:
                continue
            light = copy.deepcopy(li.light)
            light.position = [float(x) for x in li.light.position]
            light.rotation = [[float(x) for x in row] for row in li.light.rotation]
            light.size = [float(x) for x in li.light.size]
            light.color, light.power_w = [round(c, 5) for c in colour], round(power * scale, 4)
            light.source = light.source or li.source
            light.role = light.role or ROLES.get(light.source)
            light.temperature_k = round(fill_kelvin, 1) if fill and fill_kelvin is not None else None
        scene.lights.append(light)
        entries.append({"name": light.name, "source": li.source, "radiance": [round(float(x), 5) for x in rad],
                        "power_w": light.power_w, "segment_id": li.segment_id})
    return entries


def _write_materials(scene: Scene, files: BundleFiles, states: dict, chosen: dict, retrieval: dict) -> None:
    """scene.json materials (their graph files and thumbnails into `files`); retrieved ones get their candidates
    as whole entries (`material_candidates`)."""
    for name, state in states.items():
        if name in scene.materials and scene.materials[name].locked:  # the artist's: written back untouched
            continue
        entry, made = state.entry(scene.materials.get(name))
        info = chosen.get(name)
        if info is not None:
            if "texture_search" in info:
                entry.texture_search = info["texture_search"]
            entry.candidates, more = material_candidates(name, state, entry, info["candidates"],
                                                         info.get("texture_search"))
            entry.chosen = 0
            made = {**made, **more}
        else:  # a re-run keeps the previous candidates: the one in use takes the new values
            refresh_in_use(entry)
        entry.retrieval = retrieval.get("mode", "none")
        scene.materials[name] = entry
        files.write_all(made)


def _lit_thumbnail(library: str) -> Path | None:
    """A library material's lit thumbnail (only asked for candidates, i.e. after retrieval loaded materials_db)."""
    # lazy: loads torch, which importing this module does not
    from materials_db.thumbs import thumbnail_path

    try:
        return thumbnail_path(library)
    except KeyError:  # gone from the library since the index was built
        return None


def _report(files: BundleFiles, case: Case, states: dict, chosen: dict, crops: list[CropPair], init: np.ndarray,
            final: np.ndarray, history: list[dict], metrics: dict, metrics_init: dict | None = None
            ) -> list[list[str]]:
    """The stage's report images into `files`; returns (file, caption) of each."""
    sheets = {
        "report/materials_lights_final.png": (ml_report.side_by_side(case.photo_linear, final, metrics,
                                                                     metrics_init),
                                              "final render beside the photo"),
        "report/materials_lights_crops.png": (ml_report.crop_sheet(case.photo_linear, init, final, crops),
                                              "crop pairs: photo | render at init | render at the end"),
        "report/materials_lights_loss.png": (ml_report.loss_sheet(history), "materials+lights loss"),
    }
    rows = []
    for name, state in sorted(states.items()):
        kind = f"procedural {state.library}" if isinstance(state, Procedural) else "homogeneous"
        rows.append({"name": name, "kind": kind, "swatch": ml_report.swatch(state),
                     "candidates": chosen.get(name, {}).get("candidates", [])})
    sheets["report/materials_lights_materials.png"] = (ml_report.materials_sheet(rows, _lit_thumbnail),
                                                       "materials and their top-k candidates")
    images = []
    for rel, (data, title) in sheets.items():
        files.write(rel, data)
        images.append([rel, title])
    files.write("report/materials_lights_render.png", png_bytes(linear_to_srgb(final)))
    return images
