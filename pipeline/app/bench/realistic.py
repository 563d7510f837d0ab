"""`photo2scene bench realistic`: held-out rooms and real photos, scored on the exported .blend in Cycles.

Rooms (`realistic_rooms`) are furnished with third-party models the pipeline has never seen
(../shared/data/third_party_furniture), generated once into the cache. Each room is reconstructed in two
retrieval modes, reported side by side:

- `held-out`: the built-in library only (`--objects.asset-index builtin`): the third-party models are in no index;
- `present`: the third-party models are added to a user index with `photo2scene assets index` (made once in the
  cache), as an artist who owns those models would.

Every reconstruction is exported to a .blend and scored on that file (`realistic_score`): Cycles render against
the photo and the novel views, object-index masks, oriented boxes, camera and room. The pipeline's own
final-render PSNR is printed beside the Cycles figure. The SUN RGB-D samples are run in three settings (all
estimates, object masks + depth only, bare photo) and a refusal is reported as such. For every case a picture
photo | render (and truth masks | .blend masks) is written next to the results, with one sheet per mode, and each
novel view beside the .blend's render from there (<case>_novel.png).
"""

from __future__ import annotations

import argparse
import copy
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from p2s_common.errors import InputError

from pipeline.core.config import add_config_arguments, config_from_args
from pipeline.stages.config import ReconstructConfig
from blender_addon.bundle import load_bundle
from p2s_common.images import read_photo, write_png
from pipeline.app.export.blend import write_blend
from pipeline.app.reconstruct import reconstruct
from pipeline.core.events import Silent
from pipeline.render.backend import init_mitsuba
from pipeline.stages.objects.retrieval import local_embedder
from .realistic_rooms import generate_room
from .realistic_score import material_retrieval_figures, score_blend
from .realistic_sun import run_sun

HELP = "Held-out realistic rooms + SUN RGB-D photos, scored on the exported .blend rendered with Cycles."
DEFAULT_CACHE = Path.home() / ".cache" / "photo2scene" / "bench" / "realistic"
SHARED = Path(__file__).resolve().parents[3].parent / "shared" / "data"
MODES = ("held-out", "present")
SUN_SETTINGS = ("all", "masks+depth", "bare")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--count", type=int, default=10, help="rooms (seeds 0..count-1; generated once, cached)")
    parser.add_argument("--rooms", type=str, default="", help="only these room seeds, e.g. '0,3' (default: all)")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="where rooms and results are kept")
    parser.add_argument("--models", type=Path, default=SHARED / "third_party_furniture",
                        help="the third-party models the rooms are furnished with")
    parser.add_argument("--modes", type=str, default=",".join(MODES),
                        help=f"retrieval modes, comma-separated from {', '.join(MODES)}")
    parser.add_argument("--sun", type=Path, default=SHARED / "sunrgbd_mmdet3d_samples",
                        help="SUN RGB-D samples folder (skipped if absent); '' to skip")
    parser.add_argument("--sun-settings", type=str, default=",".join(SUN_SETTINGS),
                        help=f"SUN RGB-D settings, comma-separated from {', '.join(SUN_SETTINGS)}")
    parser.add_argument("--samples", type=int, default=64, help="Cycles samples of the scoring renders")
    parser.add_argument("--truth", action="store_true",
                        help="also score each room's own truth.blend (the scorer's sanity check: > 35 dB, IoU 1)")
    parser.add_argument("--json", type=Path, help="also write every row as JSON here")
    parser.add_argument("--homogeneous-baseline", action="store_true",
                        help="also reconstruct each room with material retrieval off and report the PSNR over the "
                             "textured floors/walls of both (the gain of procedural materials)")
    parser.add_argument("--results", type=Path, default=None,
                        help="where results and pictures go (default: CACHE/results)")
    add_config_arguments(parser, ReconstructConfig)


def _split(text: str, allowed: tuple[str, ...], what: str) -> list[str]:
    items = [t.strip() for t in text.split(",") if t.strip()]
    bad = [t for t in items if t not in allowed]
    if bad:
        raise InputError(f"unknown {what} {', '.join(bad)}; choose from {', '.join(allowed)}")
    return items


def rooms(cache: Path, models: Path, seeds: list[int]) -> list[Path]:
    """The benchmark rooms room_000... in `cache/rooms`, generated (with 2 novel views) where missing."""
    out = []
    for seed in seeds:
        folder = cache / "rooms" / f"room_{seed:03d}"
        if not (folder / "ground_truth.json").exists():
            start = time.perf_counter()
            print(f"generating {folder} ...", flush=True)
            generate_room(folder, seed, models, overwrite=True)
            print(f"  {time.perf_counter() - start:.0f} s", flush=True)
        out.append(folder)
    return out


