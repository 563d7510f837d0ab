"""`photo2scene reconstruct` end to end through the CLI, on small inputs with fast settings."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from blender_addon.bundle import load_bundle
from pipeline.app.outcome import Outcome
from box_case import EXAMPLE, REPO

FAST = ["--preset", "draft", "--room.refine-iters", "4", "--room.refine-width", "48", "--room.spp", "2", "--quiet"]


def _run(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, "-m", "pipeline", *args], capture_output=True, text=True, env=env,
                          cwd=REPO, timeout=600)


def test_reconstruct_writes_bundle_and_events(box_case, tmp_path):
    folder, _ = box_case
    out = tmp_path / "out.bundle"
    proc = _run("reconstruct", str(folder / "photo.png"), "--estimates", str(folder / "estimates"), "-o", str(out),
                "--events", "jsonl", *FAST)
    assert proc.returncode == 0, proc.stderr
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    kinds = {e["event"] for e in events}
    assert {"stage", "progress", "done"} <= kinds
    progress = [e for e in events if e["event"] == "progress" and e["stage"] == "room"]
    assert progress[-1]["step"] == progress[-1]["total"] == 4 and progress[-1]["loss"] is not None
    bundle = load_bundle(out)
    assert bundle.scene["room"] and bundle.scene["scale"]["source"] == "metric_depth"
    for rel in ("report/index.html", "report/sheet.png", "checkpoints/room.json", "mitsuba/scene.xml",
                "config.json", "case/depth.npy", "log.txt"):
        assert (out / rel).exists(), rel
    assert json.loads((out / "config.json").read_text())["room"]["refine_iters"] == 4
    with Image.open(folder / "photo.png") as given, Image.open(out / "photo.png") as kept:
        assert kept.size == given.size  # the photo at full resolution; the stages work at the camera's size
    assert bundle.scene["camera"]["width"] <= given.size[0]


def test_bad_input_exit_2_and_nothing_written(box_case, tmp_path):
    folder, _ = box_case
    (folder / "estimates" / "segments.json").write_text("[{\"id\": 1}]")
    out = tmp_path / "bad.bundle"
    proc = _run("reconstruct", str(folder / "photo.png"), "--estimates", str(folder / "estimates"), "-o", str(out),
                *FAST)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1].startswith("photo2scene: error:")
    assert "Traceback" not in proc.stderr
    assert list(tmp_path.iterdir()) == [folder.parent / "box_case"] or not out.exists()
    assert not out.exists()


@pytest.mark.slow
def test_example_to_blend(tmp_path):
    """The shipped example through the whole path, into a .blend that real Blender (bpy) opens."""
    if not (EXAMPLE / "photo.png").exists():
        pytest.skip("examples/living_room not generated")
    out, blend = tmp_path / "ex.bundle", tmp_path / "ex.blend"
    proc = _run("reconstruct", str(EXAMPLE / "photo.png"), "--estimates", str(EXAMPLE / "estimates"), "-o", str(out),
                "--blend", str(blend), *FAST)
    assert proc.returncode == 0, proc.stderr
    assert blend.exists() and (out / "scene.json").exists()
    metrics = json.loads((out / "scene.json").read_text())["stages"]["room"]
    assert metrics["iou_after"]["floor"] > 0.9


@pytest.mark.slow
def test_bare_photo_is_estimated_then_reconstructed(tmp_path):
    """No --estimates: the classical estimators run first (no weights here), then every stage."""
    if not (EXAMPLE / "photo.png").exists():
        pytest.skip("examples/living_room not generated")
    out = tmp_path / "bare.bundle"
    proc = _run("reconstruct", str(EXAMPLE / "photo.png"), "-o", str(out), *FAST,
                "--materials-lights.iters", "2")
    assert proc.returncode == 0, proc.stderr
    bundle = load_bundle(out)
    assert (out / "estimates" / "camera.json").exists() and (out / "estimates" / "segmentation.png").exists()
    assert bundle.scene["room"] and bundle.scene["scale"]["source"].startswith("prior:")
    assert not list(tmp_path.glob(".estimates-*"))
    outcome = bundle.scene["stages"]["outcome"]  # the loud outcome: last lines, scene.json and the report
    assert "classical" in outcome["estimators"] and "photo2scene models fetch" in outcome["estimators"]
    lines = Outcome(**outcome).lines()
    assert lines[0].startswith("estimators: ") and proc.stderr.strip().splitlines()[-len(lines):] == lines
    assert [line for line in lines if line.startswith("WARNING: ")] == [f"WARNING: {w}" for w in outcome["warnings"]]
    assert "Estimators:" in (out / "report" / "index.html").read_text()


@pytest.mark.slow
def test_partial_estimates_are_completed(tmp_path):
    """Only furniture masks + metric depth given (no FOV, no wall or floor labels): the rest is estimated, the given
    masks and depth are what the bundle keeps, and every stage runs."""
    if not (EXAMPLE / "photo.png").exists():
        pytest.skip("examples/living_room not generated")
    given = tmp_path / "given"
    given.mkdir()
    shutil.copy(EXAMPLE / "estimates" / "depth.npy", given / "depth.npy")
    ids = np.asarray(Image.open(EXAMPLE / "estimates" / "segmentation.png")).astype(np.int32)
    segments = json.loads((EXAMPLE / "estimates" / "segments.json").read_text())
    things = [s for s in segments if s["kind"] == "thing"]
    ids = np.where(np.isin(ids, [s["id"] for s in things]), ids, 0)
    Image.fromarray(ids.astype(np.uint16)).save(given / "segmentation.png")
    (given / "segments.json").write_text(json.dumps(things))
    (given / "camera.json").write_text(json.dumps({"depth_units": "metres"}))
    out = tmp_path / "partial.bundle"
    proc = _run("reconstruct", str(EXAMPLE / "photo.png"), "--estimates", str(given), "-o", str(out), *FAST,
                "--materials-lights.iters", "2")
    assert proc.returncode == 0, proc.stderr
    merged = np.asarray(Image.open(out / "estimates" / "segmentation.png")).astype(np.int32)
    for s in things:
        assert np.array_equal(merged == s["id"], ids == s["id"])
    labels = {s["label"] for s in json.loads((out / "estimates" / "segments.json").read_text())}
    assert "floor" in labels
    assert json.loads((out / "estimates" / "camera.json").read_text())["depth_units"] == "metres"
    assert load_bundle(out).scene["scale"]["source"] == "metric_depth"


def test_every_command_has_help():
    """`--help` of every command and bench suite renders (help text comes from config docstrings)."""
    from pipeline.app.bench import SUITES
    from pipeline.app.cli import COMMANDS, main

    for argv in [[name, "--help"] for name in COMMANDS] + [["bench", s, "--help"] for s in SUITES]:
        with pytest.raises(SystemExit) as info:
            main(argv)
        assert info.value.code == 0, argv


def test_refine_bad_bundle_is_a_clear_error(tmp_path):
    proc = _run("refine", str(tmp_path / "missing.bundle"), "--from-stage", "objects")
    assert proc.returncode == 2 and "not a photo2scene bundle" in proc.stderr and "Traceback" not in proc.stderr
