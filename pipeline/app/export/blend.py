"""Headless .blend export through the PyPI `bpy` module and the add-on's own builders (one implementation)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from blender_addon.bundle import load_bundle

from p2s_common.errors import SetupError


def write_blend(bundle_dir: Path, blend_path: Path) -> Path:
    """Build the bundle into an empty Blender file and save it atomically at `blend_path`."""
    try:
        import bpy
    except ImportError as exc:
        raise SetupError("writing a .blend needs the bpy module (pip install bpy==5.0.1, Python 3.11)") from exc
    # lazy: loads bpy, which importing this module does not
    from blender_addon.builders.scene import build_bundle

    bundle = load_bundle(bundle_dir)
    bpy.ops.wm.read_homefile(use_empty=True)
    build_bundle(bundle, render_settings="CYCLES")  # an opened .blend renders like the photo at once
    blend_path = Path(blend_path).absolute()
    blend_path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{blend_path.stem}.", suffix=".blend", dir=blend_path.parent)
    os.close(fd)
    os.remove(tmp)  # Blender would keep an existing file as a .blend1 backup
    try:
        bpy.ops.wm.save_as_mainfile(filepath=tmp, check_existing=False, compress=True)
        os.replace(tmp, blend_path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return blend_path
