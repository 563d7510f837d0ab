"""Parametric seating: sofas, armchairs, chairs, stools, ottomans."""

from __future__ import annotations

import numpy as np

from .builder import Builder, legs_at
from .palette import color


def sofa(width: float = 2.1, depth: float = 0.92, height: float = 0.84, seat: float = 0.44, arms: str = "track",
         arm_width: float = 0.16, arm_height: float = 0.62, legs: str = "taper", leg_height: float = 0.1,
         seats: int = 3, fabric: str = "fabric_grey", leg_color: str = "wood_dark", chaise: float = 0.0,
         wings: bool = False, back_cushions: bool = True, tufted: bool = False) -> Builder:
    """Sofa or armchair (seats=1). arms: track | rolled | slope | none; legs: taper | round | square | hairpin |
    plinth (a base to the floor); chaise > 0 extends the left seat forward by that many metres (L shape);
    tufted: a buttoned back (chesterfield style, usually with back_cushions=False)."""
    b = Builder()
    b.part("frame", "fabric", color(fabric)).part("cushions", "fabric", color(fabric, 1.08))
    b.part("legs", "metal" if legs == "hairpin" else "wood", color(leg_color))
    lh = 0.0 if legs == "plinth" else leg_height
    hw, hd = width / 2, depth / 2
    aw = 0.0 if arms == "none" else arm_width
    back_t = 0.2
    base_top = seat - 0.14
    # The base under the seat cushions, the back, the arms.
    b.box("frame", (-hw, -hd, lh), (hw, hd, base_top), bevel=0.015)
    b.box("frame", (-hw + aw, hd - back_t, lh), (hw - aw, hd, height - (0.08 if back_cushions else 0.0)),
          bevel=0.03)
    for side in (-1, 1):
        if arms == "none":
            continue
        x0, x1 = sorted((side * hw, side * (hw - aw)))
        if arms == "track":
            b.box("frame", (x0, -hd, lh), (x1, hd, arm_height), bevel=0.02)
        elif arms == "slope":
            b.box("frame", (x0, -hd + 0.12, lh), (x1, hd, arm_height), bevel=0.04)
            b.box("frame", (x0, -hd, lh), (x1, -hd + 0.13, arm_height - 0.12), bevel=0.03)
        else:  # rolled: a lower panel with a roll on top, overhanging outwards
            b.box("frame", (x0, -hd, lh), (x1, hd, arm_height - aw * 0.45), bevel=0.01)
            b.rod("frame", ((x0 + x1) / 2 + side * aw * 0.15, -hd, arm_height - aw * 0.55),
                  ((x0 + x1) / 2 + side * aw * 0.15, hd, arm_height - aw * 0.55), aw * 0.62, sections=16)
        if wings:  # wingback: side panels rising beside the back
            b.box("frame", (x0, hd - 0.45, arm_height - 0.05), (x1, hd, height), bevel=0.03)
    if chaise > 0:
        cx1 = -hw + aw + (width - 2 * aw) / seats
        b.box("frame", (-hw, -hd - chaise, lh), (cx1, -hd, base_top), bevel=0.015)
        b.box("cushions", (-hw + aw + 0.01, -hd - chaise + 0.02, base_top), (cx1 - 0.01, -hd + 0.05, seat), bevel=0.04)
        if arms != "none":
            b.box("frame", (-hw, -hd - chaise, lh), (-hw + aw, -hd, arm_height), bevel=0.02)
    # Seat and back cushions, one per seat.
    inner = width - 2 * aw
    cw = inner / seats
    for i in range(seats):
        x0 = -hw + aw + i * cw
        b.box("cushions", (x0 + 0.01, -hd + 0.02, base_top), (x0 + cw - 0.01, hd - back_t, seat), bevel=0.04)
        if back_cushions:
            b.box("cushions", (x0 + 0.02, hd - back_t - 0.17, seat), (x0 + cw - 0.02, hd - back_t + 0.02, height - 0.04),
                  bevel=0.05)
    if tufted:
        b.part("buttons", "fabric", color(fabric, 0.6))
        back_top = height - (0.08 if back_cushions else 0.0)
        rows = max(int((back_top - seat - 0.05) / 0.11), 1)
        cols = max(int((width - 2 * aw) / 0.15), 2)
        for j in range(rows):
            for i in range(cols - (j % 2)):
                x = -hw + aw + (width - 2 * aw) * (i + 0.5 + 0.5 * (j % 2)) / cols
                b.blob("buttons", (x, hd - back_t - 0.005, seat + 0.08 + j * 0.11), (0.018, 0.014, 0.018),
                       subdivisions=1)
    if lh > 0:
        legs_at(b, "legs", width, depth, 0.06, 0.0, lh, legs, 0.025)
        if chaise > 0:  # two more under the chaise's front corners
            cx1 = -hw + aw + (width - 2 * aw) / seats
            for x in (-hw + 0.06, cx1 - 0.06):
                b.cylinder("legs", (x, -hd - chaise + 0.06, 0.0), lh, 0.025 * 0.55, 0.025, sections=10)
    return b


