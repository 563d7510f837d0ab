"""Room stage: geometric box fit, then differentiable refinement; hands the camera and the room to the Scene."""

from __future__ import annotations

import math
import time

import numpy as np

from pipeline.core.bundle import BundleFiles
from pipeline.core.case import Case
from pipeline.core.events import Events
from pipeline.core.geometry import rotation_z
from pipeline.render.backend import init_mitsuba
from pipeline.render.room_box import depth_and_faces, surface_labels
from pipeline.stages.config import ReconstructConfig
from blender_addon.scene_format import default_room_material

from pipeline.core.scene import Camera, Light, MaterialEntry, Room, Scene, ROOM_FACES
from pipeline.render.determinism import deterministic_renders
from .config import check_budgets
from .fit import RoomFit, fit_room
from .openings import find_openings
from .nodepth import case_with_pseudo_depth, search_tilt
from .record import RoomRecord
from .refine import SURFACES, refine_room


def surface_iou(camera: Camera, room: Room, case: Case) -> dict[str, float]:
    """IoU of the box's wall/floor/ceiling against the case's masks, over pixels the case labels as room."""
    _, faces = depth_and_faces(camera, room, case.width, case.height)
    pred = surface_labels(faces)
    masks = [case.mask(s) for s in SURFACES]
    valid = masks[0] | masks[1] | masks[2]
    out = {}
    for k, surf in enumerate(SURFACES):
        p, t = (pred == k) & valid, masks[k]
        union = (p | t).sum()
        if t.any() or p.any():
            out[surf] = float((p & t).sum() / union) if union else 1.0
    return out


def normalise_world(camera: Camera, room: Room, *others: Room) -> tuple[Camera, Room, list[Room]]:
    """Re-express camera and rooms so `room` is axis-aligned, centred on the origin, with its floor at z = 0.

    `others` (e.g. the unrefined box) are moved by the same transform, for before/after comparisons."""
    yaw = math.radians(room.yaw_deg)
    Rz_inv = rotation_z(-yaw)
    floor = np.array([room.center[0], room.center[1], room.center[2] - room.size[2] / 2])

    def move(r: Room) -> Room:
        return Room((Rz_inv @ (np.asarray(r.center) - floor)).tolist(), list(r.size), r.yaw_deg - room.yaw_deg,
                    dict(r.materials))

    cam = Camera((Rz_inv @ (camera.t - floor)).tolist(), (Rz_inv @ camera.R).tolist(), camera.fov_y_deg,
                 camera.width, camera.height)
    return cam, move(room), [move(r) for r in others]


def plain_materials(camera: Camera, room: Room, case: Case) -> dict[str, MaterialEntry]:
    """One Principled material per surface kind, coloured by the photo's median linear colour in its mask."""
    materials = {}
    for surf in SURFACES:
        mask = case.mask(surf)
        colour = np.median(case.photo_linear[mask], axis=0) if mask.any() else np.array([0.6, 0.6, 0.6])
        materials[default_room_material(surf)] = MaterialEntry.principled(
            colour, 0.8 if surf != "ceiling" else 0.9, 0.0, "median photo colour (room stage placeholder)")
    return materials


def _with_window_lights(lights: list[Light], windows: list[Light]) -> list[Light]:
    """The scene's lights with the windows' outdoor lights placed anew: one a run already has (by name) keeps its
    fitted colour and power (the light stage's, or the artist's) and takes the new pose."""
    old = {light.name: light for light in lights}
    for window in windows:
        kept = old.get(window.name)
        if kept is not None:
            window.color, window.power_w = kept.color, kept.power_w
    names = {window.name for window in windows}
    return [light for light in lights if light.name not in names] + windows


def run(scene: Scene | None, case: Case, config: ReconstructConfig, events: Events,
        files: BundleFiles | None = None) -> Scene:
    """Fit and refine the room (see `_run`), with repeatable CPU renders unless `room.deterministic` is 0."""
    with deterministic_renders(bool(config.room.deterministic)):
        return _run(scene, case, config, events, files)


