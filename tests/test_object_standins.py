"""Stand-ins in the object stage: a proxy from the object's own mask and depth when the libraries have nothing
of its kind, and a generated curtain hung on its wall, sized from the mask and depth. The real stage runs (no
CLIP weights: category + size + shape fit) on the box room with one object rendered into it."""

from __future__ import annotations

import json

import numpy as np
import pytest

from blender_addon.scene_format import validate_scene
from pipeline.app.bench.room import truth_transform
from pipeline.core.bundle import BundleFiles
from pipeline.core.case import load_case
from pipeline.core.events import Events
from pipeline.render.silhouettes import Pose
from pipeline.stages.objects import stage as object_stage
from pipeline.stages.room import stage as room_stage
import test_objects
from test_objects import _case_with_object, _fast_config

retriever = test_objects.retriever  # the built-in library's index (a module fixture)


def _box(extents, bottom=0.0):
    import trimesh

    mesh = trimesh.creation.box(extents=extents)
    mesh.apply_translation([0, 0, bottom + extents[2] / 2])
    return np.asarray(mesh.vertices, float), np.asarray(mesh.faces, int)


def _run(folder, retriever, mesh, pose, label):
    truth = _case_with_object(folder, retriever, pose, mesh=mesh, label=label)
    case = load_case(folder / "photo.png", folder / "estimates")
    config = _fast_config(rerank_k=2)
    scene = room_stage.run(None, case, config, Events(jsonl=None, bars=False, log=None))
    events = Events(jsonl=None, bars=False, log=None)
    files = BundleFiles()
    scene = object_stage.run(scene, case, config, events, files, retriever=retriever)
    validate_scene(json.loads(json.dumps(scene.to_dict())))
    truth_json = {"camera": {"rotation": truth["camera"].rotation, "position": truth["camera"].position}}
    return scene, events, files, truth_transform(scene, truth_json)


def _artists_library(root, models: dict):
    """A Retriever over an artist's library (no built-in one) of `models`: {name: (trimesh in metres, Z up,
    category)}."""
    from assets_index import open_index
    from pipeline.app.cli import main
    from pipeline.stages.objects.retrieval import Retriever

    folder = root / "models"
    folder.mkdir()
    for name, (mesh, category) in models.items():
        mesh.export(folder / f"{name}.obj")
        (folder / f"{name}.json").write_text(json.dumps({"category": category, "up": "z", "units": "m"}))
    assert main(["assets", "index", str(folder), "--index", str(root / "index"), "--no-clip", "--no-render"]) == 0
    return Retriever(open_index(root / "index"), None, "category+size")


@pytest.fixture(scope="module")
def stool_only(tmp_path_factory):
    """An artist's library holding one stool (and no built-in library): it has no cabinet."""
    import trimesh

    stool = trimesh.creation.cylinder(radius=0.2, height=0.45)
    stool.apply_translation([0, 0, 0.225])
    return _artists_library(tmp_path_factory.mktemp("stools"), {"round_stool": (stool, "stool")})


RUG = [1.6, 1.0, 0.03]  # the artist's rug (metres)


@pytest.fixture(scope="module")
def rug_only(tmp_path_factory):
    """An artist's library holding one rectangular rug."""
    import trimesh

    rug = trimesh.creation.box(extents=RUG)
    rug.apply_translation([0, 0, RUG[2] / 2])
    return _artists_library(tmp_path_factory.mktemp("rugs"), {"wool_rug": (rug, "rug")})


def test_the_artists_rug_is_used_where_it_fits(tmp_path, rug_only):
    """A rug whose very model is in the artist's library: that model at its real size (its seen thickness says
    nothing of its size: a flat model is scaled by its footprint), not the generated rug."""
    pose = Pose(np.array([-0.2, 0.9, 0.0]), np.radians(10.0), 1.0)
    scene, events, _, _ = _run(tmp_path, rug_only, _box(RUG), pose, "rug")
    obj = scene.objects[0]
    assert obj.asset_id.endswith("wool_rug.obj") and not obj.flags
    assert abs(max(obj.size[:2]) - RUG[0]) < 0.2 and obj.mask_iou_after > 0.8
    assert any("wool_rug" in line and "is used" in line for line in events.lines)


