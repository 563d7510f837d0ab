"""Material selection from a click (fine-grained material selection, at two levels).

`select(image, click)` returns two masks of the pixels made of the same material as the clicked one:
- texture level: the whole patterned material (all of a floral wallpaper), from the similarity of local colour and
  texture statistics over a window (`features.py`);
- subtexture level: only the clicked element of the pattern (its flowers), from pixel colour similarity inside
  the texture-level mask.
The built-in selector needs no weights. A learned selector plugs in through `Selector` (any callable with the
same signature) and `set_selector`.
"""

from __future__ import annotations

from typing import Callable, Protocol

import numpy as np

from .stats import StatsSelector


class Selector(Protocol):
    def __call__(self, image_srgb: np.ndarray, click: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
        """(texture-level mask, subtexture-level mask), HxW bool, for a click at pixel (x, y)."""


_selector: Selector | Callable = StatsSelector()


def set_selector(selector: Selector | Callable | None) -> None:
    """Use `selector` for every later `select` (None: back to the built-in statistics selector)."""
    global _selector
    _selector = selector if selector is not None else StatsSelector()


def select(image_srgb: np.ndarray, click: tuple[float, float], level: str = "texture") -> np.ndarray:
    """Mask (HxW bool) of the material at `click` (x, y in pixels): level 'texture' or 'subtexture'."""
    if level not in ("texture", "subtexture"):
        raise ValueError(f"level must be 'texture' or 'subtexture', not {level!r}")
    texture, sub = _selector(np.asarray(image_srgb, np.float32), click)
    return texture if level == "texture" else sub


__all__ = ["Selector", "StatsSelector", "select", "set_selector"]
