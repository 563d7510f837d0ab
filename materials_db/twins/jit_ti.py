"""The slice of taichi's per-texel vocabulary that the fused compiler emits, over Dr.Jit arrays: one lane per texel.

The fused compiler's generated code (fused_emit.py) is written against `ti` (`ti.select`, `ti.Vector`,
`ti.math.vec3`, `.dot`, `@`, ...). Executed with this module bound to `ti`, the same lines trace into one Dr.Jit
kernel, which Dr.Jit's LLVM backend vectorises across texels (SIMD) as well as across cores; taichi's CPU backend
runs one texel per core at a time. Scalars are Dr.Jit arrays (or Python numbers for literals), vectors and
matrices Dr.Jit's Array2f/3f/4f and Matrix3f, given taichi's `.dot`, `.sum`, `.outer_product`, `.transpose`.

`use(device_type)` picks the Dr.Jit backend (llvm or cuda) before tracing.
"""

from __future__ import annotations

import math as _m
from typing import Any

import drjit as dr

_T: dict[str, Any] = {}


def use(device_type: str) -> None:
    """Trace onto Dr.Jit's CUDA backend for 'cuda', else its LLVM (CPU) backend."""
    mod = dr.cuda if device_type == "cuda" else dr.llvm
    _T.update(Float=mod.Float, Int32=mod.Int32, UInt32=mod.UInt32, Bool=mod.Bool, Array2f=mod.Array2f,
              Array3f=mod.Array3f, Array4f=mod.Array4f, Matrix3f=mod.Matrix3f, Float64=mod.Float64, Array2i=mod.Array2i, Array3i=mod.Array3i,
              Array4i=mod.Array4i, Array2u=mod.Array2u, Array3u=mod.Array3u, Array4u=mod.Array4u, kind=device_type)
    _install_methods(mod)


def exact_ops():
    """Trace with IEEE single-precision semantics as taichi, torch and Blender compute them: Dr.Jit's constant
    propagation turns `x / literal` into `x * (1 / literal)`, an ulp off, which fine Noise scales amplified to
    2.8e-4 against Blender (brushed_steel)."""
    return dr.scoped_set_flag(dr.JitFlag.ConstantPropagation, False)


def Float(x):  # noqa: N802 - a type-like constructor
    return _T["Float"](x)


def Int32(x):  # noqa: N802
    return _T["Int32"](x)


def UInt32(x):  # noqa: N802
    return _T["UInt32"](x)


def is_num(x) -> bool:
    return isinstance(x, (int, float, bool))


# dtype markers of ti.cast
f32, i32, u32 = "f32", "i32", "u32"


def cast(x, dtype: str):
    if is_num(x):
        return float(x) if dtype == f32 else int(x)
    n = dr.size_v(x)
    if n > 1:  # a small vector: componentwise
        return _T[f"Array{n}" + {f32: "f", i32: "i", u32: "u"}[dtype]](x)
    if dtype == f32:
        return Float(x)
    if dtype == i32:
        return dr.reinterpret_array(_T["Int32"], x) if isinstance(x, _T["UInt32"]) else Int32(x)
    return dr.reinterpret_array(_T["UInt32"], x) if isinstance(x, _T["Int32"]) else UInt32(x)


def _dot(a, b):
    acc = a[0] * b[0]
    for i in range(1, len(a)):
        acc = acc + a[i] * b[i]
    return acc


def _sum(a):
    acc = a[0]
    for i in range(1, len(a)):
        acc = acc + a[i]
    return acc


def _vmax(a):
    acc = a[0]
    for i in range(1, len(a)):
        acc = dr.maximum(acc, a[i])
    return acc


def _outer(a, b):
    return _T["Matrix3f"]([[a[i] * b[j] for j in range(3)] for i in range(3)])


