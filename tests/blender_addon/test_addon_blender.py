"""The add-on inside Blender (bpy module, headless): registration, panels, import and its undo, candidates, the
write-back for Refine, the job operators against fake pipelines (done, error, cancel; modal loop driven by hand),
and the Compare render."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from addon_fixtures import (REPO, add_object, addon, draw_panel, empty_file, fake_python,  # noqa: F401
                            make_bundle, prefs, write_bundle)

bpy = pytest.importorskip("bpy")


def _collections():
    return [c for c in bpy.data.collections if c.get("photo2scene_bundle")]


def _import(path) -> set:
    return bpy.ops.photo2scene.import_bundle("EXEC_DEFAULT", True, directory=str(path))


# ------------------------------------------------------------------------------------------- registration

def test_package_imports_without_bpy():
    """The pipeline imports blender_addon.bundle in processes without Blender: the package must not need bpy."""
    code = ("import sys, blender_addon, blender_addon.bundle, blender_addon.jobs, blender_addon.edits; "
            "assert hasattr(blender_addon, 'register'); assert 'bpy' not in sys.modules, 'bpy imported'")
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_registered(addon, empty_file):
    from blender_addon.preferences import get_prefs

    for op in ("reconstruct", "cancel", "import_bundle", "use_candidate", "refine", "compare", "check_python",
               "index_assets", "add_material"):
        assert hasattr(bpy.ops.photo2scene, op), op
    assert hasattr(bpy.types, "PHOTO2SCENE_PT_main")
    assert bpy.types.PHOTO2SCENE_PT_main.bl_category == "Photo2Scene"
    assert get_prefs(bpy.context) is not None
    assert bpy.context.scene.photo2scene.photo == ""
    assert bpy.context.window_manager.photo2scene_job.running is False


def test_unregister_and_register_again(addon):
    import addon_utils

    addon_utils.disable("blender_addon", default_set=True)
    assert not hasattr(bpy.types, "PHOTO2SCENE_PT_main")
    assert not hasattr(bpy.types.Scene, "photo2scene")
    addon_utils.enable("blender_addon", default_set=True)
    assert hasattr(bpy.types, "PHOTO2SCENE_PT_main")


def test_panels_draw(addon, empty_file, make_bundle, prefs):
    from blender_addon import panels

    bundle = make_bundle()
    props = bpy.context.scene.photo2scene
    drawn = draw_panel(panels.PHOTO2SCENE_PT_main, bpy.context)
    assert ("operator", "photo2scene.reconstruct", {"icon": "PLAY"}) in drawn
    assert panels.PHOTO2SCENE_PT_candidates.poll(bpy.context) is False
    assert _import(bundle) == {"FINISHED"}
    assert props.reconstruction is not None
    drawn = draw_panel(panels.PHOTO2SCENE_PT_reconstruction, bpy.context)
    assert any(d[0] == "operator" and d[1] == "photo2scene.compare" for d in drawn)
    assert any(d[0] == "label" and "room IoU" in d[2].get("text", "") for d in drawn)
    wall = bpy.data.objects["room_wall_x_min"]
    bpy.context.view_layer.objects.active = wall
    drawn = draw_panel(panels.PHOTO2SCENE_PT_candidates, bpy.context)
    uses = [d for d in drawn if d[0] == "operator" and d[1] == "photo2scene.use_candidate"]
    assert [u[2]["text"] for u in uses] == ["In use", "Use this", "Use this"]
    # While a job runs: a progress bar and Cancel instead of Reconstruct.
    job = bpy.context.window_manager.photo2scene_job
    job.running, job.progress, job.label = True, 0.25, "Reconstructing: room 10/40"
    try:
        drawn = draw_panel(panels.PHOTO2SCENE_PT_main, bpy.context)
    finally:
        job.running = False
    assert ("progress", (), {"factor": 0.25, "type": "BAR", "text": "Reconstructing: room 10/40"}) in drawn
    assert any(d[0] == "operator" and d[1] == "photo2scene.cancel" for d in drawn)


# ------------------------------------------------------------------------------------------- import

def test_import_builds_camera_room_lights(addon, empty_file, make_bundle):
    bundle = make_bundle()
    assert _import(bundle) == {"FINISHED"}
    (coll,) = _collections()
    assert coll.name == f"photo2scene {bundle.name}"
    scene = bpy.context.scene
    assert scene.camera.data.sensor_fit == "VERTICAL"
    assert math.degrees(scene.camera.data.angle_y) == pytest.approx(52.0, abs=1e-3)
    assert scene.camera.data.background_images[0].image is not None
    assert {o.name for o in coll.all_objects} >= {"room_floor", "room_wall_x_min", "ceiling_light"}
    assert scene.photo2scene.reconstruction == coll
    assert scene.photo2scene.bundle == str(bundle)


def test_import_bad_bundle_reports_and_builds_nothing(addon, empty_file, tmp_path):
    bad = tmp_path / "bad.bundle"
    bad.mkdir()
    (bad / "scene.json").write_text(json.dumps({"format": "photo2scene.scene", "version": 1}))
    with pytest.raises(RuntimeError, match="camera"):
        _import(bad)
    with pytest.raises(RuntimeError, match="not a photo2scene bundle"):
        _import(tmp_path)
    assert not _collections() and not bpy.data.objects


def test_failed_build_leaves_no_half_built_collection(addon, empty_file, make_bundle):
    bundle = make_bundle()
    scene = json.loads((bundle / "scene.json").read_text())
    # Valid for the bundle contract (the loader checks graphs too), but the builder cannot make a node tree of
    # it: Blender's node has no such input, so it fails mid-build.
    odd = {"format": "photo2scene.material/1", "name": "odd", "params": {},
           "nodes": {"bsdf": {"type": "ShaderNodeBsdfPrincipled", "inputs": {"No Such Input": 1.0}}}}
    (bundle / "odd.json").write_text(json.dumps(odd))
    scene["materials"]["odd"] = {"type": "graph", "graph_file": "odd.json", "values": {}}
    scene["room"]["materials"]["ceiling"] = "odd"
    (bundle / "scene.json").write_text(json.dumps(scene))
    with pytest.raises(RuntimeError, match="building canned.bundle failed"):
        _import(bundle)
    assert not _collections() and not [o for o in bpy.data.objects if o.users_collection]


def test_import_is_one_undo_step(addon, empty_file, make_bundle):
    bundle = make_bundle()
    bpy.ops.ed.undo_push(message="before import")
    assert _import(bundle) == {"FINISHED"}
    n_objects = len(bpy.data.objects)
    assert n_objects >= 8 and _collections()
    bpy.ops.ed.undo()
    assert not _collections() and len(bpy.data.objects) == 0 and bpy.context.scene.camera is None
    bpy.ops.ed.redo()
    assert len(_collections()) == 1 and len(bpy.data.objects) == n_objects


def test_reimport_replaces_collection(addon, empty_file, make_bundle):
    bundle = make_bundle()
    _import(bundle)
    n = len(bpy.data.objects)
    _import(bundle)
    assert len(_collections()) == 1 and len(bpy.data.objects) == n
    other = make_bundle("second.bundle")
    _import(other)
    assert len(_collections()) == 2
    assert bpy.context.scene.photo2scene.reconstruction.name == "photo2scene second.bundle"


# ------------------------------------------------------------------------------------------- candidates

def test_swap_material_and_undo(addon, empty_file, make_bundle):
    from blender_addon.bundle import load_bundle
    from blender_addon.sync import collect_edits

    bundle = make_bundle()
    _import(bundle)
    walls = [o for o in bpy.data.objects if o.name.startswith("room_wall")]
    bpy.ops.ed.undo_push(message="before swap")
    assert bpy.ops.photo2scene.use_candidate("EXEC_DEFAULT", True, kind="MATERIAL", name="room_wall",
                                             index=1) == {"FINISHED"}
    for wall in walls:
        mat = bpy.data.objects[wall.name].material_slots[0].material
        assert mat.name == "room_wall" and mat["photo2scene_chosen"] == 1
        bsdf = mat.node_tree.nodes["Principled BSDF"]
        assert tuple(bsdf.inputs["Base Color"].default_value)[:3] == pytest.approx((0.2, 0.4, 0.7), abs=1e-6)
    floor = bpy.data.objects["room_floor"].material_slots[0].material
    assert floor.name == "room_floor"  # other materials untouched
    scene, changes = collect_edits(bpy.context.scene.photo2scene.reconstruction, load_bundle(bundle).scene)
    assert "material room_wall: candidate 1" in changes
    assert scene["materials"]["room_wall"]["base_color"] == pytest.approx([0.2, 0.4, 0.7])
    assert scene["materials"]["room_wall"]["chosen"] == 1 and len(scene["materials"]["room_wall"]["candidates"]) == 3
    bpy.ops.ed.undo()
    mat = bpy.data.objects["room_wall_x_min"].material_slots[0].material
    assert "photo2scene_chosen" not in mat
    assert tuple(mat.node_tree.nodes["Principled BSDF"].inputs["Base Color"].default_value)[:3] == \
        pytest.approx((0.6, 0.55, 0.5), abs=1e-6)


def test_swap_object_keeps_transform(addon, empty_file, make_bundle):
    from blender_addon.bundle import load_bundle
    from blender_addon.sync import collect_edits, find_object

    bundle = make_bundle()
    add_object(bundle)
    _import(bundle)
    coll = bpy.context.scene.photo2scene.reconstruction
    root = find_object(coll, "sofa_1")
    assert root is not None and len(root.children) == 1
    root.location = (2.0, -0.5, 0.0)  # the user moves it
    bpy.context.view_layer.update()
    moved = root.matrix_world.copy()
    assert bpy.ops.photo2scene.use_candidate(kind="OBJECT", name="sofa_1", index=1) == {"FINISHED"}
    new = find_object(coll, "sofa_1")
    assert new.name == "sofa_1" and new["photo2scene_chosen"] == 1
    assert all(abs(a - b) < 1e-6 for ra, rb in zip(new.matrix_world, moved) for a, b in zip(ra, rb))
    heights = [v.co.z for v in new.children[0].data.vertices]
    assert max(heights) == pytest.approx(1.2)
    assert len([o for o in coll.all_objects if o.name.startswith("sofa_1")]) == 2  # root + one part, old gone
    # A candidate without meshes in the bundle: recorded for the object stage, geometry unchanged.
    assert bpy.ops.photo2scene.use_candidate(kind="OBJECT", name="sofa_1", index=2) == {"FINISHED"}
    assert find_object(coll, "sofa_1")["photo2scene_chosen"] == 2
    scene, changes = collect_edits(coll, load_bundle(bundle).scene)
    obj = scene["objects"][0]
    assert obj["asset_id"] == "elsewhere" and obj["chosen"] == 2
    assert obj["location"] == pytest.approx([2.0, -0.5, 0.0]) and obj["yaw_deg"] == pytest.approx(30.0)
    assert "rotation" not in obj  # the entry speaks yaw; the write-back keeps its vocabulary


def test_bad_candidate_is_reported(addon, empty_file, make_bundle):
    _import(make_bundle())
    with pytest.raises(RuntimeError, match="no candidate 7"):
        bpy.ops.photo2scene.use_candidate(kind="MATERIAL", name="room_wall", index=7)
    with pytest.raises(RuntimeError, match="no object"):
        bpy.ops.photo2scene.use_candidate(kind="OBJECT", name="ghost", index=0)


# ------------------------------------------------------------------------------------------- write-back

def test_collect_edits_lights_camera_materials(addon, empty_file, make_bundle):
    from blender_addon.bundle import load_bundle
    from blender_addon.edits import write_scene
    from blender_addon.sync import collect_edits

    bundle = make_bundle()
    _import(bundle)
    coll = bpy.context.scene.photo2scene.reconstruction
    original = load_bundle(bundle).scene
    scene, changes = collect_edits(coll, original)
    assert changes == [], changes  # nothing edited: nothing to write
    light = bpy.data.objects["ceiling_light"]
    light.data.energy = 321.0
    light.location.x += 0.5
    bpy.context.scene.camera.data.angle_y = math.radians(60.0)
    new_light = bpy.data.objects.new("lamp", bpy.data.lights.new("lamp", "POINT"))
    new_light.data.energy = 40.0
    coll.objects.link(new_light)
    floor = bpy.data.objects["room_floor"].material_slots[0].material
    floor.node_tree.nodes["Principled BSDF"].inputs["Roughness"].default_value = 0.2
    scene, changes = collect_edits(coll, original)
    lights = {l["name"]: l for l in scene["lights"]}
    assert lights["ceiling_light"]["power_w"] == pytest.approx(321.0)
    assert lights["ceiling_light"]["position"][0] == pytest.approx(0.5)
    assert lights["lamp"]["type"] == "point" and lights["lamp"]["power_w"] == pytest.approx(40.0)
    assert scene["camera"]["fov_y_deg"] == pytest.approx(60.0)
    assert scene["materials"]["room_floor"]["roughness"] == pytest.approx(0.2)
    assert "light lamp: added" in changes
    write_scene(bundle, scene)
    assert load_bundle(bundle).scene["lights"][0]["power_w"] == pytest.approx(321.0)
    assert len(list((bundle / "edits").glob("scene-*.json"))) == 1
    bpy.data.objects.remove(light)
    scene, changes = collect_edits(coll, load_bundle(bundle).scene)
    assert "light ceiling_light: removed" in changes and [l["name"] for l in scene["lights"]] == ["lamp"]


def test_edits_lock_their_items_and_the_panel_unlocks(addon, empty_file, make_bundle):
    """An edited light or material is locked by the write-back (Refine keeps it); the lock is the artist's toggle."""
    from blender_addon.bundle import load_bundle
    from blender_addon.edits import write_scene
    from blender_addon.sync import collect_edits

    bundle = make_bundle()
    _import(bundle)
    coll = bpy.context.scene.photo2scene.reconstruction
    light = bpy.data.objects["ceiling_light"]
    assert light["photo2scene_locked"] is False or light["photo2scene_locked"] == 0
    light.data.energy = 20.0
    light.data.color = (1.0, 0.6, 0.3)
    scene, changes = collect_edits(coll, load_bundle(bundle).scene)
    assert "light ceiling_light: locked (edited in Blender)" in changes
    assert scene["lights"][0]["locked"] is True and bool(light["photo2scene_locked"])
    assert "locked" not in scene["materials"]["room_floor"]  # untouched: not locked
    write_scene(bundle, scene)
    scene, changes = collect_edits(coll, load_bundle(bundle).scene)
    assert changes == [] and scene["lights"][0]["locked"] is True  # the lock stays without a new edit
    light["photo2scene_locked"] = False  # the artist unlocks it in the panel
    scene, changes = collect_edits(coll, load_bundle(bundle).scene)
    assert "light ceiling_light: unlocked" in changes and "locked" not in scene["lights"][0]


