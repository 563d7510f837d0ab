"""Parametric case furniture: nightstands, cabinets, chests of drawers, wardrobes, sideboards, shelves, TV stands
(beds: beds.py)."""

from __future__ import annotations

import numpy as np

from .builder import Builder, legs_at
from .palette import color


def case(width: float, depth: float, height: float, fronts: list[list[str]], body: str = "wood_mid",
         front: str = "", handle: str = "metal_steel", base: str = "plinth", leg_height: float = 0.12,
         open_top: float = 0.0, handle_style: str = "bar", mirror_top: tuple[float, float] = (0.0, 0.0)) -> Builder:
    """A box of storage: `fronts` lists rows from bottom to top, each a list of cells "drawer", "door", "open",
    "glass", "mirror" (a mirrored door) or "slatted" (a door of vertical slats). base: plinth | legs | taper |
    none (floor-standing box, or a wall-hung one). `open_top` leaves an open shelf of that height on top.
    `mirror_top` (width, height in metres) stands a framed mirror on the back of the top: a dresser with its
    mirror, one piece of furniture (SUN RGB-D's "dresser mirror")."""
    b = Builder()
    mat = "paint" if body.startswith("paint") or body == "wood_white" else "wood"
    b.part("body", mat, color(body))
    front = front or body
    b.part("fronts", "paint" if front.startswith("paint") else "wood", color(front, 1.05))
    b.part("handles", "metal", color(handle))
    b.part("legs", "wood", color(body if base == "plinth" else "wood_dark"))
    b.part("glass", "glass", (0.6, 0.65, 0.65))
    t = 0.02
    hw, hd = width / 2, depth / 2
    z0 = {"plinth": 0.08, "none": 0.0}.get(base, leg_height)
    # Carcass: sides, top, bottom, back.
    b.box("body", (-hw, -hd, z0), (-hw + t, hd, height))
    b.box("body", (hw - t, -hd, z0), (hw, hd, height))
    b.box("body", (-hw, -hd, height - t), (hw, hd, height))
    b.box("body", (-hw + t, -hd, z0), (hw - t, hd, z0 + t))
    b.box("body", (-hw + t, hd - t, z0), (hw - t, hd, height - t))
    if base == "plinth":
        b.box("legs", (-hw + 0.03, -hd + 0.04, 0.0), (hw - 0.03, hd - 0.02, z0))
    elif base in ("legs", "taper"):
        legs_at(b, "legs", width, depth, 0.04, 0.0, z0, "taper" if base == "taper" else "square", 0.022)
    inner_top = height - t - open_top
    if open_top > 0:
        b.box("body", (-hw + t, -hd, inner_top - t), (hw - t, hd, inner_top))
    rows = len(fronts)
    row_h = (inner_top - z0 - t) / max(rows, 1)
    fy = -hd - 0.018
    for r, row in enumerate(fronts):
        rz0 = z0 + t + r * row_h
        cw = (width - 2 * t) / len(row)
        for c, kind in enumerate(row):
            cx0 = -hw + t + c * cw
            lo, hi = (cx0 + 0.003, fy, rz0 + 0.003), (cx0 + cw - 0.003, -hd, rz0 + row_h - 0.003)
            if kind == "open":
                if r > 0:
                    b.box("body", (cx0, -hd, rz0 - t / 2), (cx0 + cw, hd - t, rz0 + t / 2))
                continue
            if kind == "mirror":
                b.part("mirror", "mirror", color("mirror"))
                b.box("fronts", lo, hi, bevel=0.002)
                b.box("mirror", (lo[0] + 0.03, fy - 0.004, lo[2] + 0.03), (hi[0] - 0.03, fy + 0.001, hi[2] - 0.03))
                _handle(b, "door", handle_style, lo, hi, c, len(row))
                continue
            if kind == "slatted":
                b.box("fronts", (lo[0], lo[1] + 0.01, lo[2]), (hi[0], hi[1], hi[2]))
                n = max(int((hi[0] - lo[0]) / 0.035), 2)
                for k in range(n):
                    x = lo[0] + (hi[0] - lo[0]) * (k + 0.5) / n
                    b.box("fronts", (x - 0.011, lo[1], lo[2]), (x + 0.011, lo[1] + 0.012, hi[2]))
                _handle(b, "door", handle_style, lo, hi, c, len(row))
                continue
            if kind == "glass":
                b.box("fronts", lo, (hi[0], hi[1], lo[2] + 0.05))
                b.box("fronts", (lo[0], lo[1], hi[2] - 0.05), hi)
                b.box("fronts", lo, (lo[0] + 0.05, hi[1], hi[2]))
                b.box("fronts", (hi[0] - 0.05, lo[1], lo[2]), hi)
                b.box("glass", (lo[0] + 0.05, fy + 0.008, lo[2] + 0.05), (hi[0] - 0.05, -hd - 0.004, hi[2] - 0.05))
            else:
                b.box("fronts", lo, hi, bevel=0.002)
            _handle(b, kind, handle_style, lo, hi, c, len(row))
    if mirror_top[0] > 0 and mirror_top[1] > 0:
        _mirror_on_top(b, mirror_top[0], mirror_top[1], height, hd)
    return b


