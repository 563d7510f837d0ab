"""Object stage (PSDR-Room 4.3): retrieve furniture for each object segment and pose it.

Per object: CLIP (or category + size) candidates, each posed (a pose from its depth points, a yaw search over
silhouettes) and ranked by its fit (shape retrieval); contacts (floor, support, wall; a support may be hidden
under a bottom that a nearer object occludes); then a joint differentiable refinement of all objects, and a
re-ranking of the top candidates by their fitted silhouettes (the paper keeps CLIP's top-1; we check).
The Scene gets one entry per object with its parts' meshes (in the bundle), materials and all candidates.
"""

from __future__ import annotations

import io
import math
import time
from pathlib import Path

import numpy as np
from PIL import Image

from p2s_common.errors import InputError
from p2s_common.images import png_bytes

from pipeline.core.bundle import BundleFiles
from pipeline.core.case import Case
from pipeline.core.events import Events
from pipeline.core.meshes import obj_bytes
from pipeline.core.optimise import OptimiseRecord
from pipeline.render.backend import init_mitsuba
from pipeline.render.silhouettes import (Pose, RigidSearchRenderer, SilhouetteRenderer, part_ids_image,
                                         surface_samples)
from pipeline.stages.config import ReconstructConfig
from pipeline.render.determinism import deterministic_renders
from .appearance import MIN_PIXELS, WORST, appearance_of, merged_face_colors
from .config import check_budgets
from .retrieval import check_asset_index, crop_around, open_retriever, retrieve
from blender_addon.scene_format import (LOW_MASK_IOU, PROPOSAL_LABEL, asset_thumbnail_path, candidate_mesh_folder,
                                        object_mesh_folder, part_material_name, part_mesh_path)

from pipeline.core.scene import Candidate, MaterialEntry, Object, Part, Scene
from .pose import (ObjectTarget, assign_contacts, ceiling_lamps, choose_yaw, clamp_scale, hangs_from_ceiling,
                   initial_pose, object_targets, search_targets, settle_in_room, silhouette_loss, size_hint,
                   size_lower_bounds, yaw_search, yaw_tolerance)
from .record import ObjectsRecord
from .refine import assign_channels, refine_objects
from .standins import (PARAMETRIC_PREFIX, PROXY_PREFIX, hanging_siblings, is_parametric, is_standin,
                       parametric_parts, parts_size, proxy_parts)
from assets_index import normalize_category, related_categories
from pipeline.core.resample import resize_area


def merged_mesh(parts: dict) -> tuple[np.ndarray, np.ndarray]:
    """All parts of a model as one (vertices, faces) pair, for silhouettes."""
    verts, faces, offset = [], [], 0
    for mesh in parts.values():
        verts.append(np.asarray(mesh.vertices, float))
        faces.append(np.asarray(mesh.faces, int) + offset)
        offset += len(mesh.vertices)
    return np.vstack(verts), np.vstack(faces)


def _use_candidate(target: ObjectTarget, retriever, match) -> dict:
    parts = retriever.load_mesh(match.asset_id)
    target.mesh = merged_mesh(parts)
    target.face_colors = merged_face_colors(parts, {p.name: p.color for p in match.record.parts})
    target.size = np.asarray(match.record.size, float)
    target.unit_scale = retriever.pack_scale(match.record)
    return parts


def _from_entry(target: ObjectTarget, entry: Object, retriever, events) -> dict | None:
    """Set up an object from its scene.json entry (chosen model first among its candidates, pose, contact)."""
    # lazy: loads trimesh, which importing this module does not
    from assets_index import Match

    chosen = entry.asset_id
    if is_standin(chosen):  # a proxy or generated curtain/blind/rug: rebuilt from the mask and depth
        return None
    if chosen not in retriever:
        events.log(f"objects: {entry.name} uses {chosen}, which is in none of the asset indices searched; it "
                   "is retrieved again (index its library with `photo2scene assets index` to keep it)")
        return None
    ids = [chosen] + [c.asset_id for c in entry.candidates if c.asset_id != chosen]
    scores = {c.asset_id: c.score or 0.0 for c in entry.candidates}
    target.candidates = [Match(a, float(scores.get(a, 0.0)), retriever.get(a)) for a in ids if a in retriever]
    target.name = entry.name
    target.edited = True
    parts = _use_candidate(target, retriever, target.candidates[0])
    scales = np.asarray(entry.scale, float)
    uniform = float(np.exp(np.log(scales).mean()))
    target.pose = Pose(np.asarray(entry.location, float), math.radians(entry.yaw_deg), uniform, scales / uniform)
    target.contact = entry.contact or "none"
    if target.contact == "wall":  # inward wall normal: the model's back (+Y) faces the wall
        target.wall_normal = np.array([math.sin(target.pose.yaw), -math.cos(target.pose.yaw), 0.0])
    return parts


def _search(target: ObjectTarget, case: Case, scene: Scene, t, cfg, index: int, spp: int | None = None,
            normalise: bool = False, quarter_turns: bool = False) -> None:
    """Yaw search for one object alone (its own renderer; the others are not in the way of its mask loss):
    `yaw_steps` yaws; with `quarter_turns`, the current yaw at its current (refined) place against the three
    other quarter turns, each placed on the depth points."""
    r = RigidSearchRenderer(scene.camera, target.mesh, target.pose.scales, t.width, t.height, spp or cfg.spp)
    samples = None
    if cfg.align_points and case.depth is not None:  # pseudo points (no depth) are guesses: not aligned to
        samples = surface_samples(target.mesh[0], target.mesh[1], 600, np.random.default_rng(index))
    if quarter_turns:
        here, yaw = target.pose.location.copy(), target.pose.yaw
        tried = yaw_search(r, target, t, index, 4, cfg.yaw_depth_weight, normalise, samples, offset=yaw)
        mask, depth = r.render(here, yaw, seed=0)
        tried[0] = (yaw, silhouette_loss(mask, depth, t, index, cfg.yaw_depth_weight, normalise), here)
    else:
        tried = yaw_search(r, target, t, index, cfg.yaw_steps, cfg.yaw_depth_weight, normalise, samples)
    reach = float(max(target.size[:2]) * target.pose.scale / 2 + cfg.wall_contact_m)
    tolerance = yaw_tolerance(target.label)
    chosen = choose_yaw(tried, target.pose.location, scene.room, reach, tolerance,
                        camera_xy=np.asarray(scene.camera.t)[:2])
    # The refined pose is only left for a near-equal fit, or, for furniture that stands against walls, for the
    # back-to-wall turn the wall prior picked within its margin (a bed refined with its headboard to the room).
    keep_margin = tolerance if tolerance > 0.15 and chosen is not tried[0] else 0.05
    if quarter_turns and chosen[1] > tried[0][1] * (1 + keep_margin):
        chosen = tried[0]
    target.pose.yaw, target.search_loss, location = chosen
    target.pose.location = np.asarray(location, float).copy()


