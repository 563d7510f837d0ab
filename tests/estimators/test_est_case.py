"""Unsupervised regions, layout labels, and estimate_case writing a folder that load_case accepts."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from pipeline.core.case import load_case
from pipeline.estimators.base import CameraEstimate
from pipeline.estimators.config import EstimateConfig, RegionsConfig
from pipeline.estimators.estimate import estimate_case
from pipeline.estimators.labels import layout_labels
from pipeline.estimators.regions import unsupervised_regions
from pipeline.estimators.synthetic import room_photo
from pipeline.render.room_box import FACE_NAMES

FAST_REGIONS = RegionsConfig(size=64, channels=16, iterations=25, min_clusters=4)


def _blocks() -> np.ndarray:
    rng = np.random.default_rng(0)
    image = np.zeros((48, 64, 3), np.float32)
    image[:, :32] = [0.8, 0.2, 0.2]
    image[:, 32:] = [0.2, 0.3, 0.8]
    image[30:, :] = [0.9, 0.9, 0.3]
    return np.clip(image + rng.normal(0, 0.02, image.shape), 0, 1).astype(np.float32)


def test_regions_follow_colour_blocks_and_are_deterministic():
    image = _blocks()
    a = unsupervised_regions(image, FAST_REGIONS, seed=3)
    b = unsupervised_regions(image, FAST_REGIONS, seed=3)
    assert np.array_equal(a.ids, b.ids)
    assert a.ids.shape == (48, 64) and a.ids.min() >= 1
    assert a.features.shape[:2] == (48, 64)
    # Each block is (almost) a single region.
    for block in (np.s_[:30, :32], np.s_[:30, 32:], np.s_[30:, :]):
        ids, counts = np.unique(a.ids[block], return_counts=True)
        assert counts.max() / counts.sum() > 0.85


def test_layout_labels_name_floor_and_ceiling_of_a_box_room():
    _, truth = room_photo(160, 120, 60.0, -5.0, 0.0, 20.0, seed=0)
    faces = truth["faces"] + 1
    cam = CameraEstimate(60.0, -5.0, 0.0, 1.0, "truth")
    ids, infos, proposals = layout_labels(faces, cam)
    by_label = {}
    for info in infos:
        by_label.setdefault(info.label, []).append(ids == info.id)
    floor = faces == FACE_NAMES.index("floor") + 1
    ceiling = faces == FACE_NAMES.index("ceiling") + 1
    assert np.array_equal(by_label["floor"][0], floor)
    assert np.array_equal(by_label["ceiling"][0], ceiling)
    assert "wall" in by_label
    assert not (proposals[floor] > 0).any()


def test_layout_always_gives_a_floor():
    ids = np.ones((40, 60), np.int32)
    ids[:20] = 2
    _, infos, _ = layout_labels(ids, CameraEstimate(55.0, 40.0, 0.0, 0.1, "prior"))  # horizon far below
    assert any(i.label == "floor" for i in infos)


def test_estimate_case_writes_a_loadable_case(tmp_path):
    image, _ = room_photo(200, 150, 55.0, -8.0, 2.0, 30.0, seed=2)
    Image.fromarray((image * 255).astype(np.uint8)).save(tmp_path / "photo.png")
    cfg = EstimateConfig(download="never", working_size=200, regions=FAST_REGIONS)
    messages: list[str] = []
    prov = estimate_case(tmp_path / "photo.png", tmp_path / "est", cfg, messages.append)
    est = tmp_path / "est"
    for name in ("camera.json", "segmentation.png", "segments.json", "estimate.json"):
        assert (est / name).is_file()
    cam = json.loads((est / "camera.json").read_text())
    assert abs(cam["fov_y_deg"] - 55.0) < 6.0 and "pitch_deg" in cam and "confidence" in cam
    # No learned depth here: the box layout's relative depth on the room surfaces, nothing elsewhere.
    assert prov["depth"]["source"].startswith("classical (box layout") and cam["depth_units"] == "relative"
    case = load_case(tmp_path / "photo.png", est, working_size=100)
    assert case.mask("floor").any() and case.depth is not None and not case.depth_metric
    room = case.mask("floor") | case.mask("wall") | case.mask("ceiling")
    assert (case.depth[room] > 0).mean() > 0.9  # (resampled to 100 px: edges of the other segments blur)
    assert (~room).sum() == 0 or (case.depth[~room] > 0).mean() < 0.5
    assert prov["camera"]["source"].startswith("classical")
    assert any("learned backend unavailable" in m for m in messages)


def test_estimate_cli(tmp_path, capsys):
    from pipeline.app.cli import main

    image, _ = room_photo(120, 90, 55.0, -8.0, 2.0, 30.0, seed=4)
    Image.fromarray((image * 255).astype(np.uint8)).save(tmp_path / "photo.png")
    code = main(["estimate", str(tmp_path / "photo.png"), "-o", str(tmp_path / "est"), "--download", "never",
                 "--preset", "draft", "--regions.size", "48", "--regions.iterations", "10"])
    assert code == 0 and (tmp_path / "est" / "segments.json").is_file()
    assert main(["estimate", str(tmp_path / "missing.jpg"), "-o", str(tmp_path / "x")]) == 2
    assert "photo not found" in capsys.readouterr().err


@pytest.mark.parametrize("backend", ["camera", "depth", "segmentation"])
def test_provided_backends_need_a_folder(backend, tmp_path):
    from p2s_common.errors import InputError

    image, _ = room_photo(80, 60, seed=0)
    Image.fromarray((image * 255).astype(np.uint8)).save(tmp_path / "photo.png")
    with pytest.raises(InputError):
        estimate_case(tmp_path / "photo.png", tmp_path / "est", EstimateConfig(**{backend: "provided"}),
                      lambda m: None)