def test_a_library_rug_that_ends_up_hidden_goes_back_to_the_generated_one():
    """A rug the library's model won by its shape fit alone, but which covers little of its mask once all objects
    are rendered, is the generated one again (flagged, the model still offered); one that covers its mask stays."""
    from types import SimpleNamespace

    from pipeline.core.case import Segment
    from pipeline.stages.objects.pose import ObjectTarget

    targets, parts = [], []
    for k in range(2):
        tg = ObjectTarget(Segment(k, "rug", "thing"), np.zeros((4, 4), bool), np.zeros((0, 3)), f"rug_{k}")
        generated_pose = Pose(np.zeros(3), 0.0, 1.0)
        tg.generated = ({"rug": "generated"}, "parametric:rug", "generated mesh", np.ones(3), generated_pose,
                        "floor", None)
        tg.candidates = [SimpleNamespace(asset_id="builtin:rug_thick_shag")]
        tg.pose, tg.mesh = Pose(np.ones(3), 1.0, 0.7), "model mesh"
        targets.append(tg)
        parts.append({"body": "model"})
    events = Events()
    cfg = SimpleNamespace(proxy_below=0.5)
    assert object_stage.back_to_generated(targets, parts, [0.0, 0.8], cfg, events) == 1
    hidden, seen = targets
    assert hidden.standin == "parametric:rug" and "parametric" in hidden.flags and parts[0] == {"rug": "generated"}
    assert hidden.mesh == "generated mesh" and hidden.pose.scale == 1.0
    assert hidden.candidates[0].asset_id == "builtin:rug_thick_shag"
    assert not seen.standin and parts[1] == {"body": "model"} and seen.mesh == "model mesh"
    assert any("rug_0" in line and "generated one is used" in line for line in events.lines)


@pytest.mark.parametrize("label", ["table", "desk"])
def test_the_labels_own_category_wins_a_tie(tmp_path, label):
    """Two models of one shape, a table and a desk (a related category, searched because segmenters confuse
    them): the segment's label decides, not which of two equal fits comes first."""
    import trimesh

    top = trimesh.creation.box(extents=[1.2, 0.7, 0.75])
    top.apply_translation([0, 0, 0.375])
    (tmp_path / "library").mkdir()
    library = _artists_library(tmp_path / "library",
                               {"plain_table": (top, "table"), "plain_desk": (top.copy(), "desk")})
    scene, _, _, _ = _run(tmp_path, library, _box([1.2, 0.7, 0.75]), Pose(np.array([-0.2, 1.2, 0.0]), 0.0, 1.0), label)
    assert scene.objects[0].asset_id.endswith(f"plain_{label}.obj")


def test_a_rug_the_library_cannot_fit_is_generated(tmp_path, rug_only):
    """A long runner where the library's only rug is a squat rectangle: uniformly scaled it cannot cover the
    runner, so the generator builds one from the mask, and the library's rug stays on offer."""
    pose = Pose(np.array([-0.2, 0.9, 0.0]), np.radians(80.0), 1.0)
    scene, _, _, _ = _run(tmp_path, rug_only, _box([3.0, 0.45, 0.02]), pose, "rug")
    obj = scene.objects[0]
    assert obj.asset_id == "parametric:rug" and obj.flags == ["parametric"]
    assert any(c.asset_id.endswith("wool_rug.obj") for c in obj.candidates)


