"""Parametric beds: single to king, panel / slatted / upholstered / tufted headboards, footboards, four-posters,
platforms, bunk beds and daybeds. Heads at +Y (against the wall), feet towards -Y."""

from __future__ import annotations

from .builder import Builder, legs_at
from .palette import color


def bed(width: float = 1.6, length: float = 2.1, mattress: float = 0.55, headboard: float = 1.05,
        head: str = "panel", frame: str = "wood_mid", linen: str = "linen_white", duvet: str = "fabric_grey",
        pillows: int = 2, legs: bool = True, foot: str = "none", posts: float = 0.0, canopy: bool = False,
        tufted: bool = False, platform: bool = False) -> Builder:
    """Bed with its head at +Y (against the wall) and foot towards -Y. head: panel | upholstered | slats | wing
    (an upholstered headboard wrapping forwards at the sides); foot: none | low | panel (a footboard);
    posts > 0: corner posts that tall (four-poster), canopy: rails joining their tops; tufted: buttons on an
    upholstered headboard; platform: a low plinth wider than the mattress instead of legs."""
    b = Builder()
    upholstered = head in ("upholstered", "wing")
    legs = legs and not platform
    b.part("frame", "fabric" if upholstered else "wood", color(frame))
    b.part("mattress", "fabric", color(linen)).part("duvet", "fabric", color(duvet))
    b.part("pillows", "fabric", color(linen, 1.05))
    hw, hl = width / 2, length / 2
    lh = 0.12 if legs else 0.0
    rail_top = mattress - 0.2
    if platform:  # a low plinth that sticks out around the mattress
        b.box("frame", (-hw, -hl, 0.0), (hw, hl - 0.06, rail_top), bevel=0.01)
        hw, hl = hw - 0.1, hl - 0.05
        b.box("frame", (-hw, -hl, rail_top), (hw, hl - 0.01, rail_top + 0.04))
        rail_top += 0.04
        mattress = rail_top + 0.22
    else:
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
        hx = width / 2 + (0.04 if upholstered else 0.0)
        b.box("frame", (-hx, hl - (0.1 if upholstered else 0.05), 0.0), (hx, hl, headboard),
              bevel=0.04 if upholstered else 0.005)
        if head == "wing":  # side wings reaching forwards along the pillows
            for s in (-1, 1):
                x0, x1 = sorted((s * hx, s * (hx - 0.1)))
                b.box("frame", (x0, hl - 0.45, 0.0), (x1, hl - 0.05, headboard * 0.92), bevel=0.04)
        if tufted and upholstered:
            b.part("buttons", "fabric", color(frame, 0.7))
            for i in range(int(width / 0.18)):
                for j in range(3):
                    x = -hw + 0.12 + i * 0.18 + (0.09 if j % 2 else 0.0)
                    if x > hw - 0.1:
                        continue
                    z = mattress + 0.15 + j * (headboard - mattress - 0.25) / 2
                    b.blob("buttons", (x, hl - 0.1, z), (0.015, 0.012, 0.015), subdivisions=1)
    if foot in ("low", "panel"):
        ft = mattress - 0.05 if foot == "low" else mattress + 0.25
        b.box("frame", (-width / 2, -length / 2, 0.0), (width / 2, -length / 2 + 0.05, ft), bevel=0.005)
    if posts > 0:
        for x in (-width / 2 + 0.03, width / 2 - 0.03):
            for y in (-length / 2 + 0.03, length / 2 - 0.03):
                b.box("frame", (x - 0.03, y - 0.03, 0.0), (x + 0.03, y + 0.03, posts))
        if canopy:
            z = posts - 0.05
            for y in (-length / 2 + 0.03, length / 2 - 0.03):
                b.box("frame", (-width / 2, y - 0.025, z), (width / 2, y + 0.025, posts))
            for x in (-width / 2 + 0.03, width / 2 - 0.03):
                b.box("frame", (x - 0.025, -length / 2, z), (x + 0.025, length / 2, posts))
    if legs and foot != "panel":
        b.part("legs", "wood", color("wood_dark" if frame != "wood_dark" else "wood_mid"))
        legs_at(b, "legs", width, length - 0.06, 0.06, 0.0, lh, "square", 0.03)
        for mesh in b.last("legs", 4):
            mesh.apply_translation((0, -0.03, 0))
    return b



