"""Blender's hash functions (Jenkins lookup3, as in blenlib noise.cc) on int64 tensors holding uint32 values.

torch has no full uint32 arithmetic, so values live in int64 and are masked to 32 bits after each step that can
leave the range. `lattice_table` evaluates a hash-derived quantity once per distinct lattice point and gathers it,
because textures see few lattice cells (scale x resolution) compared to texels: hashing then costs nearly nothing.
"""

from __future__ import annotations

from typing import Callable

import torch

M32 = 0xFFFFFFFF


def _rot(x: torch.Tensor, k: int) -> torch.Tensor:
    return ((x << k) | (x >> (32 - k))) & M32


def lookup3_final(a, b, c):
    """lookup3's final mix of three uint32 words. Written with masks after every step that can leave 32 bits, so it
    serves int64 torch tensors and, unchanged, Dr.Jit UInt32 arrays (where the masks are no-ops: the fused
    compiler's Dr.Jit target hashes with it)."""
    c = c ^ b
    c = (c - _rot(b, 14)) & M32
    a = a ^ c
    a = (a - _rot(c, 11)) & M32
    b = b ^ a
    b = (b - _rot(a, 25)) & M32
    c = c ^ b
    c = (c - _rot(b, 16)) & M32
    a = a ^ c
    a = (a - _rot(c, 4)) & M32
    b = b ^ a
    b = (b - _rot(a, 14)) & M32
    c = c ^ b
    c = (c - _rot(b, 24)) & M32
    return c