def test_a_category_the_library_lacks_gets_a_proxy(tmp_path, stool_only):
    """A cabinet where the only library holds a stool: not a stool scaled up, but a proxy extruded from the
    cabinet's own silhouette and depth, flagged as such, with the stool still on offer."""
    mesh = _box([0.9, 0.45, 1.3])
    scene, events, files, _ = _run(tmp_path, stool_only, mesh, Pose(np.array([-0.3, 1.5, 0.0]), 0.0, 1.0), "cabinet")
    obj = scene.objects[0]
    assert obj.asset_id.startswith("proxy:") and "proxy" in obj.flags
    assert obj.candidates[0].asset_id == obj.asset_id and obj.chosen == 0
    assert any(c.category == "stool" and c.parts for c in obj.candidates[1:])  # swappable at once
    assert obj.contact == "floor" and abs(obj.location[2]) < 1e-6
    assert obj.mask_iou_after > 0.75
    w, d, h = obj.size
    assert abs(h - 1.3) < 0.2 and abs(w - 0.9) < 0.25
    assert all(p.mesh in files for p in obj.parts)
    assert any("proxy" in line and "cabinet_1" in line for line in events.lines)
    assert scene.stages["objects"]["flagged"] == ["cabinet_1"]


def test_a_curtain_is_generated_on_its_wall(tmp_path, retriever):
    """A curtain (a thin panel against the +y wall) becomes the curtain generator's model at the panel's size,
    its back on the wall and its front to the room, not a shelf or a plant."""
    mesh = _box([1.2, 0.05, 1.6])
    true = Pose(np.array([-0.6, 1.97, 0.5]), 0.0, 1.0)
    scene, events, files, (rot, trans, yaw_offset) = _run(tmp_path, retriever, mesh, true, "curtain")
    obj = scene.objects[0]
    assert obj.asset_id == "parametric:curtain" and obj.flags == ["parametric"]
    assert obj.contact == "wall"
    assert all(c.category in ("curtain", "blind") for c in obj.candidates)
    assert obj.mask_iou_after > 0.7
    w, d, h = obj.size
    assert abs(w - 1.2) < 0.25 and abs(h - 1.6) < 0.25
    assert d < 0.1  # folds as shallow as the flat panel's relief (the generator's default made it 14 cm deep)
    # In the true frame: its front (-Y) faces into the room (-y here); its back is on the wall (y = 2).
    yaw = np.radians(obj.yaw_deg + yaw_offset)
    assert np.array([np.sin(yaw), -np.cos(yaw)]) @ np.array([0.0, -1.0]) > 0.9
    location = rot @ np.asarray(obj.location) + trans
    assert abs(location[1] + d / 2 - 2.0) < 0.1 and abs(location[0] + 0.6) < 0.15


def test_a_dropped_segment_stays_out_on_a_re_run(tmp_path, retriever):
    """The add-on's sync records a deleted object's segment in stages.objects.dropped_segments; the stage then
    leaves that segment out (and keeps the record), so Refine does not bring it back."""
    _case_with_object(tmp_path, retriever, Pose(np.array([-0.3, 1.5, 0.0]), 0.0, 1.0))
    case = load_case(tmp_path / "photo.png", tmp_path / "estimates")
    config = _fast_config(rerank_k=1)
    scene = room_stage.run(None, case, config, Events(jsonl=None, bars=False, log=None))
    scene.stages["objects"] = {"dropped_segments": [10]}
    scene = object_stage.run(scene, case, config, Events(jsonl=None, bars=False, log=None), BundleFiles(),
                             retriever=retriever)
    assert scene.objects == [] and scene.stages["objects"]["dropped_segments"] == [10]


def _hung_points(x0, x1, z0, z1, y=1.96, n=400, seed=0):
    rng = np.random.default_rng(seed)
    return np.column_stack([rng.uniform(x0, x1, n), y + rng.normal(0, 0.01, n), rng.uniform(z0, z1, n)])


