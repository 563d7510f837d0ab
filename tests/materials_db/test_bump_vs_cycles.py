"""Bump normals against a Cycles tangent-space normal bake (bpy): mean angle within 2 degrees."""

from __future__ import annotations

import pytest

pytest.importorskip("bpy")

from materials_db import evaluate, load_graph  # noqa: E402
from materials_db.goldens.bpy_bake import bake_normal_map, normal_angle_errors  # noqa: E402

RES, SS = 32, 8


@pytest.mark.parametrize("name", ["plaster_white", "concrete_smooth", "oak_planks", "leather_brown", "carpet_grey"])
def test_bump_normals_match_cycles_bake(name):
    g = load_graph(name)
    ref = bake_normal_map(g.to_dict(), RES, samples=64)
    twin = evaluate(g, None, RES * SS)["normal"].numpy().reshape(RES, SS, RES, SS, 3).mean((1, 3))
    ang = normal_angle_errors(twin, ref)
    assert ang.mean() <= 2.0, f"{name}: mean {ang.mean():.2f} deg, max {ang.max():.1f}"