def _mirror_on_top(b: Builder, width: float, height: float, z: float, hd: float) -> None:
    """A framed mirror standing on the case's top (at height `z`), its back flush with the case's back."""
    b.part("mirror", "mirror", color("mirror"))
    frame, y1 = 0.05, hd - 0.01
    y0 = y1 - 0.035
    mw = width / 2
    b.box("body", (-mw, y0, z), (-mw + frame, y1, z + height))
    b.box("body", (mw - frame, y0, z), (mw, y1, z + height))
    b.box("body", (-mw + frame, y0, z + height - frame), (mw - frame, y1, z + height))
    b.box("body", (-mw + frame, y0, z), (mw - frame, y1, z + frame))
    b.box("mirror", (-mw + frame, y0 + 0.01, z + frame), (mw - frame, y0 + 0.015, z + height - frame))


def _handle(b: Builder, kind: str, style: str, lo: tuple, hi: tuple, col: int, cols: int) -> None:
    """Drawer handles centred near the top; door handles vertical near the meeting edge."""
    if style == "none":
        return
    y0, y1 = lo[1] - 0.025, lo[1]
    if kind == "drawer":
        cx, cz = (lo[0] + hi[0]) / 2, lo[2] + (hi[2] - lo[2]) * 0.6
        if style == "knob":
            b.rod("handles", (cx, y1, cz), (cx, y0, cz), 0.014, sections=10)
        else:
            w = min(0.16, (hi[0] - lo[0]) * 0.4)
            b.box("handles", (cx - w / 2, y0, cz - 0.007), (cx + w / 2, y1, cz + 0.007))
    else:
        x = hi[0] - 0.05 if col % 2 == 0 and cols > 1 else lo[0] + 0.05
        if cols == 1:
            x = hi[0] - 0.05
        cz = (lo[2] + hi[2]) / 2
        if style == "knob":
            b.rod("handles", (x, y1, cz), (x, y0, cz), 0.014, sections=10)
        else:
            h = min(0.18, (hi[2] - lo[2]) * 0.3)
            b.box("handles", (x - 0.007, y0, cz - h / 2), (x + 0.007, y1, cz + h / 2))


def bookshelf(width: float = 0.9, depth: float = 0.32, height: float = 1.9, shelves: int = 5, wood: str = "wood_light",
              books: float = 0.7, seed: int = 0, back: bool = True) -> Builder:
    """Open bookcase; `books` is the fraction of each shelf filled with books of random sizes and colours."""
    b = Builder()
    b.part("body", "wood", color(wood)).part("books", "paper", (0.3, 0.2, 0.15))
    rng = np.random.default_rng(seed)
    t = 0.022
    hw, hd = width / 2, depth / 2
    b.box("body", (-hw, -hd, 0.0), (-hw + t, hd, height))
    b.box("body", (hw - t, -hd, 0.0), (hw, hd, height))
    if back:
        b.box("body", (-hw + t, hd - 0.008, 0.0), (hw - t, hd, height))
    gap = (height - t) / shelves
    for i in range(shelves + 1):
        z = min(i * gap, height - t)
        b.box("body", (-hw + t, -hd, z), (hw - t, hd - 0.008, z + t))
    # One part for all books (one material); their sizes vary so the silhouette reads as books.
    for i in range(shelves):
        z = i * gap + t
        x = -hw + t + 0.01
        end = -hw + t + (width - 2 * t) * books
        while x < end:
            bw = float(rng.uniform(0.018, 0.045))
            bh = float(min(rng.uniform(0.17, 0.3), gap - t - 0.02))
            bd = float(rng.uniform(0.15, min(0.24, depth - 0.04)))
            b.box("books", (x, hd - 0.02 - bd, z), (x + bw, hd - 0.02, z + bh))
            x += bw + 0.002
    return b


