"""Material builder: photo2scene material graph (JSON dict) <-> Blender shader node tree.

bpy + stdlib only (ships inside the Blender extension). The graph format is documented in docs/materials.md;
parameters resolve to their defaults unless `values` overrides them. The graph itself is stored on the material
(custom property ``photo2scene_graph``) so a round trip keeps parameter metadata; `material_to_graph` reads any
material built from the supported vocabulary and names unsupported nodes in its error.
"""

from __future__ import annotations

import json
from typing import Any

# per node type: the properties and inputs the builder sets and the reader reads, the editor frame
from ..scene_format import LIMITS, BundleError
from .node_table import FRAMES, INPUTS, PROPS  # generated from materials_db/vocabulary.py

GRAPH_PROP = "photo2scene_graph"
UV_NODE = "p2s_uv"  # the Mapping node carrying the material stage's texture transform (scale, rotation about Z)
FORMAT = "photo2scene.material/1"

_MATH_IDS = {"A": 0, "B": 1, "C": 2}


class UnsupportedMaterialError(ValueError):
    """A Blender material uses nodes (or settings) outside the photo2scene vocabulary."""


def _mix_type(node) -> str:
    return {"RGBA": "Color", "FLOAT": "Float", "VECTOR": "Vector"}.get(node.data_type, "Color")


def _by_id(sockets, ident: str):
    for s in sockets:
        if s.identifier == ident:
            return s
    raise KeyError(ident)


def _input_socket(node, name: str):
    """Graph keys are Blender socket identifiers (names where they are unique); Mix/Math are mapped."""
    t = node.bl_idname
    if t == "ShaderNodeMix":
        if name == "Factor":
            return _by_id(node.inputs, "Factor_Vector" if node.data_type == "VECTOR" else "Factor_Float")
        return _by_id(node.inputs, f"{name}_{_mix_type(node)}")
    if t == "ShaderNodeMath":
        return node.inputs[_MATH_IDS[name]]
    for s in node.inputs:
        if s.identifier == name:
            return s
    for s in node.inputs:
        if s.name == name and s.enabled:
            return s
    for s in node.inputs:  # unavailable in the current mode (e.g. Offset for fBm): still settable
        if s.name == name:
            return s
    raise KeyError(f"{node.bl_idname} has no input {name!r}")


def _output_socket(node, name: str):
    if node.bl_idname == "ShaderNodeMix":
        return _by_id(node.outputs, f"Result_{_mix_type(node)}")
    try:
        return _by_id(node.outputs, name)
    except KeyError:
        return node.outputs[name]


def _set_value(sock, value) -> None:
    if isinstance(value, (list, tuple)):
        n = len(sock.default_value)
        sock.default_value = (list(value) + [1.0] * n)[:n]
    else:
        sock.default_value = value


def _links(node: dict) -> list[str]:
    """The ids of the nodes feeding `node` (one per linked input)."""
    return [v["link"].partition(".")[0] for v in (node.get("inputs") or {}).values()
            if isinstance(v, dict) and "link" in v]


def _params_used(node: dict) -> list[str]:
    """The parameters `node` refers to, in its inputs and its colour-ramp elements."""
    values = list((node.get("inputs") or {}).values())
    for element in (node.get("props") or {}).get("elements") or []:
        if isinstance(element, dict):
            values += [element.get("position"), element.get("color")]
    return [v["param"] for v in values if isinstance(v, dict) and "param" in v]


def check_graph(graph: Any, where: str = "material graph", max_nodes: int = LIMITS.graph_nodes) -> None:
    """Raise BundleError (one line naming `where` and the node) unless `graph` is a graph the builder can build
    and terminate on: the format, at most `max_nodes` nodes of known types, links and parameters that exist, an
    output node, and no cycle. Run on every graph read from a bundle and again by `build_material`."""
    def fail(what: str) -> None:
        raise BundleError(f"{where}: {what}")

    if not isinstance(graph, dict) or graph.get("format") != FORMAT:
        fail(f"not a photo2scene material graph (format {FORMAT!r} expected)")
    nodes, params = graph.get("nodes"), graph.get("params", {})
    if not isinstance(nodes, dict) or not nodes:
        fail("nodes: expected an object of nodes keyed by id")
    if len(nodes) > max_nodes:
        fail(f"nodes: {len(nodes)} nodes is over the cap of {max_nodes} (raise Limits.graph_nodes to load it)")
    if not isinstance(params, dict) or not all(isinstance(p, dict) and "default" in p for p in params.values()):
        fail("params: expected an object of {default: ...} entries")
    for nid, node in nodes.items():
        if not isinstance(node, dict) or not isinstance(node.get("type"), str):
            fail(f"node {nid!r}: expected an object with a type")
        if node["type"] not in PROPS:
            fail(f"node {nid!r}: unknown node type {node['type']!r} (not in the photo2scene vocabulary)")
        for key in ("inputs", "props"):
            if not isinstance(node.get(key, {}), dict):
                fail(f"node {nid!r}: {key}: expected an object")
        for v in node.get("inputs", {}).values():
            if isinstance(v, dict) and "link" in v and not isinstance(v["link"], str):
                fail(f"node {nid!r}: a link must be 'node.output'")
        for src in _links(node):
            if src not in nodes:
                fail(f"node {nid!r}: links from {src!r}, which is not a node of the graph")
        for name in _params_used(node):
            if not isinstance(name, str) or name not in params:
                fail(f"node {nid!r}: parameter {name!r} is not defined in params")
    if graph.get("output", "bsdf") not in nodes:
        fail(f"output: {graph.get('output', 'bsdf')!r} is not a node of the graph")
    # Cycle check: iterative depth-first search (grey = on the current path); a link back to a grey node closes a
    # cycle. Iterative so that a long chain cannot exhaust the Python stack.
    state: dict[str, int] = {}  # 1 = on the path, 2 = done
    for start in nodes:
        if start in state:
            continue
        state[start] = 1
        stack = [(start, iter(_links(nodes[start])))]
        while stack:
            nid, feeding = stack[-1]
            src = next(feeding, None)
            if src is None:
                state[nid] = 2
                stack.pop()
            elif state.get(src) == 1:
                fail(f"the links form a cycle through node {src!r}")
            elif src not in state:
                state[src] = 1
                stack.append((src, iter(_links(nodes[src]))))


