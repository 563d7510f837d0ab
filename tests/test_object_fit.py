"""Pieces of the object stage's shape retrieval and occlusion handling: the rigid search renderer, the
point alignment of each yaw, hidden bottoms and supports, and the benchmark's reproduction of a case's own
furniture."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from box_case import DEVICE, look_rotation
from pipeline.core.scene import Camera, Room
from pipeline.render.silhouettes import Pose, surface_samples
from pipeline.stages.objects.pose import ObjectTarget, align_to_points, assign_contacts, bottom_occluded


def _cabinet():
    """A two-part box 'cabinet' (body and plinth) in the canonical frame: bottom centre at the origin."""
    import trimesh

    body = trimesh.creation.box(extents=[0.8, 0.5, 1.0])
    body.apply_translation([0, 0, 0.6])
    plinth = trimesh.creation.box(extents=[0.7, 0.4, 0.1])
    plinth.apply_translation([0, 0, 0.05])
    mesh = trimesh.util.concatenate([body, plinth])
    return np.asarray(mesh.vertices, float), np.asarray(mesh.faces, int)


def test_rigid_search_renderer_matches_moving_the_mesh():
    """Moving the camera by the inverse pose renders what moving the mesh renders, with ray distances that
    agree where the object is fully seen."""
    from pipeline.render.backend import init_mitsuba
    from pipeline.render.silhouettes import RigidSearchRenderer, SilhouetteRenderer

    init_mitsuba(DEVICE)
    mesh = _cabinet()
    cam = Camera([0.3, -3.0, 1.2], look_rotation(0.0, -8.0).tolist(), 50.0, 64, 48)
    moving = SilhouetteRenderer(cam, [mesh], [0], [Pose(np.zeros(3), 0.0, 1.0)], 64, 48, 16)
    rigid = RigidSearchRenderer(cam, mesh, 1.1, 64, 48, 16)
    for location, yaw in (([0.2, 0.5, 0.0], 0.0), ([-0.3, 0.2, 0.1], 0.9)):
        moving.set_pose(0, location, yaw, 1.1)
        m1 = np.array(moving.render(seed=2))[..., 0]
        d1 = moving.render_depth(seed=2, update=False)
        m2, d2 = rigid.render(np.array(location), yaw, seed=2)
        assert m1.sum() > 20
        assert np.abs(m1 - m2).mean() < 1e-3
        inside = (m1 > 0.99) & (m2 > 0.99)
        assert np.abs(d1[inside] - d2[inside]).mean() < 0.05 * d2[inside].mean()


def test_align_to_points_recovers_translation():
    """Points seen on the front of a model, placed 15 cm off: the alignment brings it back (z only when free)."""
    v, f = _cabinet()
    rng = np.random.default_rng(0)
    samples = surface_samples(v, f, 600, rng)
    true = Pose(np.array([1.0, 2.0, 0.0]), 0.4, 1.0)
    world = true.apply(surface_samples(v, f, 2000, rng))
    front = world[(world - true.location) @ np.array([math.sin(0.4), -math.cos(0.4), 0.0]) > 0.2]  # front only
    start = Pose(true.location + [0.1, -0.12, 0.05], 0.4, 1.0)
    loc = align_to_points(samples, front, start, free_z=False, iters=8)
    assert np.linalg.norm(loc[:2] - true.location[:2]) < 0.03
    assert loc[2] == pytest.approx(0.05)  # stands on something: z kept
    loc = align_to_points(samples, front, start, free_z=True, iters=8)
    assert abs(loc[2]) < 0.03


def test_bottom_occluded_by_nearer_object_only():
    seg = np.zeros((20, 20), np.int32)
    depth = np.full((20, 20), 4.0, np.float32)
    mask = np.zeros((20, 20), bool)
    mask[4:10, 6:14] = True  # a shade, over the wall
    mask[10:14, 9:11] = True  # its foot
    seg[mask] = 9
    seg[14:, :] = 7  # a bed below
    depth[14:, :] = 3.5  # nearer than the lamp: the foot goes on behind it
    assert bottom_occluded(mask, seg, depth, {7})
    depth[14:, :] = 4.5  # farther: the bed is behind, the foot's bottom is the real bottom
    assert not bottom_occluded(mask, seg, depth, {7})
    assert not bottom_occluded(mask, seg, np.full_like(depth, 3.0), set())  # nothing below is an object


def _target(name: str, label: str, mask: np.ndarray, pose: Pose, size, points=None) -> ObjectTarget:
    from pipeline.core.case import Segment

    pts = points if points is not None else np.tile(pose.location, (20, 1))
    t = ObjectTarget(Segment(1, label, "thing"), mask, pts, name)
    t.pose, t.size = pose, np.asarray(size, float)
    return t


def test_hidden_bottom_rests_on_the_support_under_it():
    """A lamp whose foot is hidden behind a bed stands on the nightstand under it, not on the bed's top next to
    it; without the hidden bottom, a support far below does not count."""
    room = Room([0, 0, 1.35], [5.0, 4.0, 2.7], 0.0)
    m_bed, m_ns, m_lamp = (np.zeros((30, 30), bool) for _ in range(3))
    m_bed[15:, :] = True
    m_ns[13:16, 20:26] = True
    m_lamp[5:14, 21:25] = True
    bed = _target("bed_1", "bed", m_bed, Pose(np.array([0.0, 0.0, 0.0]), 0.0, 1.0), [1.6, 2.0, 0.9])
    ns = _target("nightstand_1", "nightstand", m_ns, Pose(np.array([1.1, 0.8, 0.0]), 0.0, 1.0), [0.5, 0.4, 0.55])
    bed.contact = ns.contact = "floor"
    lamp = _target("lamp_1", "lamp", m_lamp, Pose(np.array([1.1, 0.85, 0.85]), 0.0, 0.5), [0.25, 0.25, 0.45],
                   points=np.array([[1.1, 0.85, 0.85 + 0.01 * k] for k in range(20)]))
    lamp.bottom_occluded = True
    lowered = assign_contacts([bed, ns, lamp], room, support_gap_m=0.15, wall_contact_m=0.2)
    assert lamp.contact == "support:nightstand_1" and lowered == [lamp]
    assert lamp.pose.location[2] == pytest.approx(0.55)

    lamp2 = _target("lamp_2", "lamp", m_lamp, Pose(np.array([1.1, 0.85, 0.85]), 0.0, 0.5), [0.25, 0.25, 0.45],
                    points=lamp.points)
    assign_contacts([bed, ns, lamp2], room, support_gap_m=0.15, wall_contact_m=0.2)
    assert lamp2.contact == "none" and lamp2.pose.location[2] == pytest.approx(0.85)


def test_bench_reproduces_case_layout(tmp_path):
    """The benchmark's own models come from the case's layout (the generator draws the theme from the seed when
    none is given; passing the recorded theme back drew another room), and a mismatch is an error."""
    from pipeline.app.bench.objects import case_layout
    from pipeline.synth.layout import ground_truth, sample_layout

    layout = sample_layout(3, 64, 48)
    truth = ground_truth(layout)
    got = case_layout(json.loads(json.dumps(truth)), tmp_path)
    assert [(p.segment_id, p.label) for p in got.pieces] == [(p.segment_id, p.label) for p in layout.pieces]
    assert np.allclose([p.size for p in got.pieces], [p.size for p in layout.pieces])
    truth["objects"][0]["size"] = [9.0, 9.0, 9.0]
    with pytest.raises(RuntimeError, match="cannot be reproduced"):
        case_layout(truth, tmp_path)


def test_visible_samples_skip_faces_hidden_behind_a_door_panel():
    """A box with a 2 cm door panel on its front: seen from the front, the body's front face behind the panel is
    hidden; only seen samples are matched to depth points, so the alignment puts the panel (not the hidden face)
    on the points (the wall-facing yaw won by 2 cm of depth before)."""
    import trimesh

    from pipeline.render.backend import init_mitsuba
    from pipeline.render.silhouettes import RigidSearchRenderer
    from pipeline.stages.objects.pose import visible_samples

    init_mitsuba(DEVICE)
    body = trimesh.creation.box(extents=[0.8, 0.5, 1.2])
    body.apply_translation([0, 0, 0.6])
    door = trimesh.creation.box(extents=[0.74, 0.02, 1.1])
    door.apply_translation([0, -0.26, 0.6])  # on the front (-Y)
    mesh = trimesh.util.concatenate([body, door])
    v, f = np.asarray(mesh.vertices, float), np.asarray(mesh.faces, int)
    cam = Camera([0.0, -3.0, 1.0], look_rotation(0.0, -5.0).tolist(), 50.0, 64, 48)
    r = RigidSearchRenderer(cam, (v, f), 1.0, 64, 48, 4)
    samples = surface_samples(v, f, 2000, np.random.default_rng(0))
    seen = visible_samples(r, samples, np.zeros(3), 0.0)
    behind_door = (np.abs(samples[:, 1] + 0.25) < 1e-6) & (np.abs(samples[:, 0]) < 0.36) & \
        (np.abs(samples[:, 2] - 0.6) < 0.54)
    on_door = np.abs(samples[:, 1] + 0.27) < 1e-6
    back = np.abs(samples[:, 1] - 0.25) < 1e-6
    assert behind_door.sum() > 20 and not seen[behind_door].any()
    assert seen[on_door].mean() > 0.95 and not seen[back].any()
    # Turned 180 degrees the back faces the camera and the door is hidden.
    seen = visible_samples(r, samples, np.zeros(3), math.pi)
    assert seen[back].mean() > 0.95 and not seen[on_door].any()


def test_choose_yaw_front_back_ties():
    """Front/back ties: near a wall the piece faces into the room; elsewhere it faces the camera, but only when
    the turned yaw costs little (a clear fit stands)."""
    from pipeline.stages.objects.pose import choose_yaw, front_of

    room = Room([0, 0, 1.35], [5.0, 4.0, 2.7], 0.0)
    camera = np.array([0.0, -1.8])
    tried = [(2 * math.pi * k / 12, 0.1 + 0.001 * k) for k in range(12)]  # best at yaw 0: front -Y
    # In the middle of the room, camera behind it (+y): the 180-degree turn (cost +6 %) faces the camera.
    yaw, _ = choose_yaw(tried, np.array([0.0, -1.0, 0.0]), room, 0.5, camera_xy=np.array([0.0, 1.5]))
    assert front_of(yaw)[:2] @ np.array([0.0, 1.0]) > 0.9
    # The camera in front already: the best stands.
    yaw, _ = choose_yaw(tried, np.array([0.0, 0.0, 0.0]), room, 0.5, camera_xy=camera)
    assert yaw == 0.0
    # A turn that costs 50 % more is a real difference: the best stands.
    clear = [(y, 0.1 if k == 0 else 0.15 + 0.01 * k) for k, (y, _) in enumerate(tried)]
    yaw, _ = choose_yaw(clear, np.array([0.0, -1.0, 0.0]), room, 0.5, camera_xy=np.array([0.0, 1.5]))
    assert yaw == 0.0
    # Near the +y wall the room wins over the camera (behind the piece, against the wall, it cannot be).
    yaw, _ = choose_yaw(tried, np.array([0.0, 1.7, 0.0]), room, 0.5, camera_xy=np.array([0.0, -1.5]))
    assert front_of(yaw)[:2] @ np.array([0.0, -1.0]) > 0.5


def _box(w: float, d: float, h: float):
    """A box model in the canonical frame (bottom centre at the origin)."""
    import trimesh

    box = trimesh.creation.box(extents=[w, d, h])
    box.apply_translation([0, 0, h / 2])
    return np.asarray(box.vertices, float), np.asarray(box.faces, int)


def test_rerank_fit_does_not_prefer_a_model_that_misses_a_small_object():
    """The re-ranking's fit is that of shape retrieval: the mask term as a fraction of the object's area, plus
    the scale prior. As a fraction of the photo, a small object's mask term is tiny and the depth term decides;
    a model that misses the object has no overlap to take a depth error from, and won (a 1.85 m arc lamp,
    shrunk and standing beside it, over a table lamp whose depth was 5 % off)."""
    from types import SimpleNamespace

    from pipeline.render.backend import init_mitsuba
    from pipeline.render.silhouettes import RigidSearchRenderer
    from pipeline.stages.objects.config import ObjectConfig
    from pipeline.stages.objects.pose import SearchTargets, silhouette_loss
    from pipeline.stages.objects.stage import _fit_loss

    init_mitsuba(DEVICE)
    cfg = ObjectConfig()
    w, h = 96, 72
    cam = Camera([0.0, -3.0, 1.2], look_rotation(0.0, -8.0).tolist(), 50.0, w, h)
    lamp = _box(0.3, 0.3, 0.45)
    where = np.array([0.0, 0.0, 0.7])  # on a desk
    mask, depth = RigidSearchRenderer(cam, lamp, 1.0, w, h, 16).render(where, 0.0, seed=1)
    assert 20 < mask.sum() < 0.02 * w * h  # a small object
    t = SearchTargets(w, h, [mask], np.where(mask > 0.5, depth * 1.05, 0.0).astype(np.float32), mask > 0.5)

    right = _target("lamp_1", "lamp", mask > 0.5, Pose(where.copy(), 0.0, 1.0), [0.3, 0.3, 0.45])
    right.mesh = lamp
    wrong = _target("lamp_1", "lamp", mask > 0.5, Pose(where + [0.45, 0.3, 0.0], 0.0, 0.5), [0.1, 0.1, 1.85])
    wrong.mesh = _box(0.1, 0.1, 1.85)

    def photo_fraction(tg):  # the re-ranking's score before the fix
        r = RigidSearchRenderer(cam, tg.mesh, tg.pose.scales, w, h, cfg.spp)
        m, d = r.render(tg.pose.location, tg.pose.yaw, seed=1)
        return silhouette_loss(m, d, t, 0, cfg.yaw_depth_weight)

    assert photo_fraction(wrong) < photo_fraction(right)  # the trap
    assert _fit_loss(right, SimpleNamespace(camera=cam), t, cfg, 0) < 0.2
    assert _fit_loss(wrong, SimpleNamespace(camera=cam), t, cfg, 0) > 1.0


def test_the_scale_prior_counts_from_the_models_real_size():
    """A model of a pack drawn at 1.4x real size, scaled to 0.7, is at its real size: no prior cost; a metric
    model scaled to 0.7 pays |log 0.7| times the prior."""
    from types import SimpleNamespace

    from pipeline.core.case import Segment
    from pipeline.stages.objects.stage import scale_cost

    tg = ObjectTarget(Segment(1, "desk", "thing"), np.zeros((2, 2), bool), np.zeros((0, 3)), "desk_1")
    tg.pose, cfg = Pose(np.zeros(3), 0.0, 0.7), SimpleNamespace(scale_prior=0.3)
    tg.unit_scale = 0.7
    assert scale_cost(tg, cfg) < 1e-9
    tg.unit_scale = 1.0
    assert abs(scale_cost(tg, cfg) - 0.3 * abs(math.log(0.7))) < 1e-9


def test_hidden_bottom_with_nothing_under_it_stands_on_the_floor():
    """A floor lamp seen above a table in front of it: the table is nearer and its footprint is not under the
    lamp, no wall is behind it, so its hidden bottom is on the floor (it was a table lamp floating at the table's
    height); its first pose then starts from the floor, so the whole lamp's height sets the scale."""
    from pipeline.core.scene import Camera
    from pipeline.stages.objects.pose import initial_pose

    room = Room([0, 0, 1.35], [5.0, 4.0, 2.7], 0.0)
    m_table, m_lamp = np.zeros((30, 30), bool), np.zeros((30, 30), bool)
    m_table[15:, 5:25] = True
    m_lamp[3:15, 12:16] = True
    table_top = np.array([[x, y, 0.75] for x in np.linspace(-0.6, 0.6, 7) for y in np.linspace(-0.4, 0.4, 5)])
    table = _target("table_1", "table", m_table, Pose(np.array([0.0, 0.0, 0.0]), 0.0, 1.0), [1.2, 0.8, 0.75],
                    table_top)
    table.contact = "floor"
    points = np.array([[0.0, 1.2, 0.8 + 0.05 * k] for k in range(20)])  # 0.8-1.75 m, 1.2 m behind the table
    lamp = _target("lamp_1", "lamp", m_lamp, Pose(np.array([0.0, 1.2, 0.8]), 0.0, 0.5), [0.4, 0.4, 1.6], points)
    lamp.bottom_occluded = True
    lowered = assign_contacts([table, lamp], room, support_gap_m=0.15, wall_contact_m=0.2)
    assert lowered == [lamp] and lamp.contact == "floor" and lamp.pose.location[2] == 0.0
    camera = Camera([0.0, -2.0, 1.4], look_rotation(0.0, -10.0).tolist(), 55.0, 30, 30)
    pose = initial_pose(lamp, camera, np.zeros((30, 30), bool), 0.12, room, base=0.0)
    assert pose.location[2] == 0.0 and lamp.contact == "floor"
    assert pose.scale == pytest.approx(1.75 / 1.6, abs=0.02)  # floor to the seen top, not the seen part's 0.95 m

    # Seen whole (its bottom not hidden), the same lamp keeps its place: nothing says it goes on lower.
    lamp2 = _target("lamp_2", "lamp", m_lamp, Pose(np.array([0.0, 1.2, 0.8]), 0.0, 0.5), [0.4, 0.4, 1.6], points)
    assert assign_contacts([table, lamp2], room, support_gap_m=0.15, wall_contact_m=0.2) == []
    assert lamp2.contact == "none" and lamp2.pose.location[2] == pytest.approx(0.8)


