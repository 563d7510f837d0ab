"""Partial estimates: what the user gave is kept, what is missing is estimated and merged.

A user may give any subset of camera (FOV, tilt), depth and segmentation. `missing(folder)` says which of them a
reconstruction still needs; `complete_estimates` runs the estimators on the photo and writes a new folder in
the case format where every given file and field wins:

- camera.json: the given fields (FOV, tilt, depth units) over the estimated ones;
- depth: the given depth (its units as given, else relative), else the estimated one, if any;
- segmentation: the given segments as they are; when they hold no room surfaces (only furniture masks, say) the
  estimated floor / wall / ceiling / window / door regions fill the pixels the given ones leave unlabeled,
  with ids above the given ones. Estimated furniture is not added: the user's masks are the furniture.
  With a given depth, the floor is taken from it (estimators/depth_floor.py): the lowest near-horizontal plane
  among the unmasked pixels is the floor, the photo-only floor pixels off that plane become wall, and its normal
  gives camera.json's pitch and roll unless the user gave them.
- field of view: with a given depth, the FOV at which the depth's room planes meet at right angles
  (estimators/depth_fov.py) rather than the photo's vanishing points, when the planes fix it.
"""

from __future__ import annotations

import json
import math
import shutil
import tempfile
from pathlib import Path
from typing import Callable

import numpy as np
from PIL import Image

from p2s_common.errors import InputError

from pipeline.core.case import _read_depth, _read_json
from pipeline.core.resample import resize_nearest
from pipeline.estimators.base import CameraEstimate
from pipeline.estimators.depth_floor import DepthFloor, depth_floor
from pipeline.estimators.depth_fov import depth_fov

ROOM_LABELS = ("floor", "wall", "ceiling", "window", "door")
DEPTH_FILES = ("depth.npy", "depth.exr", "depth.png")


def missing(folder: Path, fov_deg: float | None = None) -> list[str]:
    """What a reconstruction needs that `folder` does not give: 'field of view', 'segmentation', 'room surfaces'
    (a segmentation without a floor). Depth is optional (the stages run without it), so it is not listed."""
    folder = Path(folder)
    camera = _read_json(folder / "camera.json") if (folder / "camera.json").is_file() else {}
    out = []
    if fov_deg is None and not (isinstance(camera, dict) and ("fov_y_deg" in camera or "fov_x_deg" in camera)):
        out.append("field of view")
    if not (folder / "segmentation.png").is_file():
        out.append("segmentation")
    elif (folder / "segments.json").is_file():
        segments = _read_json(folder / "segments.json")
        labels = {str(s.get("label", "")).strip().lower() for s in segments if isinstance(s, dict)} \
            if isinstance(segments, list) else set()
        if "floor" not in labels:
            out.append("room surfaces")
    return out


def complete_estimates(photo: Path, given: Path, out: Path, estimate: Callable[[Path, Path], None],
                       log: Callable[[str], None], fov_deg: float | None = None) -> list[str]:
    """Write `given` completed by the estimators into `out` (see the module docstring); `estimate(photo, folder)`
    writes a full estimate of the photo. Returns what was estimated."""
    todo = missing(given, fov_deg)
    given, out = Path(given), Path(out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".estimated-") as tmp:
        est = Path(tmp)
        estimate(photo, est)
        camera = _read_json(est / "camera.json")
        given_camera = _read_json(given / "camera.json") if (given / "camera.json").is_file() else {}
        given_depth = next((given / n for n in DEPTH_FILES if (given / n).is_file()), None)
        if given_depth is not None:
            shutil.copy(given_depth, out / given_depth.name)
            camera["depth_units"] = given_camera.get("depth_units", "relative")
        elif (est / "depth.npy").is_file():
            shutil.copy(est / "depth.npy", out / "depth.npy")
            todo.append("depth")
        else:
            camera.pop("depth_units", None)
        camera.update({k: v for k, v in given_camera.items() if k not in ("width", "height")})
        if "fov_y_deg" in given_camera or "fov_x_deg" in given_camera:  # the given FOV, in whichever form
            for key in ("fov_y_deg", "fov_x_deg"):
                if key not in given_camera:
                    camera.pop(key, None)
        if "field of view" in todo and given_depth is not None:
            _fov_from_depth(given, given_depth, camera, log)
        floor = None
        if "room surfaces" in todo and given_depth is not None:
            floor = _floor_from_depth(given, given_depth, camera, log)
            if floor is not None and not ("pitch_deg" in given_camera or "roll_deg" in given_camera):
                pitch, roll = floor.pitch_roll_deg()
                camera.update(pitch_deg=round(pitch, 3), roll_deg=round(roll, 3),
                              tilt_source="floor plane of the given depth")
        (out / "camera.json").write_text(json.dumps(camera, indent=1))
        if "segmentation" in todo:
            for name in ("segmentation.png", "segments.json", "proposals.png"):
                if (est / name).is_file():
                    shutil.copy(est / name, out / name)
        else:
            _merge_segmentation(given, est, out, "room surfaces" in todo, log, floor)
        if (est / "estimate.json").is_file():
            shutil.copy(est / "estimate.json", out / "estimate.json")
    log(f"estimates: estimated {', '.join(todo)}; the given ones kept")
    return todo


def _free_pixels(given: Path, shape: tuple[int, int]) -> np.ndarray:
    """Pixels no given furniture ("thing") segment covers: where the room's surfaces can be."""
    if not (given / "segmentation.png").is_file():
        return np.ones(shape, bool)
    with Image.open(given / "segmentation.png") as im:
        ids = resize_nearest(np.asarray(im).astype(np.int32), (shape[1], shape[0]))
    segments = _read_json(given / "segments.json") if (given / "segments.json").is_file() else []
    things = [int(s["id"]) for s in segments if isinstance(s, dict) and s.get("kind") == "thing" and "id" in s]
    return ~np.isin(ids, things)


