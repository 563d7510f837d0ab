"""Objects cut by the photo's border (issue 14): the edges a mask reaches, a cut object kept at its model's size
with the hidden part outside the frame (a real Mitsuba render of a sofa half out of view), the border cut kept
by every candidate's trial, and the wall prior's wider margin for beds and sofas."""

from __future__ import annotations

import math

import numpy as np

from box_case import DEVICE, look_rotation
from pipeline.core.case import Segment
from pipeline.core.geometry import pixel_rays
from pipeline.core.scene import Camera, Room
from pipeline.render.silhouettes import surface_samples
from pipeline.stages.objects.pose import (ObjectTarget, across_centre, align_to_points, choose_yaw, cut_edges,
                                          initial_pose, size_lower_bounds, yaw_tolerance)

ROOM = Room([0.0, 0.5, 1.35], [6.0, 4.0, 2.7], 0.0)


def _box(w, d, h):
    import trimesh

    box = trimesh.creation.box(extents=[w, d, h])
    box.apply_translation([0, 0, h / 2])
    return np.asarray(box.vertices, float), np.asarray(box.faces, int)


def test_cut_edges_counts_edges_with_more_than_a_stray_pixel():
    mask = np.zeros((10, 12), bool)
    mask[3:6, 0:4] = True
    assert cut_edges(mask) == {"left"}
    mask[9, 6:9] = True
    mask[0, 11] = True  # one stray pixel on the top edge and the right edge: not a cut
    assert cut_edges(mask) == {"left", "bottom"}
    assert not cut_edges(np.zeros((4, 4), bool))


def test_across_centre_puts_the_hidden_part_beyond_the_cut_edge():
    across = np.linspace(0.0, 1.0, 101)  # visible from 0 (right) to 1 m (left) of the view
    assert abs(across_centre(across, frozenset(), 1.0) - 0.5) < 1e-6
    assert abs(across_centre(across, frozenset({"left"}), 1.0) - 1.02) < 0.01  # inner (right) edge + half width
    assert abs(across_centre(across, frozenset({"right"}), 1.0) + 0.02) < 0.01
    assert abs(across_centre(across, frozenset({"left"}), 0.2) - 0.5) < 1e-6  # never moved inwards of the median
    assert abs(across_centre(across, frozenset({"left", "right"}), 1.0) - 0.5) < 1e-6  # both cut: the median


