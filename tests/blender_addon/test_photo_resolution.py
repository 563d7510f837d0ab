"""The photo at full resolution where the artist sees it (issue 18): the bundle keeps the photo as given (under the
photo size cap), the camera background shows it and the render takes its size; optimisation keeps the working
resolution."""

from __future__ import annotations

import numpy as np
import pytest

from addon_fixtures import addon, empty_file, make_bundle  # noqa: F401

bpy = pytest.importorskip("bpy")


def _full_photo(bundle, width: int, height: int) -> None:
    from p2s_common.images import write_png

    rng = np.random.default_rng(0)
    write_png(bundle / "photo.png", rng.random((height, width, 3), dtype=np.float32))


def test_background_and_render_take_the_full_photo(addon, empty_file, make_bundle):
    bundle = make_bundle(width=48, height=36)  # the camera's working resolution
    _full_photo(bundle, 192, 144)  # the photo the bundle keeps: 4x, same aspect
    bpy.ops.photo2scene.import_bundle("EXEC_DEFAULT", True, directory=str(bundle))
    scene = bpy.context.scene
    assert (scene.render.resolution_x, scene.render.resolution_y) == (192, 144)
    background = scene.camera.data.background_images[0].image
    assert tuple(background.size) == (192, 144)


def test_render_falls_back_to_the_camera_when_the_photo_has_another_shape(addon, empty_file, make_bundle):
    bundle = make_bundle(width=48, height=36)
    _full_photo(bundle, 100, 100)  # replaced by hand with a square picture: not this camera's frame
    bpy.ops.photo2scene.import_bundle("EXEC_DEFAULT", True, directory=str(bundle))
    scene = bpy.context.scene
    assert (scene.render.resolution_x, scene.render.resolution_y) == (48, 36)


def test_render_resolution_rule():
    from blender_addon.builders.scene import render_resolution
    from blender_addon.scene_format import Camera

    cam = Camera([0, 0, 1], [[1, 0, 0], [0, 1, 0], [0, 0, 1]], 50.0, 240, 174)
    assert render_resolution(cam, (730, 530)) == (730, 530)  # 730x530 works at 240x174 (rounded)
    assert render_resolution(cam, None) == (240, 174)
    assert render_resolution(cam, (530, 730)) == (240, 174)
    assert render_resolution(cam, (0, 0)) == (240, 174)
