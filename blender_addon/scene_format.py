"""scene.json as typed records: the one contract the add-on and the pipeline share (docs/scene_format.md).

Standard library only (no bpy, no numpy), so the add-on stays self-contained and the pipeline imports it as is.
It holds:

- the format's name and version (`FORMAT`, `VERSION`) and `validate_scene`, which checks types, finiteness and
  ranges and raises `BundleError` with a one-line message naming the failing field;
- the records `Camera`, `Room`, `Part`, `Candidate`, `Object`, `Light`, `MaterialEntry` and `SceneData`, each with
  `from_dict` / `to_dict`. Keys a record does not know are kept in `extra` and written back, so a newer writer's
  fields survive a round trip. Records can be read like the dicts they replace (`obj["label"]`, `obj.get(...)`),
  never written that way: stages set attributes, so every key scene.json gets is declared here;
- the room box's face table and geometry (`ROOM_FACES`, `room_face_corners`, `face_uvs`), the object transform
  (`object_matrix`), the OBJ reader (`read_obj`), and the names and relative paths both sides derive (`slug`,
  `part_material_name`, ...).
"""

from __future__ import annotations

import copy
import json
import math
import re
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar, Iterable

FORMAT = "photo2scene.scene"
VERSION = 1


class BundleError(ValueError):
    """The bundle is missing, malformed or unsafe; the message says which field and why."""


@dataclass(frozen=True)
class Limits:
    """Caps on what one bundle may ask of the reader: far above any real room, low enough that a hostile or
    corrupt bundle cannot make the loader or the builders run out of memory or time. Raise one deliberately with
    `dataclasses.replace(LIMITS, objects=5000)` and pass it as `limits=` to `load_bundle` / `validate_scene`."""

    objects: int = 1000
    lights: int = 256
    parts: int = 256  # per object or object candidate
    materials: int = 4096
    candidates: int = 64  # per object or material
    depth: int = 64  # JSON nesting (scene.json and graphs)
    string: int = 4096  # characters in any string or key
    int_digits: int = 30  # decimal digits of any JSON integer
    scene_bytes: int = 64 << 20
    graph_bytes: int = 4 << 20
    graph_nodes: int = 512
    file_bytes: int = 1 << 30  # any other file scene.json names (meshes, textures, thumbnails, the photo)


LIMITS = Limits()


# ------------------------------------------------------------------------------------------------ names

ROOM_FACES: dict[str, tuple[int, int]] = {
    # face -> (box-local axis it closes, side: 0 = min, 1 = max). The order is the build and render order.
    "floor": (2, 0), "ceiling": (2, 1),
    "wall_x_min": (0, 0), "wall_x_max": (0, 1), "wall_y_min": (1, 0), "wall_y_max": (1, 1),
}
LIGHT_TYPES = ("area", "point", "spot", "sun")
MAX_LIGHT_RADIUS_M = 1.0  # a point light's radius: a bulb, a globe shade
MATERIAL_TYPES = ("principled", "graph")
CONTACTS = ("floor", "wall", "none")  # or "support:NAME"

# An object's `flags`: what the user should look at. low_mask_iou: its final silhouette covers less than
# LOW_MASK_IOU of its mask (drop it or re-pose it); proxy: a stand-in built from its own mask and depth (no
# library model fits), its candidates still offered; parametric: a generated curtain, blind or rug.
OBJECT_FLAGS = ("low_mask_iou", "proxy", "parametric")
LOW_MASK_IOU = 0.3
# Asset ids of stand-ins (no library holds them; the object stage rebuilds them from the mask): flag per prefix.
STANDIN_FLAGS = {"proxy:": "proxy", "parametric:": "parametric"}

# Defaults the builders use for fields an entry leaves out.
DEFAULT_ROUGHNESS = 0.5
DEFAULT_METALLIC = 0.0

# Custom properties the add-on puts on Blender data to find scene.json entries again (docs/addon.md).
PROP_BUNDLE = "photo2scene_bundle"
PROP_OBJECT = "photo2scene_object"
PROP_ASSET = "photo2scene_asset"
PROP_LIGHT = "photo2scene_light"
PROP_MATERIAL = "photo2scene_material"
PROP_FACE = "photo2scene_face"
PROP_PART = "photo2scene_part"
PROP_CHOSEN = "photo2scene_chosen"
PROP_LOCKED = "photo2scene_locked"  # on a light object or a material: Refine keeps it as the artist set it
PROP_PROPOSAL = "photo2scene_proposal"  # on an object made from a furniture proposal; False once the artist confirms
PROP_BUILT = "photo2scene_built"  # on every object the import built: a re-import replaces these, keeps the rest
PROP_NOTE = "photo2scene_note"  # a line the import reports as a warning (e.g. a room face's placeholder material)
PROP_GROUP = "photo2scene_group"  # on a reconstruction's sub-collections: "camera", "room", "furniture", "lights"

_SLUG = re.compile(r"[^A-Za-z0-9._-]+")


def slug(text: str) -> str:
    """`text` as a file-name piece: runs of anything but ASCII letters, digits, `.`, `_`, `-` become one `_`."""
    return _SLUG.sub("_", text)


def face_kind(face: str) -> str:
    """'wall', 'floor' or 'ceiling'."""
    return "wall" if face.startswith("wall") else face


def room_face_name(face: str) -> str:
    """Name of a room face's Blender object and render surface (and of a wall's own material once split)."""
    return f"room_{face}"


def default_room_material(face: str) -> str:
    """The material a room face starts with: one per kind (all walls share one)."""
    return f"room_{face_kind(face)}"


def part_material_name(obj: str, part: str) -> str:
    """The material of an object's part."""
    return f"{obj}.{part}"


def part_mesh_path(folder: str, part: str) -> str:
    """Bundle-relative OBJ of a part in `folder` (see `object_mesh_folder`, `candidate_mesh_folder`)."""
    return f"{folder}/{slug(part)}.obj"


def object_mesh_folder(obj: str) -> str:
    return f"meshes/{obj}"


def candidate_mesh_folder(obj: str, asset_id: str) -> str:
    return f"meshes/{obj}/candidates/{slug(asset_id)}"


def asset_thumbnail_path(asset_id: str) -> str:
    return f"thumbnails/{slug(asset_id)}.png"


def material_graph_path(material: str, library: str | None = None) -> str:
    """The graph JSON of a material in use, or (with `library`) of its candidate from that library."""
    return f"materials/{slug(material)}.{slug(library)}.json" if library else f"materials/{slug(material)}.json"


def material_thumbnail_path(library: str) -> str:
    return f"materials/thumbs/{slug(library)}.jpg"


# ------------------------------------------------------------------------------------------------ geometry

Vec3 = tuple[float, float, float]


