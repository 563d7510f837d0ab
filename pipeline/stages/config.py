"""The run config: every stage's section composed, with the run-wide settings and presets.

It lives at the stages layer (it names every stage's config); the machinery that reads and writes configs is pipeline.core.config."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from pipeline.stages.materials_lights.config import MaterialLightConfig
from pipeline.stages.objects.config import ObjectConfig
from pipeline.stages.room.config import RoomConfig


# Named settings applied before the user's own options (which override them). "final" is the defaults.
PRESETS: dict[str, dict[str, object]] = {
    "draft": {"working_size": 240, "room.refine_iters": 15, "room.refine_width": 120, "room.spp": 4,
              "objects.refine_iters": 15, "objects.refine_width": 120, "objects.spp": 4, "objects.rerank_k": 2,
              "objects.yaw_steps": 8, "materials_lights.iters": 25, "materials_lights.spp": 8,
              "materials_lights.final_spp": 16, "materials_lights.texture_search": 0},
    "final": {},
}


@dataclass
class ReconstructConfig:
    """Everything a reconstruction run depends on."""

    PRESETS: ClassVar[dict[str, dict[str, object]]] = PRESETS

    working_size: int = 320
    """Longest side, in pixels, of the working resolution that photo and estimates are resampled to."""
    device: str = "auto"
    """Render device: auto (GPU when usable), cpu (llvm_ad_rgb) or gpu (cuda_ad_rgb)."""
    seed: int = 0
    """Seed for every random choice (RANSAC, sampling)."""
    estimate_download: str = "never"
    """When no estimates are given: never (use learned weights already on this machine, else the classical
    estimators) or auto (also try to download them; `photo2scene models fetch` pre-fetches)."""
    room: RoomConfig = field(default_factory=RoomConfig)
    objects: ObjectConfig = field(default_factory=ObjectConfig)
    materials_lights: MaterialLightConfig = field(default_factory=MaterialLightConfig)
