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
from pipeline.app.bench.room import truth_transform
from pipeline.core.bundle import BundleFiles
from pipeline.core.case import load_case
from pipeline.core.events import Silent
from pipeline.core.geometry import pixel_rays
from pipeline.render.backend import init_mitsuba
from pipeline.render.silhouettes import Pose, SilhouetteRenderer
from pipeline.stages.config import ReconstructConfig
from pipeline.stages.objects import stage as object_stage
from pipeline.stages.objects.stage import merged_mesh
from pipeline.stages.room import stage as room_stage

ASSET = "builtin:cabinet_two_doors"


@pytest.fixture(scope="module")
def retriever(tmp_path_factory):
    from assets_index import builtin_index
    from pipeline.stages.objects.retrieval import Retriever

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
    # The material stage runs too (reconstruct, refine) but is not under test here: a short loop (at its defaults
    # it made one test of this file take 5 minutes of the suite).
    ml = config.materials_lights
    ml.iters, ml.init_rounds, ml.spp, ml.final_spp, ml.validate_spp = 4, 1, 4, 16, 8
    return config


def _case_with_object(folder, retriever, pose: Pose, width=128, height=96, mesh=None, label="cabinet"):
    """The box case with one object (segment `label`) in it: `mesh` (canonical (vertices, faces)), by default the
    built-in ASSET."""
    truth = write_box_case(folder, width=width, height=height, yaw=10.0)
    if mesh is None:
        mesh = merged_mesh(retriever.load_mesh(ASSET))
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
    segs.append({"id": 10, "label": label, "kind": "thing"})
    (est / "segments.json").write_text(json.dumps(segs))
    return truth


def test_object_stage_recovers_pose(tmp_path, retriever):
    true_pose = Pose(np.array([-0.3, 1.5, 0.0]), 0.0, 1.0)  # against the +y wall, front (-Y) to the camera
    truth = _case_with_object(tmp_path, retriever, true_pose)
    case = load_case(tmp_path / "photo.png", tmp_path / "estimates")
    config = _fast_config(rerank_k=2)
    scene = room_stage.run(None, case, config, Silent())
    files = BundleFiles()
    scene = object_stage.run(scene, case, config, Silent(), files, retriever=retriever)

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
    assert all(p["mesh"] in files for p in obj["parts"])
    assert all(p["material"] in scene.materials for p in obj["parts"])


def test_floor_standing_prior_and_wall_facing(tmp_path, retriever):
    """A cabinet turned towards the wall by the silhouette alone is turned to face the room."""
    from pipeline.core.scene import Room
    from pipeline.stages.objects.pose import choose_yaw

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
    from pipeline.app.reconstruct import reconstruct, refine
    from pipeline.stages.objects import retrieval

    monkeypatch.setattr(retrieval, "open_retriever", lambda events, config=None, embedder=None: retriever)
    monkeypatch.setattr(object_stage, "open_retriever", lambda events, config=None, embedder=None: retriever)
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


def _user_library(folder):
    """A folder with two models of the artist's own, written with trimesh: a tall narrow cabinet (body, plinth,
    a door panel on its front) unlike any built-in one, and a stool; Z up, metres, said by sidecars."""
    import trimesh

    folder.mkdir(parents=True)
    body = trimesh.creation.box(extents=[0.5, 0.42, 1.6])
    body.apply_translation([0, 0, 0.88])
    plinth = trimesh.creation.box(extents=[0.46, 0.38, 0.08])
    plinth.apply_translation([0, 0, 0.04])
    door = trimesh.creation.box(extents=[0.46, 0.02, 1.5])
    door.apply_translation([0, -0.22, 0.88])
    trimesh.util.concatenate([body, plinth, door]).export(folder / "tall_cabinet.obj")
    (folder / "tall_cabinet.json").write_text(json.dumps({"category": "cabinet", "up": "z", "units": "m"}))
    stool = trimesh.creation.cylinder(radius=0.2, height=0.45)
    stool.apply_translation([0, 0, 0.225])
    stool.export(folder / "round_stool.obj")
    (folder / "round_stool.json").write_text(json.dumps({"category": "stool", "up": "z", "units": "m"}))
    return folder / "tall_cabinet.obj"


