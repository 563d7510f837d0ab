"""Reference normal maps from Cycles: bake a library material's tangent-space normals on a 1 m UV plane (bpy).

Bump is a shader-only node (no field equivalent), so normals are checked against a Cycles NORMAL bake. Facts of
Blender 5.0's bake that the comparison reproduces (render/intern/bake.cc `RE_bake_pixels_populate` /
`bake_differentials`, Cycles kernel/integrator/init_from_bake.h; each measured with bakes of known heights):

* sample 0 of texel (i, j) lies at UV ((i + 0.5 + 0.001) / R, (j + 0.5 + 0.002) / R) (the rasteriser's nudge);
* the texel's ray differential is HALF a texel (`bake_differentials` scales by 0.5), which sets Bump's offsets;
* samples 1.. are jittered by (filter - 0.5) x that half-texel differential: uniform over the central half of the
  texel (+-0.25 texel), not the whole texel; the pixel is their mean.

So a one-sample bake equals the twin evaluated at the sample-0 UVs with ``bump_texel = 1 / R``, and a many-sample
bake equals the twin's normals averaged over the central half of each texel (`twin_normals_box`).
"""

from __future__ import annotations

import numpy as np
import torch

from blender_addon.builders.material import build_material

from ..evaluate import evaluate, evaluate_sockets, uv_grid

SAMPLE0_OFFSET = (0.001, 0.002)  # texels, in u and v (v up), of a bake's first sample from the texel centre


def bake_normal_map(graph: dict, res: int = 32, samples: int = 64) -> np.ndarray:
    """(res, res, 3) unit normals in [-1, 1], image oriented (row 0 = top, v near 1)."""
    import bpy  # lazy: Blender takes seconds to load; the twin-side helpers here do not need it

    bpy.ops.wm.read_homefile(use_empty=True)
    sc = bpy.context.scene
    sc.render.engine = "CYCLES"
    sc.cycles.device = "CPU"
    sc.cycles.samples = samples
    sc.cycles.use_adaptive_sampling = False  # every texel gets all its samples
    bpy.ops.mesh.primitive_plane_add(size=1.0)  # UV 0..1 over 1 m: uv_size = 1
    ob = bpy.context.active_object
    mat = build_material(graph)
    # the bake's NORMAL pass averages the BSDF closures' normals; with bump-map correction on, Cycles bends the
    # specular closures' normal towards Ng wherever the bump tilts it past ~45 deg from the view (here Ng), so the
    # pass stops being the Bump node's output there. Off, the pass is exactly the Bump normal.
    mat.cycles.use_bump_map_correction = False
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


def bake_sample_uv(res: int) -> torch.Tensor:
    """(res, res, 3) UVs of sample 0 of each texel of a res x res bake, image oriented (row 0 = top)."""
    return uv_grid(res) + torch.tensor([SAMPLE0_OFFSET[0] / res, SAMPLE0_OFFSET[1] / res, 0.0])


def twin_normals_at_bake_samples(graph, res: int) -> np.ndarray:
    """The twin's normals where a one-sample bake at res x res evaluates them: (res, res, 3)."""
    key = (graph.output, "Normal")
    with torch.no_grad():
        got = evaluate_sockets(graph, bake_sample_uv(res), None, 1.0, [key], bump_texel=1.0 / res)[key]
    return torch.as_tensor(got).expand(res, res, 3).numpy()


def twin_normals_box(graph, res: int, ss: int = 8) -> np.ndarray:
    """The twin's normals averaged as a many-sample bake at res x res averages them: (res, res, 3).

    `evaluate` at 2 * ss * res with the bake's differentials (bump_texel = 1 / res); the ss x ss sub-texels in the
    central half of each bake texel are averaged (ss >= 8: weaves at 0.125 texel period alias below that).
    """
    k = 2 * ss
    with torch.no_grad():
        n = evaluate(graph, None, res * k, bump_texel=1.0 / res)["normal"]
    lo = (k - ss) // 2
    return n.reshape(res, k, res, k, 3)[:, lo:lo + ss, :, lo:lo + ss].mean((1, 3)).numpy()
