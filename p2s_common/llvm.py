"""Finding a libLLVM that Dr.Jit's CPU backend can use, and pointing Dr.Jit at it.

Dr.Jit's LLVM backend needs libLLVM >= 16 (Debian 12's default 14/15 abort with "Cannot select ... fminimum"), and
it reads DRJIT_LIBLLVM_PATH only when drjit is first imported: whoever may import drjit first (the render backend,
the materials' fused kernels, the asset renderer) calls `point_drjit_at_libllvm` before that import.
"""

from __future__ import annotations

import glob
import os
import re
import sys

MIN_LLVM = 16
ENV = "DRJIT_LIBLLVM_PATH"
_LLVM_GLOBS = [
    "/usr/lib/x86_64-linux-gnu/libLLVM-*.so*",
    "/usr/lib/aarch64-linux-gnu/libLLVM-*.so*",
    "/usr/lib/llvm-*/lib/libLLVM*.so*",
    "/usr/lib64/libLLVM*.so*",
    "/usr/local/lib/libLLVM*.so*",
    "/opt/homebrew/opt/llvm/lib/libLLVM.dylib",
    "/usr/local/opt/llvm/lib/libLLVM.dylib",
]


def _llvm_major(path: str) -> int | None:
    m = re.search(r"(?:LLVM-|llvm-)(\d+)", path)
    return int(m.group(1)) if m else None


def find_libllvm() -> str | None:
    """Path of the newest libLLVM >= 16 on this machine, or None."""
    found = []
    for pattern in _LLVM_GLOBS:
        for path in glob.glob(pattern):
            major = _llvm_major(path)
            if major is not None and major >= MIN_LLVM:
                found.append((major, len(path), path))
    return max(found)[2] if found else None


def point_drjit_at_libllvm() -> str | None:
    """Set $DRJIT_LIBLLVM_PATH to a libLLVM >= 16 unless it already names an existing file; return the path in
    effect, or None when there is none (Dr.Jit would then load the system's default, maybe too old, LLVM).

    Once drjit is imported the variable no longer matters, so it is left alone then.
    """
    current = os.environ.get(ENV)
    if "drjit" in sys.modules or (current and os.path.exists(current)):
        return current if current and os.path.exists(current) else None
    path = find_libllvm()
    if path is not None:
        os.environ[ENV] = path
    return path
