"""Which implementation evaluates the twins: 'fused', 'taichi' or 'torch'.

* 'torch': every node as plain tensor ops.
* 'taichi': the same node-by-node evaluation, with the Perlin/fBm and Voronoi cores as taichi kernels.
* 'fused': the whole material compiled into one generated forward kernel plus one backward kernel (twins/fused.py;
  Dr.Jit code on the CPU, taichi on CUDA); graphs outside its reach fall back to 'taichi' node by node.

Default: 'fused' on both CUDA and the CPU when taichi imports (fastest for forward+backward on both since its
forward kernel keeps a tape for the backward, see docs/materials.md; it pays a one-off compile of ~0.3-3 s per
material structure, cached on disk), graphs it does not cover node by node with the taichi cores; torch when
taichi does not import. Override with $PHOTO2SCENE_TWIN_BACKEND=fused|taichi|torch or `set_backend`.
All give the same values (tested); the benchmark reports them side by side.
"""

from __future__ import annotations

import importlib.util
import os

from p2s_common.errors import UserError

BACKENDS = ("fused", "taichi", "torch")


class BackendChoiceError(UserError, ValueError):
    """A back-end or code target named by the user (environment variable or call) that does not exist."""
_STATE = {"backend": None, "explicit": False}


def get_backend() -> str:
    """The back-end evaluate() uses ('fused' | 'taichi' | 'torch')."""
    if _STATE["backend"] is None:
        want = os.environ.get("PHOTO2SCENE_TWIN_BACKEND", "auto")
        _STATE["explicit"] = want != "auto"
        if want == "auto":
            want = "taichi" if importlib.util.find_spec("taichi") is not None else "torch"
        if want not in BACKENDS:
            raise BackendChoiceError(f"$PHOTO2SCENE_TWIN_BACKEND is {want!r}: set it to one of {', '.join(BACKENDS)} "
                                     "or unset it (auto)")
        _STATE["backend"] = want
    return _STATE["backend"]


def core_backend() -> str:
    """What the node-by-node twins use for their Perlin/Voronoi cores: 'taichi' under 'fused' and 'taichi'."""
    return "torch" if get_backend() == "torch" else "taichi"


def set_backend(name: str) -> None:
    if name not in BACKENDS:
        raise BackendChoiceError(f"backend must be one of {BACKENDS}, not {name!r}")
    _STATE["backend"] = name
    _STATE["explicit"] = True


def use_fused(device) -> bool:
    """Whether evaluate() on this device runs the fused compiler: when chosen, or by default (taichi imports and
    no back-end was named)."""
    backend = get_backend()
    if backend == "fused":
        return True
    return not _STATE["explicit"] and backend == "taichi"
