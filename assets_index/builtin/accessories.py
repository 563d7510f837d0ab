"""Parametric small things: cushions, vases, wall clocks, books (what sits on sofas, shelves and walls)."""

from __future__ import annotations

import numpy as np

from .builder import Builder
from .palette import color


def cushion(width: float = 0.45, height: float = 0.45, depth: float = 0.14, shape: str = "square",
            fabric: str = "fabric_mustard", piping: str = "", flange: float = 0.0) -> Builder:
    """A cushion standing upright (its face towards -Y). shape: square (a knife-edge pillow, puffed in the
    middle; wide for a lumbar one) | box (a flat-faced boxed cushion with straight sides) | round | bolster (a
    cylinder lying along X) | lying (a bed pillow flat on its back: `width` along X, `depth` front to back,
    `height` its loft) | lying_box (a gusseted foam pillow, flat-topped); piping: a contrasting welt around the
    edge; flange: the flat border of a pillow sham (lying shapes), in metres."""
    b = Builder()
    b.part("fabric", "fabric", color(fabric))
    if shape in ("lying", "lying_box"):
        w, d, seam = width - 2 * flange, depth - 2 * flange, height * 0.4
        if shape == "lying_box":
            b.box("fabric", (-w / 2, -d / 2, 0), (w / 2, d / 2, height), bevel=0.015)
        else:  # thin at the seams, full in the middle: a chamfered slab merged with a flattened ellipsoid
            b.box("fabric", (-w / 2, -d / 2, 0), (w / 2, d / 2, seam), bevel=0.02)
            b.blob("fabric", (0, 0, height / 2), (w / 2 * 0.96, d / 2 * 0.94, height / 2), subdivisions=2)
        if flange:
            b.box("fabric", (-width / 2, -depth / 2, seam / 2 - 0.006), (width / 2, depth / 2, seam / 2 + 0.006))
        if piping:
            b.part("piping", "fabric", color(piping))
            z0, z1 = seam / 2 - 0.008, seam / 2 + 0.008
            hw, hd = width / 2, depth / 2
            for y in (-hd, hd - 0.012):
                b.box("piping", (-hw, y, z0), (hw, y + 0.012, z1))
            for x in (-hw, hw - 0.012):
                b.box("piping", (x, -hd + 0.012, z0), (x + 0.012, hd - 0.012, z1))
        return b
    if shape == "bolster":
        r = height / 2
        b.rod("fabric", (-width / 2 + r * 0.3, 0, r), (width / 2 - r * 0.3, 0, r), r, sections=20)
        for s in (-1, 1):
            b.blob("fabric", (s * (width / 2 - r * 0.3), 0, r), (r * 0.3, r, r), subdivisions=2)
        return b
    if shape == "round":
        b.blob("fabric", (0, 0, height / 2), (width / 2, depth / 2, height / 2), subdivisions=3)
        if piping:
            b.part("piping", "fabric", color(piping))
            b.revolve("piping", (0, 0, 0), [(width / 2 - 0.012, -0.008), (width / 2 + 0.004, -0.008),
                                           (width / 2 + 0.004, 0.008), (width / 2 - 0.012, 0.008),
                                           (width / 2 - 0.012, -0.008)], sections=40)
            m = b.last("piping")[0]
            m.apply_transform(np.array([[1, 0, 0, 0], [0, 0, -1, 0], [0, 1, 0, height / 2], [0, 0, 0, 1.0]]))
        return b
    if shape == "box":
        b.box("fabric", (-width / 2, -depth / 2, 0), (width / 2, depth / 2, height), bevel=0.012)
        if piping:
            b.part("piping", "fabric", color(piping))
            for y in (-depth / 2, depth / 2 - 0.01):
                b.box("piping", (-width / 2 - 0.004, y, height - 0.01), (width / 2 + 0.004, y + 0.01, height + 0.002))
                b.box("piping", (-width / 2 - 0.004, y, -0.0), (width / 2 + 0.004, y + 0.01, 0.01))
        return b
    # Square and lumbar: a pillow puffed in the middle (an ellipsoid merged with a thin chamfered slab).
    b.box("fabric", (-width / 2, -depth * 0.2, 0), (width / 2, depth * 0.2, height), bevel=0.02)
    b.blob("fabric", (0, 0, height / 2), (width / 2 * 0.95, depth / 2, height / 2 * 0.95), subdivisions=2)
    if piping:
        b.part("piping", "fabric", color(piping))
        for z in (0.0, height - 0.012):
            b.box("piping", (-width / 2, -0.008, z), (width / 2, 0.008, z + 0.012))
        for x in (-width / 2, width / 2 - 0.012):
            b.box("piping", (x, -0.008, 0.012), (x + 0.012, 0.008, height - 0.012))
    return b


