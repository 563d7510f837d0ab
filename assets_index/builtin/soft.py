"""Parametric soft furnishings: curtains, blinds and rugs, sized in metres so the object stage can build one to
the size of a mask (`curtain(1.6, 2.4)` is a 1.6 m wide, 2.4 m tall curtain including its rod).

Every generator returns a `Builder` in the canonical frame (Z up, front -Y, the wall or floor side +Y / -Z);
`Builder.build()` gives named parts with box UVs. The whole model fits the requested width and height: rods,
finials and rails are inside that box, so a mask's extent is the model's extent.
"""

from __future__ import annotations

import numpy as np

from .builder import Builder
from .palette import color

CURTAIN_HEADERS = ("rod", "track", "pelmet")
BLIND_KINDS = ("roller", "venetian", "roman", "vertical")
RUG_SHAPES = ("rect", "round", "oval", "rounded")


def _wave(x0: float, x1: float, folds: float, amplitude: float, points_per_fold: int = 8) -> np.ndarray:
    """(N, 2) XY points of a pleated line from x0 to x1: `folds` full sine waves of peak-to-peak `amplitude`."""
    n = max(int(round(folds * points_per_fold)), 2) + 1
    x = np.linspace(x0, x1, n)
    y = 0.5 * amplitude * np.sin(2 * np.pi * folds * (x - x0) / max(x1 - x0, 1e-6))
    return np.column_stack([x, y])


def curtain(width: float = 1.6, height: float = 2.4, folds: int = 7, rod: bool = True, panels: int = 2,
            opening: float = 0.0, tieback: bool = False, fold_depth: float = 0.08, header: str = "",
            fabric: str = "fabric_light", rod_color: str = "metal_black", thickness: float = 0.008) -> Builder:
    """A curtain: `panels` (1 or 2) draped fabric panels with `folds` pleats each, hanging from a rod (or a
    ceiling track when rod=False, or a boxed pelmet with header="pelmet").

    opening: 0 closed .. 0.8 (the panels gathered towards the sides, each covering (1 - opening) of its half);
    tieback: each panel is pinched at 40 % of its height towards the outer side (an hourglass drape).
    The model spans exactly `width` x `height`; its depth is about `fold_depth` plus the rod."""
    header = header or ("rod" if rod else "track")
    if header not in CURTAIN_HEADERS:
        raise ValueError(f"curtain header {header!r}: use one of {', '.join(CURTAIN_HEADERS)}")
    panels = 1 if panels <= 1 else 2
    opening = float(np.clip(opening, 0.0, 0.8))
    b = Builder()
    b.part("fabric", "fabric", color(fabric))
    hw = width / 2
    # Header hardware at the top, inside the box.
    if header == "rod":
        b.part("rod", "metal", color(rod_color))
        r = 0.014
        finial = 0.035
        zr = height - finial / 2  # the finials' tops touch `height`
        b.rod("rod", (-hw + finial, 0.0, zr), (hw - finial, 0.0, zr), r, sections=12)
        for s in (-1, 1):
            b.blob("rod", (s * (hw - finial / 2), 0.0, zr), (finial / 2, finial / 2, finial / 2), subdivisions=1)
            # Wall brackets reaching back (+Y) from the rod.
            b.box("rod", (s * (hw - 0.12) - 0.008, 0.0, zr - 0.008), (s * (hw - 0.12) + 0.008,
                                                                    fold_depth / 2 + 0.05, zr + 0.008))
        top = zr - r * 0.6  # the fabric's heading wraps the rod
        inset = finial
    elif header == "track":
        b.part("rod", "metal", color(rod_color))
        b.box("rod", (-hw, -0.02, height - 0.025), (hw, 0.02, height))
        top = height - 0.025
        inset = 0.01
    else:  # pelmet: a fabric-covered box over the heading
        b.part("pelmet", "fabric", color(fabric, 0.85))
        ph = min(0.25, height * 0.12)
        b.box("pelmet", (-hw, -fold_depth / 2 - 0.05, height - ph), (hw, fold_depth / 2 + 0.04, height), bevel=0.01)
        top = height - ph * 0.5
        inset = 0.03
    hem = 0.0  # the model's bottom is the hem: the caller places it (just clear of the floor, or a sill)
    span = width - 2 * inset
    sides = (-1,) if panels == 1 else (-1, 1)
    # Two panels leave a 1 cm slit in the middle when closed, so each stays a separate closed sheet.
    panel_w = (span / len(sides) - (0.005 if len(sides) == 2 else 0.0)) * (1 - opening)
    for s in sides:
        # Outer edge fixed at the side; the inner edge moves outwards as the curtain opens.
        if len(sides) == 1:
            outer, inner = -span / 2, -span / 2 + panel_w
        else:
            outer = s * span / 2
            inner = outer - s * panel_w
        x0, x1 = sorted((outer, inner))
        levels = [0.0, 0.4, 0.7, 1.0] if tieback else [0.0, 0.5, 1.0]
        rings = []
        for f in levels:
            z = hem + f * (top - hem)
            if tieback and f == 0.4:
                # Pinched towards the outer edge: a third of the width, the folds bunched deeper.
                w = (x1 - x0) * 0.35
                a0, a1 = (x0, x0 + w) if s < 0 else (x1 - w, x1)
                amp = fold_depth * 1.4
            else:
                # Fabric flares a little towards the hem (gravity pulls the pleats open).
                flare = 1.0 + 0.12 * (1 - f)
                a0, a1 = x0, x1
                amp = fold_depth * flare
            rings.append((z, _wave(a0, a1, folds, amp)))
        b.sheet("fabric", rings, thickness)
    return b