# ------------------------------------------------------------------------------------------- jobs

def _setup_run(tmp_path, prefs, python: str) -> None:
    from box_case import write_box_case

    case = tmp_path / "case"
    if not case.exists():
        write_box_case(case, width=48, height=36)
    props = bpy.context.scene.photo2scene
    props.photo = str(case / "photo.png")
    props.estimates = str(case / "estimates")
    props.output_dir = str(tmp_path / "bundles")
    prefs.python = python


def test_reconstruct_operator_done(addon, empty_file, prefs, fake_python, tmp_path):
    _setup_run(tmp_path, prefs, fake_python("ok"))
    bpy.ops.ed.undo_push(message="before reconstruct")
    assert bpy.ops.photo2scene.reconstruct("EXEC_DEFAULT", True) == {"FINISHED"}
    assert len(_collections()) == 1
    bpy.ops.ed.undo()  # the run and its import are one undo step
    assert not _collections()
    bpy.ops.ed.redo()
    job = bpy.context.window_manager.photo2scene_job
    assert job.status == "done" and not job.running and job.progress == 1.0
    (coll,) = _collections()
    assert Path(coll["photo2scene_bundle"]) == tmp_path / "bundles" / "photo.bundle"
    assert Path(job.log_path).is_file()
    # A second run writes a new bundle next to the first (a reconstruction is never overwritten).
    assert bpy.ops.photo2scene.reconstruct() == {"FINISHED"}
    assert (tmp_path / "bundles" / "photo-2.bundle" / "scene.json").is_file() and len(_collections()) == 2


