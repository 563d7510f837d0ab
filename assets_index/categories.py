"""Canonical furniture categories and the mapping from the names other databases use.

Categories are ADE20K-style lower-case names with spaces ("coffee table"), the same words the segmentation
labels use, so the object stage can pass a segment's label straight to a category filter. Every source maps
its own names (3D-FUTURE's "Three-Seat / Multi-seat Sofa", a Blender catalog path, a file name) through
`normalize_category`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

UNKNOWN = "object"

# Canonical name -> typical size (width along X, depth along Y, height along Z) in metres. Used when a source
# has no absolute scale (3D-FUTURE's normalized models) and for size-ranked category-only queries.
TYPICAL_SIZE: dict[str, tuple[float, float, float]] = {
    "sofa": (2.1, 0.95, 0.85),
    "armchair": (0.85, 0.85, 0.85),
    "chair": (0.48, 0.52, 0.88),
    "stool": (0.40, 0.40, 0.65),
    "ottoman": (0.60, 0.60, 0.42),
    "bench": (1.40, 0.40, 0.46),
    "table": (1.60, 0.90, 0.75),
    "coffee table": (1.10, 0.60, 0.42),
    "side table": (0.50, 0.50, 0.55),
    "desk": (1.30, 0.65, 0.75),
    "bed": (1.70, 2.15, 1.00),
    "nightstand": (0.48, 0.40, 0.55),
    "cabinet": (0.90, 0.45, 0.90),
    "chest of drawers": (1.00, 0.48, 0.90),
    "wardrobe": (1.20, 0.60, 2.00),
    "sideboard": (1.60, 0.45, 0.80),
    "bookshelf": (0.90, 0.32, 1.90),
    "shelf": (0.80, 0.25, 0.30),
    "tv stand": (1.60, 0.42, 0.50),
    "television": (1.25, 0.08, 0.72),
    "lamp": (0.40, 0.40, 1.55),
    "ceiling lamp": (0.50, 0.50, 0.90),
    "rug": (2.00, 1.40, 0.01),
    "curtain": (1.60, 0.12, 2.40),
    "blind": (1.00, 0.06, 1.40),
    "plant": (0.45, 0.45, 1.00),
    "painting": (0.80, 0.03, 0.60),
    "mirror": (0.60, 0.03, 0.90),
    "cushion": (0.45, 0.14, 0.45),
    "vase": (0.18, 0.18, 0.35),
    "clock": (0.35, 0.05, 0.35),
    "books": (0.30, 0.20, 0.25),
    UNKNOWN: (0.60, 0.60, 0.60),
}

CATEGORIES: tuple[str, ...] = tuple(TYPICAL_SIZE)

# Words (or phrases) that point to a category; plurals are matched too.
_KEYWORDS: dict[str, str] = {
    "sofa": "sofa", "couch": "sofa", "loveseat": "sofa", "settee": "sofa", "sectional": "sofa",
    "chaise": "sofa", "l-shaped sofa": "sofa",
    "armchair": "armchair", "arm chair": "armchair", "lounge chair": "armchair", "club chair": "armchair",
    "wingback": "armchair", "recliner": "armchair", "swivel chair": "chair",
    "chair": "chair", "dining chair": "chair", "office chair": "chair", "cafe chair": "chair",
    "stool": "stool", "barstool": "stool", "bar stool": "stool",
    "ottoman": "ottoman", "pouf": "ottoman", "footstool": "ottoman", "pier": "ottoman",
    "bench": "bench", "settle": "bench", "window seat": "bench", "bed end stool": "bench",
    "table": "table", "dining table": "table", "kitchen table": "table", "kitchen island": "table",
    "dressing table": "desk",
    "coffee table": "coffee table", "cocktail table": "coffee table", "tea table": "coffee table",
    "side table": "side table", "end table": "side table",
    "round end table": "side table", "console table": "sideboard",
    "desk": "desk", "writing desk": "desk", "computer desk": "desk",
    "bed": "bed", "bed frame": "bed", "bunk bed": "bed", "king-size bed": "bed", "single bed": "bed",
    "crib": "bed", "mattress": "bed",
    "nightstand": "nightstand", "night stand": "nightstand", "bedside": "nightstand",
    "cabinet": "cabinet", "cupboard": "cabinet", "pantry": "cabinet", "locker": "cabinet",
    "sideboard": "sideboard", "buffet": "sideboard", "credenza": "sideboard", "console": "sideboard",
    "wine cabinet": "cabinet", "children cabinet": "cabinet", "display case": "cabinet", "vitrine": "cabinet",
    "showcase": "cabinet", "drawer chest": "chest of drawers",
    "chest of drawers": "chest of drawers", "dresser": "chest of drawers", "drawers": "chest of drawers",
    "commode": "chest of drawers",
    # A dresser and the mirror standing on it, annotated as one piece (SUN RGB-D's "dresser_mirror"): furniture.
    "dresser mirror": "chest of drawers", "dresser with mirror": "chest of drawers",
    "wardrobe": "wardrobe", "armoire": "wardrobe", "closet": "wardrobe", "jewelry armoire": "wardrobe",
    "bookshelf": "bookshelf", "bookcase": "bookshelf", "book shelf": "bookshelf", "shelving": "bookshelf",
    "shelf": "shelf", "shelves": "shelf", "wall shelf": "shelf",
    "tv stand": "tv stand", "tv cabinet": "tv stand", "media console": "tv stand", "tv unit": "tv stand",
    "television": "television", "tv": "television", "television receiver": "television",
    "monitor": "television", "screen": "television",
    "lamp": "lamp", "floor lamp": "lamp", "table lamp": "lamp", "light": "lamp", "lighting": "lamp",
    "sconce": "lamp", "desk lamp": "lamp", "torchiere": "lamp",
    "ceiling lamp": "ceiling lamp", "ceiling light": "ceiling lamp", "pendant lamp": "ceiling lamp",
    "pendant light": "ceiling lamp", "pendant": "ceiling lamp", "chandelier": "ceiling lamp",
    "rug": "rug", "carpet": "rug", "mat": "rug", "runner": "rug",
    "curtain": "curtain", "drape": "curtain", "drapery": "curtain",
    "blind": "blind", "window blind": "blind", "roller blind": "blind", "window shade": "blind", "shutter": "blind",
    "plant": "plant", "flowerpot": "plant", "flower pot": "plant", "plant pot": "plant", "pot": "plant",
    "vase": "vase", "urn": "vase", "jar": "vase", "bowl": "vase", "potted plant": "plant", "planter": "plant", "flower": "plant", "tree": "plant",
    "cactus": "plant", "cacti": "plant", "succulent": "plant", "fern": "plant",
    "painting": "painting", "picture": "painting", "poster": "painting", "frame": "painting",
    "pictureframe": "painting", "photo frame": "painting",
    "artwork": "painting", "canvas": "painting",
    "mirror": "mirror",
    "cushion": "cushion", "pillow": "cushion", "throw pillow": "cushion", "bolster": "cushion",
    "clock": "clock", "wall clock": "clock", "grandfather clock": "clock",
    "book": "books", "books": "books", "book set": "books",
}

# Categories a detector easily confuses with each other: the object stage may widen a filter with these.
RELATED: dict[str, tuple[str, ...]] = {
    "sofa": ("sofa", "armchair"),
    "armchair": ("armchair", "chair", "sofa"),
    "chair": ("chair", "armchair", "stool"),
    "stool": ("stool", "chair", "ottoman"),
    "ottoman": ("ottoman", "stool", "bench", "coffee table"),
    "bench": ("bench", "ottoman", "sofa"),
    "table": ("table", "desk", "coffee table", "side table"),
    "coffee table": ("coffee table", "table", "side table", "ottoman"),
    "side table": ("side table", "nightstand", "coffee table", "table"),
    "desk": ("desk", "table"),
    "nightstand": ("nightstand", "side table", "cabinet", "chest of drawers"),
    "cabinet": ("cabinet", "sideboard", "chest of drawers", "tv stand", "nightstand", "wardrobe"),
    "sideboard": ("sideboard", "cabinet", "tv stand", "chest of drawers"),
    "chest of drawers": ("chest of drawers", "cabinet", "sideboard", "nightstand"),
    "wardrobe": ("wardrobe", "cabinet", "bookshelf"),
    "bookshelf": ("bookshelf", "shelf", "cabinet", "wardrobe"),
    "shelf": ("shelf", "bookshelf"),
    "tv stand": ("tv stand", "sideboard", "cabinet", "chest of drawers"),
    "lamp": ("lamp", "ceiling lamp"),
    "ceiling lamp": ("ceiling lamp", "lamp"),
    "vase": ("vase", "plant"),
    "plant": ("plant", "vase"),
    "cushion": ("cushion",),
    "clock": ("clock", "painting", "mirror"),
    "television": ("television", "painting"),
    "painting": ("painting", "mirror", "television"),
    "mirror": ("mirror", "painting"),
    "curtain": ("curtain", "blind"),
    "blind": ("blind", "curtain"),
}


# Where a category's objects usually are: "floor" (stands on it even when its bottom is hidden), "wall" (hangs
# on a wall, its back +Y against it), "ceiling" (hangs from it), "surface" (rests on furniture or the floor).
# The object stage's placement priors can read this instead of keeping their own lists of names.
PLACEMENT: dict[str, str] = {
    "sofa": "floor", "armchair": "floor", "chair": "floor", "stool": "floor", "ottoman": "floor", "bench": "floor",
    "table": "floor", "coffee table": "floor", "side table": "floor", "desk": "floor", "bed": "floor",
    "nightstand": "floor", "cabinet": "floor", "chest of drawers": "floor", "wardrobe": "floor",
    "sideboard": "floor", "bookshelf": "floor", "tv stand": "floor", "rug": "floor",
    "shelf": "wall", "painting": "wall", "mirror": "wall", "clock": "wall", "curtain": "wall", "blind": "wall",
    "ceiling lamp": "ceiling",
    "television": "surface", "lamp": "surface", "plant": "surface", "cushion": "surface", "vase": "surface",
    "books": "surface", UNKNOWN: "surface",
}


def placement(label: str) -> str:
    """"floor", "wall", "ceiling" or "surface" for any category name (see `PLACEMENT`)."""
    return PLACEMENT.get(normalize_category(label), "surface")


def _words(text: str) -> str:
    """Lower-case words: separators (_ - . CamelCase) become single spaces."""
    text = re.sub(r"([a-z])([A-Z])", r"\1 \2", text)
    return " ".join(re.sub(r"[^a-zA-Z0-9]+", " ", text).lower().split())


_PATTERNS = [
    (re.compile(r"(?<![a-z0-9])" + re.escape(_words(k)) + r"(?:s|es)?(?![a-z0-9])"), len(_words(k)), c)
    for k, c in _KEYWORDS.items()
]


def _match(text: str) -> str | None:
    """The category of the head noun: English puts it last ("table lamp" is a lamp, "coffee table" a table),
    so the match ending last wins, the longer one on a tie ("bed frame" over "frame")."""
    best: tuple[int, int, str] | None = None
    for pattern, length, category in _PATTERNS:
        for m in pattern.finditer(text):
            cand = (m.end(), length, category)
            if best is None or cand[:2] > best[:2]:
                best = cand
    return best[2] if best else None


def leading_category(name: str) -> str | None:
    """The category a name begins with ("lamp_table" -> lamp, "armchair_pillows" -> armchair), the longer match
    on a tie; None when it does not begin with one. For packs that name files category first (KayKit's
    `bed_double_A`, `lamp_table`), where the head-noun rule of `normalize_category` reads the variant."""
    text = _words(name)
    best: tuple[int, str] | None = None
    for pattern, length, category in _PATTERNS:
        m = pattern.match(text)
        if m and (best is None or length > best[0]):
            best = (length, category)
    return best[1] if best else None


def normalize_category(label: str | None) -> str:
    """Map any category name (ADE20K, 3D-FUTURE, a file name, a catalog path) to a canonical category.

    Slash-separated alternatives ("Lounge Chair / Cafe Chair") are tried in order; returns `UNKNOWN`
    ("object") when no keyword matches."""
    if not label:
        return UNKNOWN
    for alternative in label.split("/"):
        text = _words(alternative)
        if text in TYPICAL_SIZE:
            return text
        found = _match(text)
        if found:
            return found
    return UNKNOWN


def category_from_texts(texts: Iterable[str | None]) -> str:
    """First canonical category found in a list of hints, most specific hint first."""
    for t in texts:
        c = normalize_category(t)
        if c != UNKNOWN:
            return c
    return UNKNOWN


def related_categories(label: str) -> tuple[str, ...]:
    """The category and those a detector often confuses it with (for widening a filter)."""
    c = normalize_category(label)
    return RELATED.get(c, (c,))
