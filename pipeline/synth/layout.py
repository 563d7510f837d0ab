"""Room layouts: themes, palettes, furniture pieces, their placement and the camera; the ground truth
they imply (no Blender here)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from p2s_common.errors import InputError


GENERATOR_VERSION = 1


THEMES = ("living", "bedroom", "dining", "office")


# (kind, probability) per theme; the first kind is always placed and anchors the room.
_THEME_PIECES: dict[str, list[tuple[str, float]]] = {
    "living": [("sofa", 1.0), ("coffee table", 0.8), ("armchair", 0.5), ("cabinet", 0.6), ("table lamp", 0.5),
               ("shelf", 0.5), ("plant", 0.5), ("floor lamp", 0.4)],
    "bedroom": [("bed", 1.0), ("nightstand", 0.9), ("table lamp", 0.7), ("cabinet", 0.7), ("desk", 0.4),
                ("plant", 0.4), ("shelf", 0.3)],
    "dining": [("table", 1.0), ("chair", 0.95), ("chair", 0.8), ("cabinet", 0.7), ("shelf", 0.5), ("plant", 0.5),
               ("table lamp", 0.4), ("floor lamp", 0.3)],
    "office": [("desk", 1.0), ("chair", 0.9), ("shelf", 0.8), ("table lamp", 0.6), ("cabinet", 0.6),
               ("plant", 0.5), ("armchair", 0.3)],
}


# Bounding box ranges in metres: width (along the back), depth (back to front), height.
_SIZES: dict[str, tuple[tuple[float, float], tuple[float, float], tuple[float, float]]] = {
    "sofa": ((1.6, 2.2), (0.8, 0.95), (0.75, 0.9)),
    "armchair": ((0.75, 0.95), (0.75, 0.9), (0.75, 0.95)),
    "coffee table": ((0.8, 1.2), (0.5, 0.7), (0.38, 0.48)),
    "table": ((1.2, 1.8), (0.75, 0.95), (0.72, 0.77)),
    "chair": ((0.42, 0.5), (0.45, 0.52), (0.8, 0.95)),
    "desk": ((1.0, 1.5), (0.55, 0.75), (0.72, 0.77)),
    "bed": ((1.4, 1.8), (1.95, 2.15), (0.9, 1.15)),
    "nightstand": ((0.4, 0.55), (0.35, 0.45), (0.45, 0.6)),
    "cabinet": ((0.6, 1.4), (0.35, 0.6), (0.5, 2.0)),
    "shelf": ((0.7, 1.2), (0.28, 0.4), (1.5, 2.0)),
    "plant": ((0.35, 0.55), (0.35, 0.55), (0.7, 1.4)),
    "floor lamp": ((0.3, 0.45), (0.3, 0.45), (1.4, 1.7)),
    "table lamp": ((0.22, 0.35), (0.22, 0.35), (0.35, 0.55)),
}


_SQUARE = {"plant", "floor lamp", "table lamp"}  # square footprint


_LAMP_SUPPORTS = {"nightstand", "desk", "table", "cabinet"}


# Palettes in sRGB (what a person would pick); converted to linear Rec.709 for Blender.
_WALL = [(0.93, 0.91, 0.86), (0.88, 0.85, 0.78), (0.80, 0.84, 0.80), (0.82, 0.86, 0.90), (0.92, 0.85, 0.78),
         (0.76, 0.76, 0.76), (0.91, 0.89, 0.77), (0.70, 0.78, 0.82)]


_ACCENT = [(0.35, 0.45, 0.55), (0.55, 0.40, 0.35), (0.40, 0.52, 0.42), (0.30, 0.32, 0.38), (0.75, 0.62, 0.40)]


_WOOD = [(0.76, 0.60, 0.42), (0.52, 0.36, 0.24), (0.36, 0.25, 0.17), (0.85, 0.78, 0.66), (0.62, 0.48, 0.34)]


_PAINT = [(0.90, 0.90, 0.88), (0.14, 0.14, 0.15), (0.52, 0.53, 0.55), (0.22, 0.27, 0.36), (0.70, 0.66, 0.58)]


_FABRIC = [(0.35, 0.42, 0.58), (0.56, 0.56, 0.56), (0.28, 0.28, 0.30), (0.62, 0.50, 0.40), (0.36, 0.50, 0.40),
           (0.66, 0.32, 0.26), (0.82, 0.77, 0.68), (0.48, 0.36, 0.50)]


_BEDDING = [(0.95, 0.95, 0.93), (0.80, 0.82, 0.85), (0.78, 0.86, 0.92), (0.92, 0.88, 0.80)]


_FLOOR = {"planks": [(0.74, 0.56, 0.38), (0.50, 0.34, 0.22), (0.62, 0.57, 0.50), (0.82, 0.70, 0.54)],
          "tiles": [(0.86, 0.85, 0.81), (0.56, 0.56, 0.56), (0.78, 0.72, 0.62)],
          "carpet": [(0.52, 0.47, 0.42), (0.36, 0.39, 0.46), (0.62, 0.60, 0.56)]}


@dataclass
class Material:
    """A plain Principled material; `pattern` adds a procedural texture (floor only)."""

    name: str
    base_color: tuple[float, float, float]  # linear Rec.709
    roughness: float
    metallic: float = 0.0
    pattern: str | None = None  # "planks" | "tiles" | "carpet"
    color2: tuple[float, float, float] | None = None  # second colour of the pattern (linear)
    pattern_size: tuple[float, float] = (1.0, 1.0)  # plank length x width, or tile size, in metres
    pattern_angle: float = 0.0  # radians about +Z


@dataclass
class Part:
    """One box of a piece, in the piece's frame (origin at the piece's box centre)."""

    center: tuple[float, float, float]
    size: tuple[float, float, float]
    material: int  # index into Piece.materials


@dataclass
class Piece:
    """A furniture piece: an oriented bounding box (the ground truth) made of axis-aligned parts."""

    segment_id: int
    kind: str
    label: str
    center: np.ndarray  # (3,) world
    size: np.ndarray  # (3,) width, depth, height
    yaw: float  # radians about +Z
    parts: list[Part]
    materials: list[Material]
    wall: str | None = None
    support_id: int | None = None


@dataclass
class Window:
    """A window: an emissive rectangle on a wall (an area emitter and a `window` segment)."""

    segment_id: int
    wall: str
    offset: float  # along the wall's tangent, from the wall's centre
    sill: float
    size: tuple[float, float]  # width, height
    color: tuple[float, float, float]
    radiance: float  # Blender emission strength


@dataclass
class Light:
    """A rectangular ceiling area light facing down."""

    position: np.ndarray
    size: tuple[float, float]
    power_w: float
    color: tuple[float, float, float]


@dataclass
class Camera:
    """A pinhole camera; `rotation` is world-from-camera (columns: right, up, back)."""

    position: np.ndarray
    rotation: np.ndarray
    fov_y_deg: float
    width: int
    height: int

    @property
    def fov_x_deg(self) -> float:
        return math.degrees(2 * math.atan(math.tan(math.radians(self.fov_y_deg) / 2) * self.width / self.height))

    def to_json(self) -> dict:
        return {"position": _r(self.position), "rotation": [_r(row) for row in self.rotation],
                "fov_y_deg": _r(self.fov_y_deg), "fov_x_deg": _r(self.fov_x_deg),
                "width": self.width, "height": self.height}


@dataclass
class Layout:
    """Everything about a generated scene except the rendering."""

    seed: int
    theme: str
    room_size: np.ndarray  # (sx, sy, height)
    surfaces: list[tuple[int, str, str]]  # (segment id, label, side)
    surface_materials: dict[int, Material]
    window: Window | None
    lights: list[Light]
    pieces: list[Piece]
    camera: Camera
    novel_cameras: list[Camera] = field(default_factory=list)
    exposure_target: float = 0.16  # mean linear luminance the light balancing aims at


def _r(x, nd: int = 6):
    """Round floats (or nested sequences of them) for compact JSON."""
    if isinstance(x, (list, tuple, np.ndarray)):
        return [_r(v, nd) for v in x]
    return round(float(x), nd) + 0.0  # + 0.0 turns -0.0 into 0.0


def _srgb_to_linear(c: tuple[float, float, float]) -> tuple[float, float, float]:
    c = np.clip(np.asarray(c, float), 0, 1)
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return tuple(float(v) for v in lin)


def _pick_color(rng: np.random.Generator, palette: list, jitter: float = 0.06) -> tuple[float, float, float]:
    """A palette colour (sRGB) with a small random tint, returned linear."""
    base = np.asarray(palette[rng.integers(len(palette))], float)
    tint = base * rng.uniform(1 - jitter, 1 + jitter, 3) * rng.uniform(1 - jitter, 1 + jitter)
    return _srgb_to_linear(tuple(np.clip(tint, 0.02, 0.97)))


def _walls(room: np.ndarray) -> dict[str, dict]:
    """The four walls: centre (x, y) at floor height, inward normal, tangent (= local +x of a piece backed on it)."""
    sx, sy, _ = room
    out = {}
    for side, c, n in (("-y", (0, -sy / 2), (0, 1)), ("+x", (sx / 2, 0), (-1, 0)),
                       ("+y", (0, sy / 2), (0, -1)), ("-x", (-sx / 2, 0), (1, 0))):
        n = np.array(n, float)
        out[side] = {"center": np.array(c, float), "normal": n, "tangent": np.array([n[1], -n[0]]),
                     "length": float(sx if side in ("-y", "+y") else sy), "yaw": math.atan2(-n[0], n[1])}
    return out


def _rot2(yaw: float) -> np.ndarray:
    c, s = math.cos(yaw), math.sin(yaw)
    return np.array([[c, -s], [s, c]])


def _rotz(yaw: float) -> np.ndarray:
    c, s = math.cos(yaw), math.sin(yaw)
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1.0]])


def _look_rotation(heading: float, pitch_down: float) -> np.ndarray:
    """World-from-camera rotation for a camera looking along `heading` (from +x, about +Z), tilted down."""
    f = np.array([math.cos(pitch_down) * math.cos(heading), math.cos(pitch_down) * math.sin(heading),
                  -math.sin(pitch_down)])
    right = np.cross(f, [0, 0, 1.0])
    right /= np.linalg.norm(right)
    up = np.cross(right, f)
    return np.stack([right, up, -f], axis=1)


def _footprint(center: np.ndarray, size: np.ndarray, yaw: float, grow: float = 0.0) -> np.ndarray:
    """The 4 corners (x, y) of a piece's footprint, grown by `grow` on every side."""
    hw, hd = size[0] / 2 + grow, size[1] / 2 + grow
    local = np.array([[-hw, -hd], [hw, -hd], [hw, hd], [-hw, hd]])
    return local @ _rot2(yaw).T + center[:2]