def _depths(graph: dict) -> dict[str, int]:
    """Column of each node: its distance (in links) from the output, so the tree reads left to right.
    `graph` has passed `check_graph` (acyclic), so every depth is below the node count."""
    nodes = graph["nodes"]
    depth = {graph.get("output", "bsdf"): 0}
    frontier = [graph.get("output", "bsdf")]
    while frontier:
        nxt = []
        for nid in frontier:
            for src in _links(nodes[nid]):
                if depth.get(src, -1) < depth[nid] + 1:
                    depth[src] = depth[nid] + 1
                    if depth[src] > len(nodes):  # only a cycle gets here; never loop on one
                        raise BundleError(f"material graph: the links form a cycle through node {src!r}")
                    nxt.append(src)
        frontier = nxt
    for nid in nodes:
        depth.setdefault(nid, 1)
    return depth


def build_material(graph: dict, name: str | None = None, values: dict[str, Any] | None = None,
                   material=None):
    """Create (or rebuild into `material`) a Blender material from a graph dict. Returns the material."""
    check_graph(graph, f"material graph {name or (graph.get('name') if isinstance(graph, dict) else None)!r}")
    import bpy

    pvals = {k: p["default"] for k, p in graph.get("params", {}).items()}
    pvals.update(values or {})

    def res(v):
        return pvals[v["param"]] if isinstance(v, dict) and "param" in v else v

    mat = material or bpy.data.materials.new(name or graph["name"])
    tree = mat.node_tree
    if tree is None:  # older files; new materials already have a tree in Blender 5
        mat.use_nodes = True
        tree = mat.node_tree
    tree.nodes.clear()
    depth = _depths(graph)
    rows: dict[int, int] = {}
    built = {}
    frames = {}
    for nid, node in graph["nodes"].items():
        t = node["type"]
        if t not in PROPS:
            raise UnsupportedMaterialError(f"node {nid!r}: type {t!r} is not in the photo2scene vocabulary")
        bn = tree.nodes.new(t)
        bn.name = nid
        params_here = sorted({v["param"] for v in node.get("inputs", {}).values() if isinstance(v, dict) and "param" in v})
        bn.label = node.get("label") or (f"{bn.bl_label} [{', '.join(params_here)}]" if params_here else nid)
        props = node.get("props", {})
        if t == "ShaderNodeMix":  # Blender's default is FLOAT; the graph format's default is RGBA
            bn.data_type = props.get("data_type", "RGBA")
        for k, v in props.items():
            if k == "elements":
                cr = bn.color_ramp
                els = sorted(((float(res(e["position"])), list(res(e["color"]))) for e in v), key=lambda e: e[0])
                while len(cr.elements) < len(els):
                    cr.elements.new(0.5)
                while len(cr.elements) > len(els):
                    cr.elements.remove(cr.elements[-1])
                for e, (p, c) in zip(cr.elements, els):
                    e.position = p
                    e.color = (c + [1.0])[:4]
            elif k == "interpolation" and t == "ShaderNodeValToRGB":
                bn.color_ramp.interpolation = res(v)
            elif k != "data_type":
                setattr(bn, k, res(v))
        col = depth[nid]
        row = rows.get(col, 0)
        rows[col] = row + 1
        bn.location = (-300.0 * col, -320.0 * row)
        frame_name = FRAMES.get(t)
        if frame_name:
            if frame_name not in frames:
                fr = tree.nodes.new("NodeFrame")
                fr.label = frame_name
                fr.name = f"frame_{frame_name}"
                frames[frame_name] = fr
            bn.parent = frames[frame_name]
        built[nid] = bn
    for nid, node in graph["nodes"].items():
        bn = built[nid]
        for key, v in node.get("inputs", {}).items():
            sock = _input_socket(bn, key)
            if isinstance(v, dict) and "link" in v:
                src, _, out = v["link"].partition(".")
                tree.links.new(_output_socket(built[src], out), sock)
            else:
                _set_value(sock, res(v))
    out = tree.nodes.new("ShaderNodeOutputMaterial")
    out.location = (300.0, 0.0)
    tree.links.new(built[graph.get("output", "bsdf")].outputs["BSDF"], out.inputs["Surface"])
    mat[GRAPH_PROP] = json.dumps(graph)
    return mat