def blind(width: float = 1.0, height: float = 1.4, kind: str = "roller", fabric: str = "fabric_light",
          rail: str = "paint_white", slat: float = 0.025, pleats: int = 4) -> Builder:
    """A window blind, its back (+Y) towards the window. kind: roller (a tube and a flat panel) | venetian
    (horizontal slats on a head rail) | roman (a panel with `pleats` stacked folds at the bottom) | vertical
    (vertical vanes). The model spans exactly `width` x `height`."""
    if kind not in BLIND_KINDS:
        raise ValueError(f"blind kind {kind!r}: use one of {', '.join(BLIND_KINDS)}")
    b = Builder()
    hw = width / 2
    if kind == "venetian":
        b.part("slats", "metal", color(rail)).part("rail", "metal", color(rail, 0.9))
        b.part("cords", "fabric", color("fabric_light"))
        b.box("rail", (-hw, -0.025, height - 0.04), (hw, 0.025, height), bevel=0.004)
        b.box("rail", (-hw + 0.005, -0.018, 0.0), (hw - 0.005, 0.018, 0.015), bevel=0.003)
        gap = slat * 0.85
        z = 0.015 + gap
        while z + 0.002 < height - 0.045:
            b.box("slats", (-hw + 0.005, -slat / 2, z - 0.001), (hw - 0.005, slat / 2, z + 0.001))
            z += gap
        for x in (-hw + width * 0.18, hw - width * 0.18):
            b.rod("cords", (x, -slat / 2 - 0.002, 0.0), (x, -slat / 2 - 0.002, height - 0.04), 0.0015, sections=4)
        return b
    if kind == "vertical":
        b.part("vanes", "fabric", color(fabric)).part("rail", "metal", color(rail))
        b.box("rail", (-hw, -0.03, height - 0.04), (hw, 0.03, height), bevel=0.004)
        vane = 0.089  # the common 89 mm vane
        n = max(int(width / (vane * 0.85)), 2)
        for i in range(n):
            x = -hw + vane / 2 + (width - vane) * i / (n - 1)
            # Vanes turned 30 degrees so they overlap like a real half-open blind.
            b.box("vanes", (x - vane / 2, -0.001, 0.0), (x + vane / 2, 0.001, height - 0.05))
            b.last("vanes")[0].apply_transform(_turn_about_z(np.radians(30), (x, 0.0)))
        return b
    b.part("fabric", "fabric", color(fabric)).part("rail", "metal" if kind == "roller" else "fabric",
                                                   color(rail if kind == "roller" else fabric, 0.95))
    if kind == "roller":
        r = 0.025
        b.rod("rail", (-hw, 0.0, height - r), (hw, 0.0, height - r), r, sections=16)
        b.box("fabric", (-hw + 0.02, -r, 0.02), (hw - 0.02, -r + 0.003, height - r))
        b.box("rail", (-hw + 0.02, -r - 0.01, 0.0), (hw - 0.02, -r + 0.01, 0.025), bevel=0.004)
        return b
    # Roman: a head board, the flat panel, and stacked soft pleats at the bottom.
    b.box("rail", (-hw, -0.02, height - 0.05), (hw, 0.03, height))
    pleat_h = min(0.09, height / (3 * max(pleats, 1)))
    stack = pleats * pleat_h
    b.box("fabric", (-hw, -0.02, stack), (hw, -0.012, height - 0.05))
    for i in range(pleats):
        z0 = i * pleat_h
        # Each pleat bulges forwards; the lower ones a little more (they carry the folds above).
        bulge = 0.03 + 0.01 * (pleats - i) / pleats
        b.box("fabric", (-hw, -0.02 - bulge, z0), (hw, -0.012, z0 + pleat_h), bevel=pleat_h * 0.45)
    return b


