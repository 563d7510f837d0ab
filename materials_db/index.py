"""CLIP index of the library: one L2-normalised embedding per material (of its lit thumbnail), for retrieval.

The index file (npz: names, embeddings, model, digests) is built by `photo2scene materials index`; it needs the
real open_clip weights (see p2s_common.clip.load_clip), or `--tiny` for a test-only random model. `digests`
(SHA-1 of each embedded thumbnail) let `stale_materials` name the library materials added or re-rendered since.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
from PIL import Image

from p2s_common.clip import embed_images
from p2s_common.errors import SetupError

from .library import list_materials
from .thumbs import render_thumbnails, thumbnail_path


def default_path() -> Path:
    return Path(__file__).parent / "clip_index.npz"


def _lit(name: str, thumb_dir: Path | None) -> Path:
    return Path(thumb_dir) / f"{name}_lit.jpg" if thumb_dir is not None else thumbnail_path(name)


def thumbnail_digest(name: str, thumb_dir: Path | None = None) -> str:
    """SHA-1 of a material's lit thumbnail (what the index embeds); "" when there is none."""
    p = _lit(name, thumb_dir)
    return hashlib.sha1(p.read_bytes()).hexdigest() if p.exists() else ""


def build_index(model, preprocess, names: list[str], thumb_dir: Path | None, model_tag: str, out: Path) -> Path:
    """Embed the lit thumbnails of `names` (from `thumb_dir`, default: each material's own thumbnail folder;
    missing ones are rendered first) and write the index to `out`."""
    images = []
    for n in names:
        p = _lit(n, thumb_dir)
        if not p.exists():
            render_thumbnails(n, p.parent)
        images.append(Image.open(p).convert("RGB"))
    emb = embed_images(model, preprocess, images)
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(out, names=np.array(names), embeddings=emb.astype(np.float16), model=np.array(model_tag),
             digests=np.array([thumbnail_digest(n, thumb_dir) for n in names]))
    return out


def load_index(path: Path | None = None) -> tuple[list[str], np.ndarray, str]:
    path = Path(path or default_path())
    if not path.exists():
        raise SetupError(f"no material CLIP index at {path}: run `photo2scene materials index` first")
    d = np.load(path)
    return [str(n) for n in d["names"]], d["embeddings"].astype(np.float32), str(d["model"])


def stale_materials(path: Path | None = None, library: list[str] | None = None,
                    thumb_dir: Path | None = None) -> list[str]:
    """Library materials the index would retrieve wrongly or never: missing from it, or whose lit thumbnail changed
    since it was built (an index from before digests were stored is checked by name only)."""
    d = np.load(Path(path or default_path()))
    indexed = dict(zip((str(n) for n in d["names"]), (str(x) for x in d["digests"]) if "digests" in d else ()))
    known = {str(n) for n in d["names"]}
    return [n for n in (library if library is not None else list_materials())
            if n not in known or (n in indexed and indexed[n] != thumbnail_digest(n, thumb_dir))]


def query(embedding: np.ndarray, names: list[str], embeddings: np.ndarray, k: int = 5) -> list[tuple[str, float]]:
    """Top-k library materials by cosine similarity to one L2-normalised query embedding."""
    sims = embeddings @ np.asarray(embedding, np.float32).reshape(-1)
    order = np.argsort(-sims)[:k]
    return [(names[i], float(sims[i])) for i in order]
