"""The sun through a window: found from the sunlit patch it throws (`sun.find_sun`), fitted with its own colour
(`initialise.fit_fills`), rendered through the window's light panel in Mitsuba (`scene_render.path_tracer`)."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.core.scene import Light
from pipeline.stages.materials_lights.lights_init import frame_facing
from pipeline.stages.materials_lights.sun import SunSearch, find_sun, lit_mask, sun_light, window_frames


def _floor_and_window(direction: np.ndarray, lit_gain: float = 2.5, size: int = 96):
    """A floor seen from above in a room whose wall y = 2 holds a 1.2 x 1.0 m window (1 to 2 m up), photographed
    with the sun's patch `lit_gain` times brighter than the rest, and a gentle brightness ramp (the window's sky
    light) that a patch search must not mistake for the sun."""
    window = Light("Window", "area", [0.0, 1.995, 1.5], frame_facing(np.array([0.0, -1.0, 0.0])).tolist(),
                   [1.2, 1.0], source="window")
    xs, ys = np.meshgrid(np.linspace(-2, 2, size), np.linspace(2, -2, size))
    points = np.stack([xs, ys, np.zeros_like(xs)], axis=-1)
    normals = np.broadcast_to([0.0, 0.0, 1.0], points.shape).copy()
    lit = lit_mask(points.reshape(-1, 3), normals.reshape(-1, 3), window_frames([window]),
                   direction).reshape(size, size)
    base = 0.1 * (1.0 + 0.5 * (ys + 2) / 4)[..., None] * np.array([0.9, 0.8, 0.7])
    photo = base * np.where(lit, lit_gain, 1.0)[..., None]
    search = SunSearch(points, normals, np.ones((size, size), np.int64), np.ones((size, size), bool),
                       photo.astype(np.float32))
    return search, window, lit


def _direction(elevation: float, azimuth: float) -> np.ndarray:
    el, az = np.radians(elevation), np.radians(azimuth)
    return -np.array([np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), np.sin(el)])


def test_the_sun_is_found_from_its_patch():
    truth = _direction(40.0, 110.0)  # from behind the window (outside, +y), a little to one side
    search, window, lit = _floor_and_window(truth)
    assert lit.sum() > 100, "the patch should be on the floor in view"
    patch = find_sun(search, [window])
    assert patch is not None
    angle = np.degrees(np.arccos(np.clip(patch.direction @ truth, -1, 1)))
    assert angle < 3.0, angle
    assert patch.step == pytest.approx(np.log(2.5), abs=0.1)
    sun = sun_light(patch, [window])
    assert sun.light.type == "sun" and sun.own_colour and sun.known
    assert np.allclose(-np.asarray(sun.light.rotation)[:, 2], patch.direction)  # shines along its local -Z
    assert sun.light.position[1] > 2.0, "placed outside, beyond the window"
    assert np.all(sun.radiance > 0)


def test_no_sun_without_a_patch():
    """A photo with only the window's smooth light (no sharp bright patch) gets no sun."""
    search, window, _ = _floor_and_window(_direction(40.0, 110.0), lit_gain=1.0)
    assert find_sun(search, [window]) is None
    assert find_sun(search, []) is None


def test_fit_gives_the_sun_its_own_colour():
    """Fills share one black-body colour; a sun in the same fit keeps its own (a warm sun beside cool fills)."""
    from pipeline.stages.materials_lights.colour_temperature import blackbody_rgb
    from pipeline.stages.materials_lights.initialise import fit_fills

    rng = np.random.default_rng(0)
    basis = [rng.uniform(0.0, 1.0, (12, 16, 3)) for _ in range(2)]
    sun = np.zeros((12, 16, 3))
    sun[3:7, 4:10] = rng.uniform(0.5, 1.0, (4, 6, 1))
    fills_t = 6500.0
    sun_rgb = np.array([1.2, 0.9, 0.5])
    target = (0.7 * basis[0] + 0.3 * basis[1]) * blackbody_rgb(fills_t) + sun * sun_rgb
    keep = np.ones((12, 16), bool)
    powers, kelvin, residual, own = fit_fills(basis, target, keep, np.array([0.5, 0.5, 1.0]),
                                              np.geomspace(2200.0, 7500.0, 24), ridge=1e-4,
                                              own=[(sun, sun_rgb / 1.5)])
    assert abs(kelvin - fills_t) < 400
    assert np.allclose(powers, [0.7, 0.3], atol=0.05)
    assert own[0] == pytest.approx(1.5, abs=0.05)
    assert residual < 0.01


