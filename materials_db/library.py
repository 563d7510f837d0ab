"""The material library: one JSON graph per material under materials_db/library/<category>/<name>.json."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from .graph import Graph


def library_dir() -> Path:
    return Path(__file__).parent / "library"


@lru_cache(maxsize=1)
def _index() -> dict[str, tuple[str, Path]]:
    out = {}
    for path in sorted(library_dir().rglob("*.json")):
        with open(path) as f:
            d = json.load(f)
        out[d["name"]] = (d.get("category", "misc"), path)
    return out


def list_materials(category: str | None = None) -> list[str]:
    """Names of library materials (optionally of one category), sorted."""
    return sorted(n for n, (c, _) in _index().items() if category is None or c == category)


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