def test_a_sofa_cut_by_the_left_edge_keeps_its_size_and_its_hidden_part_outside_the_frame():
    from pipeline.render.backend import init_mitsuba
    from pipeline.render.silhouettes import RigidSearchRenderer

    init_mitsuba(DEVICE)
    w, h = 96, 72
    cam = Camera([0.0, -3.0, 1.2], look_rotation(0.0, -8.0).tolist(), 50.0, w, h)
    sofa = _box(2.0, 0.9, 0.85)
    truth = np.array([-1.6, 0.0, 0.0])
    renderer = RigidSearchRenderer(cam, sofa, 1.0, w, h, 16)
    soft, ray = renderer.render(truth, 0.0, seed=1)
    mask = soft > 0.5
    assert cut_edges(mask) == {"left"}
    assert 0.2 < mask[:, :w // 2].mean()  # a good part of it is in view
    rays = pixel_rays(w, h, cam.fov_y_deg)
    valid = mask & (ray > 0)
    points = cam.camera_to_world(rays[valid] * (ray[valid] / np.linalg.norm(rays[valid], axis=-1))[:, None])

    def posed(cut: frozenset) -> ObjectTarget:
        tg = ObjectTarget(Segment(1, "sofa", "thing"), mask, points, "sofa_1", cut=cut)
        tg.mesh, tg.size = sofa, np.array([2.0, 0.9, 0.85])
        tg.pose = initial_pose(tg, cam, np.zeros_like(mask), 0.1, ROOM)
        return tg

    cut = posed(cut_edges(mask))
    assert cut.pose.scale >= 1.0
    assert abs(cut.pose.location[0] - truth[0]) < 0.2, cut.pose.location
    # Without the border cut the centre is the visible part's median: the model slides into the frame.
    whole = posed(frozenset())
    assert whole.pose.location[0] > truth[0] + 0.4, whole.pose.location
    # Placed on the depth points as the yaw search does (ICP slides along the view, not across the front face),
    # the cut pose covers the photo's mask with its hidden part outside the frame; the uncut one does not.
    samples = surface_samples(*sofa, 600, np.random.default_rng(0))

    def iou(tg):
        loc = align_to_points(samples, points, tg.pose, free_z=False)
        m = renderer.render(loc, tg.pose.yaw, seed=1)[0] > 0.5
        return (m & mask).sum() / (m | mask).sum()

    assert iou(cut) > 0.85 > iou(whole)
    # Every candidate's trial keeps what the photo says about the object.
    assert cut.trial().cut == {"left"} and cut.trial().pose is None


def test_beds_and_sofas_take_the_back_to_wall_turn_at_a_wider_margin():
    assert yaw_tolerance("bed") > yaw_tolerance("cabinet") == 0.15
    assert yaw_tolerance("three-seat sofa") == yaw_tolerance("bed")
    here = np.array([0.0, 2.0, 0.0])  # 0.5 m from the +y wall: a bed's headboard (+Y at yaw 0) belongs there
    tried = [(math.pi, 0.100, here), (0.0, 0.125, here), (math.pi / 2, 0.4, here), (3 * math.pi / 2, 0.4, here)]
    camera = np.array([0.0, -1.4])
    assert choose_yaw(tried, here, ROOM, 1.2, 0.15, camera_xy=camera)[0] == math.pi  # a cabinet's margin
    assert choose_yaw(tried, here, ROOM, 1.2, yaw_tolerance("bed"), camera_xy=camera)[0] == 0.0


def test_the_refinement_may_not_shrink_a_cut_object_below_its_models_size():
    from pipeline.render.silhouettes import Pose
    from pipeline.stages.objects.refine import ObjectParams

    def lower_bound(scale: float, cut: frozenset):
        tg = ObjectTarget(Segment(1, "sofa", "thing"), np.zeros((4, 4), bool), np.zeros((0, 3)), "sofa_1", cut=cut)
        tg.pose, tg.contact = Pose(np.zeros(3), 0.0, scale), "floor"
        return ObjectParams.create(0, tg, 0.02, 0.14).scale.lo

    assert lower_bound(1.3, frozenset()) is None  # seen whole: free
    assert abs(1.3 * math.exp(lower_bound(1.3, frozenset({"top"}))) - 1.0) < 1e-9  # down to the model's size
    assert lower_bound(0.8, frozenset({"top"})) == 0.0  # searched below it: not shrunk further
    # Cut at the side, or at the bottom while standing on the floor: its height is seen, the searched scale holds.
    assert abs(math.exp(lower_bound(0.8, frozenset({"right"}))) - 0.95) < 1e-9
    assert abs(math.exp(lower_bound(0.8, frozenset({"bottom"}))) - 0.95) < 1e-9


def test_the_height_is_unseen_only_when_the_border_hides_it():
    tg = ObjectTarget(Segment(1, "sofa", "thing"), np.zeros((4, 4), bool), np.zeros((0, 3)), "sofa_1")
    assert not tg.height_unseen(True)
    tg.cut = frozenset({"left", "bottom"})
    assert not tg.height_unseen(True) and tg.height_unseen(False)
    tg.cut = frozenset({"top"})
    assert tg.height_unseen(True)


def test_a_border_cut_makes_the_seen_size_a_lower_bound_for_retrieval():
    seg = Segment(1, "armchair", "thing")
    target = ObjectTarget(seg, np.ones((4, 4), bool), np.zeros((0, 3)), "armchair_1")
    assert size_lower_bounds(target) == (False, False, False)
    target.cut = frozenset({"right", "bottom"})  # its footprint goes on beyond the frame
    assert size_lower_bounds(target) == (True, True, False)
    target.cut = frozenset({"top"})  # a wardrobe whose top is out of view
    assert size_lower_bounds(target) == (False, False, True)


def test_a_rug_cut_by_the_bottom_edge_goes_on_towards_the_camera():
    from pipeline.stages.objects.standins import parametric_parts, parts_size

    # The visible part: 1.2 x 1.0 m of floor from y = 0.0 to 1.0, the camera at y = -1.4 looking +y; the photo's
    # bottom edge cuts it (its near part is below the frame).
    g = np.stack(np.meshgrid(np.linspace(-0.6, 0.6, 25), np.linspace(0.0, 1.0, 21)), -1).reshape(-1, 2)
    points = np.column_stack([g, np.zeros(len(g))])
    rug = ObjectTarget(Segment(1, "rug", "thing"), np.zeros((4, 4), bool), points, "rug_1")
    camera = np.array([0.0, -1.4])
    whole = parts_size(parametric_parts(rug, ROOM, camera_xy=camera)[0])
    assert abs(whole[0] - 1.15) < 0.1 and abs(whole[1] - 0.96) < 0.1  # seen whole: its measured extent
    rug.cut = frozenset({"bottom"})
    parts, pose, contact = parametric_parts(rug, ROOM, camera_xy=camera)
    size = parts_size(parts)
    assert contact == "floor" and abs(size[0] - whole[0]) < 1e-6  # across the view: unchanged
    assert abs(size[1] - 2.0) < 0.05  # along the view: the typical long side, the other side being short of 1.4
    assert pose.location[1] + size[1] / 2 < 1.0 + 0.05  # grown towards the camera: the far edge stays put
    rug.cut = frozenset({"left"})  # the left of the photo is -x here: grown that way, up to the wall at x = -3
    parts, pose, _ = parametric_parts(rug, ROOM, camera_xy=camera)
    size = parts_size(parts)
    assert abs(size[1] - whole[1]) < 1e-6 and abs(size[0] - 2.0) < 0.05  # the other side (1.0 m) is short
    assert pose.location[0] - size[0] / 2 < -1.3 and pose.location[0] + size[0] / 2 < 0.7  # grown to -x only


def test_a_rug_under_a_bed_goes_on_beneath_it():
    """A rug whose far edge in the photo borders the bed standing on it continues under the bed (away from the
    camera); where the floor shows beyond its far edge, that edge is its own. Cut at the bottom as well, it
    grows at both ends of the view's axis, half each."""
    from pipeline.stages.objects.pose import far_edge_covered
    from pipeline.stages.objects.standins import parametric_parts, parts_size

    seg = np.zeros((12, 10), np.int32)  # 0 floor, 5 the rug, 7 the bed beyond it
    seg[7:11, 1:9] = 5
    seg[3:7, 2:8] = 7
    assert far_edge_covered(seg == 5, seg, {7})  # 6 of 8 columns end under the bed
    assert not far_edge_covered(seg == 5, seg, {9})  # nothing of that kind there: the floor shows
    g = np.stack(np.meshgrid(np.linspace(-0.9, 0.9, 25), np.linspace(0.0, 0.6, 11)), -1).reshape(-1, 2)
    rug = ObjectTarget(Segment(1, "rug", "thing"), seg == 5, np.column_stack([g, np.zeros(len(g))]), "rug_1",
                       far_covered=True)
    camera = np.array([0.0, -1.4])
    parts, pose, _ = parametric_parts(rug, ROOM, camera_xy=camera)
    size = parts_size(parts)
    assert abs(size[1] - 1.4) < 0.05  # along the view: the typical short side, the rug being 1.8 m across
    assert abs(pose.location[1] - size[1] / 2) < 0.05  # its near edge stays where it is seen
    rug.cut = frozenset({"bottom"})
    parts, pose, _ = parametric_parts(rug, ROOM, camera_xy=camera)
    size = parts_size(parts)
    grown = (size[1] - 0.58) / 2
    assert abs(pose.location[1] - size[1] / 2 - (-grown)) < 0.05  # half of the growth towards the camera


def test_an_object_cut_by_the_border_keeps_its_model_rather_than_a_proxy():
    """A proxy is built from the part of the mask in the frame: for an armchair in the photo's corner it was a
    17 cm block at half height. A cut object keeps its (badly fitting) model; nothing is built for it."""
    from types import SimpleNamespace

    from pipeline.stages.objects.stage import replace_bad_fits

    mask = np.zeros((8, 8), bool)
    mask[5:, 6:] = True
    points = np.array([[1.0, 2.0, 0.6]] * 12)
    chair = ObjectTarget(Segment(3, "armchair", "thing"), mask, points, "armchair_1", cut=cut_edges(mask))
    assert chair.cut == {"bottom", "right"}
    model = {"body": "the retrieved model's parts"}
    parts = [model]
    cfg = SimpleNamespace(proxy_below=0.5, proxy_gain=0.05)
    # No case or scene is needed: a cut object is never rebuilt, so neither is read.
    assert replace_bad_fits([chair], parts, [0.2], None, None, cfg, None) == 0
    assert parts == [model] and not chair.standin and "proxy" not in chair.flags
