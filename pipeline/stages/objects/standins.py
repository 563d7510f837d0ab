"""Stand-ins for objects the library cannot fit: a proxy built from the object's own mask and depth, and the
parametric soft furnishings (curtains and blinds on their wall, rugs flat on the floor) sized from the mask.

Both give (parts, Pose) in the library's convention (canonical frame: metres, Z up, front -Y, origin at the
bottom centre; the pose places it), so the stage poses, scores and exports them like any model.
"""

from __future__ import annotations

import math

import numpy as np

from assets_index import normalize_category
from blender_addon.scene_format import STANDIN_FLAGS
from pipeline.core.case import Case
from pipeline.core.geometry import pixel_rays
from pipeline.core.scene import Camera, Room
from pipeline.render.silhouettes import Pose
from .pose import ObjectTarget

# Categories built by a generator sized from the mask rather than retrieved (assets_index/builtin/soft.py).
PARAMETRIC = ("curtain", "blind", "rug")
FOLD_DEPTH_M = (0.02, 0.12)  # a parametric curtain's fold depth: flat-hung to deeply pleated
PROXY_PREFIX, PARAMETRIC_PREFIX = STANDIN_FLAGS  # "proxy:", "parametric:" (the scene contract's)


def is_parametric(label: str) -> bool:
    return normalize_category(label) in PARAMETRIC


def is_standin(asset_id: str | None) -> bool:
    """Whether a scene.json asset id names a stand-in (no library holds it: it is rebuilt from the mask)."""
    return bool(asset_id) and asset_id.startswith((PROXY_PREFIX, PARAMETRIC_PREFIX))


def _trimesh(vertices: np.ndarray, faces: np.ndarray):
    # lazy: loads trimesh, which importing this module does not
    import trimesh

    return trimesh.Trimesh(np.asarray(vertices, float), np.asarray(faces, np.int64), process=False)


def _box(lo, hi) -> tuple[np.ndarray, np.ndarray]:
    """An axis-aligned box's 8 corners and 12 outward triangles."""
    (x0, y0, z0), (x1, y1, z1) = lo, hi
    v = np.array([[x0, y0, z0], [x1, y0, z0], [x1, y1, z0], [x0, y1, z0],
                  [x0, y0, z1], [x1, y0, z1], [x1, y1, z1], [x0, y1, z1]], float)
    f = np.array([[0, 2, 1], [0, 3, 2], [4, 5, 6], [4, 6, 7], [0, 1, 5], [0, 5, 4],
                  [1, 2, 6], [1, 6, 5], [2, 3, 7], [2, 7, 6], [3, 0, 4], [3, 4, 7]])
    return v, f


def _world_rays(case: Case, camera: Camera, mask: np.ndarray) -> np.ndarray:
    """World directions of the rays through the mask's pixels."""
    rays = pixel_rays(case.width, case.height, case.fov_y_deg) @ np.asarray(camera.R).T
    return rays[mask]


