"""Between a reconstruction's Blender data and its scene.json: find the Blender side of an entry, and write what
the user changed in Blender back into the scene (for "Refine from stage").

How Blender data is matched to scene.json entries (docs/addon.md):
- a reconstruction is a collection with the custom property `photo2scene_bundle` (the bundle folder);
- an object's root carries `photo2scene_object` (its scene.json name), a light `photo2scene_light`, a material
  `photo2scene_material`, a room face `photo2scene_face`; where a builder sets no tag, the name is used, without
  the `.001` Blender adds on a clash;
- `photo2scene_chosen` on an object root or a material records the candidate swapped in (see edits.py).
"""

from __future__ import annotations

import math
from pathlib import Path

import bpy

from .edits import base_name, chosen_index, drop_object, with_material_candidate, with_object_candidate
from .scene_format import (DEFAULT_METALLIC, DEFAULT_ROUGHNESS, PROP_ASSET, PROP_BUILT, PROP_BUNDLE, PROP_CHOSEN,
                           PROP_FACE, PROP_LIGHT, PROP_LOCKED, PROP_MATERIAL, PROP_OBJECT, PROP_PROPOSAL,
                           Light, MaterialEntry, SceneData)

BUNDLE_KEY = PROP_BUNDLE
# What counts as a change. Blender stores floats in single precision (~7 digits), so a value read back from an
# untouched object differs from scene.json's double in the last digits; these tolerances sit well above that and
# well below any edit a person makes (0.01 mm, a thousandth of a degree, a relative 1e-5 for everything else).
ABS_TOL = 1e-5
REL_TOL = 1e-5
ANGLE_TOL_DEG = 1e-3


# ------------------------------------------------------------------------------------------- finding things

def reconstructions() -> list[bpy.types.Collection]:
    """Every reconstruction collection in the file."""
    return [c for c in bpy.data.collections if c.get(BUNDLE_KEY)]


def bundle_root(collection: bpy.types.Collection | None) -> Path | None:
    value = collection.get(BUNDLE_KEY) if collection is not None else None
    return Path(value) if value else None


def reconstruction_of(obj: bpy.types.Object | None) -> bpy.types.Collection | None:
    """The reconstruction an object belongs to (directly or in a child collection)."""
    if obj is None:
        return None
    for coll in reconstructions():
        if obj.name in coll.all_objects:
            return coll
    return None


def object_name(obj: bpy.types.Object) -> str | None:
    """The scene.json name an object stands for, if it is an object's root (builders/object.py marks roots with
    `photo2scene_asset`; `photo2scene_object`, where set, names the entry exactly)."""
    tagged = obj.get(PROP_OBJECT)
    if tagged:
        return str(tagged)
    if PROP_ASSET in obj:
        return base_name(obj.name)
    return None


def object_root(obj: bpy.types.Object | None) -> bpy.types.Object | None:
    """The object itself or the nearest parent that stands for a scene.json object."""
    while obj is not None:
        if object_name(obj):
            return obj
        obj = obj.parent
    return None


def find_object(coll: bpy.types.Collection, name: str) -> bpy.types.Object | None:
    return next((o for o in coll.all_objects if object_name(o) == name), None)


def find_light(coll: bpy.types.Collection, name: str) -> bpy.types.Object | None:
    lights = [o for o in coll.all_objects if o.type == "LIGHT"]
    return (next((o for o in lights if o.get(PROP_LIGHT) == name), None)
            or next((o for o in lights if not o.get(PROP_LIGHT) and base_name(o.name) == name), None))


def material_name(mat: bpy.types.Material | None, obj: bpy.types.Object | None, scene: SceneData) -> str | None:
    """The scene.json name of a Blender material as used on `obj`."""
    if mat is None:
        return None
    tagged = mat.get(PROP_MATERIAL)
    if tagged:
        return str(tagged)
    face = obj.get(PROP_FACE) if obj is not None else None
    room_materials = scene.room.materials if scene.room is not None else {}
    if face and face in room_materials:
        return room_materials[face]
    name = base_name(mat.name)
    return name if name in scene.materials else None


