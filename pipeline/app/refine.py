"""`photo2scene refine BUNDLE --from-stage STAGE`: re-run a stage (and those after it) on an edited bundle."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from p2s_common.errors import InputError

from pipeline.core.config import add_config_arguments, apply_preset, config_from_args, from_dict
from pipeline.stages.config import ReconstructConfig
from pipeline.core.events import Events
from .reconstruct import finish, refine

HELP = "Re-run a bundle from a stage on, starting from its (edited) scene.json; the bundle is updated in place."


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("bundle", type=Path, help="the bundle folder to update")
    parser.add_argument("--from-stage", required=True, help="first stage to re-run (room, objects, ...)")
    parser.add_argument("--blend", type=Path, help="also write the result as a .blend file")
    parser.add_argument("--events", choices=["none", "jsonl"], default="none",
                        help="jsonl: one JSON progress event per line on stdout (for the Blender add-on)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    add_config_arguments(parser, ReconstructConfig)


def run(args: argparse.Namespace) -> int:
    config_file = args.bundle / "config.json"
    base = None
    if config_file.exists():  # the bundle's own settings, then the preset and options given now
        try:
            base = apply_preset(from_dict(json.loads(config_file.read_text()), ReconstructConfig), args.preset)
        except (KeyError, TypeError, json.JSONDecodeError) as exc:
            raise InputError(f"{config_file} does not match this version's settings ({exc}); "
                             "re-run `photo2scene reconstruct`") from exc
    config = config_from_args(args, ReconstructConfig, base=base)
    events = Events(jsonl=sys.stdout if args.events == "jsonl" else None,
                    bars=not args.quiet and args.events != "jsonl", log=sys.stderr)
    return finish(lambda: refine(args.bundle, args.from_stage, config, events), args, events)
