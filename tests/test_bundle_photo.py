"""The bundle keeps the photo at full resolution while the Case works at its working resolution (issue 18)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from p2s_common.errors import InputError
from pipeline.core.bundle import write_bundle_photo
from pipeline.core.resample import working_shape


def test_full_photo_kept_and_capped(tmp_path):
    rng = np.random.default_rng(1)
    pixels = (rng.random((530, 730, 3)) * 255).astype(np.uint8)
    Image.fromarray(pixels).save(tmp_path / "in.jpg", quality=95)
    root = tmp_path / "bundle"
    root.mkdir()
    assert write_bundle_photo(root, tmp_path / "in.jpg") == (730, 530)
    with Image.open(root / "photo.png") as im:
        assert im.size == (730, 530)
    assert working_shape(730, 530, 240) != (730, 530)  # the stages work smaller
    with pytest.raises(InputError, match="over the cap"):
        write_bundle_photo(root, tmp_path / "in.jpg", max_pixels=1000)  # the photo reader's cap holds here too
