"""Objects from a Blender asset library come into the scene from their .blend file (appended, or linked as an
option), posed like the bundle's OBJ copies, with the reconstruction's materials on their parts; without the file
the builder falls back to the bundle's meshes.

The library is made here with bpy, indexed with the real assets index code (BlendSource, update_index), and the
scene entries are written as the object stage writes them (`_asset_fields`, part meshes from `load_mesh`)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from addon_fixtures import addon, empty_file, prefs, write_bundle  # noqa: F401

bpy = pytest.importorskip("bpy")

pytestmark = pytest.mark.blender

CHAIR = "Chair"          # an object asset: rotated, scaled, off the origin, an Array modifier, two material slots
TABLE = "Table Set"      # a collection asset: a top and a leg parented to it, with an instance offset
COLOURS = [(0.8, 0.1, 0.1), (0.1, 0.8, 0.1), (0.1, 0.1, 0.8), (0.7, 0.7, 0.1)]


def make_library(path: Path) -> None:
    import bmesh

    bpy.ops.wm.read_homefile(use_empty=True)

    def box(name: str, materials: list, size=(1.0, 1.0, 1.0), shift=(0.0, 0.0, 0.0)) -> bpy.types.Object:
        mesh = bpy.data.meshes.new(name + "Mesh")
        bm = bmesh.new()
        bmesh.ops.create_cube(bm, size=1.0)
        for v in bm.verts:
            v.co = [c * s + d for c, s, d in zip(v.co, size, shift)]
        bm.to_mesh(mesh)
        bm.free()
        for m in materials:
            mesh.materials.append(m)
        for i, poly in enumerate(mesh.polygons):
            poly.material_index = i % len(materials)
        obj = bpy.data.objects.new(name, mesh)
        bpy.context.scene.collection.objects.link(obj)
        return obj

    wood, fabric = bpy.data.materials.new("Wood"), bpy.data.materials.new("Fabric/Blue")
    chair = box(CHAIR, [wood, fabric], size=(0.5, 0.45, 0.9), shift=(0.1, 0.0, 0.3))
    chair.location, chair.rotation_euler, chair.scale = (3.0, 4.0, 5.0), (0.0, 0.0, 0.5), (0.8, 1.2, 1.0)
    chair.modifiers.new("twice", "ARRAY").count = 2  # evaluated geometry is what both ways must give
    chair.asset_mark()
    chair.asset_data.tags.new("chair")

    table = bpy.data.collections.new(TABLE)
    bpy.context.scene.collection.children.link(table)
    top = box("Top", [wood], size=(1.2, 0.8, 0.05), shift=(0.0, 0.0, 0.0))
    top.location, top.rotation_euler = (2.0, -1.0, 0.75), (0.0, 0.0, 0.3)
    leg = box("Leg", [fabric], size=(0.08, 0.08, 0.7))
    leg.parent = top
    leg.location = (0.4, 0.2, -0.375)
    for obj in (top, leg):
        bpy.context.scene.collection.objects.unlink(obj)
        table.objects.link(obj)
    table.instance_offset = (2.0, -1.0, 0.0)
    table.asset_mark()
    table.asset_data.tags.new("table")
    path.parent.mkdir(parents=True, exist_ok=True)
    bpy.ops.wm.save_as_mainfile(filepath=str(path))
    bpy.ops.wm.read_homefile(use_empty=True)


@pytest.fixture
def library_bundle(tmp_path, addon):  # noqa: F811
    """(bundle folder, .blend library): the library indexed with the assets index, and a bundle whose objects
    refer to its two assets as the object stage writes them (chair_1: the chair, with the table set as its second
    candidate; table_1: the table set)."""
    from assets_index import open_index, update_index
    from assets_index.sources import BlendSource
    from pipeline.core.meshes import obj_bytes
    from pipeline.stages.objects.stage import _asset_fields

    blend = tmp_path / "library" / "furniture.blend"
    make_library(blend)
    index = open_index(tmp_path / "index", create=True)
    update_index(index, [BlendSource(blend.parent)], embedder=None, render=False)
    ids = {CHAIR: f"blend:{blend.resolve()}#Object/{CHAIR}", TABLE: f"blend:{blend.resolve()}#Collection/{TABLE}"}
    assert all(i in index for i in ids.values())

    bundle = write_bundle(tmp_path / "case.bundle", candidates=False)
    scene = json.loads((bundle / "scene.json").read_text())
    colours = iter(COLOURS)

    def asset(obj_name: str, asset_name: str, folder: str) -> tuple[dict, list]:
        record = index.get(ids[asset_name])
        parts = []
        for part, mesh in index.load_mesh(ids[asset_name]).items():
            rel = f"meshes/{folder}/{part.replace('/', '_')}.obj"
            (bundle / rel).parent.mkdir(parents=True, exist_ok=True)
            (bundle / rel).write_bytes(obj_bytes(mesh.vertices, mesh.faces, getattr(mesh.visual, "uv", None)))
            mat = f"{obj_name}.{part}"
            if mat not in scene["materials"]:
                scene["materials"][mat] = {"type": "principled", "base_color": list(next(colours)), "roughness": 0.5}
            parts.append({"name": part, "mesh": rel, "material": mat})
        return {"asset_id": record.id, **_asset_fields(record)}, parts

    chair_fields, chair_parts = asset("chair_1", CHAIR, "chair_1")
    table_fields, table_parts = asset("table_1", TABLE, "table_1")
    _, swap_parts = asset("chair_1", TABLE, "chair_1/candidates/table")
    scene["objects"] = [
        {"name": "chair_1", "label": "chair", **chair_fields, "location": [1.0, 0.5, 0.0], "yaw_deg": 30.0,
         "scale": [1.1, 0.9, 1.05], "parts": chair_parts, "chosen": 0,
         "candidates": [{**chair_fields, "score": 0.9}, {**table_fields, "score": 0.5, "parts": swap_parts}]},
        {"name": "table_1", "label": "table", **table_fields, "location": [-1.0, 1.0, 0.0], "yaw_deg": -75.0,
         "scale": [1.0, 1.0, 1.0], "parts": table_parts},
    ]
    (bundle / "scene.json").write_text(json.dumps(scene))
    # The add-on opens .blend files outside a bundle only from the asset libraries in its preferences.
    from blender_addon.preferences import get_prefs

    prefs = get_prefs(bpy.context)
    prefs.asset_paths.add().path = str(blend.parent)
    yield bundle, blend
    prefs.asset_paths.remove(len(prefs.asset_paths) - 1)


def world_points(root: bpy.types.Object) -> np.ndarray:
    """Evaluated (modifiers applied) vertices of the object's meshes, in world space."""
    depsgraph = bpy.context.evaluated_depsgraph_get()
    points = []
    for child in root.children_recursive:
        if child.type != "MESH":
            continue
        ev = child.evaluated_get(depsgraph)
        mesh = ev.to_mesh()
        co = np.array([v.co for v in mesh.vertices], float)
        ev.to_mesh_clear()
        m = np.array(ev.matrix_world)
        points.append(co @ m[:3, :3].T + m[:3, 3])
    return np.concatenate(points)