def test_a_sun_shines_through_the_window_panel_in_mitsuba():
    """Mitsuba's plain path tracers stop shadow rays at the window's light panel (a `null` surface); with a sun
    the scene renders with a volumetric one, which passes it, as Blender's light objects are not geometry."""
    from tests.box_case import DEVICE
    from pipeline.render.backend import init_mitsuba
    from pipeline.render.scene_render import light_dict, path_tracer

    init_mitsuba(DEVICE)
    import mitsuba as mi

    d = np.array([0.3, 0.0, -1.0]) / np.linalg.norm([0.3, 0.0, -1.0])
    sun = Light("Sun", "sun", [0.0, 0.0, 5.0], frame_facing(d).tolist(), color=[1.0, 1.0, 1.0], power_w=2.0)
    panel = Light("Window", "area", [0.0, 0.0, 1.0], np.eye(3).tolist(), [2.0, 2.0], power_w=0.0)
    assert path_tracer([panel]) == "prb" and path_tracer([panel, sun]) == "prbvolpath"
    assert path_tracer([panel, sun], differentiable=False) == "volpath"

    def floor(integrator: str) -> float:
        scene = mi.load_dict({
            "type": "scene", "integrator": {"type": integrator, "max_depth": 4},
            "sensor": {"type": "perspective", "fov": 40,
                       "to_world": mi.ScalarTransform4f().look_at(origin=[0, 0, 3], target=[0, 0, 0], up=[0, 1, 0]),
                       "film": {"type": "hdrfilm", "width": 16, "height": 16, "rfilter": {"type": "box"}}},
            "floor": {"type": "rectangle", "bsdf": {"type": "diffuse", "reflectance": {"type": "rgb", "value": 0.5}}},
            "panel": light_dict(panel), "sun": light_dict(sun)})
        # Light sampling picks one emitter per sample: the mean over the floor's middle, at 256 spp.
        return float(np.array(mi.render(scene, spp=256))[6:10, 6:10, 0].mean())

    expected = 0.5 * 2.0 * abs(d[2]) / np.pi  # albedo x irradiance x cos / pi
    assert floor(path_tracer([panel, sun])) == pytest.approx(expected, rel=0.05)
    assert floor("prb") < 0.1 * expected  # why: the panel shadows the floor


