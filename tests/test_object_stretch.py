"""Scale: uniform by default; a per-axis stretch (within +-15 %) only when it fits clearly better, recorded in
scene.json. The real stage runs on the box room with the built-in cabinet rendered into it."""

from __future__ import annotations

import math

import numpy as np

import test_objects
from test_objects import ASSET, _case_with_object, _fast_config
from pipeline.core.bundle import BundleFiles
from pipeline.core.case import load_case
from pipeline.core.events import Silent
from pipeline.render.silhouettes import Pose
from pipeline.stages.objects import stage as object_stage
from pipeline.stages.objects.stage import merged_mesh
from pipeline.stages.room import stage as room_stage

retriever = test_objects.retriever  # the built-in library's index (a module fixture)


def _stage(folder, retriever, mesh):
    _case_with_object(folder, retriever, Pose(np.array([-0.3, 1.5, 0.0]), 0.0, 1.0), mesh=mesh)
    case = load_case(folder / "photo.png", folder / "estimates")
    config = _fast_config(rerank_k=1)
    config.objects.refine_iters = 30
    # The fit picks the cabinet itself among its near twins in the library (retrieval alone may rank a twin first):
    # the stretch, not the choice, is under test.
    config.objects.fit_candidates = 6
    scene = room_stage.run(None, case, config, Silent())
    return object_stage.run(scene, case, config, Silent(), BundleFiles(), retriever=retriever), config


def test_stretch_is_bounded_and_recorded_or_absent(tmp_path, retriever):
    v, f = merged_mesh(retriever.load_mesh(ASSET))
    plain, config = _stage(tmp_path / "plain", retriever, (v, f))
    wide, _ = _stage(tmp_path / "wide", retriever, (v * np.array([1.3, 1.0, 1.0]), f))  # 30 % wider than any model
    limit = math.exp(config.objects.aspect_limit)
    for scene in (plain, wide):
        obj = scene.objects[0]
        assert obj.asset_id == ASSET
        if obj.stretch is None:  # uniform: every axis scaled alike
            assert np.allclose(obj.scale, obj.scale[0], rtol=1e-6)
        else:
            assert all(1 / limit - 1e-6 <= s <= limit + 1e-6 for s in obj.stretch)
            ratio = np.asarray(obj.scale) / np.exp(np.mean(np.log(obj.scale)))
            assert np.allclose(ratio, obj.stretch, atol=1e-3)
    assert plain.objects[0].stretch is None
    stretch = wide.objects[0].stretch
    assert stretch is not None and stretch[0] > 1.05 and wide.stages["objects"]["stretched"] == 1
    assert wide.objects[0].mask_iou_after > plain.objects[0].mask_iou_after - 0.1
