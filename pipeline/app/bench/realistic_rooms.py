"""Benchmark rooms furnished only with third-party models the pipeline has never seen.

`generate_room(out_dir, seed, models_dir)` writes a case like `photo2scene synth` (docs/case_format.md: a Cycles
photo, metric depth, instance segmentation, camera, novel views, ground_truth.json) plus `truth.blend`, the exact
Blender scene that rendered the photo, tagged so a scorer can read it with the same code as the pipeline's own
exported .blend. The furniture comes from `../shared/data/third_party_furniture` (Poly Haven CC0 glTF models
with PBR textures, KayKit CC0 low-poly models); nothing of the project's built-in library is used.

Design, in three steps (as synth):

1. `realistic_layout.sample_room` (numpy only, one Generator per seed): a room box 3.2-6 x 3-5.5 x 2.5-3 m with a
   window (a real hole in its wall, a frame, a glass pane, curtains) and a door (panel recessed in its frame),
   baseboards, surface materials (floor: an image texture cut from a Poly Haven model's own map, or a library
   graph with randomised parameters; walls: a paint/plaster graph or a plain colour), theme furniture and decor
   from a hand-written catalogue placed by rules (against walls, in front of the sofa, chairs pushed under the
   table, pillows on seats, lamps and clutter on tops, pictures and shelves on walls), a ceiling fixture, lamps,
   a sky, a sun that shines through the window on about half of the seeds, and the best camera of 60 poses
   (a coarse box trace scores floor, walls, the anchor piece seen from its front, window, door, nothing too near).
2. The layout is built in Blender: models are imported with the glTF importer under one tagged Empty per
   instance, small things are settled onto their support by ray casts, lights are balanced with tiny renders per
   emitter group (the image is linear in each group's power) so the photo is exposed without clipping the sky
   seen through the window, and the photo and novel views are rendered with Cycles (synth's render settings).
3. Depth and segmentation are ray cast at the pixel centres through the meshes Blender built (alpha-cut leaves
   are looked up in their texture), and every instance's box is measured from its world-space vertices.

truth.blend tags: room surfaces carry `photo2scene_face` and `segment_id` (baseboards: their wall's); each
instance, window and door is one root Empty with `photo2scene_object`, `photo2scene_label`, `segment_id`, its
meshes below it; lights are Blender lights; the outdoor ground and the world carry no tags. An instance's box is
the tight bounds of its meshes' world vertices in the frame turned by the root's yaw (ground_truth.json).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from p2s_common.blender_log import quiet_blender
from p2s_common.errors import InputError

from pipeline.synth.blender_scene import (_add_camera, _render_linear, _render_photo, _set_camera,
                                          configure_photo_render)
from pipeline.synth.case_writer import _write_json, case_folder, write_estimates
from pipeline.synth.layout import Camera, _pixel_rays, _r, _walls
from .realistic_layout import (SIDES, WALL_SIDES, Item, Opening, RoomLayout, camera_json, model_file, model_path,
                               sample_room)
from blender_addon.builders.material import build_material
from .blend_view import oriented_bounds

GENERATOR_VERSION = 1
MODELS_DIR = Path(__file__).resolve().parents[4] / "shared" / "data" / "third_party_furniture"
_LUM = np.array([0.2126, 0.7152, 0.0722])


def _check_models_dir(models_dir: Path) -> Path:
    models_dir = Path(models_dir)
    if not (models_dir / "kaykit_cc0").is_dir() and not (models_dir / "polyhaven_cc0").is_dir():
        raise InputError(f"realistic rooms: no third-party models in {models_dir} (expected kaykit_cc0/ and "
                         "polyhaven_cc0/ there): point models_dir at ../shared/data/third_party_furniture")
    return models_dir


# ----------------------------------------------------------------------------------------------------------------
# Blender helpers


def _mesh_object(name: str, verts, faces, material=None, uvs=None, parent=None, collection=None):
    """A mesh object from vertices and faces (world coordinates unless `parent`), optional per-loop UVs."""
    import bpy

    mesh = bpy.data.meshes.new(name)
    mesh.from_pydata([tuple(map(float, v)) for v in verts], [], [tuple(f) for f in faces])
    if uvs is not None:
        layer = mesh.uv_layers.new(name="UVMap")
        flat = [uv for face_uv in uvs for uv in face_uv]
        for loop, uv in zip(mesh.loops, flat):
            layer.data[loop.index].uv = uv
    if material is not None:
        mesh.materials.append(material)
    mesh.update()
    obj = bpy.data.objects.new(name, mesh)
    (collection or bpy.context.scene.collection).objects.link(obj)
    if parent is not None:
        obj.parent = parent
    return obj


def _box(name: str, lo, hi, material, parent=None):
    """An axis-aligned box (in the parent's frame) with metric UVs on each face."""
    lo, hi = np.asarray(lo, float), np.asarray(hi, float)
    v = [[(lo, hi)[(k >> i) & 1][i] for i in range(3)] for k in range(8)]
    faces = [(0, 4, 6, 2), (1, 3, 7, 5), (0, 1, 5, 4), (2, 6, 7, 3), (0, 2, 3, 1), (4, 5, 7, 6)]
    uvs = []
    for f in faces:
        pts = np.array([v[i] for i in f])
        axis = int(np.argmin(np.ptp(pts, axis=0)))
        a, b = [k for k in range(3) if k != axis]
        uvs.append([(float(p[a]), float(p[b])) for p in pts])
    return _mesh_object(name, v, faces, material, uvs, parent)


def _root(name: str, label: str, segment_id: int, location, yaw: float, **extra):
    """The tagged Empty an instance's meshes hang under."""
    import bpy

    root = bpy.data.objects.new(name, None)
    root.empty_display_type = "PLAIN_AXES"
    root.location = tuple(float(v) for v in location)
    root.rotation_euler = (0.0, 0.0, float(yaw))
    root["photo2scene_object"] = name
    root["photo2scene_label"] = label
    root["segment_id"] = int(segment_id)
    for k, v in extra.items():
        root[k] = v
    bpy.context.scene.collection.objects.link(root)
    return root


def _principled_mat(name: str, spec: dict):
    import bpy

    mat = bpy.data.materials.new(name)
    bsdf = next(n for n in mat.node_tree.nodes if n.bl_idname == "ShaderNodeBsdfPrincipled")
    bsdf.inputs["Base Color"].default_value = (*spec["base_color"], 1.0)
    bsdf.inputs["Roughness"].default_value = spec.get("roughness", 0.5)
    bsdf.inputs["Metallic"].default_value = spec.get("metallic", 0.0)
    return mat


def _image_mat(name: str, spec: dict, image):
    """A tiled crop of a model's texture atlas on metric UVs: fract(uv / tile) mapped into the crop rectangle."""
    import bpy

    mat = bpy.data.materials.new(name)
    nt = mat.node_tree
    bsdf = next(n for n in nt.nodes if n.bl_idname == "ShaderNodeBsdfPrincipled")
    uv = nt.nodes.new("ShaderNodeUVMap")
    tile = nt.nodes.new("ShaderNodeMapping")
    t = float(spec["tile_m"])
    tile.inputs["Scale"].default_value = (1 / t, 1 / t, 1.0)
    tile.inputs["Rotation"].default_value = (0.0, 0.0, math.radians(spec.get("rotation_deg", 0.0)))
    frac = nt.nodes.new("ShaderNodeVectorMath")
    frac.operation = "FRACTION"
    crop = nt.nodes.new("ShaderNodeMapping")
    u0, v0, u1, v1 = spec["crop"]
    crop.inputs["Scale"].default_value = (u1 - u0, v1 - v0, 1.0)
    crop.inputs["Location"].default_value = (u0, v0, 0.0)
    tex = nt.nodes.new("ShaderNodeTexImage")
    tex.image = image
    tex.extension = "EXTEND"
    nt.links.new(uv.outputs["UV"], tile.inputs["Vector"])
    nt.links.new(tile.outputs["Vector"], frac.inputs[0])
    nt.links.new(frac.outputs["Vector"], crop.inputs["Vector"])
    nt.links.new(crop.outputs["Vector"], tex.inputs["Vector"])
    nt.links.new(tex.outputs["Color"], bsdf.inputs["Base Color"])
    bsdf.inputs["Roughness"].default_value = spec.get("roughness", 0.5)
    return mat


def _build_material(name: str, spec: dict, images: dict):
    if spec["kind"] == "graph":
        # lazy: loads torch, which importing this module does not
        from materials_db.library import load_graph

        return build_material(load_graph(spec["graph"]).to_dict(), name, spec["values"])
    if spec["kind"] == "image":
        return _image_mat(name, spec, images[spec["image"]])
    return _principled_mat(name, spec)


def _glow_material(mat, color=(1.0, 0.85, 0.6)):
    """A copy of `mat` that shadow rays pass through and the camera sees glowing (a lit shade or bulb).

    The glow is for the eye only (camera rays): the room is lit by the light object inside, whose power the
    balancing sets; the node "p2s_glow" holds the strength.
    """
    mat = mat.copy()
    mat.name = mat.name + ".glow"
    nt = mat.node_tree
    out = next(n for n in nt.nodes if n.bl_idname == "ShaderNodeOutputMaterial" and n.is_active_output)
    src = out.inputs["Surface"].links[0].from_socket if out.inputs["Surface"].is_linked else None
    path = nt.nodes.new("ShaderNodeLightPath")
    emit = nt.nodes.new("ShaderNodeEmission")
    emit.name = "p2s_glow"
    emit.inputs["Color"].default_value = (*color, 1.0)
    emit.inputs["Strength"].default_value = 1.0
    cam_mix = nt.nodes.new("ShaderNodeMixShader")
    shadow_mix = nt.nodes.new("ShaderNodeMixShader")
    transparent = nt.nodes.new("ShaderNodeBsdfTransparent")
    if src is not None:
        nt.links.new(src, cam_mix.inputs[1])
    nt.links.new(emit.outputs[0], cam_mix.inputs[2])
    nt.links.new(path.outputs["Is Camera Ray"], cam_mix.inputs["Fac"])
    nt.links.new(cam_mix.outputs[0], shadow_mix.inputs[1])
    nt.links.new(transparent.outputs[0], shadow_mix.inputs[2])
    nt.links.new(path.outputs["Is Shadow Ray"], shadow_mix.inputs["Fac"])
    nt.links.new(shadow_mix.outputs[0], out.inputs["Surface"])
    return mat


def _import_model(path: Path) -> list:
    """Import a glTF/GLB file; returns its top-level objects (at the origin, as the importer leaves them)."""
    import bpy

    before = set(bpy.data.objects)
    with quiet_blender():
        bpy.ops.import_scene.gltf(filepath=str(path))
    new = [o for o in bpy.data.objects if o not in before]
    for o in new:  # the importer links into the active collection; keep them in the scene's master collection
        for c in list(o.users_collection):
            if c != bpy.context.scene.collection:
                c.objects.unlink(o)
        if bpy.context.scene.collection not in o.users_collection:
            bpy.context.scene.collection.objects.link(o)
    return [o for o in new if o.parent is None]


def _descendant_meshes(root) -> list:
    return [o for o in root.children_recursive if o.type == "MESH"]


def _world_vertices(objs) -> np.ndarray:
    import bpy

    dg = bpy.context.evaluated_depsgraph_get()
    out = []
    for o in objs:
        ev = o.evaluated_get(dg)
        me = ev.to_mesh()
        co = np.empty(len(me.vertices) * 3)
        me.vertices.foreach_get("co", co)
        mw = np.array(ev.matrix_world)
        out.append(co.reshape(-1, 3) @ mw[:3, :3].T + mw[:3, 3])
        ev.to_mesh_clear()
    return np.concatenate(out) if out else np.zeros((0, 3))


def _measure_box(root) -> tuple[np.ndarray, np.ndarray, float]:
    """(centre, size, yaw) of the root's meshes: bounds in the frame turned by the root's yaw (as the scorer
    measures a .blend's instances, `blend_view.oriented_bounds`)."""
    mw = np.array(root.matrix_world)
    yaw = math.atan2(mw[1, 0], mw[0, 0])
    centre, size = oriented_bounds(_world_vertices(_descendant_meshes(root)), yaw)
    return centre, size, yaw


# ----------------------------------------------------------------------------------------------------------------
# Building the room


def _wall_frame(layout: RoomLayout, side: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """(origin at the wall's left end on the floor, tangent, inward normal, length) of a wall, 3-D."""
    w = _walls(layout.room_size)[side]
    t3, n3 = np.r_[w["tangent"], 0.0], np.r_[w["normal"], 0.0]
    origin = np.r_[w["center"], 0.0] - t3 * w["length"] / 2
    return origin, t3, n3, w["length"]


def _wall_quads(length: float, height: float, holes: list[tuple[float, float, float, float]]):
    """Rectangles (a0, a1, z0, z1) covering a wall [0, length] x [0, height] minus rectangular holes."""
    rects = []
    cuts = sorted(holes)
    a = 0.0
    for a0, a1, z0, z1 in cuts:
        if a0 > a:
            rects.append((a, a0, 0.0, height))
        if z0 > 0:
            rects.append((a0, a1, 0.0, z0))
        if z1 < height:
            rects.append((a0, a1, z1, height))
        a = a1
    if a < length:
        rects.append((a, length, 0.0, height))
    return rects


def _build_room(layout: RoomLayout, images: dict) -> dict[int, object]:
    sx, sy, h = layout.room_size
    mats: dict[int, object] = {}
    cache: dict[int, object] = {}
    face_of = {sid: face for face, sid in SIDES.values()}
    for sid, spec in layout.surface_materials.items():
        if id(spec) not in cache:  # walls share one material unless one is an accent wall
            cache[id(spec)] = _build_material(f"surface_{face_of[sid]}", spec, images)
        mats[sid] = cache[id(spec)]
    x0, x1, y0, y1 = -sx / 2, sx / 2, -sy / 2, sy / 2
    floor = _mesh_object("room_floor", [(x0, y0, 0), (x1, y0, 0), (x1, y1, 0), (x0, y1, 0)], [(0, 1, 2, 3)],
                         mats[1], [[(x0, y0), (x1, y0), (x1, y1), (x0, y1)]])
    ceil = _mesh_object("room_ceiling", [(x0, y0, h), (x0, y1, h), (x1, y1, h), (x1, y0, h)], [(0, 1, 2, 3)],
                        mats[2], [[(x0, y0), (x0, y1), (x1, y1), (x1, y0)]])
    for obj, side in ((floor, "-z"), (ceil, "+z")):
        obj["photo2scene_face"], obj["segment_id"] = SIDES[side]
    base = layout.trim["baseboard"]
    base_mat = _principled_mat("baseboard", base["material"])
    for side in WALL_SIDES:
        face, sid = SIDES[side]
        origin, t3, n3, length = _wall_frame(layout, side)
        holes = []
        for op in layout.openings:
            if op.wall == side:
                a0, a1 = op.span()
                holes.append((a0 + length / 2, a1 + length / 2, op.bottom, op.bottom + op.height))
        verts, faces, uvs = [], [], []
        flip = float(np.cross(t3, [0, 0, 1]) @ n3) < 0  # order each quad's loop so its normal points inward
        for a0, a1, z0, z1 in _wall_quads(length, h, holes):
            k = len(verts)
            corners = [(a0, z0), (a1, z0), (a1, z1), (a0, z1)]
            if flip:
                corners = corners[::-1]
            verts += [origin + t3 * a + np.array([0, 0, z]) for a, z in corners]
            faces.append((k, k + 1, k + 2, k + 3))
            uvs.append(corners)  # metric UVs: metres along the wall and up
        obj = _mesh_object(f"room_{face}", verts, faces, mats[sid], uvs)
        obj["photo2scene_face"], obj["segment_id"] = face, sid
        # Baseboard: a strip along the wall, broken by the door.
        spans = [(0.0, length)]
        for op in layout.openings:
            if op.wall == side and op.bottom < base["height"]:
                a0, a1 = op.span()
                a0, a1 = a0 + length / 2, a1 + length / 2
                spans = [s for sp in spans for s in ((sp[0], min(sp[1], a0)), (max(sp[0], a1), sp[1]))
                         if s[1] - s[0] > 0.01]
        for k, (a0, a1) in enumerate(spans):
            pts = [origin + t3 * a0, origin + t3 * a1, origin + t3 * a1 + n3 * base["depth"],
                   origin + t3 * a0 + n3 * base["depth"]]
            pts = np.array(pts)
            lo = pts.min(0)
            hi = pts.max(0)
            lo[2], hi[2] = 0.0, base["height"]
            bb = _box(f"baseboard_{face}.{k}", lo, hi, base_mat)
            bb["photo2scene_face"], bb["segment_id"] = face, sid
    return mats


def _opening_root(layout: RoomLayout, op: Opening):
    origin, t3, n3, length = _wall_frame(layout, op.wall)
    centre = origin + t3 * (op.offset + length / 2)
    yaw = math.atan2(n3[0], -n3[1])  # the root's local -y faces into the room
    root = _root(op.name, op.label, op.segment_id, (centre[0], centre[1], op.bottom), yaw,
                 photo2scene_wall=SIDES[op.wall][0])
    return root


def _build_window(layout: RoomLayout) -> None:
    """Frame boxes lining the hole through the wall's thickness, a sill, an optional mullion, and a glass pane.

    Root frame: x along the wall, -y into the room, z up from the sill; the wall's inner plane is y = 0 and the
    outside is +y.
    """
    import bpy

    op = layout.window
    root = _opening_root(layout, op)
    tr = layout.trim["window_frame"]
    fw, th = tr["width"], layout.wall_thickness
    mat = _principled_mat("window_frame", tr["material"])
    W, H = op.width / 2, op.height
    y_in, y_out = -0.012, th  # the lining stands 12 mm proud of the wall
    _box("window_frame_left", (-W, y_in, 0), (-W + fw, y_out, H), mat, root)
    _box("window_frame_right", (W - fw, y_in, 0), (W, y_out, H), mat, root)
    _box("window_frame_top", (-W + fw, y_in, H - fw), (W - fw, y_out, H), mat, root)
    _box("window_frame_bottom", (-W + fw, y_in, 0), (W - fw, y_out, fw), mat, root)
    _box("window_sill", (-W - 0.04, -0.05, -0.025), (W + 0.04, 0.0, 0.0), mat, root)
    gy = th * 0.5
    if tr["mullion"]:
        _box("window_mullion", (-0.02, gy - 0.025, fw), (0.02, gy + 0.025, H - fw), mat, root)
    glass = bpy.data.materials.new("glass")
    nt = glass.node_tree
    nt.nodes.clear()
    transp = nt.nodes.new("ShaderNodeBsdfTransparent")
    gloss = nt.nodes.new("ShaderNodeBsdfGlossy")
    gloss.inputs["Roughness"].default_value = 0.02
    mix = nt.nodes.new("ShaderNodeMixShader")
    mix.inputs["Fac"].default_value = 0.08
    out = nt.nodes.new("ShaderNodeOutputMaterial")
    nt.links.new(transp.outputs[0], mix.inputs[1])
    nt.links.new(gloss.outputs[0], mix.inputs[2])
    nt.links.new(mix.outputs[0], out.inputs["Surface"])
    _box("window_glass", (-W + fw, gy - 0.003, fw), (W - fw, gy + 0.003, H - fw), glass, root)


def _build_door(layout: RoomLayout, images: dict) -> None:
    """A panel recessed in the hole, jamb linings, a casing protruding ~2 cm into the room, and a handle."""
    op = layout.door
    root = _opening_root(layout, op)
    tr = layout.trim["door"]
    panel_mat = _build_material("door_panel", tr["material"], images)
    frame_mat = _principled_mat("door_frame", tr["frame_material"])
    metal = _principled_mat("door_handle", {"base_color": [0.6, 0.6, 0.6], "roughness": 0.3, "metallic": 1.0})
    W, H, fw, rec = op.width / 2, op.height, tr["frame_width"], tr["recess"]
    t = 0.04
    _box("door_panel", (-W, rec, 0), (W, rec + t, H), panel_mat, root)
    lin = 0.015
    _box("door_jamb_left", (-W, 0.0, 0), (-W + lin, rec + t, H), frame_mat, root)
    _box("door_jamb_right", (W - lin, 0.0, 0), (W, rec + t, H), frame_mat, root)
    _box("door_jamb_top", (-W, 0.0, H - lin), (W, rec + t, H), frame_mat, root)
    _box("door_casing_left", (-W - fw, -0.02, 0), (-W, 0.0, H + fw), frame_mat, root)
    _box("door_casing_right", (W, -0.02, 0), (W + fw, 0.0, H + fw), frame_mat, root)
    _box("door_casing_top", (-W, -0.02, H), (W, 0.0, H + fw), frame_mat, root)
    hx = tr["handle_side"] * (W - 0.08)
    _box("door_handle_rose", (hx - 0.025, rec - 0.012, 0.97), (hx + 0.025, rec, 1.05), metal, root)
    x0, x1 = sorted((hx, hx - math.copysign(0.11, hx)))  # the lever points towards the hinge side
    _box("door_handle_lever", (x0, rec - 0.065, 1.0), (x1, rec - 0.045, 1.02), metal, root)


def _curtain_mesh(item: Item, images: dict, root) -> None:
    w, d, hgt = item.size
    p = item.params
    nu, nv = 48, 6
    us = np.linspace(-w / 2, w / 2, nu + 1)
    zs = np.linspace(0, hgt, nv + 1)
    verts, faces, uvs = [], [], []
    for j, z in enumerate(zs):
        flare = 1.0 + 0.25 * (1 - z / hgt)  # folds open up a little towards the hem
        for u in us:
            y = p["amplitude"] * flare * math.sin(2 * math.pi * u / p["period"] + p["phase"])
            verts.append((u, float(np.clip(y, -d / 2, d / 2)), z))
    arc = np.concatenate([[0.0], np.cumsum(np.hypot(np.diff(us), np.diff([v[1] for v in verts[:nu + 1]])))])
    for j in range(nv):
        for i in range(nu):
            a, b = j * (nu + 1) + i, (j + 1) * (nu + 1) + i
            faces.append((a, a + 1, b + 1, b))
            uvs.append([(arc[i], zs[j]), (arc[i + 1], zs[j]), (arc[i + 1], zs[j + 1]), (arc[i], zs[j + 1])])
    mat = _build_material(f"{item.name}_fabric", p["material"], images)
    _mesh_object(f"{item.name}_cloth", verts, faces, mat, uvs, parent=root)


def _ceiling_disc(item: Item, root) -> dict:
    """A flush-mount fixture: a metal rim and an emissive diffuser (for the eye), lit by a disk area light."""
    import bpy

    p = item.params
    r, hh = p["radius"], p["height"]
    n = 32
    ang = np.linspace(0, 2 * math.pi, n, endpoint=False)
    ring_top = [(r * 0.85 * math.cos(a), r * 0.85 * math.sin(a), hh) for a in ang]
    ring_bot = [(r * math.cos(a), r * math.sin(a), 0.012) for a in ang]
    rim_mat = _principled_mat("fixture_rim", {"base_color": p["rim_color"], "roughness": 0.35, "metallic": 0.5})
    faces = [(i, (i + 1) % n, n + (i + 1) % n, n + i) for i in range(n)]
    _mesh_object(f"{item.name}_rim", ring_top + ring_bot, faces, rim_mat, parent=root)
    diff = bpy.data.materials.new("fixture_diffuser")
    base = next(x for x in diff.node_tree.nodes if x.bl_idname == "ShaderNodeBsdfPrincipled")
    base.inputs["Base Color"].default_value = (0.9, 0.9, 0.88, 1.0)
    diff = _glow_material(diff, (1.0, 0.93, 0.82))
    disc = [(r * 0.98 * math.cos(a), r * 0.98 * math.sin(a), 0.0) for a in ang]
    _mesh_object(f"{item.name}_diffuser", disc + ring_bot, [tuple(range(n))[::-1]] + faces, diff, parent=root)
    data = bpy.data.lights.new(f"{item.name}_light", "AREA")
    data.shape = "DISK"
    data.size = 2 * r * 0.95
    data.color = (1.0, 0.93, 0.82)
    light = bpy.data.objects.new(data.name, data)
    light.location = (root.location[0], root.location[1], root.location[2] - 0.004)  # faces down (-Z)
    light.visible_camera = False
    bpy.context.scene.collection.objects.link(light)
    return {"object": light, "glow": [diff], "area": math.pi * r * r, "group": "ceiling",
            "source": "ceiling fixture", "item": item}


def _lamp_light(item: Item, root, meshes: list, radius: float, color) -> dict:
    """A point light inside a lamp: at its bulb/shade faces (glowing materials), which shadow rays pass."""
    import bpy

    from mathutils import Matrix

    glow_faces = []
    glow_mats = []
    if item.source == "polyhaven":  # the bulb material ("..._light", "lamps_...")
        for o in meshes:
            for k, m in enumerate(o.data.materials):
                if m is not None and ("light" in m.name.lower() or m.name.lower().startswith("lamps")):
                    g = _glow_material(m, color)
                    o.data.materials[k] = g
                    glow_mats.append(g)
                    mw = np.array(o.matrix_world)
                    for poly in o.data.polygons:
                        if poly.material_index == k:
                            glow_faces.append(mw[:3, :3] @ np.array(poly.center) + mw[:3, 3])
    else:  # KayKit: the shade is the top part of the mesh; give its faces a glowing copy of the material
        frac = 0.66 if item.light == "floor" else 0.45
        for o in meshes:
            mw = np.array(o.matrix_world)
            co = np.array([mw[:3, :3] @ np.array(p.center) + mw[:3, 3] for p in o.data.polygons])
            z0 = root.location[2] + item.size[2] * frac
            g = _glow_material(o.data.materials[0], color)
            o.data.materials.append(g)
            glow_mats.append(g)
            idx = len(o.data.materials) - 1
            for poly, c in zip(o.data.polygons, co):
                if c[2] > z0:
                    poly.material_index = idx
                    glow_faces.append(c)
    if glow_faces:
        pts = np.array(glow_faces)
        pos = (pts.min(0) + pts.max(0)) / 2
    else:
        pos = np.array(root.location) + np.array([0, 0, item.size[2] * 0.8])
    if item.source == "kaykit":
        pos[2] -= 0.02
    data = bpy.data.lights.new(f"{item.name}_light", "POINT")
    data.shadow_soft_size = radius
    data.color = color
    light = bpy.data.objects.new(data.name, data)
    light.matrix_world = Matrix.Translation(tuple(float(v) for v in pos))
    light.visible_camera = False
    bpy.context.scene.collection.objects.link(light)
    sources = {"ceiling": "ceiling fixture", "floor": "floor lamp", "table": "table lamp", "desk": "desk lamp"}
    shade = float(np.ptp(np.array(glow_faces), axis=0)[:2].max()) / 2 if len(glow_faces) > 2 else 0.1
    return {"object": light, "glow": glow_mats, "area": 4 * math.pi * max(shade, 0.03) ** 2,
            "group": "ceiling" if item.light == "ceiling" else "lamps", "source": sources[item.light],
            "item": item}


def _build_item(item: Item, models_dir: Path, images: dict) -> tuple[object, dict | None]:
    from mathutils import Matrix

    root = _root(item.name, item.label, item.segment_id, item.position, item.yaw,
                 photo2scene_model=model_file(item.model), photo2scene_source=item.source)
    if item.model == "generated:curtain":
        _curtain_mesh(item, images, root)
        return root, None
    if item.model == "generated:ceiling_disc":
        return root, _ceiling_disc(item, root)
    tops = _import_model(model_path(models_dir, item.model))
    ox, oy, oz = item.model_origin
    local = (Matrix.Rotation(item.yaw_offset, 4, "Z") @ Matrix.Diagonal((*item.scale, 1.0))
             @ Matrix.Translation((-ox, -oy, -oz)))
    for o in tops:
        world0 = o.matrix_world.copy()
        o.parent = root
        o.matrix_parent_inverse = Matrix.Identity(4)
        o.matrix_basis = local @ world0
    import bpy

    bpy.context.view_layer.update()
    light = None
    if item.light:
        color = (1.0, 0.82, 0.6) if item.light != "ceiling" else (1.0, 0.9, 0.78)
        radius = 0.08 if item.light == "ceiling" else 0.03
        light = _lamp_light(item, root, _descendant_meshes(root), radius, color)
    return root, light


def _settle(roots: dict[int, object], layout: RoomLayout) -> dict[int, float]:
    """Drop supported items onto their support's meshes (ray casts down through the footprint).

    Returns how far each moved item went up (segment id -> metres)."""
    import bpy
    from mathutils.bvhtree import BVHTree

    moved: dict[int, float] = {}
    for it in layout.items:
        if it.support_id is None:
            continue
        sup = roots[it.support_id]
        tris, verts = [], []
        dg = bpy.context.evaluated_depsgraph_get()
        for o in _descendant_meshes(sup):
            ev = o.evaluated_get(dg)
            me = ev.to_mesh()
            me.calc_loop_triangles()
            mw = np.array(ev.matrix_world)
            co = np.empty(len(me.vertices) * 3)
            me.vertices.foreach_get("co", co)
            tri = np.empty(len(me.loop_triangles) * 3, np.int64)
            me.loop_triangles.foreach_get("vertices", tri)
            k = len(verts)
            verts += (co.reshape(-1, 3) @ mw[:3, :3].T + mw[:3, 3]).tolist()
            tris += (tri.reshape(-1, 3) + k).tolist()
            ev.to_mesh_clear()
        if not tris:
            continue
        bvh = BVHTree.FromPolygons(verts, tris)
        top = float(np.max(np.array(verts)[:, 2])) + 0.05
        hits = []
        for fx, fy in ((0, 0), (0.25, 0.25), (-0.25, 0.25), (0.25, -0.25), (-0.25, -0.25)):
            local = np.array([fx * it.size[0], fy * it.size[1]])
            c, s = math.cos(it.yaw), math.sin(it.yaw)
            xy = it.position[:2] + np.array([c * local[0] - s * local[1], s * local[0] + c * local[1]])
            hit = bvh.ray_cast((float(xy[0]), float(xy[1]), top), (0.0, 0.0, -1.0))
            if hit[0] is not None:
                hits.append(hit[0][2])
        if hits:
            z = float(np.median(hits))
            moved[it.segment_id] = z - float(it.position[2])
            it.position[2] = z
            roots[it.segment_id].location.z = z
    bpy.context.view_layer.update()
    return moved


def _world_and_sun(layout: RoomLayout) -> dict:
    import bpy

    from mathutils import Vector

    scene = bpy.context.scene
    world = bpy.data.worlds.new("sky")
    scene.world = world
    nt = world.node_tree
    nt.nodes.clear()
    coord = nt.nodes.new("ShaderNodeTexCoord")
    sep = nt.nodes.new("ShaderNodeSeparateXYZ")
    ramp = nt.nodes.new("ShaderNodeMapRange")
    ramp.inputs["From Min"].default_value, ramp.inputs["From Max"].default_value = 0.0, 0.6
    mix = nt.nodes.new("ShaderNodeMix")
    mix.data_type = "RGBA"
    mix.inputs["A"].default_value = (*layout.sky["horizon"], 1.0)
    mix.inputs["B"].default_value = (*layout.sky["zenith"], 1.0)
    bg = nt.nodes.new("ShaderNodeBackground")
    bg.name = "p2s_sky"
    bg.inputs["Strength"].default_value = layout.sky["strength"]
    out = nt.nodes.new("ShaderNodeOutputWorld")
    nt.links.new(coord.outputs["Generated"], sep.inputs[0])
    nt.links.new(sep.outputs["Z"], ramp.inputs["Value"])
    nt.links.new(ramp.outputs["Result"], mix.inputs["Factor"])
    nt.links.new(mix.outputs["Result"], bg.inputs["Color"])
    nt.links.new(bg.outputs[0], out.inputs["Surface"])
    # The outdoor ground, a little below the floor (under the room it is hidden by the floor).
    g = 40.0
    ground_mat = _principled_mat("outdoor_ground", {"base_color": layout.sky["ground"], "roughness": 0.95})
    _mesh_object("outdoor_ground", [(-g, -g, -0.03), (g, -g, -0.03), (g, g, -0.03), (-g, g, -0.03)],
                 [(0, 1, 2, 3)], ground_mat)
    data = bpy.data.lights.new("sun", "SUN")
    data.energy = layout.sun["strength"]
    data.angle = math.radians(layout.sun["angle_deg"])
    data.color = layout.sun["color"]
    sun = bpy.data.objects.new("sun", data)
    sun.rotation_mode = "QUATERNION"
    sun.rotation_quaternion = Vector(layout.sun["to_sun"]).to_track_quat("Z", "Y")  # light along -Z
    scene.collection.objects.link(sun)
    return {"world": bg, "sun": data}


def _build_scene(layout: RoomLayout, models_dir: Path, samples: int) -> dict:
    """Build the layout as Blender data in a fresh, empty file; returns handles the renderer needs."""
    import bpy

    bpy.ops.wm.read_homefile(use_empty=True)
    scene = bpy.context.scene
    images: dict[str, object] = {}
    floor = layout.surface_materials[1]
    if floor["kind"] == "image":  # the texture comes from a model's own maps: import it, keep the image only
        tops = _import_model(model_path(models_dir, floor["model"]))
        for o in list(tops):
            for c in [o, *o.children_recursive]:
                bpy.data.objects.remove(c, do_unlink=True)
        img = bpy.data.images[floor["image"]]
        img.colorspace_settings.name = "sRGB"
        images[floor["image"]] = img
    _build_room(layout, images)
    _build_window(layout)
    _build_door(layout, images)
    roots: dict[int, object] = {}
    lights: list[dict] = []
    for it in layout.items:
        root, light = _build_item(it, models_dir, images)
        roots[it.segment_id] = root
        if light is not None:
            lights.append(light)
    bpy.context.view_layer.update()
    moved = _settle(roots, layout)
    for li in lights:  # lamps moved by settling carry their light along
        li["object"].location.z += moved.get(li["item"].segment_id, 0.0)
    day = _world_and_sun(layout)
    cam_obj = _add_camera(scene, layout.camera)
    denoise = configure_photo_render(scene, layout.camera.width, layout.camera.height, samples, layout.seed)
    bpy.context.view_layer.update()
    return {"scene": scene, "camera": cam_obj, "roots": roots, "lights": lights, "day": day, "denoise": denoise}


# ----------------------------------------------------------------------------------------------------------------
# Ray casting (depth, segmentation)


class _Caster:
    """A BVH over every tagged mesh; alpha-cut materials are looked up in their texture at the hit."""

    def __init__(self) -> None:
        import bpy
        from mathutils.bvhtree import BVHTree

        dg = bpy.context.evaluated_depsgraph_get()
        verts, tris, tri_seg, tri_alpha, tri_uv = [], [], [], [], []
        self.alpha_images: list[np.ndarray] = []
        alpha_index: dict[str, int] = {}
        for obj in bpy.context.scene.objects:
            if obj.type != "MESH":
                continue
            sid = self._segment(obj)
            if sid is None:
                continue
            ev = obj.evaluated_get(dg)
            me = ev.to_mesh()
            me.calc_loop_triangles()
            n = len(me.loop_triangles)
            if n == 0:
                ev.to_mesh_clear()
                continue
            mw = np.array(ev.matrix_world)
            co = np.empty(len(me.vertices) * 3)
            me.vertices.foreach_get("co", co)
            tri = np.empty(n * 3, np.int64)
            me.loop_triangles.foreach_get("vertices", tri)
            mat_idx = np.empty(n, np.int64)
            me.loop_triangles.foreach_get("material_index", mat_idx)
            k = len(verts)
            verts += (co.reshape(-1, 3) @ mw[:3, :3].T + mw[:3, 3]).tolist()
            tris += (tri.reshape(-1, 3) + k).tolist()
            tri_seg += [sid] * n
            alpha = np.full(n, -1, np.int64)
            uv = np.zeros((n, 3, 2))
            for mi, mat in enumerate(me.materials):
                img = _alpha_image(mat)
                if img is None or not me.uv_layers:
                    continue
                if img.name not in alpha_index:
                    w, h = img.size
                    px = np.empty(w * h * 4, np.float32)
                    img.pixels.foreach_get(px)
                    alpha_index[img.name] = len(self.alpha_images)
                    self.alpha_images.append(px.reshape(h, w, 4)[:, :, 3].copy())
                alpha[mat_idx == mi] = alpha_index[img.name]
            if np.any(alpha >= 0):
                loops = np.empty(n * 3, np.int64)
                me.loop_triangles.foreach_get("loops", loops)
                luv = np.empty(len(me.loops) * 2)
                me.uv_layers.active.data.foreach_get("uv", luv)
                uv = luv.reshape(-1, 2)[loops].reshape(n, 3, 2)
            tri_alpha.append(alpha)
            tri_uv.append(uv)
            ev.to_mesh_clear()
        self.verts = np.asarray(verts)
        self.tris = np.asarray(tris)
        self.bvh = BVHTree.FromPolygons(verts, tris, epsilon=0.0)
        self.seg = np.asarray(tri_seg, np.int64)
        self.alpha = np.concatenate(tri_alpha)
        self.uv = np.concatenate(tri_uv)

    @staticmethod
    def _segment(obj) -> int | None:
        if "photo2scene_face" in obj:
            return int(obj["segment_id"])
        p = obj.parent
        while p is not None:
            if "photo2scene_object" in p:
                return int(p["segment_id"])
            p = p.parent
        return None

    def _transparent(self, idx: int, loc) -> bool:
        a = self.alpha[idx]
        if a < 0:
            return False
        p = np.asarray(loc)
        v0, v1, v2 = self.verts[self.tris[idx]]
        e0, e1, e2 = v1 - v0, v2 - v0, p - v0
        d00, d01, d11, d20, d21 = e0 @ e0, e0 @ e1, e1 @ e1, e2 @ e0, e2 @ e1
        den = d00 * d11 - d01 * d01
        if den == 0:
            return False
        b1 = (d11 * d20 - d01 * d21) / den
        b2 = (d00 * d21 - d01 * d20) / den
        uv = (1 - b1 - b2) * self.uv[idx, 0] + b1 * self.uv[idx, 1] + b2 * self.uv[idx, 2]
        img = self.alpha_images[a]
        h, w = img.shape
        x = int(np.floor((uv[0] % 1.0) * w)) % w
        y = int(np.floor((uv[1] % 1.0) * h)) % h
        return bool(img[y, x] < 0.5)

    def cast(self, cam: Camera) -> tuple[np.ndarray, np.ndarray]:
        """z-depth (float32 HxW) and segment ids (uint16 HxW) at the pixel centres of `cam`."""
        dirs = _pixel_rays(cam.fov_y_deg, cam.width, cam.height).reshape(-1, 3) @ cam.rotation.T
        forward = -cam.rotation[:, 2]
        depth = np.zeros(len(dirs), np.float32)
        seg = np.zeros(len(dirs), np.uint16)
        origin0 = cam.position
        for k, d in enumerate(dirs.tolist()):
            origin = origin0.tolist()
            for _ in range(16):
                hit, _, idx, _ = self.bvh.ray_cast(origin, d)
                if hit is None:
                    break
                if self._transparent(idx, hit):
                    origin = [hit[i] + d[i] * 1e-4 for i in range(3)]
                    continue
                depth[k] = float((np.asarray(hit) - origin0) @ forward)
                seg[k] = self.seg[idx]
                break
        return depth.reshape(cam.height, cam.width), seg.reshape(cam.height, cam.width)


def _alpha_image(mat):
    """The image whose alpha cuts a material out (its Principled BSDF's Alpha input is linked), or None."""
    if mat is None or mat.node_tree is None:
        return None
    bsdf = next((n for n in mat.node_tree.nodes if n.bl_idname == "ShaderNodeBsdfPrincipled"), None)
    if bsdf is None or not bsdf.inputs["Alpha"].is_linked:
        return None
    stack, seen = [bsdf.inputs["Alpha"].links[0].from_node], set()
    while stack:
        node = stack.pop()
        if node.name in seen:
            continue
        seen.add(node.name)
        if node.bl_idname == "ShaderNodeTexImage" and node.image is not None:
            return node.image
        for inp in node.inputs:
            for link in inp.links:
                stack.append(link.from_node)
    return None


# ----------------------------------------------------------------------------------------------------------------
# Lights


def _set_group(handles: dict, group: str, scale: float, base: dict) -> None:
    """Set one emitter group's power to `scale` times its base."""
    if group == "sky":
        handles["day"]["world"].inputs["Strength"].default_value = base["sky"] * scale
    elif group == "sun":
        handles["day"]["sun"].energy = base["sun"] * scale
    else:
        for li in handles["lights"]:
            if li["group"] == group:
                li["object"].data.energy = base[li["object"].name] * scale
                for m in li["glow"]:
                    m.node_tree.nodes["p2s_glow"].inputs["Strength"].default_value = _glow_strength(
                        li, base[li["object"].name] * scale)


def _glow_strength(li: dict, power: float) -> float:
    """How bright a lit shade/diffuser looks: its light's radiance over the glowing area, kept below ~3x white."""
    if power <= 0:
        return 0.0
    if li["group"] == "ceiling" and li["object"].data.type == "AREA":
        return float(min(power / (math.pi * li["area"]), 4.0))
    return float(np.clip(0.3 * power / (math.pi * li["area"]), 0.3, 3.0))


def _balance_lights(layout: RoomLayout, handles: dict, caster: _Caster, tmp: Path) -> None:
    """Scale the emitter groups so the photo's mean luminance hits the target, in the layout's wished shares.

    One tiny render per group (sky, sun, ceiling, lamps) at unit scale; the image is linear in each. The sky's
    scale is capped so the sky seen through the window stays below white, the sun keeps its ratio to the sky,
    and all scales shrink together while the 97th percentile (sun patches and lamps excluded) would clip.
    """
    cam = layout.camera
    cw = 64
    ch = max(8, round(cw * cam.height / cam.width))
    small = Camera(cam.position, cam.rotation, cam.fov_y_deg, cw, ch)
    _, seg = caster.cast(small)
    lamp_ids = {li["item"].segment_id for li in handles["lights"]}
    window = seg == layout.window.segment_id
    keep = ~window & ~np.isin(seg, list(lamp_ids))
    base = {"sky": layout.sky["strength"], "sun": layout.sun["strength"]}
    for li in handles["lights"]:
        base[li["object"].name] = 100.0 if li["group"] == "ceiling" else 30.0
    groups = ["sky", "sun", "ceiling", "lamps"]
    imgs = {}
    for g in groups:
        for other in groups:
            _set_group(handles, other, 1.0 if other == g else 0.0, base)
        imgs[g] = _render_linear(handles, tmp / f"calib_{g}.exr", cw, ch, 16) @ _LUM
    target = layout.exposure_target
    shares = layout.light_shares
    day = imgs["sky"] + imgs["sun"]
    m = {g: max(float(imgs[g][keep].mean()), 1e-6) for g in groups}
    m_day = max(float(day[keep].mean()), 1e-6)
    s_day = shares["daylight"] * target / m_day
    if window.any():  # the sky through the glass should stay below white
        s_day = min(s_day, 0.9 / max(float(np.percentile(imgs["sky"][window], 90)), 1e-6))
    rest = max(target - s_day * m_day, 0.15 * target)
    lam_share = shares["lamps"] / max(shares["lamps"] + shares["ceiling"], 1e-6)
    has_lamps = any(li["group"] == "lamps" for li in handles["lights"])
    if not has_lamps:
        lam_share = 0.0
    s_l = rest * lam_share / m["lamps"] if has_lamps else 0.0
    s_c = rest * (1 - lam_share) / m["ceiling"]
    # Highlights: the 97th percentile of the room (sun patches aside) stays below 0.9.
    no_sun = keep & (imgs["sun"] * s_day < 0.1)
    combo = s_day * imgs["sky"] + s_c * imgs["ceiling"] + s_l * imgs["lamps"]
    p97 = float(np.percentile(combo[no_sun], 97)) if no_sun.any() else 0.0
    if p97 > 0.9:
        f = 0.9 / p97
        s_day, s_c, s_l = s_day * f, s_c * f, s_l * f
    # Plausible powers even where a group barely reaches the view (it still shows in the novel views).
    s_day, s_c, s_l = min(s_day, 8.0), min(s_c, 6.0), min(s_l, 5.0)
    scales = {"sky": s_day, "sun": s_day, "ceiling": s_c, "lamps": s_l}
    for g in groups:
        _set_group(handles, g, scales[g], base)
    handles["powers"] = {"sky": base["sky"] * s_day, "sun": base["sun"] * s_day,
                         **{li["object"].name: base[li["object"].name] * scales[li["group"]]
                            for li in handles["lights"]}}


# ----------------------------------------------------------------------------------------------------------------
# Ground truth


def _ground_truth(layout: RoomLayout, handles: dict, seg: np.ndarray, samples: int) -> dict:
    counts = np.bincount(seg.ravel(), minlength=65536)
    surfaces = []
    for side, (face, sid) in SIDES.items():
        label = face if face in ("floor", "ceiling") else "wall"
        surfaces.append({"segment_id": sid, "label": label, "side": side, "face": face, "pixels": int(counts[sid]),
                         "material": layout.surface_materials[sid]})
    objects = []
    roots = handles["roots"]
    for it in layout.items:
        c, s, yaw = _measure_box(roots[it.segment_id])
        objects.append({"segment_id": it.segment_id, "name": it.name, "label": it.label,
                        "model": model_file(it.model), "source": it.source, "center": _r(c), "size": _r(s),
                        "yaw_deg": _r(math.degrees(yaw), 4), "pixels": int(counts[it.segment_id]),
                        "support_id": it.support_id, "placement": it.placement})
    import bpy

    openings = []
    for op in layout.openings:
        c, s, yaw = _measure_box(bpy.data.objects[op.name])
        openings.append({"segment_id": op.segment_id, "name": op.name, "label": op.label,
                         "wall": SIDES[op.wall][0], "center": _r(c), "size": _r(s), "yaw_deg": _r(math.degrees(yaw), 4),
                         "opening": {"offset": _r(op.offset), "bottom": _r(op.bottom), "width": _r(op.width),
                                     "height": _r(op.height)},
                         "pixels": int(counts[op.segment_id])})
    powers = handles["powers"]
    lights = [{"name": "sky", "type": "world", "source": "window sky", "power_w": _r(powers["sky"], 4),
               "color": layout.sky["horizon"], "zenith_color": layout.sky["zenith"], "position": None},
              {"name": "sun", "type": "sun", "source": "sun", "power_w": _r(powers["sun"], 4),
               "color": layout.sun["color"], "position": None, "direction": _r(-np.asarray(layout.sun["to_sun"])),
               "angle_deg": layout.sun["angle_deg"], "through_window": layout.sun["through_window"]}]
    for li in handles["lights"]:
        obj = li["object"]
        entry = {"name": obj.name, "type": obj.data.type.lower(), "source": li["source"],
                 "power_w": _r(powers[obj.name], 3), "color": _r(list(obj.data.color)),
                 "position": _r(list(obj.matrix_world.translation)), "object": li["item"].name}
        if obj.data.type == "AREA":
            entry.update(shape="disk", size=_r(obj.data.size), normal=[0.0, 0.0, -1.0])
        else:
            entry["radius"] = _r(obj.data.shadow_soft_size)
        lights.append(entry)
    return {
        "generator": {"name": "photo2scene bench realistic", "version": GENERATOR_VERSION, "seed": layout.seed,
                      "theme": layout.theme, "samples": samples, "denoised": bool(handles["denoise"]),
                      "renderer": "cycles", "view_transform": "Standard"},
        "camera": camera_json(layout.camera),
        "room": {"center": _r([0.0, 0.0, layout.room_size[2] / 2]), "size": _r(layout.room_size), "yaw_deg": 0.0,
                 "wall_thickness": _r(layout.wall_thickness), "surfaces": surfaces},
        "objects": objects,
        "openings": openings,
        "lights": lights,
        "exposure_target": _r(layout.exposure_target),
    }


def _segments(layout: RoomLayout, seg: np.ndarray) -> list[dict]:
    present = set(np.unique(seg).tolist())
    entries = [(sid, face if face in ("floor", "ceiling") else "wall", "stuff") for face, sid in SIDES.values()]
    entries += [(op.segment_id, op.label, "stuff") for op in layout.openings]
    entries += [(it.segment_id, it.label, "thing") for it in layout.items]
    return [{"id": sid, "label": label, "kind": kind} for sid, label, kind in sorted(entries) if sid in present]


# ----------------------------------------------------------------------------------------------------------------
# The case


def generate_room(out_dir: Path, seed: int, models_dir: Path, width: int = 320, height: int = 240,
                  samples: int = 64, novel_views: int = 2, *, overwrite: bool = False) -> Path:
    """Render one benchmark room into `out_dir` (case format + truth.blend) and return its path.

    Written into a hidden temporary folder next to `out_dir`, renamed into place at the end. An existing non-empty
    `out_dir` is an InputError unless `overwrite`. Resets the `bpy` session (an empty file).
    """
    import bpy

    out_dir = Path(out_dir)
    models_dir = _check_models_dir(models_dir)
    if width < 8 or height < 8 or samples < 1 or novel_views < 0:
        raise InputError("realistic rooms: need width and height >= 8, samples >= 1 and novel views >= 0")
    layout = sample_room(seed, models_dir, width, height, novel_views)
    with case_folder(out_dir, overwrite) as tmp:
        handles = _build_scene(layout, models_dir, samples)
        caster = _Caster()
        _balance_lights(layout, handles, caster, tmp)
        _render_photo(handles, layout.camera, tmp / "photo.png")
        if layout.novel_cameras:
            (tmp / "novel_views").mkdir()
        for k, cam in enumerate(layout.novel_cameras):
            _render_photo(handles, cam, tmp / "novel_views" / f"view_{k:02d}.png")
            _write_json(tmp / "novel_views" / f"view_{k:02d}.json", camera_json(cam))
        _set_camera(handles["camera"], layout.camera)
        depth, seg = caster.cast(layout.camera)

        write_estimates(tmp / "estimates", layout.camera, depth, seg, _segments(layout, seg))
        _write_json(tmp / "ground_truth.json", _ground_truth(layout, handles, seg, samples))
        scene = handles["scene"]
        scene.render.filepath = ""
        with quiet_blender():
            bpy.ops.file.pack_all()
            bpy.ops.wm.save_as_mainfile(filepath=str(tmp / "truth.blend"), compress=True)
    return out_dir
