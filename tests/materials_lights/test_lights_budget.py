"""Lights as an artist reads them and as a budget: fills merged and named by role, one black-body colour
temperature shared by the fills, the light initialisation's renders bounded whatever the room's size, caps on
iterations and samples, and a material+light run that repeats exactly."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from ml_fixtures import DEVICE


def test_blackbody_colours_and_their_inverse():
    import torch

    from pipeline.stages.materials_lights.colour_temperature import (LUMINANCE, blackbody_rgb, blackbody_rgb_torch,
                                                                     temperature_of)

    warm, white, cool = blackbody_rgb(2700.0), blackbody_rgb(6500.0), blackbody_rgb(12000.0)
    assert warm[0] > warm[1] > warm[2] > 0  # incandescent: orange
    assert white.max() / white.min() < 1.12  # near D65
    assert cool[2] > cool[0]  # sky blue
    for rgb in (warm, white, cool):
        assert float(rgb @ LUMINANCE) == pytest.approx(1.0, abs=1e-6)
    for kelvin in (2200.0, 3000.0, 4500.0, 7000.0):
        assert temperature_of(3.0 * blackbody_rgb(kelvin)) == pytest.approx(kelvin, abs=20.0)
    assert temperature_of(blackbody_rgb(9000.0), 2200.0, 7500.0) == 7500.0  # clamped to the range asked
    k = torch.tensor(3000.0, requires_grad=True)
    rgb = blackbody_rgb_torch(k)
    assert np.allclose(rgb.detach().numpy(), blackbody_rgb(3000.0), atol=2e-3)
    rgb[2].backward()
    assert float(k.grad) > 0  # hotter is bluer


def test_fill_fit_recovers_one_shared_temperature():
    from pipeline.stages.materials_lights.colour_temperature import blackbody_rgb
    from pipeline.stages.materials_lights.initialise import fit_fills

    rng = np.random.default_rng(3)
    h, w = 12, 16
    # Each light's unit-white render: a smooth falloff over the image, tinted by the room's albedos.
    yy, xx = np.mgrid[0:h, 0:w]
    albedo = rng.uniform(0.3, 0.8, (h, w, 3))
    basis = [albedo * np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / 60.0)[..., None] for cx, cy in
             ((2, 3), (12, 4), (8, 10))]
    powers, kelvin = np.array([0.6, 1.8, 1.1]), 3100.0
    target = sum(p * blackbody_rgb(kelvin) * b for p, b in zip(powers, basis))
    keep = np.ones((h, w), bool)
    fitted, t_fit, residual, _ = fit_fills(basis, target, keep, np.ones(3), np.geomspace(2200.0, 7500.0, 24),
                                        ridge=1e-4)
    assert t_fit == pytest.approx(kelvin, rel=0.06)
    assert np.allclose(fitted, powers, rtol=0.1), fitted
    assert residual < 0.02 * float(target.mean())


def test_ceiling_grid_is_merged_and_fills_are_named_by_role(tmp_path):
    from box_case import write_box_case

    from pipeline.core.case import load_case
    from pipeline.stages.materials_lights.lights_init import initial_lights

    # A large hall: PSDR-Room's 1 m grid would put ~100 panels in front of the camera.
    truth = write_box_case(tmp_path, width=64, height=48, room_size=(16.0, 12.0, 3.0), camera_xy=(0.0, -4.0))
    case = load_case(tmp_path / "photo.png", tmp_path / "estimates")
    lights = initial_lights(truth["camera"], truth["room"], case, grid_m=1.0, ceiling_panels=4)
    ceiling = [li for li in lights if li.source == "ceiling"]
    assert 1 <= len(ceiling) <= 4 and len(lights) <= 4 + 1 + 4
    assert {li.light.name for li in ceiling} <= {"Ceiling lamp", "Ceiling lamp 1", "Ceiling lamp 2", "Ceiling lamp 3",
                                                 "Ceiling lamp 4"}
    assert any(li.light.name == "Fill behind camera" for li in lights)
    assert all(li.light.source == li.source for li in lights)
    # Merged panels cover the kept cells: together, most of the ceiling in front of the camera.
    area = sum(li.light.size[0] * li.light.size[1] for li in ceiling)
    assert area > 0.25 * 16.0 * 12.0


def test_budget_caps_are_one_line_errors():
    from p2s_common.errors import InputError
    from pipeline.stages.materials_lights.config import MaterialLightConfig, check_budgets

    check_budgets(MaterialLightConfig())
    with pytest.raises(InputError, match=r"iters=1000000000 is over the cap materials_lights.max_iters=1000; "
                                         r"raise it with --materials-lights.max-iters"):
        check_budgets(MaterialLightConfig(iters=10 ** 9))
    with pytest.raises(InputError, match="final_spp=1000000 is over the cap materials_lights.max_spp"):
        check_budgets(MaterialLightConfig(final_spp=10 ** 6))
    with pytest.raises(InputError, match="expected a whole number"):
        check_budgets(MaterialLightConfig(spp=1e6))  # a float from a hand-edited config.json
    check_budgets(MaterialLightConfig(iters=5000, max_iters=5000))  # the user raised the cap


@pytest.fixture(scope="module")
def hall_runs(tmp_path_factory):
    """A bare photo of a 14 x 10 m hall (four wall segments, floor, ceiling), the stage run twice alike."""
    from box_case import write_box_case

    from pipeline.core.case import load_case
    from pipeline.core.events import Silent
    from pipeline.core.scene import MaterialEntry, Room, Scene
    from pipeline.stages.config import ReconstructConfig
    from pipeline.stages.materials_lights import stage as materials_lights

    folder = tmp_path_factory.mktemp("hall")
    truth = write_box_case(folder, width=48, height=36, room_size=(14.0, 10.0, 3.0), camera_xy=(0.0, -3.0))
    case = load_case(folder / "photo.png", folder / "estimates")
    room = truth["room"]
    faces = ("floor", "ceiling", "wall_x_min", "wall_x_max", "wall_y_min", "wall_y_max")
    scene = Scene(camera=truth["camera"], room=Room(room.center, room.size, room.yaw_deg,
                                                    {f: f"room_{'wall' if 'wall' in f else f}" for f in faces}))
    scene.materials = {n: MaterialEntry.principled([0.5, 0.5, 0.5], 0.8, 0.0)
                       for n in ("room_floor", "room_ceiling", "room_wall")}
    config = ReconstructConfig(device=DEVICE)
    cfg = config.materials_lights
    cfg.iters, cfg.spp, cfg.init_spp, cfg.final_spp, cfg.validate_spp, cfg.init_rounds = 4, 4, 4, 8, 4, 2
    cfg.validate_every, cfg.texture_search, cfg.retrieval = 2, 0, "none"
    return [materials_lights.run(copy.deepcopy(scene), case, config, Silent()) for _ in range(2)], cfg, case


def test_light_initialisation_cost_is_bounded_on_a_big_room(hall_runs):
    (scene, _), cfg, _ = hall_runs
    stage = scene.stages["materials_lights"]
    fills = [d for d in stage["lights"] if d["source"] != "window"]
    assert len(scene.lights) <= cfg.ceiling_panels + 1 + 4
    # Renders of the initialisation: two grey-world and two coloured ones, then per round one per fill and two.
    assert stage["init"]["refine"]["renders"] <= 4 + cfg.init_rounds * (len(fills) + 2)
    kelvins = {li.temperature_k for li in scene.lights}
    assert len(kelvins) == 1 and cfg.temperature_min_k <= kelvins.pop() <= cfg.temperature_max_k
    assert all(li.power_w > 0 for li in scene.lights)


def test_the_stage_never_ends_worse_and_repeats_exactly(hall_runs):
    (first, second), _, _ = hall_runs
    a, b = first.stages["materials_lights"], second.stages["materials_lights"]
    assert a["metrics"]["psnr_db"] >= a["metrics_init"]["psnr_db"]
    assert [li.to_dict() for li in first.lights] == [li.to_dict() for li in second.lights]
    for name, spec in first.materials.items():
        assert np.allclose(spec.base_color, second.materials[name].base_color, rtol=1e-4, atol=0), name
    assert a["metrics"] == b["metrics"]


def test_a_locked_light_and_material_stay_as_the_artist_set_them(hall_runs):
    """Refine (a re-run of the stage on the edited scene) keeps locked items exactly; the others are fitted."""
    from pipeline.core.events import Silent
    from pipeline.stages.config import ReconstructConfig
    from pipeline.stages.materials_lights import stage as materials_lights

    (scene, _), cfg, case = hall_runs
    edited = copy.deepcopy(scene)
    lamp = edited.lights[0]
    lamp.power_w, lamp.color, lamp.locked = 20.0, [1.0, 0.7, 0.4], True  # a warm 20 W, as the artist set it
    edited.materials["room_floor"].base_color = [0.4, 0.1, 0.1]
    edited.materials["room_floor"].locked = True
    config = ReconstructConfig(device=DEVICE)
    config.materials_lights = copy.deepcopy(cfg)
    again = materials_lights.run(edited, case, config, Silent())
    kept = next(li for li in again.lights if li.name == lamp.name)
    assert kept.to_dict() == lamp.to_dict()
    assert again.materials["room_floor"].base_color == [0.4, 0.1, 0.1] and again.materials["room_floor"].locked
    others = [li for li in again.lights if li.name != lamp.name]
    assert others and all(not li.locked for li in others)
    before = {li.name: li.power_w for li in scene.lights}
    assert any(li.power_w != before[li.name] for li in others)  # the unlocked ones were fitted again
