"""Estimators for bare photos: camera (FOV, pitch, roll), depth, panoptic segmentation with ADE20K-style labels.

Each estimate has one small interface (pipeline.estimators.base) and backends chosen by config
(pipeline.estimators.config): `provided`, `learned` (weights from the local cache or the hub, see
pipeline.estimators.models) and `classical` (no weights: vanishing points, unsupervised regions). A learned backend
that cannot load says so in one line and hands over to the classical one. `estimate_case` writes the case format.
"""

from .base import CameraEstimate, DepthEstimate, SegmentationEstimate, SegmentInfo
from .config import EstimateConfig, RegionsConfig


def estimate_case(photo_path, out_estimates_dir, config=None, log=None):
    """See pipeline.estimators.estimate.estimate_case (imported lazily: it pulls in torch for some backends)."""
    from .estimate import estimate_case as _estimate_case

    return _estimate_case(photo_path, out_estimates_dir, config, log)


__all__ = ["CameraEstimate", "DepthEstimate", "SegmentationEstimate", "SegmentInfo", "EstimateConfig",
           "RegionsConfig", "estimate_case"]