def present_index(cache: Path, models: Path) -> Path:
    """A user asset index of the third-party models, brought up to date with `photo2scene assets index` (as an
    artist would: incremental, so only models whose files or loader changed are indexed again)."""
    index = cache / "present_index"
    # Without CLIP weights on this machine an artist indexes with --no-clip (categories, sizes and shapes).
    no_clip = ["--no-clip"] if local_embedder() is None else []
    print(f"indexing {models} into {index} (photo2scene assets index {' '.join(no_clip)}) ...", flush=True)
    subprocess.run([sys.executable, "-m", "pipeline", "assets", "index", str(models), "--index", str(index),
                    *no_clip], check=True)
    return index


def mode_config(config: ReconstructConfig, mode: str, cache: Path, models: Path) -> ReconstructConfig:
    cfg = copy.deepcopy(config)
    cfg.objects.asset_index = "builtin" if mode == "held-out" else str(present_index(cache, models))
    return cfg


def reconstruct_to_blend(photo: Path, estimates: Path | None, out: Path, config: ReconstructConfig) -> tuple:
    """Run the pipeline and export the .blend, as `photo2scene reconstruct --blend` does. Returns (blend path,
    scene.json dict, seconds)."""
    bundle, blend = out.with_suffix(".bundle"), out.with_suffix(".blend")
    start = time.perf_counter()
    reconstruct(photo, estimates, bundle, config, Silent(), overwrite=True)
    write_blend(bundle, blend)
    seconds = time.perf_counter() - start
    return blend, load_bundle(bundle).scene, seconds  # the shared reader: validated like every scene.json read


def pipeline_figures(scene: dict) -> dict:
    """The pipeline's own final-render PSNR and its seconds per stage, from scene.json."""
    stages = scene.get("stages", {})
    metrics = stages.get("materials_lights", {}).get("metrics", {})
    retrieval = stages.get("materials_lights", {}).get("retrieval", {})
    return {"pipeline_psnr": metrics.get("psnr_db"),
            "pipeline_init_psnr": stages.get("materials_lights", {}).get("metrics_init", {}).get("psnr_db"),
            "retrieval_s": retrieval.get("seconds"), "retrieval_parts": retrieval.get("parts"),
            "retrieval_mode": retrieval.get("mode"),
            "stage_seconds": {k: round(v["seconds"], 1) for k, v in stages.items()
                              if isinstance(v, dict) and isinstance(v.get("seconds"), (int, float))}}


def run_room(folder: Path, mode: str, config: ReconstructConfig, out_dir: Path, samples: int) -> dict:
    row: dict = {"case": folder.name, "mode": mode}
    print(f"{folder.name} {mode}: reconstructing and exporting the .blend ...", flush=True)
    try:
        blend, scene, seconds = reconstruct_to_blend(folder / "photo.png", folder / "estimates",
                                                     out_dir / folder.name, config)
    except Exception as exc:  # noqa: BLE001 - a failing room is a result of the benchmark, not its end
        row["failed"] = f"{type(exc).__name__}: {exc}"
        return row
    row.update(pipeline_figures(scene), seconds=round(seconds, 1))
    print(f"{folder.name} {mode}: scoring the .blend (Cycles renders, index pass) ...", flush=True)
    start = time.perf_counter()
    row.update(score_blend(blend, folder, samples))
    row.update(material_retrieval_figures(row.get("materials") or {}, scene))
    row["score_seconds"] = round(time.perf_counter() - start, 1)
    return row


def homogeneous_baseline(folder: Path, config: ReconstructConfig, out_dir: Path, samples: int) -> dict:
    """The room again with material retrieval off: its textured floors/walls' PSNR (`textured_psnr`)."""
    cfg = copy.deepcopy(config)
    cfg.materials_lights.retrieval = "none"
    print(f"{folder.name}: homogeneous baseline (material retrieval off) ...", flush=True)
    try:
        blend, scene, _ = reconstruct_to_blend(folder / "photo.png", folder / "estimates", out_dir / folder.name, cfg)
    except Exception as exc:  # noqa: BLE001 - a failing baseline is reported, not fatal
        return {"failed": f"{type(exc).__name__}: {exc}"}
    row = score_blend(blend, folder, samples, novel=False)
    return material_retrieval_figures(row.get("materials") or {}, scene)


