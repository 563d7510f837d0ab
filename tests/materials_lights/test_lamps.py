"""Which visible lamps become emitters: a lit lamp outshines the room; a white shade under a ceiling light does not."""

import numpy as np

from pipeline.core.case import Case, Segment
from pipeline.core.scene import Camera, Object, Part, Scene
from pipeline.stages.materials_lights.stage import _lamps
from pipeline.stages.materials_lights.state import Homogeneous


def _case(lamp_value: float, wall_value: float) -> tuple[Case, dict]:
    """A 20x20 photo: a wall strip with a lamp shade (4x4 pixels) on it over a dark floor (the median)."""
    seg = np.zeros((20, 20), np.int32)
    seg[:6] = 1  # wall
    seg[6:] = 2  # floor
    seg[1:5, 8:12] = 10  # lamp
    lin = np.full((20, 20, 3), 0.05, np.float32)
    lin[seg == 1] = wall_value
    lin[seg == 10] = lamp_value
    case = Case(lin ** (1 / 2.2), lin, 60.0, None, False, seg,
                [Segment(1, "wall", "stuff"), Segment(2, "floor", "stuff"), Segment(10, "lamp", "thing")])
    return case, {"lamp_1.shade": seg == 10}


def _run(lamp_value: float, wall_value: float):
    case, regions = _case(lamp_value, wall_value)
    scene = Scene(Camera([0, 0, 1.5], np.eye(3).tolist(), 60.0, 20, 20),
                  objects=[Object("lamp_1", [0.0, 0.0, 0.0], label="lamp",
                                   parts=[Part("shade", "meshes/lamp_1/shade.obj", "lamp_1.shade")])])
    states = {"lamp_1.shade": Homogeneous.create("lamp_1.shade", [0.9, 0.9, 0.9], 0.5)}
    notes: list[str] = []
    _lamps(scene, case, regions, states, min_brightness=4.0, notes=notes, over_room=1.5)
    return states["lamp_1.shade"].emission, notes


def test_a_lamp_brighter_than_the_room_emits_its_colour():
    emission, notes = _run(lamp_value=0.9, wall_value=0.3)
    assert emission is not None and np.allclose(emission, 0.9, atol=1e-6)
    assert "emits" in notes[0]


def test_a_shade_no_brighter_than_the_lit_wall_is_a_reflector():
    emission, notes = _run(lamp_value=0.4, wall_value=0.35)  # 8x the median (floor, 0.05), yet as bright as the wall
    assert emission is None
    assert "not an emitter" in notes[0]
