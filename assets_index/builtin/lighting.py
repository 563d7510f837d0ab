"""Parametric lighting: floor lamps, table and desk lamps, ceiling lamps (pendants, chandeliers, flush mounts).

Ceiling lamps follow the canonical frame too (origin at the bottom centre); their top is the ceiling fixing.
"""

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


def torchiere(height: float = 1.8, metal: str = "brass", bowl: str = "glass_opal") -> Builder:
    """Uplighter: a weighted base, a thin pole and an open bowl on top."""
    b = Builder()
    b.part("base", "metal", color(metal)).part("shade", "glass", color(bowl))
    b.revolve("base", (0, 0, 0), [(0, 0), (0.16, 0), (0.16, 0.02), (0.05, 0.05), (0, 0.05)], sections=32)
    b.cylinder("base", (0, 0, 0.05), height - 0.17, 0.011, sections=10)
    b.revolve("shade", (0, 0, height - 0.13), [(0.02, 0), (0.2, 0.11), (0.2, 0.13), (0.185, 0.13), (0.015, 0.01),
                                               (0.02, 0)], sections=32)
    return b


def multi_head_floor_lamp(height: float = 1.65, heads: int = 3, metal: str = "metal_black",
                          shade_color: str = "brass") -> Builder:
    """A pole with several small cone heads on arms at different heights (a 'tree' lamp)."""
    b = Builder()
    b.part("base", "metal", color(metal)).part("shade", "metal", color(shade_color))
    b.cylinder("base", (0, 0, 0), 0.03, 0.14, sections=28)
    b.cylinder("base", (0, 0, 0.03), height - 0.03, 0.01, sections=8)
    for i in range(heads):
        a = 2 * np.pi * i / heads + 0.3
        z = height - 0.1 - i * 0.35
        end = (0.3 * np.cos(a), 0.3 * np.sin(a), z + 0.08)
        b.rod("base", (0, 0, z), end, 0.007, sections=6)
        _shade(b, "cone", (end[0], end[1], end[2] - 0.14), 0.14, 0.08)
    return b


def desk_lamp(height: float = 0.5, reach: float = 0.35, metal: str = "metal_black") -> Builder:
    """Articulated desk lamp: a round base, two arms bent at an elbow, a cone head tilted down."""
    b = Builder()
    b.part("base", "metal", color(metal)).part("shade", "metal", color(metal))
    b.cylinder("base", (0, 0.05, 0), 0.025, 0.08, sections=24)
    elbow = (0.0, 0.05 - reach * 0.35, height * 0.6)
    top = (0.0, 0.05 - reach, height - 0.02)
    b.rod("base", (0, 0.05, 0.025), elbow, 0.008, sections=8)
    b.rod("base", elbow, top, 0.008, sections=8)
    b.revolve("shade", (top[0], top[1], top[2] - 0.13), [(0.0, 0.13), (0.025, 0.13), (0.075, 0.0), (0.07, 0.0),
                                                          (0.02, 0.12), (0.0, 0.12)], sections=24)
    return b


def globe_table_lamp(height: float = 0.4, globe: str = "glass_opal", base_color: str = "brass",
                     mushroom: bool = False) -> Builder:
    """Table lamp with an opal globe on a short stem, or (mushroom=True) a dome cap over a tapering body."""
    b = Builder()
    b.part("base", "metal" if not mushroom else "ceramic", color(base_color))
    b.part("shade", "glass" if not mushroom else "ceramic", color(globe))
    if mushroom:
        r = height * 0.55
        b.revolve("base", (0, 0, 0), [(0, 0), (height * 0.22, 0), (height * 0.1, height * 0.62), (0, height * 0.62)],
                  sections=28)
        angles = np.linspace(0, np.pi / 2, 8)
        cap = [(r * np.cos(a) + 1e-3, height * 0.6 + height * 0.4 * np.sin(a)) for a in angles]
        b.revolve("shade", (0, 0, 0), [(0, height * 0.6)] + cap + [(0, height)], sections=32)
        return b
    r = height * 0.36
    b.cylinder("base", (0, 0, 0), 0.025, 0.08, sections=24)
    b.cylinder("base", (0, 0, 0.025), height - 2 * r - 0.01, 0.012, sections=8)
    b.blob("shade", (0, 0, height - r), (r, r, r), subdivisions=3)
    return b


