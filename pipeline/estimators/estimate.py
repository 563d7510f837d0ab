"""`photo2scene estimate PHOTO -o DIR`: a bare photo -> estimates in the case format (docs/case_format.md).

Writes camera.json (FOV plus the tilt and confidence fields of docs/estimators.md), depth.npy when a depth backend
is available, segmentation.png + segments.json (at least a floor), proposals.png (unnamed region proposals of the
classical backend, for labelling with clicks) and estimate.json (which backend made what, and how long it took).
`photo2scene reconstruct PHOTO --estimates DIR` then runs on the folder.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Callable

import numpy as np
from PIL import Image

from p2s_common.errors import InputError

from pipeline.core.config import add_config_arguments, config_from_args
from .config import EstimateConfig
from p2s_common.images import linear_to_srgb, read_photo
from pipeline.core.resample import resize_area, working_shape
from .base import DepthEstimate
from .camera import exif_focal_px, make_camera_estimator
from .depth import make_depth_estimator
from .segmentation import make_segmentation_estimator

HELP = "Estimate camera, depth and segmentation of a bare photo (writes a folder of estimates)."


def estimate_case(photo_path: Path, out_estimates_dir: Path, config: EstimateConfig | None = None,
                  log: Callable[[str], None] | None = None) -> dict:
    """Run the configured estimators on a photo and write the estimates folder. Returns the provenance dict."""
    config = config or EstimateConfig()
    log = log or (lambda msg: print(msg, file=sys.stderr))
    photo_path = Path(photo_path)
    photo, is_linear = read_photo(photo_path)
    if is_linear:
        photo = linear_to_srgb(photo)
    full_h, full_w = photo.shape[:2]
    size = working_shape(full_w, full_h, config.working_size)
    image = resize_area(photo, size)
    w, h = size
    provenance: dict = {"photo": str(photo_path), "photo_size": [full_w, full_h], "size": [w, h],
                        "config": asdict(config), "messages": []}

    def note(msg: str) -> None:
        provenance["messages"].append(msg)
        log(msg)

    out = Path(out_estimates_dir)
    out.mkdir(parents=True, exist_ok=True)

    start = time.perf_counter()
    cam_backend = make_camera_estimator(config, note)
    hint = exif_focal_px(photo_path, w, h)
    camera = cam_backend.estimate(image, hint)
    provenance["camera"] = {"source": camera.source, "seconds": round(time.perf_counter() - start, 3),
                            "exif_focal_px": hint}
    note(f"camera: fov_y {camera.fov_y_deg:.1f} deg, pitch {camera.pitch_deg:.1f}, roll {camera.roll_deg:.1f} "
         f"(confidence {camera.confidence:.2f}; {camera.source})")

    start = time.perf_counter()
    depth_backend = make_depth_estimator(config, note)
    depth = depth_backend.estimate(image) if depth_backend is not None else None
    provenance["depth"] = ({"source": depth.source, "metric": depth.metric,
                            "seconds": round(time.perf_counter() - start, 3)} if depth is not None else None)

    start = time.perf_counter()
    seg_backend = make_segmentation_estimator(config, note)
    seg = seg_backend.estimate(image, camera)
    if not any(s.label == "floor" for s in seg.segments):
        note("segmentation: no floor found; the room stage needs one: label it with clicks (photo2scene serve)")
    provenance["segmentation"] = {"source": seg.source, "segments": len(seg.segments),
                                  "seconds": round(time.perf_counter() - start, 3)}
    if depth is None and seg.layout_depth is not None:  # no learned depth: the box layout's, on room surfaces
        depth = DepthEstimate(seg.layout_depth, False, "classical (box layout, room surfaces only)")
        provenance["depth"] = {"source": depth.source, "metric": False, "seconds": 0.0}

    cam_json = camera.to_json(w, h)
    if depth is not None:
        cam_json["depth_units"] = "metres" if depth.metric else "relative"
        np.save(out / "depth.npy", depth.depth.astype(np.float32))
    elif (out / "depth.npy").exists():
        (out / "depth.npy").unlink()  # a stale depth from an earlier run would be read as this photo's
    (out / "camera.json").write_text(json.dumps(cam_json, indent=1))
    Image.fromarray(seg.ids.astype(np.uint16)).save(out / "segmentation.png")
    present = set(np.unique(seg.ids).tolist())
    segments = [{"id": s.id, "label": s.label, "kind": s.kind, "score": s.score} for s in seg.segments
                if s.id in present]
    (out / "segments.json").write_text(json.dumps(segments, indent=1))
    if seg.proposals is not None:
        Image.fromarray(seg.proposals.astype(np.uint16)).save(out / "proposals.png")
    (out / "estimate.json").write_text(json.dumps(provenance, indent=1, default=str))
    return provenance


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("photo", type=Path, help="the photo (JPEG, PNG, TIFF or EXR)")
    parser.add_argument("-o", "--output", type=Path, required=True, help="estimates folder to write")
    add_config_arguments(parser, EstimateConfig, presets=PRESETS)


# `--preset` in this command's own terms (dotted paths into EstimateConfig).
PRESETS = {"draft": {"working_size": 480, "regions.iterations": 30, "regions.size": 128}, "final": {}}


def run(args: argparse.Namespace) -> int:
    config = config_from_args(args, EstimateConfig, presets=PRESETS)
    if not Path(args.photo).is_file():
        raise InputError(f"photo not found: {args.photo}")
    estimate_case(args.photo, args.output, config)
    print(f"estimates: {args.output}", file=sys.stderr)
    print(f"next: photo2scene reconstruct {args.photo} --estimates {args.output} -o OUT.bundle", file=sys.stderr)
    return 0
