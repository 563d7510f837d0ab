"""Reference normal maps from Cycles: bake a library material's tangent-space normals on a 1 m UV plane (bpy).

Bump is a shader-only node (no field equivalent), so normals are checked against a Cycles bake. A bake sample
lands at a random point inside its texel; with many samples the texel's normal is box-filtered, so the twin is
compared after evaluating at `supersample` x the resolution and averaging each texel's normals.
"""

from __future__ import annotations

import numpy as np


def bake_normal_map(graph: dict, res: int = 32, samples: int = 64) -> np.ndarray:
    """(res, res, 3) unit normals in [-1, 1], image oriented (row 0 = top, v near 1)."""
    import bpy

    from blender_addon.builders.material import build_material

    bpy.ops.wm.read_homefile(use_empty=True)
    sc = bpy.context.scene
    sc.render.engine = "CYCLES"
    sc.cycles.device = "CPU"
    sc.cycles.samples = samples
    bpy.ops.mesh.primitive_plane_add(size=1.0)  # UV 0..1 over 1 m: uv_size = 1
    ob = bpy.context.active_object
    mat = build_material(graph)
    ob.data.materials.append(mat)
    img = bpy.data.images.new("p2s_bake", res, res, float_buffer=True)
    node = mat.node_tree.nodes.new("ShaderNodeTexImage")
    node.image = img
    mat.node_tree.nodes.active = node
    sc.render.bake.normal_space = "TANGENT"
    sc.render.bake.margin = 0
    bpy.ops.object.bake(type="NORMAL")
    px = np.array(img.pixels[:], np.float32).reshape(res, res, 4)[::-1, :, :3]
    return px * 2.0 - 1.0


def normal_angle_errors(twin_normals: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Per-texel angle in degrees between two normal maps."""
    cos = (twin_normals * ref).sum(-1) / (np.linalg.norm(twin_normals, axis=-1) * np.linalg.norm(ref, axis=-1))
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))