def test_a_curtain_cut_by_the_border_hangs_like_its_sibling():
    """Two curtains on one wall; the photo's left edge leaves only a sliver of one (its top and bottom leave
    the frame too, in perspective). The whole one says how long and wide a curtain on that rod is."""
    from pipeline.core.case import Segment
    from pipeline.core.scene import Room
    from pipeline.stages.objects.pose import ObjectTarget
    from pipeline.stages.objects.standins import hanging_siblings, parametric_parts, parts_size

    room = Room([0, 0, 1.25], [4.0, 4.0, 2.5], 0.0)
    mask = np.zeros((4, 4), bool)
    whole = ObjectTarget(Segment(1, "curtain", "thing"), mask, _hung_points(0.5, 0.95, 0.3, 2.2), "curtain_1")
    sliver = ObjectTarget(Segment(2, "curtain", "thing"), mask, _hung_points(-1.0, -0.92, 0.9, 1.5, seed=1),
                          "curtain_2", cut=frozenset({"left"}))
    assert {k: v.name for k, v in hanging_siblings([whole, sliver], room).items()} == {"curtain_2": "curtain_1"}
    camera_xy = np.array([0.0, -1.5])  # looking at the +y wall: its left is -x
    parts, pose, contact = parametric_parts(sliver, room, camera_xy=camera_xy, sibling=whole)
    w, _, h = parts_size(parts)
    assert contact == "wall" and abs(pose.location[2] - 0.3) < 0.05 and abs(h - 1.9) < 0.15
    assert abs(w - 0.45) < 0.06
    assert pose.location[0] < -0.92 - 0.1  # grown towards the hidden side, beyond the frame
    # Seen whole, or with no whole one on its wall, a curtain keeps its own measured extent.
    alone = parametric_parts(sliver, room, camera_xy=camera_xy)
    assert abs(parts_size(alone[0])[2] - 0.6) < 0.1
    assert hanging_siblings([sliver], room) == {}


def _relief(points, label):
    from box_case import look_rotation
    from pipeline.core.case import Segment
    from pipeline.core.scene import Camera
    from pipeline.stages.objects.pose import ObjectTarget
    from pipeline.stages.objects.standins import relief_parts

    camera = Camera([0.0, -2.0, 1.5], look_rotation(0.0, -20.0).tolist(), 55.0, 320, 240)
    target = ObjectTarget(Segment(1, label, "thing"), np.zeros((4, 4), bool), np.asarray(points, float), "x_1")
    parts, pose = relief_parts(target, camera)
    return parts["proxy"], pose  # the proxy in its canonical frame (front -Y, towards the camera)


def test_the_relief_proxy_of_a_bed_is_a_mattress_with_its_headboard():
    """The depth points of a bed seen from its foot (the mattress top at 0.55 m, the headboard at the back to
    1.2 m): the proxy stands on the floor, mattress-high at the front and headboard-high at the back, not one
    slab as tall as the headboard."""
    rng = np.random.default_rng(0)
    xs, ys = rng.uniform(-0.8, 0.8, 3000), rng.uniform(0.0, 1.9, 3000)
    mattress = np.stack([xs, ys, np.full_like(xs, 0.55)], 1)
    hx, hz = rng.uniform(-0.8, 0.8, 800), rng.uniform(0.55, 1.2, 800)
    headboard = np.stack([hx, np.full_like(hx, 1.95), hz], 1)
    parts_mesh, pose = _relief(np.vstack([mattress, headboard]), "bed")

    local = parts_mesh.vertices
    assert abs(pose.location[2]) < 1e-9  # on the floor
    w, d, h = local.max(0) - local.min(0)
    assert 1.4 < w < 1.8 and 1.8 < d < 2.2 and 1.1 < h < 1.3
    # The front half is mattress-high: no vertex there above 0.7 m (canonical front is -Y, towards the camera).
    front = local[local[:, 1] < local[:, 1].min() + 0.8]
    assert front[:, 2].max() < 0.7


def test_the_relief_proxy_of_a_front_seen_wardrobe_has_a_wardrobes_depth():
    """Only the front of a wardrobe is seen (points on one vertical plane): the hidden part behind it is
    wardrobe, as deep as the category's typical depth, not a 1 cm card."""
    from assets_index.categories import TYPICAL_SIZE

    rng = np.random.default_rng(1)
    xs, zs = rng.uniform(-0.5, 0.5, 2000), rng.uniform(0.0, 2.0, 2000)
    parts_mesh, pose = _relief(np.stack([xs, np.full_like(xs, 1.0), zs], 1), "wardrobe")
    d = float(np.ptp(parts_mesh.vertices[:, 1]))
    assert d >= 0.9 * min(TYPICAL_SIZE["wardrobe"][:2])


