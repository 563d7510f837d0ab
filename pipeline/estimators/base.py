"""What every estimator returns, and the three small interfaces (camera, depth, segmentation).

Conventions: images are HxWx3 float32 sRGB in [0,1]; pixel (col, row) has its centre at (col + 0.5, row + 0.5);
angles in degrees. Camera tilt: `pitch_deg` > 0 when the camera looks above the horizon, `roll_deg` > 0 when the
world's up leans to the right in the image (the camera is rotated counter-clockwise about its viewing axis).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np


@dataclass
class CameraEstimate:
    """Field of view and tilt of the camera, each with a confidence in [0, 1]."""

    fov_y_deg: float
    pitch_deg: float
    roll_deg: float
    confidence: float  # overall: how much to trust this estimate (0 = a prior, 1 = well determined)
    source: str  # "classical (vanishing points)", "learned (<model>)", "provided (<file>)", "prior"
    fov_confidence: float = 0.0  # 0 = FOV is the prior, 1 = FOV measured from the image
    details: dict = field(default_factory=dict)

    def up_vector(self) -> np.ndarray:
        """World up in Blender camera coordinates (x right, y up, z back)."""
        p, r = math.radians(self.pitch_deg), math.radians(self.roll_deg)
        return np.array([math.cos(p) * math.sin(r), math.cos(p) * math.cos(r), -math.sin(p)])

    def to_json(self, width: int, height: int) -> dict:
        """camera.json content (docs/case_format.md plus the tilt fields of docs/estimators.md)."""
        fov_x = math.degrees(2 * math.atan(math.tan(math.radians(self.fov_y_deg) / 2) * width / height))
        return {"fov_y_deg": round(self.fov_y_deg, 3), "fov_x_deg": round(fov_x, 3), "width": width,
                "height": height, "pitch_deg": round(self.pitch_deg, 3), "roll_deg": round(self.roll_deg, 3),
                "confidence": round(self.confidence, 3), "fov_confidence": round(self.fov_confidence, 3),
                "source": self.source}


def tilt_from_up(up_blender: np.ndarray) -> tuple[float, float]:
    """(pitch, roll) in degrees from world up in Blender camera coordinates."""
    u = np.asarray(up_blender, float) / np.linalg.norm(up_blender)
    pitch = math.degrees(math.asin(float(np.clip(-u[2], -1, 1))))
    roll = math.degrees(math.atan2(u[0], u[1]))
    return pitch, roll


@dataclass
class DepthEstimate:
    """HxW z-depth (0 = invalid) and whether it is in metres."""

    depth: np.ndarray
    metric: bool
    source: str


@dataclass
class SegmentInfo:
    """One segment of a panoptic estimate."""

    id: int
    label: str  # ADE20K-style name, or "region" for an unlabelled proposal
    kind: str  # "stuff" | "thing"
    score: float = 1.0  # labeller's confidence


@dataclass
class SegmentationEstimate:
    """HxW int32 ids (0 = unlabeled) and what each id is."""

    ids: np.ndarray
    segments: list[SegmentInfo]
    source: str
    features: np.ndarray | None = None  # optional HxWxC per-pixel features (reused by interactive segmentation)
    proposals: np.ndarray | None = None  # HxW ids of unnamed region proposals (classical backend), 0 = none
    layout_depth: np.ndarray | None = None  # HxW relative z-depth of the box layout on room surfaces, 0 elsewhere


class CameraEstimator(Protocol):
    name: str

    def estimate(self, image: np.ndarray, focal_hint_px: float | None = None) -> CameraEstimate: ...


class DepthEstimator(Protocol):
    name: str

    def estimate(self, image: np.ndarray) -> DepthEstimate: ...


class SegmentationEstimator(Protocol):
    name: str

    def estimate(self, image: np.ndarray) -> SegmentationEstimate: ...
