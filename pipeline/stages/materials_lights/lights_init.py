"""Initial lights (PSDR-Room 4.4): a ceiling grid, a light behind the camera, one per unseen wall, visible windows.

- Ceiling: split into cells of about `grid_m`; each cell's light is the cell scaled by `scale` (0.8), just under
  the ceiling, facing down; cells that lie behind the camera are dropped, and so are (as in the paper, unless
  `drop_in_view` is off) those the camera would see (any corner or the centre inside the frame). Lights are never
  seen by the camera in our renders (Mitsuba `hide_emitters`, Blender's light objects), so a light in view is only
  a light whose fixture the photo does not show.
- Behind the camera: one large panel facing the way the camera looks (lighting from where the photographer stood).
- Every wall the camera does not see gets a window-sized panel at its centre (an unseen window).
- Visible windows (segments labelled `window`) become panels fitted to the window's pixels on its wall; the photo
  shows their radiance directly, so they start at the median colour of their pixels.
- Visible lamps (`lamp_lights`) get a bulb: a small sphere of light in front of their brightest pixels; the fits
  decide its power (a lamp that is off ends dark and is pruned).
Lights are Blender area lights (rotation = world-from-light; they emit along their local -Z), bulbs point lights
with a radius.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline.core.case import Case
from pipeline.core.geometry import project
from pipeline.core.scene import Camera, Light, Room, ROOM_FACES
from pipeline.render.room_box import FACE_NAMES, camera_rays_world, depth_and_faces
from .colour_temperature import LUMINANCE


FILL_SOURCES = ("ceiling", "behind_camera", "unseen_wall")  # lights the photo does not show: one temperature


@dataclass
class LightInit:
    light: Light
    source: str  # ceiling | behind_camera | unseen_wall | window | lamp | sun
    radiance: np.ndarray  # linear RGB
    known: bool = False  # radiance measured from the photo (windows): not rescaled by the initial fit
    segment_id: int | None = None
    backing: str | None = None  # room face the panel lies on (it takes that face's material in Mitsuba)
    unit: float = 1.0  # the radiance the initial fits render it at as "one unit" (a small bulb: far above 1)
    # Its colour is its own (the sun's daylight), not the fills' shared temperature; with `known`, the initial
    # albedo sees it at its measured start and the refinement rounds refit its power.
    own_colour: bool = False


def frame_facing(forward: np.ndarray, up=(0.0, 0.0, 1.0)) -> np.ndarray:
    """World-from-light rotation of a panel emitting along `forward` (its local -Z), local +Y as close to `up`."""
    z = -np.asarray(forward, float)
    z /= np.linalg.norm(z)
    upv = np.asarray(up, float)
    if abs(upv @ z) > 0.95:
        upv = np.array([0.0, 1.0, 0.0])
    x = np.cross(upv, z)
    x /= np.linalg.norm(x)
    y = np.cross(z, x)
    return np.stack([x, y, z], axis=1)


def _seen_by_camera(camera: Camera, points: np.ndarray, margin_px: float = 2.0) -> bool:
    """True when any point projects inside the frame (with a margin) in front of the camera."""
    local = camera.world_to_camera(points)
    front = local[:, 2] < -1e-3
    if not front.any():
        return False
    px = project(local[front], camera.width, camera.height, camera.fov_y_deg)
    inside = ((px[:, 0] > -margin_px) & (px[:, 0] < camera.width + margin_px)
              & (px[:, 1] > -margin_px) & (px[:, 1] < camera.height + margin_px))
    return bool(inside.any())


def _rect_corners(centre: np.ndarray, rot: np.ndarray, size) -> np.ndarray:
    sx, sy = size
    offs = np.array([[-1, -1, 0], [1, -1, 0], [1, 1, 0], [-1, 1, 0]], float) * [sx / 2, sy / 2, 0]
    return centre + offs @ rot.T


def ceiling_grid(room: Room, camera: Camera, grid_m: float, scale: float, drop_in_view: bool = True,
                 max_panels: int = 4) -> list[LightInit]:
    """Ceiling lights: the cells of a `grid_m` grid, minus those behind the camera and (with `drop_in_view`) those
    in view, merged into at most `max_panels` panels (blocks of neighbouring cells, each the rectangle around its
    kept cells, scaled by `scale`). Merging keeps the light count, and so the initialisation's renders, bounded
    whatever the room's size, and gives the artist a few ceiling lamps instead of a grid of tiles."""
    sx, sy, sz = room.size
    nx, ny = max(1, round(sx / grid_m)), max(1, round(sy / grid_m))
    rz = room.rotation()
    top = room.center[2] + sz / 2 - 0.01
    forward = camera.R @ np.array([0.0, 0.0, -1.0])
    kept: list[tuple[int, int]] = []
    for i in range(nx):
        for j in range(ny):
            local = np.array([-sx / 2 + (i + 0.5) * sx / nx, -sy / 2 + (j + 0.5) * sy / ny, 0.0])
            centre = rz @ local + np.array([room.center[0], room.center[1], top])
            corners = _rect_corners(centre, rz, [scale * sx / nx, scale * sy / ny])
            if drop_in_view and _seen_by_camera(camera, np.vstack([corners, centre[None]])):
                continue
            if (centre - camera.t)[:2] @ forward[:2] < 0:  # behind the camera (horizontally)
                continue
            kept.append((i, j))
    if not kept:
        return []
    bx, by = _blocks(nx, ny, max(1, max_panels))
    groups: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for i, j in kept:
        groups.setdefault((i * bx // nx, j * by // ny), []).append((i, j))
    out = []
    for k, key in enumerate(sorted(groups)):
        cells = np.array(groups[key], float)
        # The rectangle around the kept cells (room-local, cell units), less the gap `scale` leaves at its rim.
        lo, hi = cells.min(0), cells.max(0) + 1.0
        margin = (1.0 - scale) / 2
        lo, hi = lo + margin, hi - margin
        cx, cy = (lo + hi) / 2
        local = np.array([-sx / 2 + cx * sx / nx, -sy / 2 + cy * sy / ny, 0.0])
        centre = rz @ local + np.array([room.center[0], room.center[1], top])
        size = [float((hi[0] - lo[0]) * sx / nx), float((hi[1] - lo[1]) * sy / ny)]
        name = "Ceiling lamp" if len(groups) == 1 else f"Ceiling lamp {k + 1}"
        light = Light(name, "area", centre.tolist(), rz.tolist(), size, source="ceiling")
        out.append(LightInit(light, "ceiling", np.ones(3), backing="ceiling"))
    return out


def _blocks(nx: int, ny: int, max_panels: int) -> tuple[int, int]:
    """Blocks along x and y (at most nx, ny) with bx * by <= max_panels, as square in cells as possible."""
    best = (1, 1)
    for bx in range(1, min(nx, max_panels) + 1):
        by = min(ny, max_panels // bx)
        if by >= 1 and bx * by > best[0] * best[1]:
            best = (bx, by)
        elif by >= 1 and bx * by == best[0] * best[1]:  # tie: the squarer blocks
            if abs(nx / bx - ny / by) < abs(nx / best[0] - ny / best[1]):
                best = (bx, by)
    return best


def _wall_frames(room: Room) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, float, float]]:
    """Per wall: (centre on the wall, inward normal, horizontal tangent, width, height) in world coordinates."""
    rz = room.rotation()
    half = np.asarray(room.size) / 2
    out = {}
    for name, (axis, side) in ROOM_FACES.items():
        if axis == 2:
            continue
        local = np.zeros(3)
        local[axis] = half[axis] if side else -half[axis]
        normal = np.zeros(3)
        normal[axis] = -1.0 if side else 1.0
        tangent = np.zeros(3)
        tangent[1 - axis] = 1.0
        width = room.size[1 - axis]
        out[name] = (rz @ local + np.asarray(room.center), rz @ normal, rz @ tangent, width, room.size[2])
    return out


def behind_camera(room: Room, camera: Camera, size=(1.6, 1.0)) -> LightInit | None:
    """A large panel behind the camera, facing where it looks, kept inside the room."""
    fwd = camera.R @ np.array([0.0, 0.0, -1.0])
    fwd_h = np.array([fwd[0], fwd[1], 0.0])
    if np.linalg.norm(fwd_h) < 1e-3:
        return None
    fwd_h /= np.linalg.norm(fwd_h)
    # Distance to the room's boundary behind the camera, along -fwd_h.
    rz = room.rotation()
    o = rz.T @ (camera.t - np.asarray(room.center))
    d = rz.T @ -fwd_h
    half = np.asarray(room.size) / 2
    t_exit = min(((half[a] if d[a] > 0 else -half[a]) - o[a]) / d[a] for a in range(2) if abs(d[a]) > 1e-6)
    back = float(np.clip(0.5 * t_exit, 0.05, 0.6))
    centre = camera.t - fwd_h * back
    w = min(size[0], 0.9 * (room.size[0] + room.size[1]) / 2)
    h = float(min(size[1], 0.8 * room.size[2]))
    floor = room.center[2] - room.size[2] / 2
    centre[2] = floor + float(np.clip(centre[2] - floor, h / 2 + 0.05, room.size[2] - h / 2 - 0.05))
    light = Light("Fill behind camera", "area", centre.tolist(), frame_facing(fwd_h).tolist(), [float(w), h],
                  source="behind_camera")
    return LightInit(light, "behind_camera", np.ones(3))


def unseen_walls(room: Room, camera: Camera, seen_faces: set[str], size=(1.0, 1.2)) -> list[LightInit]:
    """A window-sized panel at the centre of each wall the camera does not see, 5 cm off the wall, facing in."""
    out = []
    for name, (centre, normal, tangent, width, height) in _wall_frames(room).items():
        if name in seen_faces:
            continue
        w, h = min(size[0], 0.6 * width), min(size[1], 0.6 * height)
        c = centre + normal * 0.05
        c[2] = room.center[2] - room.size[2] / 2 + min(1.5, room.size[2] / 2)
        light = Light(f"Fill from unseen {name.replace('_', ' ')}", "area", c.tolist(), frame_facing(normal).tolist(),
                      [float(w), float(h)], source="unseen_wall")
        out.append(LightInit(light, "unseen_wall", np.ones(3), backing=name))
    return out


def lamp_lights(camera: Camera, objects: list, case: Case, fill_area: float, radius: float = 0.05,
                min_pixels: int = 6) -> list[LightInit]:
    """A bulb per lamp the photo shows (label with "lamp", at least `min_pixels` of its segment): a sphere of
    `radius` on the camera ray through its brightest tenth of pixels, just in front of where that ray enters the
    lamp's box (inside a proxy or a closed shade it would light nothing). Its unit radiance is scaled so that one
    unit is as much power as a fill of `fill_area` m^2: the fits start it on an equal footing with the fills."""
    lum = luminance(case.photo_linear)
    rays = camera_rays_world(camera, case.width, case.height).reshape(case.height, case.width, 3)
    area = 4.0 * np.pi * radius ** 2
    out = []
    for obj in objects:
        if "lamp" not in (obj.label or "") or obj.segment_id is None or not obj.size:
            continue
        mask = case.segmentation == obj.segment_id
        if mask.sum() < min_pixels:
            continue
        ys, xs = np.nonzero(mask)
        top = np.argsort(lum[ys, xs])[-max(3, len(ys) // 10):]  # its brightest tenth (not ties at the threshold)
        ray = rays[ys[top], xs[top]].mean(axis=0)
        ray /= np.linalg.norm(ray)
        t = _ray_box(camera.t, ray, obj)
        if t is None:  # the ray misses the box (a pose off its mask): the box's centre
            position = np.asarray(obj.location, float) + [0.0, 0.0, float(obj.size[2]) / 2]
        else:
            position = camera.t + ray * max(t - radius - 0.02, 0.05)
        light = Light(f"Lamp {obj.name}", "point", [float(x) for x in position], radius=radius, source="lamp",
                      role="Lamp")
        out.append(LightInit(light, "lamp", np.ones(3), segment_id=None, unit=max(fill_area, area) / area))
    return out


def _ray_box(origin: np.ndarray, ray: np.ndarray, obj) -> float | None:
    """Distance along `ray` to where it enters the object's box (bottom centre `location`, `yaw_deg`, `size`)."""
    yaw = np.radians(obj.yaw_deg or 0.0)
    c, s = np.cos(yaw), np.sin(yaw)
    to_local = np.array([[c, s, 0.0], [-s, c, 0.0], [0.0, 0.0, 1.0]])  # world -> the box's frame
    o = to_local @ (np.asarray(origin, float) - np.asarray(obj.location, float))
    d = to_local @ ray
    w, dep, h = (float(x) for x in obj.size)
    lo, hi = np.array([-w / 2, -dep / 2, 0.0]), np.array([w / 2, dep / 2, h])
    with np.errstate(divide="ignore", invalid="ignore"):
        t0, t1 = (lo - o) / d, (hi - o) / d
    near = np.nanmax(np.minimum(t0, t1))
    far = np.nanmin(np.maximum(t0, t1))
    return float(near) if far >= max(near, 0.0) and near > 0 else None


def seen_walls(camera: Camera, room: Room, case: Case, min_pixels: int = 20) -> set[str]:
    """Room faces the camera sees (by the box), with at least `min_pixels` at working resolution."""
    _, faces = depth_and_faces(camera, room, case.width, case.height)
    counts = np.bincount(faces.ravel(), minlength=len(FACE_NAMES))
    return {FACE_NAMES[i] for i, c in enumerate(counts) if c >= min_pixels}


def visible_windows(camera: Camera, room: Room, case: Case, min_pixels: int = 12) -> list[LightInit]:
    """Panels fitted to each `window` segment on the wall its pixels hit (radiance measured from the photo)."""
    segs = case.segments_labelled("window")
    if not segs:
        return []
    h, w = case.height, case.width
    depth, faces = depth_and_faces(camera, room, w, h)
    rays = camera_rays_world(camera, w, h).reshape(h, w, 3)
    frames = _wall_frames(room)
    out = []
    for seg in segs:
        mask = case.segmentation == seg.id
        if mask.sum() < min_pixels:
            continue
        hit = faces[mask]
        face = FACE_NAMES[int(np.bincount(hit, minlength=len(FACE_NAMES)).argmax())]
        if face not in frames:  # a skylight: leave it to the ceiling lights
            continue
        centre, normal, tangent, _, _ = frames[face]
        pts = camera.t + rays[mask] * depth[mask][:, None]
        along = (pts - centre) @ tangent
        z = pts[:, 2]
        a0, a1 = np.percentile(along, [1, 99])
        z0, z1 = np.percentile(z, [1, 99])
        if a1 - a0 < 0.05 or z1 - z0 < 0.05:
            continue
        c = centre + tangent * (a0 + a1) / 2 + normal * 0.005
        c[2] = (z0 + z1) / 2
        radiance = np.median(case.photo_linear[mask], axis=0).astype(float)
        rot = frame_facing(normal)
        # Local +X of the frame is horizontal along the wall: the panel's width is along it.
        light = Light(f"Window {seg.id}", "area", c.tolist(), rot.tolist(), [float(a1 - a0), float(z1 - z0)],
                      visible_camera=True, source="window")
        out.append(LightInit(light, "window", np.maximum(radiance, 1e-4), known=True, segment_id=seg.id,
                             backing=face))
    return out


def initial_lights(camera: Camera, room: Room, case: Case, grid_m: float = 1.5, scale: float = 0.8,
                   behind: bool = True, unseen: bool = True, windows: bool = True,
                   drop_in_view: bool = True, ceiling_panels: int = 4) -> list[LightInit]:
    """Every initial light (module docstring), fills named by their role."""
    lights = ceiling_grid(room, camera, grid_m, scale, drop_in_view, ceiling_panels)
    if behind and (b := behind_camera(room, camera)) is not None:
        lights.append(b)
    if unseen:
        lights += unseen_walls(room, camera, seen_walls(camera, room, case))
    if windows:
        lights += visible_windows(camera, room, case)
    if not any(not li.known for li in lights):  # nothing left to scale: keep one ceiling panel whatever the view
        rz = room.rotation()
        top = room.center[2] + room.size[2] / 2 - 0.01
        size = [scale * room.size[0] / 2, scale * room.size[1] / 2]
        lights.append(LightInit(Light("Ceiling lamp", "area", [room.center[0], room.center[1], top], rz.tolist(),
                                      size, source="ceiling"), "ceiling", np.ones(3), backing="ceiling"))
    return lights


def l1_scalar(target: np.ndarray, known: np.ndarray, unit: np.ndarray, weights: np.ndarray | None = None) -> float:
    """argmin_k sum w |target - known - k unit| (a weighted median of the ratios), k >= 0."""
    t, a, b = (np.asarray(x, float).ravel() for x in (target, known, unit))
    w = np.ones_like(t) if weights is None else np.asarray(weights, float).ravel()
    keep = (b > 1e-6) & (w > 0)
    if not keep.any():
        return 1.0
    ratio = (t[keep] - a[keep]) / b[keep]
    wt = w[keep] * b[keep]  # |r - k| b: a weighted median with weights b
    order = np.argsort(ratio)
    cum = np.cumsum(wt[order])
    k = float(ratio[order][np.searchsorted(cum, cum[-1] / 2)])
    return max(k, 0.0)


def luminance(rgb: np.ndarray) -> np.ndarray:
    return np.asarray(rgb)[..., :3] @ LUMINANCE