def rank_by_fit(target: ObjectTarget, pool: list, retriever, case: Case, scene: Scene, t_fit, cfg, index: int,
                floor_mask: np.ndarray, clip: bool, base: float | None = None, events: Events | None = None,
                t_look=None) -> list[tuple[float, float, object, ObjectTarget, dict]]:
    """Pose every candidate in `pool` (initial pose from the depth points, then the yaw search, at low
    resolution) and rank them by how well they fit: [(score, fit loss, match, posed trial, parts)], best first.

    The fit is the occlusion-aware silhouette L1 (as a fraction of the object's area) + the depth L1, plus
    `scale_prior` x |log scale|: the library's models have real sizes and the depth is metric (or prior-scaled),
    so a model that must be blown up or shrunk to match is less likely the one in the photo; plus
    `category_prior` for a model of a category only related to the label; plus `appearance_weight` x the colour
    distance of the posed candidate to the photo (`t_look`'s photo and masks), which tells apart models that
    share a shape. Without CLIP this is the retrieval signal (shape and colour, not only the category); with
    CLIP, the cosine gap to CLIP's best is added (`clip_fit_weight`), so CLIP's ranking is kept unless the fit
    clearly disagrees.
    A candidate whose file no longer loads (moved since it was indexed) is skipped."""
    ranked = []
    best_cos = max((float(m.score) for m in pool), default=0.0)
    for match in pool:
        trial = target.trial()
        if base is not None:  # set down on a support found under its hidden bottom
            trial.contact = target.contact
        try:
            parts = _use_candidate(trial, retriever, match)
        except Exception as exc:  # one stale file in the artist's library must not stop the reconstruction
            if events is not None:
                events.log(f"objects: cannot load {match.asset_id} ({type(exc).__name__}: {exc}); skipped "
                           "(`photo2scene assets index` brings the index up to date)")
            continue
        trial.pose = initial_pose(trial, scene.camera, floor_mask, cfg.floor_contact_m, scene.room, base)
        _search(trial, case, scene, t_fit, cfg, index, spp=cfg.fit_spp, normalise=True)
        fit = trial.search_loss + scale_cost(trial, cfg) + category_cost(target, match.record, cfg)
        score = fit + (cfg.clip_fit_weight * (best_cos - float(match.score)) if clip else 0.0)
        ranked.append((score, fit, match, trial, parts))
    # Colour is looked at only where it can change the order: a candidate whose shape alone is further behind
    # the best than the largest colour term could make up is left at the worst colour (saves its render).
    reach = min((r[0] for r in ranked), default=0.0) + cfg.appearance_weight * WORST
    ranked = [(score + look, fit + look, match, trial, parts) for score, fit, match, trial, parts in ranked
              for look in [_appearance_cost(trial, scene, t_look, index, cfg, score <= reach)]]
    ranked.sort(key=lambda r: r[0])
    return ranked


def _appearance_cost(trial: ObjectTarget, scene: Scene, t_look, index: int, cfg, look: bool = True) -> float:
    """`appearance_weight` x the posed candidate's colour distance to the photo (`WORST` unless `look`); 0 when
    appearance is off or nothing to compare with is given."""
    if cfg.appearance_weight <= 0 or t_look is None or t_look.photo is None or trial.face_colors is None:
        return 0.0
    distance = appearance_of(trial, scene.camera, t_look.photo, t_look.masks[index], cfg.fit_spp) if look else WORST
    # recorded only when compared (scene.json's colour_distance is absent for a candidate left at the worst)
    trial.colour_distance = distance if look else None  # type: ignore[attr-defined]
    return cfg.appearance_weight * distance


def pool_of(target: ObjectTarget) -> list:
    """The retrieved candidates of an object (CLIP or category + size order) beyond those shape retrieval fit."""
    return getattr(target, "retrieved", [])


def _offered(ranked: list, pool: list, k: int) -> list:
    """The candidates offered: those fit, best fit first, then the rest of retrieval's order (CLIP narrowed the
    fit to its top few; the others are still offered for a swap)."""
    fitted = [r[2] for r in ranked]
    ids = {m.asset_id for m in fitted}
    return (fitted + [m for m in pool if m.asset_id not in ids])[:k]


def _keep_ranking(tg: ObjectTarget, ranked: list, k: int) -> None:
    """Record shape retrieval's outcome on the target: the candidates offered, and each fitted candidate's fit
    (scene.json's `shape_fit`) and the scale it was fit at (where re-ranking starts it)."""
    tg.candidates = _offered(ranked, pool_of(tg), k)
    tg.fit_scores = {r[2].asset_id: r[1] for r in ranked}  # type: ignore[attr-defined]
    tg.fit_scales = {r[2].asset_id: r[3].pose.scale for r in ranked}  # type: ignore[attr-defined]
    tg.colour_distances = {r[2].asset_id: getattr(r[3], "colour_distance", None)  # type: ignore[attr-defined]
                           for r in ranked}


