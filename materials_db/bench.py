"""`photo2scene bench materials`: twin speed per material (forward, forward+backward) and exactness vs Blender.

Timing: median of `--repeat` runs after one warm-up, torch on the CPU with the process's thread count.
Exactness: twin vs Blender field evaluation of the same graph at a 24x24 texel grid (live with bpy, else the
committed goldens), max and mean abs error over base colour / roughness / metallic / height.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

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
                        help="Perlin core implementations to time: taichi and/or torch (default: both if taichi imports)")


DEFAULT_SET = ["oak_planks", "white_square_tiles", "marble_carrara", "concrete_smooth", "terrazzo_white",
               "linen_natural", "brushed_steel", "wallpaper_dots_pink"]


def _time(fn, repeat: int) -> float:
    fn()
    ts = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


def bench_material(name: str, resolutions: list[int], repeat: int, device: str = "cpu", backend: str = "torch") -> dict:
    import torch

    from . import evaluate, load_graph
    from .twins.backend import set_backend

    set_backend(backend)
    g = load_graph(name)
    out = {"material": name, "backend": backend}
    for res in resolutions:
        def fwd():
            with torch.no_grad():
                evaluate(g, g.default_params(device=device), res, device=device)

        def fwd_bwd():
            p = g.default_params(requires_grad=True, device=device)
            maps = evaluate(g, p, res, device=device)
            loss = sum(m.float().square().mean() for m in maps.values())
            if loss.requires_grad:
                loss.backward()

        out[f"fwd_{res}_ms"] = 1000 * _time(fwd, repeat)
        out[f"fwdbwd_{res}_ms"] = 1000 * _time(fwd_bwd, repeat)
    return out


def exactness(names: list[str]) -> dict[str, tuple[float, float]]:
    import importlib.util

    import numpy as np

    from . import evaluate, load_graph
    from .goldens import make_goldens

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


def run_bench(args: argparse.Namespace) -> int:
    import torch

    from . import list_materials

    torch.set_num_threads(args.threads)
    backends = args.backends
    if not backends:
        try:
            import taichi  # noqa: F401

            backends = ["taichi", "torch"]
        except ImportError:
            backends = ["torch"]
    names = list_materials() if args.all else (args.materials or DEFAULT_SET)
    errs = exactness(names)
    rows = []
    head = ["material", "backend"] + [f"{k}{r}" for r in args.resolutions for k in ("fwd", "f+b")] + ["max err", "mean err"]
    print(f"# {args.device}, {args.threads} threads, median of {args.repeat}; error vs Blender at 24x24 texels")
    print(" | ".join(head))
    for n in names:
        for b in backends:
            r = bench_material(n, args.resolutions, args.repeat, args.device, b)
            r["max_err"], r["mean_err"] = errs[n]
            rows.append(r)
            cells = [n, b] + [f"{r[f'{k}_{res}_ms']:.0f}ms" for res in args.resolutions for k in ("fwd", "fwdbwd")]
            print(" | ".join(cells + [f"{r['max_err']:.1e}", f"{r['mean_err']:.1e}"]), flush=True)
        if len(backends) == 2:
            a, t = rows[-2], rows[-1]
            ratio = [f"{t[f'fwdbwd_{res}_ms'] / a[f'fwdbwd_{res}_ms']:.1f}x" for res in args.resolutions]
            print(f"  torch/taichi forward+backward time ratio: {', '.join(ratio)}", flush=True)
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
