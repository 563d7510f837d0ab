"""Shared fixtures (helpers live in box_case.py: a module name no other conftest shadows)."""

from __future__ import annotations

from pathlib import Path

import pytest

from box_case import write_box_case


@pytest.fixture
def box_case(tmp_path: Path) -> tuple[Path, dict]:
    """(case folder, ground truth) of an exact box room, metric depth."""
    folder = tmp_path / "box_case"
    truth = write_box_case(folder)
    return folder, truth
