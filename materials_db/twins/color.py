"""Color Ramp and Mix (colour) nodes.

Color Ramp follows BKE_colorband_evaluate (what fields and EEVEE use). Cycles bakes the ramp into a 256-entry
lookup table with linear interpolation between entries, so Cycles renders differ from this by < 1e-3 on linear
ramps (the issue's tolerance for ramps). Mix follows Cycles' svm_mix; the field implementation in Blender 5.0
gives the same values for every blend mode here (checked by the golden tests, LIGHTEN included).
"""

from __future__ import annotations

import torch


def color_ramp(fac: torch.Tensor, positions: torch.Tensor, colors: torch.Tensor, interpolation: str = "LINEAR"):
    """Evaluate a colour ramp. positions (K,), colors (K, 4) RGBA (differentiable), fac (...).

    Returns {'Color': (..., 3), 'Alpha': (...)}. Stops are sorted by position as Blender keeps them sorted.
    """
    order = torch.argsort(positions.detach())
    pos = positions[order]
    col = colors[order]
    k = pos.shape[0]
    flat = fac.reshape(-1)
    if k == 1:
        out = col[0].expand(flat.shape[0], 4)
    else:
        # index of the first stop strictly right of fac (Blender searches `pos > in`)
        right = torch.searchsorted(pos.detach().contiguous(), flat.detach().contiguous(), right=True)
        below = (right == 0).unsqueeze(-1)
        above = (right == k).unsqueeze(-1)
        r = torch.clamp(right, 1, k - 1)
        # Select stops with one-hot matmuls, not index gathers: a gather's backward is a scatter-add into K
        # entries from every texel (serial atomics), which dominated the whole material's backward pass.
        oh_r = torch.nn.functional.one_hot(r, k).to(flat.dtype)
        oh_l = torch.nn.functional.one_hot(r - 1, k).to(flat.dtype)
        oh_first = torch.nn.functional.one_hot(torch.zeros_like(r), k).to(flat.dtype)
        oh_last = torch.nn.functional.one_hot(torch.full_like(r, k - 1), k).to(flat.dtype)
        if interpolation == "CONSTANT":
            w = oh_l
        else:
            pl, pr = oh_l @ pos, oh_r @ pos
            span = pr - pl
            # fac measured from the right stop, as Blender does: 1 at the left stop, 0 at the right one
            t = torch.where(span != 0, (flat - pr) / torch.where(span != 0, -span, torch.ones_like(span)), torch.zeros_like(flat))
            if interpolation == "EASE":
                t = t * t * (3.0 - 2.0 * t)
            elif interpolation != "LINEAR":
                raise ValueError(f"colour ramp twin supports LINEAR, EASE and CONSTANT, not {interpolation}")
            w = oh_r * (1.0 - t).unsqueeze(-1) + oh_l * t.unsqueeze(-1)
        w = torch.where(below, oh_first, torch.where(above, oh_last, w))
        out = w @ col
    out = out.reshape(*fac.shape, 4)
    return {"Color": out[..., :3], "Alpha": out[..., 3]}


BLEND_TYPES = (
    "MIX", "ADD", "MULTIPLY", "SUBTRACT", "SCREEN", "DIVIDE", "DIFFERENCE", "DARKEN", "LIGHTEN",
    "OVERLAY", "SOFT_LIGHT", "LINEAR_LIGHT",
)


def mix_color(factor, a: torch.Tensor, b: torch.Tensor, blend_type: str = "MIX", clamp_factor: bool = True,
              clamp_result: bool = False) -> dict[str, torch.Tensor]:
    """The Mix node in colour mode: {'Result': (..., 3)}."""
    t = torch.as_tensor(factor, dtype=torch.float32)
    if clamp_factor:
        t = torch.clamp(t, 0.0, 1.0)
    if t.dim() > 0:
        t = t.unsqueeze(-1)
    a = torch.as_tensor(a, dtype=torch.float32)
    b = torch.as_tensor(b, dtype=torch.float32)
    tm = 1.0 - t
    if blend_type == "MIX":
        r = tm * a + t * b
    elif blend_type == "ADD":
        r = a + t * b
    elif blend_type == "MULTIPLY":
        r = a * (tm + t * b)
    elif blend_type == "SUBTRACT":
        r = a - t * b
    elif blend_type == "SCREEN":
        r = 1.0 - (tm + t * (1.0 - b)) * (1.0 - a)
    elif blend_type == "DIVIDE":
        safe = torch.where(b != 0, b, torch.ones_like(b))
        r = torch.where(b != 0, tm * a + t * a / safe, a)
    elif blend_type == "DIFFERENCE":
        r = tm * a + t * (a - b).abs()
    elif blend_type == "DARKEN":
        r = tm * a + t * torch.minimum(a, b)
    elif blend_type == "LIGHTEN":
        r = tm * a + t * torch.maximum(a, b)
    elif blend_type == "OVERLAY":
        r = torch.where(a < 0.5, a * (tm + 2.0 * t * b), 1.0 - (tm + 2.0 * t * (1.0 - b)) * (1.0 - a))
    elif blend_type == "SOFT_LIGHT":
        scr = 1.0 - (1.0 - b) * (1.0 - a)
        r = tm * a + t * ((1.0 - a) * b * a + a * scr)
    elif blend_type == "LINEAR_LIGHT":
        r = torch.where(b > 0.5, a + t * (2.0 * (b - 0.5)), a + t * (2.0 * b - 1.0))
    else:
        raise ValueError(f"mix twin does not support blend type {blend_type}")
    if clamp_result:
        r = torch.clamp(r, 0.0, 1.0)
    return {"Result": r}


def mix_float(factor, a, b, clamp_factor: bool = True) -> dict[str, torch.Tensor]:
    """The Mix node in float mode: {'Result'}."""
    t = torch.as_tensor(factor, dtype=torch.float32)
    if clamp_factor:
        t = torch.clamp(t, 0.0, 1.0)
    return {"Result": (1.0 - t) * a + t * b}
