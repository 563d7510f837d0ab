"""`photo2scene bench room|materials|...`: speed and quality figures, printed as tables (never timed tests)."""

from __future__ import annotations

import argparse
import importlib

HELP = "Benchmarks: realistic (held-out rooms + real photos, scored on the .blend), room, objects, full, ..."

SUITES = {
    "room": ("pipeline.app.bench.room", "configure", "run"),
    "objects": ("pipeline.app.bench.objects", "configure", "run"),
    "materials": ("materials_db.bench", "configure_bench", "run_bench"),
    "full": ("pipeline.app.bench.full", "configure", "run"),
    "camera": ("pipeline.app.bench.estimators", "configure_camera", "run_camera"),
    "clicks": ("pipeline.app.bench.estimators", "configure_clicks", "run_clicks"),
    "realistic": ("pipeline.app.bench.realistic", "configure", "run"),
    "retrieval": ("pipeline.app.bench.retrieval", "configure", "run"),
}


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="suite", metavar="SUITE", required=True)
    for name, (module_name, configure_name, run_name) in SUITES.items():
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and module_name.startswith(exc.name):
                continue
            raise
        p = sub.add_parser(name, help=getattr(module, "HELP", name))
        getattr(module, configure_name)(p)
        p.set_defaults(_suite_run=getattr(module, run_name))


def run(args: argparse.Namespace) -> int:
    return int(args._suite_run(args) or 0)
