"""The built-in library as a whole (issue 14): its size and spread over categories, closed pieces, real-world
extents per category, named parts with UVs, distinct designs within a category, and one name table shared with
the segmentation labels."""

import itertools
from collections import Counter, defaultdict
from functools import lru_cache

import numpy as np
import pytest
import trimesh
from scipy.spatial import cKDTree

from assets_index.builtin import MODELS, generate, seating, soft, tables
from assets_index.builtin.palette import PALETTE
from assets_index.categories import (CATEGORIES, PLACEMENT, RELATED, UNKNOWN, normalize_category, placement,
                                     related_categories)
from assets_index.meshutil import bounds
from pipeline.estimators.labels import ADE_OTHER_THINGS, ade_to_project

# Largest side (metres) a model of each category may have: from a small table lamp to a floor lamp, a single
# bed's length to a king's, a café curtain to a floor-to-ceiling one.
LARGEST_SIDE = {
    "sofa": (1.4, 3.2), "armchair": (0.6, 1.2), "chair": (0.7, 1.1), "stool": (0.35, 1.1), "ottoman": (0.35, 1.2),
    "bench": (0.8, 2.2), "table": (0.6, 2.6), "coffee table": (0.5, 1.5), "side table": (0.35, 0.8),
    "desk": (0.9, 2.0), "bed": (1.9, 2.4), "nightstand": (0.35, 0.8), "cabinet": (0.6, 2.2),
    "chest of drawers": (0.6, 1.8), "wardrobe": (1.5, 2.4), "sideboard": (1.2, 2.4), "bookshelf": (0.8, 2.2),
    "shelf": (0.3, 1.2), "tv stand": (1.0, 2.2), "television": (0.6, 2.0), "lamp": (0.3, 2.0),
    "ceiling lamp": (0.3, 1.6), "rug": (1.0, 4.0), "curtain": (0.6, 3.5), "blind": (0.5, 2.5), "plant": (0.2, 2.2),
    "painting": (0.3, 1.6), "mirror": (0.5, 2.0), "cushion": (0.3, 0.95), "vase": (0.1, 1.0), "clock": (0.2, 0.6),
    "books": (0.15, 0.8),
}
FLAT = {"rug": 0.05}  # the thickest a flat thing may be
WALL_HUNG_DEPTH = {"painting": 0.1, "clock": 0.1, "curtain": 0.3, "blind": 0.15}
REQUIRED = ("curtain", "blind", "rug", "bed", "wardrobe", "television", "tv stand", "painting", "mirror", "plant",
            "lamp", "ceiling lamp", "stool", "bench", "side table", "chest of drawers", "sideboard", "sofa",
            "armchair", "chair", "table", "coffee table", "desk", "nightstand", "cabinet", "bookshelf", "shelf")
MATERIALS = {"fabric", "wood", "metal", "paint", "glass", "plastic", "ceramic", "stone", "soil", "foliage", "paper",
             "mirror", "wax"}

# Parameters that only resize or recolour a design (a palette name is a colour; "" means "none").
SIZE_PARAMS = {"width", "depth", "height", "length", "radius", "diameter", "seat", "thickness", "cell", "headboard",
               "mattress", "leg_height", "pot_radius", "pot_height", "drop", "reach", "leg_size", "top", "seed",
               "border_width"}
# Shape distance under which two models are one design resized: bounding-box-normalised surface points,
# symmetric mean nearest-neighbour distance. Resized copies measure < 0.01 (see the control test below), every
# pair of distinct designs in the library >= 0.0125 when this was written.
SAME_DESIGN = 0.01


def test_library_size_and_spread():
    cats = Counter(m.category for m in MODELS)
    assert len(MODELS) >= 150
    assert len(cats) >= 25
    for needed in REQUIRED:
        assert cats[needed] >= 3, needed
    assert len({m.id for m in MODELS}) == len(MODELS)
    assert set(cats) <= set(CATEGORIES) - {UNKNOWN}
    assert set(LARGEST_SIDE) == set(CATEGORIES) - {UNKNOWN}  # a new category needs its sane sizes here


def test_beds_span_single_to_king():
    widths = []
    for m in MODELS:
        if m.category == "bed":
            parts, _ = generate(m.id)
            lo, hi = bounds(parts)
            widths.append(hi[0] - lo[0])
    assert min(widths) < 1.1 and max(widths) > 1.9
    assert len({round(w, 1) for w in widths}) >= 5


@pytest.mark.parametrize("spec", MODELS, ids=lambda m: m.id)
def test_model_pieces_closed_sizes_sane_parts_named(spec):
    builder = spec.build()
    parts, infos = builder.build()
    # Every primitive is a closed surface (the merged, UV-split part is not checked: seams split vertices).
    for name in parts:
        pieces = builder.last(name, 10 ** 6)
        assert pieces and all(p.is_watertight for p in pieces), (spec.id, name)
    parts, infos = generate(spec.id)
    lo, hi = bounds(parts)
    size = hi - lo
    lo_side, hi_side = LARGEST_SIDE[spec.category]
    assert lo_side <= size.max() <= hi_side, (spec.id, size)
    assert size.min() > 0.002
    if spec.category in FLAT:
        assert size[2] <= FLAT[spec.category]
    if spec.category in WALL_HUNG_DEPTH:
        assert size[1] <= WALL_HUNG_DEPTH[spec.category], size
    for info in infos:
        assert info.name and info.material in MATERIALS, info
        assert all(0.0 <= c <= 1.0 for c in info.color)
        mesh = parts[info.name]
        assert mesh.visual.uv is not None and mesh.visual.uv.shape == (len(mesh.vertices), 2)
        assert np.isfinite(mesh.visual.uv).all() and np.ptp(mesh.visual.uv, axis=0).max() > 0