@pytest.mark.blender
def test_a_sun_through_a_window_renders_alike_in_mitsuba_and_cycles(tmp_path):
    """A window opening with its light panel, its backdrop behind the glass and a Sun shining through them onto
    the floor: the add-on's build rendered by Cycles matches the pipeline's Mitsuba scene (`path_tracer` picks
    the volumetric tracer that lets the sun past the panel; the backdrop is `null` to light there, as Blender's
    is camera-only), patch included, and the sun's strength is Blender's W/m^2. (The backdrop is dark here: the
    camera's picture of it is the stage's composite, tested in test_openings.py.)"""
    pytest.importorskip("bpy")
    from tests.box_case import DEVICE
    from tests.materials_lights.ml_fixtures import add_window, small_scene, write_bundle
    from p2s_common.images import linear_to_srgb
    from pipeline.app.export.mitsuba_xml import scene_materials
    from pipeline.core.image_metrics import psnr
    from pipeline.render.backend import init_mitsuba
    from pipeline.render.cycles import render_bundle
    from pipeline.render.scene_render import RenderSettings, load_scene, path_tracer, render_numpy, scene_dict

    scene, files = small_scene(80, 60)
    window = add_window(scene, [0.0, 0.0, 0.0], 20.0)
    d = np.array([-0.2, -0.7, -0.7]) / np.linalg.norm([-0.2, -0.7, -0.7])
    scene.lights.append(Light("Sun", "sun", (np.asarray(window.position) - 3 * d).tolist(), frame_facing(d).tolist(),
                              color=[1.0, 0.9, 0.75], power_w=4.0, source="sun", role="Sun"))
    bundle = write_bundle(scene, files, tmp_path / "sun.bundle")
    init_mitsuba(DEVICE)
    cycles = render_bundle(bundle, samples=512, max_depth=6, seed=1)
    maps = scene_materials(scene, files.read)

    def mitsuba(lights) -> np.ndarray:
        settings = RenderSettings(80, 60, 512, 6, path_tracer(lights, differentiable=False),
                                  extra={"hide_emitters": True})
        return render_numpy(load_scene(scene_dict(scene, maps, settings, lights=lights, read=files.read)), seed=2)

    with_sun, without = mitsuba(scene.lights), mitsuba(scene.lights[:-1])
    patch = with_sun.mean(-1) > 1.5 * without.mean(-1) + 0.02
    assert patch.mean() > 0.03, "the sun's patch should be in view"
    value = psnr(linear_to_srgb(cycles), linear_to_srgb(with_sun))
    in_patch = float(np.median(cycles[patch].mean(-1) / with_sun[patch].mean(-1)))
    print(f"sun through a window, Cycles vs Mitsuba: PSNR {value:.2f} dB, patch {patch.mean():.1%} of the "
          f"picture, brightness ratio there {in_patch:.3f}")
    assert value >= 30.0
    assert 0.93 < in_patch < 1.07


def test_a_window_the_border_cuts_is_widened_as_far_as_its_patch_says():
    """The room stage fits a window's hole to what the photo shows; when the photo's border cuts it, the sun's
    patch (thrown by the whole window) says how far it reaches: the search widens it to about the true width."""
    from blender_addon.scene_format import Opening, face_frame
    from pipeline.core.scene import Room
    from pipeline.stages.materials_lights.sun import opening_frame, reach_of_cut_windows, widened

    room = Room([0.0, 0.0, 1.3], [4.0, 3.5, 2.6], 0.0, {})
    true = Opening("window_7", "window", "wall_y_max", [1.0, 0.9, 2.6, 2.1], {}, 7)
    seen = widened(true, 0, 1.0)
    seen.rect[0] = 1.8  # the photo shows only its part from 1.8 m on
    origin, eu, _, n, _, _ = (np.asarray(x, float) for x in face_frame(room, "wall_y_max"))
    direction = 0.6 * n + np.array([0.0, 0.0, -0.8])  # into the room (n: inward), down
    direction /= np.linalg.norm(direction)
    size = 128
    xs, ys = np.meshgrid(np.linspace(-2, 2, size), np.linspace(-1.75, 1.75, size))
    points = np.stack([xs, ys, np.zeros_like(xs)], axis=-1)
    normals = np.broadcast_to([0.0, 0.0, 1.0], points.shape).copy()
    lit = lit_mask(points.reshape(-1, 3), normals.reshape(-1, 3), [opening_frame(room, true)],
                   direction).reshape(size, size)
    photo = (0.1 * np.where(lit, 3.0, 1.0)[..., None] * np.ones(3)).astype(np.float32)
    search = SunSearch(points, normals, np.ones((size, size), np.int64), np.ones((size, size), bool), photo)
    (wide,) = reach_of_cut_windows(search, room, [seen], {"window_7": [0]}, direction)
    assert wide.rect[0] == pytest.approx(1.0, abs=0.1)
    assert wide.rect[1:] == seen.rect[1:]
    (kept,) = reach_of_cut_windows(search, room, [true], {}, direction)  # not cut: left as it is
    assert kept.rect == true.rect