def room_face_corners(center: Iterable[float], size: Iterable[float], yaw_deg: float, face: str,
                      gap: float = 0.0) -> list[Vec3]:
    """World corners of a room face, counter-clockwise seen from inside (the normal points into the room).

    The corner order fixes the face's UV layout (`face_uvs`), so the add-on's mesh and the pipeline's render
    texture a face the same way. `gap` (metres) pulls the edges in, so touching faces do not share edges."""
    axis, side = ROOM_FACES[face]
    half = [float(s) / 2 for s in size]
    u, v = [a for a in range(3) if a != axis]
    corners = []
    for cu, cv in ((0, 0), (1, 0), (1, 1), (0, 1)):
        p = [0.0, 0.0, 0.0]
        p[axis] = half[axis] if side else -half[axis]
        p[u] = (half[u] - gap) if cu else (gap - half[u])
        p[v] = (half[v] - gap) if cv else (gap - half[v])
        corners.append(p)
    # This order's normal is e_u x e_v: +axis for x and z faces, -axis for y faces. Inward is +axis on the min
    # side and -axis on the max side; reverse the winding where they disagree.
    if (-1 if axis == 1 else 1) != (-1 if side else 1):
        corners.reverse()
    c, s = math.cos(math.radians(yaw_deg)), math.sin(math.radians(yaw_deg))
    cx, cy, cz = (float(x) for x in center)
    return [(cx + c * x - s * y, cy + s * x + c * y, cz + z) for x, y, z in corners]


def face_uvs(corners: list) -> list[tuple[float, float]]:
    """Metric UVs of a room face's four corners: distance along its two edges, so texture scales are metres."""
    l1 = math.dist(corners[0], corners[1])
    l2 = math.dist(corners[0], corners[3])
    return [(0.0, 0.0), (l1, 0.0), (l1, l2), (0.0, l2)]


# ------------------------------------------------------------------------------------------------ openings
# Windows and doors (`Opening`) as quads, built by one function for both the add-on and the pipeline's Mitsuba
# scene, so the two renders see the same geometry. Depths `s` are metres outward from the wall's inner plane.

OPENING_KINDS = ("window", "door")
OPENING_PARTS = ("frame", "panel", "outdoors")  # parts with a material of their own in `Opening.materials`
# Parts seen by the camera only, in both renderers: the glass, and the backdrop that shows the view out. The
# window's light is its area light alone; a backdrop that also lit the room would count the outdoors twice, and in
# Mitsuba the light's panel in front of it stops the shadow rays towards it (Blender's lights stop none).
CAMERA_ONLY_PARTS = ("glass", "outdoors")
WALL_THICKNESS_M = 0.12  # walls are this thick in Blender; an opening's reveals span it
FRAME_WIDTH_M = 0.05  # a window frame's border, seen from inside
WINDOW_GLASS_DEPTH_M = WALL_THICKNESS_M / 2  # the window's frame, glass and outdoor light sit mid-wall
OUTDOORS_DEPTH_M = WINDOW_GLASS_DEPTH_M + 0.02  # a window's outdoors backdrop, behind its light
DOOR_PANEL_DEPTH_M = WALL_THICKNESS_M - 0.03  # a door's panel is set back in its jambs
CASING_WIDTH_M = 0.07  # a door's casing around the hole, on the wall
CASING_OFFSET_M = 0.01  # the casing stands this far out of the wall


@dataclass
class Quad:
    """A planar quad: corners counter-clockwise seen from the side it faces, metric UVs, what it belongs to.
    `owner` is a room face or an opening's name; `part` is "" for a wall's own surface, else "frame", "panel",
    "glass" (no material: see-through) or "outside" (the wall's far side, built in Blender only)."""

    owner: str
    part: str
    material: str
    corners: list[Vec3]
    uvs: list[tuple[float, float]]


def face_frame(room: "Room", face: str) -> tuple[Vec3, Vec3, Vec3, Vec3, float, float]:
    """(origin, e_u, e_v, inward normal, width, height) of a face: its corner 0, unit edges to corners 1 and 3 (the
    axes of `face_uvs`) and their lengths. A point at (u, v) and depth s is origin + u e_u + v e_v - s normal."""
    c = room.face_corners(face)
    width, height = math.dist(c[0], c[1]), math.dist(c[0], c[3])
    eu = tuple((c[1][k] - c[0][k]) / width for k in range(3))
    ev = tuple((c[3][k] - c[0][k]) / height for k in range(3))
    n = (eu[1] * ev[2] - eu[2] * ev[1], eu[2] * ev[0] - eu[0] * ev[2], eu[0] * ev[1] - eu[1] * ev[0])
    return c[0], eu, ev, n, width, height


def wall_extent(size: Iterable[float], face: str) -> tuple[float, float]:
    """(width, height) of a face of a box with extents `size`: the lengths of its UV axes (`face_frame`)."""
    c = room_face_corners((0.0, 0.0, 0.0), size, 0.0, face)
    return math.dist(c[0], c[1]), math.dist(c[0], c[3])


def _point(frame, u: float, v: float, s: float) -> Vec3:
    o, eu, ev, n = frame[:4]
    return tuple(o[k] + u * eu[k] + v * ev[k] - s * n[k] for k in range(3))  # type: ignore[return-value]


def _rect_quad(frame, owner: str, part: str, material: str, u0: float, v0: float, u1: float, v1: float,
               s: float, inward: bool = True) -> Quad:
    """A rectangle of the wall's UV plane at depth s, facing into the room (or away from it)."""
    uvs = [(u0, v0), (u1, v0), (u1, v1), (u0, v1)]
    corners = [_point(frame, u, v, s) for u, v in uvs]
    if not inward:
        corners.reverse()
        uvs.reverse()
    return Quad(owner, part, material, corners, uvs)


def _reveal_quads(frame, owner: str, material: str, rect: list[float], s1: float) -> list[Quad]:
    """The four sides of a hole from the wall's inner plane to depth s1, each facing the hole's middle."""
    u0, v0, u1, v1 = rect
    out = []
    for (ua, va), (ub, vb), toward in (((u0, v0), (u0, v1), (1, 0)), ((u1, v1), (u1, v0), (-1, 0)),
                                       ((u1, v0), (u0, v0), (0, 1)), ((u0, v1), (u1, v1), (0, -1))):
        corners = [_point(frame, ua, va, 0.0), _point(frame, ub, vb, 0.0), _point(frame, ub, vb, s1),
                   _point(frame, ua, va, s1)]
        length = math.hypot(ub - ua, vb - va)
        uvs = [(0.0, 0.0), (length, 0.0), (length, s1), (0.0, s1)]
        # Face the hole's middle: flip the winding if the polygon's normal points the other way.
        e1 = [corners[1][k] - corners[0][k] for k in range(3)]
        e2 = [corners[3][k] - corners[0][k] for k in range(3)]
        normal = (e1[1] * e2[2] - e1[2] * e2[1], e1[2] * e2[0] - e1[0] * e2[2], e1[0] * e2[1] - e1[1] * e2[0])
        want = [toward[0] * frame[1][k] + toward[1] * frame[2][k] for k in range(3)]
        if sum(normal[k] * want[k] for k in range(3)) < 0:
            corners.reverse()
            uvs.reverse()
        out.append(Quad(owner, "frame", material, corners, uvs))
    return out


def _ring(u0: float, v0: float, u1: float, v1: float, w: float) -> list[tuple[float, float, float, float]]:
    """Four strips of width w just inside the rectangle (a frame seen from the front)."""
    return [(u0, v0, u1, v0 + w), (u0, v1 - w, u1, v1), (u0, v0 + w, u0 + w, v1 - w), (u1 - w, v0 + w, u1, v1 - w)]


