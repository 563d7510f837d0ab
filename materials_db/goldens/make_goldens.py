"""Regenerate the golden .npz files from Blender (needs bpy 5.0.1): ``python -m materials_db.goldens.make_goldens``
(all files) or ``... make_goldens normals`` (only the named ones).

nodes.npz: per node case, Blender's outputs at `cases.sample_points(N_NODE)`.
materials.npz: per library material, base colour / roughness / metallic / height at a 24x24 texel grid.
normals.npz: Cycles tangent-space normal bakes (`bpy_bake.py`; x, y of the unit normal, z = sqrt(1 - x^2 - y^2)):
    ``NAME/bake1`` for every material with a Bump node, one sample per texel at NORMAL_RES (exact comparison), and
    ``NAME/bake256`` for `NORMAL_AVG_NAMES`, 256 samples at NORMAL_AVG_RES (box-filtered comparison).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from ..evaluate import uv_grid
from ..library import list_materials, load_graph
from .bpy_bake import bake_normal_map
from .bpy_fields import eval_graph_on_points
from .cases import CASES, blender_case, sample_points

HERE = Path(__file__).parent
N_NODE = 600
MAT_RES = 24
NORMAL_RES = 24
NORMAL_AVG_RES, NORMAL_AVG_SAMPLES = 32, 256
# box-filtered check: the materials with grout steps, mosaic, weaves and fine noise (the hardest), plus smooth ones
NORMAL_AVG_NAMES = ("brick_wall_red", "subway_tiles_white", "black_square_tiles", "offset_floor_tiles_grey",
                    "mosaic_tiles_blue", "oak_parquet_basketweave", "stucco_beige", "knit_wool_red", "canvas_olive",
                    "denim_blue", "linen_white", "plaster_white", "concrete_smooth", "oak_planks", "leather_brown",
                    "carpet_grey")


def make_node_goldens() -> dict[str, np.ndarray]:
    pts = sample_points(N_NODE)
    out = {"points": pts}
    for case in CASES:
        for k, v in blender_case(case, pts).items():
            out[f"{case['name']}/{k}"] = v.astype(np.float32)
    return out


def make_material_goldens(names: list[str] | None = None) -> dict[str, np.ndarray]:
    uv = uv_grid(MAT_RES).reshape(-1, 3).numpy()
    out = {}
    for name in names or list_materials():
        for k, v in eval_graph_on_points(load_graph(name).to_dict(), uv).items():
            out[f"{name}/{k}"] = v.astype(np.float32)
    return out


def bump_materials() -> list[str]:
    """Library materials with a Bump node."""
    return [n for n in list_materials() if any(nd["type"] == "ShaderNodeBump" for nd in load_graph(n).nodes.values())]


def make_normal_goldens(names: list[str] | None = None) -> dict[str, np.ndarray]:
    out = {}
    for name in names or bump_materials():
        g = load_graph(name).to_dict()
        out[f"{name}/bake1"] = bake_normal_map(g, NORMAL_RES, samples=1)[..., :2].astype(np.float32)
        if name in NORMAL_AVG_NAMES:
            ref = bake_normal_map(g, NORMAL_AVG_RES, samples=NORMAL_AVG_SAMPLES)
            ref /= np.linalg.norm(ref, axis=-1, keepdims=True)
            out[f"{name}/bake{NORMAL_AVG_SAMPLES}"] = ref[..., :2].astype(np.float32)
    return out


def unpack_normals(xy: np.ndarray) -> np.ndarray:
    """(..., 2) stored x, y -> (..., 3) unit normals (tangent-space z is positive)."""
    z = np.sqrt(np.clip(1.0 - (xy ** 2).sum(-1, keepdims=True), 0.0, None))
    return np.concatenate([xy, z], -1)


def main(argv: list[str] | None = None) -> None:
    """Write every golden file, or only those named (``nodes``, ``materials``, ``normals``)."""
    makers = {"nodes": make_node_goldens, "materials": make_material_goldens, "normals": make_normal_goldens}
    which = (sys.argv[1:] if argv is None else argv) or list(makers)
    for w in which:
        np.savez_compressed(HERE / f"{w}.npz", **makers[w]())
        print("wrote", HERE / f"{w}.npz")


if __name__ == "__main__":
    main()
