"""Test data builders for assets_index tests (a module of its own: `conftest` is a name every test folder uses)."""

from __future__ import annotations

import json
import struct
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


def write_quantized_glb(path: Path, extents=(0.2, 0.4, 0.2)) -> None:
    """A GLB box as gltfpack and Poly Haven write them (KHR_mesh_quantization): positions as normalised SHORTs
    in [-1, 1] with the size in the node's scale, texture coordinates as normalised UNSIGNED_SHORTs."""
    box = trimesh.creation.box(extents=np.asarray(extents, float))
    half = float(np.abs(box.vertices).max())
    positions = np.round(box.vertices / half * 32767).astype("<i2")
    positions = np.hstack([positions, np.zeros((len(positions), 1), "<i2")])  # 4-byte aligned rows: stride 8
    uv = np.round((box.vertices[:, :2] / half * 0.5 + 0.5) * 65535).astype("<u2")
    indices = box.faces.astype("<u2").ravel()
    blobs = [positions.tobytes(), uv.tobytes(), indices.tobytes()]
    offsets = np.cumsum([0] + [len(b) + (-len(b) % 4) for b in blobs])
    binary = b"".join(b + b"\0" * (-len(b) % 4) for b in blobs)
    header = {
        "asset": {"version": "2.0"}, "extensionsUsed": ["KHR_mesh_quantization"],
        "extensionsRequired": ["KHR_mesh_quantization"], "scene": 0, "scenes": [{"nodes": [0]}],
        "nodes": [{"mesh": 0, "scale": [half] * 3}],
        "meshes": [{"primitives": [{"attributes": {"POSITION": 0, "TEXCOORD_0": 1}, "indices": 2, "material": 0}]}],
        "materials": [{"name": "Glaze", "pbrMetallicRoughness": {"baseColorFactor": [0.8, 0.5, 0.3, 1.0]}}],
        "buffers": [{"byteLength": len(binary)}],
        "bufferViews": [{"buffer": 0, "byteOffset": int(offsets[0]), "byteLength": len(blobs[0]), "byteStride": 8},
                        {"buffer": 0, "byteOffset": int(offsets[1]), "byteLength": len(blobs[1])},
                        {"buffer": 0, "byteOffset": int(offsets[2]), "byteLength": len(blobs[2])}],
        "accessors": [
            {"bufferView": 0, "componentType": 5122, "normalized": True, "count": len(positions), "type": "VEC3",
             "min": positions[:, :3].min(0).tolist(), "max": positions[:, :3].max(0).tolist()},
            {"bufferView": 1, "componentType": 5123, "normalized": True, "count": len(uv), "type": "VEC2"},
            {"bufferView": 2, "componentType": 5123, "count": len(indices), "type": "SCALAR"}],
    }
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 4)
    body = struct.pack("<II", len(text), 0x4E4F534A) + text + struct.pack("<II", len(binary), 0x004E4942) + binary
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(struct.pack("<III", 0x46546C67, 2, 12 + len(body)) + body)
