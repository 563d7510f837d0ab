"""Evaluate a material graph with the torch twins: texture maps at a resolution, or values at given UVs."""

from __future__ import annotations

from typing import Any

import torch

from .graph import Graph, GraphError
from .layout import UNIT_RECT, texel_size
from .vocabulary import NODES, out_kind
from .twins.backend import use_fused
from .twins.fused import Unsupported, evaluate_fused

LUMA = torch.tensor([0.2126, 0.7152, 0.0722])  # Blender's colour -> float conversion for linear Rec.709


def uv_grid(resolution: int | tuple[int, int], device: str = "cpu",
            uv_rect: tuple[float, float, float, float] = UNIT_RECT) -> torch.Tensor:
    """Texel-centre UVs (H, W, 3) with z = 0, image oriented: row 0 is the top (v near the rectangle's top).

    `uv_rect` (u0, v0, width, height): the UV rectangle the map covers, one tile [0, 1]^2 by default."""
    h, w = (resolution, resolution) if isinstance(resolution, int) else resolution
    u0, v0, su, sv = (float(x) for x in uv_rect)
    # the same float ops as the fused kernels (u0 + t * su), which for the unit tile is t itself
    u = u0 + (torch.arange(w, device=device, dtype=torch.float32) + 0.5) / w * su
    v = v0 + (1.0 - (torch.arange(h, device=device, dtype=torch.float32) + 0.5) / h) * sv
    vv, uu = torch.meshgrid(v, u, indexing="ij")
    return torch.stack([uu, vv, torch.zeros_like(uu)], -1)


class _Context:
    """What twins may ask of the evaluator: conversions, ramp stops, the map layout."""

    def __init__(self, graph: Graph, values: dict[str, Any], uv: torch.Tensor, uv_size: float,
                 params: dict | None = None, bump_texel: float | None = None):
        self.graph, self.values, self.uv, self.uv_size = graph, values, uv, uv_size
        self.params, self._bump_texel = params, bump_texel
        self.node: str | None = None  # id of the node whose twin is running

    def bump_texel(self) -> float:
        """UV size of the bake texel that sets Bump's differentials (see twins/bump.py)."""
        if self._bump_texel is None:
            raise GraphError(f"material {self.graph.name!r}: node {self.node!r} (Bump) needs bump_texel, the UV size "
                             "of one texel of the bake it reproduces")
        return self._bump_texel

    def input_at(self, socket: str, uv: torch.Tensor):
        """The current node's input `socket` evaluated again at other UVs (Bump's offset Height samples)."""
        node = self.graph.nodes[self.node]
        raw = node.get("inputs", {}).get(socket)
        if not (isinstance(raw, dict) and "link" in raw):
            return self.resolve(raw) if raw is not None else NODES[node["type"]].input(socket).default
        src, _, out = raw["link"].partition(".")
        val = evaluate_sockets(self.graph, uv, self.params, self.uv_size, [(src, out)], self._bump_texel)[(src, out)]
        return _convert(val, out_kind(self.graph.nodes[src], out), NODES[node["type"]].input(socket).kind)

    def as_float(self, x):
        # Mix in FLOAT mode receives its A/B through colour-typed sockets: a float was broadcast to 3 equal channels
        x = torch.as_tensor(x, dtype=torch.float32)
        return x[..., 0] if x.dim() > 0 and x.shape[-1] == 3 else x

    def as_color(self, x):
        x = torch.as_tensor(x, dtype=torch.float32)
        if x.dim() > 0 and x.shape[-1] == 3:
            return x
        return x.unsqueeze(-1).expand(*x.shape, 3) if x.dim() > 0 else x.expand(3)

    def as_map(self, x):
        x = torch.as_tensor(x, dtype=torch.float32)
        if x.shape == self.uv.shape[:-1]:
            return x
        return x.expand(self.uv.shape[:-1]).clone()

    def ramp(self, elements):
        pos, col = [], []
        for e in elements:
            p = self.resolve(e["position"])
            c = torch.as_tensor(self.resolve(e["color"]), dtype=torch.float32)
            if c.shape[-1] == 3:
                c = torch.cat([c, torch.ones(1)])
            pos.append(torch.as_tensor(p, dtype=torch.float32).reshape(()))
            col.append(c)
        return torch.stack(pos), torch.stack(col)

    def resolve(self, v):
        if isinstance(v, dict) and "param" in v:
            return self.values[v["param"]]
        return v


def _convert(value: torch.Tensor, from_kind: str, to_kind: str) -> torch.Tensor:
    """Blender's implicit socket conversions between float, colour and vector."""
    if from_kind == to_kind or to_kind is None:
        return value
    if from_kind == "float":
        return value.unsqueeze(-1).expand(*value.shape, 3) if value.dim() > 0 else value.expand(3)
    if to_kind == "float":
        if from_kind == "color":
            return (value * LUMA.to(value.device)).sum(-1)
        return value.mean(-1)  # vector -> float: average of components
    return value  # colour <-> vector: same three numbers


