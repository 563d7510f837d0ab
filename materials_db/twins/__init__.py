"""Differentiable torch twins of Blender's procedural shader nodes (one module per family).

Every function takes coordinates as a float32 tensor (..., 3) and scalar-or-broadcastable inputs, follows
Blender 5.0's own algorithm step by step (so results agree to float32 rounding), and is differentiable in its
continuous inputs wherever Blender's function is.
"""

from typing import Callable


class LazyOutputs(dict):
    """Node outputs where expensive ones (e.g. Noise's Color = two more fractal sums) are computed on first use."""

    def __init__(self, ready: dict, lazy: dict[str, Callable[[], object]]):
        super().__init__(ready)
        self._lazy = lazy

    def __missing__(self, key):
        if key in self._lazy:
            value = self._lazy.pop(key)()
            self[key] = value
            return value
        raise KeyError(key)
