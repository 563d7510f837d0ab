"""Shared fixtures: Blender goldens computed live when bpy imports, else read from the committed .npz files."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

HAS_BPY = importlib.util.find_spec("bpy") is not None
GOLDENS = Path(__file__).resolve().parents[2] / "materials_db" / "goldens"


@pytest.fixture(scope="session")
def node_goldens() -> dict[str, np.ndarray]:
    from materials_db.goldens import make_goldens

    if HAS_BPY:
        return make_goldens.make_node_goldens()
    return dict(np.load(GOLDENS / "nodes.npz"))


@pytest.fixture(scope="session")
def material_goldens() -> dict[str, np.ndarray]:
    from materials_db.goldens import make_goldens

    if HAS_BPY:
        return make_goldens.make_material_goldens()
    return dict(np.load(GOLDENS / "materials.npz"))
