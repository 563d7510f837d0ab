"""The scene an artist opens (issue 18), headless: Refine writes back exactly what changed; the import's
collections, names, World, shading and render settings; a re-import keeps what the artist added; candidate names
and scores after swaps."""

from __future__ import annotations

import json
import math

import pytest

from addon_fixtures import add_object, addon, empty_file, make_bundle  # noqa: F401

bpy = pytest.importorskip("bpy")


def _import(path, **kwargs) -> set:
    return bpy.ops.photo2scene.import_bundle("EXEC_DEFAULT", True, directory=str(path), **kwargs)


def _reconstruction():
    return bpy.context.scene.photo2scene.reconstruction


# ------------------------------------------------------------------------------------------- write-back

def test_refine_writes_exactly_what_changed(addon, empty_file, make_bundle):
    from blender_addon.bundle import load_bundle
    from blender_addon.sync import collect_edits, find_object

    bundle = make_bundle()
    add_object(bundle, yaw_deg=261.3)  # Blender reads this yaw back as -98.7 degrees
    _import(bundle)
    coll = _reconstruction()
    original = load_bundle(bundle).scene
    scene, changes = collect_edits(coll, original)
    assert changes == [], changes
    assert scene["objects"][0]["yaw_deg"] == pytest.approx(261.3)

    find_object(coll, "sofa_1").location.x += 0.25  # 1: move an object
    bpy.data.objects["ceiling_light"].data.energy = 90.0  # 2: a light's power
    floor = bpy.data.objects["room_floor"].material_slots[0].material
    floor.node_tree.nodes["Principled BSDF"].inputs["Roughness"].default_value = 0.3  # 3: a material value
    scene, changes = collect_edits(coll, original)
    assert sorted(changes) == ["light ceiling_light: power_w", "material room_floor: roughness",
                               "object sofa_1: location"], changes
    obj = scene["objects"][0]
    assert obj["location"] == pytest.approx([1.25, 0.5, 0.0], abs=1e-6)
    assert obj["yaw_deg"] == pytest.approx(261.3)  # untouched: kept as scene.json wrote it

    # A turn is written next to the old angle, in scene.json's own convention.
    find_object(coll, "sofa_1").rotation_euler.z += math.radians(10.0)
    scene, changes = collect_edits(coll, original)
    assert "object sofa_1: yaw_deg" in changes
    assert scene["objects"][0]["yaw_deg"] == pytest.approx(271.3, abs=1e-4)


def test_angle_delta_wraps():
    from blender_addon.sync import angle_delta_deg

    assert angle_delta_deg(-98.7, 261.3) == pytest.approx(0.0, abs=1e-9)
    assert angle_delta_deg(179.0, -179.0) == pytest.approx(-2.0)
    assert angle_delta_deg(10.0, 350.0) == pytest.approx(20.0)
