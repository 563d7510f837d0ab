"""The node vocabulary: one description per Blender node type the library uses, the single source of truth for it.

A `NodeSpec` names the Blender node (bl_idname, label, the node-editor frame the builder puts it in), its input
sockets (graph key, Blender identifier where the name is ambiguous, kind, default, the range the node clamps to,
whether it must be a constant), its outputs, its Blender-side properties (defaults, the choices the twin covers,
which live on the node's colour ramp), its torch twin and its fused-compiler emitter. The graph validator, the
node-by-node evaluator, the fused compiler's graph walk, the goldens and the Blender add-on's builder read it; the
add-on cannot import materials_db (it ships alone as an extension), so its tables are generated from here into
blender_addon/builders/node_table.py (`python -m materials_db.vocabulary --write-addon-table`;
tests/materials_db/test_vocabulary.py checks they agree).

Adding a node type takes:
1. its entry here, then regenerating the add-on table (the builder and the reader then handle it);
2. its torch twin (twins/*.py, `twin=`): the reference every other implementation is tested against, the one
   autograd differentiates node by node, and the fallback for anything the fused compiler does not cover;
3. optionally, a fused-compiler emitter (twins/fused_emit.py, `emit=`): per-texel code plus hand-derived adjoints;
   without one, a graph using the node raises `Unsupported` and `evaluate()` runs it node by node (correct,
   several times slower);
4. only for per-texel work too heavy for torch (Perlin/fBm, Voronoi): a taichi core (ti_*.py, used node by node
   and called from the fused taichi kernels) and its Dr.Jit mirror (jit_*.py): the fused compiler's generated
   lines run on both code targets, so a core called from an emitter needs both;
5. golden cases (goldens/cases.py: the twin against Blender) and a gradient case (tests/materials_db/
   test_gradients.py).
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from .twins import bump as _bump
from .twins import color as _color
from .twins import fused_emit as _fe
from .twins import mathops as _math
from .twins import noise as _noise
from .twins import patterns as _pat
from .twins import voronoi as _vor

INF = float("inf")


@dataclass(frozen=True)
class SocketSpec:
    name: str  # key in the graph JSON (Blender's socket name)
    kind: str  # 'float' | 'color' | 'vector'
    default: Any
    bl: str | None = None  # Blender socket identifier when the name is ambiguous (Mix, Math)
    scalar: bool = False  # must be a constant/parameter, not a per-texel link (loop counts depend on it)
    # the node clamps the value to this range before using it (Blender's kernel and the twin alike), so values
    # beyond it are equivalent to the bound; None: used as given
    range: tuple[float, float] | None = None

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
    twin: Callable[..., dict] | None = None  # the torch twin: (inputs, props, evaluator context) -> {output: tensor}
    out_bl: dict[str, str] = field(default_factory=dict)  # output name -> Blender identifier when ambiguous
    frame: str = ""  # node-editor frame the builder groups the node under
    ramp_props: tuple[str, ...] = ()  # props kept on the node's color_ramp, not the node (the builder sets them)
    # Blender inputs the twin does not cover: the add-on's reader still reads them, so a link there fails
    # validation by name instead of silently disappearing from the imported graph
    uncovered_inputs: tuple[str, ...] = ()
    # the fused compiler's emitter (twins/fused_emit.py): (Gen, props, input Vars, used outputs) -> {output: Var};
    # None: a graph using the node runs node by node (TexCoord, Bump and the Principled BSDF are the compiler's own)
    emit: Callable[..., dict] | None = None

    def input(self, name: str) -> SocketSpec:
        for s in self.inputs:
            if s.name == name:
                return s
        raise KeyError(f"{self.bl_idname} has no input {name!r} (has {[s.name for s in self.inputs]})")


F, C, V = "float", "color", "vector"
GREY8, GREY2, BLACK = (0.8, 0.8, 0.8), (0.2, 0.2, 0.2), (0.0, 0.0, 0.0)
DETAIL, UNIT = (0.0, 15.0), (0.0, 1.0)  # fractal octaves: Blender clamps Detail to 15
COORDS, PATTERNS, MATHS, SURFACE = "Coordinates", "Patterns", "Colour & maths", "Surface"  # editor frames


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


_add(NodeSpec("ShaderNodeTexCoord", "Texture Coordinate", (), {"UV": V}, frame=COORDS))
_add(NodeSpec(
    "ShaderNodeMapping", "Mapping",
    (SocketSpec("Vector", V, (0.0, 0.0, 0.0)), SocketSpec("Location", V, (0.0, 0.0, 0.0)),
     SocketSpec("Rotation", V, (0.0, 0.0, 0.0)), SocketSpec("Scale", V, (1.0, 1.0, 1.0))),
    {"Vector": V}, {"vector_type": "POINT"}, {"vector_type": ("POINT", "TEXTURE", "VECTOR", "NORMAL")},
    lambda i, p, ctx: _math.mapping(i["Vector"], i["Location"], i["Rotation"], i["Scale"], p["vector_type"]),
    frame=COORDS, emit=_fe.emit_mapping,
))
_add(NodeSpec(
    "ShaderNodeTexNoise", "Noise Texture",
    (SocketSpec("Vector", V, None), SocketSpec("Scale", F, 5.0),
     SocketSpec("Detail", F, 2.0, scalar=True, range=DETAIL), SocketSpec("Roughness", F, 0.5, range=(0.0, INF)),
     SocketSpec("Lacunarity", F, 2.0),
     SocketSpec("Offset", F, 0.0), SocketSpec("Gain", F, 1.0), SocketSpec("Distortion", F, 0.0)),
    {"Fac": F, "Color": C},
    {"noise_dimensions": "3D", "noise_type": "FBM", "normalize": True},
    {"noise_dimensions": ("2D", "3D"), "noise_type": _noise.NOISE_TYPES},
    _noise_twin, frame=PATTERNS, emit=_fe.emit_noise,
))
_add(NodeSpec(
    "ShaderNodeTexVoronoi", "Voronoi Texture",
    (SocketSpec("Vector", V, None), SocketSpec("Scale", F, 5.0),
     SocketSpec("Detail", F, 0.0, scalar=True, range=DETAIL), SocketSpec("Roughness", F, 0.5, scalar=True, range=UNIT),
     SocketSpec("Lacunarity", F, 2.0, scalar=True), SocketSpec("Smoothness", F, 1.0, range=UNIT),
     SocketSpec("Exponent", F, 0.5), SocketSpec("Randomness", F, 1.0, range=UNIT)),
    {"Distance": F, "Color": C, "Position": V},
    {"voronoi_dimensions": "3D", "feature": "F1", "distance": "EUCLIDEAN", "normalize": False},
    {"voronoi_dimensions": ("2D", "3D"), "feature": _vor.FEATURES, "distance": _vor.METRICS},
    _voronoi_twin, frame=PATTERNS, emit=_fe.emit_voronoi,
))
_add(NodeSpec(
    "ShaderNodeTexWave", "Wave Texture",
    (SocketSpec("Vector", V, None), SocketSpec("Scale", F, 5.0), SocketSpec("Distortion", F, 0.0),
     SocketSpec("Detail", F, 2.0, scalar=True, range=DETAIL), SocketSpec("Detail Scale", F, 1.0),
     SocketSpec("Detail Roughness", F, 0.5), SocketSpec("Phase Offset", F, 0.0)),
    {"Color": C, "Fac": F},
    {"wave_type": "BANDS", "bands_direction": "X", "rings_direction": "X", "wave_profile": "SIN"},
    {"wave_type": ("BANDS", "RINGS"), "bands_direction": ("X", "Y", "Z", "DIAGONAL"),
     "rings_direction": ("X", "Y", "Z", "SPHERICAL"), "wave_profile": ("SIN", "SAW", "TRI")},
    _wave_twin, frame=PATTERNS, emit=_fe.emit_wave,
))
_add(NodeSpec(
    "ShaderNodeTexBrick", "Brick Texture",
    (SocketSpec("Vector", V, None), SocketSpec("Color1", C, GREY8), SocketSpec("Color2", C, GREY2),
     SocketSpec("Mortar", C, BLACK), SocketSpec("Scale", F, 5.0), SocketSpec("Mortar Size", F, 0.02),
     SocketSpec("Mortar Smooth", F, 0.1), SocketSpec("Bias", F, 0.0), SocketSpec("Brick Width", F, 0.5),
     SocketSpec("Row Height", F, 0.25)),
    {"Color": C, "Fac": F},
    {"offset": 0.5, "offset_frequency": 2, "squash": 1.0, "squash_frequency": 2}, {},
    _brick_twin, frame=PATTERNS, emit=_fe.emit_brick,
))
_add(NodeSpec(
    "ShaderNodeTexChecker", "Checker Texture",
    (SocketSpec("Vector", V, None), SocketSpec("Color1", C, GREY8), SocketSpec("Color2", C, GREY2),
     SocketSpec("Scale", F, 5.0)),
    {"Color": C, "Fac": F}, {}, {},
    lambda i, p, ctx: _pat.checker_texture(i["Vector"], i["Color1"], i["Color2"], i["Scale"]),
    frame=PATTERNS, emit=_fe.emit_checker,
))
_add(NodeSpec(
    "ShaderNodeTexGradient", "Gradient Texture", (SocketSpec("Vector", V, None),), {"Color": C, "Fac": F},
    {"gradient_type": "LINEAR"}, {"gradient_type": _pat.GRADIENT_TYPES},
    lambda i, p, ctx: _pat.gradient_texture(i["Vector"], p["gradient_type"]), frame=PATTERNS,
))
_add(NodeSpec(
    "ShaderNodeValToRGB", "Color Ramp", (SocketSpec("Fac", F, 0.5),), {"Color": C, "Alpha": F},
    {"interpolation": "LINEAR", "elements": [{"position": 0.0, "color": [0, 0, 0, 1]},
                                             {"position": 1.0, "color": [1, 1, 1, 1]}]},
    {"interpolation": ("LINEAR", "EASE", "CONSTANT")},
    lambda i, p, ctx: _color.color_ramp(i["Fac"], *ctx.ramp(p["elements"]), p["interpolation"]),
    frame=MATHS, ramp_props=("interpolation", "elements"), emit=_fe.emit_ramp,
))
_add(NodeSpec(
    "ShaderNodeMix", "Mix",
    (SocketSpec("Factor", F, 0.5, bl="Factor_Float"), SocketSpec("A", C, (0.5, 0.5, 0.5), bl="A_Color"),
     SocketSpec("B", C, (0.5, 0.5, 0.5), bl="B_Color")),
    {"Result": C},
    {"data_type": "RGBA", "blend_type": "MIX", "clamp_factor": True, "clamp_result": False},
    {"data_type": ("RGBA", "FLOAT"), "blend_type": _color.BLEND_TYPES},
    _mix_twin, out_bl={"Result": "Result_Color"}, frame=MATHS, emit=_fe.emit_mix,
))
_add(NodeSpec(
    "ShaderNodeMath", "Math",
    (SocketSpec("A", F, 0.5, bl="Value"), SocketSpec("B", F, 0.5, bl="Value_001"),
     SocketSpec("C", F, 0.5, bl="Value_002")),
    {"Value": F}, {"operation": "ADD", "use_clamp": False}, {"operation": _math.MATH_OPS},
    lambda i, p, ctx: _math.math_node(i["A"], i["B"], i["C"], p["operation"], p["use_clamp"]),
    frame=MATHS, emit=_fe.emit_math,
))
_add(NodeSpec(
    "ShaderNodeMapRange", "Map Range",
    (SocketSpec("Value", F, 1.0), SocketSpec("From Min", F, 0.0), SocketSpec("From Max", F, 1.0),
     SocketSpec("To Min", F, 0.0), SocketSpec("To Max", F, 1.0), SocketSpec("Steps", F, 4.0)),
    {"Result": F}, {"interpolation_type": "LINEAR", "clamp": True},
    {"interpolation_type": ("LINEAR", "STEPPED", "SMOOTHSTEP", "SMOOTHERSTEP")},
    lambda i, p, ctx: _math.map_range(i["Value"], i["From Min"], i["From Max"], i["To Min"], i["To Max"],
                                      i["Steps"], p["interpolation_type"], p["clamp"]),
    frame=MATHS, emit=_fe.emit_map_range,
))
_add(NodeSpec(
    "ShaderNodeClamp", "Clamp",
    (SocketSpec("Value", F, 1.0), SocketSpec("Min", F, 0.0), SocketSpec("Max", F, 1.0)),
    {"Result": F}, {"clamp_type": "MINMAX"}, {"clamp_type": ("MINMAX", "RANGE")},
    lambda i, p, ctx: _math.clamp_node(i["Value"], i["Min"], i["Max"], p["clamp_type"]), frame=MATHS,
    emit=_fe.emit_clamp,
))
_add(NodeSpec(
    "ShaderNodeBump", "Bump",
    (SocketSpec("Strength", F, 1.0, range=(0.0, INF)), SocketSpec("Distance", F, 0.001),
     SocketSpec("Filter Width", F, 0.1, scalar=True), SocketSpec("Height", F, 1.0)),
    {"Normal": V}, {"invert": False}, {},
    _bump.bump_node, frame=SURFACE, uncovered_inputs=("Normal",),
))
_add(NodeSpec(
    "ShaderNodeBsdfPrincipled", "Principled BSDF",
    (SocketSpec("Base Color", C, GREY8), SocketSpec("Roughness", F, 0.5), SocketSpec("Metallic", F, 0.0),
     SocketSpec("Normal", V, None)),
    {"BSDF": "shader"}, frame=SURFACE,
))

OUTPUT_NODE = "ShaderNodeBsdfPrincipled"


def out_kind(node: dict, out: str) -> str:
    """Kind of a graph node's output `out`; Mix's Result follows its data_type (the one output whose kind varies)."""
    if node["type"] == "ShaderNodeMix" and node.get("props", {}).get("data_type", "RGBA") == "FLOAT":
        return "float"
    return NODES[node["type"]].outputs[out]


# ---------------------------------------------------------------------------------------------------------------
# the Blender add-on's copy (it ships alone and cannot import this package)

ADDON_TABLE = Path(__file__).resolve().parents[1] / "blender_addon" / "builders" / "node_table.py"


def _table(name: str, doc: str, rows: dict[str, Any]) -> list[str]:
    """`NAME: type = {key: value}` as source, one key a line, long tuples wrapped under 120 columns."""
    q = json.dumps  # double-quoted literals, as the rest of the code base
    kind = "tuple[str, ...]" if all(isinstance(v, tuple) for v in rows.values()) else "str"
    lines = [f"# {doc}", f"{name}: dict[str, {kind}] = {{"]
    for key, value in rows.items():
        if not isinstance(value, tuple):
            lines.append(f"    {q(key)}: {q(value)},")
            continue
        items = [q(v) for v in value]
        line = f"    {q(key)}: ("
        for n, item in enumerate(items):
            piece = item + ("," if n + 1 < len(items) or len(items) == 1 else "")
            if len(line) + len(piece) + 3 > 120:
                lines.append(line.rstrip())
                line = "        "
            line += piece + " "
        lines.append(line.rstrip() + "),")
    return lines + ["}"]


def addon_table_source() -> str:
    """The add-on builder's tables (blender_addon/builders/node_table.py), derived from NODES."""
    props = {t: tuple(k for k in s.props if k not in s.ramp_props) for t, s in NODES.items()}
    inputs = {t: tuple(x.name for x in s.inputs) + s.uncovered_inputs for t, s in NODES.items()}
    frames = {t: s.frame for t, s in NODES.items() if s.frame}
    out = [
        '"""Generated by `python -m materials_db.vocabulary --write-addon-table`; do not edit.',
        "",
        "The node vocabulary (materials_db/vocabulary.py) as the material builder needs it. The add-on ships alone",
        "(a Blender extension) and cannot import materials_db, hence a generated copy;",
        "tests/materials_db/test_vocabulary.py checks it matches the vocabulary.",
        '"""',
        "",
        "from __future__ import annotations",
        "",
    ]
    out += _table("PROPS", "node properties the builder sets and the reader reads (colour-ramp ones are handled apart)",
                  props)
    out += _table("INPUTS", "input sockets the builder sets and the reader reads, by graph key", inputs)
    out += _table("FRAMES", "node-editor frame per node type (readable grouping)", frames)
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m materials_db.vocabulary", description=__doc__.splitlines()[0])
    ap.add_argument("--write-addon-table", action="store_true",
                    help=f"regenerate {ADDON_TABLE.relative_to(ADDON_TABLE.parents[2])} from the vocabulary")
    args = ap.parse_args(argv)
    if not args.write_addon_table:
        ap.print_help()
        return 2
    ADDON_TABLE.write_text(addon_table_source())
    print(f"wrote {ADDON_TABLE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