def _fov_from_depth(given: Path, depth_path: Path, camera: dict, log: Callable[[str], None]) -> None:
    """Replace the photo's FOV estimate in `camera` by the given depth's, when its planes fix one."""
    depth = _read_depth(depth_path, [])
    guess = float(camera.get("fov_y_deg", 55.0))
    found = depth_fov(depth, _free_pixels(given, depth.shape))
    if found is None:
        log(f"estimates: the given depth has no pair of room planes at an angle; FOV {guess:.1f} deg from the photo")
        return
    camera["fov_y_deg"] = round(found.fov_y_deg, 4)
    camera.pop("fov_x_deg", None)
    camera["fov_source"] = "right angles of the given depth's planes"
    log(f"estimates: FOV {found.fov_y_deg:.1f} deg from the given depth ({found.pairs} pairs of planes at right "
        f"angles within {found.residual_deg:.1f} deg; the photo's vanishing points said {guess:.1f})")


def _floor_from_depth(given: Path, depth_path: Path, camera: dict, log: Callable[[str], None]) -> DepthFloor | None:
    """The floor plane of the given depth among the pixels the given masks leave free (None: none found)."""
    with Image.open(given / "segmentation.png") as im:
        ids = np.asarray(im).astype(np.int32)
    depth = _read_depth(depth_path, [])
    if depth.shape != ids.shape:
        depth = resize_nearest(depth, (ids.shape[1], ids.shape[0]))
    fov_y = camera.get("fov_y_deg")
    if fov_y is None:  # a given horizontal FOV only
        h, w = ids.shape
        fov_y = math.degrees(2 * math.atan(math.tan(math.radians(float(camera["fov_x_deg"])) / 2) * h / w))
    up = CameraEstimate(float(fov_y), float(camera.get("pitch_deg", 0.0)), float(camera.get("roll_deg", 0.0)),
                        1.0, "").up_vector()
    floor = depth_floor(depth, float(fov_y), up, ids == 0)
    if floor is None:
        log("estimates: no floor plane in the given depth; the photo-only floor is kept")
    else:
        pitch, roll = floor.pitch_roll_deg()
        log(f"estimates: floor from the given depth ({int(floor.mask.sum())} px; camera {floor.height:.2f} above "
            f"it, pitch {pitch:.1f}, roll {roll:.1f})")
    return floor


def _merge_segmentation(given: Path, est: Path, out: Path, add_room: bool, log: Callable[[str], None],
                        floor: DepthFloor | None = None) -> None:
    """The given segmentation; with `add_room`, the estimated room surfaces where it is unlabeled, the floor
    from `floor` (the given depth's) where one was found."""
    with Image.open(given / "segmentation.png") as im:
        ids = np.asarray(im).astype(np.int32)
    segments = _read_json(given / "segments.json")
    if add_room:
        with Image.open(est / "segmentation.png") as im:
            est_ids = resize_nearest(np.asarray(im).astype(np.int32), (ids.shape[1], ids.shape[0]))
        est_segments = _read_json(est / "segments.json")
        if floor is not None:
            est_ids, est_segments = _with_depth_floor(est_ids, est_segments, floor.mask, floor.tested)
        offset = max([int(ids.max())] + [int(s["id"]) for s in segments if isinstance(s, dict) and "id" in s])
        added = []
        for seg in est_segments:
            if seg["label"] not in ROOM_LABELS:
                continue
            fill = (ids == 0) & (est_ids == int(seg["id"]))
            if fill.any():
                new_id = offset + int(seg["id"])
                ids[fill] = new_id
                segments.append({"id": new_id, "label": seg["label"], "kind": "stuff", "source": "estimated"})
                added.append(seg["label"])
        log(f"estimates: room surfaces estimated around the given masks ({', '.join(sorted(set(added))) or 'none'})")
    if ids.max() > 65535:
        raise InputError("segment ids above 65535 cannot be stored in a 16-bit segmentation; renumber segments.json")
    Image.fromarray(ids.astype(np.uint16)).save(out / "segmentation.png")
    (out / "segments.json").write_text(json.dumps(segments, indent=1))


def _with_depth_floor(est_ids: np.ndarray, est_segments: list[dict], floor: np.ndarray,
                      tested: np.ndarray) -> tuple[np.ndarray, list]:
    """The estimated room labels with the depth's floor: floor pixels become floor, the estimated floor's other
    `tested` pixels (with depth, off the plane: the foot of a wall, clutter) become wall."""
    est_ids = est_ids.copy()
    est_segments = list(est_segments)
    free_id = max([int(est_ids.max())] + [int(s["id"]) for s in est_segments]) + 1

    def segment_id(label: str) -> int:
        nonlocal free_id
        found = [int(s["id"]) for s in est_segments if s["label"] == label]
        if found:  # the largest of them (several walls: any wall will do, the room stage splits walls by depth)
            return max(found, key=lambda i: int((est_ids == i).sum()))
        est_segments.append({"id": free_id, "label": label, "kind": "stuff"})
        free_id += 1
        return free_id - 1

    floor_ids = [int(s["id"]) for s in est_segments if s["label"] == "floor"]
    off_plane = np.isin(est_ids, floor_ids) & tested & ~floor
    if off_plane.any():
        est_ids[off_plane] = segment_id("wall")
    est_ids[floor] = segment_id("floor")
    return est_ids, est_segments
