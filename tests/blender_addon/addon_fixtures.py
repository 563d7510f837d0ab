"""Shared fixtures and helpers for the add-on tests (imported by name: a second conftest.py here would shadow the
`conftest` module the top-level tests import from).

- `addon`: the add-on enabled through Blender's add-on machinery (so its preferences exist), once per session;
- `empty_file`: a fresh empty Blender file for each test;
- `make_bundle`: a small valid bundle written with the pipeline's own Scene code (no renderer), optionally with
  material candidates and a room checkpoint;
- `fake_python`: an executable that behaves like `python -m pipeline ...` (events, canned bundle, failure, hang).
"""

from __future__ import annotations

import json
import shutil
import stat
import sys
from pathlib import Path

import numpy as np
import pytest

bpy = pytest.importorskip("bpy")

REPO = Path(__file__).resolve().parents[2]
FAST = ("--room.refine-iters", "2", "--room.refine-width", "48", "--room.spp", "2", "--quiet")


@pytest.fixture(scope="session")
def addon():
    """The add-on module, enabled as Blender enables add-ons (preferences keyed by its package)."""
    import addon_utils

    import blender_addon

    assert hasattr(blender_addon, "register"), (
        "blender_addon resolved to a namespace package: run pytest from the repository root "
        "(python -m pytest) or reinstall (pip install -e .)")
    errors: list[BaseException] = []
    mod = addon_utils.enable("blender_addon", default_set=True, handle_error=errors.append)
    assert mod is not None and not errors, errors
    yield mod
    addon_utils.disable("blender_addon", default_set=True)


@pytest.fixture
def empty_file(addon):
    bpy.ops.wm.read_homefile(use_empty=True)
    yield bpy.context
    from blender_addon import operators

    operators.cancel_all()


@pytest.fixture
def prefs(addon):
    from blender_addon.preferences import get_prefs

    p = get_prefs(bpy.context)
    saved = {k: getattr(p, k) for k in ("python", "device", "quality", "extra_args", "output_dir",
                                        "compare_samples")}
    yield p
    for key, value in saved.items():
        setattr(p, key, value)


def write_bundle(folder: Path, candidates: bool = True, width: int = 48, height: int = 36) -> Path:
    """A small valid bundle: camera, room box, one area light, principled materials (the wall material with two
    alternatives and thumbnails), a checkpoint after the room stage."""
    sys.path.insert(0, str(REPO / "tests"))
    from box_case import look_rotation
    from pipeline.core.bundle import save_scene, write_json
    from p2s_common.images import write_png
    from pipeline.core.scene import Camera, Light, MaterialEntry, Room, Scene

    faces = ("floor", "ceiling", "wall_x_min", "wall_x_max", "wall_y_min", "wall_y_max")
    cam = Camera([0.4, -1.0, 1.45], look_rotation(15, -10).tolist(), 52.0, width, height)
    room = Room([0, 0, 1.35], [5.0, 4.0, 2.7], 0.0,
                {f: f"room_{'wall' if f.startswith('wall') else f}" for f in faces})
    materials = {f"room_{k}": {"type": "principled", "base_color": c, "roughness": 0.7}
                 for k, c in (("wall", [0.6, 0.55, 0.5]), ("floor", [0.3, 0.2, 0.1]), ("ceiling", [0.8, 0.8, 0.8]))}
    if candidates:
        thumbs = folder / "thumbs"
        thumbs.mkdir(parents=True, exist_ok=True)
        alts = []
        for i, colour in enumerate(([0.6, 0.55, 0.5], [0.2, 0.4, 0.7], [0.9, 0.1, 0.1])):
            write_png(thumbs / f"wall_{i}.png", np.tile(np.array(colour, np.float32), (8, 8, 1)))
            alts.append({"type": "principled", "base_color": colour, "roughness": 0.5 + 0.1 * i,
                         "label": f"paint {i}", "score": 0.9 - 0.1 * i, "thumbnail": f"thumbs/wall_{i}.png"})
        materials["room_wall"] = {**materials["room_wall"], "candidates": alts, "chosen": 0}
    lights = [Light("ceiling_light", "area", [0, 0, 2.6], size=[1.0, 0.5], power_w=150.0)]
    scene = Scene(cam, room, lights=lights, materials={k: MaterialEntry.from_dict(v) for k, v in materials.items()},
                  stages={"room": {"status": "done", "iou_after": {"floor": 0.97, "wall": 0.95}}})
    folder.mkdir(parents=True, exist_ok=True)
    write_png(folder / "photo.png", np.tile(np.linspace(0.2, 0.8, width, dtype=np.float32)[None, :, None],
                                            (height, 1, 3)))
    save_scene(folder, scene, checkpoint="room")
    write_json(folder / "config.json", {"seed": 0})
    return folder


CUBE = """v -0.5 -0.5 0\nv 0.5 -0.5 0\nv 0.5 0.5 0\nv -0.5 0.5 0\nv -0.5 -0.5 {h}\nv 0.5 -0.5 {h}\nv 0.5 0.5 {h}
v -0.5 0.5 {h}\nf 1 4 3 2\nf 5 6 7 8\nf 1 2 6 5\nf 2 3 7 6\nf 3 4 8 7\nf 4 1 5 8\n"""


