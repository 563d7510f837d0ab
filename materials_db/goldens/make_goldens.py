"""Regenerate the golden .npz files from Blender (needs bpy 5.0.1): ``python -m materials_db.goldens.make_goldens``.

nodes.npz: per node case, Blender's outputs at `cases.sample_points(N_NODE)`.
materials.npz: per library material, base colour / roughness / metallic / height at a 24x24 texel grid.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..evaluate import uv_grid
from ..library import list_materials, load_graph
from .cases import CASES, blender_case, sample_points

HERE = Path(__file__).parent
N_NODE = 600
MAT_RES = 24


def make_node_goldens() -> dict[str, np.ndarray]:
    pts = sample_points(N_NODE)
    out = {"points": pts}
    for case in CASES:
        for k, v in blender_case(case, pts).items():
            out[f"{case['name']}/{k}"] = v.astype(np.float32)
    return out


def make_material_goldens(names: list[str] | None = None) -> dict[str, np.ndarray]:
    from .bpy_fields import eval_graph_on_points

    uv = uv_grid(MAT_RES).reshape(-1, 3).numpy()
    out = {}
    for name in names or list_materials():
        for k, v in eval_graph_on_points(load_graph(name).to_dict(), uv).items():
            out[f"{name}/{k}"] = v.astype(np.float32)
    return out


def main() -> None:
    np.savez_compressed(HERE / "nodes.npz", **make_node_goldens())
    np.savez_compressed(HERE / "materials.npz", **make_material_goldens())
    print("wrote", HERE / "nodes.npz", HERE / "materials.npz")


if __name__ == "__main__":
    main()