def _mix(a: torch.Tensor, b: torch.Tensor, c: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    a = (a - c) & M32
    a = a ^ _rot(c, 4)
    c = (c + b) & M32
    b = (b - a) & M32
    b = b ^ _rot(a, 6)
    a = (a + c) & M32
    c = (c - b) & M32
    c = c ^ _rot(b, 8)
    b = (b + a) & M32
    a = (a - c) & M32
    a = a ^ _rot(c, 16)
    c = (c + b) & M32
    b = (b - a) & M32
    b = b ^ _rot(a, 19)
    a = (a + c) & M32
    c = (c - b) & M32
    c = c ^ _rot(b, 4)
    b = (b + a) & M32
    return a, b, c


def hash_uint(*keys: torch.Tensor) -> torch.Tensor:
    """lookup3 hash of 1-4 uint32 keys (int64 tensors, any int values: they are taken mod 2^32)."""
    n = len(keys)
    keys = torch.broadcast_tensors(*[k.to(torch.int64) & M32 for k in keys])
    init = (0xDEADBEEF + (n << 2) + 13) & M32
    a = torch.full_like(keys[0], init)
    b = a.clone()
    c = a.clone()
    if n == 1:
        a = (a + keys[0]) & M32
    elif n == 2:
        b = (b + keys[1]) & M32
        a = (a + keys[0]) & M32
    elif n == 3:
        c = (c + keys[2]) & M32
        b = (b + keys[1]) & M32
        a = (a + keys[0]) & M32
    elif n == 4:
        a = (a + keys[0]) & M32
        b = (b + keys[1]) & M32
        c = (c + keys[2]) & M32
        a, b, c = _mix(a, b, c)
        a = (a + keys[3]) & M32
    else:
        raise ValueError("hash_uint takes 1 to 4 keys")
    return lookup3_final(a, b, c)


def float_bits(x: torch.Tensor) -> torch.Tensor:
    """The uint32 bit pattern of float32 values (as int64), like Blender's float_as_uint."""
    return x.to(torch.float32).contiguous().view(torch.int32).to(torch.int64) & M32


def uint_to_float01(h: torch.Tensor) -> torch.Tensor:
    """float(k) / float(0xFFFFFFFF) in float32, as Blender does (both operands rounded to float32 first)."""
    return h.to(torch.float32) / torch.tensor(float(M32), dtype=torch.float32)


def hash_float_to_float(*keys: torch.Tensor) -> torch.Tensor:
    """Blender's hash_float_to_float for 1-4 float32 keys, in [0, 1]."""
    return uint_to_float01(hash_uint(*[float_bits(k) for k in keys]))


def hash_float2_to_float2(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    one = torch.ones_like(x)
    return torch.stack([hash_float_to_float(x, y), hash_float_to_float(x, y, one)], -1)


def hash_float2_to_float3(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    one = torch.ones_like(x)
    return torch.stack(
        [hash_float_to_float(x, y), hash_float_to_float(x, y, one), hash_float_to_float(x, y, 2 * one)], -1
    )


def hash_float3_to_float3(x: torch.Tensor, y: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    one = torch.ones_like(x)
    return torch.stack(
        [
            hash_float_to_float(x, y, z),
            hash_float_to_float(x, y, z, one),
            hash_float_to_float(x, y, z, 2 * one),
        ],
        -1,
    )


def lattice_table(
    cells: list[torch.Tensor], fn: Callable[[list[torch.Tensor]], torch.Tensor], pad: tuple[int, int] = (0, 1)
) -> Callable[[list[int]], torch.Tensor]:
    """Precompute `fn` on every integer lattice point spanned by `cells` (+ pad) and return a gather function.

    cells: integer-valued tensors (int64 or float holding integers) of one shape, one per axis.
    fn: maps per-axis lattice coordinates (same dtype as cells, 1-D) to values (P, ...) .
    The returned `at(offsets)` gives fn at cells + offsets for every element. Falls back to evaluating fn directly
    when the lattice would be larger than the point set (e.g. extreme scales).
    """
    lo = [int(c.min().item()) + pad[0] for c in cells]
    hi = [int(c.max().item()) + pad[1] for c in cells]
    sizes = [h - l + 1 for l, h in zip(lo, hi)]
    total = 1
    for s in sizes:
        total *= s
    numel = cells[0].numel()
    if total > 4 * numel + 4096:
        def direct(offsets: list[int]) -> torch.Tensor:
            flat = [(c + o).reshape(-1) for c, o in zip(cells, offsets)]
            out = fn(flat)
            return out.reshape(*cells[0].shape, *out.shape[1:])

        return direct
    axes = [torch.arange(l, h + 1, dtype=cells[0].dtype, device=cells[0].device) for l, h in zip(lo, hi)]
    grids = torch.meshgrid(*axes, indexing="ij")
    table = fn([g.reshape(-1) for g in grids])
    base_idx = torch.zeros_like(cells[0], dtype=torch.int64)
    strides = []
    stride = 1
    for s in reversed(sizes):
        strides.insert(0, stride)
        stride *= s
    for c, l, st in zip(cells, lo, strides):
        base_idx = base_idx + (c.to(torch.int64) - l) * st
    base_idx = base_idx.reshape(-1)

    def gather(offsets: list[int]) -> torch.Tensor:
        off = sum(o * st for o, st in zip(offsets, strides))
        out = table[base_idx + off]
        return out.reshape(*cells[0].shape, *table.shape[1:])

    return gather


# ---- PCG hashes on signed 32-bit ints (Jarzynski & Olano 2020), used by Blender's Voronoi on integer cells ----


def _i32(x: torch.Tensor) -> torch.Tensor:
    """Wrap int64 values to the signed 32-bit range (two's complement overflow, as C int arithmetic)."""
    return ((x + 0x80000000) & M32) - 0x80000000


def hash_pcg2d_i(x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    x = _i32(x * 1664525 + 1013904223)
    y = _i32(y * 1664525 + 1013904223)
    x = _i32(x + y * 1664525)
    y = _i32(y + x * 1664525)
    x = x ^ (x >> 16)
    y = y ^ (y >> 16)
    x = _i32(x + y * 1664525)
    y = _i32(y + x * 1664525)
    return x & 0x7FFFFFFF, y & 0x7FFFFFFF


def hash_pcg3d_i(x: torch.Tensor, y: torch.Tensor, z: torch.Tensor):
    x = _i32(x * 1664525 + 1013904223)
    y = _i32(y * 1664525 + 1013904223)
    z = _i32(z * 1664525 + 1013904223)
    x = _i32(x + y * z)
    y = _i32(y + z * x)
    z = _i32(z + x * y)
    x = x ^ (x >> 16)
    y = y ^ (y >> 16)
    z = z ^ (z >> 16)
    x = _i32(x + y * z)
    y = _i32(y + z * x)
    z = _i32(z + x * y)
    return x & 0x7FFFFFFF, y & 0x7FFFFFFF, z & 0x7FFFFFFF


_INV31 = 1.0 / 2147483648.0  # 1.0f / float(0x7FFFFFFF): the denominator rounds to 2^31 in float32


def hash_int2_to_float2(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    hx, hy = hash_pcg2d_i(x, y)
    return torch.stack([hx.to(torch.float32), hy.to(torch.float32)], -1) * _INV31


def hash_int3_to_float3(x: torch.Tensor, y: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    h = hash_pcg3d_i(x, y, z)
    return torch.stack([c.to(torch.float32) for c in h], -1) * _INV31


def hash_int2_to_float3(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return hash_int3_to_float3(x, y, torch.zeros_like(x))
