"""Writing a generated case: the atomic case folder, the photo, the estimates and ground truth."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image

from p2s_common.errors import InputError

from .blender_scene import _balance_lights, _build_blender_scene, _raycast_blender, _render_photo
from .layout import _r, _segments, ground_truth, sample_layout


def _write_json(path: Path, data) -> None:
    """Indented JSON with short lists (vectors, matrix rows) kept on one line, for people reading the files."""
    text = json.dumps(data, indent=1)
    text = re.sub(r"\[[^\[\]{}]*\]", lambda m: re.sub(r"\s+", " ", m.group()).replace("[ ", "[").replace(" ]", "]"),
                  text)
    path.write_text(text + "\n")


def write_estimates(folder: Path, camera, depth: np.ndarray, seg: np.ndarray, segments: list[dict]) -> None:
    """A generated case's exact estimates in the case format (docs/case_format.md): metric depth, the id image,
    segments.json and camera.json. `camera` has fov_y_deg, fov_x_deg, width and height."""
    np.save(folder / "depth.npy", depth)
    Image.fromarray(seg.astype(np.uint16)).save(folder / "segmentation.png")
    _write_json(folder / "segments.json", segments)
    _write_json(folder / "camera.json", {"fov_y_deg": _r(camera.fov_y_deg), "fov_x_deg": _r(camera.fov_x_deg),
                                          "width": camera.width, "height": camera.height, "depth_units": "metres"})


@contextlib.contextmanager
def case_folder(out_dir: Path, overwrite: bool = False) -> Iterator[Path]:
    """A hidden temporary folder (with estimates/) next to `out_dir`, renamed into place when the block ends
    without error and removed when it fails, so a failure leaves nothing half-written. An existing non-empty
    `out_dir` is an InputError unless `overwrite`."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not overwrite and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise InputError(f"{out_dir} already exists; pick a new folder or pass --overwrite")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".partial", dir=out_dir.parent))
    try:
        umask = os.umask(0)
        os.umask(umask)
        tmp.chmod(0o777 & ~umask)  # mkdtemp makes it private; the case should look like any other folder
        (tmp / "estimates").mkdir()
        yield tmp
        old = None
        if out_dir.exists():
            old = out_dir.parent / f"{tmp.name}.old"
            out_dir.rename(old)
        tmp.rename(out_dir)
        if old is not None and old.is_dir():
            shutil.rmtree(old, ignore_errors=True)
        elif old is not None:
            old.unlink()
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def generate_case(out_dir: Path, seed: int, width: int = 320, height: int = 240, samples: int = 64,
                  novel_views: int = 0, *, theme: str | None = None, overwrite: bool = False) -> Path:
    """Render one synthetic case into `out_dir` (docs/case_format.md) and return its path.

    The case is written into a hidden temporary folder next to `out_dir` and renamed into place at the end, so a
    failure leaves nothing half-written. An existing `out_dir` is an error unless `overwrite` (an empty one is
    reused). This resets the `bpy` session (an empty file): do not call it inside a Blender session you need.
    """
    out_dir = Path(out_dir)
    if width < 8 or height < 8 or samples < 1 or novel_views < 0:
        raise InputError("synth: need width and height >= 8, samples >= 1 and novel views >= 0")
    layout = sample_layout(seed, width, height, novel_views, theme)
    with case_folder(out_dir, overwrite) as tmp:
        handles = _build_blender_scene(layout, samples)
        _balance_lights(layout, handles, tmp)
        _render_photo(handles, layout.camera, tmp / "photo.png")
        if layout.novel_cameras:
            (tmp / "novel_views").mkdir()
        for k, cam in enumerate(layout.novel_cameras):
            _render_photo(handles, cam, tmp / "novel_views" / f"view_{k:02d}.png")
            _write_json(tmp / "novel_views" / f"view_{k:02d}.json", cam.to_json())
        depth, seg = _raycast_blender(layout)

        write_estimates(tmp / "estimates", layout.camera, depth, seg, _segments(layout, seg))
        _write_json(tmp / "ground_truth.json", ground_truth(layout, seg, samples, handles["denoise"]))
    return out_dir