def _overlap(a: np.ndarray, b: np.ndarray) -> bool:
    """Separating-axis test of two convex quads given by their corners."""
    for poly in (a, b):
        for k in range(4):
            edge = poly[(k + 1) % 4] - poly[k]
            axis = np.array([-edge[1], edge[0]])
            pa, pb = a @ axis, b @ axis
            if pa.max() <= pb.min() or pb.max() <= pa.min():
                return False
    return True


def _distance_to_box(p: np.ndarray, center: np.ndarray, size: np.ndarray, yaw: float) -> float:
    """2-D distance from point p to a piece's footprint (0 inside)."""
    q = _rot2(yaw).T @ (p[:2] - center[:2])
    d = np.maximum(np.abs(q) - size[:2] / 2, 0)
    return float(np.hypot(*d))


def _pixel_rays(fov_y_deg: float, width: int, height: int) -> np.ndarray:
    """Camera-frame ray directions (H, W, 3) through the pixel centres, with z = -1 so t is the z-depth."""
    f = (height / 2) / math.tan(math.radians(fov_y_deg) / 2)
    u = (np.arange(width) + 0.5 - width / 2) / f
    v = -(np.arange(height) + 0.5 - height / 2) / f
    uu, vv = np.meshgrid(u, v)
    return np.stack([uu, vv, -np.ones_like(uu)], axis=-1)


