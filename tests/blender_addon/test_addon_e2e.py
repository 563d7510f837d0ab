"""The add-on driving the real pipeline once, end to end, on a tiny box-room case with fast settings."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

import pytest

from addon_fixtures import FAST, addon, empty_file, prefs  # noqa: F401

bpy = pytest.importorskip("bpy")


def _reconstruct(tmp_path: Path, prefs) -> Path:
    """Reconstruct a box-room case through the Reconstruct operator with the venv's real pipeline."""
    from box_case import DEVICE, write_box_case

    case = tmp_path / "case"
    write_box_case(case)
    props = bpy.context.scene.photo2scene
    props.photo = str(case / "photo.png")
    props.estimates = str(case / "estimates")
    props.output_dir = str(tmp_path / "bundles")
    prefs.python = sys.executable  # the venv's Python, which has the pipeline installed
    prefs.device = DEVICE
    prefs.extra_args = shlex.join(FAST)
    assert bpy.ops.photo2scene.reconstruct() == {"FINISHED"}
    job = bpy.context.window_manager.photo2scene_job
    assert job.status == "done", job.error
    return tmp_path / "bundles" / "photo.bundle"


@pytest.mark.slow
def test_reconstruct_with_real_pipeline(addon, empty_file, prefs, tmp_path):
    bundle = _reconstruct(tmp_path, prefs)
    coll = bpy.context.scene.photo2scene.reconstruction
    assert coll is not None and Path(coll["photo2scene_bundle"]) == bundle
    names = {o.name for o in coll.all_objects}
    assert {"room_floor", "room_ceiling", "room_wall_x_min", "room_wall_y_max"} <= names
    scene = json.loads((bundle / "scene.json").read_text())
    assert scene["stages"]["room"]["iou_after"]["floor"] > 0.8
    assert json.loads((bundle / "config.json").read_text())["room"]["refine_iters"] == 2
    log = Path(bpy.context.window_manager.photo2scene_job.log_path).read_text()
    assert '"event": "stage"' in log and "# done" in log


@pytest.mark.slow
def test_refine_with_real_pipeline(addon, empty_file, prefs, tmp_path):
    from pipeline.app.cli import COMMANDS

    if "refine" not in COMMANDS:
        pytest.skip("the pipeline has no `refine` command yet (docs/addon.md: what the add-on expects)")
    bundle = _reconstruct(tmp_path, prefs)
    light = next((o for o in bpy.context.scene.photo2scene.reconstruction.all_objects if o.type == "LIGHT"), None)
    if light is not None:
        light.data.energy *= 2
    assert bpy.ops.photo2scene.refine(stage="room") == {"FINISHED"}
    assert bpy.context.window_manager.photo2scene_job.status == "done"
    assert (bundle / "scene.json").is_file() and list((bundle / "edits").glob("scene-*.json"))


@pytest.mark.slow
def test_add_material_to_library_with_real_pipeline(addon, empty_file, prefs, tmp_path, monkeypatch):
    """The Material Library panel's button: the active material (made by hand from vocabulary nodes) goes through
    the real `photo2scene materials import` into the user's library folder ($PHOTO2SCENE_MATERIALS)."""
    lib = tmp_path / "my_materials"
    monkeypatch.setenv("PHOTO2SCENE_MATERIALS", str(lib))  # the pipeline process inherits it
    prefs.python = sys.executable
    bpy.ops.mesh.primitive_plane_add()
    mat = bpy.data.materials.new("Blue Checker")
    nt = mat.node_tree
    checker = nt.nodes.new("ShaderNodeTexChecker")
    checker.inputs["Color1"].default_value = (0.1, 0.2, 0.6, 1.0)
    nt.links.new(checker.outputs["Color"], nt.nodes["Principled BSDF"].inputs["Base Color"])
    bpy.context.object.data.materials.append(mat)
    bpy.context.scene.photo2scene.material_category = "wallpaper"
    assert bpy.ops.photo2scene.add_material() == {"FINISHED"}
    job = bpy.context.window_manager.photo2scene_job
    assert job.status == "done", job.error
    graph = json.loads((lib / "wallpaper" / "blue_checker.json").read_text())
    assert graph["params"]["checker_texture_color1"]["default"] == pytest.approx([0.1, 0.2, 0.6])
    assert (lib / "thumbnails" / "blue_checker_lit.jpg").is_file()
    assert "imported 'blue_checker'" in Path(job.log_path).read_text()