def wall_cells(width: float, height: float, holes: list[list[float]]) -> list[tuple[float, float, float, float]]:
    """The wall [0, width] x [0, height] minus the holes, as rectangles: the grid of every hole edge, its cells
    inside a hole dropped, runs of kept cells along u merged."""
    us = sorted({0.0, width, *(min(max(h[k], 0.0), width) for h in holes for k in (0, 2))})
    vs = sorted({0.0, height, *(min(max(h[k], 0.0), height) for h in holes for k in (1, 3))})
    out = []
    for va, vb in zip(vs, vs[1:]):
        run = None
        for ua, ub in zip(us, us[1:]):
            cu, cv = (ua + ub) / 2, (va + vb) / 2
            inside = any(h[0] <= cu <= h[2] and h[1] <= cv <= h[3] for h in holes)
            if not inside and ub - ua > 1e-9 and vb - va > 1e-9:
                run = (run[0], ub) if run else (ua, ub)
            elif run:
                out.append((run[0], va, run[1], vb))
                run = None
        if run:
            out.append((run[0], va, run[1], vb))
    return out


def room_face_quads(room: "Room", face: str, outside: bool = False) -> list[Quad]:
    """A face's own surface with its openings' holes cut out (wall_cells); with `outside` also the wall's far
    side, WALL_THICKNESS_M out (the add-on builds it so walls have thickness; nothing inside the room sees it)."""
    frame = face_frame(room, face)
    width, height = frame[4], frame[5]
    holes = [list(o.rect) for o in (room.openings or []) if o.face == face]
    material = room.materials.get(face, "")
    out = [_rect_quad(frame, face, "", material, *cell, 0.0) for cell in wall_cells(width, height, holes)]
    if outside and face_kind(face) == "wall":
        out += [_rect_quad(frame, face, "outside", material, *cell, WALL_THICKNESS_M, inward=False)
                for cell in wall_cells(width, height, holes)]
    return out


def opening_quads(room: "Room", opening: Opening) -> list[Quad]:
    """An opening's parts as quads: window = reveals to mid-wall, a frame ring and a glass pane there, and (with
    an `outdoors` material) a backdrop behind them; door = jambs, a casing around the hole on the wall and a panel
    set back in the jambs."""
    frame = face_frame(room, opening.face)
    u0, v0, u1, v1 = opening.rect
    name, mats = opening.name, opening.materials
    frame_mat = mats.get("frame", "")
    if opening.kind == "window":
        fw = min(FRAME_WIDTH_M, (u1 - u0) / 4, (v1 - v0) / 4)
        out = _reveal_quads(frame, name, frame_mat, opening.rect, WINDOW_GLASS_DEPTH_M)
        out += [_rect_quad(frame, name, "frame", frame_mat, *r, WINDOW_GLASS_DEPTH_M - 0.002)
                for r in _ring(u0, v0, u1, v1, fw)]
        out.append(_rect_quad(frame, name, "glass", "", u0 + fw, v0 + fw, u1 - fw, v1 - fw, WINDOW_GLASS_DEPTH_M))
        if mats.get("outdoors"):  # what the glass shows: an emitting backdrop at the photo's radiance there
            backdrop = _rect_quad(frame, name, "outdoors", mats["outdoors"], u0, v0, u1, v1, OUTDOORS_DEPTH_M)
            backdrop.uvs = list(UNIT_SQUARE_UVS)  # its picture (`textures.emission`) spans it once
            out.append(backdrop)
        return out
    width, height = frame[4], frame[5]
    cw = CASING_WIDTH_M
    out = _reveal_quads(frame, name, frame_mat, opening.rect, DOOR_PANEL_DEPTH_M)
    for a, b, c, d in ((u0 - cw, v0 - cw, u1 + cw, v0), (u0 - cw, v1, u1 + cw, v1 + cw), (u0 - cw, v0, u0, v1),
                       (u1, v0, u1 + cw, v1)):
        a, b, c, d = max(a, 0.0), max(b, 0.0), min(c, width), min(d, height)
        if c - a > 1e-3 and d - b > 1e-3:
            out.append(_rect_quad(frame, name, "frame", frame_mat, a, b, c, d, -CASING_OFFSET_M))
    out.append(_rect_quad(frame, name, "panel", mats.get("panel", frame_mat), u0, v0, u1, v1, DOOR_PANEL_DEPTH_M))
    return out


UNIT_SQUARE_UVS = ((0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0))


def outdoors_point(room: "Room", opening: Opening, s: float, t: float) -> Vec3:
    """The world point of a window's backdrop at its texture coordinates (s, t) in [0, 1] (`opening_quads`)."""
    frame = face_frame(room, opening.face)
    u0, v0, u1, v1 = opening.rect
    return _point(frame, u0 + s * (u1 - u0), v0 + t * (v1 - v0), OUTDOORS_DEPTH_M)


def window_light_pose(room: "Room", opening: Opening) -> tuple[Vec3, list[list[float]], list[float]]:
    """(position, rotation, size) of the area light standing for a window's outdoors: the glass's rectangle, just
    behind the glass, shining into the room (a Blender area light emits along its local -Z: -Z = the inward
    normal, X = e_u)."""
    frame = face_frame(room, opening.face)
    u0, v0, u1, v1 = opening.rect
    fw = min(FRAME_WIDTH_M, (u1 - u0) / 4, (v1 - v0) / 4)
    centre = _point(frame, (u0 + u1) / 2, (v0 + v1) / 2, WINDOW_GLASS_DEPTH_M + 0.005)
    _, eu, _, n = frame[:4]
    z = (-n[0], -n[1], -n[2])
    y = (z[1] * eu[2] - z[2] * eu[1], z[2] * eu[0] - z[0] * eu[2], z[0] * eu[1] - z[1] * eu[0])
    rotation = [[eu[k], y[k], z[k]] for k in range(3)]
    return centre, rotation, [u1 - u0 - 2 * fw, v1 - v0 - 2 * fw]


def object_matrix(location: Iterable[float], yaw_deg: float, scale: Iterable[float]) -> list[list[float]]:
    """4x4 world-from-model rows: per-axis scale, then yaw about +Z, then the location (bottom centre)."""
    yaw = math.radians(yaw_deg)
    sx, sy, sz = (float(v) for v in scale)
    x, y, z = (float(v) for v in location)
    c, s = math.cos(yaw), math.sin(yaw)
    return [[c * sx, -s * sy, 0.0, x], [s * sx, c * sy, 0.0, y], [0.0, 0.0, sz, z], [0.0, 0.0, 0.0, 1.0]]


@dataclass
class ObjMesh:
    """An OBJ's positions and UVs: polygons index `vertices`; `face_uvs[i]` indexes `uvs` or is None."""

    vertices: list[Vec3]
    uvs: list[tuple[float, float]]
    faces: list[list[int]]
    face_uvs: list[list[int] | None]

    @property
    def has_uvs(self) -> bool:
        """Every polygon has UVs (a partial UV layer is treated as none)."""
        return bool(self.uvs) and all(f is not None for f in self.face_uvs)


