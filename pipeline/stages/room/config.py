"""The room stage's settings."""

from __future__ import annotations

from dataclasses import dataclass, field

from pipeline.core.config import Schedule, check_caps


@dataclass
class RoomConfig:
    """Room stage (PSDR-Room section 4.2): RANSAC floor, box fit, differentiable refinement."""

    erosion_px: int = 2
    """Pixels eroded from each surface mask before taking its points (depth is unreliable at segment edges)."""
    ransac_iters: int = 400
    """RANSAC hypotheses per plane."""
    ransac_threshold: float = 0.015
    """RANSAC inlier distance, as a fraction of the median scene depth."""
    camera_height_prior_m: float = 1.5
    """Scale prior when depth is relative and no ceiling is visible: the camera's height above the floor."""
    ceiling_height_prior_m: float = 2.6
    """Scale prior when depth is relative and the ceiling is visible: floor-to-ceiling height."""
    unseen_depth_m: float = 1.0
    """How far an unseen wall (behind the camera) is placed beyond the camera, at least."""
    refine_iters: int = 40
    """Iterations of differentiable refinement (0 = keep the geometric fit)."""
    refine_width: int = 160
    """Width in pixels of the mask renders used by the refinement (height follows the photo's aspect)."""
    spp: int = 8
    """Samples per pixel of each mask render."""
    lr: float = 0.02
    """Adam learning rate, in metres per step for wall offsets (yaw is scaled to match)."""
    schedule: Schedule = field(default_factory=Schedule)
    """Learning-rate schedule of the refinement."""
    depth_weight: float = 1.0
    """Weight of the L1 of normalised depth against the sum of (1 - soft IoU) over wall, floor, ceiling."""
    tilt_prior: float = 10.0
    """With depth: weight of the squared change (radians) of the camera's pitch and roll, which the floor plane
    fitted on depth already fixes (noisy masks should not tilt it). Without depth the tilt is free."""
    face_gap_m: float = 0.01
    """Each face's edges are pulled in by this many metres so junctions are sampled as silhouettes (ARCHITECTURE.md)."""
    deterministic: int = 1
    """(1/0) CPU renders of this stage on one thread, so a run repeats exactly (pipeline/render/determinism.py:
    Mitsuba's film adds samples with atomics whose order varies between threads). 0 uses every core, faster."""
    max_iters: int = 1000
    """Cap on `refine_iters` (a bundle's config.json asking for more is refused; raise it deliberately)."""
    max_ransac_iters: int = 100000
    """Cap on `ransac_iters`."""
    max_spp: int = 1024
    """Cap on `spp`."""


def check_budgets(cfg: RoomConfig) -> None:
    """Refuse iteration and sample budgets beyond the caps (pipeline.core.config.check_caps)."""
    check_caps("room", cfg, {"max_iters": ("refine_iters",), "max_ransac_iters": ("ransac_iters",),
                             "max_spp": ("spp",)})
