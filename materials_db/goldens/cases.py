"""Node-level golden cases: each regime of each node type, evaluated in Blender and by the twin at the same points.

A case is (name, bl_idname, props, inputs, field_inputs, outputs, ramp). `twin_case` runs the vocabulary's twin
on exactly what `bpy_fields.eval_node_on_points` feeds Blender, so the comparison covers the vocabulary's
socket mapping as well as the algorithms.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..evaluate import _Context  # noqa: F401  (ramp/conversion helpers used by twins)
from ..graph import Graph
from ..vocabulary import NODES
from .bpy_fields import eval_node_on_points

F, C, V = "FLOAT", "FLOAT_COLOR", "FLOAT_VECTOR"
TEX = {"Fac": F, "Color": C}
VOR = {"Distance": F, "Color": C, "Position": V}
RAMP3 = [(0.1, (0.2, 0.1, 0.05, 1.0)), (0.45, (0.8, 0.5, 0.3, 0.5)), (0.8, (0.9, 0.9, 0.7, 1.0))]


def _c(name, t, props=None, inputs=None, fields=None, outputs=None, ramp=None, tol=1e-4):
    return {"name": name, "type": t, "props": props or {}, "inputs": inputs or {}, "fields": fields or {},
            "outputs": outputs or {}, "ramp": ramp, "tol": tol}


CASES: list[dict[str, Any]] = []
for dim in ("2D", "3D"):
    for nt in ("FBM", "MULTIFRACTAL", "HYBRID_MULTIFRACTAL", "RIDGED_MULTIFRACTAL", "HETERO_TERRAIN"):
        CASES.append(_c(f"noise_{dim}_{nt}", "ShaderNodeTexNoise", {"noise_dimensions": dim, "noise_type": nt}, {}, {}, TEX))
    CASES.append(_c(f"noise_{dim}_fbm_distorted", "ShaderNodeTexNoise", {"noise_dimensions": dim},
                    {"Detail": 3.5, "Distortion": 0.7, "Roughness": 0.6, "Lacunarity": 2.3}, {}, TEX))
    CASES.append(_c(f"noise_{dim}_fbm_raw", "ShaderNodeTexNoise", {"noise_dimensions": dim, "normalize": False},
                    {"Detail": 0.0, "Scale": 13.0}, {}, TEX))
    for feat in ("F1", "F2", "SMOOTH_F1"):
        CASES.append(_c(f"voronoi_{dim}_{feat}", "ShaderNodeTexVoronoi", {"voronoi_dimensions": dim, "feature": feat}, {}, {}, VOR))
        CASES.append(_c(f"voronoi_{dim}_{feat}_fractal_norm", "ShaderNodeTexVoronoi",
                        {"voronoi_dimensions": dim, "feature": feat, "normalize": True},
                        {"Detail": 2.5, "Randomness": 0.7, "Smoothness": 0.4}, {}, VOR))
    CASES.append(_c(f"voronoi_{dim}_edge", "ShaderNodeTexVoronoi", {"voronoi_dimensions": dim, "feature": "DISTANCE_TO_EDGE"},
                    {"Scale": 9.0}, {}, {"Distance": F}))
    CASES.append(_c(f"voronoi_{dim}_manhattan", "ShaderNodeTexVoronoi", {"voronoi_dimensions": dim, "distance": "MANHATTAN"},
                    {}, {}, VOR))
for wt, dirs in (("BANDS", ("X", "Y", "DIAGONAL")), ("RINGS", ("Z", "SPHERICAL"))):
    for prof in ("SIN", "SAW", "TRI"):
        for d in dirs:
            key = "bands_direction" if wt == "BANDS" else "rings_direction"
            CASES.append(_c(f"wave_{wt}_{d}_{prof}", "ShaderNodeTexWave", {"wave_type": wt, "wave_profile": prof, key: d},
                            {"Distortion": 3.0, "Detail": 2.5, "Detail Scale": 2.0, "Phase Offset": 1.0}, {}, TEX))
CASES += [
    _c("checker", "ShaderNodeTexChecker", {}, {"Scale": 3.0}, {}, TEX),
    _c("brick_default", "ShaderNodeTexBrick", {}, {}, {}, TEX),
    _c("brick_squash_hard", "ShaderNodeTexBrick", {"offset": 0.3, "offset_frequency": 3, "squash": 0.6, "squash_frequency": 2},
       {"Mortar Size": 0.05, "Mortar Smooth": 0.0, "Bias": 0.3, "Brick Width": 0.7, "Row Height": 0.2, "Scale": 3.0}, {}, TEX),
    _c("brick_smooth_colors", "ShaderNodeTexBrick", {}, {"Mortar Smooth": 0.7, "Color1": (0.9, 0.3, 0.1, 1.0),
                                                         "Mortar": (0.5, 0.5, 0.4, 1.0)}, {}, TEX),
]
for gt in ("LINEAR", "QUADRATIC", "EASING", "DIAGONAL", "SPHERICAL", "QUADRATIC_SPHERE", "RADIAL"):
    CASES.append(_c(f"gradient_{gt}", "ShaderNodeTexGradient", {"gradient_type": gt}, {}, {}, TEX))
for interp in ("LINEAR", "EASE", "CONSTANT"):
    CASES.append(_c(f"ramp_{interp}", "ShaderNodeValToRGB", {"interpolation": interp}, {}, {"Fac": "x"},
                    {"Color": C, "Alpha": F}, RAMP3, tol=1e-3))
for bt in ("MIX", "ADD", "MULTIPLY", "SUBTRACT", "SCREEN", "DIVIDE", "DIFFERENCE", "DARKEN", "LIGHTEN", "OVERLAY",
           "SOFT_LIGHT", "LINEAR_LIGHT"):
    CASES.append(_c(f"mix_{bt}", "ShaderNodeMix", {"data_type": "RGBA", "blend_type": bt}, {"A": (0.3, 0.6, 0.9, 1.0)},
                    {"Factor": "x", "B": "pos"}, {"Result": C}, tol=1e-3))
CASES.append(_c("mix_float", "ShaderNodeMix", {"data_type": "FLOAT"}, {"A": 0.2, "B": 0.9}, {"Factor": "x"}, {"Result": F}, tol=1e-3))
for op in ("ADD", "SUBTRACT", "MULTIPLY", "DIVIDE", "MULTIPLY_ADD", "POWER", "MINIMUM", "MAXIMUM", "ABSOLUTE",
           "LESS_THAN", "GREATER_THAN", "SIGN", "ROUND", "FLOOR", "CEIL", "FRACT", "MODULO", "FLOORED_MODULO", "SNAP",
           "PINGPONG", "SINE", "COSINE", "SQRT"):
    CASES.append(_c(f"math_{op}", "ShaderNodeMath", {"operation": op}, {"C": 0.3}, {"A": "x", "B": "y"}, {"Value": F}))
for it in ("LINEAR", "STEPPED", "SMOOTHSTEP", "SMOOTHERSTEP"):
    for clamp in (True, False):
        CASES.append(_c(f"map_range_{it}_{clamp}", "ShaderNodeMapRange", {"interpolation_type": it, "clamp": clamp},
                        {"From Min": 0.2, "From Max": 0.7, "To Min": -1.0, "To Max": 2.0}, {"Value": "x"}, {"Result": F}))
CASES.append(_c("clamp_range", "ShaderNodeClamp", {"clamp_type": "RANGE"}, {"Min": 0.8, "Max": 0.1}, {"Value": "x"}, {"Result": F}))


def sample_points(n: int = 2000, seed: int = 0) -> np.ndarray:
    """Points in [-0.5, 1.5]^3 (textures) — components also drive the field inputs of non-texture nodes."""
    rng = np.random.default_rng(seed)
    return (rng.random((n, 3)) * 2.0 - 0.5).astype(np.float32)


def bl_identifier(case: dict, socket: str, output: bool = False) -> str:
    spec = NODES[case["type"]]
    if case["type"] == "ShaderNodeMix" and case["props"].get("data_type") == "FLOAT" and socket in ("A", "B", "Result"):
        return f"{socket}_Float"
    if output:
        return spec.out_bl.get(socket, socket)
    return spec.input(socket).identifier


def blender_case(case: dict, points: np.ndarray) -> dict[str, np.ndarray]:
    """Evaluate a case in Blender (bpy)."""
    props = dict(case["props"])
    ramp = None
    if case["ramp"] is not None:
        ramp = {"interpolation": props.pop("interpolation", "LINEAR"), "elements": case["ramp"]}
    if case["type"] == "ShaderNodeMix":
        props = {"data_type": props.pop("data_type"), **props}
    inputs = {bl_identifier(case, k): v for k, v in case["inputs"].items()}
    fields = {bl_identifier(case, k): v for k, v in case["fields"].items()}
    outs = {bl_identifier(case, k, True): v for k, v in case["outputs"].items()}
    res = eval_node_on_points(case["type"], points, props, inputs, fields, outs, ramp)
    back = {bl_identifier(case, k, True): k for k in case["outputs"]}
    return {back[k]: v for k, v in res.items()}


def twin_case(case: dict, points: np.ndarray, overrides: dict[str, torch.Tensor] | None = None) -> dict[str, torch.Tensor]:
    """Evaluate a case with the twin (through the vocabulary), optionally overriding inputs with tensors."""
    spec = NODES[case["type"]]
    p = torch.from_numpy(np.asarray(points, np.float32))
    comps = {"x": p[:, 0], "y": p[:, 1], "z": p[:, 2], "pos": p}
    props = {**spec.props, **case["props"]}
    if case["ramp"] is not None:
        props["elements"] = [{"position": pos, "color": list(col)} for pos, col in case["ramp"]]
    inputs: dict[str, Any] = {}
    for s in spec.inputs:
        if s.name in case["fields"]:
            v = comps[case["fields"][s.name]]
        elif s.name == "Vector" and case["type"].startswith("ShaderNodeTex"):
            v = p
        elif s.name in case["inputs"]:
            v = case["inputs"][s.name]
        else:
            v = s.default
        if s.scalar:
            v = float(v)
        elif v is not None and not torch.is_tensor(v):
            v = torch.as_tensor(v, dtype=torch.float32)
            if s.kind == "color" and v.shape[-1:] == (4,):
                v = v[..., :3]
        if overrides and s.name in overrides:
            v = overrides[s.name]
        inputs[s.name] = v
    g = Graph("case", {"n": {"type": case["type"]}, "bsdf": {"type": "ShaderNodeBsdfPrincipled"}}, "bsdf")
    ctx = _Context(g, {}, p, 1.0)
    return spec.twin(inputs, props, ctx)
