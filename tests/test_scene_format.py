"""The shared scene.json format (blender_addon/scene_format.py): records, validation, geometry, OBJ reader, names."""

from __future__ import annotations

import copy
import json
import math

import numpy as np
import pytest

from blender_addon import scene_format as fmt
from blender_addon.scene_format import BundleError, MaterialEntry, Object, SceneData, validate_scene
from pipeline.core.scene import Camera, Room, Scene


def _data() -> dict:
    """A scene.json with one of everything, as the pipeline writes it (plus a key from a newer writer)."""
    return {
        "format": fmt.FORMAT, "version": fmt.VERSION, "units": "metres", "up": "Z", "photo": "photo.png",
        "scale": {"source": "metric_depth", "factor": 1.0},
        "camera": {"position": [0.0, -1.0, 1.5], "rotation": [[1, 0, 0], [0, 0, -1], [0, 1, 0]], "fov_y_deg": 50.0,
                   "width": 64, "height": 48},
        "room": {"center": [0, 0, 1.3], "size": [4, 3, 2.6], "yaw_deg": 10.0,
                 "materials": {"floor": "room_floor", "wall_x_min": "room_wall"}},
        "objects": [{
            "name": "chair_1", "label": "chair", "segment_id": 7, "asset_id": "builtin:chair/a",
            "asset_source": "builtin", "location": [0.5, 0.2, 0.0], "yaw_deg": 30.0, "scale": [1.0, 1.1, 0.9],
            "size": [0.5, 0.5, 0.9], "contact": "floor",
            "parts": [{"name": "seat", "mesh": "meshes/chair_1/seat.obj", "material": "chair_1.seat",
                       "material_hint": "fabric"}],
            "candidates": [{"asset_id": "builtin:chair/a", "label": "a", "score": 0.9, "category": "chair",
                            "fit_loss": 0.1},
                           {"asset_id": "builtin:chair/b", "score": 0.5, "thumbnail": "thumbnails/b.png",
                            "parts": [{"name": "seat", "mesh": "meshes/chair_1/candidates/b/seat.obj",
                                       "material": "chair_1.seat"}]}],
            "chosen": 0, "retrieval": "clip", "mask_iou_before": 0.5, "mask_iou_after": 0.8,
            "future_key": {"kept": True},
        }],
        "lights": [{"name": "ceiling_0", "type": "area", "position": [0, 0, 2.5],
                    "rotation": [[1, 0, 0], [0, 1, 0], [0, 0, 1]], "size": [0.5, 0.5], "color": [1, 1, 1],
                    "power_w": 40.0, "visible_camera": False, "source": "ceiling grid"}],
        "materials": {
            "room_floor": {"type": "graph", "graph_file": "materials/room_floor.json", "values": {"scale": 2.0},
                           "library": "oak_planks", "uv_scale": 2.0, "uv_rotation_deg": 0.0, "chosen": 0,
                           "texture_search": {"scale": 2.0},
                           "candidates": [{"type": "graph", "graph_file": "materials/room_floor.json",
                                           "values": {}, "label": "oak (optimised)", "score": 0.3},
                                          {"type": "principled", "base_color": [0.3, 0.2, 0.1],
                                           "label": "flat colour"}]},
            "room_wall": {"type": "principled", "base_color": [0.6, 0.6, 0.6], "roughness": 0.7, "metallic": 0.0},
            "chair_1.seat": {"type": "principled", "base_color": [0.2, 0.2, 0.5], "emission": [0.0, 0.0, 0.0]},
        },
        "stages": {"room": {"status": "done"}},
    }


def test_roundtrip_keeps_every_key():
    data = _data()
    scene = SceneData.from_dict(data)
    assert isinstance(scene.objects[0], Object) and isinstance(scene.materials["room_wall"], MaterialEntry)
    assert scene.objects[0].parts[0].material == "chair_1.seat"
    assert scene.materials["room_floor"].candidates[1].base_color == [0.3, 0.2, 0.1]
    assert scene.objects[0].extra == {"future_key": {"kept": True}}  # a newer writer's field survives
    assert json.loads(json.dumps(scene.to_dict())) == data
    # The pipeline's Scene reads into its numpy-aware Camera and Room and writes the same file.
    piped = Scene.from_dict(data)
    assert isinstance(piped.camera, Camera) and isinstance(piped.room, Room)
    assert piped.to_dict() == data
    assert piped.camera.R.shape == (3, 3)


