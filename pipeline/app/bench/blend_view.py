"""A .blend as the artist gets it, read for scoring: its camera, tagged instances, oriented boxes, id maps, renders.

The realistic benchmark scores the exported .blend, not the pipeline's internal state, and it reads the ground
truth's own `truth.blend` with the same code, so both sides are measured alike. Both follow the add-on's tags:

- room surfaces carry `photo2scene_face` ("floor", "ceiling", "wall_x_min", ...);
- every furniture piece, window or door has one root object with `photo2scene_object` (its name) and
  `photo2scene_label`; its meshes are descendants of that root (or the root itself).

An instance's oriented box is the tight bound of its world-space vertices in the frame turned about +Z by the
root's yaw. The id map is an object-index pass made by ray casting the evaluated, render-visible geometry at the
pixel centres (exact, not anti-aliased, as the truth's segmentation was made). Renders are Cycles on the CPU with
fixed settings: those the benchmark photos were rendered with (`synth.configure_photo_render`), so a scene and its
truth are rendered alike.

Needs the `bpy` module; opening a file replaces the current Blender session's data.
"""

from __future__ import annotations

import json
import math
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from p2s_common.blender_log import quiet_blender
from p2s_common.errors import InputError
from pipeline.core import interrupt
from pipeline.synth.blender_scene import configure_photo_render

@dataclass
class ViewCamera:
    """A pinhole camera; `rotation` is world-from-camera (columns: right, up, back), as in ground_truth.json."""

    position: np.ndarray
    rotation: np.ndarray
    fov_y_deg: float
    width: int
    height: int

    @classmethod
    def from_json(cls, d: dict) -> "ViewCamera":
        return cls(np.asarray(d["position"], float), np.asarray(d["rotation"], float), float(d["fov_y_deg"]),
                   int(d["width"]), int(d["height"]))

    def tilt_deg(self) -> tuple[float, float]:
        """(pitch, roll) in degrees against world +Z: pitch is the viewing direction's angle above the horizon,
        roll the camera's right axis's angle above the horizontal plane."""
        forward, right = -self.rotation[:, 2], self.rotation[:, 0]
        pitch = math.degrees(math.asin(float(np.clip(forward[2], -1, 1))))
        roll = math.degrees(math.asin(float(np.clip(right[2], -1, 1))))
        return pitch, roll

    def heading(self) -> float:
        """Yaw (radians) of the viewing direction projected on the floor."""
        forward = -self.rotation[:, 2]
        return math.atan2(forward[1], forward[0])


@dataclass
class Instance:
    """A tagged thing of the scene: a room face, or a furniture piece / window / door with its oriented box."""

    name: str
    label: str
    kind: str  # "face" | "object"
    center: np.ndarray = field(default_factory=lambda: np.zeros(3))
    size: np.ndarray = field(default_factory=lambda: np.zeros(3))
    yaw_deg: float = 0.0
    material_category: str | None = None  # faces: the category of the material on them
    asset: str = ""  # objects: the asset id the add-on stored on the object (photo2scene_asset)


@dataclass
class BlendView:
    """What the scorer needs of an opened .blend."""

    path: Path
    camera: ViewCamera
    instances: list[Instance]  # id k in an id map is instances[k - 1]
    room: tuple[np.ndarray, np.ndarray, float] | None  # centre, size, yaw (deg) of the room faces' box
    floor_z: float | None
    triangles: tuple[np.ndarray, np.ndarray, np.ndarray] = field(repr=False, default=None)  # verts, tris, ids


def _tag_owner(obj) -> object | None:
    """The nearest object up the parent chain (itself included) that carries a photo2scene tag."""
    while obj is not None:
        if "photo2scene_object" in obj or "photo2scene_face" in obj:
            return obj
        obj = obj.parent
    return None


def _render_visible(obj) -> bool:
    while obj is not None:
        if obj.hide_render or not obj.visible_camera:
            return False
        obj = obj.parent
    return True


def _material_category(obj) -> str | None:
    """'homogeneous' for a plain material, the graph's category for a procedural one, None without material."""
    mats = [s.material for s in obj.material_slots if s.material is not None]
    if not mats:
        return None
    mat = mats[0]
    graph = mat.get("photo2scene_graph")
    if graph:
        try:
            return str(json.loads(graph).get("category", "misc"))
        except (TypeError, ValueError):
            return "misc"
    return "homogeneous"


