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
from .scene import MaterialEntryError, build_material_entry, group, mark_built


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
        else:  # still on something outside the reconstruction: it keeps the old material under another name
            old.name = f"{name} (before swap)"
    new.name = name  # take the plain name back (no `.001`) once the old one is out of the way
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
    # The new object goes where the old one is (the artist may have moved it to a collection of their own).
    target = old.users_collection[0] if old is not None and old.users_collection else group(coll, "furniture")
    parked = _park([old, *old.children_recursive]) if old is not None else {}  # its names are the new one's
    try:
        new = build_object(new_spec, bundle, materials, target)
    except Exception:
        _unpark(parked)
        raise
    if object_name(new) is None:
        new[PROP_OBJECT] = name
    new[PROP_CHOSEN] = index
    if old is not None:
        new.matrix_world = old.matrix_world.copy()
        remove_object_tree(old)
    for obj in (new, *new.children_recursive):
        mark_built(obj)  # the pipeline's, as if imported: a re-import replaces it
    return new, True


def _park(objects: list[bpy.types.Object]) -> dict:
    """Rename objects and their (local) data out of the way, so what replaces them gets their names without
    `.001`; returns what `_unpark` needs to give the names back."""
    names = {}
    for item in [*objects, *{o.data for o in objects if o.data is not None and o.data.library is None}]:
        if item not in names:
            names[item] = item.name
            item.name = f"{item.name} (replaced)"
    return names


def _unpark(names: dict) -> None:
    for item, name in names.items():
        item.name = name


def remove_object_tree(root: bpy.types.Object) -> None:
    """Delete an object, its children, and their data left without users."""
    objects = [root, *root.children_recursive]
    data = {o.data for o in objects if o.data is not None}
    bpy.data.batch_remove(objects)
    bpy.data.batch_remove([d for d in data if d.users == 0])
