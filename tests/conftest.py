"""Shared fixtures (helpers live in box_case.py: a module name no other conftest shadows)."""

from __future__ import annotations

import os
from pathlib import Path

# Hermetic material library: the artist's own folders (~/.local/share/photo2scene/materials) stay out of tests;
# a test that wants one sets $PHOTO2SCENE_MATERIALS itself (materials_db.library.user_dirs).
os.environ["PHOTO2SCENE_MATERIALS"] = ""

import pytest

from box_case import write_box_case


@pytest.fixture
def box_case(tmp_path: Path) -> tuple[Path, dict]:
    """(case folder, ground truth) of an exact box room, metric depth."""
    folder = tmp_path / "box_case"
    truth = write_box_case(folder)
    return folder, truth
