"""Pose priors of the object stage on plain numbers: quarter turns towards the camera, and pieces kept inside
the room with their backs against a near wall."""

from __future__ import annotations

import math

import numpy as np

from pipeline.core.case import Segment
from pipeline.core.scene import Room
from pipeline.render.silhouettes import Pose
from pipeline.stages.objects.pose import ObjectTarget, choose_yaw, front_of, settle_in_room

ROOM = Room([0, 0, 1.35], [5.0, 4.0, 2.7], 0.0)


def test_a_front_turned_away_takes_a_tied_quarter_turn_towards_the_camera():
    camera = np.array([1.5, -1.0])  # off to the side: seen at 45 degrees
    here = np.array([0.0, 0.5, 0.0])  # mid-room: no wall prior
    to_camera = np.append(camera - here[:2], 0.0) / np.linalg.norm(camera - here[:2])
    # Best: yaw 180, front towards +y, away from the camera; yaw 90 (front +x) and yaw 0 (front -y) face it.
    tried = [(math.pi, 0.100, here), (math.pi / 2, 0.105, here), (0.0, 0.200, here), (3 * math.pi / 2, 0.300, here)]
    yaw, _, _ = choose_yaw(tried, here, ROOM, near_wall_m=0.3, camera_xy=camera)
    assert yaw == math.pi / 2  # the half turn costs too much (0.2 > 0.1 x 1.15); the tied quarter turn is taken
    assert front_of(yaw) @ to_camera > 0.5
    tried[2] = (0.0, 0.110, here)
    yaw, _, _ = choose_yaw(tried, here, ROOM, near_wall_m=0.3, camera_xy=camera)
    assert yaw == 0.0  # a tied half turn facing the camera comes first
    best_faces = [(0.0, 0.1, here), (math.pi, 0.105, here)]
    assert choose_yaw(best_faces, here, ROOM, near_wall_m=0.3, camera_xy=camera)[0] == 0.0


def _target(location, yaw) -> ObjectTarget:
    box = np.array([[x, y, z] for x in (-0.5, 0.5) for y in (-0.2, 0.2) for z in (0.0, 1.0)])
    t = ObjectTarget(Segment(1, "cabinet", "thing"), np.zeros((4, 4), bool), np.zeros((0, 3)), "cabinet_1")
    t.mesh = (box, np.zeros((0, 3), int))
    t.pose = Pose(np.asarray(location, float), yaw, 1.0)
    return t


def test_settle_in_room_pushes_inside_and_backs_onto_a_near_wall():
    # Through the +y wall (y = 2): pushed back inside, its back on the wall.
    t = _target([0.0, 1.95, 0.0], 0.0)  # front -y, back +y towards that wall
    settle_in_room(t, ROOM, 0.15)
    assert abs(t.pose.location[1] - 1.8) < 1e-6
    # 10 cm short of the wall, back to it: set back against it.
    t = _target([0.0, 1.7, 0.0], 0.0)
    settle_in_room(t, ROOM, 0.15)
    assert abs(t.pose.location[1] - 1.8) < 1e-6
    # The same gap with its front to the wall: left where it is (no prior says it touches).
    t = _target([0.0, 1.7, 0.0], math.pi)
    settle_in_room(t, ROOM, 0.15)
    assert abs(t.pose.location[1] - 1.7) < 1e-6
    # Mid-room: untouched.
    t = _target([0.3, 0.2, 0.0], 0.4)
    assert not np.any(settle_in_room(t, ROOM, 0.15))


def test_a_bed_in_a_corner_keeps_its_headboard_on_the_wall_behind_it():
    """Nearest wall: the side one (x = 2.5, 0.5 m away); the headboard (back, +Y at yaw 0) belongs on the +y wall
    1 m behind the centre. The silhouette slightly prefers the bed turned round; the prior turns it back."""
    here = np.array([2.0, 1.0, 0.0])
    tried = [(math.pi, 0.100, here), (0.0, 0.108, here), (math.pi / 2, 0.5, here), (3 * math.pi / 2, 0.5, here)]
    yaw, _, _ = choose_yaw(tried, here, ROOM, near_wall_m=1.1, camera_xy=np.array([0.0, -1.5]))
    assert yaw == 0.0


def test_a_lamp_at_the_ceiling_is_retrieved_as_a_ceiling_lamp():
    """A segment labelled "lamp" whose points hang from a 2.6 m ceiling becomes a ceiling lamp; a table lamp and a
    floor lamp reaching 1.7 m stay lamps; other labels are left alone."""
    from pipeline.stages.objects.pose import ceiling_lamps

    rng = np.random.default_rng(0)

    def target(label: str, z0: float, z1: float, name: str) -> ObjectTarget:
        pts = np.column_stack([rng.uniform(-0.2, 0.2, 200), rng.uniform(-0.2, 0.2, 200), rng.uniform(z0, z1, 200)])
        return ObjectTarget(Segment(1, label, "thing"), np.zeros((4, 4), bool), pts, name)

    disc = target("lamp", 2.52, 2.59, "lamp_1")
    table = target("lamp", 0.75, 1.15, "lamp_2")
    floor = target("lamp", 0.0, 1.7, "lamp_3")
    shelf = target("shelf", 2.2, 2.58, "shelf_1")
    assert ceiling_lamps([disc, table, floor, shelf], 0.0, 2.6) == ["lamp_1"]
    assert disc.label == "ceiling lamp" and disc.segment.label == "lamp"
    assert table.label == floor.label == "lamp" and shelf.label == "shelf"


def test_a_ceiling_lamp_hangs_from_the_ceiling_scaled_by_its_drop():
    """A flush disc seen 7 cm below the ceiling: whichever ceiling model is tried, its top is at the ceiling and
    its scale brings its bottom to the lowest seen point (a pendant's cord is not in the mask, so the seen
    height, 7 cm, would make a 72 cm pendant the 0.5 clamp and leave it floating)."""
    from pipeline.core.scene import Camera
    from pipeline.stages.objects.pose import initial_pose

    rng = np.random.default_rng(0)
    points = np.column_stack([rng.uniform(-0.2, 0.2, 200), rng.uniform(0.8, 1.2, 200), rng.uniform(2.63, 2.7, 200)])
    lamp = ObjectTarget(Segment(1, "ceiling lamp", "thing"), np.zeros((8, 8), bool), points, "ceiling_lamp_1")
    camera = Camera([0.0, -1.5, 1.4], np.eye(3).tolist(), 55.0, 8, 8)
    for size, scale in (((0.5, 0.5, 0.1), 0.7), ((0.55, 0.55, 0.14), 0.5)):
        lamp.size = np.array(size)
        pose = initial_pose(lamp, camera, np.zeros((8, 8), bool), 0.12, ROOM)
        assert abs(pose.scale - scale) < 0.04  # the lowest point: the 2nd percentile
        assert abs(pose.location[2] + size[2] * pose.scale - 2.7) < 1e-6  # its top at the ceiling
        assert lamp.contact == "none"
