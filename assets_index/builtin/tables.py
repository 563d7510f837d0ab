"""Parametric tables: dining tables, coffee tables, side tables, desks."""

from __future__ import annotations

import numpy as np

from .builder import Builder, legs_at
from .palette import color


def table(width: float = 1.6, depth: float = 0.9, height: float = 0.75, top: float = 0.035, shape: str = "rect",
          legs: str = "square", apron: bool = True, shelf: bool = False, top_color: str = "wood_mid",
          leg_color: str = "", leg_size: float = 0.03, top_material: str = "wood") -> Builder:
    """Any four-legged or pedestal table. shape: rect | round | oval; legs: square | round | taper | splay |
    hairpin | pedestal | trestle; shelf adds a lower shelf (coffee and side tables)."""
    b = Builder()
    b.part("top", top_material, color(top_color))
    leg_color = leg_color or top_color
    b.part("legs", "metal" if leg_color.startswith("metal") or leg_color == "brass" else "wood", color(leg_color))
    z_top = height - top
    if shape == "rect":
        b.box("top", (-width / 2, -depth / 2, z_top), (width / 2, depth / 2, height), bevel=0.004)
    else:
        r = width / 2
        b.cylinder("top", (0, 0, z_top), top, r, sections=48)
        if shape == "oval":
            b.last("top")[0].apply_scale((1.0, depth / width, 1.0))  # centred at x=y=0, z kept
    if legs == "pedestal":
        b.cylinder("legs", (0, 0, 0.0), 0.03, min(width, depth) * 0.3, sections=32)
        b.cylinder("legs", (0, 0, 0.03), z_top - 0.03, 0.05, 0.07, sections=20)
    elif legs == "trestle":
        for x in (-width / 2 + 0.22, width / 2 - 0.22):
            b.box("legs", (x - 0.04, -depth / 2 + 0.08, 0.0), (x + 0.04, depth / 2 - 0.08, 0.06))
            b.box("legs", (x - 0.035, -0.05, 0.06), (x + 0.035, 0.05, z_top))
            b.box("legs", (x - 0.04, -depth / 2 + 0.12, z_top - 0.05), (x + 0.04, depth / 2 - 0.12, z_top))
        b.box("legs", (-width / 2 + 0.22, -0.03, 0.2), (width / 2 - 0.22, 0.03, 0.26))
    else:
        inset = 0.06 if shape == "rect" else width * 0.2
        lw, ld = (width, depth) if shape == "rect" else (width * 0.9, min(width, depth) * 0.9)
        legs_at(b, "legs", lw, ld, inset, 0.0, z_top, legs, leg_size, splay=0.04)
        if apron and shape == "rect" and legs != "hairpin":
            ai = inset
            b.box("legs", (-width / 2 + ai, -depth / 2 + ai - 0.01, z_top - 0.09), (width / 2 - ai, -depth / 2 + ai + 0.01, z_top))
            b.box("legs", (-width / 2 + ai, depth / 2 - ai - 0.01, z_top - 0.09), (width / 2 - ai, depth / 2 - ai + 0.01, z_top))
            b.box("legs", (-width / 2 + ai - 0.01, -depth / 2 + ai, z_top - 0.09), (-width / 2 + ai + 0.01, depth / 2 - ai, z_top))
            b.box("legs", (width / 2 - ai - 0.01, -depth / 2 + ai, z_top - 0.09), (width / 2 - ai + 0.01, depth / 2 - ai, z_top))
    if shelf:
        zs = min(0.15, height * 0.3)
        if shape == "rect":
            b.box("top", (-width / 2 + 0.04, -depth / 2 + 0.04, zs), (width / 2 - 0.04, depth / 2 - 0.04, zs + 0.02))
        else:
            b.cylinder("top", (0, 0, zs), 0.02, width / 2 * 0.78, sections=40)
    return b


