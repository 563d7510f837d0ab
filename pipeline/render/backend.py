"""Choose and initialise Mitsuba's variant: `cuda_ad_rgb` on a usable GPU, else `llvm_ad_rgb` on the CPU.

Dr.Jit's LLVM backend needs libLLVM >= 16 and reads DRJIT_LIBLLVM_PATH only when drjit is first imported:
`init_mitsuba` points it at a suitable library (p2s_common.llvm) before that import, or raises a SetupError that
says how to install one.
"""

from __future__ import annotations

import subprocess
import sys

from p2s_common.errors import SetupError
from p2s_common.llvm import point_drjit_at_libllvm

_variant: str | None = None


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
    if not use_gpu and "drjit" not in sys.modules and point_drjit_at_libllvm() is None:
        raise SetupError(
            "Dr.Jit's CPU backend needs libLLVM >= 16 and none was found; install it with "
            "`sudo apt-get install libllvm19` (Debian/Ubuntu) or set DRJIT_LIBLLVM_PATH to a libLLVM >= 16"
        )
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
