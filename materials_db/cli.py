"""`photo2scene materials ...`: list, show, render thumbnails, build the CLIP index of the material library."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from p2s_common import clip
from p2s_common.errors import InputError

from . import list_materials, load_graph
from .importer import MAX_ERROR, import_blend
from .index import build_index, default_path
from .library import DEFAULT_USER_DIR, USER_ENV, user_dirs
from .thumbs import render_thumbnails

HELP = "procedural material library: list | show NAME | thumbs | index | import FILE.blend"


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="materials_cmd", metavar="ACTION")
    p = sub.add_parser("list", help="list library materials")
    p.add_argument("--category", default=None, help="only this category (wood, tiles, stone, ...)")
    p = sub.add_parser("show", help="describe one material (parameters, nodes); --json prints the graph")
    p.add_argument("name", help="material name or path to a graph .json")
    p.add_argument("--json", action="store_true", help="print the graph JSON")
    p = sub.add_parser("thumbs", help="render flat and lit thumbnails")
    p.add_argument("names", nargs="*", help="materials (default: all)")
    p.add_argument("--out", default=None, help="output folder (default: materials_db/thumbnails)")
    p.add_argument("--size", type=int, default=128, help="thumbnail size in pixels")
    p = sub.add_parser("import", help="add your own Blender materials (built from the vocabulary) to your library")
    p.add_argument("blend", help=".blend file holding the material(s)")
    p.add_argument("--material", action="append", default=None,
                   help="material to import (repeat for several; default: every one the vocabulary covers)")
    p.add_argument("--category", default="custom", help="library category (wood, tiles, stone, ...; default custom)")
    p.add_argument("--tags", nargs="*", default=[], help="tags for retrieval and listing")
    p = sub.add_parser("index", help="build the CLIP index of the library's lit thumbnails")
    p.add_argument("--model", default=None, help="open_clip model name (default: ViT-B-32)")
    p.add_argument("--pretrained", default=None, help="open_clip pretrained tag or weights file")
    p.add_argument("--out", default=None, help="index file (default: materials_db/clip_index.npz)")
    p.add_argument("--thumbs", default=None, help="thumbnail folder (default: each material's own)")
    p.add_argument("--tiny", action="store_true", help="use a tiny random CLIP (tests only; meaningless index)")


def run(args: argparse.Namespace) -> int:
    cmd = getattr(args, "materials_cmd", None)
    if cmd in (None, "list"):
        cat = getattr(args, "category", None)
        for n in list_materials(cat):
            g = load_graph(n)
            print(f"{n:32s} {g.category:10s} {', '.join(g.tags)}")
        return 0
    if cmd == "show":
        try:
            g = load_graph(args.name)
        except (KeyError, FileNotFoundError) as exc:
            raise InputError(str(exc.args[0] if exc.args else exc)) from None
        if args.json:
            print(json.dumps(g.to_dict(), indent=1))
            return 0
        print(f"{g.name} ({g.category}; {', '.join(g.tags)})\n  {g.description}")
        nodes = ", ".join(f"{k}:{v['type'].replace('ShaderNode', '')}" for k, v in g.nodes.items())
        print(f"  nodes: {nodes}")
        for p in g.params.values():
            rng = f" in [{p.range[0]:g}, {p.range[1]:g}]" if p.kind in ("float", "vector") else ""
            print(f"  param {p.name}: {p.kind} = {p.default}{rng}{'' if p.optimise else ' (fixed)'}")
        return 0
    if cmd == "thumbs":
        names = args.names or list_materials()
        out = Path(args.out) if args.out else None
        unknown = [n for n in names if n not in list_materials()]
        if unknown:
            raise InputError(f"no material {', '.join(map(repr, unknown))} in the library "
                             "(`photo2scene materials list` lists them)")
        for i, n in enumerate(names, 1):
            render_thumbnails(n, out, args.size)
            print(f"[{i}/{len(names)}] {n}", flush=True)
        where = out if out is not None else "each material's thumbnail folder"
        print(f"wrote {2 * len(names)} thumbnails to {where}")
        return 0
    if cmd == "import":
        def said(m) -> None:
            print(f"imported {m.name!r}: {m.path} ({m.params} parameters; twin vs Blender max error "
                  f"{m.max_error:.1e})", flush=True)
            if m.max_error > MAX_ERROR:
                print(f"  warning: the twin differs from Blender by {m.max_error:.1e} on {m.name!r}: a node setting "
                      "outside what the twins cover; its optimisation will be approximate")

        dirs = user_dirs()
        out_dir = dirs[0] if dirs else DEFAULT_USER_DIR
        print(f"importing from {args.blend} (a check against Blender and thumbnails per material) ...", flush=True)
        _, skipped = import_blend(Path(args.blend), args.material, args.category, args.tags, out_dir, said)
        for why in skipped:
            print(f"skipped {why}")
        print(f"Your library: {out_dir} (folders: ${USER_ENV}, else {DEFAULT_USER_DIR}). Rebuild the CLIP index "
              "(`photo2scene materials index`) so that retrieval can find them.")
        return 0
    if cmd == "index":
        if args.tiny:
            model, preprocess = clip.tiny_clip_for_tests()
            tag = "tiny-random (tests only)"
        else:
            name = args.model or clip.DEFAULT_MODEL
            pre = args.pretrained or clip.DEFAULT_PRETRAINED
            model, preprocess = clip.load_clip(name, pre)
            tag = f"{name}/{pre}"
        print(f"embedding the lit thumbnails of {len(list_materials())} materials with CLIP ({tag}) ...", flush=True)
        out = build_index(model, preprocess, list_materials(), Path(args.thumbs) if args.thumbs else None, tag,
                          Path(args.out) if args.out else default_path())
        print(f"wrote CLIP index ({tag}) of {len(list_materials())} materials to {out}")
        return 0
    raise InputError(f"unknown materials action {cmd!r}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="photo2scene materials", description=HELP)
    configure(p)
    return run(p.parse_args(argv))
