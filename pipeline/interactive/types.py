"""Small shared types of interactive segmentation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np


@dataclass(frozen=True)
class Click:
    """A click in full-image pixel coordinates (x = column, y = row; pixel centres at +0.5)."""

    x: float
    y: float
    positive: bool


class ClickBackend(Protocol):
    """What a click-segmentation backend offers: features once per image, a mask per click."""

    name: str

    def prepare(self, image: np.ndarray, depth: np.ndarray | None = None): ...

    def predict(self, features, clicks: list[Click], prev: np.ndarray | None = None) -> np.ndarray: ...
