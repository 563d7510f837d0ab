"""The one CLIP loader of the project (open_clip), shared by materials_db and assets_index.

`load_clip` looks for the weights on this machine first (an explicit file, `$PHOTO2SCENE_CLIP_WEIGHTS`, the
Hugging Face cache, open_clip's cache dir) and only then asks the hub; when neither works it raises a SetupError
that says what to download and where. `tiny_clip_for_tests` builds a small randomly initialised model so tests
never need weights or a network. open_clip and torch are imported inside the functions: they take seconds to
load, and the CLIs import this module for their defaults.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .errors import SetupError

DEFAULT_MODEL = "ViT-B-32"
DEFAULT_PRETRAINED = "laion2b_s34b_b79k"
WEIGHTS_ENV = "PHOTO2SCENE_CLIP_WEIGHTS"

_CACHE: dict[tuple[str, str, str], tuple[Any, Callable]] = {}


def _local_weights(model_name: str, pretrained: str, cache_dir: str | None) -> str | None:
    """Path of already-downloaded weights for (model, tag), or None. Never touches the network."""
    if pretrained and Path(pretrained).is_file():
        return pretrained
    env = os.environ.get(WEIGHTS_ENV)
    if env and Path(env).is_file():
        return env
    import open_clip

    cfg = open_clip.get_pretrained_cfg(model_name, pretrained) or {}
    hub = (cfg.get("hf_hub") or "").strip("/")
    if hub:
        try:
            from huggingface_hub import try_to_load_from_cache
        except ImportError:  # pragma: no cover - huggingface_hub ships with open_clip
            return None
        for filename in ("open_clip_model.safetensors", "open_clip_pytorch_model.bin"):
            found = try_to_load_from_cache(hub, filename, cache_dir=cache_dir)
            if isinstance(found, str) and Path(found).is_file():
                return found
    url = cfg.get("url") or ""
    if url:
        root = Path(cache_dir or Path.home() / ".cache" / "clip")
        candidate = root / os.path.basename(url)
        if candidate.is_file():
            return str(candidate)
    return None


def load_clip(
    model_name: str = DEFAULT_MODEL,
    pretrained: str = DEFAULT_PRETRAINED,
    device: str = "cpu",
    cache_dir: str | None = None,
    allow_download: bool = True,
) -> tuple[Any, Callable]:
    """Load an open_clip model in eval mode: (model, preprocess). Local weights first, then the hub.

    `pretrained` is an open_clip tag (e.g. "laion2b_s34b_b79k") or a path to a weights file.
    Raises SetupError, naming the file to fetch and where to put it, when the weights cannot be had.
    """
    key = (model_name, pretrained, device)
    if key in _CACHE:
        return _CACHE[key]
    try:
        import open_clip
    except ImportError as exc:
        raise SetupError("open_clip is not installed: pip install 'open_clip_torch>=3.3,<3.4'") from exc
    if model_name not in open_clip.list_models():
        raise SetupError(f"unknown open_clip model {model_name!r}; see open_clip.list_models()")
    local = _local_weights(model_name, pretrained, cache_dir)
    try:
        if local is not None:
            model, _, preprocess = open_clip.create_model_and_transforms(model_name, pretrained=local, device=device)
        elif allow_download:
            model, _, preprocess = open_clip.create_model_and_transforms(
                model_name, pretrained=pretrained, device=device, cache_dir=cache_dir
            )
        else:
            raise FileNotFoundError("no local weights and downloads disabled")
    except Exception as exc:  # network errors, missing files, bad tags all mean the same to the user
        cfg = open_clip.get_pretrained_cfg(model_name, pretrained) or {}
        hub = (cfg.get("hf_hub") or "").strip("/")
        where = (
            f"https://huggingface.co/{hub} (file open_clip_model.safetensors) into the Hugging Face cache "
            f"(`huggingface-cli download {hub} open_clip_model.safetensors`)"
            if hub
            else (cfg.get("url") or "the open_clip release page")
        )
        raise SetupError(
            f"CLIP weights for {model_name}/{pretrained} are not on this machine and could not be downloaded "
            f"({type(exc).__name__}: {exc}). Download them from {where}, or point ${WEIGHTS_ENV} at a local "
            f"weights file."
        ) from exc
    model.eval()
    _CACHE[key] = (model, preprocess)
    return model, preprocess


def embed_images(model: Any, preprocess: Callable, images: list, batch_size: int = 32) -> np.ndarray:
    """Image embeddings (N, D) float32, L2-normalised, for a list of PIL images."""
    import torch

    if not images:
        dim = int(getattr(model, "embed_dim", 0) or model.visual.output_dim)
        return np.zeros((0, dim), np.float32)
    out = []
    device = next(model.parameters()).device
    with torch.no_grad():
        for i in range(0, len(images), batch_size):
            batch = torch.stack([preprocess(im.convert("RGB")) for im in images[i : i + batch_size]]).to(device)
            feats = model.encode_image(batch).float()
            out.append(torch.nn.functional.normalize(feats, dim=-1).cpu().numpy())
    return np.concatenate(out, 0).astype(np.float32)


def embed_texts(model: Any, texts: list[str], model_name: str = DEFAULT_MODEL) -> np.ndarray:
    """Text embeddings (N, D) float32, L2-normalised (for text queries against an image index)."""
    import open_clip
    import torch

    tokenizer = open_clip.get_tokenizer(model_name)
    device = next(model.parameters()).device
    with torch.no_grad():
        feats = model.encode_text(tokenizer(texts).to(device)).float()
    return torch.nn.functional.normalize(feats, dim=-1).cpu().numpy().astype(np.float32)


def tiny_clip_for_tests(seed: int = 0, image_size: int = 32, embed_dim: int = 32) -> tuple[Any, Callable]:
    """A small randomly initialised open_clip CLIP + its preprocess: for tests (no weights, runs in ~ms)."""
    import open_clip
    import torch
    from open_clip.model import CLIP, CLIPTextCfg, CLIPVisionCfg

    torch.manual_seed(seed)
    vision = CLIPVisionCfg(layers=1, width=32, head_width=16, patch_size=8, image_size=image_size)
    text = CLIPTextCfg(context_length=77, vocab_size=49408, width=32, heads=2, layers=1)
    model = CLIP(embed_dim=embed_dim, vision_cfg=vision, text_cfg=text)
    model.eval()
    preprocess = open_clip.transform.image_transform(image_size, is_train=False)
    return model, preprocess