def run(args: argparse.Namespace) -> int:
    config = config_from_args(args, ReconstructConfig)
    modes = _split(args.modes, MODES, "mode")
    sun_settings = _split(args.sun_settings, SUN_SETTINGS, "SUN setting")
    seeds = [int(s) for s in args.rooms.split(",") if s.strip()] if args.rooms else list(range(args.count))
    if seeds and not Path(args.models).is_dir():  # only the rooms need them: the SUN photos alone do not
        raise InputError(f"third-party models not found at {args.models}; the realistic benchmark's rooms need "
                         "../shared/data/third_party_furniture (pass --models DIR, or --count 0 --rooms '' "
                         "for the SUN RGB-D photos alone)")
    print(f"device: {init_mitsuba(config.device)}; working size {config.working_size}; scoring: Cycles "
          f"{args.samples} spp + denoiser on the exported .blend")
    t0 = time.perf_counter()
    folders = rooms(args.cache, args.models, seeds)
    print(f"rooms ready: {len(folders)} ({time.perf_counter() - t0:.0f} s)")
    results = args.results or args.cache / "results"
    all_rows: list[dict] = []
    if args.truth:
        rows = []
        for folder in folders:
            rows.append(score_truth(folder, args.samples))
            _case_picture(rows[-1], folder, results / "truth")
            print_row(rows[-1])
        _sheet(folders, results / "truth")
        print_table("truth.blend (scorer sanity check)", rows)
        all_rows += rows
    for mode in modes if folders else ():
        cfg = mode_config(config, mode, args.cache, args.models)
        out_dir = results / mode
        out_dir.mkdir(parents=True, exist_ok=True)
        rows = []
        for folder in folders:
            rows.append(run_room(folder, mode, cfg, out_dir, args.samples))
            if args.homogeneous_baseline and "failed" not in rows[-1]:
                base = homogeneous_baseline(folder, cfg, out_dir / "homogeneous", args.samples)
                if "textured_psnr" in base:
                    rows[-1]["textured_psnr_homogeneous"] = base["textured_psnr"]
            _case_picture(rows[-1], folder, out_dir)
            print_row(rows[-1])
        _sheet(folders, out_dir)
        print_table(f"mode {mode}: library {'built-in only' if mode == 'held-out' else 'built-in + the models'}",
                    rows)
        all_rows += rows
    if str(args.sun) in ("", "."):  # --sun '': skipped on purpose
        pass
    elif Path(args.sun).is_dir():
        rows = run_sun(Path(args.sun), config, sun_settings, results / "sun", args.samples)
        print_sun_table(rows)
        all_rows += rows
    else:
        print(f"(SUN RGB-D samples not found at {args.sun}: skipped)")
    print(f"total {time.perf_counter() - t0:.0f} s; pictures in {results}")
    if args.json:
        args.json.write_text(json.dumps([{k: v for k, v in r.items() if not k.startswith("_")} for r in all_rows],
                                        indent=1, default=float))
    return 0


def score_truth(folder: Path, samples: int) -> dict:
    row = {"case": folder.name, "mode": "truth"}
    row.update(score_blend(folder / "truth.blend", folder, samples))
    return row


# ----------------------------------------------------------------------------------------------------------------
# Pictures and tables


def _labels_image(ids: np.ndarray) -> np.ndarray:
    """Random but stable colours per id (0 black)."""
    rng = np.random.default_rng(7)
    palette = rng.uniform(0.15, 1.0, size=(int(ids.max()) + 1, 3))
    palette[0] = 0
    return palette[ids]


def _case_picture(row: dict, folder: Path, out_dir: Path) -> None:
    """out_dir/<case>.png: photo | Cycles render of the .blend | its object-index pass."""
    if "_render" in row:
        _case_picture_from(row, read_photo(folder / "photo.png")[0], out_dir, folder.name)


def _case_picture_from(row: dict, photo: np.ndarray, out_dir: Path, name: str) -> None:
    """out_dir/<name>.png as `_case_picture`; with novel views, out_dir/<name>_novel.png: true view | render of
    the .blend from there, one line per view."""
    render, ids, novel = row.pop("_render", None), row.pop("_ids", None), row.pop("_novel", None)
    if render is None:
        return
    gap = np.ones((photo.shape[0], 4, 3), np.float32)
    tiles = [photo, gap, render]
    if ids is not None:
        tiles += [gap, _labels_image(ids).astype(np.float32)]
    out_dir.mkdir(parents=True, exist_ok=True)
    write_png(out_dir / f"{name}.png", np.concatenate(tiles, axis=1))
    if novel:
        lines = [np.concatenate([np.asarray(t, np.float32), gap[: t.shape[0]], np.asarray(r, np.float32)], axis=1)
                 for t, r in novel]
        width = max(x.shape[1] for x in lines)
        pad = [np.pad(x, ((0, 4), (0, width - x.shape[1]), (0, 0)), constant_values=1.0) for x in lines]
        write_png(out_dir / f"{name}_novel.png", np.concatenate(pad, axis=0))


