"""The fused material compiler (one generated kernel per material, taichi or Dr.Jit) against the node-by-node
evaluation.

Every library material: the same maps within 1e-5 and the same parameter gradients (the node-by-node gradients
are checked against finite differences in test_gradients.py), for both code targets. Compiles take seconds per
material structure the first time; the generated modules and taichi's / Dr.Jit's kernel caches on disk make later
runs cheaper.
"""

from __future__ import annotations

import pytest
import torch

pytest.importorskip("taichi")

from materials_db import evaluate, list_materials, load_graph  # noqa: E402
from materials_db.graph import Graph  # noqa: E402
from materials_db.twins.backend import get_backend, set_backend  # noqa: E402
from materials_db.twins.fused import TARGETS, Unsupported, compile_graph, drjit_llvm_ready, evaluate_fused  # noqa: E402

RES = 32


def _materials_to_check() -> list[str]:
    """One material per combination of node types (21 of 81), plus the ridged multifractal (slate_dark); every
    library material with PHOTO2SCENE_TEST_ALL_MATERIALS=1. Why not all by default: each new structure compiles
    for seconds, 5-6 minutes for the whole library on 2 cores."""
    import os

    names = list_materials()
    if os.environ.get("PHOTO2SCENE_TEST_ALL_MATERIALS") == "1":
        return names
    seen, chosen = set(), []
    for n in names:
        types = frozenset(node["type"] for node in load_graph(n).nodes.values())
        if types not in seen:
            seen.add(types)
            chosen.append(n)
    return chosen + [n for n in ("slate_dark",) if n in names and n not in chosen]  # ridged multifractal


@pytest.fixture()
def node_by_node():
    """Run the reference evaluation node by node (taichi cores), restoring the back-end afterwards."""
    from materials_db.twins import backend

    get_backend()
    before = dict(backend._STATE)
    set_backend("taichi")
    yield
    backend._STATE.update(before)


@pytest.fixture(params=TARGETS)
def target(request, monkeypatch):
    """Generate code for each target in turn (Dr.Jit needs its LLVM backend, i.e. libLLVM >= 16)."""
    if request.param == "drjit" and not drjit_llvm_ready():
        pytest.skip("Dr.Jit's LLVM backend is not available here (libLLVM >= 16)")
    monkeypatch.setenv("PHOTO2SCENE_FUSED_TARGET", request.param)
    return request.param


