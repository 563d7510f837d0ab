"""Objects: each reconstructed piece of furniture as an empty (its pose) with its geometry as children.

The empty carries location, yaw and scale, so moving the empty in Blender moves the whole piece and "Refine" can
read the pose back. The retrieval candidates are kept as a JSON custom property for swapping.

Where the geometry comes from (`asset_mode`, the add-on preference "Library Assets"):

- **From its source**: when the object's asset comes from a Blender asset library (`asset_source == "blend"`) and
  that .blend file is on this machine, the asset's object (or the objects of its collection) is brought in with
  `bpy.data.libraries.load`:
  - `append` (default): local copies, whose mesh materials are replaced by our optimised ones;
  - `link`: each object becomes a local object that uses the library's (read-only) mesh, so the geometry follows
    the library file. Linked materials cannot be changed, so our optimised materials go on object-level material
    slots (`slot.link = "OBJECT"`), which take precedence over the linked mesh's own; the library file itself
    is never touched.
  The asset's objects are parented to the empty with `asset_to_canonical @ T(-origin) @ matrix_world`: the same
  placement the asset index used to make the bundle's OBJ copies (assets_index/sources/blend.py), so both ways
  give the same world-space geometry. Material parts are the asset's material slots: part `name` is the slot
  material's name in the library (`/` replaced by `_`), or the object's name for an empty slot.
- **From the bundle** otherwise (`bundle`, or any other source, or the .blend file or datablock is missing): one
  mesh child per material part from the bundle's OBJ copies, in the model's canonical frame (metres, Z up, origin
  at the bottom centre). A fallback is logged and noted on the root (`photo2scene_source_note`).

The root records where its geometry came from in `photo2scene_source` ("append", "link" or "bundle").
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path

import bpy
from mathutils import Matrix, Vector

from ..scene_format import PROP_ASSET, PROP_OBJECT, PROP_PART, PROP_PROPOSAL, Object, read_obj

log = logging.getLogger("photo2scene.addon")

ASSET_MODES = ("append", "link", "bundle")


SMOOTH_ANGLE_DEG = 30.0  # Blender's own default for "Shade Auto Smooth"


def mesh_from_obj(name: str, path: Path) -> bpy.types.Mesh:
    """A Blender mesh from a bundle OBJ (the shared reader: scene_format.read_obj), with its UVs if every face
    has them, smooth shaded by angle."""
    obj = read_obj(path.read_text(encoding="utf-8"), path.name)
    mesh = bpy.data.meshes.new(name)
    mesh.from_pydata(obj.vertices, [], obj.faces)
    if obj.has_uvs:
        layer = mesh.uv_layers.new(name="UVMap")
        loop = 0
        for fuv in obj.face_uvs:
            for index in fuv:
                layer.data[loop].uv = obj.uvs[index]
                loop += 1
    mesh.validate()
    # Smooth by angle, stored in the mesh (smooth faces, sharp_edge where faces meet at more than 30 degrees):
    # curved furniture looks smooth, a box keeps its edges, and it needs no operator or modifier asset, so it
    # works the same headless. "Shade Auto Smooth" in Blender swaps it for the adjustable modifier.
    mesh.shade_smooth()
    mesh.set_sharp_from_angle(angle=math.radians(SMOOTH_ANGLE_DEG))
    mesh.update()
    return mesh


def object_matrix(spec: Object) -> Matrix:
    """Location, yaw about +Z and (per-axis) scale of a scene.json object as a Blender matrix."""
    return Matrix(spec.matrix())


def default_asset_mode() -> str:
    """The add-on preference "Library Assets" when the add-on is enabled, else "append" (headless export)."""
    try:
        from ..preferences import get_prefs

        prefs = get_prefs()
    except Exception:  # noqa: BLE001 - builders also run without the add-on registered (pipeline export)
        prefs = None
    mode = getattr(prefs, "library_assets", "APPEND").lower() if prefs is not None else "append"
    return mode if mode in ASSET_MODES else "append"


def library_asset(spec: Object) -> tuple[Path, str, str] | None:
    """(the .blend file, "Object"/"Collection", datablock name) of an object whose asset comes from a Blender asset
    library, else None. The file may be missing: `build_object` checks."""
    if spec.asset_source != "blend" or not spec.asset_path:
        return None
    datablock, name = spec.asset_datablock, spec.asset_name
    if not (datablock and name):  # older entries: the id is blend:/abs/lib.blend#Object/Name
        tail = str(spec.asset_id or "").rpartition("#")[2]
        datablock, _, name = tail.partition("/")
    if datablock not in ("Object", "Collection") or not name:
        return None
    return Path(bpy.path.abspath(str(spec.asset_path))), datablock, name


def build_object(spec: Object, bundle, materials: dict, collection: bpy.types.Collection,
                 asset_mode: str | None = None) -> bpy.types.Object:
    """An empty named after the object, posed, with the asset's geometry as children and the parts' materials.

    `asset_mode`: "append" or "link" (bring a Blender asset library's asset in from its .blend file when there is
    one) or "bundle" (always the bundle's OBJ copies); None: the add-on's preference (append headless)."""
    root = bpy.data.objects.new(spec.name, None)
    root.empty_display_type = "CUBE"
    root.empty_display_size = 0.05
    root.matrix_world = object_matrix(spec)
    root[PROP_OBJECT] = spec.name  # scene.json key, for Refine and swaps
    root[PROP_ASSET] = spec.asset_id or ""
    if spec.proposal:
        root[PROP_PROPOSAL] = True  # the artist confirms it (panel), relabels it, or deletes it
    root["photo2scene_label"] = spec.label or ""
    root["photo2scene_candidates"] = json.dumps([c.to_dict() for c in spec.candidates])
    if spec.flags:  # low_mask_iou, proxy, parametric: shown in the Candidates panel
        root["photo2scene_flags"] = ", ".join(spec.flags)
    collection.objects.link(root)
    mode = (asset_mode or default_asset_mode()).lower()
    source = library_asset(spec)
    if source is not None and mode in ("append", "link"):
        try:
            _from_library(spec, source, mode == "link", root, materials, collection)
        except (LibraryAssetMissing, OSError) as exc:  # OSError: Blender cannot read the file
            note = f"object {spec.name}: {exc}; using the bundle's meshes"
            log.warning(note)
            root["photo2scene_source_note"] = note
        else:
            root["photo2scene_source"] = mode
            root["photo2scene_library"] = f"{source[0]}#{source[1]}/{source[2]}"
            return root
    _from_bundle(spec, bundle, root, materials, collection)
    root["photo2scene_source"] = "bundle"
    return root


def _from_bundle(spec: Object, bundle, root: bpy.types.Object, materials: dict,
                 collection: bpy.types.Collection) -> None:
    """One mesh child per material part, from the bundle's OBJ copies (canonical frame)."""
    for part in spec.parts:
        mesh = mesh_from_obj(f"{spec.name}.{part.name}", bundle.path(part.mesh))
        if part.material in materials:
            mesh.materials.append(materials[part.material])
        child = bpy.data.objects.new(mesh.name, mesh)
        child.parent = root
        child[PROP_PART] = part.name
        collection.objects.link(child)


class LibraryAssetMissing(RuntimeError):
    """The .blend file or the asset in it is not there (any more)."""


def _original_name(id_data) -> str:
    """A datablock's name in the library it came from: linked IDs keep it; appended ones may have been renamed
    (`.001`) and remember it in their weak library reference."""
    ref = getattr(id_data, "library_weak_reference", None)
    if id_data.library is None and ref is not None and ref.id_name:
        return ref.id_name[2:]
    return id_data.name


def _from_library(spec: Object, source: tuple[Path, str, str], link: bool, root: bpy.types.Object,
                  materials: dict, collection: bpy.types.Collection) -> list[bpy.types.Object]:
    """Append or link the asset, parent its objects to `root` in the canonical frame, assign part materials."""
    path, datablock, name = source
    if not path.is_file():
        raise LibraryAssetMissing(f"the asset library {path} is not on this machine")
    kind = "objects" if datablock == "Object" else "collections"
    before = {i.as_pointer() for i in getattr(bpy.data, kind)}
    with bpy.data.libraries.load(str(path), link=link, assets_only=True) as (src, dst):
        if name not in getattr(src, kind):
            raise LibraryAssetMissing(f"{path} has no {datablock.lower()} asset {name!r} any more")
        setattr(dst, kind, [name])
    item = getattr(dst, kind)[0]
    if item is None:
        raise LibraryAssetMissing(f"{path} has no {datablock.lower()} asset {name!r} any more")
    fresh = item.as_pointer() not in before  # linked data already in this file is shared, not removed after
    sources = [item] if datablock == "Object" else list(item.all_objects)
    world, origin = _evaluated_placement(item, datablock, sources)
    to_canonical = Matrix(spec.asset_to_canonical or Matrix.Identity(4))
    placement = to_canonical @ Matrix.Translation(-origin)
    children = []  # (the asset's object as loaded, ours)
    for obj in sources:
        child = obj.copy() if link else obj  # link: a local object over the library's mesh
        if child.asset_data is not None:
            child.asset_clear()  # our scene file is not an asset library
            child.use_fake_user = False
        child.parent = root
        child.matrix_parent_inverse = Matrix.Identity(4)
        child.matrix_basis = placement @ world[obj.as_pointer()]
        child.name = f"{spec.name}.{_original_name(obj)}"
        collection.objects.link(child)
        children.append((obj, child))
    _assign_part_materials(spec, children, materials, link)
    if link and fresh:  # the linked originals are not used once copied
        if datablock == "Collection" and item.users == 0:
            bpy.data.batch_remove([c for c in [*item.children_recursive, item] if c.users == 0])
        bpy.data.batch_remove([o for o in sources if o.users == 0])
    elif not link and datablock == "Collection":  # the appended collection: its objects now live in ours
        for coll in (*item.children_recursive, item):
            if coll.asset_data is not None:
                coll.asset_clear()
            coll.use_fake_user = False  # assets keep a fake user
        bpy.data.batch_remove([c for c in [*item.children_recursive, item] if c.users == 0])
    return [child for _, child in children]


def _evaluated_placement(item, datablock: str, objects: list) -> tuple[dict, Vector]:
    """World matrices of `objects` as Blender places the asset (evaluated in a throw-away scene, as the asset
    index does) and the asset's origin: the object's location, or the collection's instance offset."""
    scene = bpy.data.scenes.new("__photo2scene_asset_tmp")
    try:
        if datablock == "Object":
            scene.collection.objects.link(item)
        else:
            scene.collection.children.link(item)
        with bpy.context.temp_override(scene=scene, view_layer=scene.view_layers[0]):
            depsgraph = bpy.context.evaluated_depsgraph_get()
            world = {o.as_pointer(): o.evaluated_get(depsgraph).matrix_world.copy() for o in objects}
        origin = (world[item.as_pointer()].translation.copy() if datablock == "Object"
                  else item.instance_offset.copy())
    finally:
        bpy.data.scenes.remove(scene)
    return world, origin


def _assign_part_materials(spec: Object, children: list, materials: dict, link: bool) -> None:
    """Our material on every slot of the asset whose part scene.json lists. A part is named as the asset index
    names it: the slot material's name in the library, else the object's (assets_index/sources/blend.py)."""
    by_part = {p.name: materials[p.material] for p in spec.parts if p.material in materials}
    replaced = set()
    for source, child in children:
        source_name = _original_name(source)  # before the append's rename (`.001`) or our own
        for slot in getattr(child, "material_slots", []):
            own = slot.material
            part = (_original_name(own) if own is not None else source_name).replace("/", "_")
            ours = by_part.get(part)
            if ours is None:
                continue
            if own is not None and own.library is None:
                replaced.add(own)
            if link:
                slot.link = "OBJECT"  # the linked mesh's materials cannot change; the object's slot can
            slot.material = ours
    ours_all = set(materials.values())
    bpy.data.batch_remove([m for m in replaced if m.users == 0 and m not in ours_all])
