"""The Voronoi Texture node (2D and 3D; F1, F2, Smooth F1, Distance to Edge; fractal detail), after blenlib.

Cells are visited in Blender's loop order with Blender's strict `<` comparisons, so ties resolve the same way.
"""

from __future__ import annotations

import itertools

import torch

from .backend import core_backend
from .hashing import hash_int2_to_float2, hash_int2_to_float3, hash_int3_to_float3, lattice_table

FEATURES = ("F1", "F2", "SMOOTH_F1", "DISTANCE_TO_EDGE")
METRICS = ("EUCLIDEAN", "MANHATTAN", "CHEBYCHEV", "MINKOWSKI")


def _offsets(dim: int, r: int) -> list[tuple[int, ...]]:
    # Blender loops k (z) outermost, then j (y), then i (x) innermost.
    rng = range(-r, r + 1)
    if dim == 2:
        return [(i, j) for j in rng for i in rng]
    return [(i, j, k) for k in rng for j in rng for i in rng]


def _distance(a: torch.Tensor, b: torch.Tensor, metric: str, exponent) -> torch.Tensor:
    d = a - b
    if metric == "EUCLIDEAN":
        # sqrt of a sum of squares; the clamp keeps the gradient finite exactly at a feature point
        return torch.sqrt(torch.clamp((d * d).sum(-1), min=1e-20))
    if metric == "MANHATTAN":
        return d.abs().sum(-1)
    if metric == "CHEBYCHEV":
        return d.abs().amax(-1)
    if metric == "MINKOWSKI":
        return (d.abs() ** exponent).sum(-1) ** (1.0 / exponent)
    raise ValueError(f"unknown metric {metric!r}")


class _Cells:
    """Hash tables of feature-point offsets and colours around the cells of `coord`."""

    def __init__(self, coord: torch.Tensor, radius: int):
        self.dim = coord.shape[-1]
        cell = torch.floor(coord).detach()
        self.cell = cell
        self.local = coord - cell
        # Blender 4.x+ hashes the integer cell with PCG (hash_int*_to_float*), not the float lookup3 hash.
        cells = [cell[..., k].to(torch.int64) for k in range(self.dim)]
        pad = (-radius, radius)
        if self.dim == 2:
            self.point = lattice_table(cells, lambda c: hash_int2_to_float2(*c), pad)
            self.color = lattice_table(cells, lambda c: hash_int2_to_float3(*c), pad)
        else:
            self.point = lattice_table(cells, lambda c: hash_int3_to_float3(*c), pad)
            self.color = self.point

    def offset_t(self, off, like):
        return torch.tensor(off, dtype=like.dtype, device=like.device)


def _f1_f2(cells: _Cells, params: dict, second: bool):
    best_d = torch.full(cells.local.shape[:-1], float("inf"), device=cells.local.device)
    best_d2 = best_d.clone()
    zeros = torch.zeros_like(cells.local)
    off1, pos1, off2, pos2 = zeros, zeros, zeros, zeros
    for off in _offsets(cells.dim, 1):
        o = cells.offset_t(off, cells.local)
        point = o + cells.point(list(off)) * params["randomness"]
        d = _distance(point, cells.local, params["metric"], params["exponent"])
        closer = d < best_d
        if second:
            nearer2 = (~closer) & (d < best_d2)
            best_d2 = torch.where(closer, best_d, torch.where(nearer2, d, best_d2))
            off2 = torch.where(closer[..., None], off1, torch.where(nearer2[..., None], o.expand_as(off2), off2))
            pos2 = torch.where(closer[..., None], pos1, torch.where(nearer2[..., None], point, pos2))
        best_d = torch.where(closer, d, best_d)
        off1 = torch.where(closer[..., None], o.expand_as(off1), off1)
        pos1 = torch.where(closer[..., None], point, pos1)
    if second:
        best_d, off1, pos1 = best_d2, off2, pos2
    color = _color_at(cells, off1)
    return best_d, color, pos1 + cells.cell


def _color_at(cells: _Cells, off: torch.Tensor) -> torch.Tensor:
    """Colour hash of the winning cell: gather from the per-offset tables by the chosen integer offset."""
    out = torch.zeros(*off.shape[:-1], 3, device=off.device)
    for o in _offsets(cells.dim, 1):
        hit = (off == torch.tensor(o, dtype=off.dtype, device=off.device)).all(-1)
        out = torch.where(hit[..., None], cells.color(list(o)), out)
    return out


