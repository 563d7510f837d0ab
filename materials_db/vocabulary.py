"""The node vocabulary: one small description per Blender node type the library uses, with its twin.

A description names the Blender node (bl_idname), its input sockets (our JSON key, Blender's socket identifier,
kind, default), its outputs, its enum/bool properties with defaults, and the torch twin. The builder, the graph
validator and the evaluator all read these descriptions, so adding a node type means adding one entry here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from .twins import bump as _bump
from .twins import color as _color
from .twins import mathops as _math
from .twins import noise as _noise
from .twins import patterns as _pat
from .twins import voronoi as _vor


@dataclass(frozen=True)
class SocketSpec:
    name: str  # key in the graph JSON (Blender's socket name)
    kind: str  # 'float' | 'color' | 'vector'
    default: Any
    bl: str | None = None  # Blender socket identifier when the name is ambiguous (Mix, Math)
    scalar: bool = False  # must be a constant/parameter, not a per-texel link (loop counts depend on it)

    @property
    def identifier(self) -> str:
        return self.bl or self.name


@dataclass(frozen=True)
class NodeSpec:
    bl_idname: str
    label: str
    inputs: tuple[SocketSpec, ...]
    outputs: dict[str, str]  # name -> kind
    props: dict[str, Any] = field(default_factory=dict)  # name -> default (choices in `choices`)
    choices: dict[str, tuple] = field(default_factory=dict)
    twin: Callable[..., dict] | None = None
    out_bl: dict[str, str] = field(default_factory=dict)  # output name -> Blender identifier when ambiguous

    def input(self, name: str) -> SocketSpec:
        for s in self.inputs:
            if s.name == name:
                return s
        raise KeyError(f"{self.bl_idname} has no input {name!r} (has {[s.name for s in self.inputs]})")


F, C, V = "float", "color", "vector"
GREY8, GREY2, BLACK = (0.8, 0.8, 0.8), (0.2, 0.2, 0.2), (0.0, 0.0, 0.0)


def _noise_twin(i, p, ctx):
    return _noise.noise_texture(
        i["Vector"], i["Scale"], i["Detail"], i["Roughness"], i["Lacunarity"], i["Offset"], i["Gain"],
        i["Distortion"], p["noise_dimensions"], p["noise_type"], p["normalize"],
    )


def _voronoi_twin(i, p, ctx):
    return _vor.voronoi_texture(
        i["Vector"], i["Scale"], i["Detail"], i["Roughness"], i["Lacunarity"], i["Smoothness"], i["Exponent"],
        i["Randomness"], p["voronoi_dimensions"], p["feature"], p["distance"], p["normalize"],
    )


def _wave_twin(i, p, ctx):
    return _pat.wave_texture(
        i["Vector"], i["Scale"], i["Distortion"], i["Detail"], i["Detail Scale"], i["Detail Roughness"],
        i["Phase Offset"], p["wave_type"], p["bands_direction"], p["rings_direction"], p["wave_profile"],
    )


def _brick_twin(i, p, ctx):
    return _pat.brick_texture(
        i["Vector"], i["Color1"], i["Color2"], i["Mortar"], i["Scale"], i["Mortar Size"], i["Mortar Smooth"],
        i["Bias"], i["Brick Width"], i["Row Height"], p["offset"], p["offset_frequency"], p["squash"],
        p["squash_frequency"],
    )


def _mix_twin(i, p, ctx):
    if p["data_type"] == "FLOAT":
        return _color.mix_float(i["Factor"], ctx.as_float(i["A"]), ctx.as_float(i["B"]), p["clamp_factor"])
    return _color.mix_color(i["Factor"], ctx.as_color(i["A"]), ctx.as_color(i["B"]), p["blend_type"],
                            p["clamp_factor"], p["clamp_result"])


NODES: dict[str, NodeSpec] = {}


def _add(spec: NodeSpec) -> None:
    NODES[spec.bl_idname] = spec


_add(NodeSpec("ShaderNodeTexCoord", "Texture Coordinate", (), {"UV": V}))
_add(NodeSpec(
    "ShaderNodeMapping", "Mapping",
    (SocketSpec("Vector", V, (0.0, 0.0, 0.0)), SocketSpec("Location", V, (0.0, 0.0, 0.0)),
     SocketSpec("Rotation", V, (0.0, 0.0, 0.0)), SocketSpec("Scale", V, (1.0, 1.0, 1.0))),
    {"Vector": V}, {"vector_type": "POINT"}, {"vector_type": ("POINT", "TEXTURE", "VECTOR", "NORMAL")},
    lambda i, p, ctx: _math.mapping(i["Vector"], i["Location"], i["Rotation"], i["Scale"], p["vector_type"]),
))
_add(NodeSpec(
    "ShaderNodeTexNoise", "Noise Texture",
    (SocketSpec("Vector", V, None), SocketSpec("Scale", F, 5.0), SocketSpec("Detail", F, 2.0, scalar=True),
     SocketSpec("Roughness", F, 0.5), SocketSpec("Lacunarity", F, 2.0), SocketSpec("Offset", F, 0.0),
     SocketSpec("Gain", F, 1.0), SocketSpec("Distortion", F, 0.0)),
    {"Fac": F, "Color": C},
    {"noise_dimensions": "3D", "noise_type": "FBM", "normalize": True},
    {"noise_dimensions": ("2D", "3D"), "noise_type": _noise.NOISE_TYPES},
    _noise_twin,
))
_add(NodeSpec(
    "ShaderNodeTexVoronoi", "Voronoi Texture",
    (SocketSpec("Vector", V, None), SocketSpec("Scale", F, 5.0), SocketSpec("Detail", F, 0.0, scalar=True),
     SocketSpec("Roughness", F, 0.5, scalar=True), SocketSpec("Lacunarity", F, 2.0, scalar=True),
     SocketSpec("Smoothness", F, 1.0), SocketSpec("Exponent", F, 0.5), SocketSpec("Randomness", F, 1.0)),
    {"Distance": F, "Color": C, "Position": V},
    {"voronoi_dimensions": "3D", "feature": "F1", "distance": "EUCLIDEAN", "normalize": False},
    {"voronoi_dimensions": ("2D", "3D"), "feature": _vor.FEATURES, "distance": _vor.METRICS},
    _voronoi_twin,
))
_add(NodeSpec(
    "ShaderNodeTexWave", "Wave Texture",
    (SocketSpec("Vector", V, None), SocketSpec("Scale", F, 5.0), SocketSpec("Distortion", F, 0.0),
     SocketSpec("Detail", F, 2.0, scalar=True), SocketSpec("Detail Scale", F, 1.0),
     SocketSpec("Detail Roughness", F, 0.5), SocketSpec("Phase Offset", F, 0.0)),
    {"Color": C, "Fac": F},
    {"wave_type": "BANDS", "bands_direction": "X", "rings_direction": "X", "wave_profile": "SIN"},
    {"wave_type": ("BANDS", "RINGS"), "bands_direction": ("X", "Y", "Z", "DIAGONAL"),
     "rings_direction": ("X", "Y", "Z", "SPHERICAL"), "wave_profile": ("SIN", "SAW", "TRI")},
    _wave_twin,
))
_add(NodeSpec(
    "ShaderNodeTexBrick", "Brick Texture",
    (SocketSpec("Vector", V, None), SocketSpec("Color1", C, GREY8), SocketSpec("Color2", C, GREY2),
     SocketSpec("Mortar", C, BLACK), SocketSpec("Scale", F, 5.0), SocketSpec("Mortar Size", F, 0.02),
     SocketSpec("Mortar Smooth", F, 0.1), SocketSpec("Bias", F, 0.0), SocketSpec("Brick Width", F, 0.5),
     SocketSpec("Row Height", F, 0.25)),
    {"Color": C, "Fac": F},
    {"offset": 0.5, "offset_frequency": 2, "squash": 1.0, "squash_frequency": 2}, {},
    _brick_twin,
))
_add(NodeSpec(
    "ShaderNodeTexChecker", "Checker Texture",
    (SocketSpec("Vector", V, None), SocketSpec("Color1", C, GREY8), SocketSpec("Color2", C, GREY2),
     SocketSpec("Scale", F, 5.0)),
    {"Color": C, "Fac": F}, {}, {},
    lambda i, p, ctx: _pat.checker_texture(i["Vector"], i["Color1"], i["Color2"], i["Scale"]),
))
_add(NodeSpec(
    "ShaderNodeTexGradient", "Gradient Texture", (SocketSpec("Vector", V, None),), {"Color": C, "Fac": F},
    {"gradient_type": "LINEAR"}, {"gradient_type": _pat.GRADIENT_TYPES},
    lambda i, p, ctx: _pat.gradient_texture(i["Vector"], p["gradient_type"]),
))
_add(NodeSpec(
    "ShaderNodeValToRGB", "Color Ramp", (SocketSpec("Fac", F, 0.5),), {"Color": C, "Alpha": F},
    {"interpolation": "LINEAR", "elements": [{"position": 0.0, "color": [0, 0, 0, 1]},
                                             {"position": 1.0, "color": [1, 1, 1, 1]}]},
    {"interpolation": ("LINEAR", "EASE", "CONSTANT")},
    lambda i, p, ctx: _color.color_ramp(i["Fac"], *ctx.ramp(p["elements"]), p["interpolation"]),
))
_add(NodeSpec(
    "ShaderNodeMix", "Mix",
    (SocketSpec("Factor", F, 0.5, bl="Factor_Float"), SocketSpec("A", C, (0.5, 0.5, 0.5), bl="A_Color"),
     SocketSpec("B", C, (0.5, 0.5, 0.5), bl="B_Color")),
    {"Result": C},
    {"data_type": "RGBA", "blend_type": "MIX", "clamp_factor": True, "clamp_result": False},
    {"data_type": ("RGBA", "FLOAT"), "blend_type": _color.BLEND_TYPES},
    _mix_twin, out_bl={"Result": "Result_Color"},
))
_add(NodeSpec(
    "ShaderNodeMath", "Math",
    (SocketSpec("A", F, 0.5, bl="Value"), SocketSpec("B", F, 0.5, bl="Value_001"),
     SocketSpec("C", F, 0.5, bl="Value_002")),
    {"Value": F}, {"operation": "ADD", "use_clamp": False}, {"operation": _math.MATH_OPS},
    lambda i, p, ctx: _math.math_node(i["A"], i["B"], i["C"], p["operation"], p["use_clamp"]),
))
_add(NodeSpec(
    "ShaderNodeMapRange", "Map Range",
    (SocketSpec("Value", F, 1.0), SocketSpec("From Min", F, 0.0), SocketSpec("From Max", F, 1.0),
     SocketSpec("To Min", F, 0.0), SocketSpec("To Max", F, 1.0), SocketSpec("Steps", F, 4.0)),
    {"Result": F}, {"interpolation_type": "LINEAR", "clamp": True},
    {"interpolation_type": ("LINEAR", "STEPPED", "SMOOTHSTEP", "SMOOTHERSTEP")},
    lambda i, p, ctx: _math.map_range(i["Value"], i["From Min"], i["From Max"], i["To Min"], i["To Max"],
                                      i["Steps"], p["interpolation_type"], p["clamp"]),
))
_add(NodeSpec(
    "ShaderNodeClamp", "Clamp",
    (SocketSpec("Value", F, 1.0), SocketSpec("Min", F, 0.0), SocketSpec("Max", F, 1.0)),
    {"Result": F}, {"clamp_type": "MINMAX"}, {"clamp_type": ("MINMAX", "RANGE")},
    lambda i, p, ctx: _math.clamp_node(i["Value"], i["Min"], i["Max"], p["clamp_type"]),
))
_add(NodeSpec(
    "ShaderNodeBump", "Bump",
    (SocketSpec("Strength", F, 1.0), SocketSpec("Distance", F, 0.001), SocketSpec("Filter Width", F, 0.1, scalar=True),
     SocketSpec("Height", F, 1.0)),
    {"Normal": V}, {"invert": False}, {},
    _bump.bump_node,
))
_add(NodeSpec(
    "ShaderNodeBsdfPrincipled", "Principled BSDF",
    (SocketSpec("Base Color", C, GREY8), SocketSpec("Roughness", F, 0.5), SocketSpec("Metallic", F, 0.0),
     SocketSpec("Normal", V, None)),
    {"BSDF": "shader"},
))

OUTPUT_NODE = "ShaderNodeBsdfPrincipled"


def out_kind(node: dict, out: str) -> str:
    """Kind of a graph node's output `out`; Mix's Result follows its data_type (the one output whose kind varies)."""
    if node["type"] == "ShaderNodeMix" and node.get("props", {}).get("data_type", "RGBA") == "FLOAT":
        return "float"
    return NODES[node["type"]].outputs[out]
