"""The whole bundle -> Blender: one collection per reconstruction, with sub-collections Camera / Room / Furniture /
Lights, and (when asked) the render settings that make a render comparable with the photo.

`build_bundle` is the one entry point used by the add-on's import operator and the pipeline's .blend export.
Re-importing the same reconstruction replaces what the import built (objects tagged `photo2scene_built`) and keeps
what the artist added to its collections.
"""

from __future__ import annotations

import bpy

from ..bundle import Bundle
from ..scene_format import (PROP_ASSET, PROP_BUILT, PROP_BUNDLE, PROP_FACE, PROP_GROUP, PROP_LIGHT, PROP_LOCKED,
                            PROP_MATERIAL, PROP_OBJECT, PROP_PART, Camera, MaterialEntry, exposure_scale)
from .camera import build_camera
from .light import build_light
from .object import build_object
from .principled import build_principled
from .room import build_room, fitted_room_materials

# Sub-collections of a reconstruction, in the order the Outliner shows them: kind -> name.
GROUPS = {"camera": "Camera", "room": "Room", "furniture": "Furniture", "lights": "Lights"}

# What the import does to the scene's render settings (the import option "Render Settings"):
# PHOTO (default): the photo's resolution, the Standard view transform and the reconstruction's World; the render
#   engine and its samples stay as they are;
# CYCLES: that and Cycles with CYCLES_SAMPLES samples and the denoiser, for a quick look that matches the photo;
# KEEP: no render setting is touched.
RENDER_SETTINGS = ("PHOTO", "CYCLES", "KEEP")
CYCLES_SAMPLES = 128
WORLD_NAME = "photo2scene World"


def photo_name(bundle: Bundle) -> str:
    """The photo a bundle was made from, as the add-on names things after it: the bundle folder is named after the
    photo (`room.bundle`, `room-2.bundle` for a second run; jobs.unique_bundle_path), scene.json's `photo` is
    always `photo.png`."""
    name = bundle.root.name
    return name[: -len(".bundle")] if name.endswith(".bundle") and len(name) > len(".bundle") else name


def group(coll: bpy.types.Collection, kind: str) -> bpy.types.Collection:
    """The reconstruction's sub-collection for `kind` (a key of GROUPS), made on first use. Found by its tag, so
    a renamed sub-collection, or a second reconstruction's `Room.001`, is still found."""
    found = next((c for c in coll.children if c.get(PROP_GROUP) == kind), None)
    if found is None:
        found = bpy.data.collections.new(GROUPS[kind])
        found[PROP_GROUP] = kind
        coll.children.link(found)
    return found


def reconstruction_world() -> bpy.types.World:
    """The World of reconstructions: black. The pipeline fits the lights and materials with no light from outside
    the room (its Mitsuba scene has no environment), so any other world would add light that the fit did not
    account for wherever the room box is open or a wall is hidden. Inside the closed box the world is not seen."""
    world = bpy.data.worlds.get(WORLD_NAME)
    if world is None:
        world = bpy.data.worlds.new(WORLD_NAME)
        world.color = (0.0, 0.0, 0.0)  # the viewport's world colour
        background = next((n for n in world.node_tree.nodes if n.bl_idname == "ShaderNodeBackground"), None)
        if background is not None:  # Blender 5.0: a new world has a node tree with a Background node
            background.inputs["Color"].default_value = (0.0, 0.0, 0.0, 1.0)
    return world


def render_resolution(camera: Camera, photo_size: tuple[int, int] | None = None) -> tuple[int, int]:
    """The render size: the photo's own (the bundle keeps it at full resolution) when its aspect is the camera's,
    else the camera's working resolution (an old bundle, or a photo replaced by hand with another shape)."""
    width, height = int(camera.width), int(camera.height)
    if photo_size and min(photo_size) > 0:
        pw, ph = int(photo_size[0]), int(photo_size[1])
        # Within one working-resolution pixel: the working size is the photo's, rounded.
        if abs(pw / ph - width / height) <= 1.0 / min(width, height) + 1e-9:
            return pw, ph
    return width, height