def test_reconstruct_operator_error_reaches_user(addon, empty_file, prefs, fake_python, tmp_path):
    _setup_run(tmp_path, prefs, fake_python("fail"))
    with pytest.raises(RuntimeError, match=r"segment 1 has no label.*log: "):
        bpy.ops.photo2scene.reconstruct()
    job = bpy.context.window_manager.photo2scene_job
    assert job.status == "failed" and "segment 1 has no label" in job.error and Path(job.log_path).is_file()
    assert not _collections() and not (tmp_path / "bundles" / "photo.bundle").exists()


def test_reconstruct_needs_inputs(addon, empty_file, prefs, tmp_path):
    prefs.python = str(tmp_path / "missing-python")
    props = bpy.context.scene.photo2scene
    with pytest.raises(RuntimeError, match="choose a photo"):
        bpy.ops.photo2scene.reconstruct()
    props.photo = str(tmp_path / "none.png")
    with pytest.raises(RuntimeError, match="does not exist"):
        bpy.ops.photo2scene.reconstruct()
    _setup_run(tmp_path, prefs, str(tmp_path / "missing-python"))
    with pytest.raises(RuntimeError, match="cannot start"):
        bpy.ops.photo2scene.reconstruct()


def test_cancel_leaves_nothing(addon, empty_file, prefs, fake_python, tmp_path):
    from blender_addon import operators

    _setup_run(tmp_path, prefs, fake_python("hang"))
    job = operators.start_job(bpy.context, operators.make_reconstruct_job(bpy.context))
    while not job.events:
        job.poll()
        time.sleep(0.02)
    assert not bpy.ops.photo2scene.reconstruct.poll()  # one job at a time
    assert bpy.ops.photo2scene.cancel() == {"FINISHED"}
    job._kill_at = time.monotonic()  # the fake ignores SIGTERM: do not wait out the grace period
    job.wait(timeout=20)
    log = operators.Log()
    assert operators.finish_job(bpy.context, job, log) is False
    assert log.messages[-1][0] == "WARNING" and "cancelled" in log.messages[-1][1]
    assert bpy.context.window_manager.photo2scene_job.status == "cancelled"
    assert not _collections() and not bpy.data.objects
    assert not list((tmp_path / "bundles").glob(".*partial")) and not (tmp_path / "bundles" / "photo.bundle").exists()
    assert bpy.ops.photo2scene.reconstruct.poll()


