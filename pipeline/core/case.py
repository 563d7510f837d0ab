"""The Case: a photo plus its estimates (field of view, depth, panoptic segmentation), at working resolution.

`load_case` reads the on-disk format of docs/case_format.md, validates it, and resamples everything to the
working resolution. Every problem a user can fix becomes an InputError naming the file and the fix.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from p2s_common.errors import InputError
from p2s_common.images import check_image_file, linear_to_srgb, read_exr, read_photo, srgb_to_linear

from .resample import resize_area, resize_nearest, resize_valid_mean, working_shape

ROOM_SURFACES = ("wall", "floor", "ceiling")


@dataclass
class Segment:
    id: int
    label: str
    kind: str  # "stuff" | "thing"


@dataclass
class Case:
    """A photo and its estimates at working resolution."""

    photo_srgb: np.ndarray  # HxWx3 float32, sRGB in [0,1]
    photo_linear: np.ndarray  # HxWx3 float32, linear Rec.709
    fov_y_deg: float
    depth: np.ndarray | None  # HxW float32 z-depth, 0 where invalid
    depth_metric: bool
    segmentation: np.ndarray  # HxW int32 ids, 0 = unlabeled
    segments: list[Segment]
    inputs: dict = field(default_factory=dict)  # what was provided and where it came from (for the report)
    tilt_deg: tuple[float, float] | None = None  # (pitch, roll) from camera.json when given (docs/estimators.md)

    @property
    def height(self) -> int:
        return self.photo_srgb.shape[0]

    @property
    def width(self) -> int:
        return self.photo_srgb.shape[1]

    def mask(self, label: str) -> np.ndarray:
        """Union of all segments with this label."""
        ids = [s.id for s in self.segments if s.label == label]
        return np.isin(self.segmentation, ids)

    def segments_labelled(self, label: str) -> list[Segment]:
        return [s for s in self.segments if s.label == label]


def fov_x_to_y(fov_x_deg: float, width: int, height: int) -> float:
    return math.degrees(2 * math.atan(math.tan(math.radians(fov_x_deg) / 2) * height / width))


def load_case(photo_path: Path, estimates_dir: Path | None, fov_deg: float | None = None,
              working_size: int = 320) -> Case:
    """Read and validate a photo and its estimates; resample to the working resolution."""
    photo, is_linear = read_photo(Path(photo_path))
    full_h, full_w = photo.shape[:2]
    size = working_shape(full_w, full_h, working_size)
    photo_small = resize_area(photo, size)
    if is_linear:
        linear, srgb = photo_small, linear_to_srgb(photo_small)
    else:
        srgb, linear = photo_small, srgb_to_linear(photo_small)
    inputs: dict = {"photo": str(photo_path), "photo_size": [full_w, full_h], "working_size": list(size)}

    est = Path(estimates_dir) if estimates_dir else None
    if est is not None and not est.is_dir():
        raise InputError(f"estimates folder not found: {est}")
    camera = _read_json(est / "camera.json") if est and (est / "camera.json").exists() else {}

    if fov_deg is not None:
        fov_y, inputs["fov"] = float(fov_deg), "--fov-deg"
    elif "fov_y_deg" in camera:
        fov_y, inputs["fov"] = float(camera["fov_y_deg"]), "camera.json fov_y_deg"
    elif "fov_x_deg" in camera:
        fov_y, inputs["fov"] = fov_x_to_y(float(camera["fov_x_deg"]), full_w, full_h), "camera.json fov_x_deg"
    else:
        raise InputError("no field of view: pass --fov-deg F (vertical, degrees) or give estimates/camera.json")
    if not 5.0 < fov_y < 150.0:
        raise InputError(f"vertical field of view {fov_y:.1f} deg is implausible; give it in degrees (5-150)")

    warnings: list[str] = []
    depth, metric = None, False
    depth_file = _first_existing(est, ("depth.npy", "depth.exr", "depth.png")) if est else None
    if depth_file is not None:
        raw = _read_depth(depth_file, warnings)
        _check_aspect(raw.shape, (full_h, full_w), depth_file)
        depth = resize_valid_mean(raw, size)
        metric = str(camera.get("depth_units", "relative")).lower() in ("m", "metre", "metres", "meter", "meters")
        inputs["depth"] = f"{depth_file.name} ({'metres' if metric else 'relative scale'})"

    seg_file = est / "segmentation.png" if est else None
    if seg_file is None or not seg_file.exists():
        raise InputError("no segmentation: give estimates/segmentation.png and estimates/segments.json "
                         "(see docs/case_format.md)")
    ids_full = _read_ids(seg_file)
    _check_aspect(ids_full.shape, (full_h, full_w), seg_file)
    segments = _read_segments(est / "segments.json", ids_full, warnings)
    if warnings:
        inputs["warnings"] = warnings
    ids = resize_nearest(ids_full, size)
    inputs["segmentation"] = seg_file.name

    tilt = None
    if "pitch_deg" in camera or "roll_deg" in camera:
        tilt = (float(camera.get("pitch_deg", 0.0)), float(camera.get("roll_deg", 0.0)))
        inputs["tilt"] = "camera.json pitch_deg/roll_deg"
    case = Case(srgb, linear, fov_y, depth, metric, ids, segments, inputs, tilt)
    if not case.mask("floor").any():
        raise InputError("the segmentation has no floor pixels (label 'floor'); the room stage needs the floor: "
                         "label it in segments.json")
    return case


def _first_existing(folder: Path, names: tuple[str, ...]) -> Path | None:
    for name in names:
        if (folder / name).exists():
            return folder / name
    return None


def _read_json(path: Path):
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(f"cannot read {path}: {exc}") from exc


def _check_aspect(shape: tuple[int, ...], photo_hw: tuple[int, int], path: Path) -> None:
    h, w = shape[:2]
    ph, pw = photo_hw
    if abs(w / h - pw / ph) > 0.01 * (pw / ph):
        raise InputError(f"{path.name} is {w}x{h} but the photo is {pw}x{ph} (another aspect ratio); "
                         "estimates must cover the same view as the photo")


MAX_INVALID_DEPTH = 0.9  # a depth map with more unknown pixels than this is refused: too little to fit a room to


def _read_depth(path: Path, warnings: list[str]) -> np.ndarray:
    """Depth as float32 HxW with the case's convention for unknown pixels, 0 (what `resize_valid_mean` skips).

    NaN, infinite and non-positive pixels are holes (estimators leave them at edges, sky, mirrors): they become 0
    with a warning in `warnings`; a map that is more than `MAX_INVALID_DEPTH` holes is a one-line InputError."""
    check_image_file(path)  # from the header: a hostile or huge map is refused before it is decoded
    try:
        if path.suffix == ".npy":
            depth = np.load(path, allow_pickle=False).astype(np.float32)
        elif path.suffix == ".exr":
            depth = read_exr(path)[..., 0]
        else:
            with Image.open(path) as im:
                depth = np.asarray(im).astype(np.float32)
    except Exception as exc:  # noqa: BLE001
        raise InputError(f"cannot read depth {path}: {exc}") from exc
    depth = np.squeeze(depth)
    if depth.ndim != 2:
        raise InputError(f"depth {path} must be a single-channel HxW map, got shape {depth.shape}")
    with np.errstate(invalid="ignore"):
        bad = ~(np.isfinite(depth) & (depth > 0))
    count, total = int(bad.sum()), bad.size
    if count == 0:
        return depth
    kinds = f"{int(np.isnan(depth).sum())} NaN, {int(np.isinf(depth).sum())} infinite, " \
            f"{count - int((~np.isfinite(depth)).sum())} <= 0"
    if count > MAX_INVALID_DEPTH * total:
        raise InputError(f"depth {path}: {count} of {total} pixels ({100 * count / total:.1f} %) are not valid depth "
                         f"({kinds}); at most {100 * MAX_INVALID_DEPTH:.0f} % may be unknown; check the file")
    warnings.append(f"depth {path.name}: {count} of {total} pixels ({100 * count / total:.1f} %) are not valid "
                    f"depth ({kinds}); treating them as unknown")
    return np.where(bad, 0.0, depth).astype(np.float32)


def _read_ids(path: Path) -> np.ndarray:
    check_image_file(path)
    try:
        with Image.open(path) as im:
            if im.mode not in ("I;16", "I;16B", "I;16L", "I", "L", "P"):
                raise InputError(f"{path} must be a single-channel (16-bit) id image, got mode {im.mode}")
            return np.asarray(im).astype(np.int32)
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise InputError(f"cannot read segmentation {path}: {exc}") from exc


def _read_segments(path: Path, ids: np.ndarray, warnings: list[str]) -> list[Segment]:
    """The segments of segments.json; one listed without pixels is dropped with a note in `warnings`."""
    if not path.exists():
        raise InputError(f"{path} is missing: it names each id of segmentation.png (see docs/case_format.md)")
    data = _read_json(path)
    if not isinstance(data, list):
        raise InputError(f"{path} must be a JSON list of {{id, label, kind}}")
    segments, seen = [], set()
    present = set(np.unique(ids).tolist())
    for item in data:
        try:
            seg = Segment(int(item["id"]), str(item["label"]).strip().lower(), str(item.get("kind", "thing")))
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"{path}: each entry needs an integer id and a label ({item!r})") from exc
        if seg.id <= 0 or seg.id in seen:
            raise InputError(f"{path}: id {seg.id} is 0 (reserved for unlabeled) or repeated")
        seen.add(seg.id)
        if seg.id not in present:  # harmless: nothing to reconstruct from; said once, then left out
            warnings.append(f"{path.name}: segment {seg.id} ({seg.label}) has no pixels in the segmentation; "
                            "it is left out")
            continue
        segments.append(seg)
    unknown = present - seen - {0}
    if unknown:
        raise InputError(f"segmentation ids {sorted(unknown)[:10]} are not in {path.name}; add them or set them to 0")
    return segments
