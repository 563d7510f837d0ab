"""Image IO: photos in any common format -> float arrays, 8-bit PNG out, EXR in; the sRGB curve.

Photos come as JPEG/PNG/TIFF (sRGB, any bit depth or mode, EXIF-rotated) or EXR (linear). Everything the
renderer compares is linear Rec.709; the sRGB curve is the exact piecewise one. EXR is read with the OpenEXR
bindings, so reading one never starts Mitsuba or Blender.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import OpenEXR
from PIL import Image, ImageOps

from .errors import InputError

# PIL's own decompression-bomb guard stays as a backstop for every other image the project opens; photos are
# checked against MAX_PHOTO_PIXELS from their header first (`check_photo_size`), with an error that says what to do.
Image.MAX_IMAGE_PIXELS = 400_000_000

MAX_PHOTO_PIXELS = 50_000_000  # default cap on width * height of a photo; raise it with read_photo(max_pixels=)
MAX_PHOTO_ASPECT = 20.0  # longer side / shorter side: beyond this it is a strip or a corrupt header, not a room


def srgb_to_linear(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4).astype(np.float32)


def linear_to_srgb(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return np.where(x <= 0.0031308, x * 12.92, 1.055 * np.power(x, 1 / 2.4) - 0.055).astype(np.float32)


def srgb_to_lab(srgb: np.ndarray) -> np.ndarray:
    """CIE Lab (D65) of sRGB in [0, 1] (clipped), as float32."""
    lin = srgb_to_linear(srgb).astype(np.float64)
    m = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
    xyz = lin @ m.T / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    lab = np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], -1)
    return lab.astype(np.float32)


def read_exr(path: Path) -> np.ndarray:
    """HxWxC float32 from a single-part OpenEXR file: R, G, B, A first (those present), else Y, then any other
    channels by name (a depth file's one channel is then [..., 0] whatever it is called)."""
    with OpenEXR.File(str(path), separate_channels=True) as exr:
        channels = {name: ch.pixels for name, ch in exr.channels().items()}
    if not channels:
        raise InputError(f"EXR file {path} has no channels")
    first = [c for c in ("R", "G", "B", "A") if c in channels] or [c for c in ("Y",) if c in channels]
    order = first + sorted(c for c in channels if c not in first)
    return np.stack([np.asarray(channels[c], dtype=np.float32) for c in order], axis=-1)


def check_photo_size(width: int, height: int, path: Path, max_pixels: int | None = None, what: str = "photo") -> None:
    """Raise InputError (one line) for a photo of 0 pixels, an absurd aspect ratio, or more than `max_pixels`
    (default MAX_PHOTO_PIXELS) pixels. Called with the header's size, before any pixel is decoded."""
    cap = MAX_PHOTO_PIXELS if max_pixels is None else max_pixels
    if width <= 0 or height <= 0:
        raise InputError(f"{what} {path} is {width}x{height} pixels: it has no pixels")
    if max(width, height) > MAX_PHOTO_ASPECT * min(width, height):
        raise InputError(f"{what} {path} is {width}x{height} pixels, an aspect ratio beyond "
                         f"{MAX_PHOTO_ASPECT:g}:1; crop it to the room")
    if width * height > cap:
        raise InputError(f"{what} {path} is {width}x{height} = {width * height / 1e6:.1f} MP, over the cap of "
                         f"{cap / 1e6:g} MP; downscale it, or raise the cap (read_photo(max_pixels=...))")


def _exr_size(path: Path) -> tuple[int, int]:
    """(width, height) of an EXR from its header alone (the data window is inclusive)."""
    with OpenEXR.File(str(path), header_only=True) as exr:
        (x0, y0), (x1, y1) = (tuple(int(v) for v in corner) for corner in exr.header()["dataWindow"])
    return x1 - x0 + 1, y1 - y0 + 1


def image_file_size(path: Path) -> tuple[int, int]:
    """(width, height) of an image or array file from its header alone: .npy (the array header), .exr, or any
    format PIL reads. Lets a reader refuse a huge file before allocating its pixels."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".npy":
        with open(path, "rb") as f:
            version = np.lib.format.read_magic(f)
            shape, _, _ = np.lib.format._read_array_header(f, version)  # header only; public readers load it all
        dims = [int(d) for d in shape if d != 1] or [1, 1]  # (1, H, W) and (H, W, 1) are HxW maps too
        if len(dims) != 2:
            raise InputError(f"{path} holds an array of shape {tuple(shape)}, not a single-channel HxW map")
        return dims[1], dims[0]
    if suffix == ".exr":
        return _exr_size(path)
    with Image.open(path) as im:
        return im.width, im.height


def check_image_file(path: Path, max_pixels: int | None = None) -> None:
    """Refuse (one-line InputError) an estimate image (depth, segmentation, mask) that is empty, absurdly shaped
    or over the pixel cap, from its header, before it is decoded: the same rule as photos."""
    try:
        width, height = image_file_size(path)
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001 - numpy, OpenEXR and PIL raise many types for broken headers
        raise InputError(f"cannot read {path} ({exc}); check the file") from exc
    check_photo_size(width, height, path, max_pixels, what="image")


def read_photo(path: Path, max_pixels: int | None = None) -> tuple[np.ndarray, bool]:
    """Read a photo as HxWx3 float32. Returns (pixels, is_linear): EXR is linear, everything else sRGB in [0,1].

    The size is checked from the header before decoding (`check_photo_size`, cap `max_pixels`, default
    MAX_PHOTO_PIXELS), so a huge or hostile file is refused without allocating its pixels."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"photo not found: {path}")
    if path.suffix.lower() == ".exr":
        try:
            check_photo_size(*_exr_size(path), path, max_pixels)
            arr = read_exr(path)
        except InputError:
            raise
        except Exception as exc:  # noqa: BLE001 - OpenEXR raises plain exceptions for broken files
            raise InputError(f"cannot read EXR photo {path} ({exc}); save it again or use a PNG") from exc
        if arr.shape[2] == 1:
            arr = np.repeat(arr, 3, axis=2)
        elif arr.shape[2] == 2:  # Y and A: the grey level, alpha dropped
            arr = np.repeat(arr[..., :1], 3, axis=2)
        arr = arr[..., :3]
        if not np.isfinite(arr).all():
            raise InputError(f"photo {path} has NaN or infinite pixels; fix the file or save it as PNG")
        return np.maximum(arr, 0.0).astype(np.float32), True
    try:
        with Image.open(path) as im:  # reads the header only; pixels are decoded on first use
            check_photo_size(im.width, im.height, path, max_pixels)
            im = ImageOps.exif_transpose(im)
            arr = _pil_to_float_rgb(im)
    except InputError:
        raise
    except Image.DecompressionBombError as exc:  # over PIL's own backstop, which even a raised cap cannot pass
        raise InputError(f"cannot read photo {path}: {exc}; downscale it") from None
    except Exception as exc:  # noqa: BLE001 - PIL raises many types for broken files
        raise InputError(f"cannot read photo {path} ({exc}); use a JPEG, PNG, TIFF or EXR file") from exc
    return arr, False


def image_from_bytes(data: bytes) -> np.ndarray:
    """An encoded image (PNG, JPEG: a file's bytes, e.g. one of a bundle's pictures) as HxWx3 float32 in [0,1]."""
    try:
        with Image.open(io.BytesIO(data)) as im:
            return _pil_to_float_rgb(im)
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001 - PIL raises many types for broken files
        raise InputError(f"cannot decode an image ({exc}); write the file again") from exc


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


def to_uint8(srgb: np.ndarray) -> np.ndarray:
    """An sRGB float image in [0,1] (clipped) as uint8, rounded to the nearest level."""
    return (np.clip(srgb, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def png_bytes(image: np.ndarray | Image.Image) -> bytes:
    """An 8-bit PNG file's bytes: of an sRGB float array (HxW or HxWx3 in [0,1]) or of a PIL image (a sheet
    with drawn labels)."""
    im = image if isinstance(image, Image.Image) else Image.fromarray(to_uint8(image))
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return buf.getvalue()


def write_png(path: Path, srgb: np.ndarray) -> None:
    """Write an sRGB float image (HxW or HxWx3 in [0,1]) as an 8-bit PNG."""
    Path(path).write_bytes(png_bytes(srgb))
