"""Whole library materials: twin maps vs Blender's field evaluation of the same graph (24x24 texels)."""

from __future__ import annotations

import numpy as np
import pytest

from materials_db import evaluate, list_materials, load_graph
from materials_db.goldens.make_goldens import MAT_RES

NAMES = list_materials()


def test_library_size_and_categories():
    assert len(NAMES) >= 60
    cats = {load_graph(n).category for n in NAMES}
    for c in ("wood", "tiles", "stone", "concrete", "plaster", "wallpaper", "fabric", "carpet", "metal", "plastic",
              "ceramic", "paper"):
        assert c in cats, c


@pytest.mark.parametrize("name", NAMES)
def test_material_matches_blender(name, material_goldens):
    maps = evaluate(load_graph(name), None, MAT_RES)
    assert f"{name}/base_color" in material_goldens, (
        f"no Blender golden for {name}: run `python -m materials_db.goldens.make_goldens materials` (needs bpy)")
    for key in ("base_color", "roughness", "metallic", "height"):
        k = f"{name}/{key}"
        if k not in material_goldens:
            continue
        ref = material_goldens[k]
        got = maps[key].detach().numpy().reshape(ref.shape)
        err = np.abs(got - ref)
        assert err.mean() <= 1e-3, f"{k}: mean abs err {err.mean():.2e}"