def desk(width: float = 1.3, depth: float = 0.65, height: float = 0.75, drawers: str = "right", legs: str = "square",
         wood: str = "wood_light", body: str = "paint_white", handles: str = "metal_steel") -> Builder:
    """Writing desk; drawers: none | right | both (pedestals of drawers under the top)."""
    b = Builder()
    b.part("top", "wood", color(wood)).part("body", "paint" if body.startswith("paint") else "wood", color(body))
    b.part("drawers", "paint" if body.startswith("paint") else "wood", color(body, 1.05))
    b.part("handles", "metal", color(handles))
    b.part("legs", "metal" if legs == "hairpin" else "wood", color(body if legs != "hairpin" else "metal_black"))
    z_top = height - 0.03
    b.box("top", (-width / 2, -depth / 2, z_top), (width / 2, depth / 2, height), bevel=0.003)
    pw = 0.42
    sides = {"none": (), "right": (1,), "both": (-1, 1)}[drawers]
    for s in sides:
        x0, x1 = sorted((s * (width / 2 - 0.02), s * (width / 2 - 0.02 - pw)))
        b.box("body", (x0, -depth / 2 + 0.04, 0.0), (x1, depth / 2 - 0.03, z_top))
        for i in range(3):
            z0 = 0.03 + i * (z_top - 0.03) / 3
            z1 = z0 + (z_top - 0.03) / 3 - 0.015
            b.box("drawers", (x0 + 0.01, -depth / 2 + 0.02, z0), (x1 - 0.01, -depth / 2 + 0.04, z1))
            b.box("handles", ((x0 + x1) / 2 - 0.06, -depth / 2 + 0.0, (z0 + z1) / 2 - 0.008),
                  ((x0 + x1) / 2 + 0.06, -depth / 2 + 0.02, (z0 + z1) / 2 + 0.008))
    # Legs on the sides without a pedestal.
    for s in (-1, 1):
        if s in sides:
            continue
        x = s * (width / 2 - 0.05)
        for y in (-depth / 2 + 0.05, depth / 2 - 0.05):
            if legs == "hairpin":
                b.rod("legs", (x, y, 0.0), (x, y, z_top), 0.008, sections=6)
            else:
                b.box("legs", (x - 0.025, y - 0.025, 0.0), (x + 0.025, y + 0.025, z_top))
    if not sides or legs != "hairpin":
        b.box("body", (-width / 2 + 0.05, depth / 2 - 0.04, z_top - 0.3), (width / 2 - 0.05, depth / 2 - 0.02, z_top))
    return b


def side_table_round(radius: float = 0.25, height: float = 0.55, tiers: int = 2, wood: str = "wood_mid",
                     metal: str = "metal_black") -> Builder:
    """Round side table on three thin metal legs, optionally with a lower tier."""
    b = Builder()
    b.part("top", "wood", color(wood)).part("legs", "metal", color(metal))
    b.cylinder("top", (0, 0, height - 0.025), 0.025, radius, sections=40)
    if tiers > 1:
        b.cylinder("top", (0, 0, height * 0.35), 0.02, radius * 0.85, sections=40)
    for i in range(3):
        a = 2 * np.pi * i / 3 + np.pi / 2
        x, y = radius * 0.8 * np.cos(a), radius * 0.8 * np.sin(a)
        b.rod("legs", (x, y, 0.0), (x, y, height - 0.025), 0.01, sections=8)
    return b


def c_table(width: float = 0.45, depth: float = 0.35, height: float = 0.6, metal: str = "metal_black",
            top_color: str = "wood_mid") -> Builder:
    """C-shaped side table: a top, a side post and a base plate, all on one side so it slides over a sofa seat."""
    b = Builder()
    b.part("top", "wood", color(top_color)).part("frame", "metal", color(metal))
    hw, hd = width / 2, depth / 2
    b.box("top", (-hw, -hd, height - 0.02), (hw, hd, height), bevel=0.003)
    b.box("frame", (-hw, -hd, 0.0), (hw, hd, 0.012))
    b.box("frame", (hw - 0.03, -hd + 0.02, 0.012), (hw - 0.01, hd - 0.02, height - 0.02))
    return b


def drum_table(radius: float = 0.25, height: float = 0.5, material: str = "wood_mid", waist: float = 1.0,
               stone: bool = False) -> Builder:
    """A solid drum (waist=1) or spool (waist<1: narrower in the middle) side or coffee table."""
    b = Builder()
    b.part("body", "stone" if stone else "wood", color(material))
    r = radius
    b.revolve("body", (0, 0, 0), [(0, 0), (r, 0), (r, 0.08 * height), (r * waist, 0.5 * height),
                                  (r, 0.92 * height), (r, height), (0, height)], sections=40)
    return b


def glass_table(width: float = 1.2, depth: float = 0.6, height: float = 0.42, metal: str = "brass",
                shelf: bool = True) -> Builder:
    """A glass top on a thin metal frame (box frame with an optional lower glass shelf)."""
    b = Builder()
    b.part("glass", "glass", color("glass_clear")).part("frame", "metal", color(metal))
    hw, hd = width / 2, depth / 2
    b.box("glass", (-hw, -hd, height - 0.012), (hw, hd, height))
    for x in (-hw + 0.012, hw - 0.012):
        for y in (-hd + 0.012, hd - 0.012):
            b.box("frame", (x - 0.01, y - 0.01, 0), (x + 0.01, y + 0.01, height - 0.012))
    for z in (height - 0.032, 0.0):
        b.box("frame", (-hw, -hd, z), (hw, -hd + 0.02, z + 0.02))
        b.box("frame", (-hw, hd - 0.02, z), (hw, hd, z + 0.02))
        b.box("frame", (-hw, -hd + 0.02, z), (-hw + 0.02, hd - 0.02, z + 0.02))
        b.box("frame", (hw - 0.02, -hd + 0.02, z), (hw, hd - 0.02, z + 0.02))
    if shelf:
        b.box("glass", (-hw + 0.02, -hd + 0.02, 0.12), (hw - 0.02, hd - 0.02, 0.13))
        for y in (-hd + 0.01, hd - 0.01):
            b.box("frame", (-hw + 0.02, y - 0.01, 0.11), (hw - 0.02, y + 0.01, 0.12))
    return b
