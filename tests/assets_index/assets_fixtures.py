"""Test data builders for assets_index tests (a module of its own: `conftest` is a name every test folder uses)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import trimesh
from PIL import Image

# A handful of built-in models over different categories keeps index tests quick.
SUBSET = ["sofa_track_3seat", "chair_dining_slats", "table_dining_rect", "lamp_floor_drum", "bed_double_panel",
          "plant_bush"]


def _material(name: str, rgb: tuple[int, int, int]) -> trimesh.visual.TextureVisuals:
    return trimesh.visual.TextureVisuals(
        material=trimesh.visual.material.PBRMaterial(name=name, baseColorFactor=[*rgb, 255]))


def write_glb_cabinet(path: Path, scale: float = 1.0) -> None:
    """A Y-up glTF cabinet (0.8 wide, 1.6 tall, 0.45 deep, times `scale`) with an oak body and a brass knob
    on its front (+Z in glTF, -Y once converted)."""
    body = trimesh.creation.box(extents=np.array([0.8, 1.6, 0.45]) * scale)
    body.visual = _material("Oak", (150, 100, 60))
    knob = trimesh.creation.icosphere(radius=0.03 * scale)
    knob.apply_translation(np.array([0.3, 0.0, 0.24]) * scale)
    knob.visual = _material("Brass", (200, 150, 50))
    scene = trimesh.Scene()
    scene.add_geometry(body, geom_name="body")
    scene.add_geometry(knob, geom_name="knob")
    path.parent.mkdir(parents=True, exist_ok=True)
    scene.export(path)


def write_future_model(root: Path, model_id: str, extents=(1.0, 0.42, 0.45), raw_scale: float | None = None,
                       info: dict | None = None) -> Path:
    """A 3D-FUTURE model folder: normalized_model.obj (Y-up), image.jpg, optional model_info.json and
    raw_model.obj (`raw_scale` times the normalized model)."""
    folder = root / model_id
    folder.mkdir(parents=True, exist_ok=True)
    mesh = trimesh.creation.box(extents=extents)
    mesh.export(folder / "normalized_model.obj")
    if raw_scale:
        raw = mesh.copy()
        raw.apply_scale(raw_scale)
        raw.export(folder / "raw_model.obj")
    Image.fromarray(np.full((64, 64, 3), (180, 90, 40), np.uint8)).save(folder / "image.jpg")
    if info is not None:
        (folder / "model_info.json").write_text(json.dumps(info))
    return folder