def find_material(coll: bpy.types.Collection, scene: SceneData, name: str) -> bpy.types.Material | None:
    """The Blender material standing for scene.json material `name` in this reconstruction."""
    for obj in coll.all_objects:
        for slot in getattr(obj, "material_slots", []):
            if slot.material is not None and material_name(slot.material, obj, scene) == name:
                return slot.material
    return None


def is_built(obj: bpy.types.Object) -> bool:
    """Whether an import (or a swap) built `obj`. The tag holds the name it was built under: a copy the artist
    makes with Duplicate carries the tag too but under another name (`chair_1.001`), and counts as theirs."""
    return obj.get(PROP_BUILT) == obj.name


def reconstruction_camera(coll: bpy.types.Collection) -> bpy.types.Object | None:
    """The camera the import built (not one the artist added to the collection), else any camera in it."""
    cameras = [o for o in coll.all_objects if o.type == "CAMERA"]
    return next((o for o in cameras if is_built(o)), cameras[0] if cameras else None)


# ------------------------------------------------------------------------------------------- writing back

def _rows(matrix) -> list[list[float]]:
    return [[float(matrix[i][j]) for j in range(3)] for i in range(3)]


def _close(a, b) -> bool:
    """Equal within the tolerances above, element by element (numbers or nested lists of numbers)."""
    try:
        flat_a = [float(x) for x in _flatten(a)]
        flat_b = [float(x) for x in _flatten(b)]
    except (TypeError, ValueError):
        return False
    return len(flat_a) == len(flat_b) and all(abs(x - y) <= max(ABS_TOL, REL_TOL * abs(y))
                                              for x, y in zip(flat_a, flat_b))


def angle_delta_deg(new: float, old: float) -> float:
    """`new - old` in degrees, wrapped into [-180, 180): the same orientation gives 0 whatever turn it is written
    in (Blender reads a yaw of 261.3 back as -98.7)."""
    return (float(new) - float(old) + 180.0) % 360.0 - 180.0


def _flatten(value):
    if isinstance(value, (list, tuple)):
        for item in value:
            yield from _flatten(item)
    else:
        yield value


_MISSING = object()


def _set(entry, key: str, value, changes: list[str], what: str, default=_MISSING) -> None:
    """Set field `key` of a record to `value` when it differs from what the entry says (or, for a field the entry
    leaves out, from the builder's `default` for it), and note the change."""
    current = getattr(entry, key)
    if current is None:
        current = default
    if current is _MISSING or not _close(current, value):
        setattr(entry, key, value)
        changes.append(f"{what}: {key}")


def _set_angle(entry, key: str, value_deg: float, changes: list[str], what: str, default: float = 0.0) -> None:
    """Like `_set` for an angle in degrees: compared modulo 360, and a changed angle is written next to the old
    one (261.3 turned by 10 degrees is written as 271.3, not -88.7), so scene.json keeps its own convention."""
    current = getattr(entry, key)
    current = default if current is None else float(current)
    delta = angle_delta_deg(value_deg, current)
    if abs(delta) > ANGLE_TOL_DEG:
        setattr(entry, key, current + delta)
        changes.append(f"{what}: {key}")