def scale_cost(target: ObjectTarget, cfg) -> float:
    """`scale_prior` x |log scale|: library models have real sizes, so one that must be scaled is less likely
    (the scale measured from the model's real size: a stylised pack's own units are not a reason to scale)."""
    return cfg.scale_prior * abs(math.log(max(target.pose.scale, 1e-6) / target.unit_scale))


def category_cost(target: ObjectTarget, record, cfg) -> float:
    """`category_prior` for a model of a category only related to the object's label (a mirror for a picture, a
    desk for a table): retrieval searches the related categories because segmenters confuse them, but the
    label's own category is the likelier."""
    return cfg.category_prior if record.category != normalize_category(target.label) else 0.0


def _fit_loss(target: ObjectTarget, scene: Scene, t, cfg, index: int) -> float:
    """The shape-retrieval fit of an object at its current pose, rendered alone: silhouette L1 as a fraction of
    the object's area + depth L1 + the scale prior (what `rank_by_fit` ranks by)."""
    r = RigidSearchRenderer(scene.camera, target.mesh, target.pose.scales, t.width, t.height, cfg.spp)
    mask, depth = r.render(target.pose.location, target.pose.yaw, seed=1)
    return silhouette_loss(mask, depth, t, index, cfg.yaw_depth_weight, normalise=True) + scale_cost(target, cfg)


def run(scene: Scene, case: Case, config: ReconstructConfig, events: Events, files: BundleFiles | None = None,
        retriever=None) -> Scene:
    """Retrieve and pose the objects (see `_run`), with repeatable CPU renders unless `objects.deterministic` is 0."""
    with deterministic_renders(bool(config.objects.deterministic)):
        return _run(scene, case, config, events, files, retriever)


