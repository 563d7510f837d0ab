"""Albedo tiles of library materials for retrieval by synthesis: the twin's base colour over one UV tile at its
default parameters, cached on disk per material (keyed by the graph file's SHA-1, so an edited or re-imported
material is evaluated again) because evaluating the whole library takes seconds and retrieval runs on every part."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

from .library import material_path

CACHE_ENV = "PHOTO2SCENE_TILE_CACHE"
TWIN_VERSION = "1"  # bump when the twins change what a graph evaluates to


def cache_dir() -> Path:
    """$PHOTO2SCENE_TILE_CACHE, else ~/.cache/photo2scene/material_tiles."""
    env = os.environ.get(CACHE_ENV)
    return Path(env) if env else Path.home() / ".cache" / "photo2scene" / "material_tiles"


def _key(name: str, resolution: int) -> str:
    digest = hashlib.sha1(material_path(name).read_bytes() + TWIN_VERSION.encode()).hexdigest()[:16]
    return f"{name}-{digest}-{resolution}"


def albedo_tile(name: str, resolution: int = 128) -> np.ndarray:
    """(R, R, 3) float32 linear base colour of library material `name` over the UV tile [0, 1]^2, image oriented
    (row 0 = top, v near 1), at default parameters."""
    path = cache_dir() / f"{_key(name, resolution)}.npy"
    if path.is_file():
        try:
            return np.load(path)
        except (OSError, ValueError):  # a torn write from an interrupted run: evaluate again
            pass
    import torch

    from .evaluate import evaluate
    from .library import load_graph

    graph = load_graph(name)
    with torch.no_grad():
        tile = evaluate(graph, graph.default_params(), resolution, with_normal=False)["base_color"]
    tile = tile.clamp(0.0, 1.0).numpy().astype(np.float32)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp.npy")
    np.save(tmp, tile)
    os.replace(tmp, path)  # atomic: a parallel run reads the old or the new file, never half of one
    return tile
