"""Procedural materials as Blender node graphs, with differentiable torch twins verified against Blender.

Public API (used by the material+light stage):

- ``list_materials(category=None) -> list[str]``; ``load_graph(name_or_path) -> Graph``
- ``Graph.default_params(requires_grad=True) -> dict[str, Tensor]`` (normalised [0, 1]);
  ``clamp_params(params)`` after each optimiser step; ``Graph.values(params)`` for real units
- ``evaluate(graph, params, resolution) -> {base_color, roughness, metallic, normal, height}`` (torch maps)
- graph -> Blender material: ``blender_addon.builders.material.build_material(graph.to_dict())`` (bpy)
"""

from __future__ import annotations

from .evaluate import evaluate, evaluate_sockets, texel_size, uv_grid
from .graph import Graph, GraphError, Param, clamp_params
from .library import library_dir, list_materials, load_graph

__all__ = [
    "Graph", "GraphError", "Param", "clamp_params", "evaluate", "evaluate_sockets", "texel_size", "uv_grid",
    "library_dir", "list_materials", "load_graph",
]