def _run(scene: Scene, case: Case, config: ReconstructConfig, events: Events, files: BundleFiles | None = None,
         retriever=None) -> Scene:
    """Add posed, retrieved objects to the Scene; their meshes, thumbnails and report images go into `files` (the
    bundle's; a throw-away one when not given)."""
    files = files if files is not None else BundleFiles()
    cfg = config.objects
    check_budgets(cfg)
    start = time.perf_counter()
    if scene is None or scene.room is None:
        raise InputError("the object stage needs the room stage's camera and room; re-run from the room stage "
                         "(`photo2scene refine BUNDLE --from-stage room`)")
    if retriever is None:
        check_asset_index(cfg.asset_index)  # a wrong --objects.asset-index is an error even with no objects
    dropped = [int(v) for v in (scene.stages.get("objects") or {}).get("dropped_segments", [])]
    targets = [tg for tg in object_targets(case, scene.camera, cfg.erosion_px, cfg.min_pixels)
               if tg.segment.id not in dropped]  # deleted by the user in Blender: stays out
    if scene.room is not None:
        for name in ceiling_lamps(targets, scene.room.floor_z, scene.room.ceiling_z):
            events.log(f"objects: {name} hangs from the ceiling: retrieved as a ceiling lamp")
    events.stage("objects", len(targets) + cfg.refine_iters, f"{len(targets)} objects to retrieve and pose")
    if not targets:
        scene.stages["objects"] = ObjectsRecord(objects=0, seconds=0.0, dropped_segments=dropped).to_dict()
        events.done("no objects")
        return scene
    init_mitsuba(config.device)
    retriever = retriever or open_retriever(events, cfg)
    floor_mask = case.mask("floor")
    t = search_targets(case, targets, min(cfg.refine_width, case.width))
    t_fit = search_targets(case, targets, min(cfg.fit_width, case.width))  # candidate ranking: coarse is enough
    t_look = search_targets(case, targets, min(cfg.appearance_width, case.width))  # colours: small objects too

    # Re-run (photo2scene refine): objects already in the scene keep their chosen model and (edited) pose, and
    # are only refined; segments without an entry go through retrieval and search.
    edited = {o.segment_id: o for o in scene.objects if o.segment_id is not None}
    old_materials = {p.material for o in scene.objects for p in o.parts}
    scene.objects = []

    parts_by_target = []
    siblings = hanging_siblings(targets, scene.room)
    for i, tg in enumerate(targets):
        if tg.segment.id in edited:
            parts = _from_entry(tg, edited[tg.segment.id], retriever, events)
            if parts is not None:
                parts_by_target.append(parts)
                continue
        crop = crop_around(case.photo_srgb, tg.mask)
        pool = retrieve(retriever, tg.label, crop, size_hint(tg), max(cfg.top_k, cfg.fit_candidates),
                        size_lower_bounds(tg))
        missing = not pool or _category_missing(tg.label, pool)
        narrow = cfg.fit_candidates if retriever.embedder is None else min(cfg.fit_candidates, cfg.clip_candidates)
        tg.pool = pool[:max(narrow, 1)]  # type: ignore[attr-defined]
        tg.retrieved = pool  # type: ignore[attr-defined]
        ranked = None
        if is_parametric(tg.label) or missing:
            same = [m for m in tg.pool if is_parametric(tg.label) and m.record.source != "builtin"
                    and m.record.category == normalize_category(tg.label)]
            if same and cfg.fit_candidates > 1:
                # The artist's own rug or curtain (not a blind for a curtain), with its real size and texture,
                # beats a generic one where it fits as well; else the generator's, sized from the mask (the
                # built-in ones are generic too: on the test rooms held out they covered their masks worse).
                ranked = rank_by_fit(tg, same, retriever, case, scene, t_fit, cfg, i, floor_mask,
                                     retriever.embedder is not None, events=events, t_look=t_look)
            parts = _standin(tg, case, scene, pool[:cfg.top_k], events, siblings.get(tg.name))
            if not ranked or not _library_fits(tg, parts, ranked[0], scene, t_fit, cfg, i, events):
                parts_by_target.append(parts)
                events.step(i + 1, len(targets) + cfg.refine_iters, f"built a stand-in for {tg.name}")
                continue
        if cfg.fit_candidates > 1:
            # Shape retrieval: every candidate posed and scored by its fit; the best fits are kept.
            if ranked is None:
                ranked = rank_by_fit(tg, tg.pool, retriever, case, scene, t_fit, cfg, i, floor_mask,
                                     retriever.embedder is not None, events=events, t_look=t_look)
            if not ranked:
                events.log(f"objects: no model for {tg.name} ({tg.label}) loads; skipped")
                parts_by_target.append(None)
                continue
            _keep_ranking(tg, ranked, cfg.top_k)
            parts_by_target.append(_use_candidate(tg, retriever, tg.candidates[0]))
            trial = ranked[0][3]
            tg.pose, tg.contact = trial.pose, trial.contact
        else:
            tg.candidates = pool[:cfg.top_k]
            parts_by_target.append(_use_candidate(tg, retriever, tg.candidates[0]))
            tg.pose = initial_pose(tg, scene.camera, floor_mask, cfg.floor_contact_m, scene.room)
        _search(tg, case, scene, t, cfg, i)
        events.step(i + 1, len(targets) + cfg.refine_iters, f"retrieved and searched {tg.name}")

    keep = [i for i, tg in enumerate(targets) if tg.pose is not None]
    targets = [targets[i] for i in keep]
    parts_by_target = [parts_by_target[i] for i in keep]
    t.masks = [t.masks[i] for i in keep]
    lowered = assign_contacts([tg for tg in targets if not (tg.edited or tg.standin)], scene.room, cfg.support_gap_m,
                              cfg.wall_contact_m)
    for tg in lowered:  # its real bottom is hidden lower down (a support, the floor): scale, shape, yaw from there
        i = targets.index(tg)
        base = float(tg.pose.location[2])
        below = "the floor" if tg.contact == "floor" else tg.contact.removeprefix("support:")
        events.log(f"objects: {tg.name}'s foot is hidden; it stands on {below}: retrieved and posed again from there")
        if cfg.fit_candidates > 1:
            ranked = rank_by_fit(tg, tg.pool, retriever, case, scene, t_fit, cfg, keep[i], floor_mask,
                                 retriever.embedder is not None, base, events, t_look)
            _keep_ranking(tg, ranked, cfg.top_k)
            parts_by_target[i] = _use_candidate(tg, retriever, tg.candidates[0])
            tg.pose = ranked[0][3].pose
        else:
            tg.pose = initial_pose(tg, scene.camera, floor_mask, cfg.floor_contact_m, scene.room, base)
        _search(tg, case, scene, t, cfg, i)
    for tg in targets:
        if tg.contact == "wall" and not tg.edited:  # back against the wall: the model's back (+Y) points out of the room
            n = tg.wall_normal
            tg.pose.yaw = math.atan2(n[0], -n[1])

    refine = OptimiseRecord()
    iou_before, labels_before = mask_ious(scene, targets, case, cfg)
    searched = [_snapshot(tg, parts) for tg, parts in zip(targets, parts_by_target)]
    if cfg.refine_iters > 0 and targets:
        channels = assign_channels(targets)
        renderer = SilhouetteRenderer(scene.camera, [tg.mesh for tg in targets], channels,
                                      [tg.pose for tg in targets], t.width, t.height, cfg.spp)
        refine = refine_objects(renderer, targets, channels, t, cfg.refine_iters, cfg.lr, cfg.pyramid_levels,
                                events, config.seed, cfg.aspect_limit,
                                cfg.points_weight if case.depth is not None else 0.0,  # pseudo points: guesses
                                cfg.schedule)

    # Quarter turns of the refined pose: refinement only nudges the yaw, and near-square furniture fits about as
    # well turned by 90 degrees; the four are compared with the wall and camera priors of the search.
    for i, tg in enumerate(targets):
        if not (tg.edited or tg.standin or tg.contact == "wall"):
            _search(tg, case, scene, t, cfg, i, normalise=True, quarter_turns=True)

    # Re-rank the top candidates by their fit at the refined location, scored like shape retrieval: the mask
    # term as a fraction of the object's area (as a fraction of the photo it is tiny for a small object, the
    # depth term then decides, and a model that misses the object has no overlap to take depth from: a 1.85 m
    # arc lamp beside a table lamp won that way), the scale prior and the colour distance.
    reranked = 0
    for i, tg in enumerate(targets):
        if tg.edited or tg.standin:  # the user's choice of model stands; a stand-in is built, not chosen
            continue
        current = (_fit_loss(tg, scene, t, cfg, i) + _appearance_cost(tg, scene, t_look, keep[i], cfg)
                   + category_cost(tg, tg.candidates[0].record, cfg))
        scores = {tg.candidates[0].asset_id: current}
        best = (current, 0, None)
        for j, match in enumerate(tg.candidates[1:cfg.rerank_k], start=1):
            trial = tg.trial()
            trial.contact, trial.wall_normal = tg.contact, tg.wall_normal  # same contact: z stays where it rests
            trial_parts = _use_candidate(trial, retriever, match)
            trial.pose = Pose(tg.pose.location.copy(), tg.pose.yaw, 1.0)
            trial.pose.scale = _rerank_scale(tg, trial, match.asset_id)
            if hangs_from_ceiling(tg):  # its top at the ceiling, like the chosen one's
                trial.pose.location[2] = scene.room.ceiling_z - trial.size[2] * trial.pose.scale
            if tg.height_unseen(tg.contact == "floor"):  # the border hides its height: not below the model's size
                trial.pose.scale = max(trial.pose.scale, trial.unit_scale)
            _search(trial, case, scene, t, cfg, i, normalise=True)
            fit = (trial.search_loss + scale_cost(trial, cfg) + _appearance_cost(trial, scene, t_look, keep[i], cfg)
                   + category_cost(tg, match.record, cfg))
            scores[match.asset_id] = fit
            if fit < best[0]:
                best = (fit, j, (trial, trial_parts))
        if best[2] is not None:
            trial, trial_parts = best[2]
            tg.mesh, tg.face_colors, tg.size, tg.pose = trial.mesh, trial.face_colors, trial.size, trial.pose
            parts_by_target[i] = trial_parts
            tg.candidates.insert(0, tg.candidates.pop(best[1]))
            reranked += 1
        tg.rerank_scores = scores  # type: ignore[attr-defined]
    stretched = 0
    for i, tg in enumerate(targets):
        if not tg.edited:
            stretched += settle_stretch(tg, scene, t, cfg, i)
        if not (tg.edited or tg.standin) and tg.contact == "floor" and cfg.wall_snap_m > 0:
            _settle_in_room(tg, targets, scene, t, cfg, i)
    iou_after, labels_after = mask_ious(scene, targets, case, cfg)
    # Refinement, quarter turns, re-ranking and the room priors each judge one object alone or a loss that mixes
    # masks and depth; an object whose mask, rendered with all the others, is clearly worse covered after them
    # than after its search goes back to its searched pose and model.
    worse = [i for i, (a, b) in enumerate(zip(iou_after, iou_before))
             if a < b - cfg.revert_below and not targets[i].edited]
    for i in worse:
        parts_by_target[i] = _restore(targets[i], searched[i])
        events.log(f"objects: {targets[i].name}: mask IoU {iou_before[i]:.2f} after the search, "
                   f"{iou_after[i]:.2f} after refinement; the searched pose is kept")
    if worse:
        iou_after, labels_after = mask_ious(scene, targets, case, cfg)
    regenerated = back_to_generated(targets, parts_by_target, iou_after, cfg, events)
    if regenerated:
        iou_after, labels_after = mask_ious(scene, targets, case, cfg)
    proxied = replace_bad_fits(targets, parts_by_target, iou_after, case, scene, cfg, events)
    if proxied:
        iou_after, labels_after = mask_ious(scene, targets, case, cfg)
    for tg, iou in zip(targets, iou_after):
        if iou < LOW_MASK_IOU:
            tg.flags.append("low_mask_iou")
            events.log(f"objects: {tg.name} ({tg.label}) covers only {iou:.2f} of its mask (IoU < {LOW_MASK_IOU}); "
                       "flagged: drop it or re-pose it in Blender, then Refine")
    target_labels = np.full((case.height, case.width), -1, np.int32)
    for i, tg in enumerate(targets):
        target_labels[tg.mask] = i
    files.write("report/objects_target.png", _overlay_png(case, target_labels))
    files.write("report/objects_before.png", _overlay_png(case, labels_before))
    files.write("report/objects_after.png", _overlay_png(case, labels_after))
    files.write(FINAL_IDS, _ids_png(labels_after))

    for i, (tg, parts) in enumerate(zip(targets, parts_by_target)):
        seen = (labels_after == i) & tg.mask  # its own pixels, where the final render shows it in front
        scene.objects.append(_object_entry(scene, files, case, tg, parts, iou_before[i], iou_after[i],
                                           retriever.mode, retriever, seen))
    in_use = {p.material for o in scene.objects for p in o.parts}
    for name in old_materials - in_use:  # parts of models swapped away
        scene.materials.pop(name, None)
    scene.stages["objects"] = ObjectsRecord(
        objects=len(targets),
        retrieval=retriever.mode,
        libraries=retriever.libraries(),
        mask_iou_before=[round(v, 4) for v in iou_before],
        mask_iou_after=[round(v, 4) for v in iou_after],
        reranked=reranked,
        stretched=stretched,
        dropped_segments=dropped,
        flagged=[tg.name for tg in targets if tg.flags],
        losses=[round(v, 6) for v in refine.losses],
        seconds_per_iteration=round(refine.seconds_per_iteration, 4),
        optimiser=refine.summary(),
        seconds=round(time.perf_counter() - start, 3),
    ).to_dict()
    events.log(f"objects: mean mask IoU {np.mean(iou_before):.3f} -> {np.mean(iou_after):.3f}"
               f" ({reranked} re-ranked)")
    events.done("object stage done")
    return scene


