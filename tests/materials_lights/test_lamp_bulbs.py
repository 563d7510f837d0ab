"""A lamp the photo shows gets a bulb: a sphere light in front of its brightest pixels whose power the fits set."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from ml_fixtures import DEVICE, placeholder_scene, small_scene, synthetic_case


def test_the_bulb_sits_in_front_of_the_lamps_brightest_pixels():
    from pipeline.core.case import Case, Segment
    from pipeline.core.scene import Camera, Object
    from pipeline.stages.materials_lights.lights_init import lamp_lights

    # A camera 1 m up looking along +y (its local -Z; rotation columns: its x, y, z axes in the world).
    cam = Camera([0.0, 0.0, 1.0], [[1, 0, 0], [0, 0, -1], [0, 1, 0]], 60.0, 40, 30)
    seg = np.zeros((30, 40), np.int32)
    seg[10:20, 15:25] = 10
    lin = np.full((30, 40, 3), 0.1, np.float32)
    lin[13:15, 18:22] = 0.9  # the lit shade, just above the image centre
    case = Case(lin ** (1 / 2.2), lin, 60.0, None, False, seg, [Segment(10, "lamp", "thing")])
    lamp = Object("lamp_1", [0.0, 3.0, 0.5], label="lamp", segment_id=10, size=[0.4, 0.4, 0.8])
    other = Object("chair_1", [1.0, 3.0, 0.0], label="chair", segment_id=10, size=[0.5, 0.5, 0.9])
    unseen = Object("lamp_2", [0.0, 3.0, 0.0], label="lamp", segment_id=99, size=[0.4, 0.4, 0.6])
    (bulb,) = lamp_lights(cam, [lamp, other, unseen], case, fill_area=2.0, radius=0.05)
    light = bulb.light
    assert light.type == "point" and light.radius == 0.05 and light.role == "Lamp" and bulb.source == "lamp"
    pos = np.asarray(light.position)
    assert 2.7 < pos[1] < 2.8 - 0.05 + 0.01  # in front of the box's face at y = 2.8, by the radius and 2 cm
    assert 1.05 < pos[2] < 1.15  # the ray through the bright rows looks up a little
    assert bulb.unit == pytest.approx(2.0 / (4 * np.pi * 0.05 ** 2))
    assert not bulb.known


@pytest.fixture(scope="module")
def runs():
    """The small room lit by its ceiling panels and a bulb above the box (a lamp on a cabinet); the stage run with
    bulbs and without."""
    from pipeline.core.events import Silent
    from pipeline.core.scene import Light
    from pipeline.stages.config import ReconstructConfig
    from pipeline.stages.materials_lights import stage as materials_lights

    truth, truth_files = small_scene(120, 90)
    box = truth.objects[0]
    box.label, box.size = "lamp", [0.8, 0.6, 0.7]
    truth.lights = truth.lights[:2] + [Light("Bulb", "point", [-0.3, 0.6, 0.8], radius=0.05,
                                             color=[1.0, 0.75, 0.5], power_w=60.0)]
    case = synthetic_case(truth, truth_files, spp=512)
    out = {}
    for bulbs in (0, 1):
        config = ReconstructConfig(device=DEVICE)
        cfg = config.materials_lights
        cfg.iters, cfg.spp, cfg.final_spp, cfg.init_rounds, cfg.retrieval = 6, 8, 32, 2, "none"
        cfg.lamp_lights = bulbs
        out[bulbs] = materials_lights.run(placeholder_scene(truth), case, config, Silent(),
                                          copy.deepcopy(truth_files))
    return out


def test_a_lit_lamp_gets_a_bulb_of_plausible_power(runs):
    scene = runs[1]
    bulbs = [li for li in scene.lights if li.role == "Lamp"]
    assert len(bulbs) == 1 and bulbs[0].type == "point" and bulbs[0].radius == 0.05
    assert bulbs[0].power_w > 1.0, bulbs[0]
    entry = next(e for e in scene.stages["materials_lights"]["lights"] if e["source"] == "lamp")
    assert entry["power_w"] == bulbs[0].power_w
    scene.to_dict()  # a valid scene.json
    assert not any(li.role == "Lamp" for li in runs[0].lights)


def test_the_bulb_brings_the_render_closer_to_the_photo(runs):
    with_bulb = runs[1].stages["materials_lights"]["metrics"]["psnr_db"]
    without = runs[0].stages["materials_lights"]["metrics"]["psnr_db"]
    print(f"photo PSNR with the bulb {with_bulb:.2f} dB, without {without:.2f} dB")
    assert with_bulb > without + 0.5
