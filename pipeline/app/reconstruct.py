"""`photo2scene reconstruct PHOTO -o OUT.bundle`: the main job, photo + estimates -> bundle (-> .blend)."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from p2s_common.errors import InputError

from pipeline.core.config import add_config_arguments, config_from_args, to_dict
from pipeline.stages.config import ReconstructConfig
from blender_addon.bundle import load_bundle
from p2s_common.images import read_photo
from pipeline.core.bundle import (BundleFiles, BundleWriter, copy_bundle, recover_interrupted, save_scene,
                                  write_bundle_photo, write_json)
from pipeline.core.case import load_case
from pipeline.core.events import Events
from pipeline.core.scene import Scene
from pipeline.estimators.complete import complete_estimates, missing
from pipeline.estimators.config import EstimateConfig
from pipeline.estimators.estimate import estimate_case
from pipeline.stages import STAGES, stage_names, stages_from
from pipeline.stages.objects.retrieval import check_asset_index
from .export.blend import write_blend
from .export.mitsuba_xml import write_mitsuba_scene
from .outcome import Outcome, estimators_line, run_outcome
from .report import write_report

if TYPE_CHECKING:
    from pipeline.stages import Stage

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
    config = config_from_args(args, ReconstructConfig)
    events = Events(jsonl=sys.stdout if args.events == "jsonl" else None,
                    bars=not args.quiet and args.events != "jsonl", log=sys.stderr)
    return finish(lambda: reconstruct(args.photo, args.estimates, args.output, config, events,
                                      fov_deg=args.fov_deg, overwrite=args.overwrite), args, events)


def finish(job, args: argparse.Namespace, events) -> int:
    """Run `job` (returns (bundle, scene)), then the optional .blend; report the paths and errors as events."""
    try:
        bundle_dir, scene = job()
        blend = None
        if args.blend:
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
    for line in _outcome_lines(scene):  # last, so a poor result cannot scroll away in progress lines
        print(line, file=sys.stderr)
    return 0


def _outcome_lines(scene) -> list[str]:
    rec = scene.stages.get("outcome") if scene is not None else None
    if not isinstance(rec, dict):
        return []
    return Outcome(**{k: v for k, v in rec.items() if k in Outcome.__dataclass_fields__}).lines()


def reconstruct(photo: Path, estimates: Path | None, output: Path, config: ReconstructConfig, events,
                fov_deg: float | None = None, overwrite: bool = False):
    """Run every stage and write the bundle atomically. Returns (bundle path, Scene)."""
    start = time.perf_counter()
    recover_interrupted(Path(output), events)  # before the exists/--overwrite check, which must see the restored one
    check_asset_index(config.objects.asset_index)  # a wrong --objects.asset-index fails before any work
    auto_estimates = None
    if estimates is None:  # a bare photo: estimate camera, depth and segmentation first (docs/estimators.md)
        read_photo(Path(photo))  # a bad photo is reported before any estimation starts
        auto_estimates = Path(tempfile.mkdtemp(prefix=".estimates-"))
        estimates = _estimate(photo, auto_estimates, config, events)
    elif Path(estimates).is_dir() and missing(estimates, fov_deg):  # partial estimates: estimate the rest
        auto_estimates = Path(tempfile.mkdtemp(prefix=".estimates-"))
        estimates = _complete(photo, Path(estimates), auto_estimates, config, events, fov_deg)
    try:
        case = load_case(photo, estimates, fov_deg, config.working_size)  # validate before writing anything
    except InputError:
        if auto_estimates is not None:
            shutil.rmtree(auto_estimates, ignore_errors=True)
        raise
    for warning in case.inputs.get("warnings", []):
        events.log(f"warning: {warning}")
    events.log(f"case: {case.width}x{case.height} working resolution, fov_y {case.fov_y_deg:.1f} deg, "
               f"{len(case.segments)} segments, depth {'metric' if case.depth_metric else 'relative'}")
    with BundleWriter(output, overwrite) as root:
        write_bundle_photo(root, photo)  # full resolution for the artist; the stages use case's working copy
        _write_case(root / "case", case)
        write_json(root / "config.json", to_dict(config))
        if auto_estimates is not None:  # keep what was estimated, at its own resolution, for inspection/editing
            shutil.move(str(auto_estimates), root / "estimates")
        scene = run_stages(root, None, case, config, events, STAGES, start)
    return Path(output), scene


def _estimate(photo: Path, folder: Path, config: ReconstructConfig, events) -> Path:
    """Run the estimators (classical ones when no learned weights are on this machine) into `folder`."""
    events.stage("estimate", 1, "no estimates given: estimating camera, depth and segmentation")
    est = EstimateConfig(download=config.estimate_download, seed=config.seed)
    try:
        provenance = estimate_case(photo, folder, est, log=events.log)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    events.log(f"estimators: {estimators_line(provenance)}")  # said at the start, and again at the end
    events.step(1, 1, "estimated")
    return folder


def _complete(photo: Path, given: Path, folder: Path, config: ReconstructConfig, events,
              fov_deg: float | None) -> Path:
    """Partial estimates in `given`: estimate what is missing and merge (estimators/complete.py) into `folder`."""
    events.stage("estimate", 1, f"estimates without {', '.join(missing(given, fov_deg))}: estimating them")
    est = EstimateConfig(download=config.estimate_download, seed=config.seed)
    try:
        complete_estimates(photo, given, folder, lambda p, out: estimate_case(p, out, est, log=events.log),
                           events.log, fov_deg)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    events.step(1, 1, "estimated")
    return folder


def run_stages(root: Path, scene, case, config: ReconstructConfig, events, stages: Sequence[Stage],
               start: float):
    """Run `stages` in order on `scene`, checkpointing after each; then the Mitsuba scene, report and log.

    The stages write the bundle's files through one BundleFiles, which reads the others from `root` (on a re-run,
    a copy of the old bundle)."""
    files = BundleFiles(source=root)
    for stage in stages:
        scene = stage.run(scene, case, config, events, files)
        save_scene(root, scene, checkpoint=stage.name, files=files)
    assert scene is not None
    scene.stages["outcome"] = run_outcome(scene.stages, len(scene.objects), _estimators(root)).to_dict()
    scene.stages["total_seconds"] = {"seconds": round(time.perf_counter() - start, 3)}
    save_scene(root, scene, files=files)
    write_mitsuba_scene(root, scene, files)
    write_report(root, scene, case)
    with open(root / "log.txt", "a", encoding="utf-8") as log:
        log.write("\n".join(events.lines) + "\n")
    return scene


def _estimators(root: Path) -> str:
    """The estimators line of the estimates this bundle's case was made from ('' when all were given)."""
    path = root / "estimates" / "estimate.json"
    try:
        return estimators_line(json.loads(path.read_text())) if path.is_file() and not path.is_symlink() else ""
    except (OSError, ValueError):
        return ""


