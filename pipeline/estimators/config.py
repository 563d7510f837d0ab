"""Configuration of `photo2scene estimate`: which backend makes each estimate, and their settings.

Backends: `provided` (read from a folder of estimates), `learned` (a model with weights), `classical` (no weights),
`auto` (learned when its package and weights are here, else classical), `none` (skip; depth only).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class RegionsConfig:
    """Unsupervised regions: a small CNN trained on the photo alone (Kim, Kanezaki and Tanaka, 2020)."""

    size: int = 160
    """Longest side, in pixels, at which the network is trained (the result is upsampled)."""
    channels: int = 32
    """Feature channels (the initial number of clusters)."""
    iterations: int = 60
    """Training iterations on the single image."""
    min_clusters: int = 8
    """Stop once the argmax uses no more clusters than this."""
    continuity: float = 3.0
    """Weight of the spatial-continuity loss against the feature-similarity loss."""
    min_area: float = 0.004
    """Regions smaller than this fraction of the image are merged into a neighbour."""


@dataclass
class EstimateConfig:
    """Everything `estimate_case` depends on."""

    camera: str = "auto"
    """Camera backend: auto, learned, classical or provided."""
    depth: str = "auto"
    """Depth backend: auto (learned when available, else none), learned, provided or none."""
    segmentation: str = "auto"
    """Segmentation backend: auto, learned, classical (unsupervised regions + layout labels) or provided."""
    provided: str = ""
    """Folder of estimates (case format) that the `provided` backends read."""
    working_size: int = 640
    """Longest side, in pixels, of the estimates written (the photo is never upsampled)."""
    download: str = "auto"
    """Weights not on this machine: auto (try the hub, then fall back to classical) or never."""
    cache_dir: str = ""
    """Hugging Face cache folder for weights ('' = the standard one)."""
    seed: int = 0
    """Seed for every random choice (RANSAC hypotheses, network initialisation)."""
    regions: RegionsConfig = field(default_factory=RegionsConfig)
