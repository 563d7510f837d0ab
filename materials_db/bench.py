"""`photo2scene bench materials`: twin speed per material (forward, forward+backward) and exactness vs Blender.

Timing: median of `--repeat` runs after one warm-up, torch on the CPU with the process's thread count; the
back-ends run interleaved (fused, taichi, torch, fused, ...) so that load from other processes hits them alike.
Back-ends: fused (twins/fused.py with its default code target: Dr.Jit on the CPU, taichi on CUDA; its first-use
compile time is reported apart), fused-taichi / fused-drjit (the fused compiler with that target), taichi
(noise/Voronoi cores node by node), torch.
Exactness: twin vs Blender field evaluation of the same graph at a 24x24 texel grid (live with bpy, else the
committed goldens), max and mean abs error over base colour / roughness / metallic / height.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import time

import numpy as np
import torch

from .evaluate import evaluate
from .goldens import make_goldens
from .library import list_materials, load_graph
from .twins.backend import set_backend
from .twins.fused import Unsupported, compile_graph, fused_target, set_target

HELP = "time material twins (forward, forward+backward) and their error against Blender"


def configure_bench(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--materials", nargs="*", default=None, help="material names (default: a representative set)")
    parser.add_argument("--all", action="store_true", help="every library material")
    parser.add_argument("--resolutions", nargs="*", type=int, default=[256, 512, 1024])
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per measurement (median is reported)")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    parser.add_argument("--device", default="cpu", help="torch device (cpu or cuda)")
    parser.add_argument("--json", default=None, help="also write the results to this JSON file")
    parser.add_argument("--backends", nargs="*", default=None,
                        help="implementations to time: fused (whole graph in one generated kernel, default target), "
                             "fused-taichi, fused-drjit (that target), taichi (taichi noise/Voronoi cores), torch "
                             "(default: fused, fused-taichi on the CPU, taichi, torch if taichi imports)")
    parser.add_argument("--maps", choices=("all", "render"), default="all",
                        help="all: every map incl. the Cycles-exact bump normal (3 height evaluations); render: "
                             "base colour, roughness, metallic, what the material stage differentiates")


# The node-by-node torch twin keeps every intermediate map for autograd: oak_planks at 1024^2 peaks at 24 GB (RSS
# measured), more than this machine has, so it is timed up to this resolution only.
TORCH_MAX_RES = 512

DEFAULT_SET = ["oak_planks", "white_square_tiles", "marble_carrara", "concrete_smooth", "terrazzo_white",
               "linen_natural", "brushed_steel", "wallpaper_dots_pink"]


def _time_interleaved(fns: dict, repeat: int) -> dict:
    """Median seconds per function, the functions run round-robin (a, b, c, a, b, c, ...) after one warm-up
    each, so that a change in the machine's load hits every back-end alike."""
    for fn in fns.values():
        fn()
    ts: dict = {k: [] for k in fns}
    for _ in range(repeat):
        for k, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            ts[k].append(time.perf_counter() - t0)
    return {k: statistics.median(v) for k, v in ts.items()}


def _use(backend: str) -> None:
    """Select a back-end for evaluate(): 'fused-<target>' is the fused compiler with that code target, plain
    'fused' its default target."""
    base, _, target = backend.partition("-")
    set_backend(base)
    set_target(target or None)


def bench_material(name: str, resolutions: list[int], repeat: int, device: str = "cpu",
                   backends: list[str] | tuple[str, ...] = ("torch",), with_normal: bool = True) -> list[dict]:
    """One row per back-end: first-use compile time (fused), forward and forward+backward medians per resolution.
    The back-ends are timed interleaved (see `_time_interleaved`)."""
    g = load_graph(name)
    rows = {b: {"material": name, "backend": b} for b in backends}
    for b in [b for b in backends if b.startswith("fused")]:
        _use(b)
        out = rows[b]
        t0 = time.perf_counter()
        try:
            compile_graph(g, g.values(None), torch.device(device).type, heights=with_normal)
            out["compile_s"] = time.perf_counter() - t0  # generation + import; kernels compile on first launch
        except Unsupported as exc:
            out["fallback"] = str(exc)  # evaluate() runs node by node (taichi cores)
    for res in resolutions:
        def fwd(b, res=res):
            _use(b)
            with torch.no_grad():
                evaluate(g, g.default_params(device=device), res, device=device, with_normal=with_normal)

        def fwd_bwd(b, res=res):
            _use(b)
            p = g.default_params(requires_grad=True, device=device)
            maps = evaluate(g, p, res, device=device, with_normal=with_normal)
            loss = sum(m.float().square().mean() for m in maps.values())
            if loss.requires_grad:
                loss.backward()

        timed = [b for b in backends if not (b == "torch" and res > TORCH_MAX_RES)]
        for b in timed:
            t0 = time.perf_counter()
            fwd_bwd(b)  # first call: for 'fused' at the first resolution this includes the kernel compiles
            if b.startswith("fused") and res == resolutions[0] and "compile_s" in rows[b]:
                t1 = time.perf_counter()
                fwd(b)  # the values-only kernel compiles on its first (no-grad) launch
                rows[b]["compile_s"] += time.perf_counter() - t0
                rows[b]["compile_fwd_s"] = time.perf_counter() - t1
        tf = _time_interleaved({b: (lambda b=b: fwd(b)) for b in timed}, repeat)
        tb = _time_interleaved({b: (lambda b=b: fwd_bwd(b)) for b in timed}, repeat)
        _use("fused")
        for b in backends:
            rows[b][f"fwd_{res}_ms"] = 1000 * tf[b] if b in tf else None
            rows[b][f"fwdbwd_{res}_ms"] = 1000 * tb[b] if b in tb else None
    return [rows[b] for b in backends]