def armchair(**kw) -> Builder:
    """A one-seat sofa with armchair proportions."""
    kw.setdefault("width", 0.86)
    kw.setdefault("depth", 0.86)
    kw.setdefault("seats", 1)
    return sofa(**kw)


def lounge_chair(width: float = 0.72, depth: float = 0.78, height: float = 0.78, wood: str = "wood_light",
                 fabric: str = "fabric_beige") -> Builder:
    """An open wooden-framed armchair with loose cushions (mid-century style)."""
    b = Builder()
    b.part("frame", "wood", color(wood)).part("cushions", "fabric", color(fabric))
    hw, hd = width / 2, depth / 2
    for x in (-hw + 0.03, hw - 0.03):
        b.rod("frame", (x, -hd + 0.05, 0.0), (x, -hd + 0.07, 0.58), 0.022, square=True)  # front leg to arm
        b.rod("frame", (x, hd - 0.05, 0.0), (x, hd - 0.02, 0.58), 0.022, square=True)
        b.box("frame", (x - 0.035, -hd, 0.56), (x + 0.035, hd, 0.6))  # arm rest
        b.box("frame", (x - 0.02, -hd + 0.05, 0.2), (x + 0.02, hd - 0.05, 0.25))  # side rail
    b.box("frame", (-hw + 0.05, -hd + 0.05, 0.22), (hw - 0.05, hd - 0.05, 0.26))
    b.box("cushions", (-hw + 0.06, -hd + 0.06, 0.26), (hw - 0.06, hd - 0.1, 0.39), bevel=0.04)
    # Back cushion leaning backwards.
    b.rod("frame", (-hw + 0.06, hd - 0.08, 0.3), (-hw + 0.06, hd + 0.02, height), 0.02, square=True)
    b.rod("frame", (hw - 0.06, hd - 0.08, 0.3), (hw - 0.06, hd + 0.02, height), 0.02, square=True)
    b.box("cushions", (-hw + 0.08, hd - 0.2, 0.39), (hw - 0.08, hd - 0.04, height - 0.02), bevel=0.05)
    return b


