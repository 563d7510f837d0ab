"""Fixtures for assets_index tests: the tiny random CLIP, quick render settings, a fake 3D-FUTURE folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from assets_fixtures import write_future_model

from assets_index import Embedder, RenderConfig


@pytest.fixture(scope="session")
def tiny() -> Embedder:
    return Embedder.tiny()


@pytest.fixture
def quick_render() -> RenderConfig:
    return RenderConfig(views=2, resolution=48, spp=4)


@pytest.fixture
def fake_future(tmp_path: Path) -> Path:
    """A tiny 3D-FUTURE folder: a sofa described per folder, a chair in the top-level model_info.json list,
    the chair with a raw_model.obj giving its real size."""
    root = tmp_path / "3D-FUTURE-model"
    write_future_model(root, "aaaa-sofa", info={"category": "Three-Seat / Multi-seat Sofa",
                                                "super-category": "Sofa", "style": "Modern"})
    write_future_model(root, "bbbb-chair", extents=(0.5, 0.9, 0.55), raw_scale=1.0)
    (root / "model_info.json").write_text(json.dumps([
        {"model_id": "bbbb-chair", "super-category": "Chair", "category": "Dining Chair"}]))
    return root