def _sheet(folders: list[Path], out_dir: Path) -> None:
    """out_dir/sheet.png: the cases' pictures (`_case_picture`), one per line."""
    lines = [read_photo(out_dir / f"{f.name}.png")[0] for f in folders if (out_dir / f"{f.name}.png").exists()]
    if lines:
        width = max(x.shape[1] for x in lines)
        pad = [np.pad(x, ((0, 4), (0, width - x.shape[1]), (0, 0)), constant_values=1.0) for x in lines]
        write_png(out_dir / "sheet.png", np.concatenate(pad, axis=0))


COLUMNS = [("photo_psnr", "Cycles dB", "{:.2f}"), ("pipeline_init_psnr", "init dB", "{:.2f}"),
           ("pipeline_psnr", "own dB", "{:.2f}"),
           ("novel_mean", "novel dB", "{:.2f}"), ("photo_ssim", "SSIM", "{:.3f}"),
           ("room_miou", "room mIoU", "{:.3f}"), ("furniture_miou", "furn mIoU", "{:.3f}"),
           ("object_iou_3d", "obj 3D IoU", "{:.3f}"), ("centroid_err_m", "centroid m", "{:.2f}"),
           ("room_iou_3d", "room 3D IoU", "{:.3f}"), ("fov_err_deg", "FOV err", "{:.1f}"),
           ("pitch_err_deg", "pitch err", "{:.1f}"), ("roll_err_deg", "roll err", "{:.1f}"),
           ("window_iou", "window IoU", "{:.2f}"), ("door_iou", "door IoU", "{:.2f}"),
           ("mat_hits", "floor/wall cat", "{:.2f}"), ("mat_top1", "mat top1", "{:.2f}"),
           ("mat_top5", "mat top5", "{:.2f}"), ("mat_procedural", "textured->proc", "{:.2f}"),
           ("textured_psnr", "textured dB", "{:.2f}"), ("textured_psnr_homogeneous", "tex dB flat", "{:.2f}"),
           ("retrieval_s", "retrieval s", "{:.1f}"), ("seconds", "seconds", "{:.0f}")]


def _derived(row: dict) -> dict:
    r = dict(row)
    if r.get("novel_psnr"):
        r["novel_mean"] = float(np.mean(r["novel_psnr"]))
    mats = r.get("materials") or {}
    if mats:
        r["mat_hits"] = float(np.mean([m["truth"] == m["result"] for m in mats.values()]))
    return r


def print_row(row: dict) -> None:
    if "failed" in row:
        print(f"{row['case']:<10} {row['mode']:<9} FAILED: {row['failed']}", flush=True)
        return
    r = _derived(row)
    print(f"{r['case']:<10} {r['mode']:<9} " + "  ".join(
        f"{title} {fmt.format(r[key])}" for key, title, fmt in COLUMNS if r.get(key) is not None)
        + f"  found {r.get('objects_found', '')}"
        + (f"  exact model {r['exact_models']}" if r.get("exact_models") else ""), flush=True)
    print_objects(r.get("objects") or [])
    regions = sorted((r.get("error_by_region") or {}).items(), key=lambda kv: -kv[1]["error_share"])
    if regions:
        print("  error by region: " + ", ".join(f"{k} {v['error_share']:.0%} of the error on {v['pixel_share']:.0%}"
                                                 f" of the pixels ({v['psnr']:.1f} dB)" for k, v in regions),
              flush=True)


def print_objects(objects: list[dict]) -> None:
    """Per true piece: what it was matched to, mask and 3-D IoU, sizes, yaw and centre errors (issue 14)."""
    if not objects:
        return
    print(f"  {'truth':<22} {'matched':<30} {'mask':>5} {'3D':>5} {'true size (m)':>16} {'result size':>16} "
          f"{'vol':>5} {'yaw':>6} {'dz m':>6} {'dxy m':>6}")
    for o in objects:
        size = lambda v: "x".join(f"{x:.2f}" for x in v) if v else "-"  # noqa: E731
        print(f"  {o['label'][:22]:<22} {(o.get('matched') or 'none')[:30]:<30} {o['mask_iou']:>5.2f} "
              f"{o['iou_3d']:>5.2f} {size(o.get('true_size')):>16} {size(o.get('size')):>16} "
              f"{o.get('volume_ratio', float('nan')):>5.2f} {o.get('yaw_err_deg', float('nan')):>6.1f} "
              f"{o.get('height_err_m', float('nan')):>6.2f} {o.get('floor_err_m', float('nan')):>6.2f}", flush=True)


def print_table(title: str, rows: list[dict]) -> None:
    """One line per room, means at the bottom."""
    print(f"\n== {title}")
    cols = [(k, t, f) for k, t, f in COLUMNS]
    print(f"{'room':<10} " + " ".join(f"{t:>11}" for _, t, _ in cols))
    ok = [_derived(r) for r in rows if "failed" not in r]
    for r in rows:
        if "failed" in r:
            print(f"{r['case']:<10} FAILED: {r['failed']}")
            continue
        d = _derived(r)
        print(f"{r['case']:<10} " + " ".join(
            f"{(f.format(d[k]) if d.get(k) is not None else '-'):>11}" for k, _, f in cols))
    if ok:
        means = {k: float(np.mean([r[k] for r in ok if r.get(k) is not None]))
                 for k, _, _ in cols if any(r.get(k) is not None for r in ok)}
        print(f"{'mean':<10} " + " ".join(f"{(f.format(means[k]) if k in means else '-'):>11}" for k, _, f in cols))
        stages = sorted({k for r in ok for k in r.get("stage_seconds", {}) if k != "total_seconds"})
        if stages:
            print("mean seconds per stage: " + ", ".join(
                f"{k} {np.mean([r['stage_seconds'][k] for r in ok if k in r.get('stage_seconds', {})]):.0f}"
                for k in stages))
    exact = [tuple(int(x) for x in r["exact_models"].split("/")) for r in ok if r.get("exact_models")]
    if exact:  # issue 14's model-present target: the exact model chosen for >= 70 % of the pieces
        k, n = sum(e[0] for e in exact), sum(e[1] for e in exact)
        print(f"exact model chosen, pooled: {k} of {n} pieces with a model file ({k / n:.0%})")
    surfaces = [m for r in ok for m in (r.get("materials") or {}).values() if m.get("kind") in ("graph", "image")]
    graphs = [m for m in surfaces if m["kind"] == "graph" and "top_k" in m]
    if surfaces:
        print(f"textured floors/walls, pooled: {len(graphs)} with a library graph as truth: category top-1 "
              f"{np.mean([m['result'] == m['truth'] for m in graphs]) if graphs else float('nan'):.2f}, top-5 "
              f"{np.mean([m['truth'] in m['top_k'] for m in graphs]) if graphs else float('nan'):.2f}; "
              f"{len(surfaces)} textured (graph or image): procedural "
              f"{np.mean([m['result'] not in (None, 'homogeneous') for m in surfaces]):.2f}")
        for m in surfaces:
            print(f"  result face {m.get('face')}: truth {m['kind']} {m.get('graph')} ({m['truth']}) -> {m['result']}; "
                  f"top-5 {', '.join(m.get('top_k', []))}; {m.get('psnr', float('nan')):.2f} dB")
    print(f"failed: {len(rows) - len(ok)} of {len(rows)}")


def print_sun_table(rows: list[dict], summary: bool = True) -> None:
    """SUN RGB-D rows; with `summary`, a title and the means per setting."""
    if summary:
        print("\n== SUN RGB-D real photos (truth: intrinsics, gravity, depth, 3-D boxes; masks derived from boxes)")
    for r in rows:
        head = f"{r['case']:<14} {r['setting']:<12}"
        if "refused" in r or "failed" in r:
            print(f"{head} {'REFUSED' if 'refused' in r else 'FAILED'}: {r.get('refused') or r.get('failed')}")
            continue
        print(head + "  ".join(f"{t} {f.format(r[k])}" for k, t, f in COLUMNS if r.get(k) is not None)
              + f"  objects {r.get('objects_found', '')}  room height {r.get('room_height_m', float('nan')):.2f} m",
              flush=True)
    for setting in SUN_SETTINGS if summary else ():
        sub = [r for r in rows if r["setting"] == setting]
        if not sub:
            continue
        ok = [r for r in sub if "refused" not in r and "failed" not in r]
        line = f"{'mean':<14} {setting:<12} refused/failed {len(sub) - len(ok)} of {len(sub)}"
        for key, title, fmt in COLUMNS:
            vals = [r[key] for r in ok if r.get(key) is not None]
            if vals:
                line += f"  {title} {fmt.format(float(np.mean(vals)))}"
        print(line)
