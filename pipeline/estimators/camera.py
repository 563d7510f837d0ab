"""Camera estimate (FOV, pitch, roll, confidence): backends `provided`, `learned` (GeoCalib), `classical`.

`make_camera_estimator(config, log)` picks one; a learned backend whose package or weights are missing logs one
line and hands over to the classical one.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Callable

import numpy as np

from p2s_common.errors import InputError, SetupError

from .base import CameraEstimate, tilt_from_up
from .camera_classical import ClassicalCamera
from .config import EstimateConfig
from .models import MODELS, require

Log = Callable[[str], None]


class ProvidedCamera:
    """FOV (and tilt when present) from a camera.json in the case format."""

    name = "provided"

    def __init__(self, folder: str | Path):
        self.path = Path(folder) / "camera.json"
        if not self.path.is_file():
            raise InputError(f"camera backend 'provided' needs {self.path} (see docs/case_format.md)")

    def estimate(self, image: np.ndarray, focal_hint_px: float | None = None) -> CameraEstimate:
        try:
            data = json.loads(self.path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise InputError(f"cannot read {self.path}: {exc}") from exc
        h, w = image.shape[:2]
        if "fov_y_deg" in data:
            fov = float(data["fov_y_deg"])
        elif "fov_x_deg" in data:
            fov = math.degrees(2 * math.atan(math.tan(math.radians(float(data["fov_x_deg"])) / 2) * h / w))
        else:
            raise InputError(f"{self.path} has no fov_y_deg or fov_x_deg")
        return CameraEstimate(fov, float(data.get("pitch_deg", 0.0)), float(data.get("roll_deg", 0.0)),
                              float(data.get("confidence", 1.0)), f"provided ({self.path})", 1.0)


class LearnedCamera:
    """GeoCalib (Veicht et al., ECCV 2024): focal length and gravity from one image, with uncertainties."""

    name = "learned"

    def __init__(self, allow_download: bool = True, model=None):
        """`model`: an already built GeoCalib-like object (tests); else the pinhole weights are loaded."""
        if model is None:
            require(MODELS["camera"], allow_download)  # SetupError when the package or weights are missing
            from geocalib import GeoCalib  # type: ignore[import-not-found]

            model = GeoCalib(weights="pinhole")
        self.model = model

    def estimate(self, image: np.ndarray, focal_hint_px: float | None = None) -> CameraEstimate:
        import torch

        h, w = image.shape[:2]
        tensor = torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1))).float()
        priors = {"focal": torch.tensor(float(focal_hint_px))} if focal_hint_px else None
        out = self.model.calibrate(tensor, priors=priors)
        f = float(out["camera"].f.reshape(-1)[-1])  # fy, pixels of this image
        # GeoCalib's "gravity" vector points to the sky in OpenCV camera axes (x right, y down, z forward).
        up_cv = out["gravity"].vec3d.reshape(-1, 3)[0].detach().cpu().numpy().astype(float)
        pitch, roll = tilt_from_up(np.array([up_cv[0], -up_cv[1], -up_cv[2]]))
        fov = math.degrees(2 * math.atan(h / 2 / f))
        unc = out.get("focal_uncertainty")
        sigma_f = float(unc.reshape(-1)[0]) if unc is not None else 0.0
        fov_conf = float(np.clip(1.0 - sigma_f / max(f, 1e-6) / 0.35, 0.0, 1.0))
        return CameraEstimate(fov, pitch, roll, 0.5 + 0.5 * fov_conf, "learned (GeoCalib pinhole)", fov_conf,
                              {"f_px": f, "focal_uncertainty_px": sigma_f})


def make_camera_estimator(config: EstimateConfig, log: Log = print):
    """The camera backend the config asks for; `auto` and `learned` fall back to classical when needed."""
    choice = config.camera.lower()
    classical = ClassicalCamera(seed=config.seed)
    if choice == "classical":
        return classical
    if choice == "provided":
        if not config.provided:
            raise InputError("camera backend 'provided' needs --provided FOLDER (a folder with camera.json)")
        return ProvidedCamera(config.provided)
    if choice not in ("auto", "learned"):
        raise InputError(f"unknown camera backend {config.camera!r}; choose auto, learned, classical or provided")
    try:
        return LearnedCamera(allow_download=config.download != "never")
    except SetupError as exc:
        log(f"camera: learned backend unavailable, using classical vanishing points ({exc})")
        return classical
    except Exception as exc:  # noqa: BLE001 - a broken third-party install must not stop the estimate
        log(f"camera: learned backend failed to load ({type(exc).__name__}: {exc}); using classical")
        return classical


def exif_focal_px(photo_path: Path, width: int, height: int) -> float | None:
    """Focal length in pixels (at width x height) from EXIF FocalLengthIn35mmFilm, or None."""
    try:
        from PIL import Image

        with Image.open(photo_path) as im:
            exif = im.getexif()
            sub = exif.get_ifd(0x8769) if hasattr(exif, "get_ifd") else {}
            f35 = sub.get(0xA405) or exif.get(0xA405)
    except Exception:  # noqa: BLE001 - no or broken EXIF means no hint
        return None
    if not f35:
        return None
    # 35 mm equivalent is defined on the 36 x 24 mm frame's diagonal (43.27 mm).
    return float(f35) / 43.27 * math.hypot(width, height)