def read_obj(text: str, where: str = "OBJ") -> ObjMesh:
    """Positions, UVs and polygons of an OBJ (everything else ignored). Indices are checked, so a broken file
    raises BundleError naming `where` and the line instead of failing later inside Blender or the renderer."""
    verts: list[Vec3] = []
    uvs: list[tuple[float, float]] = []
    faces: list[list[int]] = []
    face_uvs: list[list[int] | None] = []
    for number, line in enumerate(text.splitlines(), start=1):
        try:
            if line.startswith("v "):
                x, y, z = (float(t) for t in line.split()[1:4])
                verts.append((x, y, z))
            elif line.startswith("vt "):
                a, b = (float(t) for t in line.split()[1:3])
                uvs.append((a, b))
            elif line.startswith("f "):
                corners = [c.split("/") for c in line.split()[1:]]
                faces.append([_obj_index(c[0], len(verts)) for c in corners])
                face_uvs.append([_obj_index(c[1], len(uvs)) for c in corners]
                                if all(len(c) > 1 and c[1] for c in corners) else None)
        except ValueError as exc:
            raise BundleError(f"{where} line {number}: {exc}") from None
        if faces and len(faces[-1]) < 3:
            raise BundleError(f"{where} line {number}: a face needs at least 3 corners")
        if not all(math.isfinite(t) for t in (verts[-1] if verts else ())):
            raise BundleError(f"{where} line {number}: coordinates must be finite")
    return ObjMesh(verts, uvs, faces, face_uvs)


def _obj_index(token: str, count: int) -> int:
    """0-based index of a 1-based (or negative, relative) OBJ index."""
    i = int(token)
    i = i - 1 if i > 0 else count + i
    if not 0 <= i < count:
        raise ValueError(f"index {token} out of range (1..{count})")
    return i


# ------------------------------------------------------------------------------------------------ records

class _Record:
    """Shared record behaviour: scene.json keys <-> attributes, unknown keys kept in `extra`.

    A field whose value is None is left out of `to_dict` (the key is absent from scene.json). Reading with
    `record[key]` / `record.get(key)` gives a field or an extra key, which keeps dict-style readers working."""

    extra: dict

    @classmethod
    def _keys(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls) if f.name != "extra")  # type: ignore[arg-type]

    def __getitem__(self, key: str) -> Any:
        if key in self._keys():
            value = getattr(self, key)
            if value is not None:
                return value
        elif key in self.extra:
            return self.extra[key]
        raise KeyError(key)

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            return default

    def __contains__(self, key: str) -> bool:
        return self.get(key) is not None or key in self.extra

    def to_dict(self) -> dict:
        """The scene.json entry (plain JSON types, a fresh copy)."""
        out = {}
        for key in self._keys():
            value = getattr(self, key)
            if value is not None:
                out[key] = _plain(value)
        for key, value in self.extra.items():
            out.setdefault(key, _plain(value))
        return out

    @classmethod
    def _split(cls, data: dict) -> tuple[dict, dict]:
        """(known fields, extra keys) of a scene.json entry, deep-copied so the record owns its data."""
        keys = cls._keys()
        known = {k: copy.deepcopy(v) for k, v in data.items() if k in keys}
        extra = {k: copy.deepcopy(v) for k, v in data.items() if k not in keys}
        return known, extra

    @classmethod
    def from_dict(cls, data: dict):
        """The record of a scene.json entry; records holding other records override this to convert them."""
        known, extra = cls._split(data)
        return cls(**known, extra=extra)


def _plain(value: Any) -> Any:
    if isinstance(value, _Record):
        return value.to_dict()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return copy.deepcopy(value)


def _identity() -> list[list[float]]:
    return [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]


@dataclass
class Camera(_Record):
    """Pose (world-from-camera rotation, Blender's camera convention), vertical field of view, size in pixels."""

    position: list[float]
    rotation: list[list[float]]
    fov_y_deg: float
    width: int
    height: int
    exposure_ev: float | None = None  # film exposure: a render is scene radiance x 2^-exposure_ev (lights in watts)
    extra: dict = field(default_factory=dict)


def exposure_scale(camera: Camera | None) -> float:
    """Scene radiance per unit of the rendered image: 2^exposure_ev (1 without an exposure). Lights' watts and
    emitters are in scene units; the photo, and the pipeline's renders, are scene units / this."""
    ev = getattr(camera, "exposure_ev", None)
    return 2.0 ** float(ev) if ev is not None else 1.0


@dataclass
class Opening(_Record):
    """A window or door cut through a wall: `rect` [u0, v0, u1, v1] in the wall's metric UVs (`face_uvs`: metres
    along its corner 0 -> 1 and corner 0 -> 3 edges). `materials` maps the opening's parts (`frame`; doors also
    `panel`, windows also `outdoors`) to material names; `segment_id` is the photo segment it was fitted to."""

    name: str
    kind: str  # window | door
    face: str  # a wall of ROOM_FACES
    rect: list[float]
    materials: dict[str, str] = field(default_factory=dict)
    segment_id: int | None = None
    extra: dict = field(default_factory=dict)


@dataclass
class Room(_Record):
    """An oriented box: centre, extents before rotation, rotation about +Z (degrees), face -> material name, and
    the windows and doors cut through its walls (`openings`, absent when none)."""

    center: list[float]
    size: list[float]
    yaw_deg: float = 0.0
    materials: dict[str, str] = field(default_factory=dict)
    openings: list[Opening] | None = None
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict) -> "Room":
        known, extra = cls._split(data)
        if known.get("openings") is not None:
            known["openings"] = [Opening.from_dict(o) for o in known["openings"]]
        return cls(**known, extra=extra)

    def face_corners(self, face: str, gap: float = 0.0) -> list[Vec3]:
        """World corners of one face (`room_face_corners`)."""
        return room_face_corners(self.center, self.size, self.yaw_deg, face, gap)


@dataclass
class Part(_Record):
    """One material part of an object: its OBJ (model frame) and material."""

    name: str
    mesh: str
    material: str | None = None
    material_hint: str | None = None  # what the asset calls the part's material (a retrieval hint)
    extra: dict = field(default_factory=dict)


# Where an object's asset comes from (pipeline/stages/objects/stage.py), on the object and on its candidates.
ASSET_FIELDS = ("asset_source", "asset_path", "asset_library", "asset_to_canonical", "asset_datablock",
                "asset_name")


@dataclass
class Candidate(_Record):
    """An alternative asset for an object (top-k, best first); with `parts` it can be swapped in at once."""

    asset_id: str
    label: str | None = None
    score: float | None = None
    category: str | None = None
    fit_loss: float | None = None
    shape_fit: float | None = None
    colour_distance: float | None = None  # its own colours against the photo's, 0..1 (objects/appearance.py)
    asset_source: str | None = None
    asset_path: str | None = None
    asset_library: str | None = None
    asset_to_canonical: list[list[float]] | None = None
    asset_datablock: str | None = None
    asset_name: str | None = None
    thumbnail: str | None = None
    parts: list[Part] | None = None
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict) -> "Candidate":
        known, extra = cls._split(data)
        if known.get("parts") is not None:
            known["parts"] = [Part.from_dict(p) for p in known["parts"]]
        return cls(**known, extra=extra)


# The label of a segment that the weight-free layout proposed as furniture without naming it
# (pipeline/estimators/segmentation.py); the object built from it carries `proposal: true`.
PROPOSAL_LABEL = "proposal"


