"""Procedural material retrieval (PSDR-Room 4.4): CLIP over the materials_db thumbnails, with voting over crops.

Each crop of a material's region queries the library's CLIP index for its top-k; materials collect a vote per
crop they appear in; among the most voted, the one with the highest mean cosine wins. A material whose best
mean cosine is below `min_cosine`, or that has no crop, stays homogeneous. Without CLIP weights or a material
index on this machine, retrieval is off and every material stays homogeneous (the stage says so in scene.json).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from p2s_common.clip import DEFAULT_MODEL, DEFAULT_PRETRAINED, embed_images, load_clip
from p2s_common.errors import SetupError


@dataclass
class Ranked:
    name: str
    votes: int
    mean_cosine: float


class ClipMaterials:
    """CLIP model + the library's index; `rank(crops)` votes over crops."""

    def __init__(self, model, preprocess, names: list[str], embeddings: np.ndarray, tag: str = "",
                 stale: list[str] | None = None):
        self.model, self.preprocess = model, preprocess
        self.names, self.embeddings, self.tag = names, embeddings, tag
        self.stale = stale or []  # library materials missing from the index or re-rendered since it was built

    def embed(self, crops_srgb: list[np.ndarray]) -> np.ndarray:
        from PIL import Image

        images = [Image.fromarray((np.clip(c, 0, 1) * 255 + 0.5).astype(np.uint8)) for c in crops_srgb]
        return embed_images(self.model, self.preprocess, images)

    def rank(self, crops_srgb: list[np.ndarray], k: int = 10) -> list[Ranked]:
        """Materials that appear in any crop's top-k, most votes first, then highest mean cosine."""
        if not crops_srgb:
            return []
        sims = self.embed(crops_srgb) @ self.embeddings.T  # (crops, materials)
        votes = np.zeros(len(self.names), int)
        for row in sims:
            votes[np.argsort(-row)[:k]] += 1
        mean = sims.mean(axis=0)
        order = sorted(np.nonzero(votes)[0], key=lambda i: (-votes[i], -mean[i]))
        return [Ranked(self.names[i], int(votes[i]), float(mean[i])) for i in order]


def choose(ranked: list[Ranked], min_cosine: float) -> Ranked | None:
    """Among the most voted, the highest mean cosine; None when that is below `min_cosine`."""
    if not ranked:
        return None
    top_votes = max(r.votes for r in ranked)
    best = max((r for r in ranked if r.votes == top_votes), key=lambda r: r.mean_cosine)
    return best if best.mean_cosine >= min_cosine else None


def open_clip_materials(model_name: str = "", pretrained: str = "") -> tuple[ClipMaterials | None, str]:
    """(retriever, note). None with the reason when CLIP weights or the material index are missing."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec("materials_db")  # find the index without importing the twins (taichi: seconds)
    index = Path(spec.origin).parent / "clip_index.npz" if spec and spec.origin else None
    if index is None or not index.exists():
        return None, f"no material CLIP index at {index} (build it with `photo2scene materials index`)"
    try:
        # lazy: loads torch, which importing this module does not
        from materials_db import list_materials
        from materials_db.index import load_index, stale_materials

        names, embeddings, tag = load_index()
        stale = stale_materials()
        library = set(list_materials())
        keep = [i for i, n in enumerate(names) if n in library]  # materials removed since the index was built
        stale += [n for n in names if n not in library]
        names, embeddings = [names[i] for i in keep], embeddings[keep]
    except (SetupError, ImportError, OSError, KeyError) as exc:
        return None, f"no material CLIP index ({exc})"
    try:
        model, preprocess = load_clip(model_name or DEFAULT_MODEL, pretrained or DEFAULT_PRETRAINED,
                                      allow_download=False)
    except SetupError as exc:
        return None, f"no CLIP weights on this machine ({str(exc).split('. ')[0]})"
    if embeddings.shape[1] != int(getattr(model, "embed_dim", 0) or model.visual.output_dim):
        return None, f"the material index ({tag}) was built with another CLIP model; rebuild it"
    return ClipMaterials(model, preprocess, names, embeddings, tag, stale), f"CLIP ({tag})"


def stale_note(stale: list[str]) -> str:
    """What the stage reports when the index misses library materials or predates their thumbnails."""
    shown = ", ".join(stale[:5]) + (", ..." if len(stale) > 5 else "")
    return (f"the material CLIP index is out of date for {len(stale)} library materials ({shown}): they are "
            "retrieved from old thumbnails or not at all; rebuild it with `photo2scene materials index`")
