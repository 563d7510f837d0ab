"""The Bump twin (Cycles' forward-difference bump, twins/bump.py): analytic cases, Filter Width, tiling, gradients."""

from __future__ import annotations

import importlib.util
import math

import pytest
import torch

from materials_db import Graph, GraphError, evaluate, evaluate_sockets, load_graph, uv_grid
from materials_db.twins.bump import DIR_A, DIR_B, bump_normal, bump_offsets, bump_step


def _graph(height_nodes: dict, height: str, bump_inputs: dict | None = None, invert: bool = False) -> Graph:
    nodes = {"uv": {"type": "ShaderNodeTexCoord"}, **height_nodes,
             "bump": {"type": "ShaderNodeBump", "props": {"invert": invert},
                      "inputs": {"Height": {"link": height}, **(bump_inputs or {})}},
             "bsdf": {"type": "ShaderNodeBsdfPrincipled", "inputs": {"Normal": {"link": "bump.Normal"}}}}
    return Graph.from_dict({"format": "photo2scene.material/1", "name": "t", "params": {}, "nodes": nodes,
                            "output": "bsdf"})


def _ramp_u(k: float) -> dict:
    """h = k * u (Gradient Linear on UV, times k)."""
    return {"grad": {"type": "ShaderNodeTexGradient", "inputs": {"Vector": {"link": "uv.UV"}}},
            "h": {"type": "ShaderNodeMath", "props": {"operation": "MULTIPLY"},
                  "inputs": {"A": {"link": "grad.Fac"}, "B": k}}}


def test_offsets_are_cycles_diagonal_differentials():
    a, b = bump_offsets(0.1, 1.0 / 32)
    eps = 0.1 * 0.5 / 32  # filter width x half a bake texel
    assert torch.allclose(a, torch.tensor([eps * DIR_A[0], eps * DIR_A[1], 0.0]))
    assert torch.allclose(b, torch.tensor([eps * DIR_B[0], eps * DIR_B[1], 0.0]))
    assert math.isclose(float(bump_step(0.1, 1.0 / 32, uv_size=2.0)), 2 * eps, rel_tol=1e-6)


@pytest.mark.parametrize("alpha,beta", [(3.0, 0.0), (0.0, -2.0), (1.5, 4.0)])
def test_linear_height_gives_the_analytic_normal(alpha, beta):
    eps, d = 0.01, 0.2
    h = lambda u, v: alpha * u + beta * v  # noqa: E731
    u, v = torch.rand(50), torch.rand(50)
    n = bump_normal(h(u, v), h(u + eps * DIR_A[0], v + eps * DIR_A[1]), h(u + eps * DIR_B[0], v + eps * DIR_B[1]),
                    1.0, d, False, eps)
    want = torch.nn.functional.normalize(torch.tensor([-d * alpha, -d * beta, 1.0]), dim=0)
    assert torch.allclose(n, want.expand_as(n), atol=2e-4)


def test_material_ramp_normal_strength_invert():
    k, d = 2.0, 0.3
    for invert in (False, True):
        g = _graph(_ramp_u(k), "h.Value", {"Distance": d, "Strength": 1.0}, invert)
        n = evaluate(g, None, 16)["normal"][:, :-1]  # the last column's offsets pass u = 1, where the ramp clamps
        s = -1.0 if invert else 1.0
        want = torch.nn.functional.normalize(torch.tensor([-s * d * k, 0.0, 1.0]), dim=0)
        assert torch.allclose(n, want.expand_as(n), atol=1e-4)
    g = _graph(_ramp_u(k), "h.Value", {"Distance": d, "Strength": 0.5})
    n = evaluate(g, None, 16)["normal"][:, :-1]
    full = torch.nn.functional.normalize(torch.tensor([-d * k, 0.0, 1.0]), dim=0)
    want = torch.nn.functional.normalize(0.5 * full + 0.5 * torch.tensor([0.0, 0.0, 1.0]), dim=0)
    assert torch.allclose(n, want.expand_as(n), atol=1e-4)


def test_filter_width_sets_the_step_on_a_sharp_edge():
    """A step in u: only samples within fw * half a texel before it see it; fw = 0 is no bump at all (Cycles)."""
    edge = {"grad": {"type": "ShaderNodeTexGradient", "inputs": {"Vector": {"link": "uv.UV"}}},
            "h": {"type": "ShaderNodeMath", "props": {"operation": "GREATER_THAN"},
                  "inputs": {"A": {"link": "grad.Fac"}, "B": 0.5}}}
    res = 64
    uv = uv_grid((1, 400))
    uv[..., 0] = 0.5 - torch.linspace(0.0, 0.6, 400) / res  # 0 .. 0.6 texel before the edge
    key = ("bsdf", "Normal")
    for fw in (0.1, 0.5, 1.0):
        g = _graph(edge, "h.Value", {"Distance": 0.01, "Filter Width": fw})
        n = evaluate_sockets(g, uv, None, 1.0, [key], bump_texel=1.0 / res)[key][0]
        tilted = (n[:, 2] < 0.999).float().mean().item()
        reach = fw * 0.5 * math.sqrt(0.5)  # in texels: the offsets' u component
        assert abs(tilted - reach / 0.6) < 0.01, (fw, tilted)
    g = _graph(edge, "h.Value", {"Distance": 0.01, "Filter Width": 0.0})
    n = evaluate_sockets(g, uv, None, 1.0, [key], bump_texel=1.0 / res)[key]
    assert torch.equal(n, torch.tensor([0.0, 0.0, 1.0]).expand_as(n))


