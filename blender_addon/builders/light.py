"""Lights: scene.json lights (power in watts, Blender's units) -> Blender light objects."""

from __future__ import annotations

import bpy
from mathutils import Matrix

from ..scene_format import PROP_LIGHT, PROP_LOCKED, Light


def build_light(spec: Light, collection: bpy.types.Collection, over_opening: bool = False) -> bpy.types.Object:
    """A Blender light for `spec`. `over_opening`: a window panel placed by the light stage in front of a window
    opening, whose backdrop already shows the outdoors to the camera (the panel is then hidden from the camera)."""
    kind = spec.type.upper()
    name = spec.name or "Light"
    data = bpy.data.lights.new(name, kind)
    data.energy = float(spec.power_w)
    data.color = spec.color[:3]
    if kind == "AREA":
        data.shape = "RECTANGLE"
        data.size, data.size_y = spec.size[:2]
    elif kind == "POINT":  # a sphere of light when it has a radius (a lamp's bulb); 0: a true point
        data.shadow_soft_size = float(spec.radius or 0.0)
        data.use_soft_falloff = False  # Cycles' default softens the falloff near the sphere; Mitsuba's does not
    elif kind == "SUN":  # strength in W/m^2; a point in the sky, as Mitsuba's directional emitter (hard shadows)
        data.angle = 0.0
    obj = bpy.data.objects.new(name, data)
    obj[PROP_LIGHT] = name  # scene.json key, for Refine (names may get .001)
    if spec.role:  # what the light stands for ("Window", "Ceiling lamp"), shown in the Outliner's custom props
        obj["photo2scene_role"] = spec.role
    # A window glows in the photo; lamps do not. Cycles lets a camera ray pass through a visible light and adds
    # it, whereas Mitsuba's panel hides what is behind it: over an opening's backdrop the panel would count the
    # outdoors twice (2.2x too bright on the benchmark's room_000), so there the backdrop alone is seen.
    obj.visible_camera = bool(spec.visible_camera) and not over_opening
    rot, pos = spec.rotation, spec.position
    obj.matrix_world = Matrix([[*rot[0], pos[0]], [*rot[1], pos[1]], [*rot[2], pos[2]], [0, 0, 0, 1]])
    _tag_light(obj, spec)
    collection.objects.link(obj)
    return obj


def _tag_light(obj: bpy.types.Object, spec: Light) -> None:
    """The artist's lock (shown in the add-on's panel; Refine keeps a locked light) and the fills' colour
    temperature, for reference (the colour itself is set as RGB, the value the pipeline rendered)."""
    obj[PROP_LOCKED] = bool(spec.locked)
    if spec.temperature_k is not None:
        obj["photo2scene_temperature_k"] = float(spec.temperature_k)