def bbox(root: bpy.types.Object) -> np.ndarray:
    p = world_points(root)
    return np.stack([p.min(axis=0), p.max(axis=0)])


def bundle_build_bboxes(bundle: Path) -> dict[str, np.ndarray]:
    """The OBJ-path result of every object (the bundle's meshes), built into a scratch collection."""
    from blender_addon.builders.object import build_object
    from blender_addon.bundle import load_bundle

    b = load_bundle(bundle)
    coll = bpy.data.collections.new("scratch")
    bpy.context.scene.collection.children.link(coll)
    roots = {o.name: build_object(o, b, {}, coll, asset_mode="bundle") for o in b.data.objects}
    bpy.context.view_layer.update()
    out = {name: bbox(root) for name, root in roots.items()}
    assert all(root["photo2scene_source"] == "bundle" for root in roots.values())
    objects = list(coll.all_objects)
    data = [o.data for o in objects if o.data is not None]
    bpy.data.batch_remove(objects)
    bpy.data.batch_remove(data + [coll])
    return out


def part_materials(root: bpy.types.Object) -> list[str]:
    """The scene.json names of the materials in the slots of the object's children, sorted."""
    return sorted(str(s.material.get("photo2scene_material")) for c in root.children_recursive
                  for s in c.material_slots)


def _import(path) -> set:
    return bpy.ops.photo2scene.import_bundle("EXEC_DEFAULT", True, directory=str(path))