def _run(scene: Scene | None, case: Case, config: ReconstructConfig, events: Events,
         files: BundleFiles | None = None) -> Scene:
    """Fit and refine the room; returns a Scene with camera, room, plain room materials and stage metrics.

    `files` (the bundle's) receives the pictures of the windows' backdrops (`core.openings.outdoors_texture`)."""
    cfg = config.room
    check_budgets(cfg)
    start = time.perf_counter()
    if scene is not None and scene.room is not None:
        # Re-run (photo2scene refine): start from the scene's (possibly hand-edited) camera and box.
        events.stage("room", cfg.refine_iters, "refining the edited room box")
        fit = RoomFit(scene.camera, scene.room, dict(scene.scale), scene.camera.R.T @ np.array([0, 0, 1.0]),
                      ["re-run from the edited scene: the geometric fit was skipped"])
    elif case.depth is None:
        events.stage("room", cfg.refine_iters, "fitting the room from masks (no depth given)")
        tilt, notes = case.tilt_deg, []
        if tilt is None:
            tilt = search_tilt(case, cfg, config.seed)
            notes.append(f"no depth and no camera tilt given: tilt searched on the masks (pitch {tilt[0]:.1f}, "
                         f"roll {tilt[1]:.1f} deg)")
        pseudo, more = case_with_pseudo_depth(case, cfg, config.seed, tilt)
        notes += more
        fit = fit_room(pseudo, cfg, config.seed)
        fit.notes = notes + fit.notes
        fit.scale = {"source": "prior:camera_height", "factor": 1.0, "value_m": cfg.camera_height_prior_m,
                     "note": "no depth: the floor is placed at the prior camera height; masks alone refine the room"}
        if any(n.startswith("scale from the ceiling") for n in notes):  # nodepth.pseudo_depth scaled by it
            fit.scale.update(source="prior:ceiling_height", value_m=cfg.ceiling_height_prior_m,
                             note="no depth: the seen ceiling is placed at the prior room height")
    else:
        events.stage("room", cfg.refine_iters, "fitting the floor, walls and ceiling")
        fit = fit_room(case, cfg, config.seed)
    fit_seconds = time.perf_counter() - start
    for note in fit.notes:
        events.log(f"room: {note}")
    iou_before = surface_iou(fit.camera, fit.room, case)
    events.log("room: geometric fit IoU " + ", ".join(f"{k} {v:.3f}" for k, v in iou_before.items()))

    room, camera, losses, per_iter, forward, optimiser = fit.room, fit.camera, [], 0.0, 0.0, {}
    if cfg.refine_iters > 0:
        init_mitsuba(config.device)
        result = refine_room(fit.camera, fit.room, case, fit.scale["factor"], cfg, events, config.seed)
        room, camera = result.room, result.camera
        losses, per_iter, forward = result.losses, result.seconds_per_iter, result.forward_seconds
        optimiser = result.record.summary()
    iou_after = surface_iou(camera, room, case)
    events.log("room: refined IoU " + ", ".join(f"{k} {v:.3f}" for k, v in iou_after.items()))

    camera, room_n, _ = normalise_world(camera, room)
    initial_cam, initial_n, _ = normalise_world(fit.camera, fit.room)  # the report draws it with its own camera
    out = scene if scene is not None else Scene(camera=camera)
    room_n.materials = dict(fit.room.materials) or {face: default_room_material(face) for face in ROOM_FACES}
    out.camera, out.room, out.scale = camera, room_n, fit.scale
    for name, material in plain_materials(camera, room_n, case).items():
        out.materials.setdefault(name, material)  # keep materials a user (or a later stage) already set
    found = find_openings(camera, room_n, case, textures=files is not None)
    if files is not None:
        files.write_all(found.files)  # the windows' backdrop pictures
    room_n.openings = found.openings or None
    for name, material in found.materials.items():
        out.materials.setdefault(name, material)
    out.lights = _with_window_lights(out.lights, found.lights)
    for note in found.notes:
        events.log(f"room: {note}")
    if found.openings:
        events.log("room: openings " + ", ".join(f"{o.name} on {o.face}" for o in found.openings))
    out.stages["room"] = RoomRecord(
        iou_before=iou_before,
        iou_after=iou_after,
        losses=[round(v, 6) for v in losses],
        initial_room=initial_n.to_dict(),
        initial_camera=initial_cam.to_dict(),
        seconds=round(time.perf_counter() - start, 3),
        seconds_fit=round(fit_seconds, 3),
        seconds_per_iteration=round(per_iter, 4),
        seconds_forward_render=round(forward, 4),
        optimiser=optimiser,
        notes=fit.notes + found.notes,
        openings=[o.name for o in found.openings],
    ).to_dict()
    events.done("room stage done", iou=iou_after)
    return out
