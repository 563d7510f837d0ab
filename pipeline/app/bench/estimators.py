"""Estimator benchmarks: `photo2scene bench camera` and `photo2scene bench clicks`.

camera: the classical camera estimator on the SUN RGB-D samples (ground-truth intrinsics and tilt) and on
synthetic box rooms with exact truth: FOV error, pitch, roll and horizon (up-vector) error in degrees, medians,
and the same again with a deliberately wrong FOV prior (to show the FOV is measured, not the prior echoed).

clicks: the offline click backend with the standard click simulation: NoC@85 / NoC@90 (20 clicks at most), mean
IoU after 1/3/5 clicks and the first-click flood rate (mask > 3x the object) on GrabCut and COCO-MVal (indoor
subset; also per half: even = tuning, odd = held out), on SUN RGB-D objects (masks derived from GT depth and 3-D
boxes, 5 clicks), seconds per click after the first; on generated room cases (when cached by
`bench room`) NoC per surface with and without depth, and the multi-surface protocol (clicks per surface and
failure rate until the mean IoU of all surfaces reaches the threshold, clicking the worst surface).
"""

from __future__ import annotations

import argparse
import json
import math
import pickle
import time
from pathlib import Path

import numpy as np

from p2s_common.images import read_photo
from pipeline.estimators.base import tilt_from_up
from pipeline.estimators.camera_classical import ClassicalCamera
from pipeline.estimators.synthetic import room_photo
from pipeline.interactive.clicks import iou, next_click, simulate
from pipeline.interactive.features import FeatureParams
from pipeline.interactive.multi import MultiSurfaceSession, simulate_multi
from pipeline.interactive.offline import OfflineSegmenter
from pipeline.interactive.session import ClickSession, SessionParams
from .sunrgbd import _read_calib, sun_samples

SHARED = Path(__file__).resolve().parents[3].parent / "shared" / "data"
ROOM_CACHE = Path.home() / ".cache" / "photo2scene" / "bench" / "room"
HELP = "Estimator benchmarks: camera (vanishing points), clicks (NoC)."
HELP_CAMERA = "Classical camera (vanishing points): FOV and horizon errors on SUN RGB-D samples + synthetic rooms."
HELP_CLICKS = ("Click segmentation (offline): NoC@85/90, IoU@1/3/5, flood rate on GrabCut, COCO-MVal indoor, "
               "SUN RGB-D (derived masks), generated rooms; s/click.")

# --- camera ---------------------------------------------------------------------------------------------------


def configure_camera(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sun", type=Path, default=SHARED / "sunrgbd_mmdet3d_samples",
                        help="SUN RGB-D samples folder (skipped if absent)")
    parser.add_argument("--synthetic", type=int, default=12, help="synthetic box rooms with exact truth")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, help="also write the rows as JSON here")


def sun_camera_truth(root: Path) -> list[tuple[str, Path, float, np.ndarray]]:
    """(name, image, true vertical FOV, true up in Blender camera axes) for each SUN sample with calibration."""
    from scipy.linalg import rq

    items = []
    data = root / "sunrgbd_trainval"
    for calib in sorted((data / "calib").glob("*.txt")) if (data / "calib").is_dir() else []:
        rtilt, k = _read_calib(calib)
        image = data / "image" / f"{calib.stem}.jpg"
        h = 530  # all SUN samples here are 730 x 530; read below to be sure
        try:
            from PIL import Image

            with Image.open(image) as im:
                h = im.size[1]
        except OSError:
            continue
        up_q = rtilt.T @ np.array([0, 0, 1.0])  # gravity up in the tilted depth frame (x right, y fwd, z up)
        items.append((f"sun_{calib.stem}", image, math.degrees(2 * math.atan(h / 2 / k[1, 1])),
                      np.array([up_q[0], up_q[2], -up_q[1]])))
    demo = root / "demo_000017" / "sunrgbd_000017_infos.pkl"
    if demo.is_file():
        # depth2img = K [R | 0] with R: gravity-aligned depth frame -> OpenCV camera; RQ splits K from R.
        info = pickle.loads(demo.read_bytes())["data_list"][0]["images"]["CAM0"]
        k, r = rq(np.asarray(info["depth2img"], float))
        s = np.diag(np.sign(np.diag(k)))
        k, r = k @ s, s @ r
        k = k / k[2, 2]
        up_cv = r[:, 2]
        items.append(("sun_000017", demo.parent / "000017.jpg",
                      math.degrees(2 * math.atan(info["height"] / 2 / k[1, 1])),
                      np.array([up_cv[0], -up_cv[1], -up_cv[2]])))
    return items


