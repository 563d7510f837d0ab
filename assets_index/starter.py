"""The built-in library's index, built on first use and cached (no download, no network)."""

from __future__ import annotations

from pathlib import Path

from .embed import Embedder
from .index import AssetIndex, open_index
from .paths import builtin_index_dir
from .render import RenderConfig
from .sources import BuiltinSource
from .update import Progress, update_index


def builtin_index(embedder: Embedder | None = None, directory: str | Path | None = None,
                  render: RenderConfig | bool | None = None, progress: Progress | None = None) -> AssetIndex:
    """Index of the built-in starter library, brought up to date (a no-op after the first call).

    embedder: the CLIP model to embed the views with, e.g. `Embedder.load()` or `Embedder.tiny()` in tests;
    None builds records and views only, and the index then answers category-only queries
    (`index.query(None, category="sofa", size=(w, d, h))`). The first call renders 4 views of each model
    (~10 s on 2 cores); pass `render=RenderConfig(views=1, resolution=64, spp=4)` for a quick one.
    directory: default `builtin_index_dir()` (~/.cache/photo2scene/assets/builtin); the views are shared by
    every CLIP model, each model's embeddings sit beside them."""
    index = open_index(directory or builtin_index_dir(), embedder=embedder, create=True)
    update_index(index, [BuiltinSource()], embedder=embedder, render=render, progress=progress)
    return index
