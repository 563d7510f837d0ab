"""Choose and initialise Mitsuba's variant: `cuda_ad_rgb` on a usable GPU, else `llvm_ad_rgb` on the CPU.

Dr.Jit's LLVM backend needs libLLVM >= 16 (Debian 12's default 14/15 abort with "Cannot select ... fminimum"),
and it reads DRJIT_LIBLLVM_PATH only when drjit is first imported: `init_mitsuba` finds a suitable library and
sets the variable before that import, or raises a SetupError that says how to install one.
"""

from __future__ import annotations

import glob
import os
import re
import subprocess
import sys

from ..errors import SetupError

MIN_LLVM = 16
_LLVM_GLOBS = [
    "/usr/lib/x86_64-linux-gnu/libLLVM-*.so*",
    "/usr/lib/aarch64-linux-gnu/libLLVM-*.so*",
    "/usr/lib/llvm-*/lib/libLLVM*.so*",
    "/usr/lib64/libLLVM*.so*",
    "/usr/local/lib/libLLVM*.so*",
    "/opt/homebrew/opt/llvm/lib/libLLVM.dylib",
    "/usr/local/opt/llvm/lib/libLLVM.dylib",
]
_variant: str | None = None


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


def cuda_usable() -> bool:
    """True when an NVIDIA driver answers (checked in a subprocess so a broken driver cannot crash us)."""
    try:
        out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return out.returncode == 0 and "GPU" in out.stdout


def init_mitsuba(device: str = "auto") -> str:
    """Import Mitsuba with the right variant for `device` (auto|cpu|gpu) and return the variant's name.

    Idempotent: later calls return the variant chosen first (Dr.Jit cannot switch backends cleanly mid-run).
    """
    global _variant
    if _variant is not None:
        return _variant
    if device not in ("auto", "cpu", "gpu"):
        raise SetupError(f"unknown device {device!r}: use auto, cpu or gpu")
    use_gpu = device == "gpu" or (device == "auto" and cuda_usable())
    if device == "gpu" and not cuda_usable():
        raise SetupError("--device gpu asked for, but no CUDA GPU answers (nvidia-smi); use --device cpu or auto")
    if not use_gpu and "drjit" not in sys.modules:
        current = os.environ.get("DRJIT_LIBLLVM_PATH")
        if not current or not os.path.exists(current):
            path = find_libllvm()
            if path is None:
                raise SetupError(
                    "Dr.Jit's CPU backend needs libLLVM >= 16 and none was found; install it with "
                    "`sudo apt-get install libllvm19` (Debian/Ubuntu) or set DRJIT_LIBLLVM_PATH to a libLLVM >= 16"
                )
            os.environ["DRJIT_LIBLLVM_PATH"] = path
    import mitsuba as mi

    variant = "cuda_ad_rgb" if use_gpu else "llvm_ad_rgb"
    try:
        mi.set_variant(variant)
    except Exception as exc:  # noqa: BLE001 - Mitsuba raises plain exceptions for missing backends
        raise SetupError(f"could not start Mitsuba variant {variant}: {exc}") from exc
    # Mitsuba warns about sample_border and similar on every AD render; errors still surface.
    mi.set_log_level(mi.LogLevel.Error)
    _variant = variant
    return variant
