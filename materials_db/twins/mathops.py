"""Math, Map Range, Clamp and Mapping nodes (Cycles' svm_math_util / map_range / mapping_util semantics)."""

from __future__ import annotations

import torch

MATH_OPS = (
    "ADD", "SUBTRACT", "MULTIPLY", "DIVIDE", "MULTIPLY_ADD", "POWER", "MINIMUM", "MAXIMUM", "ABSOLUTE",
    "LESS_THAN", "GREATER_THAN", "SIGN", "ROUND", "FLOOR", "CEIL", "FRACT", "MODULO", "FLOORED_MODULO",
    "SNAP", "PINGPONG", "SINE", "COSINE", "SQRT",
)


def _safe_div(a, b):
    return torch.where(b != 0, a / torch.where(b != 0, b, torch.ones_like(b)), torch.zeros_like(a * b))


def math_node(a, b=0.5, c=0.5, operation: str = "ADD", use_clamp: bool = False) -> dict[str, torch.Tensor]:
    """The Math node: {'Value'}."""
    a = torch.as_tensor(a, dtype=torch.float32)
    b = torch.as_tensor(b, dtype=torch.float32)
    c = torch.as_tensor(c, dtype=torch.float32)
    a, b, c = torch.broadcast_tensors(a, b, c)
    op = operation
    if op == "ADD":
        r = a + b
    elif op == "SUBTRACT":
        r = a - b
    elif op == "MULTIPLY":
        r = a * b
    elif op == "DIVIDE":
        r = _safe_div(a, b)
    elif op == "MULTIPLY_ADD":
        r = a * b + c
    elif op == "POWER":
        # Blender's safe_powf: negative base with non-integer exponent gives 0
        bad = (a < 0) & (b != torch.floor(b))
        r = torch.where(bad, torch.zeros_like(a), torch.pow(torch.where(bad, torch.ones_like(a), a), b))
    elif op == "MINIMUM":
        r = torch.minimum(a, b)
    elif op == "MAXIMUM":
        r = torch.maximum(a, b)
    elif op == "ABSOLUTE":
        r = a.abs()
    elif op == "LESS_THAN":
        r = (a < b).to(torch.float32)
    elif op == "GREATER_THAN":
        r = (a > b).to(torch.float32)
    elif op == "SIGN":
        r = torch.sign(a)
    elif op == "ROUND":
        r = torch.floor(a + 0.5).detach() + 0 * a
    elif op == "FLOOR":
        r = torch.floor(a).detach() + 0 * a
    elif op == "CEIL":
        r = torch.ceil(a).detach() + 0 * a
    elif op == "FRACT":
        r = a - torch.floor(a).detach()
    elif op == "MODULO":
        r = torch.where(b != 0, torch.fmod(a, torch.where(b != 0, b, torch.ones_like(b))), torch.zeros_like(a))
    elif op == "FLOORED_MODULO":
        safe = torch.where(b != 0, b, torch.ones_like(b))
        r = torch.where(b != 0, a - torch.floor(a / safe).detach() * safe, torch.zeros_like(a))
    elif op == "SNAP":
        safe = torch.where(b != 0, b, torch.ones_like(b))
        r = torch.where(b != 0, torch.floor(a / safe).detach() * safe, torch.zeros_like(a))
    elif op == "PINGPONG":
        safe = torch.where(b != 0, b, torch.ones_like(b))
        x = a - b
        m = x - torch.floor(x / (2 * safe)).detach() * (2 * safe)  # floored modulo by 2b
        r = torch.where(b != 0, (m - safe).abs(), torch.zeros_like(a))
    elif op == "SINE":
        r = torch.sin(a)
    elif op == "COSINE":
        r = torch.cos(a)
    elif op == "SQRT":
        r = torch.where(a > 0, torch.sqrt(torch.clamp(a, min=1e-30)), torch.zeros_like(a))
    else:
        raise ValueError(f"math twin does not support operation {op}")
    if use_clamp:
        r = torch.clamp(r, 0.0, 1.0)
    return {"Value": r}


def _smoothstep(e0, e1, x):
    span = e1 - e0
    t = _safe_div(x - e0, span)
    t = torch.clamp(t, 0.0, 1.0)
    s = t * t * (3.0 - 2.0 * t)
    return torch.where(x < e0, torch.zeros_like(s), torch.where(x >= e1, torch.ones_like(s), s))


