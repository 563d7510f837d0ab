"""Multi-surface overlap rules, the SAM slot, and the JSON-lines server."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from PIL import Image

from pipeline.interactive.clicks import iou
from pipeline.interactive.multi import MultiSurfaceSession, simulate_multi
from pipeline.interactive.sam import SamBackend, _mask_prompt, make_click_backend
from pipeline.interactive.serve import Server, decode_mask, encode_mask, serve_stream
from pipeline.interactive.session import ClickSession


def room_like(h: int = 90, w: int = 120) -> tuple[np.ndarray, np.ndarray]:
    """Wall (1) above floor (2), a rug (3) on the floor: three adjacent surfaces."""
    rng = np.random.default_rng(0)
    ids = np.ones((h, w), np.int32)
    ids[50:] = 2
    ids[62:82, 30:90] = 3
    colours = np.array([[0, 0, 0], [0.85, 0.82, 0.75], [0.45, 0.3, 0.2], [0.2, 0.35, 0.6]], np.float32)
    image = np.clip(colours[ids] + rng.normal(0, 0.02, (h, w, 3)), 0, 1).astype(np.float32)
    return image, ids


def test_positive_click_takes_from_a_neighbour_only_where_clicked():
    image, ids = room_like()
    start = ids.copy()
    start[62:82, 30:60] = 2  # the floor wrongly holds the rug's left half
    start[:10, :10] = 2  # and a far-away wrong bit of wall
    ms = MultiSurfaceSession(image, start)
    labels = ms.click(3, 45.5, 72.5, True)  # "this is rug"
    assert (labels[62:82, 32:58] == 3).mean() > 0.9
    assert (labels[:10, :10] == 2).all(), "a surface keeps what the click did not touch"
    assert (labels[55:60, :] == 2).all(), "the floor around the rug is untouched"


def test_negative_click_unlabels_rather_than_hands_over():
    image, ids = room_like()
    start = ids.copy()
    start[40:50, :] = 2  # floor spills onto the bottom of the wall
    ms = MultiSurfaceSession(image, start)
    labels = ms.click(2, 60.5, 45.5, False)
    assert labels[45, 60] == 0
    assert (labels[60:62, :] == 2).all()
    ms.undo()
    assert np.array_equal(ms.labels, start)


def test_small_slivers_are_filtered_and_holes_filled():
    image, ids = room_like()
    ms = MultiSurfaceSession(image, ids.copy(), min_area=0.01)
    labels = ms.labels.copy()
    labels[5:7, 5:7] = 0  # a pinhole in the wall
    labels[20:22, 100:102] = 2  # a floor speck on the wall
    out = ms._filter(labels, {1, 2})
    assert (out[5:7, 5:7] == 1).all() and (out[20:22, 100:102] == 1).all()


def test_multi_surface_simulation_reaches_the_threshold():
    image, ids = room_like()
    ms = MultiSurfaceSession(image)
    result = simulate_multi(ms, ids, [1, 2, 3], 0.85, max_clicks=15)
    assert not result["failed"] and result["clicks"] <= 6
    assert min(result["ious"].values()) > 0.7


class _FakePredictor:
    """SamPredictor stand-in: records prompts, returns a box around the positive clicks."""

    def set_image(self, rgb):
        self.shape = rgb.shape[:2]
        self.features = "embedding"
        self.input_size = self.shape

    def predict(self, point_coords, point_labels, mask_input, multimask_output):
        self.last = (point_coords, point_labels, mask_input)
        mask = np.zeros(self.shape, bool)
        for (x, y), lab in zip(point_coords, point_labels):
            if lab:
                mask[max(0, int(y) - 5):int(y) + 5, max(0, int(x) - 5):int(x) + 5] = True
        return mask[None], np.ones(1), np.zeros((1, 256, 256))


def test_sam_slot_passes_clicks_and_previous_mask():
    image, _ = room_like()
    predictor = _FakePredictor()
    session = ClickSession(image, SamBackend(predictor=predictor))
    session.add_click(20.5, 20.5, True)
    mask = session.add_click(60.5, 20.5, False)
    coords, labels, prompt = predictor.last
    assert coords.shape == (2, 2) and labels.tolist() == [1, 0]
    assert prompt is not None and prompt.shape == (1, 256, 256)
    assert mask.shape == image.shape[:2] and mask[20, 20]


def test_mask_prompt_frame():
    from pipeline.interactive.sam import SamFeatures

    prev = np.zeros((100, 200), bool)
    prev[:, :100] = True
    logits = _mask_prompt(prev, SamFeatures(None, (100, 200), (512, 1024), (100, 200)))
    assert logits.shape == (1, 256, 256)
    assert logits[0, 10, 10] > 0 and logits[0, 10, 200] < 0 and logits[0, 200, 10] < 0  # padding is "outside"


def test_auto_backend_falls_back_to_offline():
    messages: list[str] = []
    backend = make_click_backend("auto", messages.append)
    assert backend.name in ("offline", "sam")
    if backend.name == "offline":
        assert len(messages) == 1 and "offline" in messages[0]


def test_rle_round_trip():
    rng = np.random.default_rng(0)
    for mask in (rng.random((7, 9)) > 0.5, np.ones((3, 4), bool), np.zeros((2, 5), bool)):
        assert np.array_equal(decode_mask(encode_mask(mask)), mask)


def test_server_session(tmp_path):
    image, ids = room_like()
    Image.fromarray((image * 255).astype(np.uint8)).save(tmp_path / "photo.png")
    requests = [
        {"id": 1, "cmd": "ping"},
        {"id": 2, "cmd": "open", "image": str(tmp_path / "photo.png"), "image_id": "p"},
        {"id": 3, "cmd": "click", "image_id": "p", "surface": 3, "x": 60.5, "y": 72.5, "positive": True,
         "out": str(tmp_path / "rug.png")},
        {"id": 4, "cmd": "labels", "image_id": "p", "out": str(tmp_path / "seg.png")},
        {"id": 5, "cmd": "click", "image_id": "nope", "surface": 1, "x": 1, "y": 1, "positive": True},
        {"id": 6, "cmd": "dance"},
        {"id": 7, "cmd": "click", "image_id": "p"},
        {"id": 8, "cmd": "undo", "image_id": "p"},
        {"id": 9, "cmd": "quit"},
        {"id": 10, "cmd": "ping"},
    ]
    stdin = io.StringIO("\n".join(json.dumps(r) for r in requests) + "\nnot json\n")
    stdout = io.StringIO()
    serve_stream(Server(make_click_backend("offline")), stdin, stdout)
    replies = [json.loads(line) for line in stdout.getvalue().splitlines()]
    assert [r["id"] for r in replies] == [1, 2, 3, 4, 5, 6, 7, 8, 9]  # stops at quit
    assert replies[0]["ok"] and replies[0]["backend"] == "offline"
    assert replies[1]["width"] == 120 and replies[1]["height"] == 90
    rug = decode_mask(replies[2]["mask"])
    assert iou(rug, ids == 3) > 0.9 and (tmp_path / "rug.png").is_file()
    assert replies[3]["surface_ids"] == [3]
    assert np.asarray(Image.open(tmp_path / "seg.png")).max() == 3
    assert not replies[4]["ok"] and "not open" in replies[4]["error"]
    assert not replies[5]["ok"] and "unknown cmd" in replies[5]["error"]
    assert not replies[6]["ok"] and "missing field" in replies[6]["error"]
    assert replies[7]["ok"] and replies[7]["surface_ids"] == []


def test_server_survives_bad_json():
    stdout = io.StringIO()
    serve_stream(Server(make_click_backend("offline")), io.StringIO("{oops\n[1,2]\n"), stdout)
    replies = [json.loads(line) for line in stdout.getvalue().splitlines()]
    assert len(replies) == 2 and not any(r["ok"] for r in replies)


@pytest.mark.parametrize("cmd", [["serve", "--help"]])
def test_serve_is_a_command(cmd, capsys):
    from pipeline.app.cli import main

    with pytest.raises(SystemExit) as exc:
        main(cmd)
    assert exc.value.code == 0
    assert "JSON" in capsys.readouterr().out