def _rerank_scale(tg: ObjectTarget, trial: ObjectTarget, asset_id: str) -> float:
    """A re-ranked candidate's starting scale: the one shape retrieval fit it at, times what refinement changed
    in the chosen model's (scaling it to the chosen one's height instead made a flush ceiling disc twice its
    size where the chosen pendant's height was its cord); by height for a candidate shape retrieval did not fit."""
    fitted = getattr(tg, "fit_scales", {})
    chosen = tg.candidates[0].asset_id
    if asset_id in fitted and chosen in fitted:
        return clamp_scale(fitted[asset_id] * tg.pose.scale / max(fitted[chosen], 1e-6), trial.unit_scale)
    return clamp_scale(tg.pose.scale * tg.size[2] / max(trial.size[2], 1e-3), trial.unit_scale)


def _library_fits(tg: ObjectTarget, generated: dict | None, best: tuple, scene: Scene, t_fit, cfg, index: int,
                  events: Events) -> bool:
    """Whether the best-fitting library model of a curtain, blind or rug (`best`, shape retrieval's first) is
    used instead of the one its generator built (`generated`, the parts `_standin` set on `tg`): when its shape
    fit (silhouette + depth + scale prior, as shape retrieval scores it) is at most `library_margin` worse than
    the generated one's. Colour is left out: the generated one has none yet (the material stage fits it). When
    the library model wins, `tg` is a retrieved object again."""
    match, trial = best[2], best[3]
    library = trial.search_loss + scale_cost(trial, cfg)
    if generated is not None:
        built = _fit_loss(tg, scene, t_fit, cfg, index)
        events.log(f"objects: {tg.name} ({tg.label}): shape fit of the library's {match.asset_id} {library:.2f}, "
                   f"of the generated one {built:.2f}")
        if library > built + cfg.library_margin:
            return False
        events.log(f"objects: {tg.name}: the library's {match.asset_id} is used")
        # kept for `back_to_generated`, should the model end up covering little of its mask
        tg.generated = (generated, tg.standin, tg.mesh, tg.size, tg.pose, tg.contact,  # type: ignore[attr-defined]
                        tg.wall_normal)
    tg.standin, tg.face_colors, tg.wall_normal = "", None, None
    tg.flags = [f for f in tg.flags if f not in ("parametric", "proxy")]
    return True