def camera_row(name: str, image: np.ndarray, fov: float, up: np.ndarray, estimator) -> dict:
    est = estimator.estimate(image)
    pitch, roll = tilt_from_up(up)
    up_err = math.degrees(math.acos(float(np.clip(est.up_vector() @ up / np.linalg.norm(up), -1, 1))))
    return {"case": name, "fov_true": fov, "fov_est": est.fov_y_deg, "fov_err": abs(est.fov_y_deg - fov),
            "pitch_err": abs(est.pitch_deg - pitch), "roll_err": abs(est.roll_deg - roll), "horizon_err": up_err,
            "confidence": est.confidence, "fov_confidence": est.fov_confidence,
            "seconds": est.details.get("seconds", 0.0)}


def run_camera(args: argparse.Namespace) -> int:
    rows: dict[str, list[dict]] = {}
    prior_variants = {"default prior": ClassicalCamera(seed=args.seed),
                      "wrong prior (FOV 90 deg)": ClassicalCamera(seed=args.seed, prior_f_over_longest=0.37)}
    sun = sun_camera_truth(args.sun) if args.sun and Path(args.sun).is_dir() else []
    if not sun:
        print(f"(SUN RGB-D samples not found at {args.sun}: skipped)")
    rng = np.random.default_rng(args.seed)
    synth = []
    for i in range(args.synthetic):
        fov, pitch, roll, yaw = rng.uniform(40, 80), rng.uniform(-20, 10), rng.uniform(-8, 8), rng.uniform(0, 90)
        image, truth = room_photo(480, 360, fov, pitch, roll, yaw, seed=args.seed + i)
        synth.append((f"synth_{i:02d}", image, fov, truth["up_blender"]))
    for label, est in prior_variants.items():
        for name, path, fov, up in sun:
            image, _ = read_photo(path)
            rows.setdefault(f"SUN RGB-D, {label}", []).append(camera_row(name, image, fov, up, est))
        for name, image, fov, up in synth:
            rows.setdefault(f"synthetic, {label}", []).append(camera_row(name, image, fov, up, est))
    print(f"{'case':<12} {'FOV true':>8} {'est':>6} {'err':>5} | {'pitch':>5} {'roll':>5} {'horizon':>7} "
          f"(deg err) | conf  fovc | s")
    for group, group_rows in rows.items():
        print(f"-- {group}")
        for r in group_rows:
            print(f"{r['case']:<12} {r['fov_true']:8.1f} {r['fov_est']:6.1f} {r['fov_err']:5.1f} | "
                  f"{r['pitch_err']:5.2f} {r['roll_err']:5.2f} {r['horizon_err']:7.2f} | {r['confidence']:.2f} "
                  f"{r['fov_confidence']:.2f} | {r['seconds']:.2f}")
        med = {k: float(np.median([r[k] for r in group_rows])) for k in
               ("fov_err", "pitch_err", "roll_err", "horizon_err", "seconds")}
        print(f"   median over {len(group_rows)}: FOV err {med['fov_err']:.2f}, pitch err {med['pitch_err']:.2f}, "
              f"roll err {med['roll_err']:.2f}, horizon (up) err {med['horizon_err']:.2f} deg; "
              f"{med['seconds']:.2f} s/image")
    print("targets (SUN RGB-D): median FOV error <= 5 deg, median horizon error <= 3 deg")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


