"""Room-stage benchmark: generated cases (Cycles photos with ground truth) and the SUN RGB-D samples.

Per case: wall/floor/ceiling mask IoU before and after refinement, 3-D IoU of the room box against ground truth
(generated cases), floor-normal error in degrees, seconds per stage and per iteration, and the ratio of one
forward+backward iteration to one plain forward render at the same settings.
"""

from __future__ import annotations

import argparse
import json
import math
import time
import zlib
from pathlib import Path

import numpy as np

from pipeline.core.config import add_config_arguments, config_from_args
from pipeline.stages.config import ReconstructConfig
from pipeline.core.case import load_case
from pipeline.core.events import Silent
from pipeline.core.geometry import angle_between_deg, box_iou_3d
from pipeline.render.backend import init_mitsuba
from pipeline.stages.room import stage as room_stage
from pipeline.synth.case_writer import generate_case
from .sunrgbd import sun_cases

HELP = "Room stage: mask IoU before/after, box 3-D IoU, floor normal error, timings."
DEFAULT_CACHE = Path.home() / ".cache" / "photo2scene" / "bench" / "room"
SHARED = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "sunrgbd_mmdet3d_samples"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--count", type=int, default=5, help="generated cases (made once, then cached)")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="where generated cases are kept")
    parser.add_argument("--sun", type=Path, default=SHARED, help="SUN RGB-D samples folder (skipped if absent)")
    parser.add_argument("--json", type=Path, help="also write the rows as JSON here")
    parser.add_argument("--depth-noise", type=float, default=0.0,
                        help="distort generated cases' depth like a monocular estimate: a smooth multiplicative "
                             "field of this relative amplitude plus 1%% pixel noise (0 = exact depth)")
    add_config_arguments(parser, ReconstructConfig)


def run(args: argparse.Namespace) -> int:
    config = config_from_args(args, ReconstructConfig)
    print(f"device: {init_mitsuba(config.device)}; working size {config.working_size}; "
          f"refine {config.room.refine_iters} iters at width {config.room.refine_width}, {config.room.spp} spp")
    rows = []
    for case_dir in generated_cases(args.cache, args.count):
        rows.append(bench_generated(case_dir, config, Silent(), args.depth_noise))
        print_row(rows[-1])
    if args.sun and Path(args.sun).is_dir():
        for name, case, truth in sun_cases(Path(args.sun), config.working_size):
            rows.append(bench_case(name, case, truth, config, Silent()))
            print_row(rows[-1])
    else:
        print(f"(SUN RGB-D samples not found at {args.sun}: skipped)")
    print_summary(rows)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


def generated_cases(cache: Path, count: int) -> list[Path]:
    """Cases case_000..: generated with `photo2scene synth` once and reused."""
    out = []
    for seed in range(count):
        folder = cache / f"case_{seed:03d}"
        if not (folder / "ground_truth.json").exists():
            print(f"generating {folder} (Cycles) ...", flush=True)
            generate_case(folder, seed=seed)
        out.append(folder)
    return out


def distort_depth(depth: np.ndarray, amplitude: float, seed: int) -> np.ndarray:
    """Depth as a monocular estimator might give it: a smooth multiplicative error field + pixel noise."""
    from scipy.ndimage import gaussian_filter

    rng = np.random.default_rng(seed)
    field = gaussian_filter(rng.normal(size=depth.shape), sigma=max(depth.shape) / 6)
    field /= max(np.abs(field).max(), 1e-9)
    noise = rng.normal(scale=0.01, size=depth.shape)
    return (depth * (1 + amplitude * field + noise)).astype(np.float32)


def bench_generated(folder: Path, config: ReconstructConfig, events, depth_noise: float = 0.0) -> dict:
    case = load_case(folder / "photo.png", folder / "estimates", working_size=config.working_size)
    if depth_noise > 0:
        case.depth = distort_depth(case.depth, depth_noise, seed=zlib.crc32(folder.name.encode()))
    truth = json.loads((folder / "ground_truth.json").read_text())
    return bench_case(folder.name, case, truth, config, events)


