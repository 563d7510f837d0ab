"""The SUN benchmark's per-box lines (bench/realistic_sun.box_lines)."""

from __future__ import annotations

from pipeline.app.bench.realistic_sun import box_lines


def test_one_line_per_box_and_the_largest_piece() -> None:
    truth = [{"segment_id": 10, "label": "bed", "size": [2.0, 1.6, 1.2]},
             {"segment_id": 11, "label": "lamp", "size": [0.3, 0.3, 0.6]}]
    row = {"objects": [
        {"label": "bed", "name": "10", "mask_iou": 0.8, "iou_3d": 0.61, "centroid_err_m": 0.12, "matched": "bed (b)"},
        {"label": "lamp", "name": "11", "mask_iou": 0.0, "iou_3d": 0.0, "matched": None}]}
    lines = box_lines(row, truth)
    assert len(lines) == 3
    assert "bed" in lines[0] and "3.84 m3" in lines[0] and "3-D IoU 0.610" in lines[0] and "0.12 m" in lines[0]
    assert "lamp" in lines[1] and "<- nothing" in lines[1] and "nan m" in lines[1]
    assert lines[2].strip() == "largest piece: bed 3-D IoU 0.610"
    assert box_lines({"objects": []}, truth) == []