def pendant(kind: str = "dome", width: float = 0.4, drop: float = 0.7, shade_color: str = "metal_black",
            cord: str = "metal_black") -> Builder:
    """Ceiling pendant: a canopy at the ceiling, a cord of length `drop`, a shade (dome | drum | globe | cone)."""
    b = Builder()
    b.part("canopy", "metal", color(cord))
    b.part("shade", "glass" if kind == "globe" else ("fabric" if kind == "drum" else "metal"), color(shade_color))
    r = width / 2
    shade_h = {"dome": 0.5 * r, "drum": 0.7 * r, "globe": 2 * r, "cone": 0.9 * r}[kind]
    total = shade_h + drop + 0.03
    b.cylinder("canopy", (0, 0, total - 0.03), 0.03, 0.06, sections=20)
    b.cylinder("canopy", (0, 0, shade_h - 0.02), drop + 0.02, 0.004, sections=6)
    if kind == "globe":
        b.blob("shade", (0, 0, r), (r, r, r), subdivisions=3)
    else:
        _shade(b, kind, (0, 0, 0.0), shade_h, r)
    return b


def chandelier(arms: int = 6, width: float = 0.7, drop: float = 0.5, metal: str = "brass",
               shade: str = "lampshade", candles: bool = False) -> Builder:
    """Chandelier: a central stem and `arms` curved arms, each with a small drum shade or a candle."""
    b = Builder()
    b.part("frame", "metal", color(metal)).part("shade", "fabric" if not candles else "wax", color(shade))
    r = width / 2 - 0.06
    body_h = 0.35
    top = body_h + drop
    b.cylinder("frame", (0, 0, top - 0.03), 0.03, 0.07, sections=20)
    b.cylinder("frame", (0, 0, 0.02), top - 0.02, 0.012, sections=8)
    b.blob("frame", (0, 0, 0.08), (0.06, 0.06, 0.07), subdivisions=2)
    for i in range(arms):
        a = 2 * np.pi * i / arms
        c, s = np.cos(a), np.sin(a)
        pts = [(t * r * c, t * r * s, 0.08 + 0.12 * np.sin(np.pi * t * 0.5) ** 2) for t in np.linspace(0, 1, 5)]
        for p0, p1 in zip(pts[:-1], pts[1:]):
            b.rod("frame", p0, p1, 0.008, sections=6)
        x, y, z = pts[-1]
        if candles:
            b.cylinder("frame", (x, y, z), 0.02, 0.025, sections=12)
            b.cylinder("shade", (x, y, z + 0.02), 0.1, 0.012, sections=10)
        else:
            _shade(b, "cone", (x, y, z), 0.12, 0.065)
    return b


def cluster_pendant(globes: int = 5, width: float = 0.5, drop: float = 0.6, glass: str = "glass_opal",
                    metal: str = "brass") -> Builder:
    """Several globes hanging at different heights from one round canopy."""
    b = Builder()
    b.part("canopy", "metal", color(metal)).part("shade", "glass", color(glass))
    rng = np.random.default_rng(globes)
    gr = width * 0.14
    span = drop * 0.5
    top = drop + span + 2 * gr
    b.cylinder("canopy", (0, 0, top - 0.03), 0.03, width * 0.35, sections=28)
    for i in range(globes):
        a = 2 * np.pi * i / globes
        x, y = (width / 2 - gr) * np.cos(a), (width / 2 - gr) * np.sin(a)
        z = gr + span * float(rng.uniform(0, 1)) if i else gr
        b.cylinder("canopy", (x, y, z + gr), top - 0.03 - z - gr, 0.003, sections=5)
        b.blob("shade", (x, y, z), (gr, gr, gr), subdivisions=2)
    return b


def flush_mount(width: float = 0.4, height: float = 0.12, kind: str = "dome", glass: str = "glass_opal",
                metal: str = "metal_steel") -> Builder:
    """Close-to-ceiling light: a metal ring at the ceiling and an opal dome (or a flat drum) under it."""
    b = Builder()
    b.part("frame", "metal", color(metal)).part("shade", "glass", color(glass))
    r = width / 2
    b.cylinder("frame", (0, 0, height - 0.02), 0.02, r, sections=40)
    if kind == "dome":
        # Quarter-ellipse profile from the axis at the bottom up to the ring's rim.
        arc = [(r * 0.95 * np.sin(t) + 1e-3, (height - 0.02) * (1 - np.cos(t))) for t in np.linspace(0, np.pi / 2, 8)]
        b.revolve("shade", (0, 0, 0), [(0.0, 0.0)] + arc + [(0.0, height - 0.02)], sections=40)
    else:
        b.cylinder("shade", (0, 0, 0), height - 0.02, r * 0.97, sections=40)
    return b
