"""Finite differences vs autograd for continuous inputs of each node twin, and through whole materials."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from materials_db import clamp_params, evaluate, load_graph
from materials_db.goldens.cases import CASES, twin_case

BY_NAME = {c["name"]: c for c in CASES}
PTS = np.random.default_rng(1).random((300, 3)).astype(np.float32) * 1.5 + 0.2

# (case, input, value, output[, relative step]): continuous inputs whose effect is smooth almost everywhere.
# Voronoi F2 searches only the 3^d neighbour cells, so it has rare small jumps: it needs a tiny FD step.
GRAD_CASES = [
    ("noise_3D_FBM", "Scale", 5.0, "Fac"), ("noise_2D_fbm_distorted", "Roughness", 0.6, "Fac"),
    ("noise_2D_fbm_distorted", "Distortion", 0.7, "Fac"), ("noise_3D_FBM", "Lacunarity", 2.0, "Fac", 1e-4),
    ("voronoi_2D_F1", "Randomness", 0.8, "Distance"), ("voronoi_2D_SMOOTH_F1", "Smoothness", 0.8, "Distance"),
    ("voronoi_3D_F2", "Scale", 5.0, "Distance", 2e-5), ("voronoi_2D_edge", "Randomness", 0.9, "Distance"),
    ("wave_BANDS_X_SIN", "Phase Offset", 1.0, "Fac"), ("wave_BANDS_X_SIN", "Distortion", 3.0, "Fac"),
    ("wave_RINGS_SPHERICAL_SIN", "Scale", 5.0, "Fac", 4e-5), ("wave_BANDS_DIAGONAL_SIN", "Detail Scale", 2.0, "Fac"),
    ("brick_smooth_colors", "Mortar Size", 0.02, "Fac"), ("brick_default", "Color1", [0.8, 0.8, 0.8], "Color"),
    ("brick_default", "Mortar", [0.1, 0.1, 0.1], "Color"), ("checker", "Color2", [0.2, 0.3, 0.4], "Color"),
    ("mix_OVERLAY", "A", [0.3, 0.6, 0.9], "Result"), ("mix_SOFT_LIGHT", "A", [0.3, 0.6, 0.9], "Result"),
    ("mix_float", "A", 0.2, "Result"), ("math_MULTIPLY_ADD", "C", 0.3, "Value"),
    ("map_range_LINEAR_False", "From Min", 0.2, "Result"), ("map_range_SMOOTHSTEP_True", "To Max", 2.0, "Result"),
]


def _loss(case, name, value, out, w):
    r = twin_case(case, PTS, {name: value})[out]
    return (r * w).sum()


GRAD_CASES = [c if len(c) == 5 else (*c, 2e-3) for c in GRAD_CASES]


@pytest.mark.parametrize("cname,inp,val,out,rel", GRAD_CASES, ids=[f"{c[0]}-{c[1]}" for c in GRAD_CASES])
def test_node_gradient_matches_finite_differences(cname, inp, val, out, rel):
    case = BY_NAME[cname]
    x = torch.tensor(val, dtype=torch.float64).float().requires_grad_(True)
    ref = twin_case(case, PTS, {inp: x})[out]
    w = torch.from_numpy(np.random.default_rng(2).standard_normal(ref.shape).astype(np.float32))
    loss = (ref * w).sum()
    (g,) = torch.autograd.grad(loss, x)
    h = rel * max(1.0, float(torch.as_tensor(val).abs().max()))
    fd = torch.zeros_like(x)
    for i in range(x.numel()):
        e = torch.zeros_like(x).reshape(-1)
        e[i] = h
        e = e.reshape(x.shape)
        with torch.no_grad():
            fd.reshape(-1)[i] = (_loss(case, inp, x + e, out, w) - _loss(case, inp, x - e, out, w)) / (2 * h)
    scale = max(float(fd.abs().max()), 1e-3)
    assert float((g - fd).abs().max()) <= 0.05 * scale + 1e-3, f"autograd {g} vs fd {fd}"


def test_ramp_gradients():
    from materials_db.twins.color import color_ramp

    fac = torch.linspace(0.0, 1.0, 257)
    pos = torch.tensor([0.2, 0.7], requires_grad=True)
    col = torch.tensor([[0.1, 0.2, 0.3, 1.0], [0.9, 0.5, 0.1, 1.0]], requires_grad=True)
    w = torch.randn(257, 3, generator=torch.Generator().manual_seed(0))

    def f(p, c):
        return (color_ramp(fac, p, c, "EASE")["Color"] * w).sum()

    gp, gc = torch.autograd.grad(f(pos, col), (pos, col))
    h = 1e-3
    for i in range(2):
        e = torch.zeros(2)
        e[i] = h
        fd = ((f(pos + e, col) - f(pos - e, col)) / (2 * h)).detach()  # a number, not part of the graph
        assert abs(float(gp[i] - fd)) <= 0.05 * abs(float(fd)) + 2e-2
    e = torch.zeros_like(col)
    e[1, 0] = h
    fd = ((f(pos, col + e) - f(pos, col - e)) / (2 * h)).detach()
    assert abs(float(gc[1, 0] - fd)) <= 1e-2 * abs(float(fd)) + 1e-3


def test_mapping_gradients():
    from materials_db.twins.mathops import mapping

    v = torch.rand(200, 3, generator=torch.Generator().manual_seed(0))
    for key in ("location", "rotation", "scale"):
        x = torch.tensor([0.3, -0.2, 0.5] if key != "scale" else [1.2, 0.8, 1.0], requires_grad=True)
        w = torch.randn(200, 3, generator=torch.Generator().manual_seed(1))
        f = lambda t: (mapping(v, **{key: t})["Vector"] * w).sum()  # noqa: E731
        (g,) = torch.autograd.grad(f(x), x)
        for i in range(3):
            e = torch.zeros(3)
            e[i] = 1e-3
            fd = ((f(x + e) - f(x - e)) / 2e-3).detach()
            assert abs(float(g[i] - fd)) <= 1e-2 * abs(float(fd)) + 5e-2


@pytest.mark.parametrize("name", ["marble_carrara", "concrete_smooth", "linen_natural", "white_square_tiles"])
def test_material_parameters_get_gradients(name):
    g = load_graph(name)
    params = g.default_params(requires_grad=True)
    maps = evaluate(g, params, 32)
    loss = sum(m.float().mean() for m in maps.values())
    loss.backward()
    got = [k for k, t in params.items() if t.grad is not None and float(t.grad.abs().sum()) > 0]
    assert got, "no parameter received a gradient"
    with torch.no_grad():
        for t in params.values():
            t += 5.0
    clamp_params(params)
    assert all(float(t.detach().max()) <= 1.0 for t in params.values())
