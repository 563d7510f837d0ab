"""Image I/O: photos in any common format -> float arrays; colour-space conversions; resampling.

Photos come as JPEG/PNG/TIFF (sRGB, any bit depth or mode, EXIF-rotated) or EXR (linear). Everything the
renderer compares is linear Rec.709; the sRGB curve is the exact piecewise one.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from ..errors import InputError

Image.MAX_IMAGE_PIXELS = 400_000_000  # large photos are fine: we downscale them


def srgb_to_linear(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4).astype(np.float32)


def linear_to_srgb(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return np.where(x <= 0.0031308, x * 12.92, 1.055 * np.power(x, 1 / 2.4) - 0.055).astype(np.float32)


def read_exr(path: Path) -> np.ndarray:
    """HxWxC float32 from an OpenEXR file (through Mitsuba's Bitmap, which every install has)."""
    from ..render.backend import init_mitsuba

    init_mitsuba("cpu")
    import mitsuba as mi

    bitmap = mi.Bitmap(str(path))
    arr = np.array(bitmap.convert(component_format=mi.Struct.Type.Float32), dtype=np.float32)
    return arr if arr.ndim == 3 else arr[..., None]


def read_photo(path: Path) -> tuple[np.ndarray, bool]:
    """Read a photo as HxWx3 float32. Returns (pixels, is_linear): EXR is linear, everything else sRGB in [0,1]."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"photo not found: {path}")
    if path.suffix.lower() == ".exr":
        arr = read_exr(path)
        if arr.shape[2] == 1:
            arr = np.repeat(arr, 3, axis=2)
        arr = arr[..., :3]
        if not np.isfinite(arr).all():
            raise InputError(f"photo {path} has NaN or infinite pixels; fix the file or save it as PNG")
        return np.maximum(arr, 0.0).astype(np.float32), True
    try:
        with Image.open(path) as im:
            im = ImageOps.exif_transpose(im)
            arr = _pil_to_float_rgb(im)
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001 - PIL raises many types for broken files
        raise InputError(f"cannot read photo {path} ({exc}); use a JPEG, PNG, TIFF or EXR file") from exc
    return arr, False


def _pil_to_float_rgb(im: Image.Image) -> np.ndarray:
    """Any PIL mode -> HxWx3 float32 in [0,1] (alpha dropped, CMYK and palettes converted, 16-bit kept)."""
    mode = im.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N"):
        arr = np.asarray(im, dtype=np.float32) / 65535.0
    elif mode == "I":
        raw = np.asarray(im, dtype=np.float64)
        arr = (raw / (65535.0 if raw.max() > 255 else 255.0)).astype(np.float32)
    elif mode == "F":
        arr = np.asarray(im, dtype=np.float32)
        arr = arr / max(float(arr.max()), 1.0)
    elif mode in ("1", "L", "LA", "P", "PA", "CMYK", "YCbCr", "LAB", "HSV", "RGBA", "RGBa", "RGBX", "RGB"):
        arr = np.asarray(im.convert("RGB"), dtype=np.float32) / 255.0
    else:
        raise InputError(f"unsupported image mode {mode}; save the photo as 8-bit RGB PNG or JPEG")
    if arr.ndim == 2:
        arr = np.repeat(arr[..., None], 3, axis=2)
    return np.ascontiguousarray(arr[..., :3], dtype=np.float32)


def write_png(path: Path, srgb: np.ndarray) -> None:
    """Write an sRGB float image (HxW or HxWx3 in [0,1]) as an 8-bit PNG."""
    data = (np.clip(srgb, 0, 1) * 255.0 + 0.5).astype(np.uint8)
    Image.fromarray(data).save(path)


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
