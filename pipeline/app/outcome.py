"""The loud outcome of a run: what the estimators were and what went poorly, said in the last lines.

A run can finish (exit 0) with a scene that is not worth opening: no furniture, or a room box that does not fit
the photo's own surface masks. That must not be left to progress-bar lines. `run_outcome` measures it from the
stage records; reconstruct prints its lines last and stores them in scene.json's `stages.outcome`, which the
report shows and the add-on can read (docs/scene_format.md).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

MIN_ROOM_IOU = 0.5
"""Below this mean IoU of the room box with the wall / floor / ceiling masks, the room is called a poor fit."""

FETCH_HINT = "pip install -e '.[learned]' && photo2scene models fetch"


@dataclass
class Outcome:
    """scene.json's `stages.outcome`."""

    status: str = "ok"
    """ok | poor: poor when any warning below was raised."""
    warnings: list[str] = field(default_factory=list)
    estimators: str = ""
    """Which estimators made the estimates ('' when all were given)."""
    objects: int = 0
    room_iou: float | None = None
    """Mean IoU of the refined room box with its own surface masks."""

    def to_dict(self) -> dict:
        return asdict(self)

    def lines(self) -> list[str]:
        """The last lines of a run's output."""
        out = [f"estimators: {self.estimators}"] if self.estimators else []
        out += [f"WARNING: {w}" for w in self.warnings]
        if not self.warnings:
            iou = f", room fits its masks at IoU {self.room_iou:.2f}" if self.room_iou is not None else ""
            out.append(f"outcome: {self.objects} objects{iou}")
        return out


def estimators_line(provenance: dict | None) -> str:
    """One line from estimate_case's provenance: which backend made each estimate, what quality to expect, and
    the command that fetches the learned models when a classical one ran. '' when nothing was estimated."""
    if not provenance:
        return ""
    cam = (provenance.get("camera") or {}).get("source", "?")
    depth = (provenance.get("depth") or {}).get("source", "none")
    seg = (provenance.get("segmentation") or {}).get("source", "?")
    line = f"camera {cam}; depth {depth}; segmentation {seg}"
    if "learned" not in seg or depth == "none":
        line += (". Without the learned models expect a rough room box (scale from a height prior) and furniture"
                 f" only as unnamed proposals; for better results: {FETCH_HINT}")
    return line


def run_outcome(stages: dict, objects: int, estimators: str = "") -> Outcome:
    """The outcome from the stage records of scene.json (`stages`) and the number of objects."""
    out = Outcome(estimators=estimators, objects=objects)
    room = stages.get("room") or {}
    ious = [float(v) for v in (room.get("iou_after") or {}).values()
            if isinstance(v, (int, float)) and math.isfinite(v)]
    if ious:
        out.room_iou = round(sum(ious) / len(ious), 3)
        if out.room_iou < MIN_ROOM_IOU:
            out.warnings.append(f"the room box fits its own wall/floor/ceiling masks poorly (mean IoU "
                                f"{out.room_iou:.2f} < {MIN_ROOM_IOU}): check the masks, or label the surfaces "
                                "with clicks (photo2scene serve) and refine")
    if objects == 0:
        out.warnings.append("no furniture was reconstructed: the segmentation named no objects; label them with "
                            "clicks (photo2scene serve) or give object masks in segments.json")
    out.status = "poor" if out.warnings else "ok"
    return out
