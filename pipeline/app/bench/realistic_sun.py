"""The SUN RGB-D samples in the realistic benchmark: real photos in three settings, scored on the exported .blend.

Settings (what the pipeline is given besides the photo):

- `all`: camera.json (FOV from the intrinsics, metric depth), depth, and the segmentation derived from the truth
  (`sunrgbd.sun_samples`: floor, wall, one segment per 3-D box);
- `masks+depth`: metric depth and the furniture masks only (no wall/floor labels, no FOV);
- `bare`: the photo alone (the estimators run).

A refusal (a one-line user error) is a result, reported as such. The truth here is the camera's intrinsics and
gravity, its height above the floor, the 3-D boxes and the masks derived from them (no room box, no materials).
"""

from __future__ import annotations

import json
import math
import shutil
import time
from pathlib import Path

import numpy as np

from p2s_common.errors import InputError

from pipeline.stages.config import ReconstructConfig
from p2s_common.images import read_photo
from pipeline.core.resample import resize_area, resize_nearest
from .blend_view import ViewCamera, open_blend
from .realistic_score import Truth, score_view
from .sunrgbd import sun_samples


def _write_case(sample, setting: str, folder: Path) -> Path | None:
    """photo + the estimates of `setting` in `folder`; returns the estimates folder (None for a bare photo)."""
    from PIL import Image

    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    shutil.copy(sample.photo_path, folder / "photo.jpg")
    if setting == "bare":
        return None
    est = folder / "estimates"
    est.mkdir()
    h, w = sample.depth.shape
    np.save(est / "depth.npy", sample.depth.astype(np.float32))
    camera = {"width": w, "height": h, "depth_units": "metres"}
    ids, segments = sample.ids, sample.segments
    if setting == "all":
        camera["fov_y_deg"] = round(sample.fov_y_deg, 4)
    else:  # furniture masks only
        things = {s.id for s in segments if s.kind == "thing"}
        ids = np.where(np.isin(ids, list(things)), ids, 0)
        segments = [s for s in segments if s.id in things]
    (est / "camera.json").write_text(json.dumps(camera))
    Image.fromarray(ids.astype(np.uint16)).save(est / "segmentation.png")
    (est / "segments.json").write_text(json.dumps([{"id": s.id, "label": s.label, "kind": s.kind} for s in segments]))
    return est


def sun_truth(sample, width: int, height: int):
    """The sample's truth (realistic_score.Truth) at the .blend's render size."""
    cam = sample.truth["camera"]
    camera = ViewCamera(np.asarray(cam["position"], float), np.asarray(cam["rotation"], float), sample.fov_y_deg,
                        width, height)
    photo, _ = read_photo(sample.photo_path)
    objects = []
    for i, box in enumerate(sample.boxes):
        centre = np.asarray(box["center"], float) - [0.0, 0.0, sample.floor_z]
        objects.append({"segment_id": 10 + i, "label": box["label"], "center": centre.tolist(),
                        "size": (2 * np.asarray(box["half"])).tolist(), "yaw_deg": math.degrees(box["heading"])})
    labels = {s.id: s.label for s in sample.segments}
    return Truth(camera, resize_area(photo, (width, height)), resize_nearest(sample.ids, (width, height)), labels,
                 objects)


def box_lines(row: dict, truth_objects: list[dict]) -> list[str]:
    """One line per annotated box of a scored row (mask IoU, 3-D IoU, centroid error, what matched it) and the
    largest box's 3-D IoU (the piece that dominates the room's look)."""
    sizes = {str(o["segment_id"]): float(np.prod(o["size"])) for o in truth_objects}
    per = row.get("objects") or []
    lines = [f"    {p['label']:<15} {sizes.get(p['name'], 0.0):5.2f} m3  mask IoU {p['mask_iou']:.3f}  "
             f"3-D IoU {p['iou_3d']:.3f}  centroid {p.get('centroid_err_m', float('nan')):.2f} m  "
             f"<- {p['matched'] or 'nothing'}" for p in per]
    if per:
        big = max(per, key=lambda p: sizes.get(p["name"], 0.0))
        lines.append(f"    largest piece: {big['label']} 3-D IoU {big['iou_3d']:.3f}")
    return lines


def run_sun(root: Path, config: ReconstructConfig, settings: list[str], out_dir: Path, samples: int) -> list[dict]:
    """One row per sample and setting; printed as it goes."""
    # lazy: a top-level import would make an import cycle (the target imports this module at its top)
    from .realistic import _case_picture_from, pipeline_figures, print_sun_table, reconstruct_to_blend

    rows = []
    for sample in sun_samples(root):
        for setting in settings:
            row: dict = {"case": sample.name, "setting": setting, "mode": f"sun {setting}"}
            folder = out_dir / setting / sample.name
            est = _write_case(sample, setting, folder)
            print(f"{sample.name} {setting}: reconstructing, exporting and scoring the .blend ...", flush=True)
            try:
                blend, scene, seconds = reconstruct_to_blend(folder / "photo.jpg", est, folder / "result", config)
            except InputError as exc:
                row["refused"] = str(exc)
            except Exception as exc:  # noqa: BLE001 - a crash on a real photo is a benchmark result
                row["failed"] = f"{type(exc).__name__}: {exc}"
            else:
                row.update(pipeline_figures(scene), seconds=round(seconds, 1))
                start = time.perf_counter()
                view = open_blend(blend)
                truth = sun_truth(sample, view.camera.width, view.camera.height)
                row.update(score_view(view, truth, samples, novel=False))
                row["objects_in_blend"] = sum(1 for i in view.instances if i.kind == "object")
                row["score_seconds"] = round(time.perf_counter() - start, 1)
                _case_picture_from(row, truth.photo, out_dir / setting, sample.name)
                box_text = box_lines(row, truth.objects)
            rows.append(row)
            print_sun_table([row], summary=False)
            if "objects" in row:
                print("\n".join(box_text), flush=True)
    return rows