class _Probe:
    """Drives the job operators' modal() by hand (headless Blender never runs modal loops)."""

    def __init__(self, operator_cls):
        self.op = type("ModalProbe", (operators_module()._JobOperator,), {"make_job": operator_cls.make_job})()
        self.reports: list[tuple[str, str]] = []
        self.op.report = lambda level, text: self.reports.append((next(iter(level)), text))
        wm = bpy.context.window_manager
        self.context = SimpleNamespace(scene=bpy.context.scene, screen=None, workspace=None, window=None,
                                       preferences=bpy.context.preferences,
                                       window_manager=SimpleNamespace(photo2scene_job=wm.photo2scene_job,
                                                                      event_timer_remove=lambda timer: None))

    def run(self, first_event: str | None = None, limit: float = 30.0) -> set:
        op = self.op
        assert op._begin(self.context) is not None, self.reports
        if first_event:
            assert op.modal(self.context, SimpleNamespace(type=first_event, value="PRESS")) == {"RUNNING_MODAL"}
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            result = op.modal(self.context, SimpleNamespace(type="TIMER", value="NOTHING"))
            if result != {"PASS_THROUGH"}:
                return result
            assert op.modal(self.context, SimpleNamespace(type="MOUSEMOVE", value="NOTHING")) == {"PASS_THROUGH"}
            time.sleep(0.02)
        raise AssertionError("the modal loop did not finish")


