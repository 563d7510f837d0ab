"""Estimators for bare photos: camera (FOV, pitch, roll), depth, panoptic segmentation with ADE20K-style labels.

Each estimate has one small interface (pipeline.estimators.base) and backends chosen by config
(pipeline.estimators.config): `provided`, `learned` (weights from the local cache or the hub, see
pipeline.estimators.models) and `classical` (no weights: vanishing points, unsupervised regions). A learned backend
that cannot load says so in one line and hands over to the classical one. `estimate_case` writes the case format.
"""

from .base import CameraEstimate, DepthEstimate, SegmentationEstimate, SegmentInfo
from .config import EstimateConfig, RegionsConfig
from .estimate import estimate_case  # torch loads only inside a learned backend, not on import


__all__ = ["CameraEstimate", "DepthEstimate", "SegmentationEstimate", "SegmentInfo", "EstimateConfig",
           "RegionsConfig", "estimate_case"]
