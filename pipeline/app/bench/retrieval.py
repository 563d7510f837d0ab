"""`photo2scene bench retrieval`: material retrieval by synthesis re-ranked on finished benchmark bundles, fast.

The realistic benchmark takes minutes a room; retrieval takes a second. This harness iterates on retrieval alone:

1. Inputs (once per bundle, `--make-inputs`): the material+light stage is re-run with no optimisation steps from
   the bundle's objects checkpoint, which writes report/retrieval_inputs.npz (per part: photo crops, their UVs,
   photo windows, the fitted flat albedo). A bundle made by this version has the file already.
2. Replay: every room face's part is ranked again (`synthesis.rank`, the stage's own code) and compared with
   the room's truth: the true surface under most of the part's crop windows (the room's truth segmentation)
   and its material category. Printed per part and pooled: top-1 / top-5 category, procedural share.

The figures are those `bench realistic` reports from scene.json's candidates, without Cycles or the
optimisation, so they are a development tool: `bench realistic` stays the benchmark of record.
"""

from __future__ import annotations

import argparse
import copy
import json
import time
from pathlib import Path

import numpy as np

from p2s_common.errors import InputError

HELP = "Material retrieval re-ranked on finished realistic-benchmark bundles (fast iteration; no Cycles)"
DEFAULT_CACHE = Path.home() / ".cache" / "photo2scene" / "bench" / "realistic"
INPUTS = "report/retrieval_inputs.npz"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rooms", type=str, default="3,4,5,6,7,8,9", help="room seeds, e.g. '3,4,5'")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="the realistic benchmark's cache")
    parser.add_argument("--bundles", type=Path, default=None,
                        help="folder of room_XXX.bundle (default: CACHE/results/held-out)")
    parser.add_argument("--inputs", type=Path, default=Path("/tmp/p2s-retrieval-inputs"),
                        help="where room_XXX.npz inputs are kept (made with --make-inputs)")
    parser.add_argument("--make-inputs", action="store_true",
                        help="re-run the material+light stage (no optimisation) on each bundle for its inputs")
    parser.add_argument("--library-colours", action="store_true",
                        help="draw candidates in their library colours (not at the part's fitted colour)")
    parser.add_argument("--colour-prior", type=float, default=None, help="override synthesis.COLOUR_PRIOR")
    parser.add_argument("--near-flat", type=float, default=None, help="override synthesis.NEAR_FLAT")
    parser.add_argument("--json", type=Path, help="also write the per-part rows here")


def make_inputs(bundle: Path, out: Path) -> None:
    """The material+light stage with no optimisation steps on `bundle`'s objects checkpoint; its retrieval
    inputs go to `out` (nothing in the bundle changes)."""
    from pipeline.core.bundle import BundleFiles, load_scene
    from pipeline.core.case import load_case
    from pipeline.core.config import from_dict
    from pipeline.core.events import Silent
    from pipeline.stages.config import ReconstructConfig
    from pipeline.stages.materials_lights import stage

    config = from_dict(json.loads((bundle / "config.json").read_text()), ReconstructConfig)
    config = copy.deepcopy(config)
    config.materials_lights.iters = 0
    scene = load_scene(bundle, "objects")
    case = load_case(bundle / "photo.png", bundle / "case", working_size=config.working_size)
    files = BundleFiles(source=bundle)
    stage.run(scene, case, config, Silent(), files)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(files.read(INPUTS))


def truth_of_part(windows: np.ndarray, seg: np.ndarray, surfaces: dict[int, dict]) -> dict | None:
    """The true surface (a ground_truth.json room surface) under most of a part's photo windows (x, y, w, h)."""
    ids = np.concatenate([seg[y:y + h, x:x + w].ravel() for x, y, w, h in windows.astype(int)])
    ids = ids[np.isin(ids, list(surfaces))]
    return surfaces[int(np.bincount(ids).argmax())] if ids.size else None