def test_records_read_like_dicts_but_are_written_as_attributes():
    obj = SceneData.from_dict(_data()).objects[0]
    assert obj["label"] == "chair" and obj["candidates"][1]["asset_id"] == "builtin:chair/b"
    assert obj.get("rotation") is None and "rotation" not in obj and "label" in obj
    assert obj["future_key"] == {"kept": True}
    with pytest.raises(KeyError):
        obj["no_such_key"]
    with pytest.raises(TypeError):
        obj["label"] = "sofa"  # type: ignore[index]


def test_records_own_their_data():
    data = _data()
    scene = SceneData.from_dict(data)
    scene.objects[0].location[0] = 9.0
    scene.objects[0].extra["future_key"]["kept"] = False
    assert data["objects"][0]["location"][0] == 0.5 and data["objects"][0]["future_key"]["kept"] is True


@pytest.mark.parametrize("path, value, message", [
    (("objects", 0, "scale", 1), -1.0, "objects[0].scale[1]: must be a positive finite number"),
    (("objects", 0, "scale", 1), 0.0, "objects[0].scale[1]: must be a positive finite number"),
    (("objects", 0, "location", 2), math.nan, "objects[0].location[2]: must be a finite number"),
    (("objects", 0, "location", 0), math.inf, "objects[0].location[0]: must be a finite number"),
    (("objects", 0, "location"), [0, 0], "objects[0].location: expected a list of 3 numbers"),
    (("objects", 0, "location", 1), "1.0", "objects[0].location[1]: must be a finite number"),
    (("objects", 0, "size", 0), -0.5, "objects[0].size[0]: must be a finite number in [0, 1000]"),
    (("objects", 0, "name"), 3, "objects[0].name: expected a string"),
    (("objects", 0, "parts", 0, "mesh"), None, "objects[0].parts[0].mesh: expected a relative path"),
    (("objects", 0, "candidates", 1, "score"), math.nan, "objects[0].candidates[1].score: must be a finite"),
    (("objects", 0, "chosen"), -1, "objects[0].chosen: expected an integer >= 0"),
    (("objects",), {}, "objects: expected a list"),
    (("objects", 0, "contact"), "ceiling", "objects[0].contact: expected floor, wall, none or support:NAME"),
    (("objects", 0, "proposal"), "yes", "objects[0].proposal: expected true or false"),
    (("materials", "room_floor", "values", "scale"), math.inf, "materials.room_floor.values.scale: must be a"),
    (("room", "size", 2), 1e6, "room.size[2]: must be a positive finite number (at most 1000)"),
    (("room", "size", 0), 0, "room.size[0]: must be a positive finite number"),
    (("room", "materials", "roof"), "room_wall", "room.materials.roof: unknown face"),
    (("room", "materials", "floor"), "missing", "room.materials.floor: material 'missing' is not defined"),
    (("camera", "width"), True, "camera.width: expected a positive integer"),
    (("camera", "height"), 10 ** 9, "camera.height: expected a positive integer"),
    (("camera", "fov_y_deg"), math.nan, "camera.fov_y_deg: expected degrees in (0, 180)"),
    (("camera", "rotation", 1), [0, 1], "camera.rotation[1]: expected a list of 3 numbers"),
    (("version",), 0, "version: expected an integer >= 1"),
    (("version",), 2, "version: 2 is newer than this reader"),
    (("version",), "1", "version: expected an integer"),
    (("units",), "feet", "units: expected 'metres'"),
    (("lights", 0, "power_w"), -1.0, "lights[0].power_w: expected watts"),
    (("lights", 0, "size", 1), 0.0, "lights[0].size[1]: must be a positive finite number"),
    (("lights", 0, "name"), None, "lights[0].name: expected a non-empty string"),
    (("lights", 0, "type"), "laser", "lights[0].type: expected area|point|spot|sun"),
    (("materials", "room_wall", "roughness"), 1.5, "materials.room_wall.roughness: must be a finite number in"),
    (("materials", "room_wall", "base_color", 0), -0.1, "materials.room_wall.base_color[0]: must be a finite"),
    (("materials", "room_floor", "uv_scale"), 0.0, "materials.room_floor.uv_scale: must be a positive finite"),
    (("materials", "room_floor", "candidates", 1, "type"), "pbr",
     "materials.room_floor.candidates[1].type: expected 'principled' or 'graph'"),
    (("materials", "room_floor", "graph_file"), 5, "materials.room_floor.graph_file: a graph material needs"),
])
def test_validator_names_the_failing_field(path, value, message):
    data = _data()
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(BundleError) as info:
        validate_scene(data)
    text = str(info.value)
    assert text.startswith("scene.json: ") and "\n" not in text
    assert message in text