def exactness(names: list[str]) -> dict[str, tuple[float, float]]:
    if importlib.util.find_spec("bpy") is not None:
        gold = make_goldens.make_material_goldens(names)
    else:
        gold = dict(np.load(make_goldens.HERE / "materials.npz"))
    res = {}
    for n in names:
        maps = evaluate(load_graph(n), None, make_goldens.MAT_RES)
        errs = []
        for key in ("base_color", "roughness", "metallic", "height"):
            ref = gold.get(f"{n}/{key}")
            if ref is not None:
                errs.append(np.abs(maps[key].detach().numpy().reshape(ref.shape) - ref).ravel())
        e = np.concatenate(errs)
        res[n] = (float(e.max()), float(e.mean()))
    return res


def _ms(t: float | None) -> str:
    return "-" if t is None else f"{t:.0f}ms"


def _ratio(slow: float | None, fast: float | None) -> str:
    return "-" if slow is None or fast is None else f"{slow / fast:.1f}x"


def run_bench(args: argparse.Namespace) -> int:
    torch.set_num_threads(args.threads)
    backends = args.backends
    if not backends:
        try:
            import taichi  # noqa: F401 - is the optional taichi there? (lazy: its import starts its runtime)

            backends = ["fused", "fused-taichi", "taichi", "torch"] if args.device == "cpu" else ["fused", "taichi",
                                                                                                 "torch"]
        except ImportError:
            backends = ["torch"]
    names = list_materials() if args.all else (args.materials or DEFAULT_SET)
    errs = exactness(names)
    rows = []
    head = ["material", "backend"] + [f"{k}{r}" for r in args.resolutions for k in ("fwd", "f+b")] + ["max err", "mean err"]
    print(f"# {args.device}, {args.threads} threads, median of {args.repeat}; maps: {args.maps}; "
          f"fused = {fused_target(torch.device(args.device).type)} target; error vs Blender at 24x24 texels")
    print(" | ".join(head))
    for n in names:
        for r in bench_material(n, args.resolutions, args.repeat, args.device, backends, args.maps == "all"):
            b = r["backend"]
            r["max_err"], r["mean_err"] = errs[n]
            rows.append(r)
            cells = [n, b] + [_ms(r[f"{k}_{res}_ms"]) for res in args.resolutions for k in ("fwd", "fwdbwd")]
            note = ""
            if "compile_s" in r:
                note = f"  (first use incl. compile {r['compile_s']:.1f}s)"
            elif "fallback" in r:
                note = f"  (not fused, node by node: {r['fallback']})"
            if b == "torch" and any(res > TORCH_MAX_RES for res in args.resolutions):
                note += f"  (torch not timed above {TORCH_MAX_RES}: it needs ~24 GB there)"
            print(" | ".join(cells + [f"{r['max_err']:.1e}", f"{r['mean_err']:.1e}"]) + note, flush=True)
        mine = {r["backend"]: r for r in rows[-len(backends):]}
        for slow, fast in (("torch", "taichi"), ("taichi", "fused"), ("torch", "fused"), ("fused-taichi", "fused")):
            if slow in mine and fast in mine:
                ratio = [_ratio(mine[slow][f"fwdbwd_{res}_ms"], mine[fast][f"fwdbwd_{res}_ms"])
                         for res in args.resolutions]
                print(f"  {slow}/{fast} forward+backward time ratio: {', '.join(ratio)}", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"threads": args.threads, "device": args.device, "rows": rows}, f, indent=1)
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=HELP)
    configure_bench(p)
    return run_bench(p.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