def back_to_generated(targets: list[ObjectTarget], parts_by_target: list, ious: list[float], cfg,
                      events: Events) -> int:
    """A curtain, blind or rug taken from the library (`_library_fits`) whose final mask IoU is below
    `proxy_below` goes back to the one its generator built from the mask: the shape fit it won by scores the
    model alone, and a rug half under furniture can win it and still end up hidden (tune room 4 of bench
    realistic: 0.00). Returns how many went back."""
    back = 0
    for i, (tg, iou) in enumerate(zip(targets, ious)):
        kept = getattr(tg, "generated", None)
        if kept is None or tg.edited or iou >= cfg.proxy_below:
            continue
        model = tg.candidates[0].asset_id if tg.candidates else "the model"
        parts_by_target[i], tg.standin, tg.mesh, tg.size, tg.pose, tg.contact, tg.wall_normal = kept
        tg.face_colors, tg.unit_scale, tg.generated = None, 1.0, None  # type: ignore[attr-defined]
        tg.flags.append("parametric")
        back += 1
        events.log(f"objects: {tg.name} ({tg.label}): the library's {model} covers {iou:.2f} of its mask; the "
                   "generated one is used (the model stays on offer)")
    return back


def _category_missing(label: str, pool: list) -> bool:
    """Whether the libraries have no model of the object's kind: its label names no known category (a pillow, a
    radio: any model retrieved for it is another thing), or retrieval had to leave its category family."""
    category = normalize_category(label)
    if category == "object":
        return True
    family = set(related_categories(category))
    return not any(m.record.category in family for m in pool)


def _standin(tg: ObjectTarget, case: Case, scene: Scene, candidates: list, events: Events,
             sibling: ObjectTarget | None = None) -> dict | None:
    """Build a curtain/blind/rug from its generator (a cut curtain sized like its whole `sibling`), or a proxy
    from the mask and depth, for an object the library has nothing (good) for; the retrieved `candidates` stay
    on offer. Returns its parts (None: nothing built)."""
    tg.candidates = list(candidates)
    built = None
    if is_parametric(tg.label):
        built = parametric_parts(tg, scene.room, camera_xy=np.asarray(scene.camera.t)[:2], sibling=sibling)
        if built is not None and sibling is not None:
            events.log(f"objects: {tg.name} is cut or half hidden; it hangs as long as {sibling.name} on its wall")
    if built is not None:
        parts, tg.pose, tg.contact = built
        category = normalize_category(tg.label)
        tg.standin, kind = f"{PARAMETRIC_PREFIX}{category}", "parametric"
        if tg.contact == "wall":
            tg.wall_normal = np.array([math.sin(tg.pose.yaw), -math.cos(tg.pose.yaw), 0.0])
    else:
        proxy = proxy_parts(tg, case, scene.camera)
        if proxy is None:
            events.log(f"objects: no model for {tg.name} ({tg.label}) and too few depth points for a proxy; "
                       "skipped")
            return None
        parts, tg.pose, shape = proxy
        tg.contact = "floor" if tg.pose.location[2] < 1e-6 else "none"
        tg.standin, kind = f"{PROXY_PREFIX}{shape}", "proxy"
        events.log(f"objects: no {tg.label} in the libraries searched; {tg.name} is a proxy built from its mask "
                   f"and depth (flagged 'proxy'; {len(candidates)} retrieved candidates still offered)")
    tg.flags.append(kind)
    tg.mesh, tg.face_colors, tg.size = merged_mesh(parts), None, parts_size(parts)
    return parts


def replace_bad_fits(targets: list[ObjectTarget], parts_by_target: list, ious: list[float], case: Case,
                     scene: Scene, cfg, events: Events) -> int:
    """Retrieved models whose final mask IoU is below `proxy_below`: a proxy from the object's own mask and
    depth replaces the model when, rendered with all the others, it covers the mask `proxy_gain` better (any
    better when the model is under `LOW_MASK_IOU`, the flag for a wrong fit). The
    model stays the first of the candidates offered. Objects the photo's border cuts keep their model: a proxy
    is only the part in the frame (an armchair in the corner became a 17 cm block floating at half height),
    whereas the model goes on past the border. Returns how many were replaced."""
    bad = [i for i, (tg, iou) in enumerate(zip(targets, ious))
           if iou < cfg.proxy_below and not (tg.edited or tg.standin or tg.cut)]
    saved, shapes = {}, {}
    for i in bad:
        built = proxy_parts(targets[i], case, scene.camera)
        if built is None:
            continue
        tg = targets[i]
        saved[i] = (tg.mesh, tg.size, tg.pose, tg.contact, parts_by_target[i])
        parts_by_target[i], tg.pose, shapes[i] = built
        tg.mesh, tg.size = merged_mesh(parts_by_target[i]), parts_size(parts_by_target[i])
        tg.contact = "floor" if tg.pose.location[2] < 1e-6 else "none"
    if not saved:
        return 0
    trial, _ = mask_ious(scene, targets, case, cfg)
    kept = 0
    for i, old in saved.items():
        tg = targets[i]
        # A model already flagged (mask IoU under LOW_MASK_IOU) gives way to any proxy that covers more: it is
        # known to be wrong, and the proxy is at least the object's own shape (SUN RGB-D sample 4's bed was a
        # bunk bed at 0.23 against a relief at 0.35).
        margin = 0.0 if ious[i] < LOW_MASK_IOU else cfg.proxy_gain
        if trial[i] > ious[i] + margin:
            tg.standin, tg.face_colors = f"{PROXY_PREFIX}{shapes[i]}", None
            tg.flags.append("proxy")
            kept += 1
            events.log(f"objects: {tg.name} ({tg.label}): {tg.candidates[0].asset_id} covers {ious[i]:.2f} of its "
                       f"mask, a proxy from its mask and depth {trial[i]:.2f}; the proxy is used (flagged "
                       "'proxy'), the model stays on offer")
        else:
            tg.mesh, tg.size, tg.pose, tg.contact, parts_by_target[i] = old
            events.log(f"objects: {tg.name} ({tg.label}): {tg.candidates[0].asset_id} covers {ious[i]:.2f} of its "
                       f"mask, a proxy from its mask and depth {trial[i]:.2f}, not {margin:.2f} more; "
                       "the model is kept")
    return kept


