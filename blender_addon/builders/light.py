"""Lights: scene.json lights (power in watts, Blender's units) -> Blender light objects."""

from __future__ import annotations

import bpy
from mathutils import Matrix


def build_light(spec: dict, collection: bpy.types.Collection) -> bpy.types.Object:
    kind = spec["type"].upper()
    data = bpy.data.lights.new(spec.get("name", "Light"), kind)
    data.energy = float(spec["power_w"])
    data.color = spec.get("color", [1.0, 1.0, 1.0])[:3]
    if kind == "AREA":
        data.shape = "RECTANGLE"
        data.size, data.size_y = spec.get("size", [1.0, 1.0])[:2]
    obj = bpy.data.objects.new(spec.get("name", "Light"), data)
    obj["photo2scene_light"] = spec.get("name", "Light")  # scene.json key, for Refine (names may get .001)
    obj.visible_camera = bool(spec.get("visible_camera", False))  # a window glows in the photo; lamps do not
    rot, pos = spec.get("rotation", [[1, 0, 0], [0, 1, 0], [0, 0, 1]]), spec["position"]
    obj.matrix_world = Matrix([[*rot[0], pos[0]], [*rot[1], pos[1]], [*rot[2], pos[2]], [0, 0, 0, 1]])
    collection.objects.link(obj)
    return obj
