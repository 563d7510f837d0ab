"""Source plug-ins: where models come from. Each implements `AssetSource` (base.py)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .base import AssetSource, LoadedModel, ScanUnit
from .blend import BlendSource
from .builtin import BuiltinSource
from .folder import MESH_EXTENSIONS, FolderSource

__all__ = ["AssetSource", "BlendSource", "BuiltinSource", "FolderSource", "LoadedModel", "ScanUnit",
           "source_from_spec", "sources_for_path"]

_KINDS: dict[str, type[AssetSource]] = {"builtin": BuiltinSource, "folder": FolderSource, "blend": BlendSource}


def source_from_spec(spec: dict[str, Any]) -> AssetSource:
    """Rebuild a source from what `AssetSource.spec()` stored in an index."""
    spec = dict(spec)
    kind = spec.pop("kind")
    if kind not in _KINDS:
        raise ValueError(f"unknown asset source kind {kind!r}")
    return _KINDS[kind](**spec)


def sources_for_path(path: str | Path, up: str = "auto", units: str = "auto",
                     category: str | None = None) -> list[AssetSource]:
    """The sources a user path stands for: "builtin", a .blend file, a mesh file, or a folder (a folder with
    both .blend files and mesh files gives both sources). Empty when nothing indexable is there."""
    if str(path) == "builtin":
        return [BuiltinSource()]
    p = Path(path).expanduser().resolve()
    if p.is_file():
        if p.suffix.lower() == ".blend":
            return [BlendSource(p, category=category)]
        if p.suffix.lower() in MESH_EXTENSIONS:
            return [FolderSource(p, up=up, units=units, category=category)]
        return []
    has_blend = has_mesh = False
    for _, dirs, files in os.walk(p):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            ext = os.path.splitext(name)[1].lower()
            has_blend |= ext == ".blend"
            has_mesh |= ext in MESH_EXTENSIONS
        if has_blend and has_mesh:
            break
    out: list[AssetSource] = []
    if has_mesh:
        out.append(FolderSource(p, up=up, units=units, category=category))
    if has_blend:
        out.append(BlendSource(p, category=category))
    return out
