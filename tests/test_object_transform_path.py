"""One transform path: what the object stage posed (its final masks, rendered with every object, occlusions
counted) is what the exported .blend shows. The stage's id map (report/objects_final_ids.png) is compared with an
object-index pass of the .blend written from the bundle by the add-on's builders (real bpy), per object."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

bpy = pytest.importorskip("bpy")

import test_objects  # noqa: E402
from test_objects import _case_with_object, _fast_config  # noqa: E402
from p2s_common.images import write_png  # noqa: E402
from pipeline.app.bench.blend_view import id_map, open_blend  # noqa: E402
from pipeline.app.export.blend import write_blend  # noqa: E402
from pipeline.core.bundle import BundleFiles, save_scene  # noqa: E402
from pipeline.core.case import load_case  # noqa: E402
from pipeline.core.events import Silent  # noqa: E402
from pipeline.render.silhouettes import Pose  # noqa: E402
from pipeline.stages.objects import stage as object_stage  # noqa: E402
from pipeline.stages.room import stage as room_stage  # noqa: E402

retriever = test_objects.retriever  # the built-in library's index (a module fixture)


def _panel(extents):
    import trimesh

    mesh = trimesh.creation.box(extents=extents)
    mesh.apply_translation([0, 0, extents[2] / 2])
    return np.asarray(mesh.vertices, float), np.asarray(mesh.faces, int)


@pytest.mark.parametrize("label", ["cabinet", "curtain"])
def test_blend_shows_the_stages_final_masks(tmp_path, retriever, label):
    """A retrieved, searched, refined and re-ranked cabinet; a generated curtain on its wall."""
    if label == "cabinet":
        _case_with_object(tmp_path / "case", retriever, Pose(np.array([0.1, 1.2, 0.0]), 0.6, 1.0))
    else:
        _case_with_object(tmp_path / "case", retriever, Pose(np.array([-0.6, 1.97, 0.5]), 0.0, 1.0),
                          mesh=_panel([1.2, 0.05, 1.6]), label="curtain")
    case = load_case(tmp_path / "case/photo.png", tmp_path / "case/estimates")
    config = _fast_config(rerank_k=3)
    scene = room_stage.run(None, case, config, Silent())
    files = BundleFiles()
    scene = object_stage.run(scene, case, config, Silent(), files, retriever=retriever)
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    write_png(bundle / "photo.png", case.photo_srgb)
    save_scene(bundle, scene, files=files)

    view = open_blend(write_blend(bundle, tmp_path / "scene.blend"))
    assert (view.camera.width, view.camera.height) == (case.width, case.height)
    blend_ids = id_map(view, view.camera)
    stage_ids = np.asarray(Image.open(io.BytesIO(files.read(object_stage.FINAL_IDS)))).astype(np.int32)
    assert scene.objects
    for k, obj in enumerate(scene.objects, start=1):
        ours = stage_ids == k
        theirs = np.zeros_like(ours)
        for j, inst in enumerate(view.instances, start=1):
            if inst.name == obj.name:
                theirs |= blend_ids == j
        assert ours.sum() > 50
        iou = (ours & theirs).sum() / (ours | theirs).sum()
        assert iou >= 0.95, f"{obj.name}: the .blend shows IoU {iou:.3f} of the stage's final mask"