def replay_room(inputs: dict, room_dir: Path, width: int, height: int, options: dict) -> list[dict]:
    """Rows per room-face part: truth (category, kind, graph), the chosen category, the top-5 categories."""
    from PIL import Image

    from pipeline.core.resample import resize_nearest
    from pipeline.stages.materials_lights import synthesis
    from pipeline.stages.materials_lights.retrieve_parts import is_room_face, plausible, views_from_inputs

    gt = json.loads((room_dir / "ground_truth.json").read_text())
    surfaces = {s["segment_id"]: s for s in (gt.get("room") or {}).get("surfaces", [])}
    seg = resize_nearest(np.asarray(Image.open(room_dir / "estimates" / "segmentation.png")).astype(np.int64),
                         (width, height))
    library = options["library"]
    rows = []
    for part, data in sorted(inputs.items()):
        if not is_room_face(part):
            continue
        truth = truth_of_part(data["windows"], seg, surfaces)
        if truth is None or truth["label"] not in ("floor", "wall"):
            continue
        views = views_from_inputs(data)
        if not views:
            continue
        found = synthesis.rank(library, views, data["flat"], options["scales"], options["rotations"],
                               plausible(library, part), options["prune"], match_colour=options["match_colour"],
                               colour_prior=options["colour_prior"], near_flat=True)
        best = found.best
        top = ([best.category] if best else ["homogeneous"]) + [r.category for r in found.ranked
                                                                 if best is None or r is not best]
        mat = truth.get("material", {})
        rows.append({"room": room_dir.name, "part": part, "truth": mat.get("category"), "kind": mat.get("kind"),
                     "graph": mat.get("graph"), "result": top[0], "top5": top[:5],
                     "chosen": best.library if best else None, "flat": round(found.flat, 3),
                     "best_distance": round(found.ranked[0].distance, 3) if found.ranked else None})
    return rows


def figures(rows: list[dict]) -> dict:
    """bench realistic's retrieval figures over textured truths: top-1 / top-5 category where the truth is a
    library graph, the procedural share where it is a graph or an image."""
    graph = [r for r in rows if r["kind"] == "graph"]
    textured = [r for r in rows if r["kind"] in ("graph", "image")]
    out = {"graph_parts": len(graph), "textured_parts": len(textured)}
    if graph:
        out["top1"] = float(np.mean([r["result"] == r["truth"] for r in graph]))
        out["top5"] = float(np.mean([r["truth"] in r["top5"] for r in graph]))
    if textured:
        out["procedural"] = float(np.mean([r["result"] != "homogeneous" for r in textured]))
    return out


def run(args: argparse.Namespace) -> int:
    from pipeline.stages.materials_lights import synthesis
    from pipeline.stages.materials_lights.config import MaterialLightConfig
    from pipeline.stages.materials_lights.retrieve_parts import load_retrieval_inputs

    seeds = [int(s) for s in args.rooms.split(",") if s.strip()]
    if args.near_flat is not None:
        synthesis.NEAR_FLAT = args.near_flat
    bundles = args.bundles or args.cache / "results" / "held-out"
    cfg = MaterialLightConfig()
    options = {"library": synthesis.SynthesisLibrary(resolution=cfg.synthesis_res),
               "match_colour": not args.library_colours,
               "colour_prior": synthesis.COLOUR_PRIOR if args.colour_prior is None else args.colour_prior,
               "scales": [float(s) for s in cfg.scales.split(",")],
               "rotations": [float(r) for r in cfg.rotations.split(",")], "prune": cfg.synthesis_prune}
    rows: list[dict] = []
    for seed in seeds:
        name = f"room_{seed:03d}"
        bundle, npz = bundles / f"{name}.bundle", args.inputs / f"{name}.npz"
        if (bundle / INPUTS).is_file() and not npz.is_file():
            npz.parent.mkdir(parents=True, exist_ok=True)
            npz.write_bytes((bundle / INPUTS).read_bytes())
        if args.make_inputs and not npz.is_file():
            if not (bundle / "checkpoints" / "objects.json").is_file():
                raise InputError(f"no finished bundle at {bundle}; run `bench realistic --rooms {seed}` first")
            start = time.perf_counter()
            make_inputs(bundle, npz)
            print(f"{name}: inputs made in {time.perf_counter() - start:.0f} s", flush=True)
        if not npz.is_file():
            raise InputError(f"no retrieval inputs at {npz}; add --make-inputs (re-runs the material stage)")
        camera = json.loads((bundle / "case" / "camera.json").read_text())
        start = time.perf_counter()
        room_rows = replay_room(load_retrieval_inputs(npz.read_bytes()), args.cache / "rooms" / name,
                                camera["width"], camera["height"], options)
        for r in room_rows:
            print(f"{name} {r['part']:18s} truth {r['kind']:10s} {str(r['truth']):9s} ({r['graph']}) -> "
                  f"{r['result']:11s} [{r['chosen']}] top-5 {', '.join(r['top5'])}; flat {r['flat']}, "
                  f"best {r['best_distance']}")
        print(f"{name}: {len(room_rows)} parts re-ranked in {time.perf_counter() - start:.1f} s", flush=True)
        rows += room_rows
    fig = figures(rows)
    print("pooled:", ", ".join(f"{k} {v:.2f}" if isinstance(v, float) else f"{k} {v}" for k, v in fig.items()))
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "figures": fig}, indent=1))
    return 0
