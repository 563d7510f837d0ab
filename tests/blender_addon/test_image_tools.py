"""The Image Editor tools (blender_addon/image_tools): the serve client against a fake and the real
`python -m pipeline serve`, masks, saving a corrected segmentation into a bundle, and crop pairs."""

from __future__ import annotations

import json
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from addon_fixtures import REPO, addon, empty_file, write_bundle  # noqa: F401  (fixtures)
from blender_addon.image_tools import client as cl

bpy = pytest.importorskip("bpy")
FAKE_SERVE = [sys.executable, str(Path(__file__).with_name("fake_serve.py"))]
REAL_SERVE = [sys.executable, "-m", "pipeline", "serve", "--backend", "offline"]


def add_case(bundle: Path, floor_rows: int | None = None) -> Path:
    """case/ for a bundle photo: the bottom rows are the floor (id 1), the rest a wall (id 2)."""
    with Image.open(bundle / "photo.png") as im:
        w, h = im.size
    ids = np.full((h, w), 2, np.uint16)
    ids[h - (floor_rows or h // 2):] = 1
    case = bundle / "case"
    case.mkdir(exist_ok=True)
    Image.fromarray(ids).save(case / "segmentation.png")
    (case / "segments.json").write_text(json.dumps([{"id": 1, "label": "floor", "kind": "stuff"},
                                                    {"id": 2, "label": "wall", "kind": "stuff", "score": 0.7}]))
    (case / "camera.json").write_text(json.dumps({"fov_y_deg": 52.0, "width": w, "height": h}))
    return case


# ------------------------------------------------------------------------------------------ bpy-free parts

def test_rle_overlay_and_rectangle():
    mask = np.zeros((5, 7), bool)
    mask[1:4, 2:6] = True
    mask[0, 0] = True
    flat = mask.ravel()
    change = np.nonzero(np.diff(flat.astype(np.int8)))[0] + 1
    counts = np.diff(np.concatenate([[0], change, [flat.size]])).tolist()
    m = cl.decode_rle({"size": [5, 7], "counts": [0] + counts})
    assert np.array_equal(np.frombuffer(bytes(m.data), np.uint8).reshape(5, 7), mask)
    assert m.area == 13 and m.bbox() == (0, 0, 6, 4)
    pix = np.frombuffer(cl.overlay_pixels(m, (1, 0, 0, 0.5)).tobytes(), np.float32).reshape(5, 7, 4)
    assert np.array_equal(pix[::-1, :, 3] > 0, mask)  # Blender's rows start at the bottom
    assert cl.largest_rectangle(m) == (2, 1, 4, 3)
    with pytest.raises(ValueError):
        cl.decode_rle({"size": [2, 2], "counts": [1, 2]})


def test_client_against_fake(tmp_path):
    c = cl.ServeClient(FAKE_SERVE).start()
    try:
        assert c.request("ping")["backend"] == "fake"  # the noise line before it is skipped
        with pytest.raises(cl.ServeError, match="unknown cmd"):
            c.request("nonsense")
        with pytest.raises(cl.ServeError, match="within"):
            c.request("sleep", timeout=0.3, seconds=1.0)
        assert c.request("ping")["ok"]  # the late reply to 'sleep' is skipped by id
        with pytest.raises(cl.ServeError, match="crashing on purpose"):
            c.request("crash")
        assert not c.alive
        with pytest.raises(cl.ServeError, match="not running"):
            c.request("ping")
    finally:
        c.close()
    with pytest.raises(cl.ServeError, match="cannot start"):
        cl.ServeClient([str(tmp_path / "no-such-python")]).start()


def test_save_segmentation_validates_and_keeps_backup(tmp_path):
    bundle = write_bundle(tmp_path / "b.bundle")
    case = add_case(bundle)
    before = (case / "segmentation.png").read_bytes()
    new = tmp_path / "labels.png"
    ids = np.asarray(Image.open(case / "segmentation.png")).copy()
    ids[:4, :4] = 3
    Image.fromarray(ids).save(new)
    segs = [{"id": 1, "label": "floor", "kind": "stuff"}, {"id": 2, "label": "wall", "kind": "stuff", "score": 0.7}]
    for bad, match in (([segs[0], segs[1]], "no entry"),                                  # id 3 unnamed
                       ([segs[0], segs[1], {"id": 3, "label": " "}], "no label"),
                       ([segs[0], segs[0], segs[1], {"id": 3, "label": "rug"}], "repeated"),
                       ([{"id": 1, "label": "wall"}, segs[1], {"id": 3, "label": "rug"}], "floor")):
        with pytest.raises(ValueError, match=match):
            cl.save_segmentation(bundle, new, [1, 2, 3], bad)
    assert (case / "segmentation.png").read_bytes() == before and not (bundle / "edits").exists()

    res = cl.save_segmentation(bundle, new, [1, 2, 3], segs + [{"id": 3, "label": "Rug"}, {"id": 9, "label": "x"}])
    assert res.dropped == [9]
    assert (res.backup / "segmentation.png").read_bytes() == before
    saved = json.loads((case / "segments.json").read_text())
    assert saved[2] == {"id": 3, "label": "rug", "kind": "thing"} and saved[1]["score"] == 0.7
    assert not list(case.glob(".*tmp*"))
    from pipeline.core.case import load_case

    loaded = load_case(bundle / "photo.png", case)  # the pipeline accepts what was saved
    assert {s.label for s in loaded.segments} == {"floor", "wall", "rug"}


def test_crop_pairs_match_the_material_stage(tmp_path):
    bundle = write_bundle(tmp_path / "b.bundle")
    pairs = [cl.CropPair("room_wall", (2, 2, 10, 8)), cl.CropPair("room_floor", (0, 20, 12, 12), (30, 20, 12, 12))]
    path = cl.write_crop_pairs(bundle, pairs, (48, 36))
    assert json.loads(path.read_text())["crops"][1] == {"material": "room_floor", "photo": [0, 20, 12, 12],
                                                       "size": [48, 36], "render": [30, 20, 12, 12]}
    assert cl.refine_extra_args(bundle) == [cl.CROP_PAIRS_FLAG, str(path)]
    from pipeline.core.scene import Scene
    from pipeline.stages.materials_lights.crops import load_user_crops

    scene = Scene.from_dict(json.loads((bundle / "scene.json").read_text()))
    user = load_user_crops(path, scene, 96, 72)  # working resolution twice the size the windows were drawn at
    assert user["room_wall"][0].photo == (4, 4, 20, 16)
    assert user["room_floor"][0].render == (60, 40, 24, 24)
    back, size = cl.read_crop_pairs(bundle)
    assert size == (48, 36) and back[1].render == (30, 20, 12, 12)
    for bad, match in ((cl.CropPair("nope", (0, 0, 8, 8)), "does not have"), (cl.CropPair("", (0, 0, 8, 8)), "no material"),
                       (cl.CropPair("room_wall", (0, 0, 2, 8)), "smaller"), (cl.CropPair("room_wall", (44, 0, 8, 8)), "outside")):
        with pytest.raises(ValueError, match=match):
            cl.write_crop_pairs(bundle, [bad], (48, 36))
    assert json.loads(path.read_text())["crops"][0]["material"] == "room_wall"  # unchanged after the failures


# ------------------------------------------------------------------------------------------- in Blender

@pytest.fixture
def tools(empty_file):
    from blender_addon.image_tools import ui

    yield ui
    ui.stop_serve()


def test_blender_flow_with_fake_serve(tools, tmp_path):
    ui, ctx = tools, bpy.context
    bundle = write_bundle(tmp_path / "b.bundle")
    add_case(bundle)
    img = ui.open_photo(ctx, bundle, argv=FAKE_SERVE)
    props = ctx.scene.photo2scene_image
    assert tuple(img.size) == (48, 36) and [s.label for s in props.segments] == ["floor", "wall"]

    # A new segment: positive clicks give it pixels, a negative one takes some back; undo restores.
    seg = ui.new_segment(ctx, "rug")
    assert seg.seg_id == 3 and seg.kind == "thing"
    ui.segment_click(ctx, 10.5, 30.5, True)
    assert ui.STATE.masks[3].area == 49
    mask_img = bpy.data.images[ui.MASK_IMAGE]
    alpha = np.array(mask_img.pixels[:]).reshape(36, 48, 4)[..., 3]
    assert (alpha > 0).sum() == 49 and alpha[36 - 31, 10] > 0  # bottom-up rows
    ui.segment_click(ctx, 10.5, 30.5, False)
    assert ui.STATE.masks[3].area < 49
    ui.undo_click(ctx)
    assert ui.STATE.masks[3].area == 49
    # The operator path (what a script or a headless run uses).
    assert bpy.ops.photo2scene.image_tool(mode="SEGMENT", x=30.5, y=30.5) == {"FINISHED"}
    assert ui.STATE.masks[3].area == 98

    # Label preset sets label and kind.
    props.label_preset = "sofa"
    assert (seg.label, seg.kind) == ("sofa", "thing")
    result = ui.save_to_bundle(ctx)
    saved = json.loads((bundle / "case" / "segments.json").read_text())
    assert [s["label"] for s in saved] == ["floor", "wall", "sofa"] and saved[1]["score"] == 0.7
    ids = np.asarray(Image.open(bundle / "case" / "segmentation.png"))
    assert (ids == 3).sum() == 98 and result.backup.is_dir()

    # A segment without a label blocks the save, and nothing changes.
    ui.new_segment(ctx, "")
    ui.segment_click(ctx, 40.5, 5.5, True)
    with pytest.raises(RuntimeError, match="no label"):  # the operator's error report, as bpy raises it headless
        bpy.ops.photo2scene.segmentation_save()
    assert (np.asarray(Image.open(bundle / "case" / "segmentation.png")) == ids).all()

    # Crops: one rectangle for both, then a separate render window; saved for the material stage.
    props.crop_material = "room_wall"
    ui.add_crop_rect(ctx, "BOTH", 20, 2, 5, 12)
    crop = props.crops[0]
    assert tuple(crop.photo) == (5, 2, 15, 10) and crop.material == "room_wall" and not crop.has_render
    ui.add_crop_rect(ctx, "RENDER", 0, 0, 48, 36, image_size=(96, 72))  # drawn on a render twice the size
    assert tuple(crop.render) == (0, 0, 24, 18)
    path = ui.save_crops(ctx)
    assert json.loads(path.read_text())["crops"][0]["render"] == [0, 0, 24, 18]

    # Material click: a separate session, the segmentation is untouched; the crop gets the rectangle inside it.
    mask, rect = ui.material_click(ctx, 24.5, 10.5)
    assert mask.area == 49 and rect == (21, 7, 7, 7) and tuple(crop.photo) == rect
    reply = ui.STATE.client.request("labels", image_id=ui.SEG_SESSION, out=str(tmp_path / "l.png"))
    assert reply["surface_ids"] == [1, 2, 3, 4]  # no surface 1 square at the material click
    assert not (np.asarray(Image.open(tmp_path / "l.png"))[7:14, 21:28] == 4).any()

    # The render to draw render windows on: an error until Compare made one, then shown.
    with pytest.raises(RuntimeError, match="run Compare"):
        bpy.ops.photo2scene.show_image(which="RENDER")
    (bundle / "compare").mkdir()
    shutil.copy(bundle / "photo.png", bundle / "compare" / "render.png")
    assert bpy.ops.photo2scene.show_image(which="RENDER") == {"FINISHED"} and props.crop_target == "RENDER"
    assert bpy.data.images.get(ui.RENDER_IMAGE) is not None

    # Reopening reads the saved files back.
    ui.open_photo(ctx, bundle, argv=FAKE_SERVE)
    assert [s.label for s in props.segments] == ["floor", "wall", "sofa"] and len(props.crops) == 1


def test_errors_reach_the_operator(tools, tmp_path):
    ui = tools
    with pytest.raises(RuntimeError, match="pick a segment"):  # nothing open
        bpy.ops.photo2scene.image_tool(mode="SEGMENT", x=1, y=1)
    with pytest.raises(RuntimeError, match="no bundle photo"):  # no reconstruction, no bundle set
        bpy.ops.photo2scene.image_open()
    assert ui.STATE.client is None


def test_real_serve_end_to_end(tools, tmp_path):
    """The real `python -m pipeline serve` (offline backend) on a tiny box room: click, relabel, save, load."""
    sys.path.insert(0, str(REPO / "tests"))
    from box_case import write_box_case

    from pipeline.core.case import load_case

    ui, ctx = tools, bpy.context
    bundle = tmp_path / "room.bundle"
    bundle.mkdir()
    write_box_case(bundle, 64, 48)
    shutil.copytree(bundle / "estimates", bundle / "case")
    before = load_case(bundle / "photo.png", bundle / "case")
    floor = next(s for s in before.segments if s.label == "floor")
    ys, xs = np.nonzero(before.segmentation == floor.id)
    start = time.perf_counter()
    ui.open_photo(ctx, bundle, argv=REAL_SERVE)
    props = ctx.scene.photo2scene_image
    # A new segment on the floor's middle: a "rug" taken out of the floor by a positive click.
    ui.new_segment(ctx, "rug")
    cx, cy = float(np.median(xs)) + 0.5, float(np.median(ys)) + 0.5
    reply = ui.segment_click(ctx, cx, cy, True)
    assert reply["area"] > 0 and ui.STATE.masks[props.segments[-1].seg_id].area == reply["area"]
    result = ui.save_to_bundle(ctx)
    after = load_case(bundle / "photo.png", bundle / "case")
    rug = [s for s in after.segments if s.label == "rug"]
    print("real serve:", reply["area"], (before.segmentation == floor.id).sum(), result.dropped)
    assert len(rug) == 1 and (after.segmentation == rug[0].id).sum() == reply["area"]
    assert (after.segmentation == next(s for s in after.segments if s.label == "floor").id).any()
    assert (result.backup / "segments.json").is_file()
    assert time.perf_counter() - start < 30