def apply_render_settings(scene: bpy.types.Scene, camera: Camera, mode: str = "PHOTO",
                          photo_size: tuple[int, int] | None = None) -> None:
    """The render settings of `mode` (see RENDER_SETTINGS); the resolution is `render_resolution`'s."""
    if mode not in RENDER_SETTINGS:
        raise ValueError(f"render settings {mode!r}: expected one of {', '.join(RENDER_SETTINGS)}")
    if mode == "KEEP":
        return
    r = scene.render
    r.resolution_x, r.resolution_y = render_resolution(camera, photo_size)
    r.resolution_percentage = 100
    r.pixel_aspect_x = r.pixel_aspect_y = 1.0
    # Standard view transform (not AgX): renders then compare with the photo and the Mitsuba render.
    scene.display_settings.display_device = "sRGB"
    scene.view_settings.view_transform = "Standard"
    scene.view_settings.look = "None"
    scene.view_settings.exposure = 0.0
    scene.view_settings.gamma = 1.0
    # The lights' watts are scene units; the film's exposure brings the render back to the photo's brightness
    # (Cycles' Film > Exposure scales the rendered values themselves, EXR output included).
    scene.cycles.film_exposure = 1.0 / exposure_scale(camera)
    scene.world = reconstruction_world()
    if mode == "CYCLES":
        r.engine = "CYCLES"
        scene.cycles.samples = CYCLES_SAMPLES
        scene.cycles.use_denoising = True


def mark_built(obj: bpy.types.Object) -> None:
    """Tag `obj` as the pipeline's (sync.is_built): a re-import replaces it. Call once it has its final name."""
    obj[PROP_BUILT] = obj.name


def _owned(obj: bpy.types.Object, light_names: set[str], tagged: dict[str, list]) -> bool:
    """Whether a re-import replaces `obj`.

    - An import built it (tag `photo2scene_built` = the name it was built under, `tagged`: tag -> objects). A copy
      made with Duplicate carries the same tag under another name and is the artist's; an object renamed by the
      artist is still the pipeline's when it is the only one with its tag.
    - Imports made before that tag marked only roots, parts, faces and lights.
    - A light the artist added that Refine has since written into scene.json: the import builds it from there."""
    from ..edits import base_name
    from ..sync import is_built

    if PROP_BUILT in obj:
        same = tagged.get(obj[PROP_BUILT], [])
        return is_built(obj) or (len(same) == 1 and not any(is_built(o) for o in same))
    if any(key in obj for key in (PROP_OBJECT, PROP_ASSET, PROP_PART, PROP_FACE, PROP_LIGHT)):
        return True
    return obj.type == "LIGHT" and base_name(obj.name) in light_names


def clear_built(coll: bpy.types.Collection, light_names: set[str] = frozenset()) -> None:
    """Delete what an import built in a reconstruction (and data only it used); keep what the artist added. An
    added object parented to a deleted one keeps its place in the world."""
    tagged: dict[str, list] = {}
    for obj in coll.all_objects:
        if PROP_BUILT in obj:
            tagged.setdefault(str(obj[PROP_BUILT]), []).append(obj)
    objects = [o for o in coll.all_objects if _owned(o, light_names, tagged)]
    doomed = set(objects)
    for obj in coll.all_objects:
        if obj not in doomed and obj.parent in doomed:
            world = obj.matrix_world.copy()
            obj.parent = None
            obj.matrix_world = world
    _remove_objects(objects)


def _remove_objects(objects: list[bpy.types.Object]) -> None:
    """Delete objects, then their data, materials and background images once nothing else uses them (so
    re-importing does not pile up room_wall.001, ...)."""
    data = {obj.data for obj in objects if obj.data is not None}
    materials = {slot for d in data if hasattr(d, "materials") for slot in d.materials if slot is not None}
    materials |= {s.material for o in objects for s in o.material_slots if s.link == "OBJECT" and s.material}
    images = {bg.image for d in data if hasattr(d, "background_images") for bg in d.background_images if bg.image}
    bpy.data.batch_remove(objects)
    bpy.data.batch_remove([d for d in data if d.users == 0])
    bpy.data.batch_remove([m for m in materials if m.users == 0])
    bpy.data.batch_remove([i for i in images if i.users == 0])


