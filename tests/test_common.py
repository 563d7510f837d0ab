"""p2s_common: the shared leaf package (errors, image IO, libLLVM discovery) and the layering it makes possible."""

from __future__ import annotations

import ast
import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import OpenEXR
import pytest
from PIL import Image

from materials_db.graph import GraphError
from materials_db.twins.backend import BackendChoiceError
from p2s_common import llvm
from p2s_common.errors import InputError, SetupError, UserError
from p2s_common.images import png_bytes, read_exr, read_photo, write_png

ROOT = Path(__file__).resolve().parents[1]
PROJECT = ("p2s_common", "pipeline", "materials_db", "assets_index", "blender_addon")


def _project_imports(package: str) -> set[str]:
    """Top-level project packages that `package`'s modules import (anywhere in a file, lazily or not)."""
    found: set[str] = set()
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            found |= {n.split(".")[0] for n in names if n.split(".")[0] in PROJECT}
    return found - {package}


def test_layering():
    assert _project_imports("p2s_common") == set()  # a leaf
    assert "pipeline" not in _project_imports("materials_db")
    assert "pipeline" not in _project_imports("assets_index")
    assert "p2s_common" not in _project_imports("blender_addon")  # the add-on ships alone


def test_every_user_error_shares_the_base():
    for cls in (InputError, SetupError, GraphError, BackendChoiceError):
        assert issubclass(cls, UserError)
    assert issubclass(GraphError, ValueError) and issubclass(BackendChoiceError, ValueError)


def _write_exr(path: Path, channels: dict[str, np.ndarray]) -> None:
    header = {"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage}
    # The bindings write a channel's buffer as it lies in memory: slices of an HxWx3 array must be copied.
    with OpenEXR.File(header, {k: np.ascontiguousarray(v) for k, v in channels.items()}) as f:
        f.write(str(path))


def test_exr_without_mitsuba(tmp_path):
    rgb = np.random.default_rng(0).uniform(0, 4, (6, 9, 3)).astype(np.float32)
    _write_exr(tmp_path / "rgb.exr", {"R": rgb[..., 0], "G": rgb[..., 1], "B": rgb[..., 2]})
    np.testing.assert_array_equal(read_exr(tmp_path / "rgb.exr"), rgb)
    pixels, linear = read_photo(tmp_path / "rgb.exr")
    assert linear and pixels.shape == (6, 9, 3)
    depth = np.linspace(0.5, 3, 54, dtype=np.float32).reshape(6, 9).astype(np.float16)
    _write_exr(tmp_path / "depth.exr", {"Z": depth})
    got = read_exr(tmp_path / "depth.exr")
    assert got.shape == (6, 9, 1) and got.dtype == np.float32
    np.testing.assert_array_equal(got[..., 0], depth.astype(np.float32))
    (tmp_path / "broken.exr").write_bytes(b"not an exr")
    with pytest.raises(InputError, match="broken.exr"):
        read_photo(tmp_path / "broken.exr")


def test_exr_reading_does_not_start_mitsuba(tmp_path):
    _write_exr(tmp_path / "y.exr", {"Y": np.ones((2, 3), np.float32)})
    code = ("import sys; from p2s_common.images import read_photo; "
            f"read_photo({str(tmp_path / 'y.exr')!r}); assert 'mitsuba' not in sys.modules and 'bpy' not in sys.modules")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=ROOT)


def test_png_encoding_rounds_and_accepts_pil(tmp_path):
    srgb = np.array([[[0.0, 0.5, 1.0], [2.0, -1.0, 0.2]]], np.float32)
    got = np.asarray(Image.open(io.BytesIO(png_bytes(srgb))))
    np.testing.assert_array_equal(got, [[[0, 128, 255], [255, 0, 51]]])
    write_png(tmp_path / "a.png", srgb)
    assert (tmp_path / "a.png").read_bytes() == png_bytes(srgb)
    sheet = Image.new("RGB", (4, 3), "white")
    assert np.asarray(Image.open(io.BytesIO(png_bytes(sheet)))).min() == 255


def test_libllvm_env_is_kept_when_valid(monkeypatch, tmp_path):
    lib = tmp_path / "libLLVM-19.so"
    lib.write_bytes(b"")
    monkeypatch.setenv(llvm.ENV, str(lib))
    monkeypatch.delitem(sys.modules, "drjit", raising=False)
    assert llvm.point_drjit_at_libllvm() == str(lib)
    monkeypatch.setenv(llvm.ENV, str(tmp_path / "missing.so"))
    monkeypatch.setattr(llvm, "find_libllvm", lambda: None)
    assert llvm.point_drjit_at_libllvm() is None
    assert llvm._llvm_major("/usr/lib/llvm-17/lib/libLLVM.so.1") == 17


def test_estimate_images_checked_from_their_header(tmp_path):
    """Depth arrays and id images are refused from their header when over the pixel cap, before decoding."""
    from p2s_common.images import check_image_file, image_file_size

    big = tmp_path / "depth.npy"
    with open(big, "wb") as f:  # a header claiming 10000 x 9000 float32, with no data behind it
        np.lib.format.write_array_header_1_0(f, {"descr": "<f4", "fortran_order": False, "shape": (9000, 10000)})
    assert image_file_size(big) == (10000, 9000)
    with pytest.raises(InputError, match="90.0 MP, over the cap"):
        check_image_file(big)
    small = tmp_path / "d.npy"
    np.save(small, np.ones((1, 48, 64), np.float32))
    assert image_file_size(small) == (64, 48)
    check_image_file(small)
    with pytest.raises(InputError, match="not a single-channel"):
        np.save(tmp_path / "rgb.npy", np.ones((4, 5, 3), np.float32))
        check_image_file(tmp_path / "rgb.npy")
    ids = tmp_path / "seg.png"
    Image.fromarray(np.zeros((30, 40), np.uint16)).save(ids)
    check_image_file(ids, max_pixels=1200)
    with pytest.raises(InputError, match="image .* over the cap"):
        check_image_file(ids, max_pixels=1000)
