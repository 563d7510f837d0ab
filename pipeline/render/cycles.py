"""A linear Cycles render of a bundle, built by the add-on's own builders (checks that Blender sees what Mitsuba saw).

Headless through the PyPI `bpy` module. Light paths are set to match the Mitsuba renders of the material+light
stage: `diffuse_bounces = glossy_bounces = max_depth - 2` (Mitsuba's max_depth counts the camera segment and the
direct-light segment), no caustics tricks, no clamping, no denoising.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from p2s_common.errors import SetupError
from blender_addon.bundle import load_bundle
from p2s_common.images import read_exr
from pipeline.core import interrupt


def render_bundle(bundle_dir: Path, width: int | None = None, height: int | None = None, samples: int = 256,
                  max_depth: int = 6, seed: int = 0) -> np.ndarray:
    """HxWx3 float32 linear Cycles render of the bundle's camera (the bundle is built into an empty file)."""
    try:
        import bpy
    except ImportError as exc:
        raise SetupError("a Cycles render needs the bpy module (pip install bpy==5.0.1, Python 3.11)") from exc
    # lazy: loads bpy, which importing this module does not
    from blender_addon.builders.scene import build_bundle, reconstruction_world

    bundle = load_bundle(bundle_dir)
    bpy.ops.wm.read_homefile(use_empty=True)
    build_bundle(bundle)
    scene = bpy.context.scene
    # The world is the import's black one (builders/scene.py reconstruction_world). A bare new world is not black
    # in Blender 5.0: its Background node is grey, and it shows through every open window.
    scene.world = reconstruction_world()
    cam = bundle.data.camera
    r = scene.render
    r.engine = "CYCLES"
    r.resolution_x, r.resolution_y = int(width or cam.width), int(height or cam.height)
    r.resolution_percentage = 100
    r.film_transparent = False
    r.dither_intensity = 0.0
    cy = scene.cycles
    cy.pixel_filter_type = "BOX"  # a one-pixel box, like Mitsuba's box filter: pixels are area averages
    cy.filter_width = 1.0
    cy.device = "CPU"
    cy.samples = int(samples)
    cy.seed = int(seed)
    cy.use_adaptive_sampling = False
    cy.use_denoising = False
    bounces = max(0, int(max_depth) - 2)
    cy.max_bounces = bounces
    cy.diffuse_bounces = cy.glossy_bounces = bounces
    cy.transmission_bounces = cy.volume_bounces = cy.transparent_max_bounces = 0
    cy.sample_clamp_direct = cy.sample_clamp_indirect = 0.0
    cy.caustics_reflective = cy.caustics_refractive = True  # Mitsuba has no caustics filter: no path is dropped
    cy.blur_glossy = 0.0
    cy.use_light_tree = True
    cy.light_sampling_threshold = 0.0  # no probabilistic skipping of dim light samples
    r.image_settings.file_format = "OPEN_EXR"
    r.image_settings.color_depth = "32"
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "render.exr"
        r.filepath = str(out)
        with interrupt.gil_held_call():  # Blender's render keeps the GIL: a stop needs the watcher process
            bpy.ops.render.render(write_still=True)
        img = read_exr(out)[..., :3]
    return np.ascontiguousarray(img, dtype=np.float32)
