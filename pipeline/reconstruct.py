"""`photo2scene reconstruct PHOTO -o OUT.bundle`: the main job, photo + estimates -> bundle (-> .blend)."""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

from .config import ReconstructConfig, add_config_arguments, config_from_args, to_dict
from .errors import InputError

HELP = "Reconstruct a Blender scene from one photo of a room (and optional estimates)."


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("photo", type=Path, help="the photo (JPEG, PNG, TIFF or EXR)")
    parser.add_argument("-o", "--output", type=Path, required=True, help="bundle folder to write (e.g. out.bundle)")
    parser.add_argument("--estimates", type=Path, help="folder with camera.json, depth.npy, segmentation.png, "
                        "segments.json (docs/case_format.md)")
    parser.add_argument("--fov-deg", type=float, help="vertical field of view in degrees (overrides camera.json)")
    parser.add_argument("--blend", type=Path, help="also write the scene as a .blend file")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing bundle")
    parser.add_argument("--events", choices=["none", "jsonl"], default="none",
                        help="jsonl: one JSON progress event per line on stdout (for the Blender add-on)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    add_config_arguments(parser, ReconstructConfig)


def run(args: argparse.Namespace) -> int:
    from .events import Events

    config = config_from_args(args, ReconstructConfig)
    events = Events(jsonl=sys.stdout if args.events == "jsonl" else None,
                    bars=not args.quiet and args.events != "jsonl", log=sys.stderr)
    try:
        bundle_dir, scene = reconstruct(args.photo, args.estimates, args.output, config, events,
                                        fov_deg=args.fov_deg, overwrite=args.overwrite)
        blend = None
        if args.blend:
            from .export.blend import write_blend

            events.stage("export", 1, "writing the .blend")
            blend = write_blend(bundle_dir, args.blend)
            events.step(1, 1, "written")
    except InputError as exc:
        events.error(str(exc))
        raise
    events.done("reconstruction finished", bundle=str(bundle_dir), blend=str(blend) if blend else None)
    print(f"bundle: {bundle_dir}", file=sys.stderr)
    print(f"report: {bundle_dir / 'report' / 'index.html'}", file=sys.stderr)
    if blend:
        print(f"blend:  {blend}", file=sys.stderr)
    return 0


def reconstruct(photo: Path, estimates: Path | None, output: Path, config: ReconstructConfig, events,
                fov_deg: float | None = None, overwrite: bool = False):
    """Run every stage and write the bundle atomically. Returns (bundle path, Scene)."""
    from .bundle import BundleWriter, save_scene, write_json
    from .case import load_case
    from .export.mitsuba_xml import write_mitsuba_scene
    from .io.images import write_png
    from .report import write_report
    from .stages import STAGE_ORDER

    start = time.perf_counter()
    case = load_case(photo, estimates, fov_deg, config.working_size)  # validate before writing anything
    events.log(f"case: {case.width}x{case.height} working resolution, fov_y {case.fov_y_deg:.1f} deg, "
               f"{len(case.segments)} segments, depth {'metric' if case.depth_metric else 'relative'}")
    with BundleWriter(output, overwrite) as root:
        write_png(root / "photo.png", case.photo_srgb)
        _write_case(root / "case", case)
        write_json(root / "config.json", to_dict(config))
        scene = None
        for name in STAGE_ORDER:
            stage = importlib.import_module(f".stages.{name}", __package__)
            scene = stage.run(scene, case, config, events)
            save_scene(root, scene, checkpoint=name)
        assert scene is not None
        scene.stages["total_seconds"] = {"seconds": round(time.perf_counter() - start, 3)}
        save_scene(root, scene)
        write_mitsuba_scene(root, scene)
        write_report(root, scene, case)
        (root / "log.txt").write_text("\n".join(events.lines) + "\n")
    return Path(output), scene


def _write_case(folder: Path, case) -> None:
    """The estimates as used (at working resolution), so a bundle can be re-run or inspected on its own."""
    folder.mkdir(parents=True, exist_ok=True)
    if case.depth is not None:
        np.save(folder / "depth.npy", case.depth.astype(np.float32))
    Image.fromarray(case.segmentation.astype(np.uint16)).save(folder / "segmentation.png")
    (folder / "segments.json").write_text(json.dumps([s.__dict__ for s in case.segments], indent=1))
    (folder / "camera.json").write_text(json.dumps({
        "fov_y_deg": case.fov_y_deg, "width": case.width, "height": case.height,
        "depth_units": "metres" if case.depth_metric else "relative", "inputs": case.inputs}, indent=1))