def test_export_appends_from_the_library(library_bundle, tmp_path, empty_file):  # noqa: F811
    """The pipeline's .blend export (default: append): the chair and the table set are the library's objects,
    placed exactly where the bundle's OBJ copies go, with the reconstruction's part materials."""
    from pipeline.app.export.blend import write_blend

    bundle, blend = library_bundle
    out = write_blend(bundle, tmp_path / "out" / "scene.blend")
    bpy.ops.wm.open_mainfile(filepath=str(out))
    assert not bpy.data.libraries  # appended: the scene file stands alone
    chair, table = bpy.data.objects["chair_1"], bpy.data.objects["table_1"]
    assert chair["photo2scene_source"] == "append" and table["photo2scene_source"] == "append"
    assert chair["photo2scene_library"].endswith(f"furniture.blend#Object/{CHAIR}")
    (mesh_child,) = chair.children
    assert mesh_child.data.name.startswith(CHAIR + "Mesh") and len(mesh_child.data.vertices) == 8
    assert mesh_child.modifiers["twice"].count == 2
    assert mesh_child.asset_data is None and not mesh_child.use_fake_user  # not an asset library
    assert sorted(c.name for c in table.children) == ["table_1.Leg", "table_1.Top"]
    assert part_materials(chair) == ["chair_1.Fabric_Blue", "chair_1.Wood"]
    assert part_materials(table) == ["table_1.Fabric_Blue", "table_1.Wood"]
    # The library's own materials are gone once replaced; ours carry the optimised colour.
    assert "Wood" not in bpy.data.materials and "Fabric/Blue" not in bpy.data.materials
    wood = next(s.material for s in mesh_child.material_slots if s.material.name == "chair_1.Wood")
    bsdf = wood.node_tree.nodes["Principled BSDF"]
    assert tuple(bsdf.inputs["Base Color"].default_value)[:3] == pytest.approx(COLOURS[0], abs=1e-6)
    assert len([c for c in bpy.data.collections if c.get("photo2scene_bundle")]) == 1  # one per reconstruction
    assert json.loads(chair["photo2scene_candidates"])[1]["asset_name"] == TABLE
    built = {"chair_1": bbox(chair), "table_1": bbox(table)}
    for name, box in bundle_build_bboxes(bundle).items():
        assert np.abs(built[name] - box).max() < 1e-3, name
    # The chair's evaluated vertices are the OBJ copy's, placed by the same pose (not only the box).
    assert len(world_points(chair)) == 16


def test_import_links_with_the_preference(library_bundle, prefs, empty_file, tmp_path):  # noqa: F811
    """With "Library Assets: Link" the meshes stay in the library; our materials sit on object-level slots; the
    geometry matches the OBJ path; a saved file reopens with the link and the materials."""
    bundle, blend = library_bundle
    prefs.library_assets = "LINK"
    try:
        assert _import(bundle) == {"FINISHED"}
    finally:
        prefs.library_assets = "APPEND"
    chair, table = bpy.data.objects["chair_1"], bpy.data.objects["table_1"]
    assert chair["photo2scene_source"] == "link" and table["photo2scene_source"] == "link"
    for root in (chair, table):
        for child in root.children:
            assert child.library is None and child.data.library is not None
            assert Path(bpy.path.abspath(child.data.library.filepath)).resolve() == blend.resolve()
            assert all(s.link == "OBJECT" for s in child.material_slots)
    assert part_materials(chair) == ["chair_1.Fabric_Blue", "chair_1.Wood"]
    assert part_materials(table) == ["table_1.Fabric_Blue", "table_1.Wood"]
    assert not [o for o in bpy.data.objects if o.library is not None]  # the linked originals are not kept
    bpy.context.view_layer.update()
    built = {"chair_1": bbox(chair), "table_1": bbox(table)}
    for name, box in bundle_build_bboxes(bundle).items():
        assert np.abs(built[name] - box).max() < 1e-3, name
    saved = tmp_path / "linked.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(saved))
    bpy.ops.wm.open_mainfile(filepath=str(saved))
    chair = bpy.data.objects["chair_1"]
    assert chair.children[0].data.library is not None
    assert part_materials(chair) == ["chair_1.Fabric_Blue", "chair_1.Wood"]
    assert np.abs(bbox(chair) - built["chair_1"]).max() < 1e-5


def test_append_twice_keeps_names_apart(library_bundle, empty_file):  # noqa: F811
    """A local material named like the library's, and a second import: part materials still map by the
    library's names (appended IDs are renamed `.001`), and a re-import leaves no appended leftovers."""
    bundle, _ = library_bundle
    bpy.data.materials.new("Wood")  # the user's own material of the same name
    assert _import(bundle) == {"FINISHED"}
    counts = {k: len(getattr(bpy.data, k)) for k in ("objects", "meshes", "materials", "collections")}
    assert _import(bundle) == {"FINISHED"}
    assert {k: len(getattr(bpy.data, k)) for k in counts} == counts
    chair = bpy.data.objects["chair_1"]
    assert part_materials(chair) == ["chair_1.Fabric_Blue", "chair_1.Wood"]
    assert bpy.data.materials["Wood"].users == 0 and "Wood.001" not in bpy.data.materials