def chair(seat: float = 0.46, width: float = 0.46, depth: float = 0.5, height: float = 0.88, back: str = "slats",
          legs: str = "square", wood: str = "wood_mid", fabric: str = "", slats: int = 4, arms: bool = False) -> Builder:
    """Dining chair. back: slats | panel | upholstered | spindles; fabric: seat pad colour ("" for bare wood)."""
    b = Builder()
    b.part("frame", "wood", color(wood))
    b.part("seat", "fabric" if fabric else "wood", color(fabric or wood, 1.0 if fabric else 1.1))
    hw, hd = width / 2, depth / 2
    st = 0.04
    legs_at(b, "frame", width, depth, 0.03, 0.0, seat - st, legs, 0.018, splay=0.03)
    b.box("seat", (-hw, -hd, seat - st), (hw, hd, seat + (0.03 if fabric else 0.0)), bevel=0.012 if fabric else 0.004)
    # Back posts continue the rear legs.
    for x in (-hw + 0.03, hw - 0.03):
        b.box("frame", (x - 0.018, hd - 0.05, seat), (x + 0.018, hd - 0.014, height))
    if back == "slats":
        for i in range(slats):
            x = -hw + 0.06 + (width - 0.12) * (i + 0.5) / slats
            b.box("frame", (x - 0.012, hd - 0.04, seat + 0.08), (x + 0.012, hd - 0.025, height - 0.06))
        b.box("frame", (-hw + 0.03, hd - 0.045, height - 0.08), (hw - 0.03, hd - 0.02, height))
    elif back == "spindles":
        for i in range(slats + 2):
            x = -hw + 0.05 + (width - 0.1) * (i + 0.5) / (slats + 2)
            b.rod("frame", (x, hd - 0.032, seat + 0.02), (x, hd - 0.032, height - 0.05), 0.008, sections=6)
        b.box("frame", (-hw + 0.02, hd - 0.05, height - 0.07), (hw - 0.02, hd - 0.015, height), bevel=0.01)
    elif back == "panel":
        b.box("frame", (-hw + 0.03, hd - 0.045, seat + 0.22), (hw - 0.03, hd - 0.02, height - 0.02), bevel=0.005)
    else:  # upholstered back
        b.box("seat", (-hw + 0.01, hd - 0.07, seat + 0.05), (hw - 0.01, hd - 0.01, height), bevel=0.02)
    if arms:
        for x in (-hw + 0.02, hw - 0.02):
            b.box("frame", (x - 0.02, -hd + 0.03, seat + 0.2), (x + 0.02, hd - 0.04, seat + 0.23))
            b.box("frame", (x - 0.015, -hd + 0.04, seat), (x + 0.015, -hd + 0.07, seat + 0.2))
    return b


def office_chair(height: float = 1.0, seat: float = 0.48, fabric: str = "fabric_dark", arms: bool = True) -> Builder:
    """Swivel office chair: five-star base, gas column, seat, back, arm rests."""
    b = Builder()
    b.part("base", "metal", color("metal_black")).part("upholstery", "fabric", color(fabric))
    b.part("plastic", "plastic", color("plastic_black"))
    for i in range(5):
        a = 2 * np.pi * i / 5 - np.pi / 2
        end = (0.31 * np.cos(a), 0.31 * np.sin(a), 0.07)
        b.rod("base", (0, 0, 0.09), end, 0.018, square=True)
        b.blob("plastic", (end[0], end[1], 0.03), (0.03, 0.03, 0.03), subdivisions=1)
    b.cylinder("base", (0, 0, 0.08), seat - 0.14, 0.03)
    b.box("plastic", (-0.2, -0.2, seat - 0.1), (0.2, 0.2, seat - 0.06))
    b.box("upholstery", (-0.25, -0.25, seat - 0.07), (0.25, 0.23, seat), bevel=0.03)
    b.box("plastic", (-0.03, 0.2, seat - 0.08), (0.03, 0.26, seat + 0.15))
    b.box("upholstery", (-0.23, 0.2, seat + 0.08), (0.23, 0.27, height), bevel=0.04)
    if arms:
        for x in (-0.26, 0.26):
            b.box("plastic", (x - 0.015, -0.05, seat - 0.07), (x + 0.015, 0.05, seat + 0.2))
            b.box("plastic", (x - 0.04, -0.15, seat + 0.2), (x + 0.04, 0.1, seat + 0.23), bevel=0.01)
    return b


