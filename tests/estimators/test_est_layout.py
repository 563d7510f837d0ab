"""The weight-free box layout: on a synthetic box room (exact truth) its faces match the room's."""

from __future__ import annotations

import numpy as np

from pipeline.estimators.camera_classical import ClassicalCamera
from pipeline.estimators.layout import FACES, estimate_layout, snap_to_regions
from pipeline.estimators.segmentation import furniture_proposals
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
    faces = np.zeros((20, 20), int)  # floor on the left, a wall (face 2) on the right
    faces[:, 10:] = 2
    regions = np.ones((20, 20), int)
    regions[:, 8:] = 2  # region 2: 12 columns, 10 on the wall -> 83 % pure
    snapped, clutter = snap_to_regions(faces, regions, purity=0.8)
    assert (snapped[regions == 2] == 2).all() and (snapped[regions == 1] == 0).all() and not clutter.any()
    _, clutter = snap_to_regions(faces, regions, purity=0.9)
    assert clutter[regions == 2].all() and not clutter[regions != 2].any()
    regions[12:18, 2:6] = 3  # a piece standing on the floor, not the floor's own region: clutter
    _, clutter = snap_to_regions(faces, regions, purity=0.8)
    assert clutter[regions == 3].all() and not clutter[regions != 3].any()


def test_floor_standing_clutter_becomes_a_proposal():
    faces = np.full((40, 40), 2)
    faces[25:] = 0  # floor below row 25
    clutter = np.zeros((40, 40), bool)
    clutter[15:30, 10:20] = True  # stands on the floor
    clutter[5:10, 25:35] = True  # hangs on the wall (a picture)
    found = furniture_proposals(clutter, faces)
    assert len(found) == 1 and found[0][20, 15] and not found[0][7, 30]
