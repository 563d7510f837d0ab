"""CLIP index of the library: one L2-normalised embedding per material (of its lit thumbnail), for retrieval.

The index file (npz: names, embeddings, model) is built by `photo2scene materials index`; it needs the real
open_clip weights (see pipeline.clip_model.load_clip), or `--tiny` for a test-only random model.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def default_path() -> Path:
    return Path(__file__).parent / "clip_index.npz"


def build_index(model, preprocess, names: list[str], thumb_dir: Path, model_tag: str, out: Path) -> Path:
    from PIL import Image

    from pipeline.clip_model import embed_images

    from .thumbs import render_thumbnails

    images = []
    for n in names:
        p = thumb_dir / f"{n}_lit.jpg"
        if not p.exists():
            render_thumbnails(n, thumb_dir)
        images.append(Image.open(p).convert("RGB"))
    emb = embed_images(model, preprocess, images)
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(out, names=np.array(names), embeddings=emb.astype(np.float16), model=np.array(model_tag))
    return out


def load_index(path: Path | None = None) -> tuple[list[str], np.ndarray, str]:
    from pipeline.errors import SetupError

    path = Path(path or default_path())
    if not path.exists():
        raise SetupError(f"no material CLIP index at {path}: run `photo2scene materials index` first")
    d = np.load(path)
    return [str(n) for n in d["names"]], d["embeddings"].astype(np.float32), str(d["model"])


def query(embedding: np.ndarray, names: list[str], embeddings: np.ndarray, k: int = 5) -> list[tuple[str, float]]:
    """Top-k library materials by cosine similarity to one L2-normalised query embedding."""
    sims = embeddings @ np.asarray(embedding, np.float32).reshape(-1)
    order = np.argsort(-sims)[:k]
    return [(names[i], float(sims[i])) for i in order]
