"""`photo2scene assets index PATH... | query IMAGE | list`: build, search and list the asset index."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from tqdm import tqdm

from p2s_common.errors import InputError, SetupError

from .categories import normalize_category
from .embed import TINY_PREFIX, Embedder

HELP = "Index 3D model libraries (built-in, folders, 3D-FUTURE, .blend asset libraries) and search them by image."


INDEX_HELP = "index folder (default: $PHOTO2SCENE_ASSETS_INDEX or ~/.cache/photo2scene/assets)"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--index", metavar="DIR", default=None, help=INDEX_HELP)
    sub = parser.add_subparsers(dest="assets_command", metavar="{index,query,list}")

    p = sub.add_parser("index", help="add or update sources: folders of OBJ/glTF/GLB/PLY (3D-FUTURE layout "
                                     "too), .blend asset libraries, or 'builtin'; no PATH updates every source")
    p.add_argument("paths", nargs="*", metavar="PATH")
    p.add_argument("--clip-model", default=None,
                   help="open_clip model (default: the index's, else p2s_common.clip.DEFAULT_MODEL); "
                        "'tiny-test' is a random model for tests")
    p.add_argument("--pretrained", default=None, help="open_clip weights tag or a weights file")
    p.add_argument("--no-clip", action="store_true",
                   help="no embeddings: queries then filter by category (and size) only")
    p.add_argument("--no-render", action="store_true", help="do not render views (records and own images only)")
    p.add_argument("--views", type=int, default=None, help="views rendered per model (default 4)")
    p.add_argument("--resolution", type=int, default=None, help="view size in pixels (default 128)")
    p.add_argument("--up", choices=("auto", "y", "z"), default="auto",
                   help="up axis of mesh files (auto: Y for OBJ/glTF, Z for PLY/STL)")
    p.add_argument("--units", choices=("auto", "m", "cm", "mm"), default="auto",
                   help="units of mesh files (auto: guessed from the model's extent)")
    p.add_argument("--category", default=None, help="category for models whose names say nothing")
    p.add_argument("--force", action="store_true", help="re-index everything, changed or not")

    q = sub.add_parser("query", help="the models that look most like IMAGE (a crop of one object)")
    q.add_argument("image", metavar="IMAGE")
    q.add_argument("--category", action="append", default=None,
                   help="only this category (repeat for several); e.g. sofa, chair, 'coffee table'")
    q.add_argument("-k", type=int, default=5, help="number of results (default 5)")
    q.add_argument("--json", action="store_true", help="print JSON")

    ls = sub.add_parser("list", help="what the index holds")
    ls.add_argument("--category", default=None, help="list the models of this category")
    ls.add_argument("--json", action="store_true", help="print JSON")
    for sp in (p, q, ls):  # --index also after the subcommand; SUPPRESS keeps the parent's value otherwise
        sp.add_argument("--index", metavar="DIR", default=argparse.SUPPRESS, help=INDEX_HELP)


def run(args: argparse.Namespace) -> int:
    command = getattr(args, "assets_command", None)
    if command == "index":
        return _index(args)
    if command == "query":
        return _query(args)
    if command == "list":
        return _list(args)
    print("usage: photo2scene assets {index,query,list} ... (see photo2scene assets --help)", file=sys.stderr)
    return 2


def _progress():
    """A terminal progress bar per phase (indexing, embedding)."""
    state: dict = {"bar": None, "phase": None}

    def report(done: int, total: int, message: str) -> None:
        phase = "embed" if message.startswith("embed") else "index"
        if state["phase"] != phase:
            if state["bar"] is not None:
                state["bar"].close()
            state["bar"] = tqdm(total=total, desc=phase, file=sys.stderr, dynamic_ncols=True, leave=False)
            state["phase"] = phase
        bar = state["bar"]
        bar.total = total
        bar.n = done
        bar.set_postfix_str(message[:40], refresh=True)
        if done >= total:
            bar.close()
            state["bar"], state["phase"] = None, None

    return report


def _embedder(args: argparse.Namespace, index):
    """The CLIP model to index with: --clip-model, else the index's own, else the project default."""
    if args.no_clip:
        return None
    try:
        if args.clip_model == TINY_PREFIX:
            return Embedder.tiny()
        if args.clip_model:
            return Embedder.load(args.clip_model, args.pretrained)
        if index.clip:
            return Embedder.from_key(index.clip, allow_download=True)
        return Embedder.load(None, args.pretrained)
    except SetupError as exc:
        raise SetupError(f"{exc} Or build an index without CLIP (--no-clip): queries then use categories only.") \
            from exc


