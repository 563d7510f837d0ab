"""materials_db's import graph is acyclic: every import (module level or deferred inside a function) counts, so no
module relies on a half-initialised partner."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _module(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(package: str = "materials_db") -> dict[str, set[str]]:
    """{module: modules of `package` it imports}, read from the source (nothing is imported)."""
    files = {_module(p): p for p in (ROOT / package).rglob("*.py")}
    edges: dict[str, set[str]] = {m: set() for m in files}
    for mod, path in files.items():
        here = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                base = here
                for _ in range(node.level - 1):
                    base = base.rpartition(".")[0]
                target = (f"{base}.{node.module}" if node.module else base) if node.level else node.module
                for alias in node.names:  # `from . import x` imports the submodule x
                    sub = f"{target}.{alias.name}"
                    edges[mod].add(sub if sub in files else target)
            elif isinstance(node, ast.Import):
                edges[mod].update(a.name for a in node.names)
        edges[mod] &= files.keys()
        edges[mod].discard(mod)
    return edges


def _cycle(edges: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    path: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        path.append(m)
        for n in sorted(edges[m]):
            if state.get(n) == 1:
                return path[path.index(n):] + [n]
            if n not in state and (found := visit(n)):
                return found
        path.pop()
        state[m] = 2
        return None

    for m in sorted(edges):
        if m not in state and (found := visit(m)):
            return found
    return None


def test_materials_db_imports_are_acyclic():
    edges = import_graph()
    assert "materials_db.twins.fused" in edges["materials_db.evaluate"]  # the graph is read as intended
    assert _cycle(edges) is None, " -> ".join(_cycle(edges))


def test_cycle_finder_finds_one():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
