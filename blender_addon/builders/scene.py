"""The whole bundle -> Blender: one collection per reconstruction, colour management for photo comparison.

`build_bundle` is the one entry point used by the add-on's import operator and the pipeline's .blend export.
Re-importing the same reconstruction replaces its collection.
"""

from __future__ import annotations

import bpy

from ..bundle import Bundle
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


def build_materials(bundle: Bundle) -> dict[str, bpy.types.Material]:
    """Every material of scene.json: plain Principled ones, and procedural graphs (materials_db) whose graph JSON
    travels in the bundle (`graph_file`) with optimised parameter `values` in real units."""
    import json

    from .material import build_material

    materials = {}
    for name, spec in bundle.scene.get("materials", {}).items():
        if spec["type"] == "principled":
            mat = build_principled(name, spec)
        else:
            graph = json.loads(bundle.path(spec["graph_file"]).read_text(encoding="utf-8"))
            mat = build_material(graph, name, spec.get("values"))
            mat["photo2scene_material"] = name
        materials[name] = mat
    return materials


def build_bundle(bundle: Bundle, name: str | None = None) -> bpy.types.Collection:
    """Build camera, room, objects, lights and materials of `bundle` into a fresh collection."""
    name = name or f"photo2scene {bundle.root.name}"
    remove_collection(name)
    scene = bpy.context.scene
    coll = bpy.data.collections.new(name)
    scene.collection.children.link(coll)
    coll["photo2scene_bundle"] = str(bundle.root)
    spec = bundle.scene
    photo = str(bundle.path(spec["photo"])) if spec.get("photo") else None
    build_camera(spec["camera"], coll, photo)
    materials = build_materials(bundle)
    if spec.get("room"):
        build_room(spec["room"], materials, coll)
    for obj in spec.get("objects", []):
        build_object(obj, bundle, materials, coll)
    for light in spec.get("lights", []):
        build_light(light, coll)
    set_colour_management(scene)
    return coll
