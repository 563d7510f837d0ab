"""Retrieval of furniture models for object segments: crop the photo around each mask, query the asset indices.

The libraries searched are the artist's own (an index built with `photo2scene assets index PATH...`: folders of
OBJ/glTF/..., 3D-FUTURE, .blend asset libraries) and the built-in starter library (docs/objects.md says which,
`objects.asset_index` chooses). One query runs over all of them with one scoring, and their candidates are merged
by score. With CLIP weights present (p2s_common.clip), crops are embedded and matched against the models'
rendered views within the segment's category family; without them (or when a library has no views to embed) the
query is category-only, ranked by how well a model's size fits the object's point cloud. Which one ran is
recorded in scene.json.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from p2s_common.errors import InputError, SetupError
from assets_index import Embedder, normalize_category, related_categories
from .config import ObjectConfig

MESH_CACHE = 64  # models kept in memory by a retriever (a 3D-FUTURE model can hold 100k faces)


class Retriever:
    """The asset indices one reconstruction searches, the CLIP model (None = category + size) and the mode.

    Asset ids are unique across indices (they name the file or generator), so a model is found in the first
    index that holds it."""

    def __init__(self, indices: Any, embedder: Any | None, mode: str):
        self.indices: list = list(indices) if isinstance(indices, (list, tuple)) else [indices]
        self.embedder = embedder  # assets_index.Embedder, None = category-only
        self.mode = mode  # "clip:<model key>" or "category+size"
        self._meshes: OrderedDict[str, dict] = OrderedDict()  # the last MESH_CACHE models loaded

    def __contains__(self, asset_id: str) -> bool:
        return any(asset_id in index for index in self.indices)

    def index_of(self, asset_id: str):
        """The first index holding `asset_id` (KeyError when none does)."""
        for index in self.indices:
            if asset_id in index:
                return index
        raise KeyError(asset_id)

    def get(self, asset_id: str):
        """The AssetRecord of `asset_id`."""
        return self.index_of(asset_id).get(asset_id)

    def pack_scale(self, record) -> float:
        """The scale at which `record`'s model has its real size (below 1 for a pack drawn in its own units)."""
        return self.index_of(record.id).pack_scale(record) if record.id in self else 1.0

    def load_mesh(self, asset_id: str) -> dict:
        """The model's material parts (canonical frame: metres, Z up, front -Y, origin at the bottom centre).
        The last `MESH_CACHE` models are kept: shape retrieval, re-ranking and the offered candidates' meshes load
        the same models again (a glTF file takes about 100 ms to read). Each call gets its own copies, so a
        caller may transform them."""
        if asset_id in self._meshes:
            self._meshes.move_to_end(asset_id)
        else:
            self._meshes[asset_id] = self.index_of(asset_id).load_mesh(asset_id)
            if len(self._meshes) > MESH_CACHE:
                self._meshes.popitem(last=False)
        return {name: mesh.copy() for name, mesh in self._meshes[asset_id].items()}

    def query(self, embedding: np.ndarray | None, k: int, category: Iterable[str] | None,
              size: Sequence[float] | None, size_weight: float = 0.1,
              at_least: Sequence[bool] | None = None) -> list:
        """Top-k assets_index Matches over every index, best first: each index's own top-k, merged by score.
        Scores are comparable across indices: the same CLIP model's cosine (+ size term) with an embedding, the
        size fit alone without one. at_least: the axes of `size` that are only lower bounds."""
        merged: dict[str, Any] = {}
        for index in self.indices:
            if embedding is not None:
                matches = index.query(embedding, k=k, category=category, size=size, size_weight=size_weight,
                                      at_least=at_least)
            else:
                matches = index.query(None, k=k, category=category, size=size, at_least=at_least)
            for m in matches:
                merged.setdefault(m.asset_id, m)  # the first index that holds a model answers for it
        return sorted(merged.values(), key=lambda m: (-m.score, m.asset_id))[:k]

    def libraries(self) -> list[dict]:
        """Per index: its folder and the number of models of each of its sources (for the log and scene.json)."""
        out = []
        for index in self.indices:
            counts: dict[str, int] = {}
            for r in index.records:
                counts[r.library or r.source] = counts.get(r.library or r.source, 0) + 1
            out.append({"index": str(index.path), "models": len(index), "sources": counts})
        return out

    def describe(self) -> str:
        """One line: which libraries are searched and how many models each holds."""
        parts = []
        for lib in self.libraries():
            sources = ", ".join(f"{_source_label(key)} {n}" for key, n in lib["sources"].items())
            parts.append(f"{lib['index']} ({lib['models']} models: {sources or 'none'})")
        return f"{len(parts)} asset {'index' if len(parts) == 1 else 'indices'}: " + "; ".join(parts)


def _source_label(key: str) -> str:
    """'builtin' -> 'built-in library'; 'folder:/x' -> 'folder /x'; 'blend:/x.blend' -> 'blend /x.blend'."""
    if key == "builtin":
        return "built-in library"
    kind, _, root = key.partition(":")
    return f"{kind} {root}" if root else kind


