"""Same inputs and seed, same scene (issue 19): the room and object stages render on one Dr.Jit thread on the CPU
(pipeline/render/determinism.py), so two runs of the real stages on the box room with the built-in cabinet give the
same objects. Without it, two benchmark runs of one room differed (object 3-D IoU 0.402 vs 0.408)."""

from __future__ import annotations

import json

import numpy as np

import test_objects
from test_objects import _case_with_object, _fast_config
from pipeline.core.bundle import BundleFiles
from pipeline.core.case import load_case
from pipeline.core.events import Silent
from pipeline.render.silhouettes import Pose
from pipeline.stages.objects import stage as object_stage
from pipeline.stages.room import stage as room_stage

retriever = test_objects.retriever  # the built-in library's index (a module fixture)


def _numbers(value) -> list[float]:
    """Every number in a JSON-like value, in order (for a relative comparison)."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return []
    if isinstance(value, (int, float)):
        return [float(value)]
    if isinstance(value, dict):
        return [x for k in sorted(value) for x in _numbers(value[k])]
    return [x for v in value for x in _numbers(v)]


def test_two_runs_give_the_same_room_and_objects(tmp_path, retriever):
    _case_with_object(tmp_path, retriever, Pose(np.array([-0.3, 1.5, 0.0]), 25.0, 1.0))
    case = load_case(tmp_path / "photo.png", tmp_path / "estimates")
    runs = []
    for _ in range(2):
        config = _fast_config(rerank_k=2)
        scene = room_stage.run(None, case, config, Silent())
        scene = object_stage.run(scene, case, config, Silent(), BundleFiles(), retriever=retriever)
        runs.append(json.loads(json.dumps({"room": scene.room.to_dict(), "camera": scene.camera.to_dict(),
                                           "objects": [o.to_dict() for o in scene.objects]})))
    first, second = runs
    assert [o["asset_id"] for o in first["objects"]] == [o["asset_id"] for o in second["objects"]]
    a, b = np.array(_numbers(first)), np.array(_numbers(second))
    assert a.shape == b.shape and np.allclose(a, b, rtol=1e-4, atol=1e-6), np.abs(a - b).max()
