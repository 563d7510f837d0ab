"""Parametric plants, wall decor and televisions (lamps: lighting.py; rugs, curtains and blinds: soft.py)."""

from __future__ import annotations

import numpy as np

from .builder import Builder
from .palette import color


def potted_plant(height: float = 1.0, pot_radius: float = 0.16, pot_height: float = 0.3, pot: str = "terracotta",
                 kind: str = "bush", seed: int = 0) -> Builder:
    """Plant in a pot. kind: bush (leafy clumps) | tree (trunk + crown) | cactus (upright columns) |
    grass (thin blades) | snake (stiff upright leaves) | monstera (big flat leaves on long stalks) |
    palm (arching fronds from a few stems) | succulent (a low rosette of thick leaves)."""
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
    elif kind == "succulent":
        for ring, (count, rr, tilt) in enumerate(((8, 0.9, 0.35), (6, 0.55, 0.6), (4, 0.25, 0.9))):
            for i in range(count):
                a = 2 * np.pi * (i + 0.5 * ring) / count
                c = (rr * r * np.cos(a), rr * r * np.sin(a), top + (height - top) * (0.25 + 0.25 * ring))
                s_ = r * 0.35
                b.blob("foliage", c, (s_, s_, s_ * tilt), subdivisions=1)
    elif kind == "snake":
        for i in range(9):
            a = 2 * np.pi * i / 9 + rng.normal(0, 0.2)
            rr = r * rng.uniform(0.1, 0.6)
            base = (rr * np.cos(a), rr * np.sin(a), top)
            tip = (base[0] * 1.4, base[1] * 1.4, rng.uniform(0.65, 1.0) * height)
            b.rod("foliage", base, tip, 0.025, sections=4, square=True)
    elif kind in ("monstera", "palm"):
        n = 7 if kind == "monstera" else 9
        for i in range(n):
            a = 2 * np.pi * i / n + rng.normal(0, 0.15)
            reach = rng.uniform(0.2, 0.45) * (height - top)
            z = rng.uniform(0.6, 0.95) * height
            tip = (reach * np.cos(a), reach * np.sin(a), z)
            b.rod("foliage", (0, 0, top), tip, 0.006, sections=4)
            if kind == "monstera":
                s_ = rng.uniform(0.13, 0.2)
                b.blob("foliage", (tip[0] * 1.15, tip[1] * 1.15, tip[2]), (s_, s_, 0.015), subdivisions=2)
            else:
                # A frond: a row of thin leaflets arching outwards and down from the tip.
                for k in range(6):
                    f = (k + 1) / 6
                    p = (tip[0] * (1 + 0.6 * f), tip[1] * (1 + 0.6 * f), tip[2] + 0.05 - 0.18 * f * f)
                    b.blob("foliage", p, (0.09, 0.09, 0.01), subdivisions=1)
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
           inner: str = "canvas_blue", kind: str = "painting", frame_width: float = 0.04, round_: bool = False,
           mat: float = 0.0, arch: bool = False) -> Builder:
    """Wall picture or mirror: a frame around a canvas (or a mirror pane), back (+Y) against the wall.
    mat > 0: a white passe-partout that wide inside the frame; frame_width 0: a gallery-wrapped canvas (a deep
    block, no frame); arch: a round-topped frame (arched mirrors)."""
    if frame_width <= 0:
        b = Builder()
        b.part("canvas", "paper", color(inner))
        b.box("canvas", (-width / 2, -depth / 2, 0), (width / 2, depth / 2, height), bevel=0.003)
        return b
    if arch:
        return _arched(width, height, depth, frame, inner, kind, frame_width)
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
    if mat > 0:
        b.part("mat", "paper", color("paper_white"))
        b.box("mat", (-hw + fw, -hd + 0.006, fw), (hw - fw, hd, fw + mat))
        b.box("mat", (-hw + fw, -hd + 0.006, height - fw - mat), (hw - fw, hd, height - fw))
        b.box("mat", (-hw + fw, -hd + 0.006, fw + mat), (-hw + fw + mat, hd, height - fw - mat))
        b.box("mat", (hw - fw - mat, -hd + 0.006, fw + mat), (hw - fw, hd, height - fw - mat))
        b.box(pane, (-hw + fw + mat, -hd + 0.008, fw + mat), (hw - fw - mat, hd, height - fw - mat))
        return b
    b.box(pane, (-hw + fw, -hd + 0.008, fw), (hw - fw, hd, height - fw))
    return b


def _arched(width: float, height: float, depth: float, frame: str, inner: str, kind: str, fw: float) -> Builder:
    """A frame whose top is a half circle, built from the straight sides and wedges of a ring."""
    b = Builder()
    pane = "canvas" if kind == "painting" else "mirror"
    b.part("frame", "wood" if frame.startswith("wood") else "metal", color(frame))
    b.part(pane, "paper" if kind == "painting" else "mirror", color(inner))
    hw, hd, r = width / 2, depth / 2, width / 2
    zc = height - r
    b.box("frame", (-hw, -hd, 0.0), (hw, hd, fw))
    for x0 in (-hw, hw - fw):
        b.box("frame", (x0, -hd, fw), (x0 + fw, hd, zc))
    b.box(pane, (-hw + fw, -hd + 0.008, fw), (hw - fw, hd, zc))
    n = 16
    for i in range(n):
        a0, a1 = np.pi * i / n, np.pi * (i + 1) / n
        pts = [((r - fw) * np.cos(a0), (r - fw) * np.sin(a0)), (r * np.cos(a0), r * np.sin(a0)),
               (r * np.cos(a1), r * np.sin(a1)), ((r - fw) * np.cos(a1), (r - fw) * np.sin(a1))]
        b.prism("frame", np.array(pts), -hd, hd)
        b.last("frame")[0].apply_transform(_upright(zc))
        fan = np.array([(0.0, 0.0), ((r - fw + 0.002) * np.cos(a0), (r - fw + 0.002) * np.sin(a0)),
                        ((r - fw + 0.002) * np.cos(a1), (r - fw + 0.002) * np.sin(a1))])
        b.prism(pane, fan, -hd, hd - 0.008)  # recessed behind the frame's front (-Y after turning)
        b.last(pane)[0].apply_transform(_upright(zc))
    return b