def operators_module():
    from blender_addon import operators

    return operators


def test_modal_loop_done_and_escape(addon, empty_file, prefs, fake_python, tmp_path):
    ops = operators_module()
    _setup_run(tmp_path, prefs, fake_python("ok"))
    probe = _Probe(ops.PHOTO2SCENE_OT_reconstruct)
    assert probe.run() == {"FINISHED"}
    assert len(_collections()) == 1 and any("imported" in text for _, text in probe.reports)
    prefs.python = fake_python("hang")
    probe = _Probe(ops.PHOTO2SCENE_OT_reconstruct)
    assert probe.run(first_event="ESC") == {"CANCELLED"}
    assert probe.reports[-1][0] == "WARNING" and "cancelled" in probe.reports[-1][1]
    assert len(_collections()) == 1


def test_refine_writes_edits_and_reruns(addon, empty_file, prefs, fake_python, tmp_path, monkeypatch):
    bundle = write_bundle(tmp_path / "bundles" / "room.bundle")
    _import(bundle)
    bpy.data.objects["ceiling_light"].data.energy = 275.0
    seen, record = tmp_path / "seen.json", tmp_path / "args.json"
    monkeypatch.setenv("FAKE_PIPELINE_SEEN", str(seen))
    monkeypatch.setenv("FAKE_PIPELINE_RECORD", str(record))
    prefs.python = fake_python("ok")
    prefs.device = "cpu"
    assert bpy.ops.photo2scene.refine(stage="room") == {"FINISHED"}
    args = json.loads(record.read_text())
    assert args[:4] == ["refine", str(bundle), "--from-stage", "room"] and "--device" in args
    assert json.loads(seen.read_text())["lights"][0]["power_w"] == pytest.approx(275.0)
    assert list((bundle / "edits").glob("scene-*.json"))
    (coll,) = _collections()  # re-imported from the (refined) bundle
    assert bpy.data.objects["ceiling_light"].data.energy == pytest.approx(275.0)
    with pytest.raises(RuntimeError, match="no checkpoint for stage 'materials'"):
        bpy.ops.photo2scene.refine(stage="materials")


def test_check_python_operator(addon, prefs, tmp_path):
    prefs.python = sys.executable
    assert bpy.ops.photo2scene.check_python() == {"FINISHED"}
    assert prefs.check_message.startswith("OK")
    prefs.python = str(tmp_path / "nope")
    with pytest.raises(RuntimeError, match="does not exist"):
        bpy.ops.photo2scene.check_python()


# ------------------------------------------------------------------------------------------- compare

def test_compare_render(addon, empty_file, prefs, make_bundle):
    bundle = make_bundle(width=32, height=24)
    _import(bundle)
    prefs.compare_samples = 2
    engine_before = bpy.context.scene.render.engine
    assert bpy.ops.photo2scene.compare() == {"FINISHED"}
    assert (bundle / "compare" / "render.png").is_file()
    image = bpy.data.images["photo2scene compare"]
    assert tuple(image.size) == (64, 24)
    assert (bundle / "compare" / "compare.png").is_file()
    assert bpy.context.scene.render.engine == engine_before