def _value(sock):
    v = sock.default_value
    try:
        return [float(x) for x in v]
    except TypeError:
        return float(v) if isinstance(v, float) else v


def material_to_graph(mat, name: str | None = None, category: str = "custom", tags: list | None = None) -> dict:
    """Read a Blender material built from the vocabulary into a graph dict (parameters kept if it was ours)."""
    tree = mat.node_tree
    if tree is None:
        raise UnsupportedMaterialError(f"material {mat.name!r} has no node tree")
    skip = {"ShaderNodeOutputMaterial", "NodeFrame", "NodeReroute"}
    bad = [f"{n.name!r} ({n.bl_idname})" for n in tree.nodes if n.bl_idname not in PROPS and n.bl_idname not in skip]
    if bad:
        raise UnsupportedMaterialError(
            f"material {mat.name!r} uses nodes outside the photo2scene vocabulary: {', '.join(bad)}. "
            f"Supported: {', '.join(sorted(PROPS))}"
        )
    outs = [n for n in tree.nodes if n.bl_idname == "ShaderNodeOutputMaterial" and n.inputs["Surface"].is_linked]
    if not outs:
        raise UnsupportedMaterialError(f"material {mat.name!r} has no connected Material Output")
    surf = outs[0].inputs["Surface"].links[0].from_node
    if surf.bl_idname != "ShaderNodeBsdfPrincipled":
        raise UnsupportedMaterialError(f"material {mat.name!r}: the surface must be a Principled BSDF, not {surf.bl_idname}")
    old = json.loads(mat[GRAPH_PROP]) if GRAPH_PROP in mat.keys() else None
    nodes: dict[str, dict] = {}
    for n in tree.nodes:
        if n.bl_idname in skip:
            continue
        entry: dict[str, Any] = {"type": n.bl_idname}
        props = {k: getattr(n, k) for k in PROPS[n.bl_idname]}
        if n.bl_idname == "ShaderNodeValToRGB":
            props["interpolation"] = n.color_ramp.interpolation
            props["elements"] = [{"position": round(e.position, 6), "color": [round(c, 6) for c in e.color]}
                                 for e in n.color_ramp.elements]
        if props:
            entry["props"] = props
        ins = {}
        for key in INPUTS[n.bl_idname]:
            sock = _input_socket(n, key)
            if sock.is_linked:
                link = sock.links[0]
                src = link.from_node
                while src.bl_idname == "NodeReroute":
                    src = src.inputs[0].links[0].from_node
                out = link.from_socket.identifier if src.bl_idname != "ShaderNodeMix" else "Result"
                ins[key] = {"link": f"{src.name}.{out}"}
            elif hasattr(sock, "default_value") and not (key in ("Vector", "Normal") and sock.type == "VECTOR"):
                v = _value(sock)
                ins[key] = v[:3] if sock.type == "RGBA" else v  # colours are RGB in graphs
        if ins:
            entry["inputs"] = ins
        if n.label and n.label != n.name and not n.label.startswith(n.bl_label):
            entry["label"] = n.label
        nodes[n.name] = entry
    graph = {
        "format": FORMAT, "name": name or mat.name, "category": category, "tags": list(tags or []),
        "description": f"Imported from Blender material {mat.name!r}", "params": {}, "nodes": nodes,
        "output": surf.name,
    }
    if old and set(old.get("nodes", {})) == set(nodes):
        # ours, possibly edited: keep parameter metadata and references, take the edited literals
        graph.update({k: old[k] for k in ("category", "tags", "description", "params") if k in old})
        for nid, node in old["nodes"].items():
            for key, v in node.get("inputs", {}).items():
                if isinstance(v, dict) and "param" in v and key in graph["nodes"][nid].get("inputs", {}):
                    cur = graph["nodes"][nid]["inputs"][key]
                    if not (isinstance(cur, dict) and "link" in cur):
                        graph["params"][v["param"]]["default"] = cur
                        graph["nodes"][nid]["inputs"][key] = v
            for key, v in node.get("props", {}).items():
                if key == "elements":
                    for i, e in enumerate(v):
                        cur = graph["nodes"][nid]["props"]["elements"][i] if i < len(graph["nodes"][nid]["props"]["elements"]) else None
                        for part in ("position", "color"):
                            if cur is not None and isinstance(e[part], dict) and "param" in e[part]:
                                val = cur[part][:3] if part == "color" else cur[part]
                                graph["params"][e[part]["param"]]["default"] = val
                                cur[part] = e[part]
    return graph