def test_default_bump_texel_is_the_map_texel():
    g = load_graph("leather_brown")
    a = evaluate(g, None, 24)["normal"]
    b = evaluate(g, None, 24, bump_texel=1.0 / 24)["normal"]
    c = evaluate(g, None, 24, bump_texel=1.0 / 6)["normal"]
    assert torch.equal(a, b)
    assert not torch.allclose(a, c, atol=1e-3)


def test_normals_tile():
    """Offsets past u or v = 1 read the next tile, so a periodic height gives a periodic normal map.

    (Only the wood templates have heights periodic over one UV unit, Perlin noise is not periodic; end grain is the
    one with a smooth height: at plank steps a sample within float rounding of the edge may land on either side.)"""
    g = load_graph("end_grain_blocks")
    key = (g.output, "Normal")
    uv = uv_grid(32)
    ref = evaluate_sockets(g, uv, None, 1.0, [key], bump_texel=1 / 32)[key]
    assert (ref[..., 2] < 0.9999).any()
    for shift in ([1.0, 0.0, 0.0], [0.0, 1.0, 0.0]):
        got = evaluate_sockets(g, uv + torch.tensor(shift), None, 1.0, [key], bump_texel=1 / 32)[key]
        assert torch.allclose(got, ref, atol=1e-5), shift


def test_bump_gradients_match_finite_differences():
    torch.manual_seed(0)
    heights = [torch.rand(20).requires_grad_(True) for _ in range(3)]
    w = torch.rand(20, 3)

    def f(s, d, hs):
        return (bump_normal(hs[0], hs[1], hs[2], s, d, False, 0.002) * w).sum()

    x = {"strength": torch.tensor(0.6, requires_grad=True), "distance": torch.tensor(0.01, requires_grad=True)}
    f(x["strength"], x["distance"], heights).backward()
    for name in x:
        step = 1e-3 * float(x[name].detach())
        vals = {k: v.detach() for k, v in x.items()}
        plus, minus = dict(vals), dict(vals)
        plus[name], minus[name] = vals[name] + step, vals[name] - step
        hs = [h.detach() for h in heights]
        num = (f(plus["strength"], plus["distance"], hs) - f(minus["strength"], minus["distance"], hs)) / (2 * step)
        assert math.isclose(float(x[name].grad), float(num), rel_tol=0.02), (name, float(x[name].grad), float(num))
    assert all(h.grad is not None and torch.isfinite(h.grad).all() and h.grad.abs().sum() > 0 for h in heights)


def test_filter_width_must_be_a_constant():
    nodes = _ramp_u(1.0)
    nodes["fw"] = {"type": "ShaderNodeMath", "props": {"operation": "ADD"}, "inputs": {"A": 0.1, "B": 0.0}}
    with pytest.raises(GraphError, match="Filter Width"):
        _graph(nodes, "h.Value", {"Filter Width": {"link": "fw.Value"}})


def test_bump_needs_a_texel_at_arbitrary_points():
    g = _graph(_ramp_u(1.0), "h.Value")
    with pytest.raises(GraphError, match="bump_texel"):
        evaluate_sockets(g, torch.rand(5, 3), None, 1.0, [("bsdf", "Normal")])


@pytest.mark.skipif(importlib.util.find_spec("bpy") is None, reason="needs bpy")
def test_filter_width_survives_blender_round_trip():
    import bpy

    from blender_addon.builders.material import build_material, material_to_graph

    bpy.ops.wm.read_homefile(use_empty=True)
    g = _graph(_ramp_u(2.0), "h.Value", {"Distance": 0.02, "Filter Width": 0.7})
    mat = build_material(g.to_dict())
    assert math.isclose(mat.node_tree.nodes["bump"].inputs["Filter Width"].default_value, 0.7, rel_tol=1e-6)
    back = material_to_graph(mat)
    assert math.isclose(back["nodes"]["bump"]["inputs"]["Filter Width"], 0.7, rel_tol=1e-6)
    assert torch.allclose(evaluate(g, None, 16)["normal"], evaluate(Graph.from_dict(back), None, 16)["normal"],
                          atol=1e-5)
