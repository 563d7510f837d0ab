"""Each source plug-in: folders of mesh files, the 3D-FUTURE layout, Blender asset libraries."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import trimesh
from assets_fixtures import write_glb_cabinet, write_quantized_glb

from assets_index.meshutil import bounds
from assets_index.sources import BlendSource, BuiltinSource, FolderSource, sources_for_path


def _size(parts) -> np.ndarray:
    lo, hi = bounds(parts)
    return hi - lo


def test_folder_glb_is_turned_z_up_with_material_parts(tmp_path):
    write_glb_cabinet(tmp_path / "lib" / "cabinets" / "tall.glb")
    src = FolderSource(tmp_path / "lib")
    [record] = list(src.scan())
    assert record.id == f"file:{tmp_path / 'lib' / 'cabinets' / 'tall.glb'}"
    assert record.category == "cabinet"  # from the folder name
    model = src.load(record)
    assert set(model.parts) == {"Oak", "Brass"}
    assert {p.name: p.material for p in model.infos} == {"Oak": "wood", "Brass": "metal"}
    assert np.allclose(_size(model.parts), [0.8, 0.225 + 0.27, 1.6], atol=1e-3)  # Y-up -> Z-up, knob in front
    lo, hi = bounds(model.parts)
    assert abs(lo[2]) < 1e-6 and np.allclose((lo[:2] + hi[:2]) / 2, 0, atol=1e-6)
    # The knob was on the glTF front (+Z): it must end up on the canonical front (-Y).
    assert model.parts["Brass"].centroid[1] < model.parts["Oak"].centroid[1]
    # to_canonical maps the file's coordinates onto the returned parts.
    raw = trimesh.load(record.path, force="scene").to_geometry()
    moved = trimesh.transform_points(raw.vertices, np.array(model.to_canonical))
    lo2, hi2 = moved.min(axis=0), moved.max(axis=0)
    assert np.allclose(lo2, lo, atol=1e-6) and np.allclose(hi2, hi, atol=1e-6)


def test_folder_guesses_centimetres_and_reads_sidecar(tmp_path):
    write_glb_cabinet(tmp_path / "lib" / "thing.glb", scale=100.0)
    (tmp_path / "lib" / "thing.json").write_text(json.dumps({"category": "wardrobe", "name": "Big one"}))
    ply = trimesh.creation.box(extents=(0.5, 0.5, 0.9))
    ply.export(tmp_path / "lib" / "stool.ply")  # PLY: Z-up by default
    src = FolderSource(tmp_path / "lib")
    records = {Path(r.path).name: r for r in src.scan()}
    big = records["thing.glb"]
    assert (big.category, big.name) == ("wardrobe", "Big one")
    model = src.load(big)
    assert model.size_from == "units-guess"
    assert np.allclose(_size(model.parts)[2], 1.6, atol=0.02)
    stool = src.load(records["stool.ply"])
    assert np.allclose(_size(stool.parts), [0.5, 0.5, 0.9], atol=1e-6)
    assert records["stool.ply"].category == "stool"


def test_a_pack_named_category_first_is_read_that_way(tmp_path):
    """KayKit names its files category first (`lamp_table` is a table lamp, `armchair_pillows` an armchair):
    in a folder where most names begin with a category, the first word decides; elsewhere English's head noun
    (the last word) still does: `table_lamp` is a lamp, `coffee_table` a coffee table."""
    box = trimesh.creation.box(extents=(0.4, 0.4, 0.5))
    pack, mixed = tmp_path / "pack", tmp_path / "mixed"
    for folder, stems in ((pack, ["lamp_table", "armchair_pillows", "bed_double_A", "chair_B", "rug_oval"]),
                          (mixed, ["table_lamp", "coffee_table", "boombox", "heater_01", "ceramic_vase"])):
        folder.mkdir()
        for stem in stems:
            box.export(folder / f"{stem}.ply")
    categories = {Path(r.path).stem: r.category for r in FolderSource(tmp_path).scan()}
    assert categories["lamp_table"] == "lamp" and categories["armchair_pillows"] == "armchair"
    assert categories["bed_double_A"] == "bed"
    assert categories["table_lamp"] == "lamp" and categories["coffee_table"] == "coffee table"
    assert categories["ceramic_vase"] == "vase"


def test_folder_reads_quantized_gltf_at_its_true_size(tmp_path):
    """KHR_mesh_quantization (gltfpack, Poly Haven): normalised integers decoded, so a 0.4 m vase is 0.4 m
    (read raw, it was 13 km, then "guessed" to be in millimetres) and its UVs lie in [0, 1]."""
    write_quantized_glb(tmp_path / "lib" / "ceramic_vase.glb", extents=(0.2, 0.4, 0.2))
    src = FolderSource(tmp_path / "lib")
    [record] = list(src.scan())
    model = src.load(record)
    assert record.category == "vase" and model.size_from == "file"
    assert np.allclose(_size(model.parts), [0.2, 0.2, 0.4], atol=1e-3)  # Y-up -> Z-up
    uv = np.vstack([m.visual.uv for m in model.parts.values()])
    assert uv.min() >= 0.0 and uv.max() <= 1.0 and np.ptp(uv) > 0.5


def test_future_layout(fake_future):
    src = FolderSource(fake_future)
    records = {r.id: r for r in src.scan()}
    assert set(records) == {"3d-future:aaaa-sofa", "3d-future:bbbb-chair"}  # raw_model.obj is not a model
    sofa, chair = records["3d-future:aaaa-sofa"], records["3d-future:bbbb-chair"]
    assert sofa.source == "3d-future" and sofa.category == "sofa" and sofa.extra["style"] == "Modern"
    assert chair.category == "chair"  # from the top-level model_info.json list
    assert sofa.images == [str(fake_future / "aaaa-sofa" / "image.jpg")]
    # No raw_model.obj: scaled to a typical sofa; raw_model.obj present: its real extent.
    s = src.load(sofa)
    assert s.size_from == "category-prior"
    assert np.isclose(_size(s.parts).max(), 2.1, atol=0.01)
    c = src.load(chair)
    assert c.size_from == "file"
    assert np.allclose(_size(c.parts), [0.5, 0.55, 0.9], atol=1e-3)  # Y-up -> Z-up


def test_sources_for_path(tmp_path, fake_future):
    assert [s.kind for s in sources_for_path("builtin")] == ["builtin"]
    assert [s.kind for s in sources_for_path(fake_future)] == ["folder"]
    assert sources_for_path(tmp_path / "nothing.txt") == []


def test_builtin_source_subset():
    src = BuiltinSource(["sofa_track_3seat", "rug_round"])
    records = list(src.scan())
    assert [r.id for r in records] == ["builtin:sofa_track_3seat", "builtin:rug_round"]
    assert set(src.load(records[0]).parts) == {"frame", "cushions", "legs"}
    with pytest.raises(ValueError):
        BuiltinSource(["no_such_model"])


def make_blend_library(path: Path) -> None:
    """A .blend with a sofa asset (two materials, tagged, an array modifier doubling it), an untagged asset,
    and an object that is not an asset; the session is reset around it."""
    import bpy

    bpy.ops.wm.read_homefile(use_empty=True)

    def cube(name, scale, location, materials):
        import bmesh

        mesh = bpy.data.meshes.new(name + "Mesh")
        bm = bmesh.new()
        bmesh.ops.create_cube(bm, size=1.0)
        bm.to_mesh(mesh)
        bm.free()
        for m in materials:
            mesh.materials.append(m)
        for i, poly in enumerate(mesh.polygons):
            poly.material_index = i % len(materials)
        obj = bpy.data.objects.new(name, mesh)
        obj.scale, obj.location = scale, location
        bpy.context.scene.collection.objects.link(obj)
        return obj

    fabric, oak = bpy.data.materials.new("Blue Fabric"), bpy.data.materials.new("Oak")
    fabric.node_tree.nodes["Principled BSDF"].inputs["Base Color"].default_value = (0.1, 0.2, 0.5, 1.0)
    sofa = cube("Model_A", (1.0, 0.9, 0.8), (3.0, 1.0, 0.4), [fabric, oak])
    array = sofa.modifiers.new("twice", "ARRAY")
    array.count = 2  # 2 m wide once evaluated: proves modifiers are applied
    sofa.asset_mark()
    sofa.asset_data.tags.new("Sofa")
    plain = cube("Side_Table", (0.5, 0.5, 0.55), (0.0, 0.0, 0.275), [oak])
    plain.asset_mark()
    cube("NotAnAsset", (1.0, 1.0, 1.0), (0.0, 0.0, 0.0), [oak])
    # A collection asset of two objects (a lamp: base and shade), placed away from the origin.
    lamp = bpy.data.collections.new("Floor Lamp")
    bpy.context.scene.collection.children.link(lamp)
    for obj in (cube("Base", (0.3, 0.3, 1.2), (5.0, 0.0, 0.6), [oak]),
                cube("Shade", (0.5, 0.5, 0.3), (5.0, 0.0, 1.35), [fabric])):
        bpy.context.scene.collection.objects.unlink(obj)
        lamp.objects.link(obj)
    lamp.asset_mark()
    path.parent.mkdir(parents=True, exist_ok=True)
    bpy.ops.wm.save_as_mainfile(filepath=str(path))
    bpy.ops.wm.read_homefile(use_empty=True)


@pytest.mark.blender
def test_blend_asset_library(tmp_path):
    import bpy

    blend = tmp_path / "assets" / "living.blend"
    make_blend_library(blend)
    src = sources_for_path(tmp_path / "assets")[0]
    assert isinstance(src, BlendSource)
    records = {r.name: r for r in src.scan()}
    assert set(records) == {"Model_A", "Side_Table", "Floor Lamp"}  # only what is marked as an asset
    sofa = records["Model_A"]
    assert sofa.category == "sofa"  # from the tag
    assert records["Side_Table"].category == "side table"  # from the name
    assert sofa.extra["datablock"] == "Object" and sofa.extra["tags"] == ["Sofa"]
    counts = {k: len(getattr(bpy.data, k)) for k in ("objects", "meshes", "materials", "scenes")}
    model = src.load(sofa)
    assert {k: len(getattr(bpy.data, k)) for k in counts} == counts  # the session is left as it was
    assert set(model.parts) == {"Blue Fabric", "Oak"}
    assert np.allclose(_size(model.parts), [2.0, 0.9, 0.8], atol=1e-5)
    lo, hi = bounds(model.parts)
    assert abs(lo[2]) < 1e-6 and np.allclose((lo[:2] + hi[:2]) / 2, 0, atol=1e-6)
    colors = {p.name: p.color for p in model.infos}
    assert np.allclose(colors["Blue Fabric"], (0.1, 0.2, 0.5), atol=1e-6)
    assert model.parts["Oak"].visual.uv is not None
    lamp = records["Floor Lamp"]
    assert (lamp.category, lamp.extra["datablock"]) == ("lamp", "Collection")
    lamp_model = src.load(lamp)
    assert set(lamp_model.parts) == {"Oak", "Blue Fabric"}
    assert np.allclose(_size(lamp_model.parts), [0.5, 0.5, 1.5], atol=1e-5)
    assert {k: len(getattr(bpy.data, k)) for k in counts} == counts