def refine(bundle_dir: Path, from_stage: str, config: ReconstructConfig, events):
    """Re-run `from_stage` and the stages after it on a bundle's (possibly edited) scene.json, in place.

    The stage starts from what the scene holds: the room stage refines the edited box (and the stages after it
    start afresh), the object stage refines the edited objects with the chosen candidates. The bundle is copied,
    updated, and swapped in atomically; the edited scene.json stays in checkpoints/edited.json."""
    start = time.perf_counter()
    recover_interrupted(Path(bundle_dir), events)  # a bundle parked at .NAME.old by a stopped swap is put back first
    bundle = load_bundle(bundle_dir)
    try:
        stages = stages_from(from_stage)
    except KeyError:
        raise InputError(f"unknown stage {from_stage!r}; stages are {', '.join(stage_names())}") from None
    scene = Scene.from_dict(bundle.scene)
    case = load_case(bundle.root / "photo.png", bundle.root / "case", working_size=config.working_size)
    for later in stages[1:]:  # their inputs change: they run from scratch
        _forget_stage(scene, later.name)
    events.log(f"refine: re-running {', '.join(s.name for s in stages)} on {bundle.root}")
    with BundleWriter(bundle.root, overwrite=True) as root:
        for link in copy_bundle(bundle.root, root):
            events.log(f"refine: left out {link}: a symbolic link (bundles are copied without following links)")
        write_json(root / "checkpoints" / "edited.json", bundle.scene)
        write_json(root / "config.json", to_dict(config))
        scene = run_stages(root, scene, case, config, events, stages, start)
    return Path(bundle_dir), scene


def _forget_stage(scene, name: str) -> None:
    """Drop what a stage produced, so it runs from scratch."""
    if name == "objects":
        for obj in scene.objects:
            for part in obj.parts:
                scene.materials.pop(part.material, None)
        scene.objects = []
    scene.stages.pop(name, None)


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
