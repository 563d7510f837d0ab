"""`photo2scene materials import`: an artist's own Blender material (built by hand from vocabulary nodes, saved in
a .blend) becomes a library material in their folder: parameters, twin checked against Blender, thumbnails."""

from __future__ import annotations

import pytest

pytest.importorskip("bpy")

from materials_db import cli, evaluate, list_materials, load_graph  # noqa: E402
from p2s_common.errors import InputError  # noqa: E402


def _run(argv):
    import argparse

    p = argparse.ArgumentParser()
    cli.configure(p)
    return cli.run(p.parse_args(argv))


def _write_blend(path):
    """Two materials made as an artist would: 'Speckled Tile' (Noise -> Color Ramp -> Principled) and 'Photo'
    (an Image Texture, outside the vocabulary)."""
    import bpy

    bpy.ops.wm.read_homefile(use_empty=True)
    mat = bpy.data.materials.new("Speckled Tile")
    nt = mat.node_tree
    bsdf = next(n for n in nt.nodes if n.bl_idname == "ShaderNodeBsdfPrincipled")
    coords, noise, ramp = (nt.nodes.new(t) for t in ("ShaderNodeTexCoord", "ShaderNodeTexNoise", "ShaderNodeValToRGB"))
    nt.links.new(coords.outputs["UV"], noise.inputs["Vector"])
    nt.links.new(noise.outputs["Fac"], ramp.inputs["Fac"])
    nt.links.new(ramp.outputs["Color"], bsdf.inputs["Base Color"])
    noise.inputs["Scale"].default_value = 7.0
    ramp.color_ramp.elements[0].color = (0.8, 0.7, 0.6, 1.0)
    ramp.color_ramp.elements[1].color = (0.2, 0.25, 0.3, 1.0)
    bsdf.inputs["Roughness"].default_value = 0.4
    mat.use_fake_user = True
    photo = bpy.data.materials.new("Photo")
    photo.node_tree.nodes.new("ShaderNodeTexImage")
    photo.use_fake_user = True
    bpy.ops.wm.save_as_mainfile(filepath=str(path))


def test_import_a_blend_material_into_the_users_library(tmp_path, monkeypatch, capsys):
    lib = tmp_path / "my_materials"
    monkeypatch.setenv("PHOTO2SCENE_MATERIALS", str(lib))
    blend = tmp_path / "mine.blend"
    _write_blend(blend)
    assert _run(["import", str(blend), "--category", "tiles", "--tags", "mine", "speckled"]) == 0
    out = capsys.readouterr().out
    assert "skipped 'Photo'" in out and "ShaderNodeTexImage" in out  # the unsupported node is named
    assert "imported 'speckled_tile'" in out and "rebuild the clip index" in out.lower()
    assert "speckled_tile" in list_materials("tiles")
    g = load_graph("speckled_tile")
    assert g.tags == ["mine", "speckled"] and (lib / "tiles" / "speckled_tile.json").is_file()
    # the literals became parameters at the artist's values: noise scale (x1/8..x8), ramp colours, roughness
    assert g.params["noise_texture_scale"].default == pytest.approx(7.0)
    assert g.params["noise_texture_scale"].range == pytest.approx((7.0 / 8, 56.0))
    assert g.params["color_ramp_stop1"].default == pytest.approx([0.2, 0.25, 0.3])
    assert g.params["principled_bsdf_roughness"].default == pytest.approx(0.4)
    error = float(out.split("twin vs Blender max error ")[1].split(")")[0])
    assert error < 1e-4
    maps = evaluate(g, g.default_params(), 16)
    assert maps["base_color"].shape == (16, 16, 3)
    assert (lib / "thumbnails" / "speckled_tile_lit.jpg").is_file()
    assert (lib / "thumbnails" / "speckled_tile_flat.jpg").is_file()

    with pytest.raises(InputError, match="already has 'speckled_tile'"):
        _run(["import", str(blend), "--material", "Speckled Tile"])
    with pytest.raises(InputError, match="ShaderNodeTexImage"):
        _run(["import", str(blend), "--material", "Photo"])
    with pytest.raises(InputError, match="no material 'Nope'"):
        _run(["import", str(blend), "--material", "Nope"])