# --- clicks ---------------------------------------------------------------------------------------------------


def configure_clicks(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", type=Path, default=SHARED, help="folder holding grabcut/ and coco_mval_indoor/")
    parser.add_argument("--datasets", default="grabcut,coco_mval_indoor,sun,generated",
                        help="comma-separated: grabcut, coco_mval_indoor, sun, generated")
    parser.add_argument("--limit", type=int, default=0, help="at most this many images per dataset (0 = all)")
    parser.add_argument("--max-clicks", type=int, default=20)
    parser.add_argument("--room-cache", type=Path, default=ROOM_CACHE,
                        help="generated room cases (made by `photo2scene bench room`)")
    parser.add_argument("--no-zoom", action="store_true", help="never zoom into small targets")
    parser.add_argument("--json", type=Path, help="also write the rows as JSON here")


def _read_instance_set(root: Path, limit: int):
    from PIL import Image

    names = sorted(p.stem for p in (root / "masks").glob("*.png"))
    if limit:
        names = names[:limit]
    for stem in names:
        candidates = sorted((root / "images").glob(f"{stem}.*"))
        if not candidates:
            continue
        with Image.open(candidates[0]) as im:
            image = np.asarray(im.convert("RGB"), np.float32) / 255.0
        with Image.open(root / "masks" / f"{stem}.png") as im:
            m = np.asarray(im)
        m = m[..., 0] if m.ndim == 3 else m
        yield stem, image, m == 255, m == 128  # 128: the boundary band the benchmark ignores


def _session_params(args):
    return SessionParams(zoom_below=0.0) if args.no_zoom else SessionParams()


def click_summary(runs: list[dict], max_clicks: int) -> dict:
    """NoC@85/90, mean IoU after 1/3/5 clicks and the first-click flood rate over per-target runs.

    Each run: {"ious": [...], "first_area_ratio": mask area / true area after the first click}. A run stopped
    early (IoU >= 0.90 reached) keeps its last IoU for the later clicks: the user would stop clicking there."""
    def at(ious: list[float], k: int) -> float:
        return ious[min(k, len(ious)) - 1] if ious else 0.0

    def noc(ious: list[float], t: float) -> int:
        return next((i + 1 for i, v in enumerate(ious) if v >= t), max_clicks)

    n = len(runs)
    if not n:
        return {"targets": 0}
    return {"targets": n,
            "noc85": float(np.mean([noc(r["ious"], 0.85) for r in runs])),
            "noc90": float(np.mean([noc(r["ious"], 0.90) for r in runs])),
            "iou1": float(np.mean([at(r["ious"], 1) for r in runs])),
            "iou3": float(np.mean([at(r["ious"], 3) for r in runs])),
            "iou5": float(np.mean([at(r["ious"], 5) for r in runs])),
            "flood_rate": float(np.mean([r["first_area_ratio"] > FLOOD_RATIO for r in runs])),
            "fail85": int(sum(max(r["ious"], default=0.0) < 0.85 for r in runs))}


FLOOD_RATIO = 3.0  # a first-click mask larger than this many times the true object counts as a flood


def _one_run(session, gt: np.ndarray, ignore: np.ndarray | None, max_clicks: int) -> tuple[dict, list[float]]:
    """Standard click simulation on one target, plus the first click's area ratio (ignored pixels left out)."""
    keep = ~ignore if ignore is not None else np.ones_like(gt, bool)
    ious, seconds, ratio = [], [], 0.0
    pred = np.zeros_like(gt, bool)
    for i in range(max_clicks):
        x, y, positive = next_click(pred, gt, ignore)
        start = time.perf_counter()
        pred = session.add_click(x, y, positive)
        seconds.append(time.perf_counter() - start)
        ious.append(iou(pred, gt, ignore))
        if i == 0:
            ratio = float((pred & keep).sum() / max((gt & keep).sum(), 1))
        if ious[-1] >= 0.90:
            break
    return {"ious": ious, "first_area_ratio": ratio}, seconds


def noc_dataset(name: str, items, args) -> dict:
    """Standard click simulation over an instance set; rows for all images and for the two halves of the
    sorted list (even = tuning half, odd = held-out half)."""
    backend = OfflineSegmenter()
    runs, per_click, prepare = [], [], []
    for stem, image, gt, ignore in items:
        start = time.perf_counter()
        session = ClickSession(image, backend, params=_session_params(args))
        prepare.append(time.perf_counter() - start)
        run, seconds = _one_run(session, gt, ignore, args.max_clicks)
        run["name"] = stem
        runs.append(run)
        per_click += seconds[1:]
        ious = run["ious"]
        print(f"  {stem:<28} NoC85 {click_summary([run], args.max_clicks)['noc85']:4.0f} "
              f"IoU@1 {ious[0]:.3f} area x{run['first_area_ratio']:.2f}  {image.shape[1]}x{image.shape[0]}",
              flush=True)
    row = {"dataset": name, "images": len(runs), **click_summary(runs, args.max_clicks),
           "tune_half": click_summary(runs[0::2], args.max_clicks),
           "held_out_half": click_summary(runs[1::2], args.max_clicks),
           "seconds_per_click": float(np.mean(per_click)) if per_click else 0.0,
           "seconds_prepare": float(np.mean(prepare)) if prepare else 0.0, "runs": runs}
    _print_click_row(name, row)
    return row


def _print_click_row(name: str, row: dict) -> None:
    for label, r in (("all", row), ("tune half (even)", row.get("tune_half")),
                     ("held-out half (odd)", row.get("held_out_half"))):
        if not r or not r.get("targets"):
            continue
        print(f"{name} [{label}]: {r['targets']} targets, NoC@85 {r['noc85']:.2f}, NoC@90 {r['noc90']:.2f}, "
              f"IoU@1/3/5 {r['iou1']:.3f}/{r['iou3']:.3f}/{r['iou5']:.3f}, flood rate {r['flood_rate']:.3f}, "
              f"never 85%: {r['fail85']}", flush=True)
    print(f"{name}: {row['seconds_per_click']:.3f} s per click after the first, "
          f"{row['seconds_prepare']:.3f} s features per image", flush=True)


def sun_click_rows(args) -> list[dict]:
    """SUN RGB-D photos: every furniture object whose mask can be derived from GT depth + 3-D box.

    The samples carry no segmentation; `bench.sunrgbd` derives one (valid-depth pixels inside a 3-D box). Pixels
    without depth are ignored by IoU and area. Objects with < 0.2 % of the image are left out (the derived mask is
    then mostly depth noise). `--limit` caps the number of objects."""
    root = Path(args.data) / "sunrgbd_mmdet3d_samples"
    if not (root / "depth_gt_png").is_dir():
        print(f"({root} not found: skipped)")
        return []
    backend = OfflineSegmenter()
    runs, per_click = [], []
    for sample in sun_samples(root):
        image, _ = read_photo(sample.photo_path)
        ignore = sample.ids == 0
        shared = ClickSession(image, backend, params=_session_params(args))
        for seg in sample.segments:
            if seg.kind != "thing":
                continue
            gt = sample.ids == seg.id
            if gt.mean() < 0.002 or (args.limit and len(runs) >= args.limit):
                continue
            session = ClickSession(image, backend, params=_session_params(args), features=shared.features,
                                   crops=shared.crops)
            run, seconds = _one_run(session, gt, ignore, min(args.max_clicks, 5))
            run["name"] = f"{sample.name}/{seg.label}#{seg.id}"
            runs.append(run)
            per_click += seconds[1:]
            ious = run["ious"]
            print(f"  {run['name']:<28} IoU@1 {ious[0]:.3f} IoU@3 {ious[min(3, len(ious)) - 1]:.3f}"
                  f" area x{run['first_area_ratio']:.2f}", flush=True)
    row = {"dataset": "sun (derived masks)", "images": len(runs), **click_summary(runs, min(args.max_clicks, 5)),
           "seconds_per_click": float(np.mean(per_click)) if per_click else 0.0, "seconds_prepare": 0.0,
           "runs": runs}
    _print_click_row("sun (derived masks, 5 clicks max)", row)
    return [row]


def generated_rows(args) -> list[dict]:
    """Generated room cases: per-surface NoC with and without depth; multi-surface protocol."""
    from PIL import Image

    cases = sorted(p for p in Path(args.room_cache).glob("case_*") if (p / "estimates" / "segmentation.png").exists())
    if args.limit:
        cases = cases[: args.limit]
    if not cases:
        print(f"(no generated cases in {args.room_cache}: run `photo2scene bench room` once; skipped)")
        return []
    rows = []
    for use_depth in (False, True):
        backend = OfflineSegmenter(FeatureParams(depth_weight=FeatureParams().depth_weight if use_depth else 0.0))
        noc85, noc90, per_click = [], [], []
        multi = []
        for case in cases:
            with Image.open(case / "photo.png") as im:
                image = np.asarray(im.convert("RGB"), np.float32) / 255.0
            with Image.open(case / "estimates" / "segmentation.png") as im:
                gt_ids = np.asarray(im).astype(np.int32)
            depth = np.load(case / "estimates" / "depth.npy") if use_depth else None
            surfaces = [int(s) for s in np.unique(gt_ids) if s > 0 and (gt_ids == s).mean() > 0.002]
            shared = ClickSession(image, backend, depth, params=_session_params(args))
            for s in surfaces:
                session = ClickSession(image, backend, depth, params=_session_params(args),
                                       features=shared.features, crops=shared.crops)
                run = simulate(session, gt_ids == s, None, args.max_clicks, stop_at=0.90)
                noc85.append(run.noc(0.85, args.max_clicks))
                noc90.append(run.noc(0.90, args.max_clicks))
                per_click += run.seconds[1:]
            ms = MultiSurfaceSession(image, None, backend, depth)
            multi.append(simulate_multi(ms, gt_ids, surfaces, 0.85, max_clicks=10 * len(surfaces)))
        row = {"dataset": f"generated rooms ({'with' if use_depth else 'without'} depth)", "cases": len(cases),
               "surfaces": len(noc85), "noc85": float(np.mean(noc85)), "noc90": float(np.mean(noc90)),
               "seconds_per_click": float(np.mean(per_click)) if per_click else 0.0,
               "multi_clicks_per_surface@85": float(np.mean([m["clicks_per_surface"] for m in multi])),
               "multi_failure_rate@85": float(np.mean([m["failed"] for m in multi]))}
        print(f"{row['dataset']}: {row['surfaces']} surfaces in {row['cases']} cases, per-surface NoC@85 "
              f"{row['noc85']:.2f}, NoC@90 {row['noc90']:.2f}, {row['seconds_per_click']:.3f} s/click; "
              f"multi-surface to mean IoU 0.85: {row['multi_clicks_per_surface@85']:.2f} clicks per surface, "
              f"failure rate {row['multi_failure_rate@85']:.2f}", flush=True)
        rows.append(row)
    return rows


def run_clicks(args: argparse.Namespace) -> int:
    import os

    wanted = [d.strip() for d in args.datasets.split(",") if d.strip()]
    rows = []
    print(f"offline backend, {os.cpu_count()} CPU cores visible; zoom {'off' if args.no_zoom else 'on'}")
    for name in wanted:
        if name == "generated":
            rows += generated_rows(args)
            continue
        if name == "sun":
            rows += sun_click_rows(args)
            continue
        root = Path(args.data) / name
        if not (root / "masks").is_dir():
            print(f"({root} not found: skipped)")
            continue
        rows.append(noc_dataset(name, _read_instance_set(root, args.limit), args))
    print("targets: GrabCut NoC@85 <= 6, < 0.2 s per click on 2 CPU cores")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0
