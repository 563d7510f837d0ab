"""The Bump node on a flat UV-mapped surface: height -> tangent-space normal, as Cycles computes it.

Cycles (Blender 5.0, SVM `svm_node_set_bump` in kernel/svm/displace.h; the offset evaluations in the `*_bump_dx/dy`
variants of the texture-coordinate/attribute nodes) evaluates the Height sub-graph three times: at the shading point
P and at P + fw * dP.dx and P + fw * dP.dy, where fw is the node's Filter Width input (default 0.1) and dP the ray
differential. With Rx = dP.dy x N, Ry = N x dP.dx, det = dP.dx . Rx it outputs

    n = normalize(fw * |det| * N - distance * sign(det) * ((h_x - h_c) * Rx + (h_y - h_c) * Ry))
    normal = normalize(strength * n + (1 - strength) * N)      (strength clamped to >= 0; n = 0 -> N)

i.e. forward differences with a step of fw * |dP|. The shading point only carries a compact differential (one
length r = (|dP.dx| + |dP.dy|) / 2); `differential_from_compact(Ng, r)` expands it along
`make_orthonormals(Ng)`, which for a surface facing +Z (Ng = (0, 0, 1), tangent +u) is
dP.dx = r (1, -1) / sqrt(2), dP.dy = r (1, 1) / sqrt(2): the two offsets are DIAGONAL in UV. Then det = r^2 and

    n = normalize(eps * N - distance * (dh_a * a + dh_b * b)),  eps = fw * r,  a = (1, -1)/sqrt2, b = (1, 1)/sqrt2,
    dh_a = h(P + eps a) - h(P),  dh_b = h(P + eps b) - h(P).

In a bake, Blender sets the per-texel differentials to HALF a texel (`bake_differentials` in render/intern/bake.cc
scales by 0.5), so r = 0.5 * texel (in metres: 0.5 * texel_uv * uv_size), and each jittered sample keeps that r.
Measured against Cycles bakes of u^2 / v^2 heights: the gradient bias is eps / sqrt(2) along u for both (the
diagonal frame) and eps = fw * 0.5 texel.
"""

from __future__ import annotations

import math

import torch

SQRT_HALF = math.sqrt(0.5)
# Offset directions in (u, v) of dP.dx and dP.dy for a surface facing +Z with its tangent along +u (see above).
DIR_A = (SQRT_HALF, -SQRT_HALF)
DIR_B = (SQRT_HALF, SQRT_HALF)


def bump_step(filter_width, texel: float, uv_size: float = 1.0) -> torch.Tensor:
    """Forward-difference step eps in metres: filter width x Blender's bake differential (half a `texel` in UV)."""
    fw = torch.as_tensor(filter_width, dtype=torch.float32)
    return fw * (0.5 * texel * uv_size)


def bump_offsets(filter_width, texel: float, uv_size: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
    """UV offsets (3,) (z = 0) of the two extra Height evaluations: eps * a and eps * b, in UV units."""
    e = bump_step(filter_width, texel, uv_size) / uv_size
    zero = torch.zeros_like(e)
    return (torch.stack([e * DIR_A[0], e * DIR_A[1], zero]),
            torch.stack([e * DIR_B[0], e * DIR_B[1], zero]))


def bump_normal(h_c: torch.Tensor, h_a: torch.Tensor, h_b: torch.Tensor, strength=1.0, distance=1.0,
                invert: bool = False, step=1.0) -> torch.Tensor:
    """Cycles' bump from the heights at P, P + eps a, P + eps b -> tangent-space normals (..., 3) in [-1, 1].

    `step` is eps in metres (`bump_step`); all of h_* broadcast together; differentiable in every tensor input.
    """
    d = -torch.as_tensor(distance, dtype=torch.float32) if invert else torch.as_tensor(distance, dtype=torch.float32)
    da, db = h_a - h_c, h_b - h_c
    eps = torch.as_tensor(step, dtype=torch.float32)
    gu = da * DIR_A[0] + db * DIR_B[0]  # surface-gradient components (times eps) along u and v
    gv = da * DIR_A[1] + db * DIR_B[1]
    shape = torch.broadcast_shapes(gu.shape, eps.shape, d.shape)
    n = torch.stack([(-d * gu).expand(shape), (-d * gv).expand(shape), eps.expand(shape)], -1)
    length = n.norm(dim=-1, keepdim=True)
    flat = torch.tensor([0.0, 0.0, 1.0], device=n.device)
    # safe_normalize; a zero vector (eps = 0 and no height change) gives the input normal, as in Cycles
    n = torch.where(length > 0, n / length.clamp_min(1e-30), flat)
    s = torch.clamp(torch.as_tensor(strength, dtype=torch.float32), min=0.0)
    if s.dim() > 0:
        s = s.unsqueeze(-1)
    return torch.nn.functional.normalize(s * n + (1.0 - s) * flat, dim=-1)


def bump_node(inputs: dict, props: dict, ctx) -> dict:
    """The vocabulary's Bump twin: evaluates its Height link again at the two offset UVs (through `ctx`)."""
    h_c = ctx.as_map(inputs["Height"])
    fw = inputs["Filter Width"]
    texel = ctx.bump_texel()
    off_a, off_b = bump_offsets(fw, texel, ctx.uv_size)
    h_a = ctx.as_map(ctx.input_at("Height", ctx.uv + off_a.to(ctx.uv.device)))
    h_b = ctx.as_map(ctx.input_at("Height", ctx.uv + off_b.to(ctx.uv.device)))
    n = bump_normal(h_c, h_a, h_b, inputs["Strength"], inputs["Distance"], bool(props["invert"]),
                    bump_step(fw, texel, ctx.uv_size))
    return {"Normal": n}
