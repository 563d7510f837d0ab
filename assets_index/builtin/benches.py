"""Parametric benches: plank, upholstered, storage, slatted with a back, entryway (with a shoe shelf)."""

from __future__ import annotations

from .builder import Builder, legs_at
from .palette import color


def bench(width: float = 1.4, depth: float = 0.38, height: float = 0.46, style: str = "plank", wood: str = "wood_mid",
          fabric: str = "fabric_grey", legs: str = "square", back: float = 0.0, tufted: bool = False) -> Builder:
    """A bench. style: plank (a thick board on legs or slab ends, legs="slab") | upholstered (a padded top on
    legs) | storage (a box with a lid and a padded top) | slatted (slats on a frame) | entry (padded seat over
    a shoe shelf). back > 0 adds a back rest that tall above the seat (slatted garden/hall bench)."""
    b = Builder()
    b.part("frame", "metal" if wood.startswith("metal") else "wood", color(wood))
    hw, hd = width / 2, depth / 2
    if style in ("upholstered", "storage", "entry"):
        b.part("seat", "fabric", color(fabric))
    if style == "plank":
        if legs == "slab":
            for x in (-hw + 0.1, hw - 0.14):
                b.box("frame", (x, -hd + 0.02, 0.0), (x + 0.04, hd - 0.02, height - 0.05))
        else:
            legs_at(b, "frame", width, depth, 0.07, 0.0, height - 0.05, legs, 0.025, splay=0.04)
        b.box("frame", (-hw, -hd, height - 0.05), (hw, hd, height), bevel=0.004)
    elif style == "upholstered":
        legs_at(b, "frame", width, depth, 0.05, 0.0, height - 0.14, legs, 0.022, splay=0.03)
        b.box("frame", (-hw, -hd, height - 0.16), (hw, hd, height - 0.12))
        b.box("seat", (-hw, -hd, height - 0.12), (hw, hd, height), bevel=0.03)
        if tufted:
            b.part("buttons", "fabric", color(fabric, 0.6))
            for i in range(int(width / 0.2)):
                for j, y in enumerate((-hd * 0.45, hd * 0.45)):
                    x = -hw + 0.15 + i * 0.2 + (0.1 if j else 0.0)
                    if x < hw - 0.1:
                        b.blob("buttons", (x, y, height - 0.002), (0.015, 0.015, 0.01), subdivisions=1)
    elif style == "storage":
        b.box("frame", (-hw, -hd, 0.0), (hw, hd, height - 0.08), bevel=0.005)
        b.box("frame", (-hw - 0.01, -hd - 0.01, height - 0.08), (hw + 0.01, hd + 0.01, height - 0.06))
        b.box("seat", (-hw, -hd, height - 0.06), (hw, hd, height), bevel=0.02)
    elif style == "entry":
        for x in (-hw, hw - 0.03):
            b.box("frame", (x, -hd, 0.0), (x + 0.03, hd, height - 0.06))
        b.box("frame", (-hw + 0.03, -hd + 0.02, 0.08), (hw - 0.03, hd - 0.02, 0.1))
        b.box("frame", (-hw, -hd, height - 0.08), (hw, hd, height - 0.06))
        b.box("seat", (-hw, -hd, height - 0.06), (hw, hd, height), bevel=0.02)
    else:  # slatted
        for y in (-hd + 0.04, hd - 0.04):
            for x in (-hw + 0.05, hw - 0.05):
                b.box("frame", (x - 0.025, y - 0.025, 0.0), (x + 0.025, y + 0.025, height - 0.03))
        for x in (-hw + 0.05, hw - 0.05):
            b.box("frame", (x - 0.025, -hd, height - 0.08), (x + 0.025, hd, height - 0.03))
        n = max(int(depth / 0.07), 3)
        for i in range(n):
            y = -hd + depth * (i + 0.5) / n
            b.box("frame", (-hw, y - 0.025, height - 0.03), (hw, y + 0.025, height))
    if back > 0:
        for x in (-hw + 0.05, hw - 0.05):
            b.rod("frame", (x, hd - 0.04, height - 0.03), (x, hd + 0.02, height + back), 0.022, square=True)
        for k in range(3):
            z = height + back * (0.35 + 0.3 * k)
            b.box("frame", (-hw + 0.02, hd - 0.02 + 0.06 * (z - height) / back - 0.015, z - 0.035),
                  (hw - 0.02, hd - 0.02 + 0.06 * (z - height) / back + 0.015, z + 0.035))
    return b
