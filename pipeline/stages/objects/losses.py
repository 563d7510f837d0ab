"""Image losses on Dr.Jit arrays (flattened HxW images), differentiable through Mitsuba renders."""

from __future__ import annotations

import numpy as np

_BINOMIAL = np.array([1.0, 4.0, 6.0, 4.0, 1.0]) / 16.0


class Pyramid:
    """Gaussian pyramid of an HxW image: 5-tap binomial blur then 2x decimation, per level.

    The gather indices and weights are built once per image size; `__call__` maps a flattened Dr.Jit Float
    image to its levels (level 0 excluded: the caller compares full resolution separately)."""

    def __init__(self, width: int, height: int, levels: int):
        import mitsuba as mi

        self.steps = []
        w, h = width, height
        for _ in range(levels):
            w2, h2 = (w + 1) // 2, (h + 1) // 2
            if w2 < 4 or h2 < 4:
                break
            rows, cols = np.meshgrid(np.arange(h2), np.arange(w2), indexing="ij")
            taps = []
            for a, wa in zip(range(-2, 3), _BINOMIAL):
                for b, wb in zip(range(-2, 3), _BINOMIAL):
                    r = np.clip(2 * rows + a, 0, h - 1)
                    c = np.clip(2 * cols + b, 0, w - 1)
                    taps.append((mi.UInt32((r * w + c).ravel().astype(np.uint32)), float(wa * wb)))
            self.steps.append(taps)
            w, h = w2, h2

    def __call__(self, image) -> list:
        import drjit as dr
        import mitsuba as mi

        levels, current = [], image
        for taps in self.steps:
            out = None
            for index, weight in taps:
                term = dr.gather(mi.Float, current, index) * weight
                out = term if out is None else out + term
            levels.append(out)
            current = out
        return levels

    def numpy(self, image: np.ndarray) -> list[np.ndarray]:
        """The same pyramid for a constant target, evaluated once."""
        import mitsuba as mi

        return [np.array(level) for level in self(mi.Float(image.ravel().astype(np.float32)))]


def channel(img, index: int, channels: int = 3):
    """Channel `index` of a Mitsuba TensorXf HxWxC render, as a flattened Float."""
    import drjit as dr
    import mitsuba as mi

    n = dr.width(img.array) // channels
    return dr.gather(mi.Float, img.array, dr.arange(mi.UInt32, n) * channels + index)
