"""Walls the photo does not show get the material of the largest visible wall they shared one with, in the stage
as in Blender: left on the room stage's placeholder (the photo's colour, far darker than a fitted albedo) they lit
the stage's room less than Blender's, which swaps a placeholder for a fitted wall's material (builders/room.py)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from ml_fixtures import small_scene

from pipeline.core.scene import MaterialEntry
from pipeline.stages.materials_lights.stage import _split_walls


def test_unseen_walls_follow_the_largest_visible_wall():
    scene, _ = small_scene(96, 72)  # the camera sees the walls at y max (mostly) and x min, not the other two
    placeholder = MaterialEntry.principled([0.15, 0.16, 0.12], 0.7, 0.0, "median photo colour (room stage placeholder)")
    scene.materials["room_wall"] = placeholder
    case = SimpleNamespace(width=96, height=72)
    split = _split_walls(scene, case)
    walls = {f: m for f, m in scene.room.materials.items() if f.startswith("wall")}
    assert split == {"room_wall": ["room_wall_x_min", "room_wall_y_max"]}
    assert walls["wall_x_min"] == "room_wall_x_min" and walls["wall_y_max"] == "room_wall_y_max"
    # the unseen walls take the visible wall with the most pixels: the far wall, y max
    assert walls["wall_x_max"] == walls["wall_y_min"] == "room_wall_y_max"
    assert "room_wall" not in scene.materials  # nothing uses the shared placeholder any more
    # Blender, once the stage has fitted those materials, builds every face with the material scene.json names
    pytest.importorskip("bpy")
    from blender_addon.builders.room import fitted_room_materials

    for name in ("room_wall_x_min", "room_wall_y_max"):
        scene.materials[name] = MaterialEntry.principled([0.5, 0.55, 0.4], 0.7, 0.0, "materials_lights: fitted")
    faces, notes = fitted_room_materials(scene.room, scene.materials, {"materials_lights": {}})
    assert faces == scene.room.materials and not notes
