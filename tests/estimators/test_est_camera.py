"""Classical camera estimator: line segments, vanishing points, FOV/pitch/roll on synthetic rooms with exact truth."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from pipeline.estimators.base import CameraEstimate, tilt_from_up
from pipeline.estimators.camera import LearnedCamera, ProvidedCamera, exif_focal_px, make_camera_estimator
from pipeline.estimators.camera_classical import ClassicalCamera
from pipeline.estimators.config import EstimateConfig
from pipeline.estimators.lines import detect_segments
from pipeline.estimators.synthetic import camera_rotation, room_photo


def test_segments_follow_drawn_edges():
    image = np.full((120, 160, 3), 0.8, np.float32)
    image[30:90, 40:120] = 0.2  # a dark rectangle: four straight edges
    seg = detect_segments(image)
    assert len(seg) >= 4
    lengths = np.hypot(seg[:, 2] - seg[:, 0], seg[:, 3] - seg[:, 1])
    horizontal = seg[(np.abs(seg[:, 3] - seg[:, 1]) < 1.5) & (lengths > 60)]
    assert len(horizontal) >= 2
    assert np.allclose(sorted(horizontal[:, 1])[0], 30, atol=1.5)
    assert np.allclose(sorted(horizontal[:, 1])[-1], 90, atol=1.5)


def test_tilt_conventions_round_trip():
    for pitch, roll in ((-10.0, 5.0), (20.0, -12.0), (0.0, 0.0)):
        est = CameraEstimate(55.0, pitch, roll, 1.0, "test")
        assert tilt_from_up(est.up_vector()) == pytest.approx((pitch, roll), abs=1e-9)
        # The synthetic camera uses the same conventions: world up seen from its rotation.
        up = camera_rotation(pitch, roll, 30.0).T @ np.array([0, 0, 1.0])
        assert tilt_from_up(up) == pytest.approx((pitch, roll), abs=1e-9)


@pytest.mark.parametrize("fov,pitch,roll,yaw,seed", [(60.0, -10.0, 4.0, 30.0, 0), (45.0, 5.0, -6.0, 60.0, 1)])
def test_classical_camera_on_synthetic_room(fov, pitch, roll, yaw, seed):
    image, truth = room_photo(320, 240, fov, pitch, roll, yaw, seed=seed)
    est = ClassicalCamera(seed=0).estimate(image)
    assert abs(est.fov_y_deg - fov) < 5.0
    assert abs(est.pitch_deg - pitch) < 1.5
    assert abs(est.roll_deg - roll) < 1.5
    assert est.confidence > 0.5 and est.fov_confidence > 0.5
    assert est.source.startswith("classical")


def test_featureless_photo_falls_back_to_the_prior_with_zero_confidence():
    image = np.full((120, 160, 3), 0.5, np.float32)
    est = ClassicalCamera().estimate(image)
    assert est.confidence == 0.0 and est.fov_confidence == 0.0
    f = 0.72 * 160
    assert est.fov_y_deg == pytest.approx(math.degrees(2 * math.atan(60 / f)), abs=0.5)
    # An EXIF focal length replaces the prior.
    est2 = ClassicalCamera().estimate(image, focal_hint_px=200.0)
    assert est2.fov_y_deg == pytest.approx(math.degrees(2 * math.atan(60 / 200.0)), abs=0.5)


def test_camera_json_fields():
    data = CameraEstimate(50.0, -5.0, 2.0, 0.8, "x", 0.7).to_json(640, 480)
    assert data["fov_y_deg"] == 50.0 and data["width"] == 640 and data["pitch_deg"] == -5.0
    assert data["fov_x_deg"] > data["fov_y_deg"]


def test_provided_camera(tmp_path):
    (tmp_path / "camera.json").write_text(json.dumps({"fov_x_deg": 70.0, "pitch_deg": -3.0}))
    est = ProvidedCamera(tmp_path).estimate(np.zeros((300, 400, 3), np.float32))
    assert est.fov_y_deg == pytest.approx(math.degrees(2 * math.atan(math.tan(math.radians(35)) * 0.75)))
    assert est.pitch_deg == -3.0


def test_auto_falls_back_to_classical_with_one_line(monkeypatch):
    monkeypatch.setattr("pipeline.estimators.models.package_available", lambda spec: False)
    messages = []
    est = make_camera_estimator(EstimateConfig(camera="learned", download="never"), messages.append)
    assert isinstance(est, ClassicalCamera)
    assert len(messages) == 1 and "classical" in messages[0] and "\n" not in messages[0]


class _FakeCalib:
    """Stands in for GeoCalib: the adapter's conversions are what is tested."""

    def calibrate(self, img, priors=None):
        import torch

        class Cam:
            f = torch.tensor([[300.0, 300.0]])

        class Grav:
            # up (OpenCV axes): camera pitched down 10 deg, no roll -> y = -cos, z = -sin
            vec3d = torch.tensor([[0.0, -math.cos(math.radians(10)), -math.sin(math.radians(10))]])

        return {"camera": Cam(), "gravity": Grav(), "focal_uncertainty": torch.tensor([3.0])}


def test_learned_camera_adapter_converts_geocalib_outputs():
    est = LearnedCamera(model=_FakeCalib()).estimate(np.zeros((240, 320, 3), np.float32))
    assert est.fov_y_deg == pytest.approx(math.degrees(2 * math.atan(120 / 300.0)))
    assert est.pitch_deg == pytest.approx(-10.0, abs=1e-4) and est.roll_deg == pytest.approx(0.0, abs=1e-4)


def test_exif_focal(tmp_path):
    from PIL import Image

    im = Image.new("RGB", (400, 300))
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0xA405] = 26
    im.save(tmp_path / "p.jpg", exif=exif)
    f = exif_focal_px(tmp_path / "p.jpg", 400, 300)
    assert f == pytest.approx(26 / 43.27 * 500, rel=1e-3)
    Image.new("RGB", (40, 30)).save(tmp_path / "q.png")
    assert exif_focal_px(tmp_path / "q.png", 40, 30) is None
