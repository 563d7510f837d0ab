"""The loud outcome: a run with no furniture or a poorly fitting room says so in its last lines."""

from __future__ import annotations

from pipeline.app.outcome import MIN_ROOM_IOU, estimators_line, run_outcome


def test_no_furniture_and_a_poor_room_are_warnings():
    out = run_outcome({"room": {"iou_after": {"wall": 0.3, "floor": 0.4, "ceiling": 0.2}}}, objects=0)
    assert out.status == "poor" and out.room_iou == 0.3
    assert len(out.warnings) == 2
    assert any("no furniture" in w for w in out.warnings)
    assert any(f"{out.room_iou:.2f} < {MIN_ROOM_IOU}" in w for w in out.warnings)
    assert [line for line in out.lines() if line.startswith("WARNING:")] == [f"WARNING: {w}" for w in out.warnings]


def test_a_good_run_has_no_warning():
    out = run_outcome({"room": {"iou_after": {"wall": 0.9, "floor": 0.8, "ceiling": float("nan")}}}, objects=3)
    assert out.status == "ok" and out.warnings == [] and out.room_iou == 0.85
    assert out.lines() == ["outcome: 3 objects, room fits its masks at IoU 0.85"]


def test_classical_estimators_name_the_fetch_command():
    prov = {"camera": {"source": "classical (vanishing points)"}, "depth": None,
            "segmentation": {"source": "classical (unsupervised regions + horizon layout)"}}
    line = estimators_line(prov)
    assert "depth none" in line and "photo2scene models fetch" in line and "[learned]" in line
    learned = {"camera": {"source": "learned (GeoCalib)"}, "depth": {"source": "learned (Depth Anything)"},
               "segmentation": {"source": "learned (OneFormer Swin-T ADE20K)"}}
    assert "models fetch" not in estimators_line(learned)
    assert estimators_line(None) == ""