def add_object(bundle: Path, yaw_deg: float = 30.0) -> None:
    """An object with three candidates: the one in use, one whose meshes the bundle holds, one it does not."""
    scene = json.loads((bundle / "scene.json").read_text())
    for asset, height in (("box_low", 0.4), ("box_tall", 1.2)):
        mesh = bundle / "meshes" / "sofa_1" / asset / "body.obj"
        mesh.parent.mkdir(parents=True, exist_ok=True)
        mesh.write_text(CUBE.format(h=height))
    parts = lambda asset: [{"name": "body", "mesh": f"meshes/sofa_1/{asset}/body.obj", "material": "room_floor"}]
    scene["objects"] = [{
        "name": "sofa_1", "label": "sofa", "asset_id": "box_low", "location": [1.0, 0.5, 0.0], "yaw_deg": yaw_deg,
        "scale": [1.0, 1.0, 1.0], "parts": parts("box_low"),
        "candidates": [{"asset_id": "box_low", "score": 0.8, "parts": parts("box_low")},
                       {"asset_id": "box_tall", "score": 0.7, "parts": parts("box_tall")},
                       {"asset_id": "elsewhere", "score": 0.6, "category": "sofa"}]}]
    (bundle / "scene.json").write_text(json.dumps(scene))


@pytest.fixture
def make_bundle(tmp_path):
    def make(name: str = "canned.bundle", **kwargs) -> Path:
        return write_bundle(tmp_path / name, **kwargs)

    return make


FAKE = r'''#!{python}
"""A stand-in for `python -m pipeline ...` (mode {mode!r})."""
import json, os, shutil, signal, sys, time
from pathlib import Path

MODE = {mode!r}
TEMPLATE = {template!r}
args = sys.argv[1:]
if args[:2] != ["-m", "pipeline"]:
    print("fake: expected -m pipeline, got %r" % args, file=sys.stderr)
    sys.exit(3)
args = args[2:]
record = os.environ.get("FAKE_PIPELINE_RECORD")
if record:
    Path(record).write_text(json.dumps(args))


def emit(**event):
    event.setdefault("time", time.time())
    print(json.dumps(event), flush=True)


out = Path(args[args.index("-o") + 1]) if "-o" in args else (Path(args[1]) if args[0] == "refine" else None)
if MODE == "ok":
    emit(event="stage", stage="room", step=0, total=3, message="fitting the room box")
    print("a line that is not JSON", flush=True)
    print("some progress chatter on stderr", file=sys.stderr, flush=True)
    for i in range(1, 4):
        emit(event="progress", stage="room", step=i, total=3, message="refining", loss=0.5 / i)
        time.sleep(0.02)
    if args[0] == "refine":
        seen = os.environ.get("FAKE_PIPELINE_SEEN")
        if seen:
            shutil.copy(out / "scene.json", seen)
    elif args[0] == "reconstruct":
        shutil.copytree(TEMPLATE, out)
    emit(event="done", stage="room", message="reconstruction finished", bundle=str(out) if out else None, blend=None)
elif MODE == "fail":
    emit(event="stage", stage="case", step=0, total=1, message="reading the estimates")
    msg = "segments.json: segment 1 has no label; give every segment a label (docs/case_format.md)"
    emit(event="error", stage="case", message=msg)
    print("photo2scene: error: " + msg, file=sys.stderr, flush=True)
    sys.exit(2)
elif MODE == "hang":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # the runner must escalate to SIGKILL
    partial = out.parent / (".%s.abc123.partial" % out.name)
    partial.mkdir(parents=True)
    (partial / "scene.json").write_text("{{}}")
    emit(event="stage", stage="room", step=0, total=40, message="refining")
    emit(event="progress", stage="room", step=1, total=40, message="refining", loss=0.9)
    while True:
        time.sleep(0.05)
'''


@pytest.fixture
def fake_python(tmp_path):
    """fake_python(mode) -> path of an executable behaving like `python -m pipeline` in that mode."""
    template = write_bundle(tmp_path / "template.bundle")

    def make(mode: str) -> str:
        path = tmp_path / f"fake-python-{mode}"
        path.write_text(FAKE.format(python=sys.executable, mode=mode, template=str(template)))
        path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        return str(path)

    return make


class FakeLayout:
    """Enough of bpy.types.UILayout to run panels' draw() headless: records what would be drawn."""

    def __init__(self, log: list | None = None):
        self.log = log if log is not None else []

    def __getattr__(self, name):
        if name in ("row", "column", "box", "split", "column_flow", "grid_flow"):
            return lambda *a, **k: FakeLayout(self.log)
        if name == "operator":
            def operator(idname, **kwargs):
                self.log.append(("operator", idname, kwargs))
                return type("OpProps", (), {})()
            return operator
        return lambda *a, **k: self.log.append((name, a, k))

    def __setattr__(self, name, value):
        if name == "log":
            object.__setattr__(self, name, value)


def draw_panel(panel_cls, context) -> list:
    """Run a panel's draw() with a FakeLayout; returns what it drew."""
    layout = FakeLayout()
    panel_cls.draw(type("P", (), {"layout": layout})(), context)
    return layout.log


def copy_tree(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst
