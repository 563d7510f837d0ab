"""`photo2scene bench full`: the whole pipeline on generated cases (and the SUN RGB-D samples when present).

Per case: PSNR/SSIM of the final render against the photo (denoised render, and raw), PSNR of renders from the
generated cases' novel cameras against their Cycles renders, the relative error of the total light power and of
the window's radiance, the error of homogeneous albedos against the truth (room surfaces and objects), material
retrieval accuracy by category (when retrieval ran), seconds per stage and in total. Targets (issue 5): final
render PSNR >= 25 dB, novel views >= 20 dB, whole pipeline < 5 minutes on 2 CPU cores at 320x240.
"""

from __future__ import annotations

import argparse
import copy
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from pipeline.core.bundle import BundleFiles
from pipeline.core.config import add_config_arguments, config_from_args
from pipeline.stages.config import ReconstructConfig
from p2s_common.images import linear_to_srgb, read_photo
from pipeline.app.export.mitsuba_xml import scene_materials
from pipeline.app.reconstruct import reconstruct
from pipeline.core.case import load_case
from pipeline.core.events import Silent
from pipeline.core.image_metrics import psnr
from blender_addon.scene_format import exposure_scale
from pipeline.core.scene import Camera
from pipeline.matselect.measure import measure
from pipeline.render.backend import init_mitsuba
from pipeline.render.room_box import FACE_NAMES, depth_and_faces
from pipeline.render.scene_render import RenderSettings, load_scene, path_tracer, render_numpy, scene_dict
from pipeline.stages import STAGES
from pipeline.stages.objects.retrieval import local_embedder
from pipeline.synth.case_writer import generate_case
from .objects import own_models_index
from .room import truth_transform
from .sunrgbd import sun_cases

HELP = "Whole pipeline: final and novel-view PSNR/SSIM, light power and albedo errors, retrieval, timings."
DEFAULT_CACHE = Path.home() / ".cache" / "photo2scene" / "bench" / "full"
SHARED = Path(__file__).resolve().parents[3].parent / "shared" / "data"

# Ground-truth material names/patterns of generated cases -> materials_db categories (retrieval accuracy).
TRUTH_CATEGORY = {"planks": "wood", "tiles": "tiles", "carpet": "carpet", "fabric": "fabric", "wood": "wood",
                  "wall": "paint", "ceiling": "paint", "floor": "paint"}


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--count", type=int, default=3, help="generated cases (made once with novel views, cached)")
    parser.add_argument("--novel-views", type=int, default=2, help="novel views rendered per generated case")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="where generated cases are kept")
    parser.add_argument("--sun", type=Path, default=SHARED / "sunrgbd_mmdet3d_samples",
                        help="SUN RGB-D samples folder (skipped if absent)")
    parser.add_argument("--matseg", type=Path, default=SHARED / "matseg_samples",
                        help="material-selection samples (skipped if absent)")
    parser.add_argument("--json", type=Path, help="also write the rows as JSON here")
    parser.add_argument("--own-models", action=argparse.BooleanOptionalAction, default=False,
                        help="retrieve from the built-in library plus each case's own furniture models (the right "
                             "asset is present, as in `bench objects`); default: the built-in library only")
    add_config_arguments(parser, ReconstructConfig)


def generated(cache: Path, count: int, novel: int) -> list[Path]:
    out = []
    for seed in range(count):
        folder = cache / f"case_{seed:03d}"
        if not (folder / "ground_truth.json").exists():
            print(f"generating {folder} (Cycles, {novel} novel views) ...", flush=True)
            generate_case(folder, seed=seed, novel_views=novel)
        out.append(folder)
    return out


def run(args: argparse.Namespace) -> int:
    config = config_from_args(args, ReconstructConfig)
    print(f"device: {init_mitsuba(config.device)}; working size {config.working_size}; materials+lights "
          f"{config.materials_lights.iters} iters, {config.materials_lights.spp} spp")
    print(f"library: {'built-in + each case own models' if args.own_models else 'built-in'}")
    rows = []
    for folder in generated(args.cache, args.count, args.novel_views):
        case_config = config
        if args.own_models:
            case_config = copy.deepcopy(config)
            case_config.objects.asset_index = str(own_models_index(folder, local_embedder()))
        rows.append(bench_case(folder, case_config))
        print_row(rows[-1])
    if args.sun and Path(args.sun).is_dir():
        rows += bench_sun(Path(args.sun), config)
    else:
        print(f"(SUN RGB-D samples not found at {args.sun}: skipped)")
    summary(rows)
    if args.matseg and Path(args.matseg).is_dir():
        result = {k: v for k, v in measure(args.matseg).items() if k != "rows"}
        print(f"material selection (texture level, one click per material, matseg samples): {result}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1, default=float))
    return 0


def bench_case(folder: Path, config: ReconstructConfig) -> dict:
    truth = json.loads((folder / "ground_truth.json").read_text())
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        bundle, scene = reconstruct(folder / "photo.png", folder / "estimates", Path(tmp) / "b.bundle", config,
                                    Silent())
        total = time.perf_counter() - start
        row = score(scene, truth, folder, BundleFiles(source=bundle))
    row.update(case=folder.name, total_seconds=round(total, 1),
               stage_seconds={k: v.get("seconds") for k, v in scene.stages.items() if isinstance(v, dict)
                              and "seconds" in v and k != "total_seconds"})
    return row


def score(scene, truth: dict, folder: Path | None = None, files: BundleFiles | None = None) -> dict:
    """Figures of one reconstructed scene against a generated case's ground truth (`files`: its bundle's, for
    the novel views)."""
    st = scene.stages.get("materials_lights", {})
    row: dict = {"psnr": st.get("metrics", {}).get("psnr_db"), "ssim": st.get("metrics", {}).get("ssim"),
                 "psnr_raw": st.get("metrics", {}).get("raw", {}).get("psnr_db")}
    true_power = sum(li["power_w"] for li in truth.get("lights", []))
    ours = sum(li.power_w for li in scene.lights) / exposure_scale(scene.camera)  # the truth's film: no exposure
    row["power_true_w"], row["power_w"] = round(true_power, 2), round(ours, 2)
    row["power_rel_err"] = round(abs(ours - true_power) / max(true_power, 1e-9), 3)
    windows = [li for li in truth.get("lights", []) if li.get("source") == "window" and li.get("visible")]
    ours_w = [e for e in st.get("lights", []) if e.get("source") == "window"]
    if windows and ours_w and truth["room"].get("window", {}).get("pixels", 0) > 0:
        row["window_radiance_rel_err"] = round(abs(float(np.mean(ours_w[0]["radiance"])) - windows[0]["radiance"])
                                               / windows[0]["radiance"], 3)
    row["albedo_err"] = albedo_errors(scene, truth, folder)
    row["retrieval"] = st.get("retrieval", {}).get("mode")
    row["retrieval_hits"] = retrieval_hits(scene, truth) if row["retrieval"] == "clip" else None
    if folder is not None and files is not None and (folder / "novel_views").is_dir():
        row["novel_psnr"] = novel_view_psnr(scene, truth, folder / "novel_views", files)
    return row


def _surface_materials(scene, folder: Path | None) -> dict[int, str]:
    """True room segment id -> our material there: the box face our camera sees on most of its pixels."""
    if folder is None or scene.room is None:
        return {}
    case = load_case(folder / "photo.png", folder / "estimates", working_size=max(scene.camera.width,
                                                                                  scene.camera.height))
    _, faces = depth_and_faces(scene.camera, scene.room, case.width, case.height)
    out = {}
    for seg in case.segments:
        if seg.label in ("wall", "floor", "ceiling"):
            hit = faces[case.segmentation == seg.id]
            if hit.size:
                face = FACE_NAMES[int(np.bincount(hit, minlength=len(FACE_NAMES)).argmax())]
                out[seg.id] = scene.room.materials.get(face, f"room_{seg.label}")
    return out


def albedo_errors(scene, truth: dict, folder: Path | None = None) -> dict:
    """Mean absolute RGB error of homogeneous base colours: room surfaces (each true wall against our material on
    the face where the photo shows it), objects (by segment: the part covering most of the object's pixels)."""
    out: dict[str, list[float]] = {}
    ours_at = _surface_materials(scene, folder)
    for surf in truth["room"].get("surfaces", []):
        if surf.get("pixels", 0) <= 0:
            continue
        name = ours_at.get(surf["segment_id"], f"room_{surf['label']}")
        spec = scene.materials.get(name)
        if spec and spec.type == "principled":
            err = float(np.abs(np.asarray(spec.base_color) - np.asarray(surf["material"]["base_color"])).mean())
            out.setdefault(surf["label"], []).append(err)
    pixels = scene.stages.get("materials_lights", {}).get("region_pixels", {})
    for obj in truth.get("objects", []):
        ours = next((o for o in scene.objects if o.segment_id == obj["segment_id"]), None)
        if ours is None:
            continue
        parts = [p.material for p in ours.parts if p.material in pixels]
        if not parts:
            continue
        spec = scene.materials[max(parts, key=lambda m: pixels[m])]
        if spec.type == "principled":
            err = float(np.abs(np.asarray(spec.base_color) - np.asarray(obj["material"]["base_color"])).mean())
            out.setdefault("objects", []).append(err)
    return {k: round(float(np.mean(v)), 4) for k, v in out.items()}


def retrieval_hits(scene, truth: dict) -> dict:
    """Per true category: how often the retrieved library material has that category."""
    # lazy: loads torch, which importing this module does not
    from materials_db import load_graph

    hits: dict[str, list[int]] = {}

    def check(material: str, truth_material: dict) -> None:
        key = truth_material.get("pattern") or truth_material.get("name", "")
        category = TRUTH_CATEGORY.get(key)
        spec = scene.materials.get(material)
        if category is None:
            return
        got = load_graph(spec.library).category if spec is not None and spec.type == "graph" else "homogeneous"
        hits.setdefault(category, []).append(int(got == category))

    for surf in truth["room"].get("surfaces", []):
        if surf.get("pixels", 0) > 0:
            check(f"room_{surf['label']}", surf["material"])
    for obj in truth.get("objects", []):
        ours = next((o for o in scene.objects if o.segment_id == obj["segment_id"]), None)
        if ours and ours.parts:
            check(ours.parts[0].material, obj["material"])
    return {k: round(float(np.mean(v)), 3) for k, v in hits.items()}


def novel_view_psnr(scene, truth: dict, folder: Path, files: BundleFiles, spp: int = 64) -> list[float]:
    """Render our scene from each novel camera (mapped from the true world into ours) against its Cycles render."""
    rot, trans, _ = truth_transform(scene, truth)
    materials = scene_materials(scene, files.read)
    out = []
    for path in sorted(folder.glob("view_*.json")):
        cam = json.loads(path.read_text())
        photo, _ = read_photo(path.with_suffix(".png"))
        h, w = photo.shape[:2]
        R = rot.T @ np.asarray(cam["rotation"], float)
        t = rot.T @ (np.asarray(cam["position"], float) - trans)
        view = copy.copy(scene)
        view.camera = Camera(t.tolist(), R.tolist(), cam["fov_y_deg"], w, h)
        settings = RenderSettings(w, h, spp, 6, path_tracer(scene.lights, differentiable=False),
                                  extra={"hide_emitters": True})
        img = render_numpy(load_scene(scene_dict(view, materials, settings, read=files.read)), seed=5)
        out.append(round(psnr(linear_to_srgb(img), photo), 2))
    return out


def bench_sun(folder: Path, config: ReconstructConfig) -> list[dict]:
    """SUN RGB-D samples: real photos without material/light truth: final-render PSNR/SSIM and timings only."""
    rows = []
    for name, case, _ in sun_cases(folder, config.working_size):
        start, scene, files = time.perf_counter(), None, BundleFiles()  # no bundle: the files stay in memory
        try:
            for stage in STAGES:
                scene = stage.run(scene, case, config, Silent(), files)
        except Exception as exc:  # noqa: BLE001 - a real photo may break an earlier stage; report and go on
            print(f"{name}: failed ({type(exc).__name__}: {exc})")
            continue
        m = scene.stages["materials_lights"]["metrics"]
        rows.append({"case": name, "psnr": m["psnr_db"], "ssim": m["ssim"], "psnr_raw": m["raw"]["psnr_db"],
                     "total_seconds": round(time.perf_counter() - start, 1)})
        print_row(rows[-1])
    return rows


def print_row(r: dict) -> None:
    novel = r.get("novel_psnr")
    print(f"{r['case']:<14} final PSNR {r['psnr']:.2f} dB (raw {r['psnr_raw']:.2f}) SSIM {r['ssim']:.3f}"
          + (f"  novel {', '.join(f'{v:.2f}' for v in novel)} dB" if novel else "")
          + (f"  power {r['power_w']:.1f}/{r['power_true_w']:.1f} W (err {r['power_rel_err'] * 100:.0f}%)"
             if "power_w" in r else "")
          + (f"  window radiance err {r['window_radiance_rel_err'] * 100:.0f}%" if "window_radiance_rel_err" in r
             else "")
          + (f"  albedo err {r['albedo_err']}" if r.get("albedo_err") else "")
          + f"  {r['total_seconds']:.0f}s" + (f" {r['stage_seconds']}" if r.get("stage_seconds") else ""),
          flush=True)


def summary(rows: list[dict]) -> None:
    gen = [r for r in rows if "power_w" in r]
    if gen:
        novel = [v for r in gen for v in (r.get("novel_psnr") or [])]
        albedo = [v for r in gen for v in r["albedo_err"].values()]
        print(f"generated cases: {len(gen)}; mean final PSNR {np.mean([r['psnr'] for r in gen]):.2f} dB "
              f"(raw {np.mean([r['psnr_raw'] for r in gen]):.2f}), SSIM {np.mean([r['ssim'] for r in gen]):.3f}; "
              f"novel views {np.mean(novel) if novel else float('nan'):.2f} dB over {len(novel)}; "
              f"light power error median {np.median([r['power_rel_err'] for r in gen]) * 100:.0f}%; "
              f"albedo error mean {np.mean(albedo) if albedo else float('nan'):.3f}; "
              f"total seconds mean {np.mean([r['total_seconds'] for r in gen]):.0f} "
              f"(max {max(r['total_seconds'] for r in gen):.0f})")
        modes = {r["retrieval"] for r in gen}
        hits = [r["retrieval_hits"] for r in gen if r.get("retrieval_hits")]
        if hits:
            cats = sorted({c for h in hits for c in h})
            print("retrieval accuracy by category: " + ", ".join(
                f"{c} {np.mean([h[c] for h in hits if c in h]):.2f}" for c in cats))
        else:
            print(f"retrieval accuracy: n/a (retrieval mode {', '.join(sorted(map(str, modes)))})")
    print("targets: final render PSNR >= 25 dB, novel views >= 20 dB, whole pipeline < 300 s on 2 CPU cores")
