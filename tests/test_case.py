"""Case loading: formats, resampling, and clear errors for bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from pipeline.core.case import load_case
from p2s_common.errors import InputError


def test_loads_and_resamples(box_case):
    folder, _ = box_case
    case = load_case(folder / "photo.png", folder / "estimates", working_size=48)
    assert (case.width, case.height) == (48, 36)
    assert case.depth.shape == case.segmentation.shape == (36, 48)
    assert case.depth_metric and case.fov_y_deg == pytest.approx(55.0)
    assert case.mask("floor").any() and case.mask("wall").any()
    assert case.photo_linear.max() <= 1.0 and case.photo_linear.min() >= 0.0


def test_fov_from_fov_x_and_override(box_case):
    folder, _ = box_case
    cam = json.loads((folder / "estimates/camera.json").read_text())
    del cam["fov_y_deg"]
    cam["fov_x_deg"] = 70.0
    (folder / "estimates/camera.json").write_text(json.dumps(cam))
    case = load_case(folder / "photo.png", folder / "estimates")
    expected = np.degrees(2 * np.arctan(np.tan(np.radians(35)) * 72 / 96))
    assert case.fov_y_deg == pytest.approx(expected)
    assert load_case(folder / "photo.png", folder / "estimates", fov_deg=40.0).fov_y_deg == 40.0


@pytest.mark.parametrize("mode", ["L", "LA", "RGBA", "CMYK", "P", "I;16"])
def test_photo_modes(box_case, mode):
    folder, _ = box_case
    rgb = Image.open(folder / "photo.png").convert("RGB")
    path = folder / f"photo_{mode.replace(';', '')}.{'jpg' if mode == 'CMYK' else 'png'}"
    if mode == "I;16":
        grey = (np.asarray(rgb.convert("L"), np.uint16) * 257)
        Image.fromarray(grey).save(path)
    else:
        rgb.convert(mode).save(path)
    case = load_case(path, folder / "estimates")
    assert case.photo_srgb.shape == (72, 96, 3)
    assert 0.2 < case.photo_srgb.mean() < 0.9


def test_exif_orientation_applied(box_case):
    folder, _ = box_case
    im = Image.open(folder / "photo.png").convert("RGB")
    stored = im.transpose(Image.Transpose.ROTATE_90)  # stored rotated, EXIF says rotate back
    exif = Image.Exif()
    exif[0x0112] = 8  # "rotate 90 CW to display"
    stored.save(folder / "rotated.jpg", exif=exif, quality=95)
    case = load_case(folder / "rotated.jpg", folder / "estimates")
    assert case.photo_srgb.shape[:2] == (72, 96)


def test_large_photo_is_downscaled(box_case):
    folder, _ = box_case
    Image.open(folder / "photo.png").resize((960, 720), Image.NEAREST).save(folder / "big.png")
    case = load_case(folder / "big.png", folder / "estimates", working_size=320)
    assert (case.width, case.height) == (320, 240)  # the photo sets the working size...
    assert case.depth.shape == case.segmentation.shape == (240, 320)  # ...and estimates follow it
    case = load_case(folder / "big.png", folder / "estimates", working_size=200)
    assert (case.width, case.height) == (200, 150)


def _error(folder, **kw) -> str:
    with pytest.raises(InputError) as info:
        load_case(folder / "photo.png", folder / "estimates", **kw)
    return str(info.value)


def test_unreadable_photo(box_case, tmp_path):
    folder, _ = box_case
    (folder / "photo.png").write_bytes(b"not an image")
    assert "cannot read photo" in _error(folder)


def test_missing_photo(tmp_path):
    with pytest.raises(InputError, match="photo not found"):
        load_case(tmp_path / "nope.jpg", None, fov_deg=50)


def test_size_mismatch(box_case):
    folder, _ = box_case
    np.save(folder / "estimates/depth.npy", np.ones((50, 50), np.float32))
    assert "aspect ratio" in _error(folder)


def test_depth_holes_are_unknown_pixels(box_case):
    """NaN, infinite and <= 0 pixels are holes: read as 0 (unknown, skipped by the resampling) with a warning."""
    folder, _ = box_case
    depth = np.load(folder / "estimates/depth.npy")
    depth[3, 3], depth[4, 4], depth[5, 5], depth[6, 6] = np.nan, np.inf, -1.0, 0.0
    np.save(folder / "estimates/depth.npy", depth)
    case = load_case(folder / "photo.png", folder / "estimates")
    assert np.isfinite(case.depth).all() and (case.depth >= 0).all() and (case.depth > 0).mean() > 0.99
    (warning,) = [w for w in case.inputs["warnings"] if "depth" in w]
    assert f"4 of {depth.size} pixels" in warning and "1 NaN, 1 infinite, 2 <= 0" in warning and "unknown" in warning


@pytest.mark.parametrize("fraction", [1.0, 0.95])
def test_mostly_invalid_depth_is_refused(box_case, fraction):
    folder, _ = box_case
    depth = np.load(folder / "estimates/depth.npy")
    flat = depth.reshape(-1)
    flat[: int(round(fraction * flat.size))] = np.nan
    np.save(folder / "estimates/depth.npy", depth)
    message = _error(folder)
    assert "not valid depth" in message and "90 %" in message and "\n" not in message


def test_no_floor(box_case):
    folder, _ = box_case
    segs = json.loads((folder / "estimates/segments.json").read_text())
    for s in segs:
        if s["label"] == "floor":
            s["label"] = "rug"
    (folder / "estimates/segments.json").write_text(json.dumps(segs))
    assert "no floor" in _error(folder)


def test_empty_mask_is_dropped_with_a_warning(box_case):
    folder, _ = box_case
    segs = json.loads((folder / "estimates/segments.json").read_text())
    segs.append({"id": 99, "label": "sofa", "kind": "thing"})
    (folder / "estimates/segments.json").write_text(json.dumps(segs))
    case = load_case(folder / "photo.png", folder / "estimates")
    assert 99 not in {s.id for s in case.segments} and len(case.segments) == len(segs) - 1
    assert case.inputs["warnings"] == ["segments.json: segment 99 (sofa) has no pixels in the segmentation; "
                                       "it is left out"]


def test_unlisted_ids(box_case):
    folder, _ = box_case
    segs = json.loads((folder / "estimates/segments.json").read_text())
    (folder / "estimates/segments.json").write_text(json.dumps(segs[1:]))
    assert "not in segments.json" in _error(folder)


def test_no_fov(box_case):
    folder, _ = box_case
    (folder / "estimates/camera.json").unlink()
    assert "--fov-deg" in _error(folder)


def test_depth_png_16bit(box_case):
    folder, _ = box_case
    depth = np.load(folder / "estimates/depth.npy")
    (folder / "estimates/depth.npy").unlink()
    Image.fromarray((depth * 1000).astype(np.uint16)).save(folder / "estimates/depth.png")
    cam = json.loads((folder / "estimates/camera.json").read_text())
    cam["depth_units"] = "relative"
    (folder / "estimates/camera.json").write_text(json.dumps(cam))
    case = load_case(folder / "photo.png", folder / "estimates")
    assert not case.depth_metric
    assert case.depth.max() == pytest.approx(depth.max() * 1000, rel=0.01)


def test_tiff_and_exr_photos(box_case):
    """TIFF (16-bit) through PIL; EXR (linear) through Mitsuba's Bitmap; both land at the same sRGB colours."""
    from p2s_common.images import srgb_to_linear
    from pipeline.render.backend import init_mitsuba

    folder, _ = box_case
    srgb = np.asarray(Image.open(folder / "photo.png").convert("RGB"), np.float32) / 255
    Image.open(folder / "photo.png").convert("RGB").save(folder / "photo.tif")
    init_mitsuba("cpu")
    import mitsuba as mi

    mi.Bitmap(srgb_to_linear(srgb)).write(str(folder / "photo.exr"))
    png = load_case(folder / "photo.png", folder / "estimates")
    for name in ("photo.tif", "photo.exr"):
        case = load_case(folder / name, folder / "estimates")
        assert np.abs(case.photo_srgb - png.photo_srgb).max() < 2e-3, name
