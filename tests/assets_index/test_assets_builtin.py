"""The built-in starter library: enough models and categories, real sizes, canonical frame, parts and UVs."""

from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from assets_index.builtin import MODELS, generate
from assets_index.categories import TYPICAL_SIZE
from assets_index.meshutil import bounds

PACKAGE = Path(__file__).resolve().parents[2] / "assets_index"


def test_library_size_and_categories():
    cats = Counter(m.category for m in MODELS)
    assert len(MODELS) >= 40
    assert len(cats) >= 12
    for needed in ("sofa", "armchair", "chair", "table", "coffee table", "desk", "bed", "nightstand", "cabinet",
                   "chest of drawers", "bookshelf", "tv stand", "lamp", "rug", "plant"):
        assert cats[needed] >= 1, needed
    assert len({m.id for m in MODELS}) == len(MODELS)
    assert all(m.category in TYPICAL_SIZE for m in MODELS)


@pytest.mark.parametrize("spec", MODELS, ids=lambda m: m.id)
def test_model_is_canonical_with_parts_and_uvs(spec):
    parts, infos = generate(spec.id)
    assert [p.name for p in infos] == list(parts)
    assert len(parts) >= 1
    lo, hi = bounds(parts)
    # Origin at the bottom centre, Z up.
    assert abs(lo[2]) < 1e-6
    assert np.allclose((lo[:2] + hi[:2]) / 2, 0, atol=1e-6)
    # Real-world size (catches unit slips): within a factor 4 of the typical size of the category on the
    # largest side (table lamps and floor lamps are both "lamp").
    size = hi - lo
    typical = max(TYPICAL_SIZE[spec.category])
    assert typical / 4 < size.max() < typical * 4, size
    for name, mesh in parts.items():
        assert len(mesh.faces) > 0
        uv = mesh.visual.uv
        assert uv is not None and uv.shape == (len(mesh.vertices), 2)
        assert mesh.visual.material.name == name


def test_material_parts_of_a_sofa():
    parts, infos = generate("sofa_track_3seat")
    assert set(parts) == {"frame", "cushions", "legs"}
    assert {p.name: p.material for p in infos} == {"frame": "fabric", "cushions": "fabric", "legs": "wood"}


def test_box_uvs_are_in_metres():
    parts, _ = generate("rug_large_plain")  # a 3 x 2 m slab
    uv = parts["rug"].visual.uv
    span = uv.max(axis=0) - uv.min(axis=0)
    assert np.allclose(sorted(span), [2.0, 3.0], atol=1e-6)


def test_generation_is_deterministic():
    a, _ = generate("plant_tree")
    b, _ = generate("plant_tree")
    for name in a:
        assert np.array_equal(a[name].vertices, b[name].vertices)


def test_package_stays_small():
    total = sum(p.stat().st_size for p in PACKAGE.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    assert total < 3 * 1024 * 1024
