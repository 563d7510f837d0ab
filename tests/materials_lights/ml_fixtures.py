"""Helpers for the material+light stage's tests: a small room scene with one box object, written as a bundle."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ (box_case) whatever the rootdir

from box_case import DEVICE, look_rotation  # noqa: E402

from pipeline.core.bundle import BundleFiles  # noqa: E402
from pipeline.core.meshes import obj_bytes  # noqa: E402
from pipeline.core.scene import Camera, Light, MaterialEntry, Object, Room, Scene  # noqa: E402

_CUBE_FACES = [(0, 4, 6, 2), (1, 3, 7, 5), (0, 1, 5, 4), (2, 6, 7, 3), (0, 2, 3, 1), (4, 5, 7, 6)]


def box_mesh(size=(0.8, 0.6, 0.7)) -> bytes:
    """A box on the floor (origin at its bottom centre), each face with its own vertices and metric UVs."""
    sx, sy, sz = size
    corners = np.array([[(-0.5 if i & 1 == 0 else 0.5) * sx, (-0.5 if i & 2 == 0 else 0.5) * sy,
                         0.0 if i & 4 == 0 else sz] for i in range(8)])
    verts, faces, uvs = [], [], []
    for quad in _CUBE_FACES:
        p = corners[list(quad)]
        e1, e2 = p[1] - p[0], p[3] - p[0]
        k = len(verts)
        for c, uv in zip(p, ((0, 0), (np.linalg.norm(e1), 0), (np.linalg.norm(e1), np.linalg.norm(e2)),
                             (0, np.linalg.norm(e2)))):
            verts.append(c)
            uvs.append(uv)
        faces += [(k, k + 1, k + 2), (k, k + 2, k + 3)]
    return obj_bytes(np.array(verts), np.array(faces), np.array(uvs, float))


def small_scene(width: int = 80, height: int = 60) -> tuple[Scene, BundleFiles]:
    """A 4 x 3.5 x 2.6 m room, a box, three area lights (ceiling, ceiling, a wall), Principled materials; with
    its bundle files (the box's mesh)."""
    room = Room([0.0, 0.0, 1.3], [4.0, 3.5, 2.6], 0.0,
                {"floor": "room_floor", "ceiling": "room_ceiling", "wall_x_min": "room_wall",
                 "wall_x_max": "room_wall", "wall_y_min": "room_wall", "wall_y_max": "room_wall"})
    cam = Camera([0.6, -1.3, 1.4], look_rotation(15.0, -12.0).tolist(), 60.0, width, height)
    scene = Scene(camera=cam, room=room)
    scene.materials = {
        "room_floor": MaterialEntry.principled([0.35, 0.22, 0.14], 0.6, 0.0),
        "room_ceiling": MaterialEntry.principled([0.8, 0.8, 0.78], 0.9, 0.0),
        "room_wall": MaterialEntry.principled([0.55, 0.6, 0.62], 0.7, 0.0),
        "box_1.body": MaterialEntry.principled([0.6, 0.15, 0.1], 0.4, 0.0),
    }
    files = BundleFiles()
    files.write("meshes/box_1/body.obj", box_mesh())
    scene.objects = [Object.from_dict({"name": "box_1", "label": "cabinet", "segment_id": 10, "asset_id": "test:box",
                      "location": [-0.3, 0.6, 0.0], "yaw_deg": 25.0, "scale": [1.0, 1.0, 1.0],
                      "parts": [{"name": "body", "mesh": "meshes/box_1/body.obj", "material": "box_1.body",
                                 "material_hint": ""}]})]
    down = np.eye(3).tolist()
    facing_plus_x = [[0.0, 0.0, -1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]  # local -Z -> world +X
    scene.lights = [
        Light("ceiling_a", "area", [-0.8, 0.3, 2.59], down, [0.8, 0.8], [1.0, 0.95, 0.9], 40.0),
        Light("ceiling_b", "area", [1.0, 1.0, 2.59], down, [0.6, 0.6], [1.0, 1.0, 1.0], 25.0),
        Light("window", "area", [-1.95, -0.5, 1.5], facing_plus_x, [1.0, 1.2], [0.9, 0.95, 1.0], 30.0),
    ]
    return scene, files


def add_window(scene: Scene, outdoors_radiance: list[float], light_watts: float) -> Light:
    """A window (white frame, a backdrop glowing at `outdoors_radiance`) cut into the small room's far wall, with
    its outdoor light behind the glass (`light_watts`, role Window), as the room stage places them; returns the
    light."""
    from blender_addon.scene_format import Opening, window_light_pose

    scene.materials["window_7.frame"] = MaterialEntry.principled([0.8, 0.8, 0.78], 0.5, 0.0)
    outdoors = MaterialEntry.principled([0.0, 0.0, 0.0], 1.0, 0.0)
    outdoors.emission = list(outdoors_radiance)
    scene.materials["window_7.outdoors"] = outdoors
    window = Opening("window_7", "window", "wall_y_max", [2.4, 0.9, 3.4, 2.0],
                     {"frame": "window_7.frame", "outdoors": "window_7.outdoors"}, 7)
    scene.room.openings = [*(scene.room.openings or []), window]
    pos, rot, size = window_light_pose(scene.room, window)
    light = Light("window_7", "area", list(pos), rot, size, [0.85, 0.92, 1.0], light_watts, role="Window")
    scene.lights.append(light)
    return light


def write_bundle(scene: Scene, files: BundleFiles, root: Path) -> Path:
    """The scene as a bundle folder (scene.json, meshes, a placeholder photo)."""
    from PIL import Image

    from pipeline.core.bundle import save_scene

    root.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (scene.camera.width, scene.camera.height), (128, 128, 128)).save(root / "photo.png")
    save_scene(root, scene, files=files)
    return root





def synthetic_case(scene: Scene, files: BundleFiles, spp: int = 1024, seed: int = 0, denoise: bool = True):
    """A Case whose photo is the Mitsuba render of `scene` (its true materials and lights) and whose segmentation
    comes from the same render's shape ids: room faces as floor/ceiling/wall segments, objects and openings as
    their segment."""
    from pipeline.app.export.mitsuba_xml import scene_materials
    from pipeline.core.case import Case, Segment
    from p2s_common.images import linear_to_srgb
    from pipeline.render.backend import init_mitsuba
    from pipeline.render.denoise import bilateral, guide_aovs
    from pipeline.render.scene_render import (RenderSettings, load_scene, path_tracer, render_numpy, scene_dict,
                                              scene_surfaces, _shape_key)

    init_mitsuba(DEVICE)
    cam = scene.camera
    settings = RenderSettings(cam.width, cam.height, spp, 6, path_tracer(scene.lights, differentiable=False),
                              extra={"hide_emitters": True})
    ms = load_scene(scene_dict(scene, scene_materials(scene, files.read), settings, read=files.read))
    raw = render_numpy(ms, seed=seed)  # first: a render with spp=1 (the guides) changes the sensor's sample count
    guides = guide_aovs(ms, ms.sensors()[0])
    photo = np.clip(bilateral(raw, guides["ids"], guides["normal"], guides["depth"], pure=guides["pure"])
                    if denoise else raw, 0, 1)
    ids = guides["ids"]
    names = [s.id() for s in ms.shapes()]
    surfaces = {_shape_key(s.name): s for s in scene_surfaces(scene, files.read)}
    face_ids = {"floor": 1, "ceiling": 2, "wall_y_min": 3, "wall_x_max": 4, "wall_y_max": 5, "wall_x_min": 6}
    seg = np.zeros(ids.shape, np.int32)
    segments: dict[int, Segment] = {}
    for k, name in enumerate(names):
        s = surfaces.get(name)
        if s is None:
            continue
        opening = next((o for o in scene.room.openings or [] if s.name.startswith(f"{o.name}.")), None)
        if opening is not None:  # a window's or door's parts carry its segment, labelled by its kind
            sid, label, kind = opening.segment_id, opening.kind, "thing"
        elif s.part:
            obj = next(o for o in scene.objects if o.name == s.owner)
            sid, label, kind = obj.segment_id, obj.label, "thing"
        else:
            sid, label, kind = face_ids[s.owner], "wall" if s.owner.startswith("wall") else s.owner, "stuff"
        hit = ids == k + 1
        if hit.any():
            seg[hit] = sid
            segments[sid] = Segment(sid, label, kind)
    return Case(linear_to_srgb(photo), photo.astype(np.float32), cam.fov_y_deg, None, False, seg,
                list(segments.values()))


def placeholder_scene(truth: Scene) -> Scene:
    """What the stage receives: the truth's geometry, median-colour placeholder materials, no lights."""
    import copy

    scene = copy.deepcopy(truth)
    scene.lights = []
    for spec in scene.materials.values():
        spec.base_color, spec.roughness = [0.3, 0.3, 0.3], 0.8
    return scene
