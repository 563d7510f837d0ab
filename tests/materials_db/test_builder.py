"""graph -> Blender node tree -> graph round trips, and clear errors for unsupported nodes (bpy)."""

from __future__ import annotations

import pytest
import torch

bpy = pytest.importorskip("bpy")

from blender_addon.builders.material import UnsupportedMaterialError, build_material, material_to_graph  # noqa: E402
from materials_db import Graph, evaluate, list_materials, load_graph  # noqa: E402


@pytest.fixture(autouse=True)
def _empty():
    bpy.ops.wm.read_homefile(use_empty=True)


def test_every_library_material_builds():
    for name in list_materials():
        g = load_graph(name).to_dict()
        mat = build_material(g)
        tree = mat.node_tree
        assert tree.nodes[g["output"]].outputs["BSDF"].is_linked
        n_links = sum(1 for n in g["nodes"].values() for v in n.get("inputs", {}).values() if isinstance(v, dict) and "link" in v)
        assert len(tree.links) == n_links + 1, name


@pytest.mark.parametrize("name", ["oak_planks", "marble_carrara", "denim_blue", "terrazzo_white", "wallpaper_damask_gold"])
def test_round_trip_keeps_maps_and_params(name):
    g = load_graph(name)
    mat = build_material(g.to_dict())
    back = Graph.from_dict(material_to_graph(mat))
    assert set(back.params) == set(g.params)
    a, b = evaluate(g, None, 32), evaluate(back, None, 32)
    for k in a:
        assert torch.allclose(a[k], b[k], atol=1e-5), k


def test_edit_in_blender_is_read_back():
    g = load_graph("concrete_smooth")
    mat = build_material(g.to_dict())
    mat.node_tree.nodes["noise"].inputs["Scale"].default_value = 11.0
    back = material_to_graph(mat)
    assert back["params"]["noise_scale"]["default"] == pytest.approx(11.0)


def test_unsupported_node_is_named():
    mat = build_material(load_graph("plastic_red").to_dict())
    img = mat.node_tree.nodes.new("ShaderNodeTexImage")
    img.name = "my_photo"
    with pytest.raises(UnsupportedMaterialError, match="my_photo.*ShaderNodeTexImage"):
        material_to_graph(mat)


def test_plain_blender_material_imports():
    mat = bpy.data.materials.new("artist")
    tree = mat.node_tree
    bsdf = tree.nodes.get("Principled BSDF") or tree.nodes.new("ShaderNodeBsdfPrincipled")
    noise = tree.nodes.new("ShaderNodeTexNoise")
    tree.links.new(noise.outputs["Color"], bsdf.inputs["Base Color"])
    if not any(n.bl_idname == "ShaderNodeOutputMaterial" for n in tree.nodes):
        out = tree.nodes.new("ShaderNodeOutputMaterial")
        tree.links.new(bsdf.outputs["BSDF"], out.inputs["Surface"])
    g = Graph.from_dict(material_to_graph(mat))
    maps = evaluate(g, None, 16)
    assert maps["base_color"].shape == (16, 16, 3)
