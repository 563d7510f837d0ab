"""An artist's own procedural materials into their library: Blender material -> graph JSON with parameters.

`photo2scene materials import FILE.blend [--material NAME ...]` reads materials built from the vocabulary
(`blender_addon.builders.material.material_to_graph` names any other node in its error), makes their literal
colours and pattern scales optimisable parameters (`parameterise`), checks the twin against Blender's own field
evaluation of the same graph, and writes <user dir>/<category>/<name>.json with its thumbnails. Retrieval finds
them once the CLIP index is rebuilt (`stale_materials` says so until then).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from blender_addon.builders.material import UnsupportedMaterialError, material_to_graph
from p2s_common.errors import InputError

from .evaluate import evaluate, uv_grid
from .goldens.bpy_fields import eval_graph_on_points
from .graph import Graph, GraphError
from .library import list_materials, refresh
from .thumbs import render_thumbnails, require_bpy
from .vocabulary import NODES

# Float inputs that become parameters when left as literals (node type -> (socket, range factor or (lo, hi))).
# Pattern scales get x1/8..x8 around the artist's value; roughness-like inputs their whole natural range.
FLOAT_PARAMS: dict[str, dict[str, object]] = {
    "ShaderNodeTexNoise": {"Scale": 8.0, "Roughness": (0.0, 1.0), "Distortion": 8.0},
    "ShaderNodeTexVoronoi": {"Scale": 8.0},
    "ShaderNodeTexWave": {"Scale": 8.0, "Distortion": 8.0},
    "ShaderNodeTexBrick": {"Scale": 8.0, "Mortar Size": 8.0},
    "ShaderNodeTexChecker": {"Scale": 8.0},
    "ShaderNodeBsdfPrincipled": {"Roughness": (0.0, 1.0)},
    "ShaderNodeBump": {"Strength": (0.0, 1.0)},
}
MAX_ERROR = 1e-3  # twin vs Blender, any map: above it the import still happens, with a warning


@dataclass
class Imported:
    name: str
    path: Path
    params: int
    max_error: float  # twin vs Blender over every map at 24 x 24 texels


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_") or "material"


def parameterise(graph: dict) -> dict:
    """The graph with its literal colours (node inputs and ramp stops) and the `FLOAT_PARAMS` floats turned into
    optimisable parameters named <node>_<socket>, defaults = the artist's values. Inputs already bound to a
    parameter are left alone."""
    g = json.loads(json.dumps(graph))
    params = g.setdefault("params", {})

    def new_param(base: str, spec: dict) -> dict:
        name, i = slug(base), 2
        while name in params:
            name, i = f"{slug(base)}_{i}", i + 1
        params[name] = spec
        return {"param": name}

    for nid, node in g["nodes"].items():
        spec = NODES.get(node["type"])
        for key, value in list(node.get("inputs", {}).items()):
            if isinstance(value, dict):  # linked, or a parameter already
                continue
            try:
                kind = spec.input(key).kind
            except (AttributeError, KeyError):  # not a vocabulary socket: left as it is
                continue
            if kind == "color" and isinstance(value, list) and len(value) >= 3:
                node["inputs"][key] = new_param(f"{nid}_{key}", {"kind": "color", "default": value[:3]})
            elif kind == "float" and key in FLOAT_PARAMS.get(node["type"], {}):
                rule, v = FLOAT_PARAMS[node["type"]][key], float(value)
                lo, hi = rule if isinstance(rule, tuple) else (v / rule, v * rule) if v > 0 else (0.0, 1.0)
                node["inputs"][key] = new_param(f"{nid}_{key}", {"kind": "float", "default": v, "range": [lo, hi]})
        for i, stop in enumerate(node.get("props", {}).get("elements", [])):
            if isinstance(stop.get("color"), list):
                stop["color"] = new_param(f"{nid}_stop{i}", {"kind": "color", "default": stop["color"][:3]})
    return g


def twin_error(graph: dict, res: int = 24) -> float:
    """Max abs difference between the twin's maps and Blender's field evaluation of the same graph (bpy)."""
    ref = eval_graph_on_points(graph, uv_grid(res).reshape(-1, 3).numpy())
    maps = evaluate(Graph.from_dict(graph), None, res)
    errs = [np.abs(maps[k].detach().numpy().reshape(np.shape(v)) - v).max() for k, v in ref.items() if k in maps]
    return float(max(errs))


def import_blend(blend: Path, materials: list[str] | None, category: str, tags: list[str], out_dir: Path,
                 on_imported: Callable[[Imported], None] | None = None) -> tuple[list[Imported], list[str]]:
    """Import materials of a .blend into `out_dir` (one of `library.user_dirs()`); every convertible one when
    `materials` is None. Returns (imported, why others were skipped); `on_imported` hears of each one as it is
    done (a check and thumbnails take seconds). Names are checked against the library, files written
    atomically, thumbnails rendered."""
    bpy = require_bpy("importing Blender materials reads the .blend")

    blend = Path(blend)
    if not blend.is_file():
        raise InputError(f"{blend} does not exist; pass the .blend file holding the material(s) to import")
    if blend.suffix != ".blend":
        raise InputError(f"{blend} is not a .blend file; save the material(s) in Blender and pass that file")
    bpy.ops.wm.open_mainfile(filepath=str(blend))
    available = {m.name: m for m in bpy.data.materials if m.node_tree is not None}
    wanted = materials or sorted(available)
    missing = [m for m in wanted if m not in available]
    if missing:
        raise InputError(f"{blend.name} has no material {', '.join(map(repr, missing))} with a node tree "
                         f"(it has: {', '.join(sorted(available)) or 'none'})")
    graphs, skipped = [], []
    for m in wanted:
        try:
            graph = material_to_graph(available[m], slug(m), category, tags)
        except UnsupportedMaterialError as exc:
            if materials:  # asked for by name: say why it cannot be imported
                raise InputError(str(exc)) from None
            skipped.append(f"{m!r}: {exc}")
            continue
        graph["name"] = slug(m)
        graph["description"] = f"Imported from {blend.name}, material {m!r}"
        graphs.append(parameterise(graph))
    if not graphs:
        raise InputError(f"no material of {blend.name} uses only the photo2scene vocabulary:\n  " + "\n  ".join(skipped))
    taken = set(list_materials())
    clash = [g["name"] for g in graphs if g["name"] in taken]
    if clash:
        raise InputError(f"the library already has {', '.join(map(repr, clash))}: rename the Blender material(s) "
                         "or remove the existing one(s) first")
    out = []
    for graph in graphs:
        try:
            Graph.from_dict(graph)
        except GraphError as exc:
            raise InputError(f"material {graph['name']!r}: {exc}") from None
        error = twin_error(graph)
        path = Path(out_dir) / slug(category) / f"{graph['name']}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(json.dumps(graph, indent=1) + "\n")
        os.replace(tmp, path)
        refresh()
        render_thumbnails(graph["name"])
        out.append(Imported(graph["name"], path, len(graph["params"]), error))
        if on_imported is not None:
            on_imported(out[-1])
    return out, skipped