def _upright(z: float) -> np.ndarray:
    """Rotate geometry drawn in the XY plane (depth along Z) upright into XZ at height z; its +Z becomes -Y."""
    return np.array([[1, 0, 0, 0], [0, 0, -1, 0], [0, 1, 0, z], [0, 0, 0, 1.0]])


def sunburst_mirror(diameter: float = 0.8, glass: float = 0.35, metal: str = "gold") -> Builder:
    """A round mirror in the middle of gilded rays, back (+Y) on the wall."""
    b = Builder()
    b.part("frame", "metal", color(metal)).part("mirror", "mirror", color("mirror"))
    r = diameter / 2
    b.cylinder("mirror", (0, 0, -0.01), 0.02, glass / 2, sections=40)
    b.cylinder("frame", (0, 0, 0.0), 0.02, glass / 2 + 0.03, sections=40)
    for i in range(24):
        a = 2 * np.pi * i / 24
        length = r if i % 2 == 0 else r * 0.8
        b.rod("frame", (glass / 2 * np.cos(a), glass / 2 * np.sin(a), 0.01),
              (length * np.cos(a), length * np.sin(a), 0.01), 0.008, sections=6)
    for name in ("frame", "mirror"):
        for mesh in b.last(name, 100):
            mesh.apply_transform(np.array([[1, 0, 0, 0], [0, 0, -1, 0], [0, 1, 0, r], [0, 0, 0, 1.0]]))
    return b


def floor_mirror(width: float = 0.6, height: float = 1.7, frame: str = "wood_light", lean: float = 0.12) -> Builder:
    """A full-length mirror leaning back against the wall (its top `lean` metres behind its foot)."""
    b = framed(width=width, height=height, depth=0.035, frame=frame, inner="mirror", kind="mirror",
               frame_width=0.045)
    angle = np.arctan2(lean, height)
    c, s = np.cos(angle), np.sin(angle)
    tilt = np.array([[1, 0, 0, 0], [0, c, s, 0], [0, -s, c, 0], [0, 0, 0, 1.0]])  # top towards +Y
    for name in ("frame", "mirror"):
        for mesh in b.last(name, 100):
            mesh.apply_transform(tilt)
    return b


def television(width: float = 1.25, stand: bool = True, feet: bool = False, bezel: str = "plastic_black",
               depth: float = 0.05, soundbar: bool = False, easel: float = 0.0) -> Builder:
    """Flat-screen TV (16:9), screen facing -Y: on a central stand, on two feet near its ends (feet=True), or
    wall-mounted (stand=False: a slim panel with a bracket box behind it); soundbar: a bar in front of its
    base; easel > 0: on a floor easel (two splayed legs and a back leg), its screen's bottom that high."""
    b = Builder()
    b.part("body", "plastic" if bezel.startswith("plastic") else "metal", color(bezel))
    b.part("screen", "glass", color("screen"))
    h = width * 9 / 16
    z0 = easel if easel > 0 else (0.08 if not feet else 0.06) if stand else 0.0
    b.box("body", (-width / 2, -0.02, z0), (width / 2, -0.02 + depth, z0 + h))
    b.box("screen", (-width / 2 + 0.01, -0.025, z0 + 0.01), (width / 2 - 0.01, -0.02, z0 + h - 0.01))
    if easel > 0:
        for s in (-1, 1):
            b.rod("body", (s * width * 0.3, -0.15, 0.0), (s * 0.03, 0.0, z0 + h * 0.9), 0.012, sections=6)
        b.rod("body", (0.0, 0.45, 0.0), (0.0, 0.03, z0 + h * 0.8), 0.012, sections=6)
        b.box("body", (-width * 0.3, -0.03, z0 - 0.03), (width * 0.3, 0.02, z0))
    elif stand and feet:
        for s in (-1, 1):
            x = s * width * 0.38
            b.rod("body", (x, -0.12, 0.0), (x, 0.0, z0 + 0.02), 0.01, sections=6)
            b.rod("body", (x, 0.12, 0.0), (x, 0.0, z0 + 0.02), 0.01, sections=6)
    elif stand:
        b.box("body", (-0.25, -0.1, 0.0), (0.25, 0.12, 0.015))
        b.box("body", (-0.04, 0.0, 0.015), (0.04, 0.03, z0 + 0.1))
    else:
        b.box("body", (-width * 0.2, -0.02 + depth, z0 + h * 0.3), (width * 0.2, 0.01 + depth, z0 + h * 0.7))
    if soundbar:
        b.box("body", (-width * 0.4, -0.16, 0.0), (width * 0.4, -0.06, 0.065), bevel=0.01)
    return b
