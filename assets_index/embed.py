"""CLIP image embeddings for the index, through the project's one loader (p2s_common.clip).

An `Embedder` pairs a model with the key that names it ("ViT-B-32/laion2b_s34b_b79k"); the index stores
embeddings per key, so indexes built with different models never get mixed up.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from p2s_common import clip

TINY_PREFIX = "tiny-test"


@dataclass
class Embedder:
    """A CLIP image encoder and its identity."""

    model: Any
    preprocess: Callable
    key: str
    """"<open_clip model>/<pretrained tag>", or "tiny-test/seed<N>" for the random test model."""

    @classmethod
    def load(cls, model_name: str | None = None, pretrained: str | None = None, device: str = "cpu",
             allow_download: bool = True) -> "Embedder":
        """The real CLIP (default: the project's default model). Raises SetupError when weights are missing."""
        model_name = model_name or clip.DEFAULT_MODEL
        pretrained = pretrained or clip.DEFAULT_PRETRAINED
        model, preprocess = clip.load_clip(model_name=model_name, pretrained=pretrained, device=device,
                                      allow_download=allow_download)
        return cls(model, preprocess, f"{model_name}/{pretrained}")

    @classmethod
    def tiny(cls, seed: int = 0) -> "Embedder":
        """The small randomly initialised model tests use (no weights, no network)."""
        model, preprocess = clip.tiny_clip_for_tests(seed=seed)
        return cls(model, preprocess, f"{TINY_PREFIX}/seed{seed}")

    @classmethod
    def from_key(cls, key: str, allow_download: bool = False) -> "Embedder":
        """Rebuild the embedder an index was made with, from its key."""
        name, _, tag = key.partition("/")
        if name == TINY_PREFIX:
            return cls.tiny(int(tag.removeprefix("seed") or 0))
        return cls.load(name, tag or None, allow_download=allow_download)

    def images(self, images: Sequence) -> np.ndarray:
        """(N, D) float32 L2-normalised embeddings of PIL images."""
        return clip.embed_images(self.model, self.preprocess, list(images))

    def slug(self) -> str:
        return key_slug(self.key)


def key_slug(key: str) -> str:
    """A file-name-safe form of an embedder key."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", key)
