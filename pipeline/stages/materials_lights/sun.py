"""The sun through the photo's windows: a directional light found from the sunlit patch it throws into the room.

Sunlight through a window lands as a bright patch with sharp edges, on the floor, a wall or the furniture, shaped
like the window seen from the sun. For each direction the sun could come from (outside a visible window, above the
horizon), every seen point of the scene that could see the sky through a window along it (and faces it) is lit;
where the patch so predicted meets the unlit part of the same surface, the photo should step up in brightness.
The direction whose patch edges the photo agrees with most (the sum of log-luminance steps across them, same
surface on both sides) wins, coarse grid then fine; a sun is placed only when that step is clear. Points shadowed
by a curtain or furniture between them and the window are found by casting rays on the finer grids.

The sun's colour is daylight's (`SUN_KELVIN`: a patch's colour is mostly its surface's); its strength starts from
the same steps (the light a lit point gains, for a grey surface) and the initial light fit refits it beside the
fills (`initialise.refine_lights_and_albedo`). A window the photo's border cuts is searched as if it reached the
wall's edge, then widened only as far as its patch agrees with the photo (`reach_of_cut_windows`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from blender_addon.scene_format import Opening, face_frame

from pipeline.core.geometry import project
from pipeline.core.openings import EDGE_MARGIN_M
from pipeline.core.scene import Camera, Light, Room
from .colour_temperature import LUMINANCE, blackbody_rgb
from .lights_init import LightInit, frame_facing


@dataclass
class SunPatch:
    """What the search found: the direction the sunlight travels and how clearly the photo shows its patch."""

    direction: np.ndarray  # unit vector, the way the light travels (down into the room)
    step: float  # mean log-luminance step up across the patch's edge
    pairs: int  # pixel pairs across the edge (same surface on both sides)
    lit_pixels: int
    gain: np.ndarray  # median linear RGB a lit pixel gains over its unlit neighbour

    def record(self) -> dict:
        elevation = float(np.degrees(np.arcsin(np.clip(-self.direction[2], -1.0, 1.0))))
        return {"direction": [round(float(x), 4) for x in self.direction], "elevation_deg": round(elevation, 1),
                "edge_step": round(self.step, 3), "edge_pairs": self.pairs, "lit_pixels": self.lit_pixels}


@dataclass
class SunSearch:
    """The search's inputs on one pixel grid: world points and normals the camera sees, surfaces, photo."""

    points: np.ndarray  # (H, W, 3) world positions
    normals: np.ndarray  # (H, W, 3) unit normals facing the camera
    surface: np.ndarray  # (H, W) int: which surface (shape) each pixel shows; pairs compare within one
    valid: np.ndarray  # (H, W) bool: pixels that take part (a surface, not a window or a lamp)
    photo_linear: np.ndarray  # (H, W, 3)
    # (points (N, 3), to_sun (3,), distances (N,)) -> (N,) bool: something stands between the point and the window
    # (a curtain, furniture). None: nothing is tested; the coarse grid never tests (it only needs a basin).
    blocked: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray] | None = None

    def log_luminance(self) -> np.ndarray:
        return np.log(self.photo_linear @ LUMINANCE + 1e-3)

    def every(self, k: int) -> "SunSearch":
        """Every k-th pixel each way (the coarse search's grid)."""
        return SunSearch(*(a[::k, ::k] for a in (self.points, self.normals, self.surface, self.valid,
                                                  self.photo_linear)), blocked=None)


Frame = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float, float]


def window_frames(windows: list[Light]) -> list[Frame]:
    """(centre, inward normal, along, up, half width, half height) of each window panel (area lights facing in)."""
    out = []
    for w in windows:
        rot = np.asarray(w.rotation, float)
        out.append((np.asarray(w.position, float), -rot[:, 2], rot[:, 0], rot[:, 1], w.size[0] / 2, w.size[1] / 2))
    return out


def _wall(room: Room, face: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float]:
    """(origin, e_u, e_v, inward normal, width) of a wall as arrays (`scene_format.face_frame`)."""
    origin, eu, ev, n, width, _ = face_frame(room, face)
    return np.asarray(origin, float), np.asarray(eu, float), np.asarray(ev, float), np.asarray(n, float), width


def opening_frame(room: Room, opening: Opening) -> Frame:
    """The same for a window opening's hole (`Opening.rect` on its wall)."""
    origin, eu, ev, n, _ = _wall(room, opening.face)
    u0, v0, u1, v1 = opening.rect
    centre = origin + eu * (u0 + u1) / 2 + ev * (v0 + v1) / 2
    return centre, n, eu, ev, (u1 - u0) / 2, (v1 - v0) / 2