def _camera(scene) -> ViewCamera:
    cam = scene.camera
    if cam is None:
        raise InputError("the .blend has no scene camera; set one (the reconstruction's camera) and save again")
    m = np.array(cam.matrix_world)
    rot = m[:3, :3] / np.linalg.norm(m[:3, :3], axis=0)
    frame = cam.data.view_frame(scene=scene)  # corners in camera space, for this resolution and sensor fit
    half_h = max(abs(v.y) for v in frame)
    depth = abs(frame[0].z)
    r = scene.render
    w = round(r.resolution_x * r.resolution_percentage / 100)
    h = round(r.resolution_y * r.resolution_percentage / 100)
    return ViewCamera(m[:3, 3].copy(), rot, math.degrees(2 * math.atan(half_h / depth)), w, h)


def open_blend(path: Path) -> BlendView:
    """Open `path` in the bpy session and read its camera, tagged instances, boxes and geometry."""
    import bpy

    path = Path(path)
    if not path.is_file():
        raise InputError(f".blend not found: {path}")
    with quiet_blender():
        bpy.ops.wm.open_mainfile(filepath=str(path), load_ui=False)
    scene = bpy.context.scene
    camera = _camera(scene)
    depsgraph = bpy.context.evaluated_depsgraph_get()

    owners: dict[str, int] = {}
    instances: list[Instance] = []
    per_owner_verts: dict[int, list[np.ndarray]] = {}
    all_verts, all_tris, all_ids = [], [], []
    n_verts = 0
    for inst in depsgraph.object_instances:
        ob = inst.object
        if ob.type != "MESH":
            continue
        original = (inst.parent if inst.is_instance else ob).original
        if not _render_visible(original) or not _render_visible(ob.original):
            continue
        owner = _tag_owner(ob.original) or _tag_owner(original)
        mesh = ob.to_mesh()
        try:
            mesh.calc_loop_triangles()
            nv, nt = len(mesh.vertices), len(mesh.loop_triangles)
            if nv == 0 or nt == 0:
                continue
            co = np.empty(nv * 3, np.float64)
            mesh.vertices.foreach_get("co", co)
            tri = np.empty(nt * 3, np.int64)
            mesh.loop_triangles.foreach_get("vertices", tri)
        finally:
            ob.to_mesh_clear()
        mw = np.array(inst.matrix_world)
        world = co.reshape(-1, 3) @ mw[:3, :3].T + mw[:3, 3]
        ident = 0
        if owner is not None:
            key = owner.name
            if key not in owners:
                face = owner.get("photo2scene_face")
                if face is not None:
                    instances.append(Instance(str(owner.name), str(face), "face",
                                              material_category=_material_category(owner)))
                else:
                    instances.append(Instance(str(owner["photo2scene_object"]),
                                              str(owner.get("photo2scene_label", "")), "object",
                                              asset=str(owner.get("photo2scene_asset", ""))))
                owners[key] = len(instances)
            ident = owners[key]
            per_owner_verts.setdefault(ident, []).append(world)
            if instances[ident - 1].kind == "face" and instances[ident - 1].material_category is None:
                instances[ident - 1].material_category = _material_category(ob.original)
        all_verts.append(world)
        all_tris.append(tri.reshape(-1, 3) + n_verts)
        all_ids.append(np.full(nt, ident, np.int32))
        n_verts += nv

    roots = {o.name: o for o in bpy.data.objects}
    names = list(owners)  # dicts keep insertion order: names[k - 1] is the root of instances[k - 1]
    for ident, inst in enumerate(instances, start=1):
        verts = np.concatenate(per_owner_verts[ident])
        yaw = 0.0
        if inst.kind == "object":
            m = np.array(roots[names[ident - 1]].matrix_world)
            yaw = math.atan2(m[1, 0], m[0, 0])
        inst.center, inst.size = oriented_bounds(verts, yaw)
        inst.yaw_deg = math.degrees(yaw)

    room, floor_z = _room_box(instances, per_owner_verts)
    if all_verts:
        tris = (np.concatenate(all_verts), np.concatenate(all_tris), np.concatenate(all_ids))
    else:
        tris = (np.zeros((0, 3)), np.zeros((0, 3), np.int64), np.zeros(0, np.int32))
    return BlendView(path, camera, instances, room, floor_z, tris)


