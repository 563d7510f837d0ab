"""Material class hints from part and material names, for the material stage ("fabric", "wood", ...)."""

from __future__ import annotations

import re

# Checked in order: the first class with a word starting a word of the name wins.
_HINTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("glass", ("glass", "window", "pane")),
    ("mirror", ("mirror",)),
    ("leather", ("leather",)),
    ("fabric", ("fabric", "cloth", "textile", "cushion", "upholster", "linen", "cotton", "velvet", "wool",
                "carpet", "rug", "pillow", "mattress", "duvet", "blanket", "curtain", "seat pad", "shade")),
    ("wood", ("wood", "oak", "walnut", "pine", "birch", "teak", "maple", "ash", "veneer", "plywood", "timber")),
    ("metal", ("metal", "steel", "iron", "chrome", "brass", "alumin", "copper", "gold", "silver", "handle")),
    ("stone", ("stone", "marble", "granite", "concrete", "terrazzo")),
    ("ceramic", ("ceramic", "porcelain", "pottery", "terracotta", "pot")),
    ("plastic", ("plastic", "acrylic", "rubber", "vinyl")),
    ("paint", ("paint", "lacquer", "laminate")),
    ("foliage", ("leaf", "leaves", "foliage", "plant", "grass")),
    ("paper", ("paper", "book", "canvas", "print")),
)


def guess_material(name: str) -> str:
    """Material class suggested by a part or material name, "" when nothing matches."""
    text = re.sub(r"[^a-z]+", " ", name.lower())
    for cls, words in _HINTS:
        if any(re.search(rf"\b{w}", text) for w in words):  # word starts: "oak" but not "cloak"
            return cls
    return ""
