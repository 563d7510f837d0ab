"""Object stage on a box room holding one library model at a known pose.

The object's mask and depth are rendered with our own silhouette renderer (fine for a unit test of the pose
logic; the benchmark grades on Cycles-rendered cases). The real stage runs: retrieval (category + size, no CLIP
weights), initial pose, yaw search, contacts, joint refinement, re-ranking, and the scene entry."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from PIL import Image

from box_case import DEVICE, write_box_case
from pipeline.bench.room import truth_transform
from pipeline.case import load_case
from pipeline.config import ReconstructConfig
from pipeline.events import Silent
from pipeline.geometry import pixel_rays
from pipeline.render.backend import init_mitsuba
from pipeline.render.silhouettes import Pose, SilhouetteRenderer
from pipeline.stages import objects as object_stage, room as room_stage
from pipeline.stages.objects import merged_mesh

ASSET = "builtin:cabinet_two_doors"


@pytest.fixture(scope="module")
def retriever(tmp_path_factory):
    from assets_index import builtin_index
    from pipeline.retrieval import Retriever

    index = builtin_index(None, directory=tmp_path_factory.mktemp("assets"), render=False)
    return Retriever(index, None, "category+size")


def _fast_config(rerank_k: int) -> ReconstructConfig:
    """Small, quick settings: the room comes from the exact fit, objects get a short refinement."""
    config = ReconstructConfig()
    config.device = DEVICE
    config.room.refine_iters = 0
    config.objects.refine_iters = 15
    config.objects.refine_width = 96
    config.objects.spp = 4
    config.objects.rerank_k = rerank_k
    return config


def _case_with_object(folder, retriever, pose: Pose, width=128, height=96):
    truth = write_box_case(folder, width=width, height=height, yaw=10.0)
    parts = retriever.index.load_mesh(ASSET)
    mesh = merged_mesh(parts)
    init_mitsuba(DEVICE)
    r = SilhouetteRenderer(truth["camera"], [mesh], [0], [pose], width, height, 16)
    mask = np.array(r.render())[..., 0] > 0.5
    ray_dist = r.render_depth()
    z = ray_dist / np.linalg.norm(pixel_rays(width, height, truth["camera"].fov_y_deg), axis=-1)
    est = folder / "estimates"
    depth = np.load(est / "depth.npy")
    depth[mask] = z[mask]
    np.save(est / "depth.npy", depth.astype(np.float32))
    ids = np.asarray(Image.open(est / "segmentation.png")).astype(np.uint16)
    ids[mask] = 10
    Image.fromarray(ids).save(est / "segmentation.png")
    segs = [s for s in json.loads((est / "segments.json").read_text()) if (ids == s["id"]).any()]
    segs.append({"id": 10, "label": "cabinet", "kind": "thing"})
    (est / "segments.json").write_text(json.dumps(segs))
    return truth


def test_object_stage_recovers_pose(tmp_path, retriever):
    true_pose = Pose(np.array([-0.3, 1.5, 0.0]), 0.0, 1.0)  # against the +y wall, front (-Y) to the camera
    truth = _case_with_object(tmp_path, retriever, true_pose)
    case = load_case(tmp_path / "photo.png", tmp_path / "estimates")
    config = _fast_config(rerank_k=2)
    scene = room_stage.run(None, case, config, Silent())
    scene = object_stage.run(scene, case, config, Silent(), retriever=retriever)

    assert len(scene.objects) == 1
    obj = scene.objects[0]
    assert obj["label"] == "cabinet" and obj["contact"] == "floor"
    from assets_index import related_categories

    assert len(obj["candidates"]) >= 2 and obj["candidates"][0]["category"] == "cabinet"
    assert all(c["category"] in related_categories("cabinet") for c in obj["candidates"])
    assert obj["mask_iou_after"] > 0.8
    # Shape retrieval: every cabinet-family model was posed and scored; the one in the photo fits best.
    assert obj["asset_id"] == ASSET
    assert all(c["shape_fit"] is not None for c in obj["candidates"])
    # Pose in the true world (through the cameras): bottom-centre location and yaw.
    truth_json = {"camera": {"rotation": truth["camera"].rotation, "position": truth["camera"].position}}
    rot, trans, yaw_offset = truth_transform(scene, truth_json)
    location = rot @ np.asarray(obj["location"]) + trans
    assert np.linalg.norm(location[:2] - true_pose.location[:2]) < 0.2
    yaw_err = (obj["yaw_deg"] + yaw_offset) % 180.0
    assert min(yaw_err, 180 - yaw_err) < 15
    # Part meshes and materials are ready for the bundle.
    assert all(p["mesh"] in scene.files for p in obj["parts"])
    assert all(p["material"] in scene.materials for p in obj["parts"])


def test_floor_standing_prior_and_wall_facing(tmp_path, retriever):
    """A cabinet turned towards the wall by the silhouette alone is turned to face the room."""
    from pipeline.scene import Room
    from pipeline.stages.object_pose import choose_yaw

    room = Room([0, 0, 1.35], [5.0, 4.0, 2.7], 0.0)
    tried = [(2 * math.pi * k / 12, 0.1 + 0.001 * k) for k in range(12)]  # best at yaw 0: front (-Y) faces -y
    yaw, _ = choose_yaw(tried, np.array([0.0, -1.7, 0.0]), room, near_wall_m=0.5)  # near the -y wall
    front = np.array([math.sin(yaw), -math.cos(yaw)])
    assert front @ np.array([0.0, 1.0]) > 0.5  # faces into the room (+y)
    yaw_far, _ = choose_yaw(tried, np.array([0.0, 0.0, 0.0]), room, near_wall_m=0.5)
    assert yaw_far == 0.0


def test_refine_from_objects_keeps_choice_and_fixes_pose(tmp_path, retriever, monkeypatch):
    """Reconstruct, move an object and pick another candidate in scene.json (as the add-on does), then
    `refine --from-stage objects`: the pick stands and the pose is refined back towards the photo."""
    from blender_addon.bundle import load_bundle
    from pipeline import retrieval
    from pipeline.reconstruct import reconstruct, refine

    monkeypatch.setattr(retrieval, "open_retriever", lambda events, embedder=None, index=None: retriever)
    monkeypatch.setattr(object_stage, "open_retriever", lambda events, embedder=None, index=None: retriever)
    _case_with_object(tmp_path / "case", retriever, Pose(np.array([-0.3, 1.5, 0.0]), 0.0, 1.0))
    config = _fast_config(rerank_k=1)
    out = tmp_path / "out.bundle"
    reconstruct(tmp_path / "case/photo.png", tmp_path / "case/estimates", out, config, Silent())
    bundle = load_bundle(out)  # candidates' meshes and thumbnails are in the bundle
    obj = bundle.scene["objects"][0]
    good = list(obj["location"])
    other = obj["candidates"][1]
    assert other["parts"] and all((out / p["mesh"]).exists() for p in other["parts"])

    edited = json.loads((out / "scene.json").read_text())
    edited["objects"][0]["location"][0] += 0.25  # moved by hand
    edited["objects"][0]["asset_id"] = other["asset_id"]  # swapped by hand
    (out / "scene.json").write_text(json.dumps(edited))
    refine(out, "objects", config, Silent())

    after = load_bundle(out).scene
    obj = after["objects"][0]
    assert obj["asset_id"] == other["asset_id"]
    assert abs(obj["location"][0] - good[0]) < 0.2  # pulled back from the 0.25 m nudge
    assert json.loads((out / "checkpoints/edited.json").read_text())["objects"][0]["asset_id"] == other["asset_id"]
    assert not list(tmp_path.glob(".out.bundle*"))  # no partial or old folders left
