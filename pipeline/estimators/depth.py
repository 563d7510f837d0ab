"""Depth estimate: backends `provided`, `learned` (Depth Anything V2 metric indoor), or none.

There is no classical depth backend: single-image depth without a model would be a guess, and the room and
object stages run without depth (mask losses plus a scale prior) instead.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np

from p2s_common.errors import InputError, SetupError

from .base import DepthEstimate
from .config import EstimateConfig
from .models import MODELS, require
from pipeline.core.resample import resize_valid_mean

Log = Callable[[str], None]


class ProvidedDepth:
    """depth.npy from a folder of estimates (case format)."""

    name = "provided"

    def __init__(self, folder: str | Path, metric: bool = False):
        self.path = Path(folder) / "depth.npy"
        if not self.path.is_file():
            raise InputError(f"depth backend 'provided' needs {self.path}")
        self.metric = metric

    def estimate(self, image: np.ndarray) -> DepthEstimate:
        depth = np.load(self.path, allow_pickle=False).astype(np.float32)
        h, w = image.shape[:2]
        if depth.shape != (h, w):
            depth = resize_valid_mean(depth, (w, h))
        return DepthEstimate(np.maximum(depth, 0), self.metric, f"provided ({self.path})")


class LearnedDepth:
    """A Hugging Face depth model (default: Depth Anything V2 Metric Indoor Small: z-depth in metres)."""

    name = "learned"

    def __init__(self, allow_download: bool = True, cache_dir: str | None = None, model=None, processor=None,
                 metric: bool = True):
        """`model`/`processor`: already built transformers objects (tests build tiny random ones)."""
        if model is None:
            path = require(MODELS["depth"], allow_download, cache_dir)
            from transformers import AutoImageProcessor, AutoModelForDepthEstimation

            processor = AutoImageProcessor.from_pretrained(path)
            model = AutoModelForDepthEstimation.from_pretrained(path)
        self.model = model.eval()
        self.processor = processor
        self.metric = metric

    def estimate(self, image: np.ndarray) -> DepthEstimate:
        import torch
        import torch.nn.functional as F

        h, w = image.shape[:2]
        rgb = (np.clip(image, 0, 1) * 255 + 0.5).astype(np.uint8)
        inputs = self.processor(images=rgb, return_tensors="pt")
        with torch.no_grad():
            pred = self.model(**inputs).predicted_depth  # B x h' x w'
        depth = F.interpolate(pred[:, None].float(), size=(h, w), mode="bilinear", align_corners=False)[0, 0]
        depth = depth.clamp(min=0).numpy().astype(np.float32)
        return DepthEstimate(depth, self.metric, "learned (Depth Anything V2 metric indoor small)")


def make_depth_estimator(config: EstimateConfig, log: Log = print):
    """The depth backend the config asks for, or None (no depth) when none is available."""
    choice = config.depth.lower()
    if choice == "none":
        return None
    if choice == "provided":
        if not config.provided:
            raise InputError("depth backend 'provided' needs --provided FOLDER (a folder with depth.npy)")
        return ProvidedDepth(config.provided)
    if choice not in ("auto", "learned"):
        raise InputError(f"unknown depth backend {config.depth!r}; choose auto, learned, provided or none")
    try:
        return LearnedDepth(allow_download=config.download != "never", cache_dir=config.cache_dir or None)
    except SetupError as exc:
        log(f"depth: learned backend unavailable, writing no depth (the stages then use a scale prior) ({exc})")
    except Exception as exc:  # noqa: BLE001 - a broken third-party install must not stop the estimate
        log(f"depth: learned backend failed to load ({type(exc).__name__}: {exc}); writing no depth")
    return None