def collect_edits(coll: bpy.types.Collection, scene: dict) -> tuple[dict, list[str]]:
    """scene.json updated with the reconstruction's current Blender state, and a list of what changed.

    Written back: the camera's pose and field of view; each object's pose and swapped asset; each light's pose,
    power, colour and size (lights deleted in Blender are dropped, lights added to the collection are added);
    an unnamed furniture proposal the artist confirmed; swapped materials, the Base Color / Roughness / Metallic of principled ones and the parameter values of
    procedural ones. Not written back: room faces moved by hand (the room is a box: re-run the room stage instead)
    and procedural node trees whose nodes were added or removed."""
    data = SceneData.from_dict(scene)  # validated, and a copy: the caller's dict is left as it was
    changes: list[str] = []
    bpy.context.view_layer.update()  # matrix_world lags behind edits made from Python until an update

    cam_obj = reconstruction_camera(coll)
    if cam_obj is not None:
        cam = data.camera
        m = cam_obj.matrix_world.normalized()
        _set(cam, "position", [float(v) for v in m.translation], changes, "camera")
        _set(cam, "rotation", _rows(m.to_3x3()), changes, "camera")
        if cam_obj.data.sensor_fit == "VERTICAL":
            _set(cam, "fov_y_deg", math.degrees(cam_obj.data.angle_y), changes, "camera")

    kept_objects = []
    for i, spec in enumerate(data.objects):
        root = find_object(coll, spec.name)
        if root is None:  # deleted in Blender: dropped, and its segment is not reconstructed again by Refine
            changes.append(f"object {spec.name}: dropped")
            drop_object(data, spec)
            continue
        kept_objects.append(i)
        chosen = root.get(PROP_CHOSEN)
        if isinstance(chosen, int) and chosen != chosen_index(spec):
            spec = data.objects[i] = with_object_candidate(spec, chosen)
            changes.append(f"object {spec.name}: candidate {chosen}")
        loc, rot, scale = root.matrix_world.decompose()
        what = f"object {spec.name}"
        _set(spec, "location", [float(v) for v in loc], changes, what)
        _set(spec, "scale", [float(v) for v in scale], changes, what)
        _set_angle(spec, "yaw_deg", math.degrees(rot.to_euler("XYZ").z), changes, what)
        if spec.rotation is not None:  # an entry that records its full rotation keeps it up to date
            _set(spec, "rotation", _rows(rot.to_matrix()), changes, what)
        if spec.proposal and not root.get(PROP_PROPOSAL, True):  # confirmed in the panel
            spec.proposal = False
            changes.append(f"{what}: confirmed")

    data.objects = [data.objects[i] for i in kept_objects]

    kept_lights = []
    matched = set()
    for spec in data.lights:
        obj = find_light(coll, spec.name)
        if obj is None:
            changes.append(f"light {spec.name}: removed")
            continue
        matched.add(obj.name)
        before = len(changes)
        _write_light(obj, spec, changes)
        _write_lock(obj, spec, len(changes) > before, changes, f"light {spec.name}")
        kept_lights.append(spec)
    for obj in coll.all_objects:
        if obj.type == "LIGHT" and obj.name not in matched and obj.data.type in ("AREA", "POINT", "SPOT", "SUN"):
            spec = Light(obj.name, obj.data.type.lower(), [0.0, 0.0, 0.0])
            _write_light(obj, spec, [])
            _write_lock(obj, spec, True, [], "")  # the artist's own light: the pipeline leaves it as it is
            kept_lights.append(spec)
            changes.append(f"light {obj.name}: added")
    data.lights = kept_lights

    for name, spec in list(data.materials.items()):
        mat = find_material(coll, data, name)
        if mat is None:
            continue
        before = len(changes)
        chosen = mat.get(PROP_CHOSEN)
        if isinstance(chosen, int) and chosen != chosen_index(spec):
            spec = data.materials[name] = with_material_candidate(spec, chosen)
            changes.append(f"material {name}: candidate {chosen}")
        if spec.type == "principled" and mat.node_tree is not None:
            bsdf = next((n for n in mat.node_tree.nodes if n.bl_idname == "ShaderNodeBsdfPrincipled"), None)
            if bsdf is not None:
                what = f"material {name}"
                _set(spec, "base_color", [float(v) for v in bsdf.inputs["Base Color"].default_value[:3]],
                     changes, what)
                # Defaults as in builders/principled.py.
                _set(spec, "roughness", float(bsdf.inputs["Roughness"].default_value), changes, what,
                     DEFAULT_ROUGHNESS)
                _set(spec, "metallic", float(bsdf.inputs["Metallic"].default_value), changes, what,
                     DEFAULT_METALLIC)
        elif spec.type == "graph" and mat.node_tree is not None:
            _write_graph_values(mat, spec, changes, f"material {name}")
        # A swapped candidate is a choice, not a value to keep: the stage may still fit the new material.
        edited = any(not c.endswith(f": candidate {chosen}") for c in changes[before:])
        _write_lock(mat, spec, edited, changes, f"material {name}")
    return data.to_dict(), changes


