"""Parametric lamps, plants, wall decor and televisions (rugs, curtains and blinds: soft.py)."""

from __future__ import annotations

import numpy as np

from .builder import Builder
from .palette import color


def floor_lamp(height: float = 1.6, shade: str = "drum", metal: str = "metal_black", shade_color: str = "lampshade",
               tripod: bool = False) -> Builder:
    """Floor lamp: base disk (or tripod), pole, shade (drum | cone | dome)."""
    b = Builder()
    b.part("base", "metal", color(metal)).part("shade", "fabric" if shade != "dome" else "metal", color(shade_color))
    shade_h = 0.32 if shade != "dome" else 0.2
    pole_top = height - shade_h * 0.6
    if tripod:
        for i in range(3):
            a = 2 * np.pi * i / 3 + np.pi / 2
            b.rod("base", (0.28 * np.cos(a), 0.28 * np.sin(a), 0.0), (0, 0, pole_top * 0.55), 0.014)
        b.rod("base", (0, 0, pole_top * 0.5), (0, 0, pole_top), 0.012)
    else:
        b.cylinder("base", (0, 0, 0), 0.025, 0.15, 0.14, sections=32)
        b.cylinder("base", (0, 0, 0.025), pole_top - 0.025, 0.012, sections=10)
    _shade(b, shade, (0, 0, height - shade_h), shade_h, 0.22 if shade != "dome" else 0.25)
    return b


def table_lamp(height: float = 0.55, body: str = "vase", shade: str = "drum", base_color: str = "ceramic_white",
               shade_color: str = "lampshade") -> Builder:
    """Table lamp: a turned ceramic (vase) or a metal stem body and a shade."""
    b = Builder()
    b.part("base", "ceramic" if body == "vase" else "metal", color(base_color))
    b.part("shade", "fabric", color(shade_color))
    shade_h = height * 0.42
    body_h = height - shade_h * 0.75
    if body == "vase":
        r = height * 0.16
        b.revolve("base", (0, 0, 0), [(0, 0), (r * 0.6, 0), (r, body_h * 0.35), (r * 0.8, body_h * 0.75),
                                      (r * 0.25, body_h * 0.9), (r * 0.2, body_h), (0, body_h)], sections=28)
    else:
        b.cylinder("base", (0, 0, 0), 0.02, 0.09, sections=28)
        b.cylinder("base", (0, 0, 0.02), body_h - 0.02, 0.008, sections=8)
    _shade(b, shade, (0, 0, height - shade_h), shade_h, height * 0.3)
    return b


def _shade(b: Builder, kind: str, base: tuple[float, float, float], h: float, r: float) -> None:
    if kind == "drum":
        profile = [(r * 0.98, 0.0), (r, h)]
    elif kind == "cone":
        profile = [(r, 0.0), (r * 0.55, h)]
    else:  # dome
        angles = np.linspace(0, np.pi / 2, 8)
        profile = [(r * np.cos(a) + 1e-3, h * np.sin(a)) for a in angles]
    # Open tube: revolve the wall as a thin closed ring so it is watertight and reads as a shade from inside.
    outer = list(profile)
    inner = [(max(rr - 0.006, 0.001), z) for rr, z in reversed(profile)]
    b.revolve("shade", base, outer + inner + [outer[0]], sections=32)


def arc_lamp(height: float = 1.9, reach: float = 1.2, metal: str = "metal_steel") -> Builder:
    """Arc floor lamp: heavy block base, a curved pole reaching forwards (-Y), a dome shade."""
    b = Builder()
    b.part("base", "stone", color("concrete")).part("pole", "metal", color(metal))
    b.part("shade", "metal", color(metal))
    b.box("base", (-0.17, 0.1, 0.0), (0.17, 0.4, 0.06), bevel=0.01)
    b.cylinder("pole", (0, 0.25, 0.06), 0.5, 0.015, sections=10)
    # Half an ellipse in the YZ plane: up from the base, over, and down towards the front.
    angles = np.linspace(0, 0.7 * np.pi, 10)
    pts = [(0.0, 0.25 - reach / 2 * (1 - np.cos(a)), 0.56 + (height - 0.61) * np.sin(a)) for a in angles]
    for p0, p1 in zip(pts[:-1], pts[1:]):
        b.rod("pole", p0, p1, 0.012, sections=8)
    tip = pts[-1]
    _shade(b, "dome", (tip[0], tip[1], tip[2] - 0.18), 0.18, 0.2)
    return b