def _smootherstep(e0, e1, x):
    t = torch.clamp(_safe_div(x - e0, e1 - e0), 0.0, 1.0)
    return t * t * t * (t * (t * 6.0 - 15.0) + 10.0)


def map_range(value, from_min=0.0, from_max=1.0, to_min=0.0, to_max=1.0, steps=4.0,
              interpolation_type: str = "LINEAR", clamp: bool = True) -> dict[str, torch.Tensor]:
    """The Map Range node (float): {'Result'}."""
    v, fmin, fmax, tmin, tmax = (torch.as_tensor(x, dtype=torch.float32) for x in (value, from_min, from_max, to_min, to_max))
    if interpolation_type == "LINEAR":
        f = _safe_div(v - fmin, fmax - fmin)
    elif interpolation_type == "STEPPED":
        f = _safe_div(v - fmin, fmax - fmin)
        st = torch.as_tensor(steps, dtype=torch.float32)
        f = torch.where(st > 0, torch.floor(f * (st + 1.0)).detach() / torch.where(st > 0, st, torch.ones_like(st)), torch.zeros_like(f))
    elif interpolation_type == "SMOOTHSTEP":
        f = torch.where(fmin > fmax, 1.0 - _smoothstep(fmax, fmin, v), _smoothstep(fmin, fmax, v))
    elif interpolation_type == "SMOOTHERSTEP":
        f = torch.where(fmin > fmax, 1.0 - _smootherstep(fmax, fmin, v), _smootherstep(fmin, fmax, v))
    else:
        raise ValueError(f"map range twin does not support {interpolation_type}")
    r = tmin + f * (tmax - tmin)
    if clamp and interpolation_type in ("LINEAR", "STEPPED"):
        lo = torch.minimum(tmin, tmax)
        hi = torch.maximum(tmin, tmax)
        r = torch.minimum(torch.maximum(r, lo), hi)
    return {"Result": r}


def clamp_node(value, min=0.0, max=1.0, clamp_type: str = "MINMAX") -> dict[str, torch.Tensor]:
    v, lo, hi = (torch.as_tensor(x, dtype=torch.float32) for x in (value, min, max))
    if clamp_type == "RANGE":
        lo, hi = torch.minimum(lo, hi), torch.maximum(lo, hi)
    return {"Result": torch.minimum(torch.maximum(v, lo), hi)}


def euler_to_matrix(rot: torch.Tensor) -> torch.Tensor:
    """Blender's euler_to_mat3 for XYZ Euler angles (R = Rz Ry Rx), rows as in Cycles' euler_to_transform."""
    cx, cy, cz = torch.cos(rot[0]), torch.cos(rot[1]), torch.cos(rot[2])
    sx, sy, sz = torch.sin(rot[0]), torch.sin(rot[1]), torch.sin(rot[2])
    return torch.stack([
        torch.stack([cy * cz, sy * sx * cz - cx * sz, sy * cx * cz + sx * sz]),
        torch.stack([cy * sz, sy * sx * sz + cx * cz, sy * cx * sz - sx * cz]),
        torch.stack([-sy, cy * sx, cy * cx]),
    ])


def mapping(vector: torch.Tensor, location=(0.0, 0.0, 0.0), rotation=(0.0, 0.0, 0.0), scale=(1.0, 1.0, 1.0),
            vector_type: str = "POINT") -> dict[str, torch.Tensor]:
    """The Mapping node: {'Vector'}."""
    loc = torch.as_tensor(location, dtype=torch.float32)
    rot = torch.as_tensor(rotation, dtype=torch.float32)
    sc = torch.as_tensor(scale, dtype=torch.float32)
    R = euler_to_matrix(rot)
    if vector_type == "POINT":
        out = (vector * sc) @ R.T + loc
    elif vector_type == "TEXTURE":
        out = _safe_div((vector - loc) @ R, sc)
    elif vector_type == "VECTOR":
        out = (vector * sc) @ R.T
    elif vector_type == "NORMAL":
        out = torch.nn.functional.normalize(_safe_div(vector, sc) @ R.T, dim=-1)
    else:
        raise ValueError(f"unknown mapping type {vector_type}")
    return {"Vector": out}
