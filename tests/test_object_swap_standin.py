"""Swapping between a stand-in (proxy) and the retrieved models offered with it (the add-on's edit, bpy-free)."""

from __future__ import annotations

import pytest

from blender_addon.edits import with_object_candidate
from blender_addon.scene_format import Candidate, Object, Part, validate_scene


def _proxy_entry() -> Object:
    proxy_parts = [Part("proxy", "meshes/cabinet_1/proxy.obj", "cabinet_1.proxy")]
    return Object("cabinet_1", [0.0, 1.0, 0.0], label="cabinet", asset_id="proxy:extruded_silhouette",
                  parts=proxy_parts, flags=["proxy"], chosen=0, candidates=[
                      Candidate("proxy:extruded_silhouette", label="cabinet (proxy)", parts=proxy_parts),
                      Candidate("blend:/lib/a.blend#Object/Stool", label="stool", asset_source="blend",
                                asset_path="/lib/a.blend", asset_datablock="Object", asset_name="Stool",
                                parts=[Part("seat", "meshes/cabinet_1/candidates/stool/seat.obj", "cabinet_1.proxy")])])


def test_swap_to_a_model_and_back_to_the_proxy():
    entry = _proxy_entry()
    model = with_object_candidate(entry, 1)
    assert model.asset_id.startswith("blend:") and model.asset_source == "blend" and model.flags is None
    assert [p.name for p in model.parts] == ["seat"]
    back = with_object_candidate(model, 0)
    assert back.asset_id == "proxy:extruded_silhouette" and back.flags == ["proxy"]
    # No library fields linger: the builder must not append the stool from its .blend for the proxy.
    assert back.asset_source is None and back.asset_path is None and back.asset_name is None
    assert [p.name for p in back.parts] == ["proxy"]


def test_low_iou_flag_survives_a_swap_and_the_entry_validates():
    entry = _proxy_entry()
    entry.flags = ["low_mask_iou", "proxy"]
    model = with_object_candidate(entry, 1)
    assert model.flags == ["low_mask_iou"]
    from pipeline.core.scene import Camera, Room, Scene

    scene = Scene(Camera([0.4, -1.0, 1.45], [[1, 0, 0], [0, 0, 1], [0, -1, 0]], 52.0, 80, 60),
                  Room([0, 0, 1.35], [5.0, 4.0, 2.7], 0.0))
    scene.objects = [Object.from_dict(model.to_dict()), Object.from_dict({**entry.to_dict(), "name": "cabinet_2"})]
    scene.objects[0].stretch = [1.1, 0.95, 1.0]
    validate_scene(scene.to_dict())
    bad = scene.to_dict()
    bad["objects"][0]["stretch"] = [1.1, -1.0, 1.0]
    with pytest.raises(Exception, match="stretch"):
        validate_scene(bad)


def test_dropping_an_object_records_its_segment():
    from blender_addon.edits import drop_object
    from blender_addon.scene_format import SceneData
    from pipeline.core.scene import Camera, Room, Scene

    entry = _proxy_entry()
    entry.segment_id = 10
    scene = Scene(Camera([0.4, -1.0, 1.45], [[1, 0, 0], [0, 0, 1], [0, -1, 0]], 52.0, 80, 60),
                  Room([0, 0, 1.35], [5.0, 4.0, 2.7], 0.0))
    scene.objects = [entry]
    data = SceneData.from_dict(scene.to_dict())
    drop_object(data, data.objects[0])
    drop_object(data, data.objects[0])  # once only
    data.objects = []
    assert data.stages["objects"]["dropped_segments"] == [10]
    validate_scene(data.to_dict())
