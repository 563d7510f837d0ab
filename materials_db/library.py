"""The material library: one JSON graph per material, <root>/<category>/<name>.json, in the shipped library
(materials_db/library) and in the artist's own folders (`user_dirs`, filled by `photo2scene materials import`).
"""

from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path

from .graph import FORMAT, Graph, GraphError

USER_ENV = "PHOTO2SCENE_MATERIALS"
DEFAULT_USER_DIR = Path.home() / ".local" / "share" / "photo2scene" / "materials"


def library_dir() -> Path:
    return Path(__file__).parent / "library"


def user_dirs() -> list[Path]:
    """The artist's material folders: $PHOTO2SCENE_MATERIALS (os.pathsep-separated; empty for none), else
    ~/.local/share/photo2scene/materials when it exists."""
    env = os.environ.get(USER_ENV)
    if env is not None:
        return [Path(p).expanduser().resolve() for p in env.split(os.pathsep) if p]
    return [DEFAULT_USER_DIR] if DEFAULT_USER_DIR.is_dir() else []


@lru_cache(maxsize=8)
def _scan(roots: tuple[Path, ...]) -> dict[str, tuple[str, Path, Path]]:
    out: dict[str, tuple[str, Path, Path]] = {}
    for root in roots:
        for path in sorted(root.rglob("*.json")) if root.is_dir() else []:
            try:
                d = json.loads(path.read_text(encoding="utf-8"))
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                raise GraphError(f"{path} is not valid JSON ({exc}): fix or remove it") from None
            if not isinstance(d, dict) or d.get("format") != FORMAT:
                continue  # not a material graph
            if d["name"] in out:
                raise GraphError(f"material {d['name']!r} is defined twice, in {out[d['name']][1]} and {path}: "
                                 "rename one (its file and its \"name\")")
            out[d["name"]] = (d.get("category", "misc"), path, root)
    return out


def _index() -> dict[str, tuple[str, Path, Path]]:
    return _scan((library_dir(), *user_dirs()))


def refresh() -> None:
    """Forget the scanned folders (after adding a material to one)."""
    _scan.cache_clear()


def material_root(name: str) -> Path:
    """The library folder a material comes from (the shipped library or one of `user_dirs`)."""
    material_path(name)
    return _index()[name][2]


def list_materials(category: str | None = None) -> list[str]:
    """Names of library materials (optionally of one category), sorted."""
    return sorted(n for n, (c, _, _) in _index().items() if category is None or c == category)


def material_path(name: str) -> Path:
    try:
        return _index()[name][1]
    except KeyError:
        raise KeyError(f"no material {name!r} in the library ({len(_index())} materials; see list_materials())") from None


def load_graph(name_or_path: str | Path) -> Graph:
    """A library material by name, or a graph JSON file by path."""
    p = Path(name_or_path)
    if p.suffix == ".json" and p.exists():
        return Graph.load(p)
    return Graph.load(material_path(str(name_or_path)))
