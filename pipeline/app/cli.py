"""The `photo2scene` command: a thin dispatcher over subcommand modules.

Each subcommand lives in its own module exposing `HELP` (one line), `configure(parser)` and `run(args) -> int`.
Modules are imported only when their command runs, so `photo2scene --help` stays fast and a broken optional
part never blocks the others.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

# Before torch loads its OpenMP runtime: OpenMP's threads otherwise spin for a while after every parallel region,
# and on a small machine they take the cores from Dr.Jit's and Mitsuba's thread pools. Measured on 2 cores: a
# 512^2 material forward+backward 17-24 ms with passive threads, spikes to 50-70 ms with spinning ones; the demo
# 56 s against 63 s. The user's own setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from blender_addon.bundle import BundleError  # noqa: E402

from p2s_common.errors import UserError  # noqa: E402
from pipeline.core import interrupt  # noqa: E402

COMMANDS: dict[str, str] = {
    "reconstruct": "pipeline.app.reconstruct",
    "refine": "pipeline.app.refine",
    "synth": "pipeline.synth.cli",
    "bench": "pipeline.app.bench",
    "materials": "materials_db.cli",
    "assets": "assets_index.cli",
    "estimate": "pipeline.estimators.estimate",
    "serve": "pipeline.interactive.serve",
    "models": "pipeline.estimators.models",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="photo2scene", description="One photo of a room -> an editable Blender scene.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module_name in COMMANDS.items():
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and module_name.startswith(exc.name):
                continue  # that part is not built yet
            raise
        p = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.configure(p)
        p.set_defaults(_run=module.run)
    return parser


# The errors that mean a wrong input or set-up: every package's own subclass UserError; the Blender add-on ships
# alone (no p2s_common inside Blender), so its bundle reader's error is named here.
USER_ERRORS: tuple[type[Exception], ...] = (UserError, BundleError)


def main(argv: list[str] | None = None) -> int:
    interrupt.install()  # SIGTERM/SIGINT: a cancelled run unwinds and BundleWriter removes its partial folder
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if not getattr(args, "_run", None):
            parser.print_help()
            return 2
        return int(args._run(args) or 0)
    except KeyboardInterrupt:
        return interrupt.report()
    except Exception as exc:
        if interrupt.requested():  # what a stop raised through native code (Dr.Jit's RuntimeError, a wrapped error)
            return interrupt.report()
        if isinstance(exc, USER_ERRORS):  # one line and exit 2; anything else propagates with its traceback
            print(f"photo2scene: error: {exc}", file=sys.stderr)
            return 2
        raise
