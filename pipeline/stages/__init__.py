"""Stages: each is `run(scene, case, config, events) -> scene` and talks to the others only through the Scene."""

STAGE_ORDER = ("room", "objects", "materials_lights")