def _smoothstep01(x: torch.Tensor) -> torch.Tensor:
    t = torch.clamp(x, 0.0, 1.0)
    return torch.where(x < 0, torch.zeros_like(x), torch.where(x >= 1, torch.ones_like(x), t * t * (3.0 - 2.0 * t)))


def _smooth_f1(cells: _Cells, params: dict, calc_color: bool = True):
    s = params["smoothness"]
    sd = torch.zeros(cells.local.shape[:-1], device=cells.local.device)
    sc = torch.zeros(*cells.local.shape[:-1], 3, device=cells.local.device)
    sp = torch.zeros_like(cells.local)
    first = True
    for off in _offsets(cells.dim, 2):
        o = cells.offset_t(off, cells.local)
        point = o + cells.point(list(off)) * params["randomness"]
        d = _distance(point, cells.local, params["metric"], params["exponent"])
        h = torch.ones_like(d) if first else _smoothstep01(0.5 + 0.5 * (sd - d) / s)
        first = False
        corr = s * h * (1.0 - h)
        sd = (1.0 - h) * sd + h * d - corr
        corr = corr / (1.0 + 3.0 * s)
        if calc_color:
            sc = (1.0 - h[..., None]) * sc + h[..., None] * cells.color(list(off)) - corr[..., None]
        sp = (1.0 - h[..., None]) * sp + h[..., None] * point - corr[..., None]
    return sd, sc, cells.cell + sp


def _distance_to_edge(cells: _Cells, params: dict) -> torch.Tensor:
    to_closest = torch.zeros_like(cells.local)
    best = torch.full(cells.local.shape[:-1], float("inf"), device=cells.local.device)
    vecs = []
    for off in _offsets(cells.dim, 1):
        o = cells.offset_t(off, cells.local)
        v = o + cells.point(list(off)) * params["randomness"] - cells.local
        vecs.append(v)
        d = (v * v).sum(-1)
        closer = d < best
        best = torch.where(closer, d, best)
        to_closest = torch.where(closer[..., None], v, to_closest)
    out = torch.full_like(best, float("inf"))
    for v in vecs:
        perp = v - to_closest
        ok = (perp * perp).sum(-1) > 0.0001
        n = perp / torch.sqrt(torch.clamp((perp * perp).sum(-1, keepdim=True), min=1e-20))
        de = (((to_closest + v) / 2.0) * n).sum(-1)
        out = torch.where(ok, torch.minimum(out, de), out)
    return out


def _fused(coord, params, feature, metric, zero_input, dim, normalize, max_distance):
    """The taichi kernels for the common single-octave euclidean cases; None when they do not apply."""
    if core_backend() != "taichi" or not zero_input or metric != "EUCLIDEAN":
        return None
    if feature == "DISTANCE_TO_EDGE" and dim == 2:
        # lazy: loads Taichi, which importing this module does not
        from .ti_voronoi import VoronoiEdge  # lazy: importing taichi starts its runtime; only its backend needs it

        d = VoronoiEdge.apply(coord, params["randomness"])
        if normalize:
            d = d / (0.5 + 0.5 * params["randomness"])
        zeros = torch.zeros(*d.shape, 3)
        return {"Distance": d, "Color": zeros, "Position": zeros}
    smooth = feature == "SMOOTH_F1" and float(params["smoothness"].detach()) != 0.0
    if feature in ("F1", "SMOOTH_F1") and not smooth:
        # lazy: loads Taichi, which importing this module does not
        from .ti_voronoi import VoronoiF1

        d, c, p = VoronoiF1.apply(coord, params["randomness"])
        if normalize:
            d = d / max_distance
        sc = params["scale"]
        p = p / sc if not (isinstance(sc, float) and sc == 0.0) else torch.zeros_like(p)
        if dim == 2:
            p = torch.cat([p, torch.zeros_like(p[..., :1])], -1)
        return {"Distance": d, "Color": c, "Position": p}
    return None