def _snapshot(tg: ObjectTarget, parts: dict) -> tuple:
    """What `_restore` needs to put an object back as it is now (model, pose, contact, candidates, parts)."""
    pose = Pose(tg.pose.location.copy(), tg.pose.yaw, tg.pose.scale, np.asarray(tg.pose.aspect, float).copy())
    return (tg.mesh, tg.face_colors, tg.size, pose, tg.contact, list(tg.candidates), parts)


def _restore(tg: ObjectTarget, snap: tuple) -> dict:
    tg.mesh, tg.face_colors, tg.size, pose, tg.contact, candidates, parts = snap
    tg.pose = Pose(pose.location.copy(), pose.yaw, pose.scale, pose.aspect.copy())
    tg.candidates = list(candidates)
    return parts


def _settle_in_room(tg: ObjectTarget, targets: list[ObjectTarget], scene: Scene, t, cfg, index: int) -> None:
    """`settle_in_room` (inside the walls, back against a near wall) unless the object alone then fits more than
    5 % worse; what rests on it moves with it."""
    before = _fit_loss(tg, scene, t, cfg, index)
    shift = settle_in_room(tg, scene.room, cfg.wall_snap_m)
    if not np.any(shift):
        return
    if _fit_loss(tg, scene, t, cfg, index) > before * 1.05:
        tg.pose.location = tg.pose.location - shift
        return
    for other in targets:
        if other.contact == f"support:{tg.name}":
            other.pose.location = other.pose.location + shift


def settle_stretch(tg: ObjectTarget, scene: Scene, t, cfg, index: int) -> bool:
    """Keep a refined per-axis stretch (clipped to +-`aspect_limit` in log) only when it fits clearly better than
    the same model at its uniform scale (`stretch_margin`, relative); else the model goes back to uniform.
    Returns whether the stretch was kept."""
    limit = math.exp(cfg.aspect_limit)
    aspect = np.clip(np.asarray(tg.pose.aspect, float), 1 / limit, limit)
    if np.allclose(aspect, 1.0, atol=1e-3):
        tg.pose.aspect = np.ones(3)
        return False
    tg.pose.aspect = aspect
    stretched = _fit_loss(tg, scene, t, cfg, index)
    tg.pose.aspect = np.ones(3)
    uniform = _fit_loss(tg, scene, t, cfg, index)
    if stretched < uniform * (1 - cfg.stretch_margin):
        tg.pose.aspect = aspect
        return True
    return False


def mask_ious(scene: Scene, targets: list[ObjectTarget], case: Case, cfg) -> tuple[list[float], np.ndarray]:
    """Per-object IoU of the rendered silhouette with its mask at working resolution, and a map of which object
    each pixel shows (-1 = none). All objects are rendered together, so occlusions count."""
    import drjit as dr

    width, height = case.width, case.height
    labels = np.full((height, width), -1, np.int32)
    if not targets:
        return [], labels
    ious = []
    for i, tg in enumerate(targets):
        # Object i in its own channel, every other object in another: occluders hide it where they should.
        channels = [1 if j != i else 0 for j in range(len(targets))]
        r = SilhouetteRenderer(scene.camera, [x.mesh for x in targets], channels, [x.pose for x in targets],
                               width, height, max(4, cfg.spp))
        img = r.render(seed=3)
        dr.eval(img)
        pred = np.array(img)[..., 0] > 0.5
        labels[pred] = i
        truth = tg.mask
        union = (pred | truth).sum()
        ious.append(float((pred & truth).sum() / union) if union else 0.0)
    return ious, labels


FINAL_IDS = "report/objects_final_ids.png"
"""The stage's final object masks (rendered together, occlusions counted) as an 8-bit id map: scene.json's
objects[k - 1] where the value is k, 0 where none; what the exported scene must show (tests compare)."""


