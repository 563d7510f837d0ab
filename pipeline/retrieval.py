"""Retrieval of furniture models for object segments: crop the photo around each mask, query the asset index.

With CLIP weights present (pipeline.clip_model), crops are embedded and matched against the models' rendered
views within the segment's category family; without them the query is category-only, ranked by how well a
model's size fits the object's point cloud. Which one ran is recorded in scene.json.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from .errors import SetupError


@dataclass
class Retriever:
    index: object  # assets_index.AssetIndex
    embedder: object | None  # assets_index.Embedder, None = category-only
    mode: str  # "clip:<model key>" or "category+size"


def open_retriever(events, embedder=None, index=None) -> Retriever:
    """The built-in library's index with the real CLIP when its weights are here, else category-only."""
    from assets_index import Embedder, builtin_index
    from assets_index.render import RenderConfig

    if embedder is None:
        try:
            embedder = Embedder.load(allow_download=False)
        except SetupError as exc:
            events.log(f"objects: CLIP weights not found, retrieving by category and size ({exc})")
            embedder = None
    if index is None:
        render = None if embedder is not None else False  # views are only needed to embed them
        events.log("objects: bringing the built-in model index up to date (the first run takes a few seconds)")

        def progress(done: int, total: int, message: str) -> None:
            if total and (done == total or done % 10 == 0):
                events.log(f"objects: model index {done}/{total} {message}")

        index = builtin_index(embedder, render=render, progress=progress)
    mode = f"clip:{embedder.key}" if embedder is not None else "category+size"
    return Retriever(index, embedder, mode)


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
             k: int) -> list:
    """Top-k assets_index Matches for one object, best first (empty when the category has no models)."""
    from assets_index import normalize_category, related_categories

    category = normalize_category(label)
    families = [related_categories(category)] if category != "object" else [None]
    families.append(None)  # nothing in the family: fall back to the whole library
    for family in families:
        if retriever.embedder is not None:
            query = retriever.embedder.images([crop])[0]
            matches = retriever.index.query(query, k=k, category=family, size=size_hint, size_weight=0.1)
        else:
            matches = retriever.index.query(None, k=k, category=family, size=size_hint)
        if matches:
            return matches
    return []
