"""Stages: each is `run(scene, case, config, events, files) -> scene` and talks to the others only through the
Scene; the files scene.json refers to go through `files` (pipeline.core.bundle.BundleFiles).

STAGES is the one list of them, in running order: a new stage is a package beside these and a line here. The app
runs them from this list (no module names looked up by string), and `refine --from-stage` takes their names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from .materials_lights import stage as materials_lights_stage
from .materials_lights.record import MaterialsLightsRecord
from .objects import stage as objects_stage
from .objects.record import ObjectsRecord
from .room import stage as room_stage
from .room.record import RoomRecord


@dataclass(frozen=True)
class Stage:
    """A stage as the app runs it."""

    name: str
    """Its key in scene.json's `stages` and its name for `refine --from-stage`."""
    run: Callable
    """`run(scene, case, config, events, files) -> scene`."""
    record: type
    """The dataclass of what it measured, stored (as a dict) in scene.stages[name]."""


STAGES: tuple[Stage, ...] = (
    Stage("room", room_stage.run, RoomRecord),
    Stage("objects", objects_stage.run, ObjectsRecord),
    Stage("materials_lights", materials_lights_stage.run, MaterialsLightsRecord),
)


def stage_names() -> tuple[str, ...]:
    """The stages' names, in running order."""
    return tuple(stage.name for stage in STAGES)


def stages_from(name: str) -> tuple[Stage, ...]:
    """The stage called `name` and those after it; KeyError for an unknown name."""
    names = stage_names()
    if name not in names:
        raise KeyError(name)
    return STAGES[names.index(name):]