def test_validator_rejects_duplicate_object_names():
    data = _data()
    data["objects"].append(copy.deepcopy(data["objects"][0]))
    with pytest.raises(BundleError, match=r"objects\[1\].name: 'chair_1' is used twice"):
        validate_scene(data)


def test_writer_refuses_what_the_reader_would():
    scene = SceneData.from_dict(_data())
    scene.objects[0].scale[0] = math.nan
    with pytest.raises(BundleError, match=r"objects\[0\].scale\[0\]"):
        scene.to_dict()


def test_room_faces_point_inward_and_match_the_pipeline():
    room = Room([0.5, -0.2, 1.3], [4.0, 3.0, 2.6], 25.0)
    quads = room.face_quads()
    assert list(quads) == list(fmt.ROOM_FACES)
    centre = np.asarray(room.center)
    for face, quad in quads.items():
        normal = np.cross(quad[1] - quad[0], quad[2] - quad[0])
        assert normal @ (centre - quad.mean(0)) > 0, face
        assert np.allclose(quad, np.asarray(fmt.room_face_corners(room.center, room.size, 25.0, face)))
    uvs = fmt.face_uvs(quads["floor"].tolist())
    assert uvs[2] == pytest.approx((4.0, 3.0))
    shrunk = room.face_quads(gap=0.1)["floor"]
    assert np.linalg.norm(shrunk[1] - shrunk[0]) == pytest.approx(3.8)


def test_object_matrix():
    m = np.asarray(fmt.object_matrix([1.0, 2.0, 0.0], 90.0, [2.0, 1.0, 1.0]))
    assert np.allclose(m @ [1.0, 0.0, 0.0, 1.0], [1.0, 4.0, 0.0, 1.0])  # +X scaled by 2, turned to +Y


def test_read_obj():
    text = "# box\nv 0 0 0\nv 1 0 0\nv 1 1 0\nv 0 1 0\nvt 0 0\nvt 1 0\nvt 1 1\nvt 0 1\nf 1/1 2/2 3/3 4/4\nf -4 -3 -2\n"
    obj = fmt.read_obj(text)
    assert obj.faces == [[0, 1, 2, 3], [0, 1, 2]] and obj.face_uvs == [[0, 1, 2, 3], None]
    assert not obj.has_uvs and len(obj.vertices) == 4
    with pytest.raises(BundleError, match="seat.obj line 2: index 5 out of range"):
        fmt.read_obj("v 0 0 0\nf 1 1 5\n", "seat.obj")
    with pytest.raises(BundleError, match="line 1: coordinates must be finite"):
        fmt.read_obj("v nan 0 0\n")
    with pytest.raises(BundleError, match="line 2: a face needs at least 3 corners"):
        fmt.read_obj("v 0 0 0\nf 1 1\n")


def test_pipeline_obj_parser_triangulates_the_shared_reading():
    from pipeline.render.scene_render import parse_obj

    text = "v 0 0 0\nv 1 0 0\nv 1 1 0\nv 0 1 0\nvt 0 0\nvt 1 0\nvt 1 1\nvt 0 1\nf 1/1 2/2 3/3 4/4\n"
    verts, tris, uvs = parse_obj(text)
    assert tris.tolist() == [[0, 1, 2], [0, 2, 3]] and uvs.shape == (4, 2) and verts.shape == (4, 3)


def test_names():
    assert fmt.slug("Chair / Oak (v2)") == "Chair_Oak_v2_"
    assert fmt.part_mesh_path(fmt.object_mesh_folder("chair_1"), "Seat Cushion") == "meshes/chair_1/Seat_Cushion.obj"
    assert fmt.candidate_mesh_folder("chair_1", "blend:/x/lib.blend#Object/A") == \
        "meshes/chair_1/candidates/blend_x_lib.blend_Object_A"
    assert fmt.material_graph_path("room wall") == "materials/room_wall.json"
    assert fmt.material_graph_path("room_wall", "oak planks") == "materials/room_wall.oak_planks.json"
    assert fmt.default_room_material("wall_x_min") == "room_wall" and fmt.room_face_name("floor") == "room_floor"
    assert fmt.part_material_name("chair_1", "seat") == "chair_1.seat"