def evaluate_sockets(graph: Graph, uv: torch.Tensor, params: dict | None = None, uv_size: float = 1.0,
                     wanted: list[tuple[str, str]] | None = None,
                     bump_texel: float | None = None) -> dict[tuple[str, str], torch.Tensor]:
    """Evaluate node outputs at UV coordinates `uv` (..., 3). Returns {(node, output): tensor}.

    `bump_texel`: UV size of one texel of the Cycles bake a Bump node reproduces (needed only by Bump).
    """
    values = graph.values(params)
    ctx = _Context(graph, values, uv, uv_size, params, bump_texel)
    cache: dict[str, dict[str, torch.Tensor]] = {}
    visiting: set[str] = set()

    def node_out(nid: str) -> dict[str, torch.Tensor]:
        if nid in cache:
            return cache[nid]
        if nid in visiting:
            raise GraphError(f"material {graph.name!r}: cycle through node {nid!r}")
        visiting.add(nid)
        node = graph.nodes[nid]
        spec = NODES[node["type"]]
        if node["type"] == "ShaderNodeTexCoord":
            cache[nid] = {"UV": uv}
            return cache[nid]
        props = dict(spec.props)
        for k, v in node.get("props", {}).items():
            props[k] = values[v["param"]] if isinstance(v, dict) and "param" in v else v
        inputs: dict[str, Any] = {}
        for sock in spec.inputs:
            raw = node.get("inputs", {}).get(sock.name, sock.default)
            if isinstance(raw, dict) and "link" in raw:
                src, _, out = raw["link"].partition(".")
                val = node_out(src)[out]
                val = _convert(val, out_kind(graph.nodes[src], out), sock.kind)
            elif isinstance(raw, dict) and "param" in raw:
                val = values[raw["param"]]
                if sock.scalar:
                    val = float(val)
            elif raw is None:
                val = uv if sock.kind == "vector" and sock.name == "Vector" else None
            else:
                val = raw if sock.scalar else torch.as_tensor(raw, dtype=torch.float32)
                if torch.is_tensor(val) and sock.kind == "color" and val.shape[-1:] == (4,):
                    val = val[..., :3]
            inputs[sock.name] = val
        if spec.twin is None:
            cache[nid] = inputs
        else:
            with torch.profiler.record_function(f"node:{nid}"):  # per-node cost in profiles; ~free otherwise
                ctx.node = nid
                cache[nid] = spec.twin(inputs, props, ctx)
        visiting.discard(nid)
        return cache[nid]

    # constants created inside twins (torch.tensor(...)) land on the coordinates' device
    with torch.device(uv.device):
        if wanted is None:
            return {(graph.output, k): v for k, v in node_out(graph.output).items()}
        return {(n, o): node_out(n)[o] for n, o in wanted}


def evaluate(graph: Graph, params: dict | None = None, resolution: int | tuple[int, int] = 256,
             uv_size: float = 1.0, device: str = "cpu", bump_texel: float | None = None,
             with_normal: bool = True, uv_rect: tuple[float, float, float, float] = UNIT_RECT
             ) -> dict[str, torch.Tensor]:
    """Texture maps of a material: base_color (H,W,3), roughness, metallic, height (H,W), normal (H,W,3).

    params: normalised [0, 1] tensors by parameter name (missing ones take defaults); discrete parameters by
    value. Differentiable w.r.t. every continuous parameter tensor. Maps are image oriented (row 0 = top).
    `uv_size`: metres per UV unit (scales the bump normal).
    `bump_texel`: UV size of a texel of the Cycles bake the normal map reproduces; Bump's height differences use
    Filter Width x half of it (Blender's bake differentials). Default: this map's texel, so the normal map is
    Cycles' one-sample NORMAL bake at `resolution` (twins/bump.py).
    `with_normal=False`: base_color, roughness and metallic only (what the renderer reads); skips the Bump's
    three height evaluations, which cost about as much as the rest of a bumpy material.
    `uv_rect` (u0, v0, width, height): the UV rectangle the maps cover. Blender evaluates a node tree wherever a
    surface's UVs go, and most patterns are not periodic (Perlin noise, per-brick and per-cell randomness), so a
    renderer that repeats maps should evaluate the rectangle its surfaces span, not one tile.
    """
    if bump_texel is None:
        bump_texel = texel_size(resolution, uv_rect)

    if use_fused(device):  # one generated kernel for the whole graph (twins/fused.py)
        try:
            return evaluate_fused(graph, params, resolution, uv_size, device, bump_texel, with_normal, uv_rect)
        except Unsupported:
            pass  # outside the compiler's reach: node by node below
    uv = uv_grid(resolution, device, uv_rect)
    bsdf_id = graph.output
    bsdf = graph.nodes[bsdf_id]
    wanted = [(bsdf_id, k) for k in ("Base Color", "Roughness", "Metallic", "Normal")[:4 if with_normal else 3]]
    height_src = None
    normal_link = bsdf.get("inputs", {}).get("Normal")
    if with_normal and isinstance(normal_link, dict) and "link" in normal_link:
        src = normal_link["link"].split(".")[0]
        raw = graph.nodes[src].get("inputs", {}).get("Height")
        if graph.nodes[src]["type"] == "ShaderNodeBump" and isinstance(raw, dict) and "link" in raw:
            hs, _, ho = raw["link"].partition(".")
            height_src = (hs, ho)
            wanted.append(height_src)
    got = evaluate_sockets(graph, uv, params, uv_size, wanted, bump_texel)
    shape = uv.shape[:-1]
    base = torch.as_tensor(got[(bsdf_id, "Base Color")], dtype=torch.float32, device=device)
    maps = {
        "base_color": base.expand(*shape, 3),
        "roughness": torch.as_tensor(got[(bsdf_id, "Roughness")], dtype=torch.float32).expand(shape),
        "metallic": torch.as_tensor(got[(bsdf_id, "Metallic")], dtype=torch.float32).expand(shape),
    }
    if not with_normal:
        return maps
    normal = got[(bsdf_id, "Normal")]
    maps["normal"] = normal if normal is not None else torch.tensor([0.0, 0.0, 1.0], device=device).expand(*shape, 3)
    if height_src is not None:
        kind = out_kind(graph.nodes[height_src[0]], height_src[1])
        maps["height"] = _convert(got[height_src], kind, "float").expand(shape)
    else:
        maps["height"] = torch.zeros(shape, device=device)
    return maps