def _ids_png(labels: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.clip(labels + 1, 0, 255).astype(np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


def _overlay_png(case: Case, labels: np.ndarray) -> bytes:
    """The photo with each object's pixels tinted in its own colour (report image)."""
    h, w = labels.shape
    photo = resize_area(case.photo_srgb, (w, h))
    palette = np.array([[0.9, 0.3, 0.2], [0.2, 0.7, 0.3], [0.2, 0.4, 0.9], [0.9, 0.8, 0.1], [0.7, 0.3, 0.8],
                        [0.1, 0.8, 0.8], [0.9, 0.5, 0.1], [0.5, 0.5, 0.5]])
    out = photo.copy()
    hit = labels >= 0
    out[hit] = 0.45 * photo[hit] + 0.55 * palette[labels[hit] % len(palette)]
    return png_bytes(out)


def _object_entry(scene: Scene, files: BundleFiles, case: Case, tg: ObjectTarget, parts: dict, iou_before: float,
                  iou_after: float, retrieval: str, retriever=None, seen: np.ndarray | None = None) -> Object:
    """scene.json entry of an object; its part meshes (and its candidates', for instant swaps in Blender) go into
    the bundle through `files`. `seen`: the object's pixels that the final render shows (its parts' starting
    colours are taken there)."""
    largest = max(parts, key=lambda k: len(parts[k].faces))
    best = None if tg.standin else tg.candidates[0]  # a stand-in is built here: no library record
    photo = part_photo_colours(case, scene, tg, parts, seen if seen is not None else tg.mask)
    if largest not in photo:  # no part seen on its own: the object's median goes on its largest part
        photo[largest] = [float(c) for c in np.median(case.photo_linear[tg.mask], axis=0)]
    part_entries = []
    for name, mesh in parts.items():
        info = next((p for p in best.record.parts if p.name == name), None) if best is not None else None
        colour = photo.get(name) or [float(c) for c in (info.color if info else (0.5, 0.5, 0.5))]
        mat_name = part_material_name(tg.name, name)
        scene.materials.setdefault(mat_name, MaterialEntry.principled(  # a re-run keeps materials the user edited
            colour, 0.6, 0.0, "median photo colour" if name in photo else "asset colour"))
        part_entries.append(Part(name, _mesh_file(files, object_mesh_folder(tg.name), name, mesh), mat_name,
                                 info.material if info else (name if tg.standin else "")))
    fit = getattr(tg, "rerank_scores", {})
    shape = getattr(tg, "fit_scores", {})
    colour = getattr(tg, "colour_distances", {})
    candidates = []
    if tg.standin:  # first on offer, so that a swap to a retrieved model can be undone
        kind = "proxy from the mask and depth" if "proxy" in tg.flags else "generated from the mask and depth"
        candidates.append(Candidate(tg.standin, label=f"{tg.label} ({kind})", category=normalize_category(tg.label),
                                    parts=list(part_entries)))
    for m in tg.candidates:
        entry = Candidate(m.asset_id, label=m.record.name or m.asset_id, score=round(float(m.score), 4),
                          category=m.record.category, fit_loss=_rounded(fit.get(m.asset_id)),
                          shape_fit=_rounded(shape.get(m.asset_id)),
                          colour_distance=_rounded(colour.get(m.asset_id)), **_asset_fields(m.record))
        if m.record.thumbnail and Path(m.record.thumbnail).is_file():
            rel = asset_thumbnail_path(m.asset_id)
            if rel not in files:  # shared by every object it is a candidate of
                files.write(rel, Path(m.record.thumbnail).read_bytes())
            entry.thumbnail = rel
        if m is not best and retriever is not None:
            folder = candidate_mesh_folder(tg.name, m.asset_id)
            entry.parts = [Part(n, _mesh_file(files, folder, n, mesh),
                                part_material_name(tg.name, n) if part_material_name(tg.name, n) in scene.materials
                                else part_material_name(tg.name, largest))
                           for n, mesh in retriever.load_mesh(m.asset_id).items()]
        candidates.append(entry)
    return Object(
        name=tg.name,
        label=tg.label,
        segment_id=tg.segment.id,
        asset_id=best.asset_id if best is not None else tg.standin,
        **(_asset_fields(best.record) if best is not None else {}),
        location=[float(v) for v in tg.pose.location],
        yaw_deg=math.degrees(tg.pose.yaw),
        scale=[float(v) for v in tg.pose.scales],
        size=[float(v) * float(k) for v, k in zip(tg.size, tg.pose.scales)],
        contact=tg.contact,
        parts=part_entries,
        candidates=candidates,
        chosen=0,
        retrieval=retrieval,
        mask_iou_before=round(iou_before, 4),
        mask_iou_after=round(iou_after, 4),
        proposal=True if tg.label == PROPOSAL_LABEL else None,
        flags=list(tg.flags) or None,
        stretch=[round(float(v), 4) for v in tg.pose.aspect] if not np.allclose(tg.pose.aspect, 1.0) else None,
    )


def _asset_fields(record) -> dict:
    """What an exporter needs to link, append or import the original instead of the bundle's meshes: the source,
    the file, the source's key, its frame (to_canonical maps the file's own coordinates to the canonical one) and,
    for .blend asset libraries, the datablock ("Object"/"Collection") and its name. On candidates too, so that a
    swap in Blender can bring the candidate in from its library."""
    return {"asset_source": record.source, "asset_path": record.path, "asset_library": record.library,
            "asset_to_canonical": record.to_canonical,
            **({"asset_datablock": record.extra.get("datablock"), "asset_name": record.extra.get("name")}
               if record.source == "blend" else {})}


def _mesh_file(files: BundleFiles, folder: str, name: str, mesh) -> str:
    rel = part_mesh_path(folder, name)
    files.write(rel, obj_bytes(mesh.vertices, mesh.faces, getattr(mesh.visual, "uv", None)))
    return rel


def part_photo_colours(case: Case, scene: Scene, tg: ObjectTarget, parts: dict, seen: np.ndarray,
                       min_pixels: int = MIN_PIXELS) -> dict[str, list[float]]:
    """Each part's median photo colour (linear RGB) over the `seen` pixels where the posed model shows that part
    (rendered alone at working resolution); parts seen on fewer than `min_pixels` are left out. A model's own
    colours say little about the photo's, and the object's one median paints every part alike (a dark frame
    around a white canvas became all white): each part starts from the pixels it covers."""
    if not seen.any():
        return {}
    names = list(parts)
    ids = part_ids_image(scene.camera, [(np.asarray(parts[n].vertices), np.asarray(parts[n].faces)) for n in names],
                         tg.pose, case.width, case.height)
    out = {}
    for k, name in enumerate(names):
        pixels = seen & (ids == k)
        if pixels.sum() >= min_pixels:
            out[name] = [float(c) for c in np.median(case.photo_linear[pixels], axis=0)]
    return out



def _rounded(value: float | None) -> float | None:
    return None if value is None else round(float(value), 4)