def bunk_bed(width: float = 1.0, length: float = 2.05, height: float = 1.65, wood: str = "wood_light",
             linen: str = "linen_white", duvet: str = "fabric_blue") -> Builder:
    """Two single mattresses on a post frame, guard rails on the upper bunk and a ladder at the front right."""
    b = Builder()
    b.part("frame", "wood", color(wood)).part("mattress", "fabric", color(linen))
    b.part("duvet", "fabric", color(duvet))
    hw, hl = width / 2, length / 2
    for x in (-hw + 0.03, hw - 0.03):
        for y in (-hl + 0.03, hl - 0.03):
            b.box("frame", (x - 0.03, y - 0.03, 0.0), (x + 0.03, y + 0.03, height))
    for z in (0.2, height - 0.6):
        b.box("frame", (-hw, -hl, z), (hw, hl, z + 0.12))
        b.box("mattress", (-hw + 0.05, -hl + 0.05, z + 0.12), (hw - 0.05, hl - 0.05, z + 0.27), bevel=0.03)
        b.box("duvet", (-hw + 0.04, -hl + 0.04, z + 0.2), (hw - 0.04, hl - 0.6, z + 0.3), bevel=0.03)
    # Guard rails around the top bunk; the ladder's rails and rungs on the front side (-Y... the long side).
    b.box("frame", (-hw, -hl, height - 0.1), (-hw + 0.04, hl, height - 0.04))
    b.box("frame", (hw - 0.04, -hl, height - 0.1), (hw, hl, height - 0.04))
    for y in (-hl + 0.5, -hl + 0.85):
        b.box("frame", (-hw - 0.06, y - 0.02, 0.0), (-hw - 0.02, y + 0.02, height - 0.1))
    for i in range(4):
        z = 0.3 + i * (height - 0.5) / 4
        b.box("frame", (-hw - 0.06, -hl + 0.5, z), (-hw - 0.02, -hl + 0.85, z + 0.03))
    return b


def daybed(width: float = 2.0, depth: float = 0.95, height: float = 0.85, frame: str = "paint_white",
           fabric: str = "fabric_light", back: bool = True) -> Builder:
    """A single mattress with its long side to the wall: arm ends at both sides and an optional back rail,
    sometimes with a bolster at each end (a daybed reads like a sofa from the front)."""
    b = Builder()
    b.part("frame", "paint" if frame.startswith("paint") else "wood", color(frame))
    b.part("mattress", "fabric", color(fabric)).part("cushions", "fabric", color(fabric, 1.1))
    hw, hd = width / 2, depth / 2
    b.box("frame", (-hw, -hd, 0.1), (hw, hd, 0.3))
    legs_at(b, "frame", width, depth, 0.05, 0.0, 0.1, "round", 0.025)
    b.box("mattress", (-hw + 0.05, -hd + 0.02, 0.3), (hw - 0.05, hd - 0.04, 0.45), bevel=0.03)
    for s in (-1, 1):
        x0, x1 = sorted((s * hw, s * (hw - 0.05)))
        b.box("frame", (x0, -hd, 0.0), (x1, hd, height))
        b.rod("cushions", (s * (hw - 0.15), -hd + 0.05, 0.55), (s * (hw - 0.15), hd - 0.08, 0.55), 0.1, sections=14)
    if back:
        b.box("frame", (-hw, hd - 0.04, 0.3), (hw, hd, height - 0.1))
        for i in range(3):
            x = -hw + width * (i + 0.5) / 3
            b.box("cushions", (x - width / 6 + 0.03, hd - 0.2, 0.45), (x + width / 6 - 0.03, hd - 0.04, height - 0.12),
                  bevel=0.05)
    return b