def stool(height: float = 0.65, radius: float = 0.18, legs: int = 4, wood: str = "wood_light",
          footrest: bool = True, seat_fabric: str = "") -> Builder:
    """Round stool or bar stool with splayed legs and an optional footrest ring."""
    b = Builder()
    b.part("frame", "wood", color(wood))
    b.part("seat", "fabric" if seat_fabric else "wood", color(seat_fabric or wood, 1.1))
    b.cylinder("seat", (0, 0, height - 0.04), 0.04, radius, sections=24)
    feet = []
    for i in range(legs):
        a = 2 * np.pi * (i + 0.5) / legs
        top = (0.7 * radius * np.cos(a), 0.7 * radius * np.sin(a), height - 0.04)
        foot = (1.25 * radius * np.cos(a), 1.25 * radius * np.sin(a), 0.0)
        b.rod("frame", foot, top, 0.017)
        feet.append((top, foot))
    if footrest:
        z = height * 0.35
        pts = [tuple(np.add(f, np.subtract(tp, f) * (z / (height - 0.04)))) for tp, f in feet]
        for i in range(legs):
            b.rod("frame", pts[i], pts[(i + 1) % legs], 0.01, sections=6)
    return b


def ottoman(width: float = 0.6, depth: float = 0.6, height: float = 0.42, round_: bool = False,
            fabric: str = "fabric_beige", legs: bool = True) -> Builder:
    """Upholstered ottoman / pouf."""
    b = Builder()
    b.part("upholstery", "fabric", color(fabric)).part("legs", "wood", color("wood_dark"))
    lh = 0.08 if legs else 0.0
    if round_:
        r = width / 2
        b.revolve("upholstery", (0, 0, lh), [(0, 0), (r * 0.92, 0), (r, 0.04), (r, height - lh - 0.04),
                                             (r * 0.92, height - lh), (0, height - lh)], sections=32)
    else:
        b.box("upholstery", (-width / 2, -depth / 2, lh), (width / 2, depth / 2, height), bevel=0.05)
    if legs:
        legs_at(b, "legs", width * (0.75 if round_ else 1.0), depth * (0.75 if round_ else 1.0), 0.06, 0.0, lh + 0.01,
                "taper", 0.02)
    return b


def tub_chair(width: float = 0.72, height: float = 0.75, seat: float = 0.44, fabric: str = "fabric_teal",
              legs: str = "taper", leg_color: str = "wood_mid") -> Builder:
    """Barrel (tub) chair: a round seat inside a curved back that is also the arms, on short legs."""
    b = Builder()
    b.part("shell", "fabric", color(fabric)).part("cushion", "fabric", color(fabric, 1.15))
    b.part("legs", "wood", color(leg_color))
    r = width / 2
    lh = 0.12
    b.cylinder("shell", (0, 0, lh), seat - 0.1 - lh, r * 0.95, sections=32)
    b.cylinder("cushion", (0, 0, seat - 0.1), 0.1, r * 0.85, sections=32)
    # The back: wedges of a thick ring over the rear 240 degrees, dropping towards the front.
    n = 14
    for i in range(n):
        a0 = np.radians(-30 + 240 * i / n)
        a1 = np.radians(-30 + 240 * (i + 1) / n)
        am = (a0 + a1) / 2
        top = seat + 0.1 + (height - seat - 0.1) * np.sin((i + 0.5) / n * np.pi)
        c, sn = np.cos(am), np.sin(am)
        b.rod("shell", ((r - 0.06) * c, (r - 0.06) * sn, lh), ((r - 0.06) * c, (r - 0.06) * sn, top), 0.065,
              sections=10)
    legs_at(b, "legs", width * 0.75, width * 0.75, 0.04, 0.0, lh + 0.01, legs, 0.022)
    return b


