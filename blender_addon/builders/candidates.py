"""Swapping an object's asset or a material for one of its top-k candidates, in place in a reconstruction.

Only Blender data changes (so the swap is undoable); the choice is recorded as `photo2scene_chosen` on the object
root or material and reaches scene.json when the user refines (sync.collect_edits).
"""

from __future__ import annotations

import bpy

from ..bundle import Bundle
from ..scene_format import ASSET_FIELDS, PROP_CHOSEN, PROP_OBJECT
from ..edits import material_spec, object_spec, with_material_candidate, with_object_candidate
from ..sync import find_material, find_object
from .scene import MaterialEntryError, build_material_entry


class SwapError(RuntimeError):
    """The swap cannot be made; the message says why."""


def swap_material(coll: bpy.types.Collection, bundle: Bundle, name: str, index: int) -> bpy.types.Material:
    """Replace material `name` everywhere in the reconstruction by its candidate `index`."""
    scene = bundle.data
    spec = material_spec(scene, name)
    if spec is None:
        raise SwapError(f"scene.json has no material {name!r}")
    try:
        new_spec = with_material_candidate(spec, index)
    except IndexError as exc:
        raise SwapError(str(exc)) from exc
    old = find_material(coll, scene, name)
    try:
        new = build_material_entry(name, new_spec, bundle)
    except MaterialEntryError as exc:
        raise SwapError(str(exc)) from exc
    new[PROP_CHOSEN] = index
    if old is not None:
        for obj in coll.all_objects:
            for slot in getattr(obj, "material_slots", []):
                if slot.material == old:
                    slot.material = new
        if old.users == 0:
            bpy.data.materials.remove(old)
    new.name = name  # take the plain name back once the old one is gone
    return new


def swap_object(coll: bpy.types.Collection, bundle: Bundle, name: str, index: int) -> tuple[bpy.types.Object, bool]:
    """Replace object `name`'s asset by its candidate `index`, keeping the object's current transform.

    Returns (root object, rebuilt). A candidate with `parts` (meshes in the bundle), or one from a Blender asset
    library whose .blend file is on this machine, is built at once by the object builder the import uses
    (builders/object.py: appended or linked from the library, else the bundle's meshes) and replaces the old object
    and its children; any other is only recorded on the object (`photo2scene_chosen`) for the object stage to load
    on "Refine"."""
    from ..sync import object_name

    scene = bundle.data
    spec = object_spec(scene, name)
    if spec is None:
        raise SwapError(f"scene.json has no object {name!r}")
    try:
        new_spec = with_object_candidate(spec, index)
    except IndexError as exc:
        raise SwapError(str(exc)) from exc
    from .object import build_object, default_asset_mode, library_asset

    candidate = spec.candidates[index]
    if candidate.asset_source is None:  # the entry's own source fields would name the old asset
        for key in ASSET_FIELDS:  # where the entry's asset comes from: not the candidate's
            setattr(new_spec, key, None)
    source = library_asset(new_spec)
    from_library = source is not None and source[0].is_file() and default_asset_mode() != "bundle"
    if from_library and not candidate.parts and candidate.asset_id != spec.asset_id:
        new_spec.parts = []  # the entry's parts are another asset's meshes
    bpy.context.view_layer.update()  # matrix_world lags behind edits made from Python until an update
    old = find_object(coll, name)
    if not candidate.parts and not from_library:
        if old is None:
            raise SwapError(f"object {name!r} is not in the scene; import the bundle again")
        old[PROP_CHOSEN] = index
        return old, False

    materials = {}
    for mat_name in scene.materials:
        mat = find_material(coll, scene, mat_name)
        if mat is not None:
            materials[mat_name] = mat
    new = build_object(new_spec, bundle, materials, coll)
    if object_name(new) is None:
        new[PROP_OBJECT] = name
    new[PROP_CHOSEN] = index
    if old is not None:
        new.matrix_world = old.matrix_world.copy()
        remove_object_tree(old)
    new.name = name
    return new, True


def remove_object_tree(root: bpy.types.Object) -> None:
    """Delete an object, its children, and their data left without users."""
    objects = [root, *root.children_recursive]
    data = {o.data for o in objects if o.data is not None}
    bpy.data.batch_remove(objects)
    bpy.data.batch_remove([d for d in data if d.users == 0])
