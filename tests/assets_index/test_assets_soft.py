"""Soft furnishings (assets_index.builtin.soft): curtains, blinds and rugs built to a requested metric size."""

import numpy as np
import pytest
import trimesh

from assets_index.builtin import soft
from assets_index.builtin.builder import Builder
from assets_index.meshutil import bounds


def _size(b: Builder) -> np.ndarray:
    parts, _ = b.build()
    lo, hi = bounds(parts)
    return hi - lo


def _closed_pieces(b: Builder) -> bool:
    """Every primitive piece of every part is a closed surface (UV seams split vertices only after build)."""
    parts, _ = b.build()
    return all(p.is_watertight for name in parts for p in b.last(name, 10 ** 6))


@pytest.mark.parametrize("width,height", [(1.6, 2.4), (0.9, 2.1), (3.0, 2.7)])
@pytest.mark.parametrize("kw", [{}, {"panels": 1}, {"rod": False}, {"header": "pelmet"},
                                {"opening": 0.5, "tieback": True}])
def test_curtain_spans_the_requested_width_and_height(width, height, kw):
    b = soft.curtain(width, height, **kw)
    w, d, h = _size(b)
    assert w == pytest.approx(width, abs=1e-3) and h == pytest.approx(height, abs=1e-3)
    assert 0.03 < d < 0.3
    assert _closed_pieces(b)


def test_curtain_parts_and_fabric_folds():
    b = soft.curtain(1.6, 2.4, folds=7, fold_depth=0.08)
    parts, infos = b.build()
    assert {p.name: p.material for p in infos} == {"fabric": "fabric", "rod": "metal"}
    fabric = parts["fabric"]
    assert fabric.visual.uv is not None and fabric.visual.uv.shape == (len(fabric.vertices), 2)
    # Folds: the fabric's front surface goes back and forth in depth many times along its width.
    band = fabric.vertices[np.abs(fabric.vertices[:, 2] - 1.2) < 0.7]
    ys = band[np.argsort(band[:, 0]), 1]
    assert np.ptp(ys) > 0.06
    two_panels = [p for p in b.last("fabric", 10)]
    assert len(two_panels) == 2


def test_open_curtain_leaves_the_middle_free():
    parts, _ = soft.curtain(2.0, 2.4, opening=0.6).build()
    x = parts["fabric"].vertices[:, 0]
    assert not np.any(np.abs(x) < 0.3)


def test_tieback_pinches_the_panel():
    parts, _ = soft.curtain(2.0, 2.4, opening=0.3, tieback=True).build()
    v = parts["fabric"].vertices
    left = v[v[:, 0] < 0]
    hem_w = np.ptp(left[left[:, 2] < 0.05, 0])
    waist_w = np.ptp(left[np.abs(left[:, 2] - 0.4 * left[:, 2].max()) < 0.02, 0])
    assert waist_w < 0.5 * hem_w


@pytest.mark.parametrize("kind", soft.BLIND_KINDS)
def test_blind_kinds_fill_their_size(kind):
    b = soft.blind(1.2, 1.5, kind=kind)
    w, d, h = _size(b)
    assert w == pytest.approx(1.2, abs=0.02) and h == pytest.approx(1.5, abs=1e-3) and d < 0.12
    assert _closed_pieces(b)


@pytest.mark.parametrize("shape", soft.RUG_SHAPES)
def test_rug_is_flat_with_its_thickness(shape):
    b = soft.rug(2.4, 1.6, thickness=0.02, shape=shape, border="rug_red")
    w, d, h = _size(b)
    expected_d = 2.4 if shape == "round" else 1.6
    assert w == pytest.approx(2.4, abs=1e-3) and d == pytest.approx(expected_d, abs=1e-3)
    assert 0.02 <= h < 0.025
    assert _closed_pieces(b)


def test_rug_fringe_and_stripes_stay_inside_the_footprint():
    b = soft.rug(2.0, 1.4, border="rug_red", stripes=3, fringe=0.08)
    parts, infos = b.build()
    assert {"rug", "border", "fringe"} <= set(parts)
    assert np.allclose(_size(b)[:2], (2.0, 1.4), atol=1e-3)
    # The rug body is shortened by the fringe on the long axis.
    assert np.ptp(parts["rug"].vertices[:, 0]) == pytest.approx(2.0 - 0.16, abs=1e-3)


def test_bad_choices_name_the_options():
    with pytest.raises(ValueError, match="roller"):
        soft.blind(kind="pleated")
    with pytest.raises(ValueError, match="rect"):
        soft.rug(shape="hexagon")
    with pytest.raises(ValueError, match="pelmet"):
        soft.curtain(header="swag")


def test_sheet_is_closed_and_rejects_ragged_rings():
    b = Builder().part("s", "fabric", (0.5, 0.5, 0.5))
    line = np.column_stack([np.linspace(0, 1, 9), 0.05 * np.sin(np.linspace(0, 6, 9))])
    b.sheet("s", [(0.0, line), (1.0, line)], 0.01)
    mesh = b.last("s")[0]
    assert isinstance(mesh, trimesh.Trimesh) and mesh.is_watertight and mesh.volume > 0
    with pytest.raises(ValueError):
        b.sheet("s", [(0.0, line), (1.0, line[:5])], 0.01)