def bench_case(name: str, case, truth: dict, config: ReconstructConfig, events) -> dict:
    """Run the room stage on one case and score it against `truth` (camera pose, optional room box)."""
    start = time.perf_counter()
    scene = room_stage.run(None, case, config, events)
    seconds = time.perf_counter() - start
    m = scene.stages["room"]
    R_true = np.asarray(truth["camera"]["rotation"], float)
    up_ours = scene.camera.R.T @ np.array([0, 0, 1.0])  # world up in camera coordinates
    up_true = R_true.T @ np.array([0, 0, 1.0])
    row = {
        "case": name,
        "iou_before": m["iou_before"],
        "iou_after": m["iou_after"],
        "floor_normal_err_deg": angle_between_deg(up_ours, up_true),
        "scale": scene.scale["source"],
        "seconds_stage": seconds,
        "seconds_per_iter": m["seconds_per_iteration"],
        "fwd_bwd_over_fwd": m["seconds_per_iteration"] / max(m["seconds_forward_render"], 1e-9),
    }
    if "position" in truth["camera"]:
        row["camera_height_err_m"] = abs(scene.camera.position[2] - truth["camera"]["position"][2])
    if truth.get("room"):
        row["box_iou_3d"] = room_iou_against_truth(scene, truth)
    return row


def truth_transform(scene, truth: dict) -> tuple[np.ndarray, np.ndarray, float]:
    """Rotation, translation and yaw offset (degrees) mapping our world into the true one through the cameras
    (a single photo fixes the world only up to the camera: the cameras are the common reference)."""
    R_o, t_o = scene.camera.R, scene.camera.t
    R_g, t_g = np.asarray(truth["camera"]["rotation"], float), np.asarray(truth["camera"]["position"], float)
    rot = R_g @ R_o.T  # our world -> camera -> true world
    x_axis = rot @ np.array([1.0, 0, 0])
    return rot, t_g - rot @ t_o, math.degrees(math.atan2(x_axis[1], x_axis[0]))


def room_iou_against_truth(scene, truth: dict) -> float:
    """3-D IoU of our room box with the true one, mapped into the true world."""
    rot, trans, yaw_offset = truth_transform(scene, truth)
    centre = rot @ np.asarray(scene.room.center) + trans
    room = truth["room"]
    return box_iou_3d(centre, scene.room.size, scene.room.yaw_deg + yaw_offset, room["center"], room["size"],
                      room.get("yaw_deg", 0.0))


def _fmt_iou(d: dict) -> str:
    return " ".join(f"{k[0]}{v:.3f}" for k, v in d.items())


def print_row(r: dict) -> None:
    extra = f" box3D {r['box_iou_3d']:.3f}" if "box_iou_3d" in r else ""
    height = f" camh_err {r['camera_height_err_m']:.3f}m" if "camera_height_err_m" in r else ""
    print(f"{r['case']:<14} IoU before [{_fmt_iou(r['iou_before'])}] after [{_fmt_iou(r['iou_after'])}]{extra}"
          f" floor_n_err {r['floor_normal_err_deg']:.2f}deg{height} | {r['seconds_stage']:.1f}s stage,"
          f" {r['seconds_per_iter'] * 1000:.0f}ms/iter, fwd+bwd/fwd {r['fwd_bwd_over_fwd']:.1f}x  [{r['scale']}]",
          flush=True)


def print_summary(rows: list[dict]) -> None:
    gen = [r for r in rows if "box_iou_3d" in r]
    if not gen:
        return
    min_iou = [min(r["iou_after"].values()) for r in gen]
    print(f"generated cases: {len(gen)}; mean surface IoU after {np.mean([np.mean(list(r['iou_after'].values())) for r in gen]):.3f}"
          f" (worst surface {min(min_iou):.3f}); mean box 3-D IoU {np.mean([r['box_iou_3d'] for r in gen]):.3f}; "
          f"mean floor normal error {np.mean([r['floor_normal_err_deg'] for r in gen]):.2f} deg; "
          f"max stage time {max(r['seconds_stage'] for r in gen):.1f}s")
    print("targets: surface IoU >= 0.95, box 3-D IoU >= 0.85, room stage < 30 s on 2 CPU cores")
