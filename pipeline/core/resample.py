"""Resampling images and per-pixel maps to the working resolution (area average, valid-depth mean, nearest id).

Reading and writing image files lives in p2s_common.images.
"""

from __future__ import annotations

import numpy as np
from PIL import Image


def working_shape(width: int, height: int, longest: int) -> tuple[int, int]:
    """(w, h) of the working resolution: the longest side at most `longest`, aspect kept, never upscaled."""
    scale = min(1.0, longest / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def resize_area(arr: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Area-average resize of an HxW or HxWxC float array to size=(w, h)."""
    if (arr.shape[1], arr.shape[0]) == size:
        return arr.astype(np.float32)
    channels = arr[..., None] if arr.ndim == 2 else arr
    out = [np.asarray(Image.fromarray(channels[..., c].astype(np.float32), mode="F").resize(size, Image.BOX))
           for c in range(channels.shape[2])]
    res = np.stack(out, axis=-1)
    return res[..., 0] if arr.ndim == 2 else res


def resize_valid_mean(depth: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Area-average of valid (>0) depth only; output pixels with no valid input are 0 (invalid)."""
    valid = (depth > 0).astype(np.float32)
    total = resize_area(np.where(valid > 0, depth, 0.0), size)
    weight = resize_area(valid, size)
    return np.where(weight > 1e-6, total / np.maximum(weight, 1e-6), 0.0).astype(np.float32)


def resize_nearest(ids: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Nearest-neighbour resize of an integer id map to size=(w, h)."""
    if (ids.shape[1], ids.shape[0]) == size:
        return ids.astype(np.int32)
    w, h = size
    rows = np.minimum(((np.arange(h) + 0.5) * ids.shape[0] / h).astype(int), ids.shape[0] - 1)
    cols = np.minimum(((np.arange(w) + 0.5) * ids.shape[1] / w).astype(int), ids.shape[1] - 1)
    return ids[rows[:, None], cols[None, :]].astype(np.int32)