def remove_collection(name: str) -> None:
    """Delete a reconstruction's collection, its sub-collections and every object in them (and data left without
    users)."""
    coll = bpy.data.collections.get(name)
    if coll is None:
        return
    _remove_objects(list(coll.all_objects))
    bpy.data.batch_remove(list(coll.children_recursive) + [coll])


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
        picture = (spec.textures or {}).get("emission") if spec.emission else None
        if picture and not bundle.path(picture).is_file():
            raise MaterialEntryError(f"material {name!r}: emission picture {picture!r} is not in the bundle")
        mat = build_principled(name, spec, bundle.path(picture) if picture else None)
    elif kind == "graph":
        if not spec.graph_file or not bundle.path(spec.graph_file).is_file():
            raise MaterialEntryError(f"material {name!r}: graph file {spec.graph_file!r} is not in the bundle")
        path = bundle.path(spec.graph_file)
        mat = build_material(json.loads(path.read_text(encoding="utf-8")), name, spec.values)
    else:
        raise MaterialEntryError(f"material {name!r} has unknown type {kind!r} (expected 'principled' or 'graph')")
    mat[PROP_MATERIAL] = name  # scene.json key (Blender may rename to name.001)
    mat[PROP_LOCKED] = bool(spec.locked)  # the artist's lock: Refine keeps a locked material
    _expose_emission(mat, spec, exposure_scale(bundle.data.camera))
    return mat


def _expose_emission(mat: bpy.types.Material, spec: MaterialEntry, scale: float) -> None:
    """An emitting part's `emission` is the radiance the photo shows (render units): in scene units, under the
    film's exposure, its strength is the camera's exposure scale."""
    if not spec.emission or scale == 1.0 or mat.node_tree is None:
        return
    for node in mat.node_tree.nodes:
        if node.bl_idname == "ShaderNodeBsdfPrincipled":
            node.inputs["Emission Strength"].default_value = float(scale)


def build_materials(bundle: Bundle) -> dict[str, bpy.types.Material]:
    """Every material of scene.json (`build_material_entry`)."""
    return {name: build_material_entry(name, spec, bundle) for name, spec in bundle.data.materials.items()}


def build_bundle(bundle: Bundle, name: str | None = None, render_settings: str = "PHOTO") -> bpy.types.Collection:
    """Build camera, room, objects, lights and materials of `bundle` into its collection (sub-collections per
    kind), replacing what an earlier import of it built and keeping what the artist added. `render_settings`: see
    RENDER_SETTINGS. If a builder fails, what this call built is removed again and the error is raised."""
    if render_settings not in RENDER_SETTINGS:
        raise ValueError(f"render settings {render_settings!r}: expected one of {', '.join(RENDER_SETTINGS)}")
    name = name or f"photo2scene {bundle.root.name}"
    scene = bpy.context.scene
    data = bundle.data
    coll = bpy.data.collections.get(name)
    created = coll is None
    if created:
        coll = bpy.data.collections.new(name)
    if coll not in scene.collection.children_recursive:
        scene.collection.children.link(coll)
    clear_built(coll, {light.name for light in data.lights})
    coll[PROP_BUNDLE] = str(bundle.root)
    kept = set(coll.all_objects)  # the artist's
    try:
        photo = str(bundle.path(data.photo)) if data.photo else None
        camera = build_camera(data.camera, group(coll, "camera"), photo, name=f"Camera {photo_name(bundle)}")
        backgrounds = camera.data.background_images
        photo_size = tuple(backgrounds[0].image.size) if photo and len(backgrounds) else None
        materials = build_materials(bundle)
        if data.room is not None:
            faces, notes = fitted_room_materials(data.room, data.materials, data.stages)
            build_room(data.room, materials, group(coll, "room"), faces, notes)
        for obj in data.objects:
            build_object(obj, bundle, materials, group(coll, "furniture"))
        windows = data.room is not None and any(o.kind == "window" for o in data.room.openings or [])
        for light in data.lights:
            build_light(light, group(coll, "lights"), over_opening=windows and light.source == "window")
        if data.room is not None:  # a placeholder no face uses any more is not left behind in the file
            unused = {data.room.materials[f] for f in notes} - set(faces.values())
            bpy.data.batch_remove([materials[n] for n in unused if n in materials and materials[n].users == 0])
    except Exception:
        if created:
            remove_collection(coll.name)  # no half-built reconstruction left behind
        else:
            _remove_objects([o for o in coll.all_objects if o not in kept])
        raise
    for obj in coll.all_objects:
        if obj not in kept:
            mark_built(obj)
    apply_render_settings(scene, data.camera, render_settings, photo_size)
    return coll