def user_index(asset_index: str, embedder=None):
    """The artist's index to search: `asset_index` when given (it must hold an index with models: InputError
    otherwise, saying how to build one; "builtin" means none), else the default index
    (`assets_index.default_index_dir()`) when it exists and holds models, else None."""
    # lazy: loads trimesh, which importing this module does not
    from assets_index import default_index_dir, open_index

    if asset_index == "builtin":  # as in `photo2scene assets index builtin`: the built-in library alone
        return None
    if asset_index:
        path = Path(asset_index).expanduser()
        build = f"build one with `photo2scene assets index PATH --index {path}` (PATH: a folder of models, " \
                f"a .blend asset library, or 'builtin')"
        if not path.is_dir():
            raise InputError(f"--objects.asset-index {path} does not exist: {build}")
        if not (path / "index.json").is_file():
            raise InputError(f"--objects.asset-index {path} holds no asset index (no index.json): {build}")
        index = open_index(path, embedder=embedder)
        if len(index) == 0:
            raise InputError(f"--objects.asset-index {path} holds no models: add some with "
                             f"`photo2scene assets index PATH --index {path}`")
        return index
    path = default_index_dir()
    if not (path / "index.json").is_file():
        return None
    try:
        index = open_index(path, embedder=embedder)
    except InputError:  # e.g. an old format: the default index is optional, the built-in library still serves
        return None
    return index if index.sources and len(index) else None


def check_asset_index(asset_index: str) -> None:
    """Raise the InputError of `user_index` for a given index that is missing or empty, before any work (cheap:
    reads index.json)."""
    if asset_index and asset_index != "builtin":
        user_index(asset_index)


def _can_embed(index, embedder, events) -> bool:
    """Whether `index` answers image queries for every model with `embedder`'s CLIP model; embeds its stored
    views first when it was indexed with another model (or without CLIP). Embeddings are per CLIP model, so
    mixing an index's cosines with another's size scores would rank nothing fairly."""
    # lazy: loads trimesh, which importing this module does not
    from assets_index import sync_embeddings

    _, _, owners = index.expected_keys()
    if len(np.unique(owners)) < len(index):  # models without views (indexed with --no-render): no cosine
        return False
    if not index.has_embeddings:
        events.log(f"objects: embedding the views of {index.path} with CLIP {embedder.key}")
        try:
            sync_embeddings(index, embedder)
        except OSError as exc:  # a read-only index folder
            events.log(f"objects: cannot store embeddings in {index.path} ({exc})")
            return False
    return index.has_embeddings


def local_embedder(events=None):
    """The real CLIP model when its weights are on this machine (never downloads), else None: retrieval then
    goes by category, size and shape fit."""
    try:
        return Embedder.load(allow_download=False)
    except SetupError as exc:
        if events is not None:
            events.log(f"objects: CLIP weights not found, retrieving by category and size ({exc})")
        return None


def open_retriever(events, config=None, embedder=None) -> Retriever:
    """The indices to search (`config.asset_index`, else the user's default index when it holds models; plus
    the built-in library unless that index already holds it or `config.builtin_library` is off), with the
    real CLIP when its weights are here and every index can be embedded, else category + size."""
    # lazy: loads trimesh, which importing this module does not
    from assets_index import builtin_index

    cfg = config or ObjectConfig()
    if embedder is None:
        embedder = local_embedder(events)
    indices = []
    user = user_index(cfg.asset_index, embedder)
    if user is not None:
        indices.append(user)
    holds_builtin = user is not None and any(s.get("kind") == "builtin" for s in user.sources)
    if cfg.builtin_library and not holds_builtin:
        render = None if embedder is not None else False  # views are only needed to embed them
        events.log("objects: bringing the built-in model index up to date (the first run takes a few seconds)")

        def progress(done: int, total: int, message: str) -> None:
            if total and (done == total or done % 10 == 0):
                events.log(f"objects: model index {done}/{total} {message}")

        indices.append(builtin_index(embedder, render=render, progress=progress))
    if not indices:
        raise InputError("no asset library to retrieve from: --objects.builtin-library is off and no index was "
                         "given; index your models with `photo2scene assets index PATH` or turn the built-in "
                         "library back on")
    if embedder is not None and not all(_can_embed(index, embedder, events) for index in indices):
        events.log("objects: an asset index has models without views to embed (indexed with --no-render); "
                   "retrieving by category and size in every library")
        embedder = None
    mode = f"clip:{embedder.key}" if embedder is not None else "category+size"
    retriever = Retriever(indices, embedder, mode)
    events.log(f"objects: searching {retriever.describe()}")
    return retriever


def crop_around(photo_srgb: np.ndarray, mask: np.ndarray, margin: float = 0.1) -> Image.Image:
    """The photo's bounding box of `mask`, grown by `margin` of its size, pixels outside the mask greyed
    (CLIP then sees the object, not its neighbours)."""
    rows, cols = np.nonzero(mask)
    r0, r1, c0, c1 = rows.min(), rows.max() + 1, cols.min(), cols.max() + 1
    dr, dc = int((r1 - r0) * margin), int((c1 - c0) * margin)
    r0, r1 = max(0, r0 - dr), min(mask.shape[0], r1 + dr)
    c0, c1 = max(0, c0 - dc), min(mask.shape[1], c1 + dc)
    crop = photo_srgb[r0:r1, c0:c1].copy()
    crop[~mask[r0:r1, c0:c1]] = 0.5 * crop[~mask[r0:r1, c0:c1]] + 0.5
    return Image.fromarray((np.clip(crop, 0, 1) * 255).astype(np.uint8))


def retrieve(retriever: Retriever, label: str, crop: Image.Image, size_hint: tuple[float, float, float],
             k: int, at_least: Sequence[bool] | None = None) -> list:
    """Top-k assets_index Matches for one object over every library, best first (empty when no library has a
    model of the category or any other). at_least: the axes of `size_hint` that are only lower bounds."""
    category = normalize_category(label)
    families = [related_categories(category)] if category != "object" else [None]
    families.append(None)  # nothing in the family: fall back to the whole library
    embedding = retriever.embedder.images([crop])[0] if retriever.embedder is not None else None
    for family in families:
        matches = retriever.query(embedding, k, family, size_hint, at_least=at_least)
        if matches:
            return matches
    return []
