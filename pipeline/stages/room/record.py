"""What the room stage measured: scene.json's `stages.room` (docs/room_stage.md)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(kw_only=True)
class RoomRecord:
    """Every key the room stage writes into scene.json's `stages.room`, typed."""

    status: str = "done"
    iou_before: dict[str, float]
    """Soft IoU of each surface kind (wall, floor, ceiling) with its mask, after the geometric fit."""
    iou_after: dict[str, float]
    """The same after the differentiable refinement."""
    losses: list[float] = field(default_factory=list)
    """The refinement's loss per iteration."""
    initial_room: dict
    """The geometric fit's room (scene.json form), which the report draws beside the refined one."""
    initial_camera: dict
    """The geometric fit's camera (scene.json form)."""
    seconds: float
    seconds_fit: float
    seconds_per_iteration: float = 0.0
    seconds_forward_render: float = 0.0
    optimiser: dict = field(default_factory=dict)
    """The optimisation harness's summary (pipeline/core/optimise.py); empty without refinement."""
    notes: list[str] = field(default_factory=list)
    """What the fit had to guess (an unseen wall, no ceiling, ...)."""
    openings: list[str] = field(default_factory=list)
    """Names of the windows and doors cut into the walls (scene.json's `room.openings`)."""

    def to_dict(self) -> dict:
        """scene.json's form."""
        return asdict(self)
