"""The weight-free box layout: on a synthetic box room (exact truth) its faces match the room's."""

from __future__ import annotations

import numpy as np

from pipeline.estimators.camera_classical import ClassicalCamera
from pipeline.estimators.layout import FACES, estimate_layout, snap_to_regions
from pipeline.estimators.synthetic import room_photo
from pipeline.render.room_box import FACE_NAMES


def test_box_layout_finds_floor_walls_and_ceiling_of_a_box_room():
    image, truth = room_photo(240, 180, 55.0, -8.0, 2.0, 30.0, seed=2)
    cam = ClassicalCamera().estimate(image)
    d = cam.details
    lay = estimate_layout(image, d["f_px"], np.asarray(d["directions"]), d["up_index"])
    ours = np.array(FACES)[lay.faces]
    names = np.array(FACE_NAMES)[truth["faces"]]
    for surface in ("floor", "ceiling"):
        t, o = names == surface, ours == surface
        if t.sum() > 0.02 * t.size:
            assert (t & o).sum() / (t | o).sum() > 0.7, surface
    walls_t, walls_o = np.char.startswith(names, "wall"), np.char.startswith(ours, "wall")
    assert (walls_t & walls_o).sum() / (walls_t | walls_o).sum() > 0.7
    assert 0.0 <= lay.line_support <= 1.0 and lay.ceiling_over_camera > 0


def test_snap_to_regions_moves_pure_regions_and_flags_mixed_ones():
    faces = np.zeros((10, 10), int)
    faces[:, 5:] = 2
    regions = np.ones((10, 10), int)
    regions[:, 4:] = 2  # region 2: 6 columns, 5 of them on face 2 -> 83 % pure
    regions[:5, :] = np.where(regions[:5, :] == 1, 3, regions[:5, :])
    snapped, clutter = snap_to_regions(faces, regions, purity=0.8)
    assert (snapped[regions == 2] == 2).all() and not clutter.any()
    _, clutter = snap_to_regions(faces, regions, purity=0.9)
    assert clutter[regions == 2].all() and not clutter[regions != 2].any()