def _install_methods(mod) -> None:
    """taichi's vector/matrix methods on Dr.Jit's small-array types (Dr.Jit has free functions instead)."""
    for name in ("Array2f", "Array3f", "Array4f"):
        t = getattr(mod, name)
        if getattr(t, "_photo2scene_ti", False):
            continue
        t.dot, t.sum, t.max, t.n = _dot, _sum, _vmax, property(len)
        t.outer_product = _outer
        t._photo2scene_ti = True
    mod.Matrix3f.transpose = lambda m: m.T
    mod.Matrix3f.__matmul__ = _matmul


def _matmul(m, x):
    """Matrix @ vector (or matrix) as taichi computes it: row . column, left to right, no fused multiply-adds
    (Dr.Jit's own product uses FMAs, which moves Mapping's output by an ulp and Wave bands with it)."""
    rows = [[m[i, j] for j in range(3)] for i in range(3)]
    if dr.size_v(x) == 3 and not dr.is_matrix_v(x):
        return _T["Array3f"](*[_dot(r, x) for r in rows])
    cols = [[x[i, j] for i in range(3)] for j in range(3)]
    return _T["Matrix3f"]([[_dot(r, c) for c in cols] for r in rows])


def Vector(comps):  # noqa: N802 - ti.Vector
    return _T[f"Array{len(comps)}f"](*comps)


class math:  # noqa: N801 - ti.math
    @staticmethod
    def vec2(*c):
        return _T["Array2f"](*c)

    @staticmethod
    def vec3(*c):
        return _T["Array3f"](*c)

    @staticmethod
    def mat3(rows):
        return _T["Matrix3f"](rows)

    @staticmethod
    def sign(x):
        if is_num(x):
            return float((x > 0) - (x < 0))
        return dr.select(x > 0, 1.0, dr.select(x < 0, -1.0, 0.0))


def select(c, a, b):
    """ti.select (componentwise for small arrays, as Dr.Jit's select is)."""
    if isinstance(c, bool):
        return a if c else b
    if is_num(a) and is_num(b):
        return dr.select(c, Float(a), Float(b))
    return dr.select(c, a, b)


def min(a, b):  # noqa: A001 - ti.min
    return (a if a < b else b) if is_num(a) and is_num(b) else dr.minimum(a, b)


def max(a, b):  # noqa: A001 - ti.max
    return (a if a > b else b) if is_num(a) and is_num(b) else dr.maximum(a, b)


def floor(x):
    return float(_m.floor(x)) if is_num(x) else dr.floor(x)


def abs(x):  # noqa: A001 - ti.abs
    return (x if x >= 0 else -x) if is_num(x) else dr.abs(x)


def sqrt(x):
    return (_m.sqrt(x) if x >= 0 else float("nan")) if is_num(x) else dr.sqrt(x)


def sin(x):
    return _m.sin(x) if is_num(x) else dr.sin(x)


def cos(x):
    return _m.cos(x) if is_num(x) else dr.cos(x)


def log(x):
    if is_num(x):
        return _m.log(x) if x > 0 else (float("-inf") if x == 0 else float("nan"))
    return dr.log(x)


def pow(a, b):  # noqa: A001 - ti.pow, with C powf's special cases
    if is_num(a) and is_num(b):
        if a < 0 and float(b) != _m.floor(b):
            return float("nan")  # Python would return a complex number
        try:
            return float(a) ** float(b)
        except (ZeroDivisionError, OverflowError):
            return float("inf")
    a, b = (Float(a) if is_num(a) else a), (Float(b) if is_num(b) else b)
    # |a|^b in double precision (single-precision exp2/log2 were 5e-6 off powf); log2(0) = -inf gives 0 or inf
    f64 = _T["Float64"]
    mag = Float(dr.exp2(dr.log2(f64(dr.abs(a))) * f64(b)))
    b_int = dr.floor(b) == b
    b_odd = b_int & (dr.floor(b * 0.5) * 2.0 != b)
    out = dr.select((a < 0) & b_odd, -mag, mag)
    out = dr.select((a < 0) & ~b_int, dr.nan, out)
    return dr.select(b == 0, 1.0, out)