def test_cut_ends_names_the_end_at_the_photos_border():
    """A window whose segment touches the photo's left border is cut at the end projected nearer that border."""
    from blender_addon.scene_format import Opening, face_frame
    from pipeline.core.geometry import project
    from pipeline.core.scene import Camera, Room
    from pipeline.stages.materials_lights.sun import cut_ends

    room = Room([0.0, 0.0, 1.3], [4.0, 3.5, 2.6], 0.0, {})
    window = Opening("window_7", "window", "wall_y_max", [1.0, 0.9, 2.6, 2.1], {}, 7)
    cam = Camera([0.0, -1.0, 1.4], [[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]], 60.0, 64, 48)
    origin, eu, ev, _, _, _ = (np.asarray(x, float) for x in face_frame(room, "wall_y_max"))
    ends = np.stack([origin + eu * u + ev * 1.5 for u in (1.0, 2.6)])
    x = project(cam.world_to_camera(ends), 64, 48, 60.0)[:, 0]
    mask = np.zeros((48, 64), bool)
    mask[10:30, :20] = True  # touches the left border
    expected = 0 if x[0] < x[1] else 2
    assert cut_ends(window, room, cam, mask) == [expected]
    mask[:] = False
    mask[10:30, 20:40] = True
    assert cut_ends(window, room, cam, mask) == []


def test_sun_strength_is_irradiance_both_ways():
    """A Blender Sun's strength (W/m^2) is the irradiance the renderers use: scene.json -> Mitsuba and back."""
    from pipeline.render.scene_render import light_dict, light_radiance, light_watts, sun_direction

    d = np.array([0.2, -0.5, -0.8]) / np.linalg.norm([0.2, -0.5, -0.8])
    sun = Light("Sun", "sun", [0.0, 0.0, 5.0], frame_facing(d).tolist(), color=[1.0, 0.9, 0.8], power_w=12.0)
    assert np.allclose(light_radiance(sun), [12.0, 10.8, 9.6])
    assert np.allclose(sun_direction(sun), d)
    power, colour = light_watts(sun, light_radiance(sun))
    assert power == pytest.approx(12.0) and np.allclose(colour, [1.0, 0.9, 0.8])
    emitter = light_dict(sun, scale=0.5)  # the camera's exposure divides scene units
    assert emitter["type"] == "directional" and np.allclose(emitter["direction"], d)
    assert np.allclose(emitter["irradiance"]["value"], [6.0, 5.4, 4.8])


def test_the_stage_finds_the_sun_of_a_photo_and_writes_it(tmp_path):
    """The stage end to end on a photo that is the Mitsuba render of a room with a window and a sun through it
    (ml_fixtures): it places a Sun close to the true direction, renders with the volumetric tracer, says so in the
    log as it happens, and writes the Sun into the Scene in W/m^2 with its role."""
    import copy

    from tests.materials_lights.ml_fixtures import add_window, placeholder_scene, small_scene, synthetic_case
    from pipeline.core.events import Silent
    from pipeline.stages.config import ReconstructConfig
    from pipeline.stages.materials_lights import stage as materials_lights
    from tests.box_case import DEVICE

    truth, truth_files = small_scene(160, 120)
    add_window(truth, [1.2, 1.3, 1.5], 20.0)
    d = np.array([-0.2, -0.5, -1.0]) / np.linalg.norm([-0.2, -0.5, -1.0])  # its patch on the floor, in view
    truth.lights.append(Light("Sun", "sun", [0.0, 5.0, 5.0], frame_facing(d).tolist(), color=[1.0, 0.95, 0.9],
                              power_w=12.0, source="sun", role="Sun"))
    case = synthetic_case(truth, truth_files, spp=256)
    scene = placeholder_scene(truth)
    config = ReconstructConfig(device=DEVICE)
    cfg = config.materials_lights
    cfg.iters, cfg.spp, cfg.final_spp, cfg.init_rounds, cfg.retrieval = 4, 8, 16, 2, "none"
    events = Silent()  # it keeps the log lines it would print (Events.lines)
    scene = materials_lights.run(scene, case, config, events, copy.deepcopy(truth_files))
    (sun,) = [li for li in scene.lights if li.type == "sun"]
    found = -np.asarray(sun.rotation)[:, 2]
    assert np.degrees(np.arccos(np.clip(found @ d, -1, 1))) < 5.0
    assert sun.role == "Sun" and sun.source == "sun" and sun.power_w > 0
    stage = scene.stages["materials_lights"]
    assert stage["render"]["integrator"] == "prbvolpath"
    assert any("sun through the window" in m for m in events.lines), events.lines