def _project(cam: Camera, p: np.ndarray) -> tuple[float, float, float]:
    """Pixel coordinates (x, y) and z-depth of a world point."""
    q = cam.rotation.T @ (p - cam.position)
    depth = -q[2]
    f = (cam.height / 2) / math.tan(math.radians(cam.fov_y_deg) / 2)
    if depth <= 1e-6:
        return math.nan, math.nan, depth
    return cam.width / 2 + f * q[0] / depth, cam.height / 2 - f * q[1] / depth, depth


def room_planes(room_size) -> dict[str, tuple[int, float]]:
    """side -> (axis, coordinate) of the six planes of a room box centred on the origin in x, y, floor at z = 0."""
    sx, sy, h = room_size
    return {"-z": (2, 0.0), "+z": (2, h), "-y": (1, -sy / 2), "+x": (0, sx / 2), "+y": (1, sy / 2),
            "-x": (0, -sx / 2)}


def trace_layout(layout: Layout, camera: Camera, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """Analytic ray casting of the layout at the pixel centres: (z-depth float32 HxW, segment ids uint16 HxW).

    The room is convex and seen from inside, so each ray leaves it through the nearest plane ahead; furniture parts
    are oriented boxes (slab test). The window is a rectangle on its wall's plane.
    """
    d = _pixel_rays(camera.fov_y_deg, width, height).reshape(-1, 3) @ camera.rotation.T
    o = camera.position
    bounds = room_planes(layout.room_size)
    t_best = np.full(len(d), np.inf)
    seg = np.zeros(len(d), np.uint16)
    with np.errstate(divide="ignore", invalid="ignore"):
        for sid, _, side in layout.surfaces:
            axis, value = bounds[side]
            t = (value - o[axis]) / d[:, axis]
            hit = (t > 0) & (t < t_best)
            t_best[hit], seg[hit] = t[hit], sid
        win = layout.window
        if win is not None:
            wall = _walls(layout.room_size)[win.wall]
            wall_id = next(sid for sid, _, side in layout.surfaces if side == win.wall)
            p = o + t_best[:, None] * d
            along = (p[:, :2] - wall["center"]) @ wall["tangent"] - win.offset
            inside = (seg == wall_id) & (np.abs(along) <= win.size[0] / 2) & (p[:, 2] >= win.sill) & (
                p[:, 2] <= win.sill + win.size[1])
            seg[inside] = win.segment_id
        for piece in layout.pieces:
            rot = _rotz(piece.yaw)
            for part in piece.parts:
                c = piece.center + rot @ np.asarray(part.center)
                half = np.asarray(part.size) / 2
                ol = rot.T @ (o - c)
                dl = d @ rot  # rows are rot.T @ d_k
                t1 = (-half - ol) / dl
                t2 = (half - ol) / dl
                t_in = np.nanmax(np.minimum(t1, t2), axis=1)
                t_out = np.nanmin(np.maximum(t1, t2), axis=1)
                hit = (t_in <= t_out) & (t_in > 0) & (t_in < t_best)
                t_best[hit], seg[hit] = t_in[hit], piece.segment_id
    return t_best.reshape(height, width).astype(np.float32), seg.reshape(height, width)


def _piece_materials(kind: str, rng: np.random.Generator) -> list[Material]:
    def mat(name: str, palette: list, rough: tuple[float, float], metallic: float = 0.0) -> Material:
        return Material(name, _pick_color(rng, palette), float(rng.uniform(*rough)), metallic)

    wood_or_paint = _WOOD if rng.random() < 0.6 else _PAINT
    if kind in ("sofa", "armchair"):
        return [mat("fabric", _FABRIC, (0.75, 0.95))]
    if kind == "bed":
        return [mat("frame", _WOOD + _FABRIC, (0.5, 0.9)), mat("sheets", _BEDDING, (0.8, 0.95)),
                mat("blanket", _FABRIC + _BEDDING, (0.8, 0.95))]
    if kind in ("table", "coffee table", "desk", "chair"):
        return [mat("wood", wood_or_paint, (0.3, 0.7))]
    if kind in ("nightstand", "cabinet"):
        body = mat("body", wood_or_paint, (0.3, 0.7))
        front = Material("front", tuple(float(v) for v in np.clip(np.asarray(body.base_color) * rng.uniform(0.8, 1.15),
                                                                  0.01, 0.9)), body.roughness)
        return [body, front]
    if kind == "shelf":
        return [mat("wood", wood_or_paint, (0.4, 0.7))] + [
            Material(f"books{k}", _srgb_to_linear(tuple(rng.uniform(0.15, 0.8, 3))), float(rng.uniform(0.5, 0.9)))
            for k in range(3)]
    if kind == "plant":
        return [mat("leaves", [(0.22, 0.42, 0.16), (0.30, 0.48, 0.22), (0.16, 0.34, 0.18)], (0.5, 0.8)),
                mat("pot", [(0.68, 0.38, 0.24), (0.90, 0.90, 0.88), (0.25, 0.25, 0.27)], (0.4, 0.8))]
    if kind in ("floor lamp", "table lamp"):
        return [mat("shade", [(0.96, 0.92, 0.82), (0.92, 0.92, 0.90), (0.80, 0.70, 0.55)], (0.7, 0.9)),
                mat("metal", [(0.15, 0.15, 0.15), (0.75, 0.70, 0.55), (0.80, 0.80, 0.80)], (0.3, 0.5), 1.0)]
    raise ValueError(kind)


def _piece_parts(kind: str, w: float, d: float, h: float, rng: np.random.Generator) -> list[Part]:
    """The boxes of one piece inside its bounding box [-w/2, w/2] x [-d/2, d/2] x [0, h] (back at -y)."""
    parts: list[Part] = []
    W, D = w / 2, d / 2

    def box(x0: float, x1: float, y0: float, y1: float, z0: float, z1: float, m: int = 0) -> None:
        parts.append(Part(((x0 + x1) / 2, (y0 + y1) / 2, (z0 + z1) / 2 - h / 2), (x1 - x0, y1 - y0, z1 - z0), m))

    def legs(top: float, size: float, inset: float) -> None:
        for sxn in (-1, 1):
            for syn in (-1, 1):
                cx, cy = sxn * (W - inset - size / 2), syn * (D - inset - size / 2)
                box(cx - size / 2, cx + size / 2, cy - size / 2, cy + size / 2, 0, top)

    if kind in ("sofa", "armchair"):
        arm, back = rng.uniform(0.12, 0.2), rng.uniform(0.16, 0.25)
        seat, arm_h = rng.uniform(0.38, 0.45), rng.uniform(0.55, min(0.7, h - 0.05))
        box(-W + arm, W - arm, -D + back, D, 0, seat)
        box(-W, W, -D, -D + back, 0, h)
        box(-W, -W + arm, -D + back, D, 0, arm_h)
        box(W - arm, W, -D + back, D, 0, arm_h)
    elif kind == "bed":
        head, frame, top = rng.uniform(0.06, 0.1), rng.uniform(0.25, 0.35), rng.uniform(0.5, 0.6)
        box(-W, W, -D + head, D, 0, frame)
        box(-W + 0.02, W - 0.02, -D + head, D - 0.02, frame, top, 1)
        box(-W, W, -D + head + 0.6, D, top, top + 0.03, 2)
        for sxn in (-1, 1):
            x0, x1 = sorted((sxn * 0.05, sxn * (W - 0.1)))
            box(x0, x1, -D + head + 0.05, -D + head + 0.45, top, top + 0.12, 1)
        box(-W, W, -D, -D + head, 0, h)
    elif kind in ("table", "coffee table"):
        t = 0.04 if kind == "table" else 0.05
        box(-W, W, -D, D, h - t, h)
        legs(h - t, 0.05, 0.04)
    elif kind == "desk":
        t = 0.03
        box(-W, W, -D, D, h - t, h)
        box(-W, -W + 0.03, -D, D, 0, h - t)
        box(W - 0.03, W, -D, D, 0, h - t)
        box(-W + 0.03, W - 0.03, -D, -D + 0.02, h - t - 0.35, h - t)
    elif kind == "chair":
        seat = rng.uniform(0.43, 0.48)
        box(-W, W, -D, D, seat - 0.04, seat)
        box(-W, W, -D, -D + 0.04, seat, h)
        legs(seat - 0.04, 0.04, 0.01)
    elif kind in ("nightstand", "cabinet"):
        front = 0.02
        box(-W, W, -D, D - front, 0, h)
        doors = 1 if w < 0.8 or kind == "nightstand" else 2
        rows = 2 if kind == "nightstand" or h < 1.0 and rng.random() < 0.5 else 1
        cw, zh = (w - 0.04) / doors, (h - 0.1) / rows
        for i in range(doors):
            for j in range(rows):
                x0 = -W + 0.02 + i * cw
                z0 = 0.06 + j * zh
                box(x0 + 0.004, x0 + cw - 0.004, D - front, D, z0 + 0.004, z0 + zh - 0.004, 1)
    elif kind == "shelf":
        th = 0.025
        box(-W, -W + th, -D, D, 0, h)
        box(W - th, W, -D, D, 0, h)
        box(-W + th, W - th, -D, -D + 0.012, 0, h)
        box(-W + th, W - th, -D + 0.012, D, 0, 0.07)
        box(-W + th, W - th, -D + 0.012, D, h - th, h)
        levels = max(2, int((h - 0.1) / 0.36))
        gap = (h - 0.07 - th) / levels
        for k in range(levels):
            z = 0.07 + k * gap
            if k:
                box(-W + th, W - th, -D + 0.012, D, z - th, z)
            x = -W + th + rng.uniform(0.0, 0.15)
            while x < W - th - 0.06:  # runs of books with gaps, a few fallen out
                if rng.random() < 0.25:
                    x += rng.uniform(0.05, 0.2)
                    continue
                bw = rng.uniform(0.02, 0.05)
                if x + bw > W - th:
                    break
                bh = min(rng.uniform(0.15, 0.28), gap - th - 0.03)
                bd = min(rng.uniform(0.15, 0.22), d - 0.02)
                box(x, x + bw, -D + 0.012, -D + 0.012 + bd, z, z + bh, 1 + int(rng.integers(3)))
                x += bw + 0.002
    elif kind == "plant":
        pw, ph = min(w, d) * 0.6, h * rng.uniform(0.25, 0.35)
        box(-pw / 2, pw / 2, -pw / 2, pw / 2, 0, ph, 1)
        box(-W * 0.8, W * 0.8, -D * 0.8, D * 0.8, ph, h * 0.85)
        box(-W, W, -D * 0.5, D * 0.5, ph + (h - ph) * 0.3, h * 0.75)
        box(-W * 0.5, W * 0.5, -D, D, ph + (h - ph) * 0.2, h * 0.8)
        box(-W * 0.4, W * 0.4, -D * 0.4, D * 0.4, h * 0.85, h)
    elif kind == "floor lamp":
        box(-0.14, 0.14, -0.14, 0.14, 0, 0.03, 1)
        box(-0.015, 0.015, -0.015, 0.015, 0.03, h - 0.3, 1)
        box(-W, W, -D, D, h - 0.3, h)
    elif kind == "table lamp":
        box(-W * 0.45, W * 0.45, -D * 0.45, D * 0.45, 0, 0.03, 1)
        box(-0.012, 0.012, -0.012, 0.012, 0.03, h * 0.5, 1)
        box(-W, W, -D, D, h * 0.5, h)
    else:
        raise ValueError(kind)
    return parts


def _piece_size(kind: str, rng: np.random.Generator, room_h: float) -> np.ndarray:
    (w0, w1), (d0, d1), (h0, h1) = _SIZES[kind]
    w = rng.uniform(w0, w1)
    d = w if kind in _SQUARE else rng.uniform(d0, d1)
    if kind == "cabinet":  # a low sideboard or a tall wardrobe, rarely in between
        h = rng.uniform(0.5, 0.9) if rng.random() < 0.6 else rng.uniform(1.6, 2.0)
    else:
        h = rng.uniform(h0, h1)
    return np.array([w, d, min(h, room_h - 0.3)])


class _Placer:
    """Places furniture one piece at a time: candidate poses from the piece's placement rule, checked for fit."""

    def __init__(self, rng: np.random.Generator, room: np.ndarray, camera: Camera, window: Window | None) -> None:
        self.rng, self.room, self.camera, self.window = rng, room, camera, window
        self.walls = _walls(room)
        self.pieces: list[Piece] = []

    def on_wall(self, side: str, along: float, size: np.ndarray) -> tuple[np.ndarray, float]:
        wall = self.walls[side]
        xy = wall["center"] + wall["tangent"] * along + wall["normal"] * (0.02 + size[1] / 2)
        return xy, wall["yaw"]

    def candidate(self, kind: str, size: np.ndarray) -> tuple[np.ndarray, float, str | None, Piece | None] | None:
        """A pose (centre x, y, yaw), its wall and its support, or None when the rule has nothing to offer."""
        rng, sx, sy = self.rng, self.room[0], self.room[1]
        by_kind = {p.kind: p for p in self.pieces}
        w, d = size[0], size[1]
        if kind == "table lamp":
            supports = [p for p in self.pieces if p.kind in _LAMP_SUPPORTS and p.size[2] < 1.3
                        and min(p.size[0], p.size[1]) > w + 0.06
                        and not any(q.support_id == p.segment_id for q in self.pieces)]
            if not supports:
                return None
            s = supports[rng.integers(len(supports))]
            room_x, room_y = (s.size[0] - w) / 2 - 0.03, (s.size[1] - d) / 2 - 0.03
            local = np.array([rng.uniform(-room_x, room_x), rng.uniform(-room_y, room_y)])
            return s.center[:2] + _rot2(s.yaw) @ local, s.yaw + rng.normal(0, 0.2), None, s
        if kind == "coffee table" and "sofa" in by_kind and rng.random() < 0.9:
            s = by_kind["sofa"]
            fwd = _rot2(s.yaw) @ np.array([rng.uniform(-0.15, 0.15), s.size[1] / 2 + rng.uniform(0.3, 0.5) + d / 2])
            return s.center[:2] + fwd, s.yaw, None, None
        if kind == "nightstand" and "bed" in by_kind and rng.random() < 0.9:
            b = by_kind["bed"]
            wall = self.walls[b.wall]
            along = (b.center[:2] - wall["center"]) @ wall["tangent"]
            along += rng.choice([-1, 1]) * (b.size[0] / 2 + rng.uniform(0.06, 0.12) + w / 2)
            xy, yaw = self.on_wall(b.wall, along, size)
            return xy, yaw, b.wall, None
        if kind == "chair":
            tables = [p for p in self.pieces if p.kind in ("table", "desk")]
            if tables and rng.random() < 0.9:
                t = tables[rng.integers(len(tables))]
                side = 1 if t.kind == "desk" else rng.choice([-1, 1])
                gap = rng.uniform(0.06, 0.25)
                local = np.array([rng.uniform(-1, 1) * max(t.size[0] / 2 - 0.3, 0),
                                  side * (t.size[1] / 2 + gap + d / 2)])
                yaw = t.yaw + (math.pi if side > 0 else 0.0) + rng.normal(0, 0.1)
                return t.center[:2] + _rot2(t.yaw) @ local, yaw, None, None
        if kind in ("plant", "floor lamp"):
            side = list(self.walls)[rng.integers(4)]
            length = self.walls[side]["length"]
            along = rng.choice([-1, 1]) * (length / 2 - w / 2 - rng.uniform(0.05, 0.3))
            xy, yaw = self.on_wall(side, along, size)
            return xy, yaw, side, None
        if kind in ("table", "armchair", "coffee table", "chair") and not (kind == "armchair" and rng.random() < 0.4):
            margin = 0.3 + max(w, d) / 2
            if sx / 2 <= margin or sy / 2 <= margin:
                return None
            xy = rng.uniform([-sx / 2 + margin, -sy / 2 + margin], [sx / 2 - margin, sy / 2 - margin])
            if kind == "armchair":  # turned towards the middle of the room
                to_mid = -xy / max(np.linalg.norm(xy), 1e-6)
                yaw = math.atan2(-to_mid[0], to_mid[1]) + rng.normal(0, 0.3)
            else:
                yaw = rng.choice([0.0, math.pi / 2]) + rng.normal(0, 0.08)
            return xy, yaw, None, None
        side = list(self.walls)[rng.integers(4)]
        length = self.walls[side]["length"]
        if length < w + 0.1:
            return None
        along = rng.uniform(-(length - w) / 2 + 0.05, (length - w) / 2 - 0.05)
        xy, yaw = self.on_wall(side, along, size)
        return xy, yaw, side, None

    def fits(self, center: np.ndarray, size: np.ndarray, yaw: float, wall: str | None, on: Piece | None,
             visible: bool) -> bool:
        """Inside the room, clear of other pieces, of the camera and of the window, and in view when asked."""
        sx, sy, h = self.room
        if center[2] + size[2] / 2 > h - 0.15:
            return False
        if visible:
            px, py, depth = _project(self.camera, center)
            rel_x, rel_y = px / self.camera.width, py / self.camera.height
            if not (depth > 0.8 and 0.05 < rel_x < 0.95 and 0.05 < rel_y < 0.95):
                return False
        if on is not None:
            return True
        corners = _footprint(center, size, yaw)
        if np.any(np.abs(corners[:, 0]) > sx / 2 - 0.005) or np.any(np.abs(corners[:, 1]) > sy / 2 - 0.005):
            return False
        if _distance_to_box(self.camera.position, center, size, yaw) < 0.5:
            return False
        grown = _footprint(center, size, yaw, 0.02)
        for p in self.pieces:
            if p.support_id is None and _overlap(grown, _footprint(p.center, p.size, p.yaw, 0.02)):
                return False
        win = self.window
        if win is not None and wall == win.wall and size[2] > win.sill - 0.05:
            w = self.walls[wall]
            along = (center[:2] - w["center"]) @ w["tangent"]
            if abs(along - win.offset) < (size[0] + win.size[0]) / 2 + 0.1:
                return False
        return True

    def place(self, kind: str, segment_id: int, visible: bool, tries: int = 60) -> Piece | None:
        size = _piece_size(kind, self.rng, self.room[2])
        for _ in range(tries):
            cand = self.candidate(kind, size)
            if cand is None:
                continue
            xy, yaw, wall, on = cand
            base = 0.0 if on is None else on.center[2] + on.size[2] / 2
            center = np.array([xy[0], xy[1], base + size[2] / 2])
            yaw = math.remainder(yaw, 2 * math.pi)
            if self.fits(center, size, yaw, wall, on, visible):
                piece = Piece(segment_id, kind, "lamp" if "lamp" in kind else kind, center, size, yaw,
                              _piece_parts(kind, *size, self.rng), _piece_materials(kind, self.rng), wall,
                              None if on is None else on.segment_id)
                self.pieces.append(piece)
                return piece
        return None


def _floor_material(rng: np.random.Generator) -> Material:
    pattern = ("planks", "tiles", "carpet")[rng.choice(3, p=[0.55, 0.25, 0.2])]
    c1 = np.asarray(_pick_color(rng, _FLOOR[pattern]))
    c2 = tuple(float(v) for v in np.clip(c1 * rng.uniform(0.75, 0.95), 0, 1))
    if pattern == "planks":
        return Material("floor", tuple(c1), float(rng.uniform(0.35, 0.6)), 0.0, pattern, c2,
                        (float(rng.uniform(0.9, 1.8)), float(rng.uniform(0.12, 0.22))),
                        float(rng.choice([0.0, math.pi / 2])))
    if pattern == "tiles":
        s = float(rng.uniform(0.3, 0.6))
        return Material("floor", tuple(c1), float(rng.uniform(0.2, 0.45)), 0.0, pattern, c2, (s, s), 0.0)
    return Material("floor", tuple(c1), float(rng.uniform(0.85, 1.0)), 0.0, pattern, c2, (0.02, 0.02), 0.0)


def _sample_camera(rng: np.random.Generator, room: np.ndarray, width: int, height: int) -> Camera:
    """A camera near a random corner, looking across the room towards the far corner, tilted down a little."""
    sx, sy, _ = room
    sgn = rng.choice([-1.0, 1.0], 2)
    dx, dy = rng.uniform(0.4, min(1.4, sx / 2 - 0.3)), rng.uniform(0.4, min(1.4, sy / 2 - 0.3))
    pos = np.array([sgn[0] * (sx / 2 - dx), sgn[1] * (sy / 2 - dy), rng.uniform(1.2, 1.7)])
    target = -sgn * np.array([sx / 2, sy / 2]) * rng.uniform(0.0, 0.9, 2)
    heading = math.atan2(target[1] - pos[1], target[0] - pos[0]) + rng.normal(0, math.radians(8))
    rot = _look_rotation(heading, math.radians(rng.uniform(5, 20)))
    return Camera(pos, rot, float(rng.uniform(45, 65)), width, height)


def _view_score(layout: Layout, want_ceiling: bool) -> tuple[int, int]:
    """How many of the view's wishes a coarse trace meets (and how many there are)."""
    cam = layout.camera
    cw = 48
    ch = max(8, round(cw * cam.height / cam.width))
    _, seg = trace_layout(layout, cam, cw, ch)
    frac = np.bincount(seg.ravel(), minlength=256) / seg.size
    walls = sorted((frac[sid] for sid, label, _ in layout.surfaces if label == "wall"), reverse=True)
    things = [frac[p.segment_id] for p in layout.pieces]
    checks = [frac[1] >= 0.12, walls[1] >= 0.04, (frac[2] >= 0.015) or not want_ceiling,
              sum(t >= 0.004 for t in things) >= min(2, len(things)), max(things, default=0) <= 0.45]
    return sum(checks), len(checks)


def sample_layout(seed: int, width: int = 320, height: int = 240, novel_views: int = 0,
                  theme: str | None = None) -> Layout:
    """Draw a room, its furniture, lights and camera(s) from `seed` (numpy only, deterministic)."""
    rng = np.random.default_rng(seed)
    theme = theme or THEMES[rng.integers(len(THEMES))]
    if theme not in THEMES:
        raise InputError(f"unknown theme {theme!r}; choose one of {', '.join(THEMES)}")
    room = np.array([rng.uniform(3.5, 6.0), rng.uniform(3.0, 5.0), rng.uniform(2.4, 3.0)])
    surfaces = [(1, "floor", "-z"), (2, "ceiling", "+z"), (3, "wall", "-y"), (4, "wall", "+x"), (5, "wall", "+y"),
                (6, "wall", "-x")]
    wall_mat = Material("wall", _pick_color(rng, _WALL, 0.03), float(rng.uniform(0.75, 0.95)))
    mats = {1: _floor_material(rng), 2: Material("ceiling", _pick_color(rng, [(0.95, 0.95, 0.94)], 0.02), 0.9)}
    accent = int(rng.integers(3, 7)) if rng.random() < 0.25 else None
    for sid in range(3, 7):
        mats[sid] = (Material("accent wall", _pick_color(rng, _ACCENT), wall_mat.roughness) if sid == accent
                     else wall_mat)

    next_id = 7
    window = None
    if rng.random() < 0.55:
        side = ("-y", "+x", "+y", "-x")[rng.integers(4)]
        length = _walls(room)[side]["length"]
        ww = rng.uniform(0.8, min(1.8, length - 1.0))
        sill = rng.uniform(0.7, 1.0)
        wh = min(rng.uniform(1.0, 1.5), room[2] - 0.25 - sill)
        along = rng.uniform(-(length - ww) / 2 + 0.4, (length - ww) / 2 - 0.4)
        sky = (float(rng.uniform(0.8, 0.9)), float(rng.uniform(0.88, 0.95)), 1.0)
        window = Window(next_id, side, float(along), float(sill), (float(ww), float(wh)), sky,
                        float(rng.uniform(1.5, 3.0)))
        next_id += 1

    n_lights = 1 if room[0] * room[1] < 16 or rng.random() < 0.4 else 2
    warm = (1.0, float(rng.uniform(0.86, 0.97)), float(rng.uniform(0.72, 0.92)))
    long_axis = 0 if room[0] >= room[1] else 1
    lights = []
    for k in range(n_lights):
        pos = np.array([rng.normal(0, 0.15), rng.normal(0, 0.15), room[2] - 0.01])
        if n_lights == 2:
            pos[long_axis] += (k - 0.5) * room[long_axis] / 2
        lights.append(Light(pos, (float(rng.uniform(0.4, 1.0)), float(rng.uniform(0.4, 1.0))), 100.0, warm))

    # Pieces for the theme: the anchor, then optional kinds by their odds, topped up to 3-5.
    table = _THEME_PIECES[theme]
    wanted = int(rng.integers(3, 6))
    chosen = [k for k, p in table[1:] if rng.random() < p]
    rest = [k for k, _ in table[1:] if k not in chosen]
    kinds = [table[0][0]] + chosen + [rest[i] for i in rng.permutation(len(rest))]
    want_ceiling = rng.random() < 0.85

    best: tuple[int, Layout] | None = None
    for attempt in range(60):
        camera = _sample_camera(rng, room, width, height)
        placer = _Placer(rng, room, camera, window)
        sid = next_id
        for i, kind in enumerate(kinds):
            if len(placer.pieces) >= wanted:
                break
            if placer.place(kind, sid, visible=(i == 0 or rng.random() < 0.85)) is not None:
                sid += 1
            elif i == 0:
                break  # the anchor piece must be there
        if not placer.pieces or placer.pieces[0].kind != kinds[0] or len(placer.pieces) < 3:
            continue
        layout = Layout(seed, theme, room, surfaces, mats, window, lights, placer.pieces, camera)
        score, total = _view_score(layout, want_ceiling and attempt < 40)
        if best is None or score > best[0]:
            best = (score, layout)
        if score == total:
            break
    if best is None:
        raise RuntimeError(f"synth: no layout found for seed {seed}")
    layout = best[1]
    layout.exposure_target = float(rng.uniform(0.13, 0.2))
    layout.novel_cameras = [_novel_camera(rng, layout) for _ in range(novel_views)]
    return layout


def _novel_camera(rng: np.random.Generator, layout: Layout) -> Camera:
    """A pose near the main camera (a step aside, a small turn), still inside the room and clear of furniture."""
    cam = layout.camera
    back = cam.rotation[:, 2]
    heading0 = math.atan2(-back[1], -back[0])
    pitch0 = math.asin(max(-1.0, min(1.0, back[2])))
    sx, sy, _ = layout.room_size
    for _ in range(200):
        pos = cam.position + rng.normal(0, [0.25, 0.25, 0.06])
        if abs(pos[0]) > sx / 2 - 0.3 or abs(pos[1]) > sy / 2 - 0.3:
            continue
        if any(_distance_to_box(pos, p.center, p.size, p.yaw) < 0.4 for p in layout.pieces):
            continue
        heading = heading0 + rng.normal(0, math.radians(8))
        pitch = min(max(pitch0 + rng.normal(0, math.radians(3)), math.radians(2)), math.radians(25))
        return Camera(pos, _look_rotation(heading, pitch), cam.fov_y_deg, cam.width, cam.height)
    return Camera(cam.position.copy(), cam.rotation.copy(), cam.fov_y_deg, cam.width, cam.height)


def ground_truth(layout: Layout, seg: np.ndarray | None = None, samples: int | None = None,
                 denoised: bool | None = None) -> dict:
    """ground_truth.json for a layout (docs/case_format.md, plus a few documented extras)."""
    counts = np.bincount(seg.ravel(), minlength=65536) if seg is not None else None

    def pixels(sid: int) -> dict:
        return {} if counts is None else {"pixels": int(counts[sid])}

    def material(m: Material) -> dict:
        out = {"name": m.name, "base_color": _r(m.base_color), "roughness": _r(m.roughness), "metallic": m.metallic}
        if m.pattern:
            out.update(pattern=m.pattern, color2=_r(m.color2), pattern_size=_r(m.pattern_size))
        return out

    sx, sy, h = layout.room_size
    win = layout.window
    lights = [{"type": "area", "position": _r(li.position), "size": _r(li.size), "normal": [0.0, 0.0, -1.0],
               "power_w": _r(li.power_w, 3), "color": _r(li.color), "source": "ceiling", "visible": False}
              for li in layout.lights]
    if win is not None:
        wall = _walls(layout.room_size)[win.wall]
        centre = np.r_[wall["center"] + wall["tangent"] * win.offset, win.sill + win.size[1] / 2]
        area = win.size[0] * win.size[1]
        # Blender's area light of power P over area A has radiance P / (pi A); an emission shader's strength is
        # its radiance. power_w is the equivalent area light power.
        lights.append({"type": "area", "position": _r(centre), "size": _r(win.size),
                       "normal": _r(np.r_[wall["normal"], 0.0]), "power_w": _r(win.radiance * math.pi * area, 3),
                       "color": _r(win.color), "source": "window", "visible": True, "radiance": _r(win.radiance),
                       "segment_id": win.segment_id})
    gt = {
        "generator": {"name": "photo2scene synth", "version": GENERATOR_VERSION, "seed": layout.seed,
                      "theme": layout.theme},
        "camera": layout.camera.to_json(),
        "room": {"center": _r([0.0, 0.0, h / 2]), "size": _r(layout.room_size), "yaw_deg": 0.0,
                 "surfaces": [{"segment_id": sid, "label": label, "side": side, **pixels(sid),
                               "material": material(layout.surface_materials[sid])}
                              for sid, label, side in layout.surfaces]},
        "objects": [{"segment_id": p.segment_id, "label": p.label, "center": _r(p.center), "size": _r(p.size),
                     "yaw_deg": _r(math.degrees(p.yaw), 4), "support_id": p.support_id, **pixels(p.segment_id),
                     "material": material(p.materials[0])}
                    for p in layout.pieces],
        "lights": lights,
    }
    if win is not None:
        gt["room"]["window"] = {"segment_id": win.segment_id, "wall": win.wall, **pixels(win.segment_id)}
    if samples is not None:
        gt["generator"].update(samples=samples, denoised=bool(denoised), renderer="cycles",
                               view_transform="Standard")
    return gt


def _segments(layout: Layout, seg: np.ndarray) -> list[dict]:
    present = set(np.unique(seg).tolist())
    entries = [(sid, label, "stuff") for sid, label, _ in layout.surfaces]
    if layout.window is not None:
        entries.append((layout.window.segment_id, "window", "stuff"))
    entries += [(p.segment_id, p.label, "thing") for p in layout.pieces]
    return [{"id": sid, "label": label, "kind": kind} for sid, label, kind in sorted(entries) if sid in present]