def test_a_pillow_over_a_bed_posed_short_stays_off_the_floor():
    """Pillows whose foot the bed's duvet hides, on a bed posed too short to reach under them (its headboard
    taller than their bottom, so no support by height either): the bed's own depth points (mattress in front,
    headboard behind) are seen around them, so they stay where they are seen rather than go to the floor."""
    room = Room([0, 0, 1.35], [5.0, 4.0, 2.7], 0.0)
    m_bed, m_pillow = np.zeros((30, 30), bool), np.zeros((30, 30), bool)
    m_bed[12:, :] = True
    m_pillow[9:13, 10:16] = True
    seen = np.array([[x, y, 0.5] for x in np.linspace(-0.8, 0.8, 9) for y in np.linspace(-1.0, 0.6, 9)]
                    + [[x, 0.95, 1.0] for x in np.linspace(-0.8, 0.8, 9)])  # mattress top, headboard behind
    bed = _target("bed_1", "bed", m_bed, Pose(np.array([0.0, -0.4, 0.0]), 0.0, 1.0), [1.6, 1.2, 1.1], seen)
    bed.contact = "floor"
    pillow_points = np.array([[0.1 * k - 0.2, 0.75, 0.5 + 0.01 * k] for k in range(5)])
    pillow = _target("pillow_1", "pillow", m_pillow, Pose(np.array([0.0, 0.8, 0.5]), 0.0, 1.0), [0.5, 0.3, 0.15],
                     pillow_points)
    pillow.bottom_occluded = True
    assert assign_contacts([bed, pillow], room, support_gap_m=0.15, wall_contact_m=0.2) == []
    assert pillow.contact == "none" and pillow.pose.location[2] == pytest.approx(0.5)


def test_first_scale_is_clamped_around_the_models_real_size():
    """A pack drawn 1.4 times real (unit_scale 0.7) whose lamp stands 0.4 m in the photo: the first scale may go
    to half the model's real size (0.35), not only to half its file size (0.5, where the right model could not
    fit); a built-in model (unit_scale 1) keeps [0.5, 2]."""
    from pipeline.stages.objects.pose import clamp_scale

    assert clamp_scale(0.3, 0.7) == pytest.approx(0.35)
    assert clamp_scale(0.4, 0.7) == pytest.approx(0.4)
    assert clamp_scale(0.3) == 0.5 and clamp_scale(3.0) == 2.0 and clamp_scale(3.0, 0.7) == pytest.approx(1.4)