def _loss_weights(maps: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    gen = torch.Generator().manual_seed(7)
    return {k: torch.randn(v.shape, generator=gen) for k, v in maps.items()}


def _check_against_node_by_node(name: str | Graph, with_normal: bool = True,
                                uv_rect: tuple[float, float, float, float] = (0.0, 0.0, 1.0, 1.0)) -> None:
    g = load_graph(name) if isinstance(name, str) else name
    name = g.name
    p_f = g.default_params(requires_grad=True)
    try:
        fused = evaluate_fused(g, p_f, RES, with_normal=with_normal, uv_rect=uv_rect)
    except Unsupported as exc:
        pytest.skip(f"outside the fused compiler's reach ({exc}); evaluate() falls back node by node")
    p_r = g.default_params(requires_grad=True)
    ref = evaluate(g, p_r, RES, with_normal=with_normal, uv_rect=uv_rect)
    assert set(fused) == set(ref)
    for k in ref:
        assert fused[k].shape == ref[k].shape, k
        err = float((fused[k] - ref[k]).detach().abs().max())
        assert err <= 1e-5, f"{name} {k}: max abs diff {err:.2e}"
    w = _loss_weights(ref)
    sum((fused[k] * w[k]).sum() for k in fused).backward()
    sum((ref[k] * w[k]).sum() for k in ref).backward()
    for k, t in p_r.items():
        if not t.requires_grad:
            continue
        a = p_f[k].grad if p_f[k].grad is not None else torch.zeros_like(t)
        b = t.grad if t.grad is not None else torch.zeros_like(t)
        scale = float(b.abs().max())
        # a few % of the gradient's size (float32 sums over 1024 texels in different orders)
        assert float((a - b).abs().max()) <= 0.02 * scale + 1e-4, f"{name} d/d{k}: fused {a} vs {b}"


@pytest.mark.parametrize("name", _materials_to_check())
def test_fused_matches_node_by_node(name, node_by_node, target):
    """All maps (the Bump's three heights in the kernels); taichi's backward reads the forward's tape, Dr.Jit's
    re-traces the forward."""
    _check_against_node_by_node(name)


@pytest.mark.parametrize("name", ["oak_planks", "white_square_tiles", "terrazzo_white"])
def test_fused_render_maps(name, node_by_node, target):
    """with_normal=False: kernels without the heights (the nodes feeding only the Bump are not emitted)."""
    _check_against_node_by_node(name, with_normal=False)


@pytest.mark.parametrize("name", ["brick_wall_red", "marble_carrara"])
def test_fused_uv_rectangle(name, node_by_node, target):
    """Maps over a UV rectangle of several tiles (what a renderer needs for a wall several tiles wide: Blender
    evaluates the tree wherever the UVs go, and per-brick tints and noise do not repeat): the same as node by
    node, and the unit tile inside a bigger rectangle is exactly the unit-tile map."""
    _check_against_node_by_node(name, uv_rect=(-1.0, 2.0, 3.0, 2.0))
    g = load_graph(name)
    with torch.no_grad():
        unit = evaluate(g, None, RES)
        big = evaluate(g, None, 2 * RES, uv_rect=(0.0, -1.0, 2.0, 2.0))  # the unit tile: top-left quarter
        for k in unit:
            assert torch.equal(big[k][:RES, :RES], unit[k]), k
        assert float((big["base_color"][:RES, RES:] - unit["base_color"]).abs().mean()) > 1e-3  # not periodic


@pytest.mark.parametrize("name", ["terrazzo_white", "linen_natural"])
def test_fused_backward_without_tape(name, node_by_node, monkeypatch):
    """Past the tape's memory limit the backward kernel re-runs the fBm / Perlin / Voronoi calls itself."""
    from materials_db.twins import fused

    monkeypatch.setenv("PHOTO2SCENE_FUSED_TARGET", "taichi")  # the tape is taichi's
    monkeypatch.setattr(fused, "TAPE_LIMIT_BYTES", 0)
    _check_against_node_by_node(name, with_normal=False)


def _ridged_with_params() -> Graph:
    """slate_dark with the ridged multifractal's roughness, lacunarity, offset and gain as parameters (the library
    keeps them fixed), so their derivatives are checked too."""
    d = load_graph("slate_dark").to_dict()
    for sock, name, default, rng in (("Roughness", "ridge_rough", 0.6, [0.0, 1.0]),
                                     ("Lacunarity", "ridge_lac", 2.1, [1.5, 3.0]),
                                     ("Offset", "ridge_offset", 0.9, [0.5, 1.5]),
                                     ("Gain", "ridge_gain", 1.3, [0.5, 3.0])):
        d["params"][name] = {"kind": "float", "default": default, "range": rng}
        d["nodes"]["noise"]["inputs"][sock] = {"param": name}
    d["name"] = "slate_ridged_params"
    return Graph.from_dict(d)


def test_fused_ridged_parameter_gradients(node_by_node, target):
    _check_against_node_by_node(_ridged_with_params())


def _hetero_graph() -> Graph:
    d = load_graph("white_square_tiles").to_dict()
    d["nodes"]["noise"]["props"]["noise_type"] = "HETERO_TERRAIN"  # not in the compiler's reach
    return Graph.from_dict(d)


def test_unsupported_graph_falls_back(node_by_node):
    g = _hetero_graph()
    with pytest.raises(Unsupported):
        compile_graph(g, g.values(None))
    ref = evaluate(g, None, 16)
    set_backend("fused")
    out = evaluate(g, None, 16)
    for k in ref:
        assert torch.equal(out[k], ref[k]), k


def test_drjit_values_are_kernel_inputs(monkeypatch):
    """New parameter values reuse the traced Dr.Jit kernels (uniforms are gathered from a buffer, not baked in as
    literals, which would recompile at every optimiser step)."""
    if not drjit_llvm_ready():
        pytest.skip("Dr.Jit's LLVM backend is not available here")
    import drjit as dr

    monkeypatch.setenv("PHOTO2SCENE_FUSED_TARGET", "drjit")
    g = load_graph("oak_planks")

    def run(scale: float) -> list[dict]:
        p = g.default_params()
        p["map_scale"] = p["map_scale"] * scale
        p = {k: v.detach().requires_grad_(v.is_floating_point()) for k, v in p.items()}
        dr.kernel_history_clear()
        maps = evaluate_fused(g, p, 24, with_normal=False)
        (maps["base_color"].sum() + maps["roughness"].sum()).backward()
        return [k for k in dr.kernel_history() if k["type"] == dr.KernelType.JIT]

    dr.set_flag(dr.JitFlag.KernelHistory, True)
    try:
        run(1.0)
        again = run(1.7)
    finally:
        dr.set_flag(dr.JitFlag.KernelHistory, False)
    assert again and all(k["cache_hit"] for k in again), [k.get("cache_hit") for k in again]


def test_kernels_cached_per_structure():
    g = load_graph("white_square_tiles")
    a = compile_graph(g, g.values(None))
    p = g.default_params()
    p["grout_size"] = torch.tensor(0.9)  # continuous values are runtime uniforms: same kernels
    assert compile_graph(g, g.values(p)) is a
    d = g.to_dict()
    d["nodes"]["tiles"]["props"]["offset"] = 0.5  # a property is compiled in: new kernels
    g2 = Graph.from_dict(d)
    assert compile_graph(g2, g2.values(None)) is not a


def test_evaluate_dispatches_to_fused(node_by_node):
    g = load_graph("white_square_tiles")
    ref = evaluate(g, None, 16)
    set_backend("fused")
    out = evaluate(g, None, (16, 24))  # non-square maps too
    assert out["base_color"].shape == (16, 24, 3)
    out = evaluate(g, None, 16)
    for k in ref:
        assert float((out[k] - ref[k]).abs().max()) <= 1e-5, k


def test_fused_target_choice(monkeypatch):
    """Dr.Jit on the CPU when its LLVM backend runs, taichi when asked and on CUDA; a typo is a clear error."""
    from materials_db.twins.fused import fused_target

    monkeypatch.delenv("PHOTO2SCENE_FUSED_TARGET", raising=False)
    assert fused_target("cpu") == ("drjit" if drjit_llvm_ready() else "taichi")
    assert fused_target("cuda") == "taichi"
    monkeypatch.setenv("PHOTO2SCENE_FUSED_TARGET", "taichi")
    assert fused_target("cpu") == "taichi"
    monkeypatch.setenv("PHOTO2SCENE_FUSED_TARGET", "drjitt")
    with pytest.raises(ValueError, match="PHOTO2SCENE_FUSED_TARGET"):
        fused_target("cpu")
    monkeypatch.delenv("PHOTO2SCENE_FUSED_TARGET")
    from materials_db.twins.fused import set_target

    set_target("taichi")  # the bench's switch wins over the default
    try:
        assert fused_target("cpu") == "taichi"
    finally:
        set_target(None)
    with pytest.raises(ValueError, match="fused target"):
        set_target("cuda")


def test_wrong_target_is_a_one_line_cli_error(monkeypatch, tmp_path, capsys):
    """A mistyped $PHOTO2SCENE_FUSED_TARGET stops the command with one line naming the fix, exit status 2."""
    from materials_db.twins import backend
    from pipeline.app.cli import main

    get_backend()
    before = dict(backend._STATE)
    set_backend("fused")
    monkeypatch.setenv("PHOTO2SCENE_FUSED_TARGET", "drjitt")
    try:
        assert main(["materials", "thumbs", "white_square_tiles", "--out", str(tmp_path)]) == 2
    finally:
        backend._STATE.update(before)
    err = capsys.readouterr().err.strip()
    assert err.startswith("photo2scene: error: $PHOTO2SCENE_FUSED_TARGET is 'drjitt'") and "\n" not in err
    assert not list(tmp_path.iterdir())