def lit_mask(points: np.ndarray, normals: np.ndarray, frames: list, direction: np.ndarray,
             blocked: Callable | None = None) -> np.ndarray:
    """Points (N, 3) that see the sky through a window looking back along `direction` and face it (and, with
    `blocked`, have nothing in the way)."""
    to_sun = -direction
    lit = np.zeros(len(points), bool)
    reach = np.full(len(points), np.inf)
    facing = normals @ to_sun > 0.05
    for centre, normal, along, up, hw, hh in frames:
        toward = float(to_sun @ normal)
        if toward > -0.05:  # the sun is not outside this window
            continue
        inside = (points - centre) @ normal
        s = inside / -toward  # distance along to_sun to the window's plane
        hit = points + s[:, None] * to_sun - centre
        through = (inside > 0.01) & (np.abs(hit @ along) <= hw) & (np.abs(hit @ up) <= hh)
        reach = np.where(through, np.minimum(reach, s), reach)
        lit |= through
    lit &= facing
    if blocked is not None and lit.any():
        index = np.flatnonzero(lit)
        lit[index[blocked(points[index], to_sun, reach[index])]] = False
    return lit


def _edge_pairs(valid: np.ndarray, surface: np.ndarray, lit: np.ndarray, offsets: tuple[int, ...]):
    """(first, second, sign, pair) per offset: pixel pairs `k` apart across and down, `pair` where both take part,
    lie on one surface and one is lit, `sign` +1 where the first is the lit one."""
    h, w = lit.shape
    for dy, dx in [(0, k) for k in offsets] + [(k, 0) for k in offsets]:
        a = (slice(0, h - dy), slice(0, w - dx))
        b = (slice(dy, h), slice(dx, w))
        pair = valid[a] & valid[b] & (surface[a] == surface[b]) & (lit[a] != lit[b])
        yield a, b, np.where(lit[a], 1.0, -1.0), pair


def edge_steps(logl: np.ndarray, surface: np.ndarray, valid: np.ndarray, lit: np.ndarray,
               offsets: tuple[int, ...] = (1, 2)) -> np.ndarray:
    """Log-luminance steps (lit minus unlit) across the patch's edge, over the `_edge_pairs`. Neighbours place the
    edge to the pixel; pairs further apart still see a soft edge (a sun's disc, a blurred photo)."""
    steps = [((logl[a] - logl[b]) * sign)[pair] for a, b, sign, pair in _edge_pairs(valid, surface, lit, offsets)]
    return np.concatenate(steps)


def sun_directions(elevations: np.ndarray, azimuths: np.ndarray) -> np.ndarray:
    """(N, 3) directions of travel for the sun at these elevations and azimuths (degrees; azimuth from +X)."""
    el, az = np.meshgrid(np.radians(elevations), np.radians(azimuths), indexing="ij")
    to_sun = np.stack([np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), np.sin(el)], axis=-1).reshape(-1, 3)
    return -to_sun


def _score(search: SunSearch, logl: np.ndarray, frames: list, direction: np.ndarray,
           offsets: tuple[int, ...] = (1, 2)) -> tuple[float, np.ndarray, np.ndarray]:
    h, w = logl.shape
    lit = np.zeros((h, w), bool)
    lit[search.valid] = lit_mask(search.points[search.valid], search.normals[search.valid], frames, direction,
                                 search.blocked)
    steps = edge_steps(logl, search.surface, search.valid, lit, offsets)
    # Clipped: one very dark pixel (a shadow line, a seam) must not decide the direction.
    return float(np.clip(steps, -1.0, 1.0).sum()), steps, lit


def find_sun(search: SunSearch, windows: list[Light] | list[Frame], min_step: float = 0.25, min_pairs: int = 24,
             coarse_deg: float = 4.0, min_elevation_deg: float = 6.0,
             max_elevation_deg: float = 80.0) -> SunPatch | None:
    """The direction whose patch edges the photo agrees with most (module docstring), or None when no window
    is seen or the best patch's edge steps up by less than `min_step` (log luminance, ~1.3x) on average."""
    frames = window_frames(windows) if windows and isinstance(windows[0], Light) else list(windows)
    if not frames or not search.valid.any():
        return None
    # Coarse to fine: on the coarse grid (every other pixel) a predicted edge lands some pixels off the true one,
    # so pairs further apart score it (a wide basin); each finer grid around the best so far looks closer.
    grid = sun_directions(np.arange(min_elevation_deg, max_elevation_deg + 1e-6, coarse_deg),
                          np.arange(0.0, 360.0, coarse_deg))
    grid = grid[[any(float(-d @ f[1]) < -0.05 for f in frames) for d in grid]]  # the sun outside some window
    half = search.every(2)
    best = None
    for step_deg, on, offsets in ((coarse_deg, half, (1, 2, 4)), (coarse_deg / 4, search, (1, 2, 4)),
                                  (coarse_deg / 16, search, (1, 2))):
        if best is not None:
            el0 = float(np.degrees(np.arcsin(-best[2])))
            az0 = float(np.degrees(np.arctan2(-best[1], -best[0])))
            around = np.arange(-4, 5) * step_deg
            grid = sun_directions(np.clip(el0 + around, min_elevation_deg, max_elevation_deg), az0 + around)
        logl = on.log_luminance()
        scores = [_score(on, logl, frames, d, offsets)[0] for d in grid]
        if not scores or max(scores) <= 0:
            return None
        best = grid[int(np.argmax(scores))]
    _, steps, lit = _score(search, search.log_luminance(), frames, best)
    if len(steps) < min_pairs or float(np.mean(steps)) < min_step:
        return None
    return SunPatch(best, float(np.mean(steps)), int(len(steps)), int(lit.sum()), _gain(search, lit))


