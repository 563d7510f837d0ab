"""The taichi kernels against the plain-torch twins: same values, same gradients."""

from __future__ import annotations

import pytest
import torch

pytest.importorskip("taichi")

from materials_db.twins.backend import get_backend, set_backend  # noqa: E402


def _grads(out, inputs, w):
    return torch.autograd.grad((out * w).sum(), inputs, allow_unused=True, materialize_grads=True)


def test_perlin_kernel_matches_torch():
    from materials_db.twins.noise import perlin_signed_torch
    from materials_db.twins.ti_perlin import PerlinSigned

    for dim in (2, 3):
        p = (torch.rand(5000, dim, generator=torch.Generator().manual_seed(dim)) * 40 - 20).requires_grad_(True)
        a, b = perlin_signed_torch(p), PerlinSigned.apply(p)
        assert float((a - b).detach().abs().max()) <= 1e-6
        w = torch.randn(5000)
        (ga,), (gb,) = _grads(a, (p,), w), _grads(b, (p,), w)
        assert float((ga - gb).abs().max()) <= 1e-4


def test_fused_fbm_matches_torch():
    from materials_db.twins.noise import _fbm_torch
    from materials_db.twins.ti_perlin import Fbm

    for dim in (2, 3):
        for detail, norm in ((2.0, True), (3.5, True), (4.3, False)):
            p = (torch.rand(4000, dim, generator=torch.Generator().manual_seed(1)) * 10).requires_grad_(True)
            r = torch.tensor(0.6, requires_grad=True)
            lac = torch.tensor(2.2, requires_grad=True)
            a = _fbm_torch(p, detail, r, lac, norm)
            b = Fbm.apply(p, r, lac, detail, norm)
            assert float((a - b).detach().abs().max()) <= 1e-6
            w = torch.randn(4000, generator=torch.Generator().manual_seed(2))
            for x, y in zip(_grads(a, (p, r, lac), w), _grads(b, (p, r, lac), w)):
                assert float((x - y).abs().max()) <= 1e-4 * max(1.0, float(x.abs().max()))


@pytest.mark.parametrize("dims,feature", [("2D", "F1"), ("3D", "F1"), ("2D", "DISTANCE_TO_EDGE")])
def test_voronoi_kernels_match_torch(dims, feature):
    from materials_db.twins.voronoi import voronoi_texture

    before = get_backend()
    try:
        res = {}
        for be in ("torch", "taichi"):
            set_backend(be)
            v = (torch.rand(3000, 3, generator=torch.Generator().manual_seed(3)) * 2).requires_grad_(True)
            rnd = torch.tensor(0.8, requires_grad=True)
            sc = torch.tensor(4.0, requires_grad=True)
            out = voronoi_texture(v, scale=sc, randomness=rnd, dimensions=dims, feature=feature)
            w = torch.randn(3000, generator=torch.Generator().manual_seed(4))
            loss = (out["Distance"] * w).sum() + out["Position"].sum()
            res[be] = (out["Distance"].detach(), out["Color"], _grads(loss, (v, rnd, sc), 1.0))
        (da, ca, ga), (db, cb, gb) = res["torch"], res["taichi"]
        assert float((da - db).abs().max()) <= 1e-6
        assert float((ca - cb).abs().max()) <= 1e-6
        for x, y in zip(ga, gb):
            assert float((x - y).abs().max()) <= 1e-3 * max(1.0, float(x.abs().max()))
    finally:
        set_backend(before)