def _turn_about_z(angle: float, centre: tuple[float, float]) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    x, y = centre
    return np.array([[c, -s, 0, x - c * x + s * y], [s, c, 0, y - s * x - c * y], [0, 0, 1, 0], [0, 0, 0, 1.0]])


def rug(width: float = 2.0, depth: float = 1.4, thickness: float = 0.01, shape: str = "rect",
        fabric: str = "rug_beige", border: str = "", border_width: float = 0.1, stripes: int = 0,
        fringe: float = 0.0) -> Builder:
    """A flat rug with thickness on the floor. shape: rect | round | oval (round uses `width` as diameter) |
    rounded (a rectangle with corners rounded by a quarter of its shorter side);
    border: a band of a second colour; stripes: that many bands of the border colour across the rug (rect);
    fringe: tassels of that length on the short ends (rect), inside the `width` x `depth` footprint."""
    if shape not in RUG_SHAPES:
        raise ValueError(f"rug shape {shape!r}: use one of {', '.join(RUG_SHAPES)}")
    b = Builder()
    b.part("rug", "fabric", color(fabric))
    th = thickness
    accent = border or "rug_beige"
    if shape in ("round", "oval"):
        r = width / 2
        b.cylinder("rug", (0, 0, 0), th, r - (0.002 if border else 0.0), sections=64)
        if border:
            b.part("border", "fabric", color(border))
            bw = border_width
            b.revolve("border", (0, 0, 0), [(r - bw, 0), (r, 0), (r, th + 0.001), (r - bw, th + 0.001),
                                            (r - bw, 0)], sections=64)
        if shape == "oval":
            for name in ("rug", "border") if border else ("rug",):
                b.last(name)[0].apply_scale((1.0, depth / width, 1.0))
        return b
    if shape == "rounded":
        rc = 0.25 * min(width, depth)
        corners = [(sx * (width / 2 - rc), sy * (depth / 2 - rc)) for sx in (-1, 1) for sy in (-1, 1)]
        # 16 steps of 22.5 degrees include the axis directions, so the outline reaches the full width and depth.
        ring = [(cx + rc * np.cos(a), cy + rc * np.sin(a)) for cx, cy in corners
                for a in np.linspace(0, 2 * np.pi, 16, endpoint=False)]
        b.prism("rug", np.array(ring), 0.0, th)
        return b
    # Fringe on the short sides: the body is shortened so the tassels stay inside the footprint.
    long_x = width >= depth
    fr = min(fringe, 0.15 * max(width, depth))
    bw_, bd_ = (width - 2 * fr, depth) if long_x else (width, depth - 2 * fr)
    b.box("rug", (-bw_ / 2, -bd_ / 2, 0), (bw_ / 2, bd_ / 2, th))
    if border or stripes:
        b.part("border", "fabric", color(accent))
        z0, z1 = th, th + 0.001
        w = border_width
        if border:
            b.box("border", (-bw_ / 2, -bd_ / 2, z0), (bw_ / 2, -bd_ / 2 + w, z1))
            b.box("border", (-bw_ / 2, bd_ / 2 - w, z0), (bw_ / 2, bd_ / 2, z1))
            b.box("border", (-bw_ / 2, -bd_ / 2 + w, z0), (-bw_ / 2 + w, bd_ / 2 - w, z1))
            b.box("border", (bw_ / 2 - w, -bd_ / 2 + w, z0), (bw_ / 2, bd_ / 2 - w, z1))
        for i in range(stripes):
            # Bands across the long axis, evenly spaced inside the border.
            f = (i + 1) / (stripes + 1)
            if long_x:
                x = -bw_ / 2 + f * bw_
                b.box("border", (x - 0.03, -bd_ / 2 + w, z0), (x + 0.03, bd_ / 2 - w, z1))
            else:
                y = -bd_ / 2 + f * bd_
                b.box("border", (-bw_ / 2 + w, y - 0.03, z0), (bw_ / 2 - w, y + 0.03, z1))
    if fr > 0:
        b.part("fringe", "fabric", color("linen_white"))
        short = bd_ if long_x else bw_
        body_half, full_half = (bw_ / 2, width / 2) if long_x else (bd_ / 2, depth / 2)
        n = max(int(short / 0.04), 2)
        for lo, hi in ((-full_half, -body_half), (body_half, full_half)):  # tassels beyond each short end
            for i in range(n):
                t = -short / 2 + (i + 0.5) * short / n
                if long_x:
                    b.box("fringe", (lo, t - 0.006, 0), (hi, t + 0.006, th * 0.5))
                else:
                    b.box("fringe", (t - 0.006, lo, 0), (t + 0.006, hi, th * 0.5))
    return b
