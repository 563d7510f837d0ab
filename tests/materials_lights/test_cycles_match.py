"""The Blender export renders like the Mitsuba scene the stage optimised (PSDR-Room's output requirement).

A small room (box object, three area lights, Principled materials) is written as a bundle, built by the add-on's
builders and rendered by Cycles; the same scene is rendered by Mitsuba from `scene_dict` (the stage's one
construction). Both use 4 indirect bounces and hide lights from the camera; the PSNR of the sRGB images must be
>= 30 dB at 80x60 and the median per-pixel ratio within 5 % of 1 (no systematic brightness bias).
"""

from __future__ import annotations

import numpy as np
import pytest

from ml_fixtures import DEVICE, small_scene, write_bundle

pytestmark = pytest.mark.blender


def _render_both(scene, files, folder, spp: int) -> tuple[np.ndarray, np.ndarray]:
    """(Cycles, Mitsuba) linear renders of `scene`: the bundle through the add-on's builders, and `scene_dict`."""
    from pipeline.app.export.mitsuba_xml import scene_materials
    from pipeline.render.backend import init_mitsuba
    from pipeline.render.cycles import render_bundle
    from pipeline.render.scene_render import RenderSettings, load_scene, render_numpy, scene_dict

    bundle = write_bundle(scene, files, folder)
    init_mitsuba(DEVICE)
    cycles = render_bundle(bundle, samples=spp, max_depth=6, seed=1)
    cam = scene.camera
    settings = RenderSettings(cam.width, cam.height, spp, 6, "path", extra={"hide_emitters": True})
    mitsuba = render_numpy(load_scene(scene_dict(scene, scene_materials(scene, files.read), settings,
                                                 read=files.read)), seed=2)
    return cycles, mitsuba


def _agreement(cycles: np.ndarray, mitsuba: np.ndarray, what: str) -> tuple[float, float]:
    """(PSNR in sRGB, median per-pixel brightness ratio) of the Cycles render against Mitsuba's, printed."""
    from pipeline.core.image_metrics import psnr
    from p2s_common.images import linear_to_srgb

    value = psnr(linear_to_srgb(cycles), linear_to_srgb(mitsuba))
    ratio = float(np.median(cycles.mean(-1) / np.maximum(mitsuba.mean(-1), 1e-4)))
    print(f"Cycles vs Mitsuba{what}: PSNR {value:.2f} dB, median ratio {ratio:.3f}")
    return value, ratio


def test_cycles_render_matches_mitsuba(tmp_path):
    pytest.importorskip("bpy")
    cycles, mitsuba = _render_both(*small_scene(80, 60), tmp_path / "small.bundle", 512)
    assert cycles.shape == mitsuba.shape == (60, 80, 3)
    assert 0.05 < float(np.median(mitsuba)) < 1.0, "the scene should be neither black nor blown out"
    value, ratio = _agreement(cycles, mitsuba, "")
    assert value >= 30.0
    assert 0.95 < ratio < 1.05


def test_cycles_matches_mitsuba_with_procedural_materials(tmp_path):
    """Procedural walls, floor and box (brick, marble, terrazzo, at texture scales 1, 2 and 1.5, the floor turned
    by 30 degrees) render alike: Blender evaluates the node trees across each surface and neither per-brick tints
    nor marble veins repeat from one UV tile to the next, so the renderer's maps must span the surfaces' tiles.
    Measured at 80x60 / 256 spp: 32.5 dB (one repeated tile, as before: 28.1 dB)."""
    pytest.importorskip("bpy")
    from materials_db import load_graph
    from pipeline.core.image_metrics import psnr
    from p2s_common.images import linear_to_srgb
    from pipeline.stages.materials_lights.state import Procedural

    scene, files = small_scene(80, 60)
    for slot, library, scale, rotation in (("room_wall", "brick_wall_red", 1.0, 0.0),
                                           ("room_floor", "marble_carrara", 2.0, 30.0),
                                           ("box_1.body", "terrazzo_grey", 1.5, 0.0)):
        entry, made = Procedural.create(slot, load_graph(library), scale, rotation).entry()
        scene.materials[slot] = entry
        files.write_all(made)
    cycles, mitsuba = _render_both(scene, files, tmp_path / "procedural.bundle", 256)
    value = psnr(linear_to_srgb(cycles), linear_to_srgb(mitsuba))
    print(f"Cycles vs Mitsuba, procedural materials: PSNR {value:.2f} dB")
    assert value >= 30.0


def test_cycles_matches_mitsuba_under_the_camera_exposure(tmp_path):
    """Lights in plausible watts with the camera's exposure (scene.json camera.exposure_ev; Cycles' film exposure)
    render as the photo-unit scene did, in Cycles and in Mitsuba, lamp emission included."""
    pytest.importorskip("bpy")
    from pipeline.core.image_metrics import psnr
    from p2s_common.images import linear_to_srgb

    scene, files = small_scene(80, 60)
    scene.materials["box_1.body"].emission = [1.5, 1.2, 0.8]  # a glowing part, in the photo's units
    plain = _render_both(scene, files, tmp_path / "plain.bundle", 256)
    scene.camera.exposure_ev = 5.0
    for light in scene.lights:
        light.power_w *= 32.0
    exposed = _render_both(scene, files, tmp_path / "exposed.bundle", 256)
    for before, after in zip(plain, exposed):  # Cycles, then Mitsuba: each the same picture as before
        assert psnr(linear_to_srgb(before), linear_to_srgb(after)) >= 30.0
        ratio = float(np.median(after.mean(-1) / np.maximum(before.mean(-1), 1e-4)))
        assert 0.97 < ratio < 1.03, ratio
    # (Cycles against Mitsuba is the test above: here Mitsuba's hide_emitters hides the glowing box from the camera,
    # which the stage's final picture composites back and Cycles shows.)


def test_cycles_matches_mitsuba_with_a_lamp_bulb(tmp_path):
    """A lamp's light: a point light with a radius (a sphere of light in both renderers, its power in watts
    converted through its surface, `light_area`) renders alike, alone in the room but for a faint ceiling panel."""
    pytest.importorskip("bpy")
    from pipeline.core.scene import Light

    scene, files = small_scene(80, 60)
    scene.lights = [scene.lights[1], Light("Lamp", "point", [0.2, 0.9, 0.9], radius=0.06, color=[1.0, 0.8, 0.55],
                                           power_w=60.0, source="lamp", role="Lamp")]
    scene.lights[0].power_w = 2.0
    cycles, mitsuba = _render_both(scene, files, tmp_path / "lamp.bundle", 512)
    assert 0.02 < float(np.median(mitsuba)) < 1.0, "the scene should be neither black nor blown out"
    value, ratio = _agreement(cycles, mitsuba, ", a sphere lamp")
    assert value >= 30.0
    assert 0.95 < ratio < 1.05