def test_library_outside_the_preferences_is_not_opened(library_bundle, empty_file):  # noqa: F811
    """A .blend outside the bundle and the configured asset libraries is never opened: the bundle's meshes."""
    from blender_addon.preferences import get_prefs

    bundle, _ = library_bundle
    prefs = get_prefs(bpy.context)
    saved = prefs.asset_paths[-1].path
    prefs.asset_paths[-1].path = str(bundle)  # some other folder
    try:
        assert _import(bundle) == {"FINISHED"}
    finally:
        prefs.asset_paths[-1].path = saved
    assert bpy.data.objects["chair_1"]["photo2scene_source"] == "bundle"
    assert not bpy.data.libraries


def test_fallback_to_bundle_meshes(library_bundle, empty_file):  # noqa: F811
    """The .blend gone, or the asset no longer in it: the bundle's meshes, with a note saying why."""
    bundle, blend = library_bundle
    scene = json.loads((bundle / "scene.json").read_text())
    scene["objects"][1]["asset_name"] = "Sold Out"
    (bundle / "scene.json").write_text(json.dumps(scene))
    assert _import(bundle) == {"FINISHED"}
    chair, table = bpy.data.objects["chair_1"], bpy.data.objects["table_1"]
    assert chair["photo2scene_source"] == "append"
    assert table["photo2scene_source"] == "bundle" and "Sold Out" in table["photo2scene_source_note"]
    assert part_materials(table) == ["table_1.Fabric_Blue", "table_1.Wood"]

    shutil.move(blend, blend.with_suffix(".moved"))
    assert _import(bundle) == {"FINISHED"}
    chair = bpy.data.objects["chair_1"]
    assert chair["photo2scene_source"] == "bundle"
    assert str(blend) in chair["photo2scene_source_note"] and "not on this machine" in chair["photo2scene_source_note"]
    assert sorted(c["photo2scene_part"] for c in chair.children) == ["Fabric_Blue", "Wood"]
    assert part_materials(chair) == ["chair_1.Fabric_Blue", "chair_1.Wood"]


def test_swap_to_a_library_candidate(library_bundle, empty_file):  # noqa: F811
    """Using a candidate from the asset library appends it from the .blend, keeps the user's transform, and maps
    its parts' materials; swapping back brings the chair in again."""
    from blender_addon.sync import find_object

    bundle, _ = library_bundle
    assert _import(bundle) == {"FINISHED"}
    coll = bpy.context.scene.photo2scene.reconstruction
    root = find_object(coll, "chair_1")
    root.location = (2.0, -0.5, 0.0)
    bpy.context.view_layer.update()
    moved = root.matrix_world.copy()
    assert bpy.ops.photo2scene.use_candidate(kind="OBJECT", name="chair_1", index=1) == {"FINISHED"}
    new = find_object(coll, "chair_1")
    assert new["photo2scene_source"] == "append" and new["photo2scene_library"].endswith(f"#Collection/{TABLE}")
    assert new["photo2scene_chosen"] == 1
    assert np.allclose(np.array(new.matrix_world), np.array(moved), atol=1e-6)
    assert sorted(c.name for c in new.children) == ["chair_1.Leg", "chair_1.Top"]
    assert part_materials(new) == ["chair_1.Fabric_Blue", "chair_1.Wood"]
    assert bpy.ops.photo2scene.use_candidate(kind="OBJECT", name="chair_1", index=0) == {"FINISHED"}
    back = find_object(coll, "chair_1")
    assert back["photo2scene_library"].endswith(f"#Object/{CHAIR}") and back["photo2scene_chosen"] == 0
    assert len([o for o in coll.all_objects if o.name.startswith("chair_1")]) == 2


def test_import_from_library_is_one_undo_step(library_bundle, empty_file):  # noqa: F811
    bundle, _ = library_bundle
    bpy.ops.ed.undo_push(message="before import")
    assert _import(bundle) == {"FINISHED"}
    assert bpy.data.objects["chair_1"]["photo2scene_source"] == "append"
    bpy.ops.ed.undo()
    assert "chair_1" not in bpy.data.objects and "chair_1.Chair" not in bpy.data.objects
    bpy.ops.ed.redo()
    assert bpy.data.objects["chair_1"].children[0].name == "chair_1.Chair"