def shell_chair(seat: float = 0.45, height: float = 0.8, shell: str = "paint_white", legs: str = "splay",
                wood: str = "wood_light", arms: bool = False) -> Builder:
    """Moulded-shell chair (one curved piece for seat and back) on splayed wooden legs or a metal pedestal."""
    b = Builder()
    b.part("shell", "plastic", color(shell))
    b.part("legs", "metal" if legs == "pedestal" else "wood", color("metal_steel" if legs == "pedestal" else wood))
    w, d = (0.62, 0.58) if arms else (0.47, 0.52)
    hw, hd = w / 2, d / 2
    b.box("shell", (-hw, -hd, seat - 0.03), (hw, hd - 0.03, seat), bevel=0.012)
    # The back, a row of slabs tilting backwards, curving round the sides.
    for i in range(9):
        t = i / 8
        x = -hw + 0.04 + t * (w - 0.08)
        y = hd - 0.04 - 0.06 * (1 - np.sin(np.pi * t))
        b.rod("shell", (x, y, seat - 0.02), (x, y + 0.06, height), 0.03, square=True)
    if arms:
        for x in (-hw + 0.02, hw - 0.02):
            b.box("shell", (x - 0.02, -hd + 0.1, seat), (x + 0.02, hd - 0.05, seat + 0.2), bevel=0.015)
    if legs == "pedestal":
        b.cylinder("legs", (0, 0, 0), 0.015, 0.25, sections=32)
        b.cylinder("legs", (0, 0, 0.015), seat - 0.045, 0.025, sections=12)
    else:
        legs_at(b, "legs", w * 0.8, d * 0.8, 0.04, 0.0, seat - 0.03, "splay", 0.014, splay=0.05)
    return b


def cantilever_chair(seat: float = 0.46, height: float = 0.84, metal: str = "metal_steel",
                     fabric: str = "leather_black") -> Builder:
    """Cantilever chair: a bent tube frame with no back legs, a seat and a back in leather or cane."""
    b = Builder()
    b.part("frame", "metal", color(metal)).part("seat", "fabric", color(fabric))
    hw, hd = 0.23, 0.28
    for x in (-hw, hw):
        pts = [(x, hd - 0.05, 0.01), (x, -hd + 0.02, 0.01), (x, -hd + 0.06, seat - 0.03), (x, hd - 0.05, seat - 0.03),
               (x, hd - 0.02, height)]
        for p0, p1 in zip(pts[:-1], pts[1:]):
            b.rod("frame", p0, p1, 0.011, sections=8)
    b.rod("frame", (-hw, hd - 0.05, 0.01), (hw, hd - 0.05, 0.01), 0.011, sections=8)
    b.box("seat", (-hw + 0.01, -hd + 0.06, seat - 0.03), (hw - 0.01, hd - 0.05, seat), bevel=0.008)
    b.box("seat", (-hw + 0.01, hd - 0.06, seat + 0.15), (hw - 0.01, hd - 0.01, height - 0.03), bevel=0.008)
    return b


def square_stool(height: float = 0.75, width: float = 0.38, wood: str = "wood_mid", back: float = 0.0,
                 seat_fabric: str = "", rungs: bool = True) -> Builder:
    """Square-seated stool (counter/bar height or low) on four straight legs with rungs; back > 0 adds a low
    back rest that tall above the seat."""
    b = Builder()
    b.part("frame", "wood" if not wood.startswith("metal") else "metal", color(wood))
    b.part("seat", "fabric" if seat_fabric else "wood", color(seat_fabric or wood, 1.1))
    hw = width / 2
    legs_at(b, "frame", width, width, 0.025, 0.0, height - 0.035, "square", 0.017)
    b.box("seat", (-hw, -hw, height - 0.035), (hw, hw, height), bevel=0.01 if seat_fabric else 0.004)
    if rungs:
        z = height * 0.3
        for s in (-1, 1):
            b.box("frame", (-hw + 0.025, s * (hw - 0.025) - 0.008, z), (hw - 0.025, s * (hw - 0.025) + 0.008, z + 0.02))
            b.box("frame", (s * (hw - 0.025) - 0.008, -hw + 0.025, z + 0.05), (s * (hw - 0.025) + 0.008, hw - 0.025,
                                                                              z + 0.07))
    if back > 0:
        for x in (-hw + 0.025, hw - 0.025):
            b.box("frame", (x - 0.015, hw - 0.04, height), (x + 0.015, hw - 0.01, height + back))
        b.box("frame", (-hw + 0.01, hw - 0.045, height + back - 0.08), (hw - 0.01, hw - 0.01, height + back),
              bevel=0.005)
    return b