def _view_frame(points: np.ndarray, camera: Camera) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(camera origin, points' horizontal offsets from it, unit horizontal view direction towards them, unit
    across direction): the frame both proxies are built in, facing the camera."""
    origin = np.asarray(camera.t, float)
    rel = points[:, :2] - origin[:2]
    view = np.median(rel, axis=0)
    view /= max(float(np.linalg.norm(view)), 1e-9)
    return origin, rel, view, np.array([-view[1], view[0]])


def silhouette_parts(target: ObjectTarget, case: Case, camera: Camera, cells: int = 32,
                depth_range: tuple[float, float] = (0.1, 1.5)) -> tuple[dict, Pose] | None:
    """An extruded silhouette (for what stands on other things or hangs: a lamp's arm, a radio): the mask
    projected onto the vertical plane facing the camera at the object's nearest visible surface (10th percentile of its depth points along the view), rasterised into up to
    `cells` x `cells` cells, each row's runs extruded backwards by the points' spread along the view (clipped
    to `depth_range`). Seen from the camera it covers the mask; its depth is what the photo shows of it.
    None when the object has too few depth points to place it."""
    p = target.points
    if len(p) < 10:
        return None
    origin, rel, view, across = _view_frame(p, camera)
    along = rel @ view
    front = float(np.percentile(along, 10))
    depth = float(np.clip(np.percentile(along, 95) - np.percentile(along, 5), *depth_range))
    rays = _world_rays(case, camera, target.mask)
    denom = rays[:, :2] @ view
    rays = rays[denom > 1e-6]
    if len(rays) < 10:
        return None
    hit = origin + rays * (front / (rays[:, :2] @ view))[:, None]
    u = (hit[:, :2] - origin[:2]) @ across
    z = np.maximum(hit[:, 2], 0.0)  # nothing goes below the floor
    bottom = float(np.percentile(p[:, 2], 2))
    if bottom < 0.12:  # standing on the floor: the proxy reaches it
        z = np.concatenate([z, np.zeros(1)])
        u = np.concatenate([u, [np.median(u)]])
    u0, u1, z0, z1 = u.min(), u.max(), z.min(), z.max()
    step = max(u1 - u0, z1 - z0, 1e-3) / cells
    nu, nz = max(1, int(math.ceil((u1 - u0) / step))), max(1, int(math.ceil((z1 - z0) / step)))
    grid = np.zeros((nz, nu), bool)
    grid[np.clip(((z - z0) / step).astype(int), 0, nz - 1), np.clip(((u - u0) / step).astype(int), 0, nu - 1)] = True
    uc = 0.5 * (u0 + u1)
    verts, faces = [], []
    for row in range(nz):
        cols = np.flatnonzero(grid[row])
        if not len(cols):
            continue
        runs = np.split(cols, np.flatnonzero(np.diff(cols) > 1) + 1)
        for run in runs:  # one box per run of filled cells: canonical Y back, Z up, X = -across (front at -Y)
            v, f = _box((uc - u0 - (run[-1] + 1) * step, -depth / 2, row * step),
                        (uc - u0 - run[0] * step, depth / 2, (row + 1) * step))
            faces.append(f + sum(len(x) for x in verts))
            verts.append(v)
    if not verts:
        return None
    centre_xy = origin[:2] + view * (front + depth / 2) + across * uc
    yaw = math.atan2(-view[0], view[1])  # front (-Y) towards the camera: front_of(yaw) = -view
    pose = Pose(np.array([centre_xy[0], centre_xy[1], z0]), yaw, 1.0)
    return {"proxy": _trimesh(np.vstack(verts), np.vstack(faces))}, pose


def proxy_parts(target: ObjectTarget, case: Case, camera: Camera) -> tuple[dict, Pose, str] | None:
    """The proxy of an object: (parts, pose, kind). Furniture that stands on the floor (`stands_on_floor`) is a
    relief of its depth points (`relief_parts`: solid, grounded, a bed with its headboard); anything else (a
    lamp, a radio, a vase: thin parts the eroded mask's points miss) its mask extruded (`silhouette_parts`, which
    covers the mask by construction). kind names it in the asset id (`proxy:relief`, `proxy:extruded_silhouette`).
    None when the object has too few depth points."""
    from .pose import stands_on_floor

    if stands_on_floor(target.label):
        built, kind = relief_parts(target, camera), "relief"
    else:
        built, kind = silhouette_parts(target, case, camera), "extruded_silhouette"
    return None if built is None else (*built, kind)


def _nan_median(values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    return float(np.median(finite)) if len(finite) else np.nan


def relief_parts(target: ObjectTarget, camera: Camera, cells: int = 24,
                max_depth_m: float = 3.0) -> tuple[dict, Pose] | None:
    """A relief (for furniture that stands on the floor): the object's depth points binned on a floor grid facing the camera (`cells` cells along its
    longest extent), each cell a column from the object's base up to the highest point in it. Within a column
    (a line of cells going away from the camera) the unseen cells between and behind the seen ones take the
    height of the nearest seen cell in front, back to at least the category's typical depth (what is hidden
    behind a wardrobe's front is wardrobe); a column the mask's holes left empty between two filled ones takes
    the lower of its neighbours. A bed seen from its foot comes out as a mattress-high block with its headboard
    at the back, not a slab. The base is the floor when the object reaches it (or its category always stands
    there), else its lowest point; each height is the median of its neighbours across the view. Seen from the
    camera it covers what the points cover. None when the object has too few depth points to place it."""
    # lazy: the categories table (assets_index), which importing this module does not need otherwise
    from assets_index.categories import TYPICAL_SIZE

    from .pose import stands_on_floor

    p = target.points
    if len(p) < 10:
        return None
    lo, hi = np.percentile(p, 1, axis=0), np.percentile(p, 99, axis=0)  # stray depth at the mask's rim
    p = p[np.all((p >= lo - 1e-9) & (p <= hi + 1e-9), axis=1)]
    if len(p) < 10:
        return None
    origin, rel, view, across = _view_frame(p, camera)
    u, v, z = rel @ across, rel @ view, p[:, 2]
    category = normalize_category(target.label)
    typical = TYPICAL_SIZE.get(category)
    min_depth = float(min(typical[:2])) if typical else 0.1
    base = 0.0 if float(np.percentile(z, 2)) < 0.12 or stands_on_floor(target.label) else float(z.min())
    u0, v0 = float(u.min()), float(v.min())
    depth = float(np.clip(max(v.max() - v0, min_depth), 0.02, max_depth_m))
    step = max(float(u.max() - u0), depth, float(z.max() - base), 0.05) / cells
    nu = max(1, int(math.ceil((u.max() - u0) / step)))
    nv = max(1, int(math.ceil(depth / step)))
    iu = np.clip(((u - u0) / step).astype(int), 0, nu - 1)
    iv = np.clip(((v - v0) / step).astype(int), 0, nv - 1)
    top = np.full((nu, nv), -np.inf)
    np.maximum.at(top, (iu, iv), z)
    for col in top:  # forward fill: hidden cells take the height of the nearest seen cell in front of them
        seen = np.flatnonzero(np.isfinite(col))
        if len(seen):
            for k in range(seen[0] + 1, nv):
                if not np.isfinite(col[k]):
                    col[k] = col[k - 1]
    filled = np.isfinite(top).any(axis=1)
    for j in range(1, nu - 1):  # a column the mask's holes left empty, between filled ones
        if not filled[j] and filled[:j].any() and filled[j + 1:].any():
            left, right = top[np.flatnonzero(filled[:j])[-1]], top[j + 1 + np.flatnonzero(filled[j + 1:])[0]]
            top[j] = np.minimum(left, right)
    # Each filled cell takes the median of itself and its filled neighbours across the view (not along it: a
    # headboard is one cell deep): the seen surface's noise (a carved headboard's edge, stray depth) would
    # otherwise stand as a row of organ pipes.
    from scipy.ndimage import generic_filter

    smooth = generic_filter(np.where(np.isfinite(top), top, np.nan), _nan_median, size=(3, 1), mode="constant",
                            cval=np.nan)
    top = np.where(np.isfinite(top), smooth, top)
    heights = np.where(np.isfinite(top), np.maximum(top - base, step), 0.0)
    heights = np.round(heights / (step / 2)) * (step / 2)  # equal heights merge into one box below
    uc, vc = u0 + nu * step / 2, v0 + nv * step / 2
    verts, faces = [], []
    for j in range(nu):
        k = 0
        while k < nv:  # one box per run of cells of one height along the column: canonical Y back, X = -across
            if heights[j, k] <= 0:
                k += 1
                continue
            e = k
            while e + 1 < nv and heights[j, e + 1] == heights[j, k]:
                e += 1
            x0, x1 = uc - u0 - (j + 1) * step, uc - u0 - j * step
            y0, y1 = k * step - nv * step / 2, (e + 1) * step - nv * step / 2
            bv, bf = _box((x0, y0, 0.0), (x1, y1, heights[j, k]))
            faces.append(bf + sum(len(x) for x in verts))
            verts.append(bv)
            k = e + 1
    if not verts:
        return None
    centre_xy = origin[:2] + view * vc + across * uc
    yaw = math.atan2(-view[0], view[1])  # front (-Y) towards the camera: front_of(yaw) = -view
    pose = Pose(np.array([centre_xy[0], centre_xy[1], base]), yaw, 1.0)
    return {"proxy": _trimesh(np.vstack(verts), np.vstack(faces))}, pose


def _nearest_wall(points: np.ndarray, room: Room) -> tuple[np.ndarray, float, int, int]:
    """(inward normal, median gap in metres, axis, side) of the room wall the points lie closest to."""
    lo, hi = room.bounds_local()
    local = (points - np.asarray(room.center)) @ room.rotation()
    gaps = {(0, -1): np.median(local[:, 0] - lo[0]), (0, 1): np.median(hi[0] - local[:, 0]),
            (1, -1): np.median(local[:, 1] - lo[1]), (1, 1): np.median(hi[1] - local[:, 1])}
    (axis, side), gap = min(gaps.items(), key=lambda kv: kv[1])
    normal = np.zeros(3)
    normal[axis] = -side
    return room.rotation() @ normal, float(gap), axis, side


def unseen_directions(points: np.ndarray, camera_xy: np.ndarray) -> dict[str, np.ndarray]:
    """Unit floor-plane directions in which an object's unseen part lies, by the photo edge or cover that hides
    it: beyond the bottom edge towards the camera, beyond the left edge to the view's left, beyond its far edge
    away from the camera."""
    view = np.median(points[:, :2], axis=0) - np.asarray(camera_xy, float)[:2]
    view /= max(float(np.linalg.norm(view)), 1e-9)
    left = np.array([-view[1], view[0]])
    return {"bottom": -view, "left": left, "right": -left, "far": view}


def _rug_extent(lo: np.ndarray, hi: np.ndarray, target: ObjectTarget, room: Room,
                camera_xy: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """A rug's room-aligned extent (lo, hi) grown past the photo edges its mask is cut by, and past its far edge
    where furniture standing on it hides it (`far_covered`): seen, only its visible part is measured, and a rug
    does not end at the frame or under a bed. Each such side is moved out towards the hidden part until the rug
    spans the category's typical size on that axis (its long side there when the other axis is short of it),
    never through a wall; a rug seen whole keeps its measured extent."""
    from assets_index.categories import TYPICAL_SIZE

    cut = (target.cut - {"top"}) | ({"far"} if target.far_covered else set())
    if not cut or camera_xy is None:
        return lo, hi
    long_side, short_side = sorted(TYPICAL_SIZE["rug"][:2], reverse=True)
    hidden = unseen_directions(target.points, camera_xy)
    lo, hi = lo.copy(), hi.copy()
    room_lo, room_hi = room.bounds_local()
    sides: dict[int, set[int]] = {}  # room axis -> the directions (+1, -1) the unseen part lies in
    for edge in sorted(cut):
        d = (room.rotation().T @ np.append(hidden[edge], 0.0))[:2]
        a = int(np.argmax(np.abs(d)))
        if abs(d[a]) >= 0.5:
            sides.setdefault(a, set()).add(1 if d[a] > 0 else -1)
    for a in sorted(sides):
        other = hi[1 - a] - lo[1 - a]
        want = long_side if other < short_side * 1.2 else short_side
        grow = max(0.0, want - (hi[a] - lo[a])) / len(sides[a])  # hidden at both ends: half at each
        if 1 in sides[a]:
            hi[a] = min(hi[a] + grow, room_hi[a])
        if -1 in sides[a]:
            lo[a] = max(lo[a] - grow, room_lo[a])
    return lo, hi


def hanging_siblings(targets: list[ObjectTarget], room: Room, near_wall_m: float = 0.5) -> dict[str, ObjectTarget]:
    """{name: sibling} for each curtain or blind the photo's border cuts or a nearer object hides the bottom of,
    when another one of its kind on the same wall is seen whole: curtains on one wall hang from one rod to one
    length, so the whole one says how far the cut one goes on (a sliver at the frame's edge is a full curtain)."""
    hung = [tg for tg in targets if normalize_category(tg.label) in ("curtain", "blind") and len(tg.points) >= 10]
    walls = {tg.name: _nearest_wall(tg.points, room) for tg in hung}
    out = {}
    for tg in hung:
        if not (tg.cut or tg.bottom_occluded) or walls[tg.name][1] > near_wall_m:
            continue
        same = [o for o in hung if o is not tg and not (o.cut or o.bottom_occluded)
                and normalize_category(o.label) == normalize_category(tg.label)
                and walls[o.name][2:] == walls[tg.name][2:] and walls[o.name][1] <= near_wall_m]
        if same:
            out[tg.name] = max(same, key=lambda o: len(o.points))
    return out


def _hung_extent(points: np.ndarray, tangent: np.ndarray) -> tuple[float, float, float, float]:
    """(t0, t1, bottom, top): a hanging thing's extent along the wall and in height, robust to stray points."""
    t = points @ tangent
    t0, t1 = np.percentile(t, 2), np.percentile(t, 98)
    bottom, top = float(np.percentile(points[:, 2], 2)), float(np.percentile(points[:, 2], 98))
    return float(t0), float(t1), bottom, top


def parametric_parts(target: ObjectTarget, room: Room, near_wall_m: float = 0.5,
                     camera_xy: np.ndarray | None = None,
                     sibling: ObjectTarget | None = None) -> tuple[dict, Pose, str] | None:
    """A curtain or blind hung on the wall its points lie on (or facing into the room from where they are when
    no wall is within `near_wall_m`), or a rug flat on the floor aligned with the room, sized from the depth
    points' extent (a rug cut by the photo's border goes on past it, `_rug_extent`, with the camera at
    `camera_xy`; a cut or half-hidden curtain hangs as high and low and is as wide as its `sibling` on the
    same wall, `hanging_siblings`): (parts, pose, contact). None when too few points."""
    # lazy: loads trimesh, which importing this module does not
    from assets_index.builtin.soft import blind, curtain, rug
    from assets_index.meshutil import apply, canonical_transform

    p = target.points
    if len(p) < 10:
        return None
    category = normalize_category(target.label)
    room_yaw = math.radians(room.yaw_deg)
    if category == "rug":
        local = (p - np.asarray(room.center)) @ room.rotation()
        lo, hi = np.percentile(local[:, :2], 2, axis=0), np.percentile(local[:, :2], 98, axis=0)
        lo, hi = _rug_extent(lo, hi, target, room, camera_xy)
        width, depth = (float(v) for v in np.maximum(hi - lo, 0.3))
        parts, _ = rug(width, depth).build()
        centre = room.rotation() @ np.array([(lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, 0.0]) + np.asarray(room.center)
        parts = apply(parts, canonical_transform(parts))
        return parts, Pose(np.array([centre[0], centre[1], 0.0]), room_yaw, 1.0), "floor"
    normal, gap, _, _ = _nearest_wall(p, room)
    if gap > near_wall_m:  # no wall behind it: hang it facing into the room from the points' own plane
        normal = np.median(p, axis=0) - np.asarray(room.center)
        normal[2] = 0.0
        normal = -normal / max(float(np.linalg.norm(normal)), 1e-9)
    tangent = np.array([-normal[1], normal[0], 0.0])
    t0, t1, bottom, top = _hung_extent(p, tangent)
    if sibling is not None:
        s0, s1, s_bottom, s_top = _hung_extent(sibling.points, tangent)
        bottom, top = min(bottom, s_bottom), max(top, s_top)
        grow = max(0.0, (s1 - s0) - (t1 - t0))
        if grow > 0 and camera_xy is not None and target.cut & {"left", "right"}:
            beyond = unseen_directions(p, camera_xy)["left" if "left" in target.cut else "right"]
            t0, t1 = (t0, t1 + grow) if beyond @ tangent[:2] > 0 else (t0 - grow, t1)
    width, height = max(float(t1 - t0), 0.3), max(top - max(bottom, 0.0), 0.3)
    along = p @ normal  # distance into the room
    deepest, front = (float(v) for v in np.percentile(along, [2, 98]))
    # The folds as deep as the seen surface's relief (the generator's 8 cm default with its rod made every curtain
    # 14 cm deep), within what drapes do.
    fold = float(np.clip(front - deepest, *FOLD_DEPTH_M))
    builder = curtain(width, height, fold_depth=fold) if category == "curtain" else blind(width, height)
    parts, _ = builder.build()
    parts = apply(parts, canonical_transform(parts))
    thickness = float(max(m.bounds[1][1] for m in parts.values()) - min(m.bounds[0][1] for m in parts.values()))
    # The front where the seen surface is (the rod's brackets behind it are hidden), the back (+Y) towards the
    # wall, never through it.
    back = front - thickness
    if gap <= near_wall_m:
        back = max(back, float(np.median(along)) - gap)  # the wall plane
    centre = tangent * (t0 + t1) / 2 + normal * (back + thickness / 2)
    yaw = math.atan2(normal[0], -normal[1])  # front_of(yaw) = inward normal
    contact = "wall" if gap <= near_wall_m else "none"
    return parts, Pose(np.array([centre[0], centre[1], max(bottom, 0.0)]), yaw, 1.0), contact


def parts_size(parts: dict) -> np.ndarray:
    """Canonical extents (w, d, h) of a set of parts."""
    lo = np.min([m.bounds[0] for m in parts.values()], axis=0)
    hi = np.max([m.bounds[1] for m in parts.values()], axis=0)
    return hi - lo