def _index(args: argparse.Namespace) -> int:
    # Lazy: these load trimesh (about a second), and `photo2scene --help` imports this module.
    from .index import open_index
    from .render import RenderConfig
    from .sources import BuiltinSource, sources_for_path
    from .update import update_index

    index = open_index(args.index, create=True)
    sources = None
    if args.paths:
        sources = []
        for path in args.paths:
            if path != "builtin" and not Path(path).expanduser().exists():
                raise InputError(f"{path} does not exist: give a folder of models, a model file, a .blend "
                                 "asset library, or 'builtin'")
            found = sources_for_path(path, up=args.up, units=args.units, category=args.category)
            if not found:
                raise InputError(f"{path} holds no OBJ/glTF/GLB/PLY/STL/OFF or .blend files")
            sources.extend(found)
    elif not index.sources:
        sources = [BuiltinSource()]
    render = None
    if args.no_render:
        render = False
    elif args.views is not None or args.resolution is not None:
        current = index.render
        render = RenderConfig(views=args.views if args.views is not None else current.views,
                              resolution=args.resolution or current.resolution, spp=current.spp, fov=current.fov)
    embedder = _embedder(args, index)
    report = update_index(index, sources, embedder=embedder, render=render, progress=_progress(), force=args.force)
    print(f"{index.path}: {len(index)} models ({report.summary()})")
    for unit, error in sorted(report.failed.items()):
        print(f"  failed: {unit}: {error}", file=sys.stderr)
    for folder, scale in index.packs_in_own_units().items():
        print(f"  {folder}: its models are drawn at {1 / scale:.2f}x real size (against their categories' "
              f"typical sizes); retrieval takes them at {scale:.2f}x")
    if embedder is None and not index.has_embeddings:
        print("  no CLIP embeddings: `assets query` needs --category; re-run with CLIP weights for image search")
    return 0


def _query(args: argparse.Namespace) -> int:
    # lazy: loads trimesh, which importing this module does not
    from .index import open_index  # lazy: loads trimesh, see _index

    image = Path(args.image).expanduser()
    if not image.is_file():
        raise InputError(f"image {image} not found: give the path of a photo (a crop around one object works best)")
    if args.k < 1:
        raise InputError("-k must be at least 1")
    index = open_index(args.index)
    if not index.has_embeddings and not args.category:
        raise InputError(f"asset index {index.path} has no CLIP embeddings: rebuild it with CLIP weights "
                         "(`photo2scene assets index`), or give --category for a category-only query")
    query = str(image) if index.has_embeddings else None
    matches = index.query(query, k=args.k, category=args.category)
    if args.json:
        print(json.dumps([{"id": m.asset_id, "score": round(m.score, 5), "category": m.record.category,
                           "size": m.record.size, "thumbnail": m.record.thumbnail, "path": m.record.path}
                          for m in matches], indent=1))
        return 0
    if query is None:
        print("(no CLIP embeddings: category-only ranking)")
    if not matches:
        print("no models match" + (f" category {', '.join(args.category)}" if args.category else ""))
    for rank, m in enumerate(matches, 1):
        w, d, h = m.record.size
        print(f"{rank:2d}  {m.score:6.3f}  {m.record.category:16s}  {w:.2f}x{d:.2f}x{h:.2f} m  {m.asset_id}"
              f"  {m.record.thumbnail}")
    return 0


def _list(args: argparse.Namespace) -> int:
    # lazy: loads trimesh, which importing this module does not
    from .index import open_index  # lazy: loads trimesh, see _index

    index = open_index(args.index)
    if args.category:
        cat = normalize_category(args.category)
        records = [r for r in index.records if r.category == cat]
        if args.json:
            print(json.dumps([r.to_dict() for r in records], indent=1))
            return 0
        for r in records:
            w, d, h = r.size
            print(f"{r.id}  {w:.2f}x{d:.2f}x{h:.2f} m  parts: {', '.join(p.name for p in r.parts)}")
        return 0
    summary = {"index": str(index.path), "models": len(index), "clip": index.clip,
               "embeddings": index.has_embeddings, "sources": index.sources, "categories": index.categories()}
    if args.json:
        print(json.dumps(summary, indent=1))
        return 0
    print(f"{index.path}: {len(index)} models, CLIP {index.clip or 'none'}"
          f"{'' if index.has_embeddings else ' (no embeddings: category-only queries)'}")
    for spec in index.sources:
        print(f"  source: {spec['kind']} {spec.get('root', '')}".rstrip())
    for cat, n in index.categories().items():
        print(f"  {cat:18s} {n}")
    return 0
