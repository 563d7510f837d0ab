"""Repeatable CPU renders: one Dr.Jit thread while a stage that optimises on noisy renders runs (the room, object and
material/light stages, each with its own `deterministic` switch, on by default).

Mitsuba's film sums each pixel's samples with atomic adds (and the adjoint pass sums gradients the same way). On the
LLVM (CPU) backend with several threads the order of those adds depends on thread timing, so two renders with the
same seed differ in their last bits (measured: 1.3e-5 on a Cornell box at 16 spp, 2 threads; bit-identical with
one). Adam normalises its steps, so such differences in small gradients grow over an optimisation into different
results (a light at 2.1 W in one run, 5.9 W in the next). With one thread the order is fixed and a run repeats
exactly on the same machine. On CUDA the atomics are not ordered either: GPU runs are not repeatable bit for bit.

The second source: `mi.load_dict`'s default optimisation (merging meshes that share a BSDF) leaves the scene's
shapes, and so its emitters, in an order that changes from load to load (measured: 8 orders in 15 loads of one
dict); light sampling picks emitters by index, so the same seed draws different noise. The stage's scenes are
loaded with `optimize=False` (`SceneRenderer`, `scene_render.load_scene`): the dict's order, every time.

Forward renders can still use every core (`parallel_if_repeatable`). Dr.Jit's LLVM backend cuts a large launch
into work units of 16,384 lanes, whatever the thread count (drjit-core's `LLVMThreadState::launch`: smaller
launches are cut by the core count instead), and one thread runs a unit's lanes in order. Mitsuba gives each pixel
`spp` consecutive lanes and our films use a box filter, so when `spp` divides 16,384 every pixel's samples are
summed by one thread in one order: bit-identical to the one-thread render
(tests/materials_lights/test_parallel_renders.py).
The adjoint pass scatters gradients from every pixel into shared textures: it stays on one thread.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator


@contextmanager
def deterministic_renders(enabled: bool = True) -> Iterator[None]:
    """Within the block, CPU renders use one Dr.Jit thread (when `enabled` and the variant is LLVM); the previous
    thread count is restored after it."""
    import drjit as dr
    import mitsuba as mi

    if not enabled or not mi.variant() or not mi.variant().startswith("llvm"):
        yield
        return
    before = dr.thread_count()
    dr.set_thread_count(1)
    _CORES.append(before)
    try:
        yield
    finally:
        _CORES.pop()
        dr.set_thread_count(before)


_CORES: list[int] = []  # the thread counts deterministic_renders blocks took away (innermost last)
WORK_UNIT = 16384  # lanes per work unit of a large Dr.Jit LLVM launch


@contextmanager
def parallel_if_repeatable(pixels: int, spp: int) -> Iterator[None]:
    """Within `deterministic_renders`, the block's cores for a forward render of `pixels` x `spp` lanes whose
    result does not depend on them: a launch large enough to be cut into fixed work units, and `spp` dividing the
    unit (every pixel summed by one thread). Otherwise, or outside such a block, nothing changes."""
    import drjit as dr

    cores = _CORES[-1] if _CORES else 1
    if cores <= 1 or spp <= 0 or WORK_UNIT % spp or pixels * spp <= 2 * WORK_UNIT * cores:
        yield
        return
    dr.set_thread_count(cores)
    try:
        yield
    finally:
        dr.set_thread_count(1)
