"""Where the asset index lives by default."""

from __future__ import annotations

import os
from pathlib import Path

INDEX_ENV = "PHOTO2SCENE_ASSETS_INDEX"


def default_index_dir() -> Path:
    """$PHOTO2SCENE_ASSETS_INDEX, else $XDG_CACHE_HOME/photo2scene/assets, else ~/.cache/photo2scene/assets.

    A cache: everything in it can be rebuilt from the sources with `photo2scene assets index`."""
    env = os.environ.get(INDEX_ENV)
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "photo2scene" / "assets"


def builtin_index_dir() -> Path:
    """Where `builtin_index()` keeps the built-in library's index (views and embeddings)."""
    return default_index_dir() / "builtin"
