"""`photo2scene synth OUT_DIR`: the command."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from p2s_common.errors import InputError

from .case_writer import generate_case
from .layout import THEMES


HELP = "Generate synthetic room cases: a Cycles photo, exact depth + segmentation estimates and ground truth."


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("out_dir", type=Path, metavar="OUT_DIR",
                        help="with --count 1 the case folder itself; otherwise the parent of case_000, case_001, ...")
    parser.add_argument("--count", type=int, default=1, help="number of cases (default 1)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the first case; case i uses seed + i (default 0)")
    parser.add_argument("--width", type=int, default=320, help="photo width in pixels (default 320)")
    parser.add_argument("--height", type=int, default=240, help="photo height in pixels (default 240)")
    parser.add_argument("--samples", type=int, default=64, help="Cycles samples per pixel (default 64)")
    parser.add_argument("--novel-views", type=int, default=0, metavar="K",
                        help="also render K nearby views into novel_views/ (default 0)")
    parser.add_argument("--theme", choices=THEMES, default=None, help="room type (default: drawn from the seed)")
    parser.add_argument("--overwrite", action="store_true", help="replace case folders that already exist")


def run(args: argparse.Namespace) -> int:
    import time

    if args.count < 1:
        raise InputError("synth: --count must be at least 1")
    out = Path(args.out_dir)
    if args.count == 1:
        jobs = [(out, args.seed)]
    else:
        jobs = [(out / f"case_{i:03d}", args.seed + i) for i in range(args.count)]
    for path, _ in jobs:  # refuse before rendering anything
        if path.exists() and not args.overwrite and (not path.is_dir() or any(path.iterdir())):
            raise InputError(f"{path} already exists; pick a new folder or pass --overwrite")
    for path, seed in jobs:
        start = time.perf_counter()
        generate_case(path, seed, args.width, args.height, args.samples, args.novel_views, theme=args.theme,
                      overwrite=args.overwrite)
        theme = json.loads((path / "ground_truth.json").read_text())["generator"]["theme"]
        print(f"{path}  (seed {seed}, {theme}, {time.perf_counter() - start:.1f} s)", flush=True)
    return 0