@dataclass
class Object(_Record):
    """A piece of furniture: the asset, its pose (bottom centre, yaw about +Z, per-axis scale), parts, candidates."""

    name: str
    location: list[float]
    yaw_deg: float = 0.0
    scale: list[float] = field(default_factory=lambda: [1.0, 1.0, 1.0])
    label: str | None = None
    segment_id: int | None = None
    asset_id: str | None = None
    asset_source: str | None = None
    asset_path: str | None = None
    asset_library: str | None = None
    asset_to_canonical: list[list[float]] | None = None
    asset_datablock: str | None = None
    asset_name: str | None = None
    size: list[float] | None = None  # scaled extents
    contact: str | None = None  # floor | support:NAME | wall | none
    parts: list[Part] = field(default_factory=list)
    candidates: list[Candidate] = field(default_factory=list)
    chosen: int | None = None
    retrieval: str | None = None
    mask_iou_before: float | None = None
    mask_iou_after: float | None = None
    rotation: list[list[float]] | None = None  # written back by the add-on for objects without yaw
    proposal: bool | None = None  # true: made from an unnamed furniture proposal (PROPOSAL_LABEL), to confirm
    flags: list[str] | None = None  # OBJECT_FLAGS
    stretch: list[float] | None = None  # per-axis stretch beyond the uniform scale (in `scale`); None = uniform
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict) -> "Object":
        known, extra = cls._split(data)
        known["parts"] = [Part.from_dict(p) for p in known.get("parts") or []]
        known["candidates"] = [Candidate.from_dict(c) for c in known.get("candidates") or []]
        return cls(**known, extra=extra)

    def matrix(self) -> list[list[float]]:
        """4x4 world-from-model rows (`object_matrix`)."""
        return object_matrix(self.location, self.yaw_deg, self.scale)


@dataclass
class Light(_Record):
    """A light in Blender's units (power in watts); `size` is an area light's extents in metres."""

    name: str
    type: str  # area | point | spot | sun
    position: list[float]
    rotation: list[list[float]] = field(default_factory=_identity)
    size: list[float] = field(default_factory=lambda: [1.0, 1.0])
    color: list[float] = field(default_factory=lambda: [1.0, 1.0, 1.0])
    power_w: float = 100.0
    visible_camera: bool = False  # seen by the camera (a window's glow); light objects are hidden by default
    source: str = ""  # what placed it: ceiling grid, behind camera, unseen wall, window, lamp, user
    locked: bool | None = None  # true: the artist's, Refine keeps it exactly as it is (absent: unlocked)
    temperature_k: float | None = None  # its colour as a black-body temperature (fills share one)
    role: str | None = None  # what it stands for, as the artist reads it: "Window", "Ceiling lamp", "Lamp", ...
    radius: float | None = None  # a point light's radius, metres (Blender's Radius): a sphere of light, a lamp's bulb
    extra: dict = field(default_factory=dict)


@dataclass
class MaterialEntry(_Record):
    """A material: `principled` (base colour, roughness, metallic) or `graph` (a materials_db node graph in the
    bundle with parameter values in real units). As a candidate of another entry it carries display fields
    (`label`, `score`, `thumbnail`); an entry in use may carry `candidates` and `chosen`."""

    type: str
    base_color: list[float] | None = None  # linear RGB
    roughness: float | None = None
    metallic: float | None = None
    emission: list[float] | None = None  # linear RGB radiance (a lamp's glowing part)
    source: str | None = None
    graph_file: str | None = None
    values: dict | None = None
    library: str | None = None
    uv_scale: float | None = None
    uv_rotation_deg: float | None = None
    textures: dict[str, str] | None = None
    label: str | None = None
    score: float | None = None
    thumbnail: str | None = None
    candidates: list["MaterialEntry"] | None = None
    chosen: int | None = None
    retrieval: str | None = None
    texture_search: dict | None = None  # what the texture search tried and chose (the stage's record)
    locked: bool | None = None  # true: the artist's, Refine keeps its values as they are (absent: unlocked)
    extra: dict = field(default_factory=dict)

    DISPLAY: ClassVar[tuple[str, ...]] = ("label", "score", "thumbnail")

    @classmethod
    def from_dict(cls, data: dict) -> "MaterialEntry":
        known, extra = cls._split(data)
        if known.get("candidates") is not None:
            known["candidates"] = [cls.from_dict(c) for c in known["candidates"]]
        return cls(**known, extra=extra)

    @classmethod
    def principled(cls, base_color: Iterable[float], roughness: float = DEFAULT_ROUGHNESS,
                   metallic: float = DEFAULT_METALLIC, source: str | None = None) -> "MaterialEntry":
        return cls("principled", base_color=[float(c) for c in base_color], roughness=float(roughness),
                   metallic=float(metallic), source=source)

    def roughness_or_default(self) -> float:
        return DEFAULT_ROUGHNESS if self.roughness is None else float(self.roughness)

    def metallic_or_default(self) -> float:
        return DEFAULT_METALLIC if self.metallic is None else float(self.metallic)


@dataclass
class SceneData:
    """The whole of scene.json. `camera_type`/`room_type` let the pipeline read into its numpy-aware subclasses."""

    camera: Camera
    room: Room | None = None
    objects: list[Object] = field(default_factory=list)
    lights: list[Light] = field(default_factory=list)
    materials: dict[str, MaterialEntry] = field(default_factory=dict)
    scale: dict = field(default_factory=dict)  # how the metric scale was chosen
    photo: str | None = "photo.png"  # None: the bundle has no photo (scene.json says null or nothing)
    stages: dict[str, dict] = field(default_factory=dict)  # per-stage status and metrics
    extra: dict = field(default_factory=dict)  # top-level keys of a newer writer, written back as they were

    camera_type: ClassVar[type] = Camera
    room_type: ClassVar[type] = Room

    def to_dict(self) -> dict:
        """scene.json (validated: a writer never produces a file the reader refuses)."""
        data = {
            "format": FORMAT,
            "version": VERSION,
            "units": "metres",
            "up": "Z",
            "photo": self.photo,
            "scale": _plain(self.scale),
            "camera": self.camera.to_dict(),
            "room": self.room.to_dict() if self.room is not None else None,
            "objects": [o.to_dict() for o in self.objects],
            "lights": [li.to_dict() for li in self.lights],
            "materials": {name: m.to_dict() for name, m in self.materials.items()},
            "stages": _plain(self.stages),
        }
        for key, value in self.extra.items():
            data.setdefault(key, _plain(value))
        validate_scene(data)
        return data

    @classmethod
    def _fields_from_dict(cls, data: Any, limits: "Limits | None" = None) -> dict:
        """Validated constructor arguments from scene.json (subclasses may add fields with defaults)."""
        validate_scene(data, limits)
        return dict(
            camera=cls.camera_type.from_dict(data["camera"]),
            room=cls.room_type.from_dict(data["room"]) if data.get("room") else None,
            objects=[Object.from_dict(o) for o in data.get("objects") or []],
            lights=[Light.from_dict(li) for li in data.get("lights") or []],
            materials={k: MaterialEntry.from_dict(m) for k, m in (data.get("materials") or {}).items()},
            scale=copy.deepcopy(data.get("scale") or {}),
            photo=data.get("photo") or None,
            stages=copy.deepcopy(data.get("stages") or {}),
            extra={k: copy.deepcopy(v) for k, v in data.items() if k not in _TOP_LEVEL},
        )

    @classmethod
    def from_dict(cls, data: Any, limits: "Limits | None" = None) -> "SceneData":
        """Validate scene.json (caps: `limits`, default LIMITS) and read it into records (BundleError naming the
        field if it breaks the contract)."""
        return cls(**cls._fields_from_dict(data, limits))

    def object(self, name: str) -> Object | None:
        return next((o for o in self.objects if o.name == name), None)


