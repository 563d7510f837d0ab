"""Parametric beds and case furniture: nightstands, cabinets, chests of drawers, wardrobes, shelves, TV stands."""

from __future__ import annotations

import numpy as np

from .builder import Builder, legs_at
from .palette import color


def bed(width: float = 1.6, length: float = 2.1, mattress: float = 0.55, headboard: float = 1.05,
        head: str = "panel", frame: str = "wood_mid", linen: str = "linen_white", duvet: str = "fabric_grey",
        pillows: int = 2, legs: bool = True) -> Builder:
    """Bed with its head at +Y (against the wall) and foot towards -Y. head: panel | upholstered | slats."""
    b = Builder()
    upholstered = head == "upholstered"
    b.part("frame", "fabric" if upholstered else "wood", color(frame))
    b.part("mattress", "fabric", color(linen)).part("duvet", "fabric", color(duvet))
    b.part("pillows", "fabric", color(linen, 1.05))
    hw, hl = width / 2, length / 2
    lh = 0.12 if legs else 0.0
    rail_top = mattress - 0.2
    b.box("frame", (-hw, -hl, lh), (hw, hl - 0.06, rail_top), bevel=0.01)
    b.box("mattress", (-hw + 0.03, -hl + 0.03, rail_top), (hw - 0.03, hl - 0.08, mattress), bevel=0.04)
    # Duvet over the lower two thirds, hanging a little over the sides.
    b.box("duvet", (-hw - 0.01, -hl + 0.0, rail_top + 0.08), (hw + 0.01, hl - 0.75, mattress + 0.05), bevel=0.04)
    pw = (width - 0.2) / pillows
    for i in range(pillows):
        x0 = -hw + 0.1 + i * pw
        b.box("pillows", (x0 + 0.02, hl - 0.55, mattress), (x0 + pw - 0.02, hl - 0.12, mattress + 0.14), bevel=0.06)
    if head == "slats":
        for x in (-hw, hw - 0.06):
            b.box("frame", (x, hl - 0.06, 0.0), (x + 0.06, hl, headboard))
        b.box("frame", (-hw, hl - 0.06, headboard - 0.08), (hw, hl, headboard))
        n = int(width / 0.14)
        for i in range(n):
            x = -hw + 0.06 + (width - 0.12) * (i + 0.5) / n
            b.box("frame", (x - 0.025, hl - 0.045, rail_top), (x + 0.025, hl - 0.015, headboard - 0.08))
    else:
        b.box("frame", (-hw - (0.04 if upholstered else 0.0), hl - (0.1 if upholstered else 0.05), 0.0),
              (hw + (0.04 if upholstered else 0.0), hl, headboard), bevel=0.04 if upholstered else 0.005)
    if legs:
        b.part("legs", "wood", color("wood_dark" if frame != "wood_dark" else "wood_mid"))
        legs_at(b, "legs", width, length - 0.06, 0.06, 0.0, lh, "square", 0.03)
        for mesh in b.last("legs", 4):
            mesh.apply_translation((0, -0.03, 0))
    return b


def case(width: float, depth: float, height: float, fronts: list[list[str]], body: str = "wood_mid",
         front: str = "", handle: str = "metal_steel", base: str = "plinth", leg_height: float = 0.12,
         open_top: float = 0.0, handle_style: str = "bar") -> Builder:
    """A box of storage: `fronts` lists rows from bottom to top, each a list of cells "drawer", "door", "open"
    or "glass". base: plinth | legs | taper | none. `open_top` leaves an open shelf of that height on top."""
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
            if kind == "glass":
                b.box("fronts", lo, (hi[0], hi[1], lo[2] + 0.05))
                b.box("fronts", (lo[0], lo[1], hi[2] - 0.05), hi)
                b.box("fronts", lo, (lo[0] + 0.05, hi[1], hi[2]))
                b.box("fronts", (hi[0] - 0.05, lo[1], lo[2]), hi)
                b.box("glass", (lo[0] + 0.05, fy + 0.008, lo[2] + 0.05), (hi[0] - 0.05, -hd - 0.004, hi[2] - 0.05))
            else:
                b.box("fronts", lo, hi, bevel=0.002)
            _handle(b, kind, handle_style, lo, hi, c, len(row))
    return b


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