def voronoi_texture(
    vector: torch.Tensor,
    scale=5.0,
    detail=0.0,
    roughness=0.5,
    lacunarity=2.0,
    smoothness=1.0,
    exponent=0.5,
    randomness=1.0,
    dimensions: str = "3D",
    feature: str = "F1",
    distance: str = "EUCLIDEAN",
    normalize: bool = False,
) -> dict[str, torch.Tensor]:
    """The Voronoi Texture node: {'Distance', 'Color', 'Position'} (Position is 3D; z = 0 in 2D)."""
    dim = {"2D": 2, "3D": 3}.get(dimensions)
    if dim is None:
        raise ValueError(f"voronoi twin supports 2D and 3D, not {dimensions}")
    if feature not in FEATURES:
        raise ValueError(f"voronoi twin supports features {FEATURES}, not {feature}")
    detail = min(max(float(detail), 0.0), 15.0)
    roughness_v = torch.clamp(torch.as_tensor(roughness, dtype=torch.float32), 0.0, 1.0)
    params = {
        "metric": distance,
        "exponent": exponent,
        "randomness": torch.clamp(torch.as_tensor(randomness, dtype=torch.float32), 0.0, 1.0),
        "smoothness": torch.clamp(torch.as_tensor(smoothness, dtype=torch.float32) / 2.0, 0.0, 0.5),
    }
    sc = scale.unsqueeze(-1) if torch.is_tensor(scale) and scale.dim() > 0 else scale
    params["scale"] = sc
    coord = vector[..., :dim] * sc
    half = torch.full((dim,), 1.0) * (0.5 + 0.5 * params["randomness"])
    max_distance = _distance(torch.zeros(dim), half, distance, exponent)
    zero_input = detail == 0.0 or float(roughness_v) == 0.0
    n_oct = int(torch.ceil(torch.tensor(detail)).item())
    rmd = detail - float(int(detail))

    fused = _fused(coord, params, feature, distance, zero_input, dim, normalize, max_distance)
    if fused is not None:
        return fused

    if feature == "DISTANCE_TO_EDGE":
        max_distance = 0.5 + 0.5 * params["randomness"]
        amplitude, max_amp, sc_oct = 1.0, max_distance, 1.0
        dist = None
        for i in range(n_oct + 1):
            od = _distance_to_edge(_Cells(coord * sc_oct, 1), params)
            if zero_input:
                dist = od
                break
            if dist is None:
                dist = torch.full_like(od, 8.0)
            if i <= detail:
                max_amp = (1 - amplitude) * max_amp + amplitude * (max_distance / sc_oct)
                dist = (1 - amplitude) * dist + amplitude * torch.minimum(dist, od / sc_oct)
                sc_oct *= lacunarity
                amplitude = amplitude * roughness_v
            elif rmd != 0.0:
                lerp_amp = (1 - amplitude) * max_amp + amplitude * (max_distance / sc_oct)
                max_amp = (1 - rmd) * max_amp + rmd * lerp_amp
                lerp_d = (1 - amplitude) * dist + amplitude * torch.minimum(dist, od / sc_oct)
                dist = (1 - rmd) * dist + rmd * torch.minimum(dist, lerp_d)
        if normalize:
            dist = dist / max_amp
        zeros = torch.zeros(*dist.shape, 3)
        return {"Distance": dist, "Color": zeros, "Position": zeros}

    if feature == "F2":
        max_distance = max_distance * 2.0

    def octave(c):
        cells = _Cells(c, 2 if feature == "SMOOTH_F1" else 1)
        if feature == "SMOOTH_F1" and float(params["smoothness"].detach()) != 0.0:
            return _smooth_f1(cells, params)
        return _f1_f2(cells, params, second=(feature == "F2"))

    amplitude, max_amp, sc_oct = 1.0, 0.0, 1.0
    out_d = out_c = out_p = None
    for i in range(n_oct + 1):
        d, c, p = octave(coord * sc_oct)
        if zero_input:
            max_amp, out_d, out_c, out_p = 1.0, d, c, p
            break
        if out_d is None:
            out_d = torch.zeros_like(d)
            out_c = torch.zeros_like(c)
            out_p = torch.zeros_like(p)
        if i <= detail:
            max_amp = max_amp + amplitude
            out_d = out_d + d * amplitude
            out_c = out_c + c * amplitude
            out_p = (1 - amplitude) * out_p + amplitude * (p / sc_oct)
            sc_oct *= lacunarity
            amplitude = amplitude * roughness_v
        elif rmd != 0.0:
            max_amp = (1 - rmd) * max_amp + rmd * (max_amp + amplitude)
            out_d = (1 - rmd) * out_d + rmd * (out_d + d * amplitude)
            out_c = (1 - rmd) * out_c + rmd * (out_c + c * amplitude)
            out_p = (1 - rmd) * out_p + rmd * ((1 - amplitude) * out_p + amplitude * (p / sc_oct))
    if normalize:
        out_d = out_d / (max_amp * max_distance)
        out_c = out_c / max_amp
    out_p = out_p / sc if not (isinstance(sc, float) and sc == 0.0) else torch.zeros_like(out_p)
    if dim == 2:
        out_p = torch.cat([out_p, torch.zeros_like(out_p[..., :1])], -1)
    return {"Distance": out_d, "Color": out_c, "Position": out_p}
