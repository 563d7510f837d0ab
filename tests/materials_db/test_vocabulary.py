"""The vocabulary is the one description per node type: the add-on's generated table agrees with it, its facts
agree with Blender (bpy), and its socket ranges are what the node really clamps to."""

from __future__ import annotations

import pytest
import torch

from blender_addon.builders import material as addon_material
from blender_addon.builders import node_table
from materials_db import Graph, evaluate
from materials_db import vocabulary as vocab
from materials_db.graph import FORMAT
from materials_db.vocabulary import NODES

REGENERATE = "python -m materials_db.vocabulary --write-addon-table"


def test_addon_table_is_the_generated_one():
    committed = vocab.ADDON_TABLE.read_text()
    assert committed == vocab.addon_table_source(), f"blender_addon/builders/node_table.py is stale: run `{REGENERATE}`"


def test_addon_builder_reads_the_generated_table():
    assert addon_material.PROPS is node_table.PROPS
    assert addon_material.INPUTS is node_table.INPUTS
    assert addon_material.FRAMES is node_table.FRAMES
    assert set(node_table.PROPS) == set(node_table.INPUTS) == set(NODES)


def test_table_contents_follow_the_entries():
    ramp = NODES["ShaderNodeValToRGB"]
    assert node_table.PROPS["ShaderNodeValToRGB"] == ()  # its props live on the colour ramp
    assert set(ramp.ramp_props) == set(ramp.props)
    assert node_table.INPUTS["ShaderNodeBump"][-1] == "Normal"  # read so a link there is reported, not dropped
    assert node_table.INPUTS["ShaderNodeTexNoise"] == tuple(s.name for s in NODES["ShaderNodeTexNoise"].inputs)


def test_write_addon_table(tmp_path, monkeypatch, capsys):
    out = tmp_path / "node_table.py"
    monkeypatch.setattr(vocab, "ADDON_TABLE", out)
    assert vocab.main(["--write-addon-table"]) == 0
    assert out.read_text() == vocab.addon_table_source()
    assert vocab.main([]) == 2  # no action named: help, not a silent rewrite


# settings under which the socket matters at all
SETTING = {
    ("ShaderNodeTexVoronoi", "Roughness"): ({"Detail": 2.0}, {}),  # octave weights: needs octaves
    ("ShaderNodeTexVoronoi", "Smoothness"): ({}, {"feature": "SMOOTH_F1"}),
    ("ShaderNodeTexWave", "Detail"): ({"Distortion": 2.0}, {}),  # the fBm only distorts
}


def _graph(ntype: str, socket: str, value: float) -> Graph:
    """TexCoord -> `ntype` (socket = value) -> Principled BSDF; a Bump drives the normal from a Wave height."""
    spec = NODES[ntype]
    nodes: dict = {"uv": {"type": "ShaderNodeTexCoord"}}
    extra_in, props = SETTING.get((ntype, socket), ({}, {}))
    ins: dict = {**extra_in, socket: value}
    if any(s.name == "Vector" for s in spec.inputs):
        ins["Vector"] = {"link": "uv.UV"}
    if ntype == "ShaderNodeBump":
        nodes["h"] = {"type": "ShaderNodeTexWave", "inputs": {"Vector": {"link": "uv.UV"}}}  # smooth: slopes everywhere
        ins["Height"] = {"link": "h.Fac"}
        bsdf_in = {"Normal": {"link": "n.Normal"}}
    else:
        out = next(o for o, k in spec.outputs.items() if k == "float")
        bsdf_in = {"Roughness": {"link": f"n.{out}"}, "Base Color": {"link": f"n.{out}"}}
    nodes["n"] = {"type": ntype, "inputs": ins, "props": props}
    nodes["bsdf"] = {"type": "ShaderNodeBsdfPrincipled", "inputs": bsdf_in}
    return Graph.from_dict({"format": FORMAT, "name": f"range_{ntype}_{socket}", "params": {}, "nodes": nodes,
                            "output": "bsdf"})


RANGED = [(t, s.name, bound, side) for t, spec in NODES.items() for s in spec.inputs if s.range
          for bound, side in zip(s.range, (-1.0, 1.0)) if abs(bound) != float("inf")]


@pytest.mark.parametrize("ntype,socket,bound,side", RANGED, ids=[f"{t}-{s}-{b}" for t, s, b, _ in RANGED])
def test_values_beyond_a_range_act_as_its_bound(ntype, socket, bound, side):
    at = evaluate(_graph(ntype, socket, bound), None, 8, bump_texel=1 / 64)
    past = evaluate(_graph(ntype, socket, bound + side * 0.75), None, 8, bump_texel=1 / 64)
    inside = evaluate(_graph(ntype, socket, bound - side * 0.25 * max(1.0, abs(bound))), None, 8, bump_texel=1 / 64)
    for k in at:
        assert torch.equal(at[k], past[k]), k
    assert any(not torch.equal(at[k], inside[k]) for k in at), "the socket has no effect: the test shows nothing"


MIX_DEFAULT_DIFFERS = {("ShaderNodeMix", "data_type")}  # Blender's is FLOAT; graphs default to RGBA (builder sets it)


def test_vocabulary_matches_blender():
    bpy = pytest.importorskip("bpy")
    bpy.ops.wm.read_homefile(use_empty=True)
    tree = bpy.data.materials.new("vocab").node_tree
    for t, spec in NODES.items():
        node = tree.nodes.new(t)
        assert node.bl_label == spec.label, t
        if t == "ShaderNodeMix":
            node.data_type = "RGBA"
        for s in spec.inputs:
            sock = next((x for x in node.inputs if x.identifier == s.identifier), None)
            assert sock is not None, f"{t}: no input {s.identifier!r}"
            if s.default is not None:
                got = sock.default_value
                got = [float(x) for x in got][:3] if hasattr(got, "__len__") else float(got)
                assert got == pytest.approx(s.default if isinstance(got, float) else list(s.default)), (t, s.name)
        for name in spec.uncovered_inputs:
            assert any(x.identifier == name for x in node.inputs), (t, name)
        for name in spec.outputs:
            assert any(x.identifier == spec.out_bl.get(name, name) for x in node.outputs), (t, name)
        for k, default in spec.props.items():
            owner = node.color_ramp if k in spec.ramp_props else node
            if k == "elements":
                assert len(owner.elements) == len(default)
                continue
            prop = owner.bl_rna.properties[k]
            if (t, k) not in MIX_DEFAULT_DIFFERS:
                assert getattr(owner, k) == default, (t, k)
            if prop.type == "ENUM":
                items = {e.identifier for e in prop.enum_items}
                assert set(spec.choices.get(k, ())) <= items, (t, k, set(spec.choices[k]) - items)