def oriented_bounds(verts: np.ndarray, yaw: float) -> tuple[np.ndarray, np.ndarray]:
    """Centre (world) and size of the tight box of `verts` in the frame turned by `yaw` about +Z."""
    c, s = math.cos(yaw), math.sin(yaw)
    rot = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
    local = verts @ rot  # rows: R^T v
    lo, hi = local.min(axis=0), local.max(axis=0)
    return rot @ ((lo + hi) / 2), hi - lo


def _room_box(instances: list[Instance],
              per_owner_verts: dict[int, list[np.ndarray]]) -> tuple[tuple | None, float | None]:
    """The box of the room faces, turned by the floor's edge direction (the room's yaw)."""
    faces = [i for i, inst in enumerate(instances, start=1) if inst.kind == "face"]
    if not faces:
        return None, None
    verts = np.concatenate([v for i in faces for v in per_owner_verts[i]])
    floors = [i for i in faces if instances[i - 1].label == "floor"]
    yaw = 0.0
    floor_z = None
    if floors:
        fv = np.concatenate(per_owner_verts[floors[0]])
        floor_z = float(np.median(fv[:, 2]))
        hull = fv[:, :2]
        # The longest edge from the first vertex gives the room's axes (quads: two edges meet at a corner).
        d = hull - hull[0]
        k = int(np.argmax(np.linalg.norm(d, axis=1)))
        edges = [hull[j] - hull[0] for j in range(1, len(hull)) if j != k]
        if edges:
            e = max(edges, key=np.linalg.norm)
            yaw = math.atan2(e[1], e[0]) % (math.pi / 2)
            if yaw > math.pi / 4:
                yaw -= math.pi / 2
    center, size = oriented_bounds(verts, yaw)
    return (center, size, math.degrees(yaw)), floor_z


def id_map(view: BlendView, camera: ViewCamera) -> np.ndarray:
    """HxW int32 object-index pass: k for instances[k - 1], 0 where no tagged geometry is seen (pixel centres)."""
    from mathutils.bvhtree import BVHTree

    verts, tris, ids = view.triangles
    out = np.zeros((camera.height, camera.width), np.int32)
    if len(tris) == 0:
        return out
    bvh = BVHTree.FromPolygons(verts.tolist(), tris.tolist(), epsilon=0.0)
    f = (camera.height / 2) / math.tan(math.radians(camera.fov_y_deg) / 2)
    cols, rows = np.meshgrid(np.arange(camera.width) + 0.5, np.arange(camera.height) + 0.5)
    dirs = np.stack([(cols - camera.width / 2) / f, -(rows - camera.height / 2) / f,
                     -np.ones_like(cols)], axis=-1).reshape(-1, 3) @ camera.rotation.T
    origin = camera.position.tolist()
    flat = out.reshape(-1)
    for k, d in enumerate(dirs.tolist()):
        hit = bvh.ray_cast(origin, d)
        if hit[0] is not None:
            flat[k] = ids[hit[2]]
    return out


def _set_camera(scene, camera: ViewCamera) -> None:
    from mathutils import Matrix

    m = np.eye(4)
    m[:3, :3], m[:3, 3] = camera.rotation, camera.position
    cam = scene.camera
    cam.parent = None
    cam.matrix_world = Matrix(m.tolist())
    cam.data.sensor_fit = "VERTICAL"
    cam.data.angle_y = math.radians(camera.fov_y_deg)
    cam.data.shift_x = cam.data.shift_y = 0.0


def render(camera: ViewCamera, samples: int = 64, seed: int = 0) -> np.ndarray:
    """HxWx3 linear Cycles render of the open file from `camera` with the benchmark's fixed settings."""
    import bpy

    scene = bpy.context.scene
    _set_camera(scene, camera)
    configure_photo_render(scene, camera.width, camera.height, samples, seed)
    fmt = scene.render.image_settings
    fmt.file_format, fmt.color_mode, fmt.color_depth = "OPEN_EXR", "RGB", "32"
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "render.exr"
        scene.render.filepath = str(out)
        with quiet_blender(), interrupt.gil_held_call():  # the render keeps the GIL (core/interrupt.py, point 4)
            bpy.ops.render.render(write_still=True)
        img = bpy.data.images.load(str(out))
        px = np.empty(camera.width * camera.height * 4, np.float32)
        img.pixels.foreach_get(px)
        bpy.data.images.remove(img)
    return px.reshape(camera.height, camera.width, 4)[::-1, :, :3].copy()
