"""Object pose initialisation (PSDR-Room 4.3): point cloud -> centre and scale, yaw search, contacts.

Everything here works on one object at a time with forward renders only; the joint differentiable refinement
(refine.py) starts from what this module decides.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.ndimage import binary_dilation, binary_erosion

from pipeline.core.case import Case, Segment
from pipeline.core.geometry import backproject, pixel_rays
from pipeline.core.resample import resize_area, resize_nearest
from pipeline.core.scene import Camera, Room
from pipeline.render.silhouettes import Pose, RigidSearchRenderer
from assets_index.categories import normalize_category, placement


@dataclass
class ObjectTarget:
    """One object segment of the photo, with what the stage learns about it."""

    segment: Segment
    mask: np.ndarray  # HxW bool, working resolution
    points: np.ndarray  # (N, 3) world points of the eroded mask
    name: str
    candidates: list = field(default_factory=list)  # assets_index Matches, best first
    mesh: tuple[np.ndarray, np.ndarray] | None = None  # merged canonical (vertices, faces) of the chosen asset
    face_colors: np.ndarray | None = None  # (F, 3) base colour of each face of `mesh` (linear RGB)
    size: np.ndarray | None = None  # canonical size (w, d, h) of the chosen asset
    unit_scale: float = 1.0  # the scale at which the chosen asset has its real size (its pack's units)
    pose: Pose | None = None
    contact: str = "none"  # floor | support:<name> | wall | none
    wall_normal: np.ndarray | None = None  # inward normal of the wall it hangs on
    search_loss: float = float("inf")
    edited: bool = False  # set from the scene (a re-run): keep the chosen model, only refine the pose
    bottom_occluded: bool = False  # its lowest visible pixels border a nearer object: the true bottom is lower
    far_covered: bool = False  # its far (top) edge in the photo borders furniture: a rug goes on under it
    flags: list[str] = field(default_factory=list)  # scene.json's Object.flags
    cut: frozenset = frozenset()  # photo edges its mask reaches (top, bottom, left, right): it goes on beyond them
    standin: str = ""  # a stand-in's asset id (proxy:... or parametric:...): its parts are built, not retrieved
    relabel: str = ""  # what the geometry says it is where the segment's label is vaguer ("lamp" at the ceiling)

    @property
    def label(self) -> str:
        return self.relabel or self.segment.label

    def trial(self) -> "ObjectTarget":
        """A fresh target for the same segment (a candidate model to pose): what the photo says about the object
        (mask, points, border cuts, hidden bottom, what its geometry says it is) is kept, what the stage chose
        is not."""
        return ObjectTarget(self.segment, self.mask, self.points, self.name, cut=self.cut,
                            bottom_occluded=self.bottom_occluded, far_covered=self.far_covered,
                            relabel=self.relabel)

    @property
    def cut_top(self) -> bool:
        """Its visible top is not its top."""
        return "top" in self.cut

    def height_unseen(self, on_floor: bool) -> bool:
        """Whether the border hides how tall it is: its top is cut, or its bottom is and nothing says where the
        bottom is (standing on the floor, the floor is the bottom and the visible top is its top)."""
        return "top" in self.cut or ("bottom" in self.cut and not on_floor)


def cut_edges(mask: np.ndarray, min_pixels: int = 2) -> frozenset:
    """The photo edges a mask reaches with at least `min_pixels` pixels: the object goes on beyond them, so its
    visible extent there is a lower bound on its size, not its size (a stray pixel does not count)."""
    rows = {"top": mask[0], "bottom": mask[-1], "left": mask[:, 0], "right": mask[:, -1]}
    return frozenset(edge for edge, line in rows.items() if int(np.count_nonzero(line)) >= min_pixels)


def object_targets(case: Case, camera: Camera, erosion: int, min_pixels: int,
                   skip_labels=("window", "door", "wall", "floor", "ceiling")) -> list[ObjectTarget]:
    """Thing segments large enough to pose, with their world-space depth points."""
    pts_cam = backproject(case.depth, case.fov_y_deg) if case.depth is not None else None
    targets, counts = [], {}
    for seg in case.segments:
        if seg.kind != "thing" or seg.label in skip_labels:
            continue
        mask = case.segmentation == seg.id
        if mask.sum() < min_pixels:
            continue
        eroded = binary_erosion(mask, iterations=erosion) if erosion else mask
        if eroded.sum() < 10:
            eroded = mask
        if pts_cam is not None:
            valid = eroded & (case.depth > 0)
            points = camera.camera_to_world(pts_cam[valid])
        else:
            points = pseudo_object_points(case, camera, eroded)
        counts[seg.label] = counts.get(seg.label, 0) + 1
        name = f"{seg.label.replace(' ', '_')}_{counts[seg.label]}"
        target = ObjectTarget(seg, mask, points, name)
        target.cut = cut_edges(mask)
        things = {s.id for s in case.segments if s.kind == "thing" and s.id != seg.id}
        target.far_covered = far_edge_covered(mask, case.segmentation, things)
        if case.depth is not None:
            target.bottom_occluded = bottom_occluded(mask, case.segmentation, case.depth, things)
        targets.append(target)
    return targets


def ceiling_lamps(targets: list[ObjectTarget], floor_z: float, ceiling_z: float, reach_m: float = 0.25,
                  above: float = 0.6) -> list[str]:
    """Relabel lamps that hang from the ceiling as "ceiling lamp" (a segmenter says "lamp" for a table lamp and a
    ceiling disc alike, and a table lamp's model put at the ceiling is a tall object where a flat one is): its
    depth points reach within `reach_m` of the ceiling and all lie in the room's top (1 - `above`) of the height.
    Returns the names relabelled."""
    from assets_index import normalize_category

    out = []
    height = ceiling_z - floor_z
    for tg in targets:
        if normalize_category(tg.label) != "lamp" or len(tg.points) < 10:
            continue
        low, high = np.percentile(tg.points[:, 2], [5, 98])
        if high >= ceiling_z - reach_m and low >= floor_z + above * height:
            tg.relabel = "ceiling lamp"
            out.append(tg.name)
    return out


def bottom_occluded(mask: np.ndarray, segmentation: np.ndarray, depth: np.ndarray, occluder_ids: set,
                    margin_m: float = 0.05) -> bool:
    """Whether most of the mask's lowest pixels sit right above a nearer object: then the object goes on behind
    it, and its visible bottom is not its real bottom (a lamp on a nightstand behind a bed). Only columns
    reaching within 2 pixels of the mask's lowest row count: a lamp's shade ends above the wall, its foot is
    what stands on something."""
    rows_any = np.flatnonzero(mask.any(axis=1))
    if len(rows_any) == 0:
        return False
    lowest = np.where(mask.any(axis=0), mask.shape[0] - 1 - np.argmax(mask[::-1], axis=0), -1)
    cols = np.flatnonzero(lowest >= rows_any.max() - 2)
    h = mask.shape[0]
    hidden = seen = 0
    for c in cols:
        r = int(lowest[c])
        if r + 2 >= h or depth[r, c] <= 0:
            continue
        seen += 1
        below = segmentation[r + 1:r + 3, c]
        d_below = depth[r + 1:r + 3, c]
        if any(b in occluder_ids and 0 < d < depth[r, c] - margin_m for b, d in zip(below, d_below)):
            hidden += 1
    return seen > 0 and hidden > 0.5 * seen


def far_edge_covered(mask: np.ndarray, segmentation: np.ndarray, occluder_ids: set) -> bool:
    """Whether, in most columns, the pixels right above the mask's topmost one belong to another object: for
    something flat on the floor, its far edge is then not its end but where furniture standing on it (or in front
    of its end) hides it; where the floor shows above it, the edge is its own."""
    cols = np.flatnonzero(mask[2:].any(axis=0) & ~mask[:2].any(axis=0))
    if len(cols) == 0:
        return False
    top = np.argmax(mask[:, cols], axis=0)
    above = [segmentation[max(int(r) - 2, 0):int(r), c] for r, c in zip(top, cols)]
    covered = sum(any(int(v) in occluder_ids for v in a) for a in above)
    return covered > 0.5 * len(cols)


def pseudo_object_points(case: Case, camera: Camera, mask: np.ndarray) -> np.ndarray:
    """World points for an object when no depth is given: in each image column the mask's lowest pixel is taken
    to touch the floor (z = 0); the pixels above it lie on the vertical plane through that point that faces the
    camera. Rough, but enough to place, scale and search the object; the masks refine it."""
    rays = pixel_rays(case.width, case.height, case.fov_y_deg) @ camera.R.T  # world directions
    origin = camera.t
    points = []
    for col in np.flatnonzero(mask.any(axis=0)):
        rows = np.flatnonzero(mask[:, col])
        base_ray = rays[rows.max(), col]
        if base_ray[2] >= -1e-6:
            continue  # the lowest pixel looks above the horizon: it cannot touch the floor
        base = origin + base_ray * (-origin[2] / base_ray[2])
        view = base[:2] - origin[:2]
        view /= max(np.linalg.norm(view), 1e-9)
        for row in rows:
            r = rays[row, col]
            denom = r[:2] @ view
            if denom > 1e-6:
                points.append(origin + r * (((base[:2] - origin[:2]) @ view) / denom))
    return np.asarray(points).reshape(-1, 3)


def size_hint(target: ObjectTarget) -> tuple[float, float, float]:
    """Rough (w, d, h) from the visible points: horizontal spread (larger first) and height above the floor."""
    p = target.points
    if len(p) < 5:
        return (0.8, 0.6, 0.8)
    xy = p[:, :2] - np.median(p[:, :2], axis=0)
    evals, evecs = np.linalg.eigh(np.cov(xy.T))
    spread = np.percentile(np.abs(xy @ evecs), 95, axis=0) * 2
    h = float(np.percentile(p[:, 2], 98))
    return (float(max(spread)), float(max(min(spread), 0.2)), max(h, 0.1))


def size_lower_bounds(target: ObjectTarget) -> tuple[bool, bool, bool]:
    """Which axes of `size_hint` are only lower bounds: the footprint (w, d) when the photo's left, right or
    bottom border cuts the object; the height when the top border cuts it (`size_hint` measures it from the
    floor, so a hidden bottom does not shorten it)."""
    across = bool(target.cut & {"left", "right", "bottom"})
    return (across, across, "top" in target.cut)


def stands_on_floor(label: str) -> bool:
    """Whether the category stands on the floor even when its bottom is hidden (a nightstand behind a bed): a
    prior the geometric test alone cannot give. Small things (lamps, plants, televisions) may rest on others.
    The one placement table is assets_index.categories.PLACEMENT."""
    return placement(label) == "floor"


def touches(a: np.ndarray, b: np.ndarray, px: int = 2) -> bool:
    return bool((binary_dilation(a, iterations=px) & b).any())


def hangs_from_ceiling(target: ObjectTarget) -> bool:
    """Whether the object hangs with its top at the ceiling (a ceiling lamp, by label or by `ceiling_lamps`)."""
    return normalize_category(target.label) == "ceiling lamp"


FLAT = 0.25  # a model this much lower than its footprint is wide is flat (a rug): scaled by its footprint
SCALE_RANGE = (0.5, 2.0)  # how far a first scale may stray from the model's real size


def clamp_scale(scale: float, unit_scale: float = 1.0) -> float:
    """A first scale kept within `SCALE_RANGE` of the model's real size (`unit_scale`: a stylised pack's models
    have it below 1). Relative to the real size, not the file's units: a pack drawn 1.4 times real whose table lamp
    stands 0.45 m in the photo needs about 0.45 of its file size; a clamp at 0.5 of the file kept the very model
    from fitting (tune room 4 of bench realistic, model present)."""
    lo, hi = SCALE_RANGE
    return float(np.clip(scale, lo * unit_scale, hi * unit_scale))


def initial_pose(target: ObjectTarget, camera: Camera, floor_mask: np.ndarray, floor_contact_m: float,
                 room: Room, base: float | None = None) -> Pose:
    """A first pose from the object's depth points.

    Horizontal centre: the points' median across the view, and along the view the nearest visible surface
    (10th percentile of the points' distance) plus half the model's smaller footprint side, since only the front
    is seen (a median would follow whatever is visible through an open shelf). The footprint is then kept
    inside the room. Bottom on the floor when it is close and the masks meet, or when the category always stands
    on the floor; scale from the visible height. PSDR-Room starts objects at half their point-cloud radius and
    lets them grow; our models have real sizes and the depth is metric (or prior-scaled), so the visible height
    is a better first scale."""
    assert target.size is not None
    p = target.points
    w, d, h = target.size
    if len(p) < 5:
        return Pose(np.array([0.0, 0.0, 0.0]), 0.0, 1.0)
    bottom = float(np.percentile(p[:, 2], 2))
    top = float(np.percentile(p[:, 2], 98))
    on_floor = (bottom < floor_contact_m and touches(target.mask, floor_mask, 3)) or stands_on_floor(target.label)
    hung = base is None and room is not None and hangs_from_ceiling(target)
    if hung:
        # Hung from the ceiling: its top there, scaled so its bottom is the lowest seen point (a pendant's cord
        # is too thin to be in the mask, so the seen height says little; the drop from the ceiling says it).
        on_floor = False
        scale = clamp_scale((room.ceiling_z - bottom) / max(h, 1e-3), target.unit_scale)
        base = room.ceiling_z - h * scale
    else:
        if base is not None:  # known from a support found under a hidden bottom, or the floor under it
            on_floor = target.contact == "floor"
        else:
            base = 0.0 if on_floor else bottom
        scale = clamp_scale((top - base) / max(h, 1e-3), target.unit_scale)
    if not hung and h < FLAT * max(w, d):
        # A rug or a mat: its seen thickness says nothing of its size (a rug of 7 cm started at the lower clamp),
        # its footprint does; hidden under furniture or cut by the border, that is a lower bound.
        scale = clamp_scale(max(size_hint(target)[:2]) / max(w, d, 1e-3), target.unit_scale)
        if target.far_covered or target.cut:
            scale = max(scale, target.unit_scale)
    elif not hung and target.height_unseen(base == 0.0):  # the visible height is a lower bound: the model's own
        scale = max(scale, target.unit_scale)                  # is likelier

    rel = p[:, :2] - camera.t[:2]
    view = np.median(rel, axis=0)
    view /= max(np.linalg.norm(view), 1e-6)
    across = np.array([-view[1], view[0]])  # towards the photo's left
    along_front = float(np.percentile(rel @ view, 10))
    half = 0.5 * min(w, d) * scale
    xy = camera.t[:2] + view * (along_front + half) + across * across_centre(rel @ across, target.cut,
                                                                             0.5 * max(w, d) * scale)
    # Keep the footprint (its smaller half-side) inside the room's walls.
    lo, hi = room.bounds_local()
    local = room.rotation().T @ np.array([xy[0] - room.center[0], xy[1] - room.center[1], 0.0])
    local[:2] = np.clip(local[:2], lo[:2] + half, hi[:2] - half)
    xy = (room.rotation() @ local)[:2] + np.asarray(room.center[:2])
    if not target.contact.startswith("support:"):
        target.contact = "floor" if on_floor else "none"
    return Pose(np.array([xy[0], xy[1], base]), 0.0, scale)


def across_centre(across: np.ndarray, cut: frozenset, half_width: float) -> float:
    """Where the object's centre lies across the view (positive = the photo's left) from its points' offsets
    `across`. Seen whole: the points' median. Cut by the photo's left or right edge only: the inner edge (the one
    inside the frame) is the object's edge, and the model's half width goes on from it towards the cut, so the
    hidden part stays outside the frame instead of the model shrinking or sliding to fit the visible part."""
    inner_left, inner_right = float(np.percentile(across, 98)), float(np.percentile(across, 2))
    if "left" in cut and "right" not in cut:
        return max(inner_right + half_width, float(np.median(across)))
    if "right" in cut and "left" not in cut:
        return min(inner_left - half_width, float(np.median(across)))
    return float(np.median(across))


@dataclass
class SearchTargets:
    """Per-object target maps at the search/refinement resolution."""

    width: int
    height: int
    masks: list[np.ndarray]  # soft masks per object
    depth_ray: np.ndarray  # target ray distance (0 = unknown)
    occupied: np.ndarray  # any object's pixels
    photo: np.ndarray | None = None  # HxWx3 linear photo at this resolution (appearance comparisons)


def search_targets(case: Case, targets: list[ObjectTarget], width: int) -> SearchTargets:
    height = max(1, round(width * case.height / case.width))
    size = (width, height)
    masks = [resize_area(t.mask.astype(np.float32), size) for t in targets]
    depth = np.zeros((height, width), np.float32)
    if case.depth is not None:
        depth = resize_area(case.depth, size) * np.linalg.norm(pixel_rays(width, height, case.fov_y_deg), axis=-1)
        valid = resize_nearest((case.depth > 0).astype(np.int32), size) > 0
        depth = np.where(valid, depth, 0.0).astype(np.float32)
    occupied = (sum(masks) > 0.5) if masks else np.zeros((height, width), bool)
    return SearchTargets(width, height, masks, depth, occupied, resize_area(case.photo_linear, size))


def silhouette_loss(mask: np.ndarray, depth: np.ndarray, t: SearchTargets, i: int, depth_weight: float,
                    normalise: bool = False) -> float:
    """Mask L1 over pixels not owned by another object, + depth L1 where both masks agree (normalised).

    Pixels of another object's mask are left out: an occluder hides this object there, so a silhouette that
    reaches behind it is not wrong. `normalise` divides the mask term by the target's area instead of the
    image's (a fraction of the object, not of the photo), so it can be weighed against per-object priors when
    candidates are compared."""
    own = t.masks[i]
    others = t.occupied & (own < 0.5)
    keep = ~others
    err = np.abs(mask - own)[keep]
    loss = float(err.sum() / max(float(own.sum()), 1.0)) if normalise else float(err.mean())
    both = (mask > 0.5) & (own > 0.5) & (t.depth_ray > 0) & (depth > 0)
    if depth_weight > 0 and both.sum() > 5:
        loss += depth_weight * float(np.abs(depth[both] - t.depth_ray[both]).mean() / t.depth_ray[both].mean())
    return loss


def align_to_points(samples: np.ndarray, points: np.ndarray, pose: Pose, free_z: bool, iters: int = 4,
                    clip_m: float = 0.3) -> np.ndarray:
    """The pose's location moved so the depth points lie on the posed model (a few rounds of translation-only
    ICP, one-sided: each point to its nearest model sample, median shift of the pairs closer than `clip_m`).
    Only the front of an object is seen, so where its centre lies along the view depends on the yaw: each yaw
    of the search gets its own place. z moves only for objects not standing on something."""
    from scipy.spatial import cKDTree

    loc = np.asarray(pose.location, float).copy()
    if len(points) < 10:
        return loc
    if len(points) > 300:  # a few hundred pin a translation; thousands only cost time (it runs per yaw)
        points = points[np.random.default_rng(0).choice(len(points), 300, replace=False)]
    for _ in range(iters):
        posed_s = Pose(loc, pose.yaw, pose.scale, pose.aspect).apply(samples)
        dist, nearest = cKDTree(posed_s).query(points)
        close = dist < clip_m
        if close.sum() < 10:
            break
        shift = np.median(points[close] - posed_s[nearest[close]], axis=0)
        if not free_z:
            shift[2] = 0.0
        loc += shift
        if np.linalg.norm(shift) < 1e-3:
            break
    return loc


def visible_samples(renderer: RigidSearchRenderer, samples: np.ndarray, location, yaw: float,
                    tolerance_m: float = 0.01) -> np.ndarray:
    """Which model surface samples (canonical frame, already scaled like the renderer's mesh) the camera sees
    with the object at `location` and `yaw`: a ray from the camera towards each sample must not hit the model
    first. Only visible surfaces give depth points, so only they may be matched to them: a cabinet's body face
    behind its door panel is a surface too, and matching the front points to it put the model 2 cm too far
    forwards whenever its doors faced the camera (the room-facing yaw then lost to the wall-facing one)."""
    import mitsuba as mi

    c, s = math.cos(yaw), math.sin(yaw)
    rot_t = np.array([[c, s, 0.0], [-s, c, 0.0], [0.0, 0.0, 1.0]])  # world -> object rotation
    eye = rot_t @ (renderer.camera_to_world[:3, 3] - np.asarray(location, float))
    d = np.asarray(samples, float) - eye
    dist = np.linalg.norm(d, axis=1)
    d /= np.maximum(dist, 1e-9)[:, None]
    n = len(d)
    ray = mi.Ray3f(mi.Point3f(*[np.full(n, v, np.float32) for v in eye]),
                   mi.Vector3f(*[np.ascontiguousarray(d[:, k], np.float32) for k in range(3)]))
    hit = np.array(renderer.scene.ray_intersect(ray).t)
    return hit >= dist - tolerance_m


def yaw_search(renderer: RigidSearchRenderer, target: ObjectTarget, t: SearchTargets, index: int, steps: int,
               depth_weight: float, normalise: bool = False,
               samples: np.ndarray | None = None, offset: float = 0.0) -> list[tuple[float, float, np.ndarray]]:
    """Loss of each of `steps` yaws of the object alone: [(yaw, loss, location)]. With model surface `samples`
    (canonical frame, unscaled), each yaw is first placed on the depth points (`align_to_points`, with the
    samples the camera sees at that yaw); else every yaw keeps the target's location."""
    assert target.pose is not None
    tried = []
    for k in range(steps):
        yaw = (offset + 2 * math.pi * k / steps) % (2 * math.pi)
        loc = target.pose.location
        if samples is not None:
            seen = visible_samples(renderer, samples * target.pose.scales, loc, yaw)
            loc = align_to_points(samples[seen] if seen.sum() >= 20 else samples, target.points,
                                  Pose(loc, yaw, target.pose.scale, target.pose.aspect),
                                  free_z=target.contact == "none")
        mask, depth = renderer.render(loc, yaw, seed=k)
        tried.append((yaw, silhouette_loss(mask, depth, t, index, depth_weight, normalise), np.asarray(loc)))
    return tried


def front_of(yaw: float) -> np.ndarray:
    """World direction of a model's front (canonical -Y) at `yaw`: Rz(yaw) @ (0, -1, 0)."""
    return np.array([math.sin(yaw), -math.cos(yaw), 0.0])


# Categories that nearly always stand with their back to a wall (a bed's headboard, a sofa's back, a wardrobe's
# back panel): their silhouettes seen from the front and from the back differ little once pillows, cushions and
# doors are in the mask, so near a wall the back-to-wall yaw is taken at a larger loss margin than for others.
BACKED_CATEGORIES = frozenset({"bed", "sofa", "wardrobe", "bookshelf", "sideboard", "chest of drawers",
                               "tv stand"})


def yaw_tolerance(label: str, default: float = 0.15, backed: float = 0.35) -> float:
    """The relative loss margin within which `choose_yaw`'s priors may overrule the best fit for `label`."""
    return backed if normalize_category(label) in BACKED_CATEGORIES else default


def choose_yaw(tried: list[tuple], location: np.ndarray, room: Room, near_wall_m: float,
               tolerance: float = 0.15, camera_xy: np.ndarray | None = None) -> tuple:
    """The best (yaw, loss, ...) entry, unless the fit cannot tell front from back (silhouettes of box-like
    furniture are the same both ways; depth sees a door panel's 2 cm at best):

    - near a wall, a piece stands with its back (canonical +Y) to a wall when that costs at most `tolerance`
      (relative) in loss: furniture is rarely turned to face the wall;
    - elsewhere, with `camera_xy`, when the best yaw turns the front away from the camera, the best yaw turned
      by 180 (else 90) degrees is taken when it costs at most `tolerance` and its front faces the camera (photos
      are taken of the fronts of things)."""
    best = min(tried, key=lambda yl: yl[1])
    best_loss = best[1]
    ties = [e for e in tried if e[1] <= best_loss * (1 + tolerance) + 1e-6]
    lo, hi = room.bounds_local()
    local = (np.asarray(location) - np.asarray(room.center)) @ room.rotation()
    gaps = {(0, -1): local[0] - lo[0], (0, 1): hi[0] - local[0], (1, -1): local[1] - lo[1], (1, 1): hi[1] - local[1]}
    if min(gaps.values()) <= near_wall_m:
        # Back to a wall: the wall straight behind the piece (along its back, canonical +Y) is within reach. Not
        # only the nearest wall: a bed in a corner has a side wall nearest and its headboard on the other.
        def back_gap(yaw: float) -> float:
            d = room.rotation().T @ -front_of(yaw)
            hits = [((hi[a] if d[a] > 0 else lo[a]) - local[a]) / d[a] for a in (0, 1) if abs(d[a]) > 1e-6]
            return min(hits) if hits else math.inf

        backed = [e for e in ties if back_gap(e[0]) <= near_wall_m]
        return min(backed, key=lambda yl: yl[1]) if backed else best
    if camera_xy is None:
        return best
    to_camera = np.append(np.asarray(camera_xy, float)[:2] - np.asarray(location, float)[:2], 0.0)
    to_camera /= max(float(np.linalg.norm(to_camera)), 1e-9)

    def turn(a: float, b: float) -> float:  # unsigned angle between two yaws
        return abs((a - b + math.pi) % (2 * math.pi) - math.pi)

    if float(front_of(best[0]) @ to_camera) < -0.25:
        # Turned away from the camera: a tie turned by a half or a quarter turn that faces it is taken (box-like
        # and near-square furniture look the same from several sides), the half turn first.
        for quarter in (2, 1, 3):
            turned = [e for e in ties if turn(e[0], best[0] + quarter * math.pi / 2) < math.radians(20)
                      and float(front_of(e[0]) @ to_camera) > 0.25]
            if turned:
                return min(turned, key=lambda yl: yl[1])
    return best


def over_footprint(xy: np.ndarray, other: ObjectTarget, margin_m: float) -> bool:
    """Whether a point lies over another object's posed footprint (grown by `margin_m`)."""
    c, s = math.cos(other.pose.yaw), math.sin(other.pose.yaw)
    d = np.asarray(xy[:2], float) - other.pose.location[:2]
    local = np.array([c * d[0] + s * d[1], -s * d[0] + c * d[1]])
    half = 0.5 * other.pose.scales[:2] * other.size[:2] + margin_m
    return bool(np.all(np.abs(local) <= half))


def assign_contacts(targets: list[ObjectTarget], room: Room, support_gap_m: float, wall_contact_m: float,
                    footprint_margin_m: float = 0.15) -> list[ObjectTarget]:
    """Supports (an object resting on a neighbour's top) and wall mounts, for objects not on the floor.

    A support's top must be within `support_gap_m` of the object's bottom, its mask must touch the object's,
    and the object must stand over its footprint (a lamp seen above a bed's headboard is not on the bed). When
    the object's bottom is hidden behind a nearer object, its visible bottom is only an upper bound: any support
    whose top is lower qualifies (the highest wins). With none, no wall behind it and nothing under it
    (`nothing_under`), it stands on the floor: a floor lamp behind a table was posed as a table lamp floating at
    the table's height. Returns the objects set down on such a lower support or the floor (their scale and
    search must be redone from the new base)."""
    lowered = []
    for t in targets:
        if t.contact == "floor" or t.pose is None or len(t.points) < 5:
            continue
        bottom = t.pose.location[2]
        best = None
        for other in targets:
            if other is t or other.pose is None or other.size is None:
                continue
            top = other.pose.location[2] + other.pose.scales[2] * other.size[2]
            near = abs(top - bottom) < support_gap_m or (t.bottom_occluded and top < bottom)
            if near and touches(t.mask, other.mask, 2) and over_footprint(t.pose.location, other,
                                                                          footprint_margin_m):
                if best is None or abs(top - bottom) < best[0]:
                    best = (abs(top - bottom), other, top)
        if best is not None:
            t.contact = f"support:{best[1].name}"
            if best[2] < bottom - support_gap_m:
                lowered.append(t)
            t.pose.location[2] = best[2]
            continue
        # Wall-mounted: the points hug one of the room's walls.
        lo, hi = room.bounds_local()
        local = (t.points - np.asarray(room.center)) @ room.rotation()
        gaps = {(0, -1): np.median(local[:, 0] - lo[0]), (0, 1): np.median(hi[0] - local[:, 0]),
                (1, -1): np.median(local[:, 1] - lo[1]), (1, 1): np.median(hi[1] - local[:, 1])}
        (axis, side), gap = min(gaps.items(), key=lambda kv: kv[1])
        if gap < wall_contact_m:
            t.contact = "wall"
            normal = np.zeros(3)
            normal[axis] = -side  # inward
            t.wall_normal = room.rotation() @ normal
        elif t.bottom_occluded and bottom > support_gap_m and nothing_under(t, targets, footprint_margin_m):
            t.contact = "floor"
            t.pose.location[2] = 0.0
            lowered.append(t)
    return lowered


def nothing_under(target: ObjectTarget, others: list[ObjectTarget], margin_m: float) -> bool:
    """Whether no other object can be under `target`: its seen points' centre is over no other object's posed
    footprint (grown by `margin_m`) nor inside the outline, seen from above, of another object's own depth
    points. The points count because a support can be posed wrong: a bed posed 0.13 m short of its pillows
    (turned a quarter, too short) had them on the floor, though its mattress and headboard were seen around
    them."""
    from scipy.spatial import ConvexHull, QhullError

    centre = np.median(target.points[:, :2], axis=0)
    for o in others:
        if o is target or o.pose is None or o.size is None:
            continue
        if over_footprint(centre, o, margin_m):
            return False
        xy = np.asarray(o.points, float)[:, :2]
        if len(xy) >= 3:
            try:
                hull = ConvexHull(xy)
            except QhullError:  # points on a line: no area to stand over
                continue
            # the hull's facets as unit normals and offsets: inside (grown by the margin) where every one <= margin
            if np.all(hull.equations[:, :2] @ centre + hull.equations[:, 2] <= margin_m):
                return False
    return True


def settle_in_room(target: ObjectTarget, room: Room, snap_m: float) -> np.ndarray:
    """Move a floor-standing object so its posed footprint is inside the room's walls, and, when its back faces a
    wall less than `snap_m` away, back against that wall (furniture stands against walls; the depth only sees
    the front, so the back's place follows the model's depth, not the room's). Returns the shift (world)."""
    v = np.asarray(target.mesh[0], float)
    lo_c, hi_c = v.min(axis=0), v.max(axis=0)
    corners = np.array([[x, y, 0.0] for x in (lo_c[0], hi_c[0]) for y in (lo_c[1], hi_c[1])])
    world = target.pose.apply(corners)
    rot = room.rotation()
    local = (world - np.asarray(room.center)) @ rot
    lo, hi = room.bounds_local()
    shift = np.zeros(3)
    front = front_of(target.pose.yaw)
    for a in (0, 1):
        over_hi, over_lo = local[:, a].max() - hi[a], lo[a] - local[:, a].min()
        if over_hi > 0 and over_lo <= 0:
            shift[a] -= over_hi
        elif over_lo > 0 and over_hi <= 0:
            shift[a] += over_lo
        else:
            for side, gap in ((1, -over_hi), (-1, -over_lo)):
                inward = np.zeros(3)
                inward[a] = -side
                if 0 < gap < snap_m and float(front @ (rot @ inward)) > 0.9:  # its back to this wall
                    shift[a] += side * gap
    world_shift = rot @ shift
    target.pose.location = np.asarray(target.pose.location, float) + world_shift
    return world_shift
