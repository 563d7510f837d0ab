"""Which implementation runs the Perlin core: 'taichi' (fused kernel) or 'torch' (plain tensor ops).

Default: taichi when it imports, else torch; override with $PHOTO2SCENE_TWIN_BACKEND or `set_backend`.
Both give the same values (tested); the benchmark reports both in the same run.
"""

from __future__ import annotations

import os

_STATE = {"backend": None}


def get_backend() -> str:
    if _STATE["backend"] is None:
        want = os.environ.get("PHOTO2SCENE_TWIN_BACKEND", "auto")
        if want == "auto":
            import importlib.util

            want = "taichi" if importlib.util.find_spec("taichi") is not None else "torch"
        _STATE["backend"] = want
    return _STATE["backend"]


def set_backend(name: str) -> None:
    if name not in ("taichi", "torch"):
        raise ValueError("backend must be 'taichi' or 'torch'")
    _STATE["backend"] = name
