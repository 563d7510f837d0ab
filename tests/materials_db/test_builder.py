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
        inputs = [v for n in g["nodes"].values() for v in n.get("inputs", {}).values() if isinstance(v, dict)]
        n_links = sum(1 for v in inputs if "link" in v)
        # every continuous parameter on a socket is linked from the parameter group; a two-stop ramp of two colour
        # parameters gets a Mix (its factor from the ramp, its colours from the group)
        n_params = sum(1 for v in inputs if "param" in v and g["params"][v["param"]]["kind"] in ("float", "color", "vector"))
        n_ramps = sum(1 for n in tree.nodes if n.name.endswith("__colours"))
        assert len(tree.links) == n_links + 1 + n_params + 3 * n_ramps, name


def _frame_boxes(tree):
    """Per frame: (x0, x1, y_bottom, y_top) of its nodes, from their locations and the builder's height estimate."""
    from blender_addon.builders.material import _node_height

    boxes = {}
    for n in tree.nodes:
        if n.parent is None:
            continue
        x, y = n.location_absolute
        x0, x1, y0, y1 = boxes.get(n.parent.name, (x, x + n.width, y - _node_height(n), y))
        boxes[n.parent.name] = (min(x0, x), max(x1, x + n.width), min(y0, y - _node_height(n)), max(y1, y))
    return boxes


@pytest.mark.parametrize("name", ["oak_planks", "oak_herringbone", "terrazzo_white", "wallpaper_damask_gold"])
def test_tree_reads_like_the_graph(name):
    """Frames named by meaning that do not overlap, nodes labelled with parameter names (never a node id), and
    the continuous parameters on one group node, named for people, with their ranges."""
    g = load_graph(name)
    mat = build_material(g.to_dict())
    tree = mat.node_tree
    frames = {n.label for n in tree.nodes if n.bl_idname == "NodeFrame"}
    assert {"Parameters", "Coordinates", "Pattern", "Colour", "Surface"} <= frames, frames
    assert not frames - {"Parameters", "Coordinates", "Pattern", "Colour", "Roughness", "Metallic", "Bump / Normal",
                         "Surface", "Other"}
    assert all(n.parent is not None for n in tree.nodes if n.bl_idname != "NodeFrame")
    boxes = list(_frame_boxes(tree).values())
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:  # no two frames' node areas overlap
            assert a[1] < b[0] or b[1] < a[0] or a[3] < b[2] or b[3] < a[2], (a, b)
    for n in tree.nodes:
        assert n.label != n.name or n.bl_idname == "NodeFrame", n.name  # no `mu`, `imj`, `pid_j2`
    group = tree.nodes["p2s_params"]
    names = [s.name for s in group.inputs]
    assert names == [s.name for s in group.outputs] and len(set(names)) == len(names)
    assert all("_" not in s and s[0].isupper() for s in names), names
    items = {i.name: i for i in group.node_tree.interface.items_tree if getattr(i, "in_out", "") == "INPUT"}
    for pid, p in g.params.items():
        if p.kind == "float" and p.human_name in items:
            lo, hi = p.range
            assert items[p.human_name].min_value <= lo + 1e-6 and items[p.human_name].max_value >= hi - 1e-6
    # every parameter bound to a socket is driven by the group
    for node in g.nodes.values():
        for key, v in node.get("inputs", {}).items():
            if isinstance(v, dict) and "param" in v and g.params[v["param"]].kind in ("float", "color", "vector"):
                assert any(link.from_node == group and link.from_socket.name == g.params[v["param"]].human_name
                           for link in tree.links), (v, key)


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
    mat.node_tree.nodes["p2s_params"].inputs["Noise scale"].default_value = 11.0  # where the artist edits it
    back = material_to_graph(mat)
    assert back["params"]["noise_scale"]["default"] == pytest.approx(11.0)
    # a socket the artist unlinked from the group and set by hand is read too
    noise = mat.node_tree.nodes["noise"].inputs["Scale"]
    mat.node_tree.links.remove(noise.links[0])
    noise.default_value = 7.0
    assert material_to_graph(mat)["params"]["noise_scale"]["default"] == pytest.approx(7.0)


def test_ramp_colours_are_group_inputs_and_read_back():
    g = load_graph("oak_planks")
    mat = build_material(g.to_dict())
    group = mat.node_tree.nodes["p2s_params"]
    group.inputs["Wood dark"].default_value = (0.2, 0.1, 0.05, 1.0)
    back = material_to_graph(mat)
    assert back["params"]["wood_dark"]["default"] == pytest.approx([0.2, 0.1, 0.05], abs=1e-6)
    ramp = back["nodes"]["woodramp"]["props"]["elements"]
    assert [e["color"] for e in ramp] == [{"param": "wood_dark"}, {"param": "wood_light"}]
    assert "label" not in back["nodes"]["grain"]  # the builder's labels are not written into the graph


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