def _design(spec) -> tuple:
    """The generator and the parameters that change its design (not its size or colours)."""
    kept = []
    for k, v in sorted(spec.params.items()):
        if k in SIZE_PARAMS or v == "":
            continue
        kept.append((k, "<colour>" if isinstance(v, str) and v in PALETTE else repr(v)))
    return spec.make.__name__, tuple(kept)


def test_no_two_models_of_a_category_are_one_design_resized_or_recoloured():
    seen: dict[tuple, str] = {}
    for m in MODELS:
        key = (m.category, _design(m))
        assert key not in seen, f"{m.id} repeats the design of {seen[key]}"
        seen[key] = m.id


def _cloud(builder, n: int = 3000) -> np.ndarray:
    parts, _ = builder.build()
    mesh = trimesh.util.concatenate(list(parts.values()))
    pts, _ = trimesh.sample.sample_surface(mesh, n, seed=0)
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    return (pts - lo) / np.maximum(hi - lo, 1e-6)


@lru_cache(maxsize=None)
def _model_cloud(model_id: str) -> np.ndarray:
    from assets_index.builtin import BY_ID
    return _cloud(BY_ID[model_id].build())


def _shape_distance(a: np.ndarray, b: np.ndarray) -> float:
    return 0.5 * float(cKDTree(b).query(a)[0].mean() + cKDTree(a).query(b)[0].mean())


def test_shape_distance_calls_resized_copies_the_same_design():
    """The control for the threshold: the same generator at other sizes measures below it, a different design
    of the same generator above it."""
    assert _shape_distance(_cloud(soft.rug(2.0, 1.4)), _cloud(soft.rug(3.0, 2.0))) < SAME_DESIGN
    assert _shape_distance(_cloud(soft.rug(2.0, 1.4, border="rug_red")),
                           _cloud(soft.rug(0.8, 2.4, border="rug_red"))) < SAME_DESIGN
    assert _shape_distance(_cloud(tables.table()), _cloud(tables.table(width=2.0, depth=1.0))) < SAME_DESIGN
    assert _shape_distance(_cloud(seating.sofa()), _cloud(seating.sofa(arms="rolled", legs="plinth"))) > SAME_DESIGN


@pytest.mark.parametrize("category", sorted({m.category for m in MODELS}))
def test_designs_within_a_category_differ_in_shape(category):
    ids = [m.id for m in MODELS if m.category == category]
    for a, b in itertools.combinations(ids, 2):
        d = _shape_distance(_model_cloud(a), _model_cloud(b))
        assert d > SAME_DESIGN, f"{a} and {b} have nearly one shape ({d:.4f})"


def test_categories_name_themselves_and_relate_symmetrically_enough():
    for c in CATEGORIES:
        assert normalize_category(c) == c
        assert related_categories(c)[0] == c
    for c, rel in RELATED.items():
        assert set(rel) <= set(CATEGORIES), c


@pytest.mark.parametrize("ade, category", [
    ("sofa, couch, lounge", "sofa"), ("chest of drawers, chest, bureau, dresser", "chest of drawers"),
    ("wardrobe, closet, press", "wardrobe"), ("bookcase", "bookshelf"), ("painting, picture", "painting"),
    ("television receiver, television, television set, tv, tv set", "television"),
    ("curtain, drape, drapery, mantle, pall", "curtain"), ("blind, screen", "blind"), ("cushion", "cushion"),
    ("pillow", "cushion"), ("chandelier, pendant, pendent", "ceiling lamp"), ("lamp", "lamp"),
    ("sconce", "lamp"), ("rug, carpet, carpeting", "rug"), ("plant, flora, plant life", "plant"), ("vase", "vase"),
    ("clock", "clock"), ("book", "books"), ("bench", "bench"), ("ottoman, pouf, pouffe, puff, hassock", "ottoman"),
    ("buffet, counter, sideboard", "sideboard"), ("coffee table, cocktail table", "coffee table"),
    ("kitchen island", "table"), ("swivel chair", "chair"), ("stool", "stool"), ("mirror", "mirror"),
])
def test_segmentation_labels_are_library_categories(ade, category):
    """The panoptic model's names become the very categories the library holds: one table of names."""
    label, kind = ade_to_project(ade)
    assert (label, kind) == (category, "thing")
    assert any(m.category == label for m in MODELS)


def test_the_benchmark_and_addon_labels_reach_a_category():
    """Labels people and the benchmark write ("picture", "tv", "pillow", "floor lamp") land in a category the
    library has models of; the few non-furniture things the estimators keep are not asset categories."""
    have = {m.category for m in MODELS}
    for label in ("picture", "tv", "pillow", "floor lamp", "table lamp", "desk lamp", "curtain", "blind", "rug",
                  "shelf", "cabinet", "bed", "sofa pillows", "book"):
        assert normalize_category(label) in have, label
    for label in ADE_OTHER_THINGS.values():
        assert normalize_category(label) == UNKNOWN, label


def test_soft_furnishing_categories_have_parametric_models():
    by_make = defaultdict(set)
    for m in MODELS:
        by_make[m.category].add(m.make.__module__.rsplit(".", 1)[-1])
    for c in ("curtain", "blind", "rug"):
        assert by_make[c] == {"soft"}, c


def test_every_category_has_a_placement():
    assert set(PLACEMENT) == set(CATEGORIES)
    assert set(PLACEMENT.values()) == {"floor", "wall", "ceiling", "surface"}
    assert placement("bench") == "floor" and placement("sideboard") == "floor"
    assert placement("chandelier") == "ceiling" and placement("picture") == "wall"
    assert placement("teapot") == "surface"
