"""The whole bundle -> Blender: one collection per reconstruction, colour management for photo comparison.

`build_bundle` is the one entry point used by the add-on's import operator and the pipeline's .blend export.
Re-importing the same reconstruction replaces its collection.
"""

from __future__ import annotations

import bpy

from ..bundle import Bundle
from ..scene_format import PROP_BUNDLE, PROP_MATERIAL, MaterialEntry
from .camera import build_camera
from .light import build_light
from .object import build_object
from .principled import build_principled
from .room import build_room


def set_colour_management(scene: bpy.types.Scene) -> None:
    """Standard view transform (not AgX): renders then compare with the photo and the Mitsuba render."""
    scene.display_settings.display_device = "sRGB"
    scene.view_settings.view_transform = "Standard"
    scene.view_settings.look = "None"
    scene.view_settings.exposure = 0.0
    scene.view_settings.gamma = 1.0
    scene.render.engine = "CYCLES"


def remove_collection(name: str) -> None:
    """Delete a reconstruction's collection and the objects in it (and data left without users)."""
    coll = bpy.data.collections.get(name)
    if coll is None:
        return
    objects = list(coll.all_objects)
    data = {obj.data for obj in objects if obj.data is not None}
    materials = {slot for d in data if hasattr(d, "materials") for slot in d.materials if slot is not None}
    materials |= {s.material for o in objects for s in o.material_slots if s.link == "OBJECT" and s.material}
    images = {bg.image for d in data if hasattr(d, "background_images") for bg in d.background_images if bg.image}
    bpy.data.batch_remove(objects)
    bpy.data.batch_remove([d for d in data if d.users == 0])
    bpy.data.batch_remove(list(coll.children_recursive) + [coll])
    # What only this reconstruction used (so re-importing does not pile up room_wall.001, ...).
    bpy.data.batch_remove([m for m in materials if m.users == 0])
    bpy.data.batch_remove([i for i in images if i.users == 0])


class MaterialEntryError(ValueError):
    """A scene.json material entry (or candidate) that cannot be built; the message says why."""


def build_material_entry(name: str, spec: MaterialEntry, bundle: Bundle) -> bpy.types.Material:
    """A material from a scene.json entry or material candidate: plain Principled, or a procedural graph
    (materials_db) whose graph JSON travels in the bundle (`graph_file`) with parameter `values` in real units.
    Tagged with its scene.json name."""
    import json

    from .material import build_material

    kind = spec.type
    if kind == "principled":
        mat = build_principled(name, spec)
    elif kind == "graph":
        if not spec.graph_file or not bundle.path(spec.graph_file).is_file():
            raise MaterialEntryError(f"material {name!r}: graph file {spec.graph_file!r} is not in the bundle")
        path = bundle.path(spec.graph_file)
        mat = build_material(json.loads(path.read_text(encoding="utf-8")), name, spec.values)
    else:
        raise MaterialEntryError(f"material {name!r} has unknown type {kind!r} (expected 'principled' or 'graph')")
    mat[PROP_MATERIAL] = name  # scene.json key (Blender may rename to name.001)
    return mat


def build_materials(bundle: Bundle) -> dict[str, bpy.types.Material]:
    """Every material of scene.json (`build_material_entry`)."""
    return {name: build_material_entry(name, spec, bundle) for name, spec in bundle.data.materials.items()}


def build_bundle(bundle: Bundle, name: str | None = None) -> bpy.types.Collection:
    """Build camera, room, objects, lights and materials of `bundle` into a fresh collection."""
    name = name or f"photo2scene {bundle.root.name}"
    remove_collection(name)
    scene = bpy.context.scene
    coll = bpy.data.collections.new(name)
    scene.collection.children.link(coll)
    coll[PROP_BUNDLE] = str(bundle.root)
    data = bundle.data
    photo = str(bundle.path(data.photo)) if data.photo else None
    build_camera(data.camera, coll, photo)
    materials = build_materials(bundle)
    if data.room is not None:
        build_room(data.room, materials, coll)
    for obj in data.objects:
        build_object(obj, bundle, materials, coll)
    for light in data.lights:
        build_light(light, coll)
    set_colour_management(scene)
    return coll
