"""The .blend export through the add-on's builders, checked by reading the file back with real Blender (bpy)."""

from __future__ import annotations

import math

import numpy as np
import pytest

bpy = pytest.importorskip("bpy")

from pipeline.app.export.blend import write_blend  # noqa: E402
from pipeline.core.bundle import save_scene  # noqa: E402
from p2s_common.images import write_png  # noqa: E402
from pipeline.core.scene import Camera, Light, MaterialEntry, Room, Scene  # noqa: E402
from box_case import look_rotation  # noqa: E402


def _bundle(tmp_path):
    cam = Camera([0.4, -1.0, 1.45], look_rotation(15, -10).tolist(), 52.0, 80, 60)
    room = Room([0, 0, 1.35], [5.0, 4.0, 2.7], 0.0,
                {f: f"room_{'wall' if f.startswith('wall') else f}" for f in
                 ("floor", "ceiling", "wall_x_min", "wall_x_max", "wall_y_min", "wall_y_max")})
    materials = {f"room_{k}": MaterialEntry("principled", base_color=c, roughness=0.7)
                 for k, c in (("wall", [0.6, 0.55, 0.5]), ("floor", [0.3, 0.2, 0.1]), ("ceiling", [0.8, 0.8, 0.8]))}
    lights = [Light("ceiling_light", "area", [0, 0, 2.6], size=[1.0, 0.5], power_w=150.0)]
    scene = Scene(cam, room, lights=lights, materials=materials)
    write_png(tmp_path / "photo.png", np.full((60, 80, 3), 0.5, np.float32))
    save_scene(tmp_path, scene)
    return scene


def test_blend_has_camera_room_materials_lights(tmp_path):
    scene = _bundle(tmp_path)
    blend = write_blend(tmp_path, tmp_path / "out" / "scene.blend")
    bpy.ops.wm.open_mainfile(filepath=str(blend))
    s = bpy.context.scene
    cam = s.camera
    assert cam.data.sensor_fit == "VERTICAL"
    assert math.degrees(cam.data.angle_y) == pytest.approx(52.0, abs=1e-3)
    assert (s.render.resolution_x, s.render.resolution_y) == (80, 60)
    assert np.allclose(np.array(cam.matrix_world)[:3, 3], scene.camera.position, atol=1e-5)
    assert np.allclose(np.array(cam.matrix_world)[:3, :3], scene.camera.R, atol=1e-5)
    assert cam.data.background_images[0].image.packed_file is not None
    assert s.view_settings.view_transform == "Standard"
    names = {o.name for o in s.objects}
    assert {"room_floor", "room_ceiling", "room_wall_x_min", "room_wall_y_max", "ceiling_light"} <= names
    # Every face's normal points into the room (towards the centre); a wall's far side (walls have thickness)
    # faces away from it.
    for obj in s.objects:
        if obj.name.startswith("room_"):
            poly = obj.data.polygons[0]
            to_centre = np.array([0, 0, 1.35]) - np.array(poly.center)
            inward = "photo2scene_face" in obj
            assert inward != obj.name.endswith("_outside"), obj.name
            assert (np.dot(np.array(poly.normal), to_centre) > 0) == inward, obj.name
    floor = s.objects["room_floor"].data.materials[0]
    bsdf = floor.node_tree.nodes["Principled BSDF"]
    assert tuple(bsdf.inputs["Base Color"].default_value)[:3] == pytest.approx((0.3, 0.2, 0.1), abs=1e-6)
    assert s.objects["ceiling_light"].data.energy == pytest.approx(150.0)
    assert len([c for c in bpy.data.collections if c.name.startswith("photo2scene")]) == 1


def test_reimport_replaces_collection(tmp_path):
    from blender_addon.bundle import load_bundle
    from blender_addon.builders.scene import build_bundle

    _bundle(tmp_path)
    bpy.ops.wm.read_homefile(use_empty=True)
    bundle = load_bundle(tmp_path)
    build_bundle(bundle)
    n_objects = len(bpy.data.objects)
    build_bundle(bundle)
    assert len(bpy.data.objects) == n_objects
    assert len([c for c in bpy.data.collections if c.name.startswith("photo2scene")]) == 1