_VASE_PROFILES = {
    # (radius, z) fractions of (width / 2, height), bottom to top.
    "bottle": [(0.0, 0.0), (0.75, 0.0), (1.0, 0.1), (1.0, 0.55), (0.35, 0.75), (0.28, 1.0), (0.0, 1.0)],
    "amphora": [(0.0, 0.0), (0.45, 0.0), (0.9, 0.35), (1.0, 0.5), (0.55, 0.8), (0.5, 0.92), (0.65, 1.0), (0.0, 1.0)],
    "cylinder": [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)],
    "bowl": [(0.0, 0.0), (0.45, 0.0), (0.85, 0.4), (1.0, 1.0), (0.0, 1.0)],
}


def vase(height: float = 0.35, width: float = 0.18, shape: str = "bottle", glaze: str = "ceramic_white",
         stems: int = 0, seed: int = 0) -> Builder:
    """A turned vase (bottle | amphora | cylinder | bowl), optionally with `stems` dry branches in it."""
    b = Builder()
    b.part("vase", "ceramic", color(glaze))
    r = width / 2
    h = height if not stems else height * 0.45
    profile = [(max(fr * r, 0.0), fz * h) for fr, fz in _VASE_PROFILES[shape]]
    b.revolve("vase", (0, 0, 0), profile, sections=32)
    if stems:
        b.part("stems", "wood", color("wood_light"))
        rng = np.random.default_rng(seed)
        for i in range(stems):
            a = 2 * np.pi * i / stems + rng.normal(0, 0.2)
            lean = rng.uniform(0.05, 0.2) * (height - h)
            b.rod("stems", (0, 0, h * 0.6), (lean * np.cos(a), lean * np.sin(a), height * rng.uniform(0.85, 1.0)),
                  0.004, sections=4)
    return b


def wall_clock(diameter: float = 0.35, depth: float = 0.05, rim: str = "metal_black", face: str = "paper_white",
               square: bool = False) -> Builder:
    """A wall clock: a rim, a face and two hands, its back (+Y) on the wall; round or square."""
    b = Builder()
    b.part("rim", "metal" if rim.startswith("metal") or rim in ("brass", "gold") else "wood", color(rim))
    b.part("face", "paper", color(face)).part("hands", "metal", color("metal_black"))
    r = diameter / 2
    hd = depth / 2
    if square:
        b.box("rim", (-r, -hd, 0), (r, hd, diameter), bevel=0.005)
        b.box("face", (-r + 0.02, -hd - 0.002, 0.02), (r - 0.02, -hd + 0.01, diameter - 0.02))
    else:
        b.cylinder("rim", (0, 0, -hd), depth, r, sections=48)
        # Drawn along +Z, then turned so +Z faces the room (-Y): the face sits at the +Z end.
        b.cylinder("face", (0, 0, hd - 0.008), 0.01, r - 0.015, sections=48)
        for name in ("rim", "face"):
            m = b.last(name)[0]
            m.apply_transform(np.array([[1, 0, 0, 0], [0, 0, -1, 0], [0, 1, 0, r], [0, 0, 0, 1.0]]))
    y = -hd - 0.006
    b.box("hands", (-0.004, y, r), (0.004, y + 0.003, r + r * 0.6))
    b.box("hands", (0.0, y, r - 0.004), (r * 0.45, y + 0.003, r + 0.004))
    return b


def books(count: int = 8, lying: bool = False, seed: int = 0, bookends: str = "") -> Builder:
    """A row of standing books (optionally between two bookends) or a lying stack."""
    b = Builder()
    b.part("books", "paper", (0.3, 0.2, 0.15))
    rng = np.random.default_rng(seed)
    x, z = 0.0, 0.0
    for _ in range(count):
        w, h, d = rng.uniform(0.02, 0.045), rng.uniform(0.18, 0.3), rng.uniform(0.13, 0.22)
        if lying:
            dx = rng.normal(0, 0.01)
            b.box("books", (dx - h / 2, -d / 2, z), (dx + h / 2, d / 2, z + w))
            z += w
        else:
            b.box("books", (x, -d / 2, 0), (x + w, d / 2, h))
            x += w + 0.002
    if bookends and not lying:
        b.part("bookends", "metal", color(bookends))
        for x0 in (-0.012, x):
            b.box("bookends", (x0, -0.06, 0), (x0 + 0.012, 0.06, 0.16))
    return b