def potted_plant(height: float = 1.0, pot_radius: float = 0.16, pot_height: float = 0.3, pot: str = "terracotta",
                 kind: str = "bush", seed: int = 0) -> Builder:
    """Plant in a pot. kind: bush (leafy clumps) | tree (trunk + crown) | cactus (upright columns) |
    grass (thin blades)."""
    b = Builder()
    b.part("pot", "ceramic", color(pot)).part("soil", "soil", color("soil"))
    b.part("foliage", "foliage", color("foliage" if kind != "cactus" else "foliage_dark"))
    rng = np.random.default_rng(seed)
    r, ph = pot_radius, pot_height
    b.revolve("pot", (0, 0, 0), [(0, 0), (r * 0.75, 0), (r, ph * 0.95), (r * 1.06, ph * 0.95), (r * 1.06, ph),
                                 (r * 0.92, ph), (r * 0.9, ph * 0.9), (0, ph * 0.9)], sections=28)
    b.cylinder("soil", (0, 0, ph * 0.9), 0.01, r * 0.9, sections=24)
    top = ph * 0.9
    if kind == "tree":
        b.part("trunk", "wood", color("wood_mid"))
        b.rod("trunk", (0, 0, top), (0.02, 0.0, height * 0.6), 0.02, sections=8)
        for _ in range(9):
            c = (rng.normal(0, 0.09), rng.normal(0, 0.09), rng.uniform(height * 0.55, height - 0.15))
            s = rng.uniform(0.12, 0.18)
            b.blob("foliage", c, (s, s, s * 0.85), subdivisions=1)
    elif kind == "cactus":
        b.cylinder("foliage", (0, 0, top), height - top - 0.05, r * 0.45, r * 0.4, sections=12)
        b.blob("foliage", (0, 0, height - 0.06), (r * 0.4, r * 0.4, 0.06), subdivisions=1)
        for side in (-1, 1):
            z = top + (height - top) * rng.uniform(0.3, 0.5)
            x = side * r * 0.75
            b.rod("foliage", (0, 0, z), (x, 0, z), r * 0.22, sections=10)
            b.cylinder("foliage", (x, 0, z - 0.02), (height - z) * 0.5, r * 0.22, sections=10)
    elif kind == "grass":
        for i in range(24):
            a = 2 * np.pi * i / 24 + rng.normal(0, 0.1)
            lean = rng.uniform(0.1, 0.35)
            tip = (lean * np.cos(a) * (height - top), lean * np.sin(a) * (height - top), rng.uniform(0.7, 1.0) * height)
            b.rod("foliage", (0.3 * r * np.cos(a), 0.3 * r * np.sin(a), top), tip, 0.008, sections=4)
    else:
        for _ in range(12):
            a = rng.uniform(0, 2 * np.pi)
            rr = rng.uniform(0, r * 1.4)
            c = (rr * np.cos(a), rr * np.sin(a), rng.uniform(top + 0.1, height - 0.12))
            s = rng.uniform(0.09, 0.14)
            b.blob("foliage", c, (s * 1.2, s * 1.2, s), subdivisions=1)
    return b


def framed(width: float = 0.8, height: float = 0.6, depth: float = 0.03, frame: str = "wood_dark",
           inner: str = "canvas_blue", kind: str = "painting", frame_width: float = 0.04, round_: bool = False) -> Builder:
    """Wall picture or mirror: a frame around a canvas (or a mirror pane), back (+Y) against the wall."""
    b = Builder()
    b.part("frame", "wood" if frame.startswith("wood") else "metal", color(frame))
    b.part("canvas" if kind == "painting" else "mirror", "paper" if kind == "painting" else "mirror", color(inner))
    pane = "canvas" if kind == "painting" else "mirror"
    hw, hd, fw = width / 2, depth / 2, frame_width
    if round_:
        r = width / 2
        ring = [(r - fw, -hd), (r, -hd), (r, hd), (r - fw, hd), (r - fw, -hd)]
        b.revolve("frame", (0, 0, 0), ring, sections=48)
        b.cylinder(pane, (0, 0, -hd + 0.005), depth - 0.01, r - fw + 0.002, sections=48)
        for name in ("frame", pane):  # revolve builds about Z: turn the disk to face -Y, then lift it
            for mesh in b.last(name):
                mesh.apply_transform(np.array([[1, 0, 0, 0], [0, 0, -1, 0], [0, 1, 0, r], [0, 0, 0, 1.0]]))
        return b
    b.box("frame", (-hw, -hd, 0.0), (hw, hd, fw))
    b.box("frame", (-hw, -hd, height - fw), (hw, hd, height))
    b.box("frame", (-hw, -hd, fw), (-hw + fw, hd, height - fw))
    b.box("frame", (hw - fw, -hd, fw), (hw, hd, height - fw))
    b.box(pane, (-hw + fw, -hd + 0.008, fw), (hw - fw, hd, height - fw))
    return b


def television(width: float = 1.25, stand: bool = True) -> Builder:
    """Flat-screen TV (16:9) on a small stand, screen facing -Y."""
    b = Builder()
    b.part("body", "plastic", color("plastic_black")).part("screen", "glass", color("screen"))
    h = width * 9 / 16
    z0 = 0.08 if stand else 0.0
    b.box("body", (-width / 2, -0.02, z0), (width / 2, 0.03, z0 + h))
    b.box("screen", (-width / 2 + 0.01, -0.025, z0 + 0.01), (width / 2 - 0.01, -0.02, z0 + h - 0.01))
    if stand:
        b.box("body", (-0.25, -0.1, 0.0), (0.25, 0.12, 0.015))
        b.box("body", (-0.04, 0.0, 0.015), (0.04, 0.03, z0 + 0.1))
    return b