_TOP_LEVEL = frozenset({"format", "version", "units", "up", "photo", "scale", "camera", "room", "objects", "lights",
                        "materials", "stages"})


def referenced_files(scene: dict) -> list[str]:
    """Every relative file path a (validated) scene.json names, in order of first mention."""
    files = []
    if scene.get("photo"):
        files.append(scene["photo"])
    for obj in scene.get("objects") or []:
        files += [part["mesh"] for part in obj.get("parts") or [] if part.get("mesh")]
        for cand in obj.get("candidates") or []:
            files += [part["mesh"] for part in cand.get("parts") or [] if part.get("mesh")]
            if cand.get("thumbnail"):
                files.append(cand["thumbnail"])
    for mat in (scene.get("materials") or {}).values():
        for entry in [mat] + [c for c in mat.get("candidates") or [] if isinstance(c, dict)]:
            if entry.get("graph_file"):
                files.append(entry["graph_file"])
            if entry.get("thumbnail"):
                files.append(entry["thumbnail"])
            files += list((entry.get("textures") or {}).values())
    return sorted(set(files), key=files.index)


# ------------------------------------------------------------------------------------------------ parsing

class _HugeInt:
    """Stands in for a JSON integer with too many digits, so `check_tree` can name its field (converting it
    would cost quadratic time, and Python refuses beyond 4300 digits with an error that names nothing)."""

    def __init__(self, digits: int) -> None:
        self.digits = digits


def _short(at: str) -> str:
    # A field path at the nesting cap can be long; one line stays readable.
    return at if len(at) <= 160 else at[:157] + "..."


def check_tree(value: Any, file: str, limits: Limits = LIMITS) -> None:
    """Raise BundleError naming the first field of parsed JSON that breaks a generic cap: nesting depth, string or
    key length, integer digits. Iterative, so no input can exhaust the Python stack here."""
    stack: list[tuple[Any, str, int]] = [(value, "", 1)]
    while stack:
        item, at, depth = stack.pop()
        if isinstance(item, (dict, list)):
            if depth > limits.depth:
                raise BundleError(f"{file}: {_short(at) or 'top level'}: nested deeper than {limits.depth} levels "
                                  "(Limits.depth)")
            if isinstance(item, dict):
                for key, child in item.items():
                    if not isinstance(key, str) or len(key) > limits.string:
                        raise BundleError(f"{file}: {_short(at) or 'top level'}: a key is not a string of at most "
                                          f"{limits.string} characters (Limits.string)")
                    stack.append((child, f"{at}.{key}" if at else key, depth + 1))
            else:
                stack.extend((child, f"{at}[{i}]", depth + 1) for i, child in enumerate(item))
        elif isinstance(item, str):
            if len(item) > limits.string:
                raise BundleError(f"{file}: {_short(at) or 'top level'}: string of {len(item)} characters is over "
                                  f"the cap of {limits.string} (Limits.string)")
        elif isinstance(item, _HugeInt) or (isinstance(item, int) and item.bit_length() > 3.33 * limits.int_digits):
            digits = item.digits if isinstance(item, _HugeInt) else len(str(abs(item)))
            raise BundleError(f"{file}: {_short(at) or 'top level'}: integer of {digits} digits is over the cap of "
                              f"{limits.int_digits} (Limits.int_digits)")


