"""The fused compiler's Dr.Jit target: its per-texel functions against the taichi ones they mirror, and the IEEE
details that make the two agree to float rounding (no reciprocal for `x / literal`, no FMAs in Mapping's matrix
product). The whole-material comparison with the node-by-node twins is in test_fused.py."""

# no `from __future__ import annotations`: taichi reads the kernels' annotations as objects

import numpy as np
import pytest
import torch

pytest.importorskip("taichi")

from materials_db.twins.fused import drjit_llvm_ready  # noqa: E402

if not drjit_llvm_ready():
    pytest.skip("Dr.Jit's LLVM backend is not available here (libLLVM >= 16)", allow_module_level=True)

import drjit as dr  # noqa: E402
import taichi as ti  # noqa: E402

from materials_db.twins import jit_funcs, jit_perlin, jit_ti, jit_voronoi  # noqa: E402
from materials_db.twins import fused_funcs, ti_perlin, ti_voronoi  # noqa: E402

N = 4096


@pytest.fixture(scope="module", autouse=True)
def _init():
    ti_perlin.ensure_init(torch.device("cpu"))
    jit_ti.use("cpu")


def _points(dim: int, spread: float = 40.0) -> np.ndarray:
    """Random points, negative ones and exact lattice corners included (floor/fraction edge cases)."""
    rng = np.random.default_rng(3)
    p = ((rng.random((N, dim)) - 0.5) * spread).astype(np.float32)
    p[: N // 8] = np.round(p[: N // 8])
    return p


def _lanes(p: np.ndarray):
    comps = [jit_ti.Float(np.ascontiguousarray(p[:, k])) for k in range(p.shape[1])]
    return jit_ti.math.vec2(*comps) if p.shape[1] == 2 else jit_ti.math.vec3(*comps)


@ti.func
def _noise_columns(out: ti.template(), n, q, vg: ti.template(), noise: ti.template()):
    """Perlin value (0) and gradient (1-3), fBm (4), ridged multifractal and its derivatives (5-10) at q."""
    v, g = vg(q)
    out[n, 0] = v
    for k in ti.static(range(q.n)):
        out[n, 1 + k] = g[k]
    out[n, 4] = ti_perlin.fbm_value(q, 3, 0.5, 0.6, 2.0, True, noise)
    rv, rdp, rdr, rdl, rdo, rdg = ti_perlin.ridged_vg(q, 4, 0.6, 2.0, 1.0, 1.3, vg)
    out[n, 5] = rv
    out[n, 6] = rdp[0]
    out[n, 7] = rdr
    out[n, 8] = rdl
    out[n, 9] = rdo
    out[n, 10] = rdg


@ti.kernel
def _ti_noise(p: ti.types.ndarray(dtype=ti.f32, ndim=2), out: ti.types.ndarray(dtype=ti.f32, ndim=2),
              dim: ti.template()):
    for n in range(p.shape[0]):
        if ti.static(dim == 2):
            _noise_columns(out, n, ti.math.vec2(p[n, 0], p[n, 1]), ti_perlin._perlin2_vg, ti_perlin.perlin2)
        else:
            _noise_columns(out, n, ti.math.vec3(p[n, 0], p[n, 1], p[n, 2]), ti_perlin._perlin3_vg,
                           ti_perlin.perlin3)


@pytest.mark.parametrize("dim", [2, 3])
def test_perlin_fbm_ridged_match_taichi(dim):
    p = _points(dim)
    ref = torch.zeros(N, 11)
    _ti_noise(torch.from_numpy(p), ref, dim)
    q = _lanes(p)
    v, g = (jit_perlin._perlin2_vg if dim == 2 else jit_perlin._perlin3_vg)(q)
    noise = jit_perlin.perlin2 if dim == 2 else jit_perlin.perlin3
    got = [v] + [g[k] for k in range(dim)]
    for k, x in enumerate(got):
        np.testing.assert_allclose(x.numpy(), ref[:, k].numpy(), rtol=0, atol=2e-6)
    np.testing.assert_allclose(jit_perlin.fbm_value(q, 3, 0.5, 0.6, 2.0, True, noise).numpy(), ref[:, 4].numpy(),
                               rtol=0, atol=2e-6)
    vg = jit_perlin._perlin2_vg if dim == 2 else jit_perlin._perlin3_vg
    rv, rdp, rdr, rdl, rdo, rdg = jit_perlin.ridged_vg(q, 4, 0.6, 2.0, 1.0, 1.3, vg)
    for k, x in zip(range(5, 11), (rv, rdp[0], rdr, rdl, rdo, rdg)):  # the value and its derivatives
        np.testing.assert_allclose(x.numpy(), ref[:, k].numpy(), rtol=1e-5, atol=1e-5, err_msg=f"ridged column {k}")


@ti.kernel
def _ti_voronoi(p: ti.types.ndarray(dtype=ti.f32, ndim=2), out: ti.types.ndarray(dtype=ti.f32, ndim=2)):
    for n in range(p.shape[0]):
        q = ti.math.vec2(p[n, 0], p[n, 1])
        d, col, pos, dc, drand, dp = ti_voronoi.f1_2d(q, 0.8, "EUCLIDEAN")
        out[n, 0] = d
        out[n, 1] = col[0]
        out[n, 2] = pos[1]
        out[n, 3] = dc[0]
        out[n, 4] = drand
        m, gl, gr = ti_voronoi.edge_2d(q, 0.9)
        out[n, 5] = m
        out[n, 6] = gl[1]
        out[n, 7] = gr


def test_voronoi_matches_taichi():
    p = _points(2, 12.0)
    ref = torch.zeros(N, 8)
    _ti_voronoi(torch.from_numpy(p), ref)
    q = _lanes(p)
    d, col, pos, dc, drand, _ = jit_voronoi.f1_2d(q, 0.8, "EUCLIDEAN")
    m, gl, gr = jit_voronoi.edge_2d(q, 0.9)
    for k, x in enumerate((d, col[0], pos[1], dc[0], drand, m, gl[1], gr)):
        np.testing.assert_allclose(x.numpy(), ref[:, k].numpy(), rtol=0, atol=1e-5, err_msg=f"column {k}")


@ti.kernel
def _ti_brick(p: ti.types.ndarray(dtype=ti.f32, ndim=2), out: ti.types.ndarray(dtype=ti.f32, ndim=2)):
    for n in range(p.shape[0]):
        v = ti.math.vec3(p[n, 0], p[n, 1], 0.0)
        c1, c2, cm = ti.math.vec3(0.8, 0.2, 0.1), ti.math.vec3(0.5, 0.4, 0.3), ti.math.vec3(0.9, 0.9, 0.9)
        fac, col = fused_funcs.brick(v, c1, c2, cm, 3.0, 0.05, 0.1, 0.2, 0.5, 0.25, 0.5, 2, 1.0, 1)
        gv, g1, g2, gm, gs, gms, gsm, gb, gw, gr = fused_funcs.brick_vjp(
            v, c1, c2, cm, 3.0, 0.05, 0.1, 0.2, 0.5, 0.25, 1.0, ti.math.vec3(1.0, 0.5, 0.25), 0.5, 2, 1.0, 1)
        out[n, 0] = fac
        out[n, 1] = col[1]
        out[n, 2] = gv[0]
        out[n, 3] = gs
        out[n, 4] = gms
        out[n, 5] = gw
        out[n, 6] = gr
        out[n, 7] = gb


def test_brick_and_its_adjoints_match_taichi():
    p = _points(2, 6.0)
    ref = torch.zeros(N, 8)
    _ti_brick(torch.from_numpy(p), ref)
    v = jit_ti.math.vec3(jit_ti.Float(p[:, 0].copy()), jit_ti.Float(p[:, 1].copy()), jit_ti.Float(0.0))
    c1, c2, cm = (jit_ti.math.vec3(*c) for c in ((0.8, 0.2, 0.1), (0.5, 0.4, 0.3), (0.9, 0.9, 0.9)))
    with jit_ti.exact_ops():
        fac, col = jit_funcs.brick(v, c1, c2, cm, 3.0, 0.05, 0.1, 0.2, 0.5, 0.25, 0.5, 2, 1.0, 1)
        gv, g1, g2, gm, gs, gms, gsm, gb, gw, gr = jit_funcs.brick_vjp(
            v, c1, c2, cm, 3.0, 0.05, 0.1, 0.2, 0.5, 0.25, 1.0, jit_ti.math.vec3(1.0, 0.5, 0.25), 0.5, 2, 1.0, 1)
        got = [x if not jit_ti.is_num(x) else jit_ti.Float(x) for x in (fac, col[1], gv[0], gs, gms, gw, gr, gb)]
        dr.eval(*got)
    for k, x in enumerate(got):
        # the mortar adjoints reach ~1e3 (1 / mortar smooth^2): compare relative to the size
        np.testing.assert_allclose(np.broadcast_to(x.numpy(), (N,)), ref[:, k].numpy(), rtol=1e-6, atol=1e-5,
                                   err_msg=f"column {k}")


def test_division_and_matrix_product_are_exact():
    """`x / literal` and Mapping's `R @ v` round exactly as in float32 C (what taichi, torch and Blender do)."""
    x = np.linspace(0.1, 77.0, N).astype(np.float32)
    R = np.array([[0.70710677, -0.70710677, 0.0], [0.70710677, 0.70710677, 0.0], [0.0, 0.0, 1.0]], np.float32)
    with jit_ti.exact_ops():
        q = (jit_ti.Float(x) + 0.5) / 24.0
        v = jit_ti.math.vec3(jit_ti.Float(x), jit_ti.Float(x * 0.5), jit_ti.Float(0.0))
        rv = jit_ti.math.mat3(R.tolist()) @ v
        dr.eval(q, rv)
    np.testing.assert_array_equal(q.numpy(), (x + np.float32(0.5)) / np.float32(24.0))
    ref0 = (R[0, 0] * x + R[0, 1] * (x * np.float32(0.5))) + R[0, 2] * np.float32(0.0)
    np.testing.assert_array_equal(rv[0].numpy(), ref0)


def test_texel_uv_matches_taichi():
    n = dr.arange(jit_ti._T["UInt32"], 24 * 40)
    with jit_ti.exact_ops():
        u, v = jit_funcs.texel_uv(n, 24, 40)
        dr.eval(u, v)
    idx = np.arange(24 * 40)
    col, row = (idx % 40).astype(np.float32), (idx // 40).astype(np.float32)
    np.testing.assert_array_equal(u.numpy(), (col + np.float32(0.5)) / np.float32(40))
    np.testing.assert_array_equal(v.numpy(), np.float32(1) - (row + np.float32(0.5)) / np.float32(24))