def test_object_stage_retrieves_from_the_users_library(tmp_path, monkeypatch):
    """The artist's models, indexed with `photo2scene assets index PATH --index DIR`, are searched with the
    built-in library when `objects.asset_index` names DIR: the photo shows the artist's cabinet, and it is the one
    chosen, with built-in cabinets among the other candidates; the log says what was searched."""
    from assets_index import open_index
    from pipeline.app.cli import main
    from pipeline.core.events import Events

    monkeypatch.setenv("PHOTO2SCENE_ASSETS_INDEX", str(tmp_path / "default"))  # the built-in index goes here
    model = _user_library(tmp_path / "my_models")
    index_dir = tmp_path / "my_index"
    assert main(["assets", "index", str(tmp_path / "my_models"), "--index", str(index_dir), "--no-clip",
                 "--no-render"]) == 0
    user = open_index(index_dir)
    asset = f"file:{model.resolve()}"
    assert asset in user and user.get(asset).category == "cabinet"

    true_pose = Pose(np.array([-0.3, 1.55, 0.0]), 0.0, 1.0)  # against the +y wall, its door to the camera
    truth = _case_with_object(tmp_path / "case", None, true_pose, mesh=merged_mesh(user.load_mesh(asset)))
    case = load_case(tmp_path / "case/photo.png", tmp_path / "case/estimates")
    config = _fast_config(rerank_k=2)
    config.objects.asset_index = str(index_dir)
    scene = room_stage.run(None, case, config, Silent())
    events = Events(jsonl=None, bars=False, log=None)
    scene = object_stage.run(scene, case, config, events)

    obj = scene.objects[0]
    assert obj["asset_id"] == asset and obj["asset_source"] == "folder" and obj["asset_path"] == str(model.resolve())
    assert obj["asset_library"] == f"folder:{(tmp_path / 'my_models').resolve()}"
    assert any(c["asset_id"].startswith("builtin:cabinet") for c in obj["candidates"])  # merged with the built-in
    assert obj["mask_iou_after"] > 0.8
    libraries = scene.stages["objects"]["libraries"]
    assert [lib["models"] for lib in libraries] == [2, len(open_index(tmp_path / "default/builtin"))]
    searched = next(line for line in events.lines if "searching" in line)
    assert str(index_dir.resolve()) in searched and "2 models" in searched and "built-in library" in searched
    # Its yaw: the door faces the room and the camera (its box would fit either way round).
    truth_json = {"camera": {"rotation": truth["camera"].rotation, "position": truth["camera"].position}}
    rot, trans, yaw_offset = truth_transform(scene, truth_json)
    yaw_err = (obj["yaw_deg"] + yaw_offset) % 360.0
    assert min(yaw_err, 360 - yaw_err) < 15