def test_a_flagged_model_gives_way_to_any_better_proxy(monkeypatch):
    """The proxy replaces a poor model only when it covers the mask `proxy_gain` better, but a model under the
    low-IoU flag (known to be wrong) gives way to any proxy that covers more. The masks' IoUs with everything
    rendered together are given (`mask_ious` is the renderer's; the rule is what is tested)."""
    from types import SimpleNamespace

    from box_case import look_rotation
    from pipeline.core.case import Segment
    from pipeline.core.scene import Camera
    from pipeline.stages.objects.pose import ObjectTarget

    rng = np.random.default_rng(2)

    def target(name, x):
        xs, ys = rng.uniform(x - 0.4, x + 0.4, 500), rng.uniform(1.0, 1.8, 500)
        points = np.stack([xs, ys, np.full_like(xs, 0.5)], 1)
        tg = ObjectTarget(Segment(1, "bed", "thing"), np.zeros((4, 4), bool), points, name)
        tg.mesh, tg.size, tg.pose, tg.contact = None, None, Pose(np.array([x, 1.4, 0.0]), 0.0, 1.0), "floor"
        tg.candidates = [SimpleNamespace(asset_id=f"builtin:{name}")]
        return tg

    wrong, poor = target("wrong", -1.0), target("poor", 1.0)
    scene = SimpleNamespace(camera=Camera([0.0, -2.0, 1.5], look_rotation(0.0, -20.0).tolist(), 55.0, 320, 240))
    monkeypatch.setattr(object_stage, "mask_ious", lambda *a, **k: ([0.30, 0.50], None))
    cfg = SimpleNamespace(proxy_below=0.5, proxy_gain=0.15)
    parts = [{"body": "model"}, {"body": "model"}]
    events = Events()
    kept = object_stage.replace_bad_fits([wrong, poor], parts, [0.22, 0.40], None, scene, cfg, events)  # beds
    assert kept == 1
    assert wrong.standin == "proxy:relief" and "proxy" in wrong.flags and "proxy" in parts[0]
    assert not poor.standin and parts[1] == {"body": "model"}  # 0.50 is not 0.15 above 0.40: kept
    assert any("poor" in line and "the model is kept" in line for line in events.lines)


def test_a_lamp_is_a_silhouette_proxy_and_a_bed_a_relief():
    """What stands on the floor becomes a relief of its points; a lamp (thin arms the eroded mask's points
    miss) its mask extruded, which covers the mask by construction."""
    from types import SimpleNamespace

    from box_case import look_rotation
    from pipeline.core.case import Segment
    from pipeline.core.geometry import pixel_rays
    from pipeline.core.scene import Camera
    from pipeline.stages.objects.pose import ObjectTarget
    from pipeline.stages.objects.standins import proxy_parts

    camera = Camera([0.0, -2.0, 1.5], look_rotation(0.0, -20.0).tolist(), 55.0, 64, 48)
    case = SimpleNamespace(width=64, height=48, fov_y_deg=55.0)
    mask = np.zeros((48, 64), bool)
    mask[10:30, 28:36] = True
    rays = pixel_rays(64, 48, 55.0) @ np.asarray(camera.R).T
    hits = np.asarray(camera.t) + rays[mask] * 3.0  # a surface 3 m out along each ray
    for label, kind in (("lamp", "extruded_silhouette"), ("bed", "relief")):
        target = ObjectTarget(Segment(1, label, "thing"), mask, hits, f"{label}_1")
        parts, pose, shape = proxy_parts(target, case, camera)
        assert shape == kind and len(parts["proxy"].faces) > 0