def parse_json(raw: bytes, file: str, limits: Limits = LIMITS, max_bytes: int | None = None) -> Any:
    """JSON from a bundle file's bytes, with every failure a one-line BundleError naming `file` (and the field):
    size over `max_bytes` (default Limits.scene_bytes), bytes that are not UTF-8, syntax, and `check_tree`'s caps."""
    cap = limits.scene_bytes if max_bytes is None else max_bytes
    if len(raw) > cap:
        raise BundleError(f"{file}: {len(raw)} bytes is over the cap of {cap} bytes (Limits)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BundleError(f"{file}: not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start})") from None
    text = text.removeprefix("\ufeff")  # a byte-order mark some editors write: harmless, json refuses it

    def parse_int(token: str) -> int | _HugeInt:
        return int(token) if len(token.lstrip("-")) <= limits.int_digits else _HugeInt(len(token.lstrip("-")))

    try:
        data = json.loads(text, parse_int=parse_int)
    except RecursionError:  # the C parser stops at Python's recursion limit, far below any stack overflow
        raise BundleError(f"{file}: nested deeper than {limits.depth} levels (Limits.depth)") from None
    except json.JSONDecodeError as exc:
        raise BundleError(f"{file}: not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None
    check_tree(data, file, limits)
    return data


# ------------------------------------------------------------------------------------------------ validation

# Sanity bounds: far beyond any room, small enough that a corrupt or hostile file cannot ask the builders for
# absurd geometry (a 1e30 m wall, a 1e9-pixel render).
MAX_COORD_M = 1e4
MAX_SIZE_M = 1e3
MAX_SCALE = 1e3
MAX_PIXELS = 1 << 15
MAX_POWER_W = 1e7
MAX_COLOUR = 1e3  # linear RGB; above 1 only by optimiser overshoot, never by 1e3
MAX_NAME = 256
MAX_OPENINGS = 64


def _fail(where: str, what: str) -> None:
    raise BundleError(f"scene.json: {where}: {what}")


def _need(cond: bool, where: str, what: str) -> None:
    if not cond:
        _fail(where, what)


def _is_number(value: Any) -> bool:
    # bool is an int in Python, but `true` is no number in scene.json.
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _number(value: Any, where: str, lo: float = -math.inf, hi: float = math.inf, positive: bool = False) -> None:
    if positive:
        ok = _is_number(value) and math.isfinite(value) and 0 < value <= hi
        _need(ok, where, "must be a positive finite number" + (f" (at most {hi:g})" if hi < math.inf else ""))
        return
    ok = _is_number(value) and math.isfinite(value) and lo <= value <= hi
    if lo == -math.inf and hi == math.inf:
        _need(ok, where, "must be a finite number")
    else:
        _need(ok, where, f"must be a finite number in [{lo:g}, {hi:g}]")


def _vector(value: Any, where: str, n: int, **bounds: Any) -> None:
    _need(isinstance(value, list) and len(value) == n, where, f"expected a list of {n} numbers")
    for i, v in enumerate(value):
        _number(v, f"{where}[{i}]", **bounds)


def _matrix(value: Any, where: str, n: int) -> None:
    _need(isinstance(value, list) and len(value) == n, where, f"expected a {n}x{n} matrix")
    for i, row in enumerate(value):
        _vector(row, f"{where}[{i}]", n)


def _string(value: Any, where: str, empty: bool = False) -> None:
    _need(isinstance(value, str) and (empty or value), where,
          "expected a string" if empty else "expected a non-empty string")


def _flag(value: Any, where: str) -> None:
    _need(isinstance(value, bool), where, "expected true or false")


def _optional(obj: dict, key: str, check, where: str, *args: Any, **kwargs: Any) -> None:
    """Check `obj[key]` when present and not null."""
    if obj.get(key) is not None:
        check(obj[key], f"{where}.{key}", *args, **kwargs)


def _path(value: Any, where: str) -> None:
    # Only the shape here; load_bundle resolves every path inside the bundle (safe_bundle_file).
    _need(isinstance(value, str) and value and "\0" not in value, where,
          "expected a relative path")


def _index(value: Any, where: str) -> None:
    _need(isinstance(value, int) and not isinstance(value, bool) and value >= 0, where,
          "expected an integer >= 0")


def _dict(value: Any, where: str, what: str = "expected an object") -> None:
    _need(isinstance(value, dict), where, what)


def _count(items: Any, where: str, cap: int, what: str, knob: str) -> None:
    if items is not None and hasattr(items, "__len__") and len(items) > cap:
        _fail(where, f"{len(items)} {what} is over the cap of {cap} (raise Limits.{knob} to load more)")


def validate_scene(scene: Any, limits: Limits | None = None) -> None:
    """Raise BundleError naming the first field that breaks the contract (types, finiteness, ranges, `limits`:
    default LIMITS)."""
    limits = limits or LIMITS
    check_tree(scene, "scene.json", limits)
    _dict(scene, "top level", "expected an object")
    _need(scene.get("format") == FORMAT, "format", f"expected {FORMAT!r}")
    version = scene.get("version")
    _need(isinstance(version, int) and not isinstance(version, bool), "version", "expected an integer")
    _need(version <= VERSION, "version", f"{version} is newer than this reader ({VERSION}); update photo2scene")
    _need(version >= 1, "version", "expected an integer >= 1")
    _need(scene.get("units", "metres") == "metres", "units", "expected 'metres'")
    _need(scene.get("up", "Z") == "Z", "up", "expected 'Z'")
    if scene.get("photo") is not None:
        _path(scene["photo"], "photo")
    for key in ("scale", "stages"):
        if scene.get(key) is not None:
            _dict(scene[key], key)

    _validate_camera(scene.get("camera"))
    materials = scene.get("materials")
    if materials is None:
        materials = {}
    _dict(materials, "materials", "expected an object keyed by material name")
    _count(materials, "materials", limits.materials, "materials", "materials")
    for name, mat in materials.items():
        _need(isinstance(name, str) and name and len(name) <= MAX_NAME, "materials", f"bad material name {name!r}")
        _validate_material(mat, f"materials.{name}")
        candidates = mat.get("candidates")
        if candidates is not None:
            _need(isinstance(candidates, list), f"materials.{name}.candidates", "expected a list")
            _count(candidates, f"materials.{name}.candidates", limits.candidates, "candidates", "candidates")
            for j, cand in enumerate(candidates):
                _validate_material(cand, f"materials.{name}.candidates[{j}]")
        _optional(mat, "chosen", _index, f"materials.{name}")
    if scene.get("room") is not None:
        _validate_room(scene["room"], materials)
    objects = scene.get("objects")
    if objects is not None:
        _need(isinstance(objects, list), "objects", "expected a list")
        _count(objects, "objects", limits.objects, "objects", "objects")
        names: set[str] = set()
        for i, obj in enumerate(objects):
            _validate_object(obj, f"objects[{i}]", limits)
            _need(obj["name"] not in names, f"objects[{i}].name", f"{obj['name']!r} is used twice")
            names.add(obj["name"])
    lights = scene.get("lights")
    if lights is not None:
        _need(isinstance(lights, list), "lights", "expected a list")
        _count(lights, "lights", limits.lights, "lights", "lights")
        for i, light in enumerate(lights):
            _validate_light(light, f"lights[{i}]")


def _validate_camera(cam: Any) -> None:
    _dict(cam, "camera", "missing")
    _vector(cam.get("position"), "camera.position", 3, lo=-MAX_COORD_M, hi=MAX_COORD_M)
    _matrix(cam.get("rotation"), "camera.rotation", 3)
    fov = cam.get("fov_y_deg")
    _need(_is_number(fov) and math.isfinite(fov) and 0 < fov < 180, "camera.fov_y_deg",
          "expected degrees in (0, 180)")
    for key in ("width", "height"):
        value = cam.get(key)
        _need(isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_PIXELS, f"camera.{key}",
              f"expected a positive integer (at most {MAX_PIXELS})")
    _optional(cam, "exposure_ev", _number, "camera", lo=-30.0, hi=30.0)


def _validate_room(room: Any, materials: dict) -> None:
    _dict(room, "room")
    _vector(room.get("center"), "room.center", 3, lo=-MAX_COORD_M, hi=MAX_COORD_M)
    _vector(room.get("size"), "room.size", 3, positive=True, hi=MAX_SIZE_M)
    _optional(room, "yaw_deg", _number, "room")
    faces = room.get("materials") or {}
    _dict(faces, "room.materials", "expected an object keyed by face")
    for face, mat in faces.items():
        _need(face in ROOM_FACES, f"room.materials.{face}", f"unknown face (expected one of {', '.join(ROOM_FACES)})")
        _need(isinstance(mat, str), f"room.materials.{face}", "expected a material name")
        _need(mat in materials, f"room.materials.{face}", f"material {mat!r} is not defined in materials")
    openings = room.get("openings")
    if openings is not None:
        _need(isinstance(openings, list), "room.openings", "expected a list")
        _need(len(openings) <= MAX_OPENINGS, "room.openings", f"{len(openings)} openings is over the cap of "
              f"{MAX_OPENINGS}")
        names: set[str] = set()
        for i, opening in enumerate(openings):
            _validate_opening(opening, f"room.openings[{i}]", room, materials)
            _need(opening["name"] not in names, f"room.openings[{i}].name", f"{opening['name']!r} is used twice")
            names.add(opening["name"])


def _validate_opening(opening: Any, where: str, room: dict, materials: dict) -> None:
    _dict(opening, where)
    _string(opening.get("name"), f"{where}.name")
    _need(opening.get("kind") in OPENING_KINDS, f"{where}.kind", f"expected {' or '.join(OPENING_KINDS)}")
    face = opening.get("face")
    _need(face in ROOM_FACES and face_kind(face) == "wall", f"{where}.face", "expected a wall (wall_x_min, ...)")
    _vector(opening.get("rect"), f"{where}.rect", 4, lo=-MAX_SIZE_M, hi=MAX_SIZE_M)
    u0, v0, u1, v1 = opening["rect"]
    width, height = wall_extent(room["size"], face)
    _need(0 <= u0 < u1 <= width + 1e-6 and 0 <= v0 < v1 <= height + 1e-6, f"{where}.rect",
          f"expected 0 <= u0 < u1 <= {width:g} and 0 <= v0 < v1 <= {height:g} (metres on the wall)")
    parts = opening.get("materials") or {}
    _dict(parts, f"{where}.materials", "expected an object keyed by part")
    for part, mat in parts.items():
        _need(part in OPENING_PARTS, f"{where}.materials.{part}", f"unknown part (expected {', '.join(OPENING_PARTS)})")
        _need(isinstance(mat, str) and mat in materials, f"{where}.materials.{part}",
              f"material {mat!r} is not defined in materials")
    if opening.get("segment_id") is not None:
        _need(isinstance(opening["segment_id"], int) and not isinstance(opening["segment_id"], bool),
              f"{where}.segment_id", "expected an integer")


def _validate_material(mat: Any, where: str) -> None:
    _need(isinstance(mat, dict) and mat.get("type") in MATERIAL_TYPES, f"{where}.type",
          "expected 'principled' or 'graph'")
    if mat["type"] == "principled":
        _vector(mat.get("base_color"), f"{where}.base_color", 3, lo=0.0, hi=MAX_COLOUR)
    else:
        _need(isinstance(mat.get("graph_file"), str), f"{where}.graph_file",
              "a graph material needs the relative path of its graph JSON")
        _path(mat["graph_file"], f"{where}.graph_file")
        if mat.get("values") is not None:
            _dict(mat["values"], f"{where}.values")
            for key, value in mat["values"].items():
                _param_value(value, f"{where}.values.{key}")
    _optional(mat, "roughness", _number, where, lo=0.0, hi=1.0)
    _optional(mat, "metallic", _number, where, lo=0.0, hi=1.0)
    _optional(mat, "emission", _vector, where, 3, lo=0.0, hi=1e6)
    _optional(mat, "locked", _flag, where)
    _optional(mat, "uv_scale", _number, where, positive=True, hi=1e4)
    _optional(mat, "uv_rotation_deg", _number, where)
    _optional(mat, "score", _number, where)
    _optional(mat, "thumbnail", _path, where)
    for key in ("source", "library", "label"):
        _optional(mat, key, _string, where, empty=True)
    textures = mat.get("textures")
    if textures is not None:
        _dict(textures, f"{where}.textures")
        for key, rel in textures.items():
            _path(rel, f"{where}.textures.{key}")


def _param_value(value: Any, where: str) -> None:
    """A graph parameter: a finite number, a list of them (colours, vectors, ramps), or a discrete choice."""
    if isinstance(value, list):
        _need(len(value) <= 4096, where, "too many values")
        for i, v in enumerate(value):
            _param_value(v, f"{where}[{i}]")
    elif _is_number(value):
        _number(value, where)
    else:
        _need(value is None or isinstance(value, (str, bool)), where, "expected a number, a list or a string")


def _validate_parts(parts: Any, where: str, limits: Limits) -> None:
    _need(isinstance(parts, list), where, "expected a list")
    _count(parts, where, limits.parts, "parts", "parts")
    for j, part in enumerate(parts):
        at = f"{where}[{j}]"
        _dict(part, at)
        _string(part.get("name"), f"{at}.name")
        _need(isinstance(part.get("mesh"), str), f"{at}.mesh", "expected a relative path")
        _path(part["mesh"], f"{at}.mesh")
        for key in ("material", "material_hint"):
            _optional(part, key, _string, at, empty=True)


def _validate_object(obj: Any, where: str, limits: Limits) -> None:
    _dict(obj, where)
    _need(isinstance(obj.get("name"), str) and obj["name"] and len(obj["name"]) <= MAX_NAME, f"{where}.name",
          "expected a string")
    _vector(obj.get("location"), f"{where}.location", 3, lo=-MAX_COORD_M, hi=MAX_COORD_M)
    _optional(obj, "yaw_deg", _number, where)
    _optional(obj, "scale", _vector, where, 3, positive=True, hi=MAX_SCALE)
    # Extents may be zero: a flat asset (a rug, a picture) has no thickness. Negative or absurd ones are errors.
    _optional(obj, "size", _vector, where, 3, lo=0.0, hi=MAX_SIZE_M)
    _optional(obj, "rotation", _matrix, where, 3)
    _optional(obj, "asset_to_canonical", _matrix, where, 4)
    for key in ("label", "asset_id", "contact", "retrieval") + ASSET_FIELDS[:3] + ASSET_FIELDS[4:]:
        _optional(obj, key, _string, where, empty=True)
    contact = obj.get("contact")
    if contact:
        _need(contact in CONTACTS or contact.startswith("support:"), f"{where}.contact",
              "expected floor, wall, none or support:NAME")
    if obj.get("proposal") is not None:
        _need(isinstance(obj["proposal"], bool), f"{where}.proposal", "expected true or false")
    if obj.get("segment_id") is not None:
        _need(isinstance(obj["segment_id"], int) and not isinstance(obj["segment_id"], bool),
              f"{where}.segment_id", "expected an integer")
    for key in ("mask_iou_before", "mask_iou_after"):
        _optional(obj, key, _number, where, lo=0.0, hi=1.0)
    if obj.get("flags") is not None:
        _need(isinstance(obj["flags"], list) and all(isinstance(f, str) for f in obj["flags"]), f"{where}.flags",
              f"expected a list of strings ({', '.join(OBJECT_FLAGS)})")
    _optional(obj, "stretch", _vector, where, 3, positive=True, hi=MAX_SCALE)
    if obj.get("parts") is not None:
        _validate_parts(obj["parts"], f"{where}.parts", limits)
    candidates = obj.get("candidates")
    if candidates is not None:
        _need(isinstance(candidates, list), f"{where}.candidates", "expected a list")
        _count(candidates, f"{where}.candidates", limits.candidates, "candidates", "candidates")
        for j, cand in enumerate(candidates):
            at = f"{where}.candidates[{j}]"
            _dict(cand, at)
            _string(cand.get("asset_id"), f"{at}.asset_id")
            for key in ("score", "fit_loss", "shape_fit", "colour_distance"):
                _optional(cand, key, _number, at)
            _optional(cand, "thumbnail", _path, at)
            _optional(cand, "asset_to_canonical", _matrix, at, 4)
            if cand.get("parts") is not None:
                _validate_parts(cand["parts"], f"{at}.parts", limits)
    _optional(obj, "chosen", _index, where)


def _validate_light(light: Any, where: str) -> None:
    _dict(light, where)
    _need(light.get("type") in LIGHT_TYPES, f"{where}.type", "expected area|point|spot|sun")
    _string(light.get("name"), f"{where}.name")
    _vector(light.get("position"), f"{where}.position", 3, lo=-MAX_COORD_M, hi=MAX_COORD_M)
    _optional(light, "rotation", _matrix, where, 3)
    _optional(light, "size", _vector, where, 2, positive=True, hi=MAX_SIZE_M)
    _optional(light, "color", _vector, where, 3, lo=0.0, hi=MAX_COLOUR)
    power = light.get("power_w")
    _need(_is_number(power) and math.isfinite(power) and 0 <= power <= MAX_POWER_W, f"{where}.power_w",
          f"expected watts in [0, {MAX_POWER_W:g}]")
    _optional(light, "role", _string, where, empty=True)
    if light.get("visible_camera") is not None:
        _need(isinstance(light["visible_camera"], bool), f"{where}.visible_camera", "expected true or false")
    _optional(light, "locked", _flag, where)
    _optional(light, "temperature_k", _number, where, lo=500.0, hi=50000.0)
    _optional(light, "radius", _number, where, lo=0.0, hi=MAX_LIGHT_RADIUS_M)