def _write_lock(idblock, spec, edited: bool, changes: list[str], what: str) -> None:
    """The item's lock into scene.json: the artist's toggle (`photo2scene_locked` on the light object or the
    material, shown in the add-on's panel), switched on when this write-back finds an edit to the item, so Refine
    keeps what the artist set. Unlocking it in the panel lets Refine fit the item again."""
    flag = idblock.get(PROP_LOCKED)
    locked = bool(flag) if flag is not None else bool(spec.locked)
    if edited and not locked:
        locked = True
        idblock[PROP_LOCKED] = True
        changes.append(f"{what}: locked (edited in Blender)")
    if bool(spec.locked) != locked:
        if not edited:
            changes.append(f"{what}: {'locked' if locked else 'unlocked'}")
        spec.locked = True if locked else None


def _write_graph_values(mat: bpy.types.Material, spec: MaterialEntry, changes: list[str], what: str) -> None:
    """Parameter values the user edited in a procedural node tree: the sockets and ramp stops bound to the graph's
    parameters, read back through the graph the builder stored on the material (`material_to_graph`)."""
    import json

    from .builders.material import GRAPH_PROP, UV_NODE, UnsupportedMaterialError, material_to_graph

    if GRAPH_PROP not in mat.keys():
        return
    stored = json.loads(mat[GRAPH_PROP]).get("params", {})
    try:
        edited = material_to_graph(mat)["params"]
    except UnsupportedMaterialError as exc:
        changes.append(f"{what}: not written back ({exc})")
        return
    if stored and not edited:
        changes.append(f"{what}: nodes were added or removed, so its parameters are not written back")
        return
    values = dict(spec.values or {})
    moved = [k for k, p in edited.items()
             if k in stored and not _close(values.get(k, stored[k]["default"]), p["default"])]
    for key in moved:
        values[key] = edited[key]["default"]
    if moved:
        spec.values = values
        changes.append(f"{what}: {', '.join(sorted(moved))}")
    uv = mat.node_tree.nodes.get(UV_NODE)  # the stage's texture transform, when it is not the identity
    if uv is not None and uv.bl_idname == "ShaderNodeMapping":
        _set(spec, "uv_scale", float(uv.inputs["Scale"].default_value[0]), changes, what, 1.0)
        _set_angle(spec, "uv_rotation_deg", math.degrees(float(uv.inputs["Rotation"].default_value[2])), changes,
                   what)


def _write_light(obj: bpy.types.Object, spec: Light, changes: list[str]) -> None:
    what = f"light {spec.name}"
    m = obj.matrix_world.normalized()
    _set(spec, "position", [float(v) for v in m.translation], changes, what)
    _set(spec, "rotation", _rows(m.to_3x3()), changes, what)
    _set(spec, "power_w", float(obj.data.energy), changes, what)
    _set(spec, "color", [float(c) for c in obj.data.color], changes, what, [1.0, 1.0, 1.0])
    if obj.data.type == "AREA":
        size = [float(obj.data.size), float(obj.data.size_y if obj.data.shape in ("RECTANGLE", "ELLIPSE")
                                            else obj.data.size)]
        _set(spec, "size", size, changes, what)
