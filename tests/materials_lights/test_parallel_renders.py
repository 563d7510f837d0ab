"""Forward renders on every core inside a deterministic stage (render/determinism.py): a launch cut into Dr.Jit's
fixed work units, with `spp` dividing the unit, gives the one-thread render bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from ml_fixtures import DEVICE, small_scene


def test_forward_renders_on_every_core_repeat_the_one_thread_render() -> None:
    import drjit as dr
    import mitsuba as mi
    import torch

    from pipeline.app.export.mitsuba_xml import scene_materials
    from pipeline.render.backend import init_mitsuba
    from pipeline.render.determinism import deterministic_renders, parallel_if_repeatable
    from pipeline.render.differentiable import SceneRenderer
    from pipeline.render.scene_render import RenderSettings, scene_surfaces

    init_mitsuba(DEVICE)
    cores = dr.thread_count()
    if not mi.variant().startswith("llvm") or cores < 2:
        pytest.skip("needs the LLVM backend and at least 2 cores")
    scene, files = small_scene(160, 120)
    radiance = [np.array([2.0, 1.9, 1.8]), np.array([1.5, 1.5, 1.5]), np.array([1.0, 1.1, 1.2])]
    renderer = SceneRenderer(scene, scene_materials(scene, files.read), scene.lights, radiance,
                             RenderSettings(160, 120, 64, 6, "prb"), scene_surfaces(scene, files.read))
    rad = torch.tensor(np.array(radiance, np.float32))
    with deterministic_renders(True):
        assert dr.thread_count() == 1
        with parallel_if_repeatable(160 * 120, 64):
            assert dr.thread_count() == cores  # large enough to be cut into fixed units
        with parallel_if_repeatable(40 * 30, 16):
            assert dr.thread_count() == 1  # small launches are cut by the core count: one thread
        with parallel_if_repeatable(160 * 120, 24):
            assert dr.thread_count() == 1  # 24 does not divide a unit: a pixel could be split between threads
        shared = renderer.render({}, {}, rad, 160, 120, 64, seed=3)
        assert dr.thread_count() == 1
    assert dr.thread_count() == cores
    dr.set_thread_count(1)
    try:
        alone = renderer.render({}, {}, rad, 160, 120, 64, seed=3)
    finally:
        dr.set_thread_count(cores)
    assert float(shared.mean()) > 0.01
    assert torch.equal(shared, alone)