def test_asset_index_errors_and_default(tmp_path, monkeypatch):
    """A given index that is missing or empty is an InputError naming the fix; without one, the default index
    is searched only when it holds models; 'builtin' means the built-in library alone."""
    from assets_index import open_index, update_index
    from assets_index.sources import FolderSource
    from p2s_common.errors import InputError
    from pipeline.stages.objects.retrieval import user_index

    monkeypatch.setenv("PHOTO2SCENE_ASSETS_INDEX", str(tmp_path / "default"))
    with pytest.raises(InputError, match=r"does not exist.*photo2scene assets index PATH --index"):
        user_index(str(tmp_path / "nope"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match=r"no asset index.*photo2scene assets index PATH --index"):
        user_index(str(tmp_path / "empty"))
    open_index(tmp_path / "empty", create=True).save()
    with pytest.raises(InputError, match="holds no models"):
        user_index(str(tmp_path / "empty"))
    assert user_index("") is None and user_index("builtin") is None  # no default index yet
    _user_library(tmp_path / "models")
    default = open_index(tmp_path / "default", create=True)
    update_index(default, [FolderSource(tmp_path / "models")], render=False)
    assert len(user_index("")) == 2


def test_retriever_merges_indices_by_one_score():
    """Two indices queried as one: with embeddings of the same CLIP model the cosines rank across both; without
    an embedding the size fit does; a model in both answers once."""
    from assets_index import AssetIndex, AssetRecord
    from pipeline.stages.objects.retrieval import Retriever

    def record(asset_id: str, category: str, size) -> AssetRecord:
        return AssetRecord(id=asset_id, source="folder", path=asset_id, category=category, size=size,
                           views=[f"{asset_id}.png"])

    a = AssetIndex.in_memory([record("file:a1", "sofa", (2.0, 0.9, 0.8)),
                              record("file:a2", "chair", (0.5, 0.5, 0.9))],
                             np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], np.float32))
    b = AssetIndex.in_memory([record("builtin:b1", "sofa", (2.2, 0.9, 0.8)),
                              record("file:a1", "sofa", (2.0, 0.9, 0.8))],
                             np.array([[0.8, 0.6, 0.0], [1.0, 0.0, 0.0]], np.float32))
    r = Retriever([a, b], None, "test")
    got = r.query(np.array([0.6, 0.8, 0.0], np.float32), 5, ["sofa"], None, 0.0)
    assert [m.asset_id for m in got] == ["builtin:b1", "file:a1"]  # 0.96 > 0.6; a1 once
    got = r.query(None, 5, ["sofa"], (2.2, 0.9, 0.8))
    assert [m.asset_id for m in got] == ["builtin:b1", "file:a1"]  # the size that fits first
    assert r.index_of("builtin:b1") is b and r.index_of("file:a1") is a and "file:a2" in r


def test_the_retriever_loads_a_model_once_and_hands_out_copies(retriever, monkeypatch):
    """Shape retrieval, re-ranking and the offered candidates load the same models again: the retriever reads
    each file once (up to MESH_CACHE models) and every caller gets its own copies to transform."""
    from pipeline.stages.objects import retrieval

    index = retriever.index_of(ASSET)
    reads = []
    real = index.load_mesh
    monkeypatch.setattr(index, "load_mesh", lambda asset_id: reads.append(asset_id) or real(asset_id))
    retriever._meshes.clear()
    first = retriever.load_mesh(ASSET)
    name = next(iter(first))
    before = first[name].vertices.copy()
    first[name].apply_translation([5.0, 0.0, 0.0])  # a caller moving its copy
    second = retriever.load_mesh(ASSET)
    assert reads == [ASSET]  # read once
    assert np.allclose(second[name].vertices, before)  # not the moved copy
    monkeypatch.setattr(retrieval, "MESH_CACHE", 1)
    other = next(r.id for r in index.records if r.id != ASSET)
    retriever.load_mesh(other)
    retriever.load_mesh(ASSET)  # pushed out by the other model: read again
    assert reads == [ASSET, other, ASSET]


def test_reconstruct_with_a_missing_asset_index_exits_2(box_case, tmp_path):
    """`reconstruct --objects.asset-index DIR` with no index in DIR: exit 2, one error line naming the fix, no
    bundle."""
    import os
    import subprocess
    import sys

    from box_case import REPO

    folder, _ = box_case
    out, missing = tmp_path / "out.bundle", tmp_path / "no_index"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.run([sys.executable, "-m", "pipeline", "reconstruct", str(folder / "photo.png"), "--estimates",
                           str(folder / "estimates"), "-o", str(out), "--objects.asset-index", str(missing),
                           "--preset", "draft", "--room.refine-iters", "0", "--quiet"],
                          capture_output=True, text=True, env=env, cwd=REPO, timeout=600)
    assert proc.returncode == 2, proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("photo2scene: error: --objects.asset-index") and str(missing) in last
    assert f"photo2scene assets index PATH --index {missing}" in last and "Traceback" not in proc.stderr
    assert not out.exists() and not list(tmp_path.glob(".out.bundle*"))