def wall_shelf(width: float = 0.8, depth: float = 0.22, wood: str = "wood_mid", bracket: str = "metal_black",
               boards: int = 1) -> Builder:
    """Floating wall shelf (boards on brackets); its back (+Y) goes against the wall, origin at its bottom."""
    b = Builder()
    b.part("boards", "wood", color(wood)).part("brackets", "metal", color(bracket))
    for i in range(boards):
        z = 0.1 + i * 0.35
        b.box("boards", (-width / 2, -depth / 2, z), (width / 2, depth / 2, z + 0.025))
        for x in (-width / 2 + 0.12, width / 2 - 0.12):
            b.box("brackets", (x - 0.01, depth / 2 - 0.01, z - 0.1), (x + 0.01, depth / 2, z))
            b.box("brackets", (x - 0.01, -depth / 2 + 0.04, z - 0.006), (x + 0.01, depth / 2, z))
    return b


def cube_shelf(cols: int = 4, rows: int = 4, cell: float = 0.335, depth: float = 0.39, wood: str = "paint_white",
               fills: str = "", seed: int = 0) -> Builder:
    """A grid of open cubes (thick boards), some cells holding a fabric box in `fills` colour."""
    b = Builder()
    b.part("body", "paint" if wood.startswith("paint") else "wood", color(wood))
    t = 0.015 if cols * rows <= 2 else 0.035
    w, h = cols * cell + (cols + 1) * t, rows * cell + (rows + 1) * t
    hw, hd = w / 2, depth / 2
    for i in range(cols + 1):
        x = -hw + i * (cell + t)
        b.box("body", (x, -hd, 0), (x + t, hd, h))
    for j in range(rows + 1):
        z = j * (cell + t)
        b.box("body", (-hw + t, -hd, z), (hw - t, hd, z + t))
    if fills:
        b.part("boxes", "fabric", color(fills))
        rng = np.random.default_rng(seed)
        for i in range(cols):
            for j in range(rows):
                if rng.uniform() < 0.35:
                    x, z = -hw + t + i * (cell + t), t + j * (cell + t)
                    b.box("boxes", (x + 0.01, -hd + 0.01, z), (x + cell - 0.01, hd - 0.02, z + cell - 0.02), bevel=0.01)
    return b


def ladder_shelf(width: float = 0.6, height: float = 1.8, depth: float = 0.4, shelves: int = 5,
                 wood: str = "wood_light") -> Builder:
    """A leaning ladder bookcase: two slanted rails against the wall, shelves growing deeper towards the floor."""
    b = Builder()
    b.part("body", "wood", color(wood))
    hw, hd = width / 2, depth / 2
    for x in (-hw + 0.02, hw - 0.02):
        b.rod("body", (x, -hd + 0.02, 0.0), (x, hd - 0.02, height), 0.02, square=True)
    for i in range(shelves):
        f = (i + 0.3) / shelves
        z = f * height
        y_front = -hd + 0.02 + f * (depth - 0.04)  # the rail's position at that height
        b.box("body", (-hw + 0.04, y_front, z), (hw - 0.04, hd - 0.01, z + 0.02))
    return b


def clothes_rail(width: float = 1.2, height: float = 1.6, depth: float = 0.45, metal: str = "metal_black",
                 garments: int = 7, seed: int = 0) -> Builder:
    """Open wardrobe: a metal frame with a hanging rail, a lower shelf, and garments hanging from it."""
    b = Builder()
    b.part("frame", "metal", color(metal)).part("shelf", "wood", color("wood_light"))
    b.part("garments", "fabric", color("fabric_light"))
    hw, hd = width / 2, depth / 2
    for x in (-hw + 0.015, hw - 0.015):
        b.rod("frame", (x, 0, 0), (x, 0, height), 0.012, sections=8)
        b.rod("frame", (x, -hd, 0.02), (x, hd, 0.02), 0.012, sections=8)
    b.rod("frame", (-hw, 0, height - 0.02), (hw, 0, height - 0.02), 0.012, sections=8)
    b.box("shelf", (-hw + 0.03, -hd + 0.02, 0.2), (hw - 0.03, hd - 0.02, 0.22))
    rng = np.random.default_rng(seed)
    for i in range(garments):
        x = -hw + 0.12 + (width - 0.24) * i / max(garments - 1, 1)
        length = rng.uniform(0.6, 1.1)
        b.box("garments", (x - 0.02, -0.2, height - 0.08 - length), (x + 0.02, 0.2, height - 0.08), bevel=0.01)
    return b