def _gain(search: SunSearch, lit: np.ndarray) -> np.ndarray:
    """Median linear RGB a lit pixel shows over the unlit one across the edge (same surface, 2 pixels apart)."""
    img = search.photo_linear
    g = np.concatenate([((img[a] - img[b]) * sign[..., None])[pair]
                        for a, b, sign, pair in _edge_pairs(search.valid, search.surface, lit, (2,))])
    return np.maximum(np.median(g, axis=0), 0.0) if len(g) else np.zeros(3)


SUN_KELVIN = 5500.0  # daylight's sun: its colour, kept through the initial fits (a surface's colour is not the sun's)


def sun_light(patch: SunPatch, windows: list[Light], albedo: float = 0.5, distance_m: float = 3.0) -> LightInit:
    """The sun as a light to fit: a Blender Sun shining along the patch's direction, placed outside the first
    window it passes (where an artist looks for it; a sun's position does not matter), of daylight's colour
    (`SUN_KELVIN`). Its starting irradiance is what the patch's edge gained (in luminance) on a surface of `albedo`
    facing it (L = albedo E / pi); the initial fits then refit its power."""
    d = patch.direction
    frames = window_frames(windows)
    centre = next((c for c, n, *_ in frames if float(-d @ n) < -0.05), frames[0][0])
    light = Light("Sun", "sun", (centre - distance_m * d).tolist(), frame_facing(d).tolist(), [1.0, 1.0],
                  source="sun")
    colour = blackbody_rgb(SUN_KELVIN)
    irradiance = max(float(np.pi * (patch.gain @ LUMINANCE) / albedo), 1e-3) * colour / float(colour @ LUMINANCE)
    return LightInit(light, "sun", irradiance, known=True, own_colour=True)


# ---------------------------------------------------------------------------------------------------------------
# Windows the photo's border cuts: the sun's patch shows how far they reach


def cut_ends(opening: Opening, room: Room, camera: Camera, mask: np.ndarray) -> list[int]:
    """The ends of a window's hole (0: u0, 2: u1, indices into `rect`) that the photo's left or right border cuts:
    the segment touches that border, and that end is the one projected nearer it. The room stage fitted the hole
    to what the photo shows, so the window may reach further."""
    h, w = mask.shape
    sides = [side for side, column in (("left", mask[:, 0]), ("right", mask[:, -1])) if column.any()]
    if not sides:
        return []
    origin, eu, ev, _, _ = _wall(room, opening.face)
    u0, v0, u1, v1 = opening.rect
    ends = np.stack([origin + eu * u + ev * (v0 + v1) / 2 for u in (u0, u1)])
    x = project(camera.world_to_camera(ends), w, h, camera.fov_y_deg)[:, 0]
    return [0 if (x[0] < x[1]) == (side == "left") else 2 for side in sides]


def widened(opening: Opening, end: int, u: float) -> Opening:
    """A copy of `opening` whose end `end` (0 or 2) is moved out to `u` on its wall (metres)."""
    rect = list(opening.rect)
    rect[end] = min(rect[end], u) if end == 0 else max(rect[end], u)
    return Opening(opening.name, opening.kind, opening.face, rect, dict(opening.materials), opening.segment_id,
                   dict(opening.extra))


def wall_end(opening: Opening, room: Room, end: int) -> float:
    """How far end `end` of a hole may go: the wall's edge, less the margin the hole keeps."""
    width = _wall(room, opening.face)[4]
    return EDGE_MARGIN_M if end == 0 else width - EDGE_MARGIN_M


def reach_of_cut_windows(search: SunSearch, room: Room, openings: list[Opening], cut: dict[str, list[int]],
                         direction: np.ndarray, step_m: float = 0.1) -> list[Opening]:
    """Each cut window widened, end by end, to the reach whose patch the photo agrees with most at `direction`
    (the nearest reach among ties: the photo shows nothing of what is not lit)."""
    out = []
    logl = search.log_luminance()
    for opening in openings:
        for end in cut.get(opening.name, []):
            limit = wall_end(opening, room, end)
            start = opening.rect[end]
            reaches = np.arange(0.0, abs(limit - start) + 1e-9, step_m)
            sign = -1.0 if end == 0 else 1.0
            best = (-np.inf, opening)
            for r in reaches:
                trial = widened(opening, end, start + sign * r)
                others = [opening_frame(room, o) for o in openings if o.name != opening.name]
                score = _score(search, logl, [opening_frame(room, trial)] + others, direction)[0]
                if score > best[0] + 1e-9:
                    best = (score, trial)
            opening = best[1]
        out.append(opening)
    return out
