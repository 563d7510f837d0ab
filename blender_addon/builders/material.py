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
from .param_names import param_labels

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


# Frames by meaning, top to bottom. A node's frame: its type's (coordinates, patterns) or else what it feeds on
# the Principled BSDF (colour, roughness, bump); a node feeding more than one of those is a shared pattern.
PARAMS_NODE = "p2s_params"  # the group node holding the parameters an artist edits
PARAMS_FRAME, PATTERN, OTHER = "Parameters", "Pattern", "Other"
FRAME_ORDER = (PARAMS_FRAME, "Coordinates", PATTERN, "Colour", "Roughness", "Metallic", "Bump / Normal",
               "Surface", OTHER)
_ROLE_OF_BSDF_INPUT = {"Base Color": "Colour", "Roughness": "Roughness", "Metallic": "Metallic",
                       "Normal": "Bump / Normal"}
_TYPE_FRAME = {"Coordinates": "Coordinates", "Patterns": PATTERN}  # node_table.FRAMES kept as they are
RAMP_MIX = "__colours"  # suffix of the Mix node that carries a colour ramp's parameter colours
_SOCKET_TYPES = {"float": "NodeSocketFloat", "color": "NodeSocketColor", "vector": "NodeSocketVector"}
_X_STEP, _GAP, _BAND_GAP = 320.0, 40.0, 120.0


def node_frames(graph: dict) -> dict[str, str]:
    """Frame name of every node of a checked graph (see FRAME_ORDER)."""
    nodes, out = graph["nodes"], graph.get("output", "bsdf")
    depth = _depths(graph)
    roles: dict[str, set[str]] = {nid: set() for nid in nodes}
    for key, v in (nodes[out].get("inputs") or {}).items():
        if isinstance(v, dict) and "link" in v:
            roles[v["link"].partition(".")[0]].add(_ROLE_OF_BSDF_INPUT.get(key, "Surface"))
    # consumers sit in lower columns than what they read, so one pass by depth carries roles upstream
    for nid in sorted(nodes, key=lambda n: depth[n]):
        if nid != out:
            for src in _links(nodes[nid]):
                roles[src] |= roles[nid]
    frames = {}
    for nid, node in nodes.items():
        by_type = _TYPE_FRAME.get(FRAMES.get(node["type"], ""))
        if nid == out or node["type"] == "ShaderNodeBsdfPrincipled":
            frames[nid] = "Surface"
        elif by_type:
            frames[nid] = by_type
        elif len(roles[nid]) == 1:
            frames[nid] = next(iter(roles[nid]))
        else:
            frames[nid] = PATTERN if roles[nid] else OTHER
    return frames


def _socket_params(graph: dict) -> list[str]:
    """Continuous parameters bound to input sockets or colour-ramp colours: those the group node carries."""
    params, used, mixed = graph.get("params", {}), [], _mix_ramps(graph)
    for nid, node in graph["nodes"].items():
        refs = [v for v in (node.get("inputs") or {}).values() if isinstance(v, dict) and "param" in v]
        if nid in mixed:
            refs += [e["color"] for e in node["props"]["elements"]]
        for v in refs:
            kind = params[v["param"]].get("kind", "float")
            if kind in _SOCKET_TYPES and v["param"] not in used:
                used.append(v["param"])
    return used


def _mix_ramps(graph: dict) -> set[str]:
    """Two-stop colour ramps whose stop colours are both parameters (and whose Alpha nothing reads): built as a
    black-to-white ramp (its Alpha is the blend factor, exact for LINEAR and CONSTANT) and a Mix of the two
    colours, so the colours are sockets the parameter group can drive."""
    alpha_read = {v["link"].partition(".")[0] for n in graph["nodes"].values()
                  for v in (n.get("inputs") or {}).values()
                  if isinstance(v, dict) and isinstance(v.get("link"), str) and v["link"].endswith(".Alpha")}
    out = set()
    for nid, node in graph["nodes"].items():
        props = node.get("props") or {}
        els = props.get("elements") or []
        if (node["type"] == "ShaderNodeValToRGB" and len(els) == 2 and nid not in alpha_read
                and props.get("interpolation", "LINEAR") in ("LINEAR", "CONSTANT")
                and all(isinstance(e, dict) and isinstance(e.get("color"), dict) and "param" in e["color"]
                        for e in els)):
            out.add(nid)
    return out


def _node_height(bn) -> float:
    """Height the node takes in the editor (headless Blender has no drawn dimensions): sockets and widgets."""
    rows = sum(1 for s in bn.outputs if s.enabled and not s.hide) + \
        sum(1 for s in bn.inputs if s.enabled and not s.hide)
    widgets = len(PROPS.get(bn.bl_idname, ())) + (6 if bn.bl_idname == "ShaderNodeValToRGB" else 0)
    if bn.bl_idname == "ShaderNodeBsdfPrincipled":
        rows = 14  # most of its inputs sit in collapsed panels
    return 60.0 + 22.0 * rows + 26.0 * widgets


def _layout(tree, built: dict, frames: dict[str, str], depth: dict[str, int]) -> None:
    """Columns by depth (the output on the right); frames placed in FRAME_ORDER, each as high as it can go below
    the frames already placed over the same columns (a skyline), so frames never overlap and the tree stays
    compact."""
    frame_nodes = {}
    for name in FRAME_ORDER:
        members = [nid for nid in built if frames[nid] == name]
        if not members:
            continue
        fr = tree.nodes.new("NodeFrame")
        fr.name, fr.label = f"frame_{name}", name
        frame_nodes[name] = (fr, members)
    placed: list[tuple[int, int, float]] = []  # (first column, last column, bottom y) of each frame so far
    for name, (fr, members) in frame_nodes.items():
        first, last = min(depth[n] for n in members), max(depth[n] for n in members)
        below = [bottom for lo, hi, bottom in placed if lo <= last + 1 and first <= hi + 1]  # a column's margin
        top = min(below) - _BAND_GAP if below else 0.0
        columns: dict[int, float] = {}
        for nid in sorted(members, key=lambda n: (depth[n], list(built).index(n))):
            bn = built[nid]
            bn.parent = fr
            y = top - columns.get(depth[nid], 0.0)
            loc = (-_X_STEP * depth[nid], y)
            if hasattr(bn, "location_absolute"):  # Blender >= 4.4: location is relative to the frame
                bn.location_absolute = loc
            else:
                bn.location = loc
            columns[depth[nid]] = columns.get(depth[nid], 0.0) + _node_height(bn) + _GAP
        placed.append((first, last, top - max(columns.values())))


def _params_group(mat_name: str, graph: dict, used: list[str], pvals: dict, labels: dict[str, str]):
    """A node group with one input and one output per parameter (named for people, with the parameter's range),
    each input passed straight to its output; the group node's input values are the parameter values."""
    import bpy

    params = graph.get("params", {})
    group = bpy.data.node_groups.new(f"{mat_name} parameters", "ShaderNodeTree")
    gin, gout = group.nodes.new("NodeGroupInput"), group.nodes.new("NodeGroupOutput")
    gin.location, gout.location = (-200.0, 0.0), (200.0, 0.0)
    pairs = []
    for pid in used:
        spec, stype = params[pid], _SOCKET_TYPES[params[pid].get("kind", "float")]
        sin = group.interface.new_socket(labels[pid], in_out="INPUT", socket_type=stype)
        sout = group.interface.new_socket(labels[pid], in_out="OUTPUT", socket_type=stype)
        sin.description = sout.description = f"photo2scene parameter {pid}"
        if stype != "NodeSocketColor":
            value = pvals[pid]
            flat = [float(x) for x in (value if isinstance(value, (list, tuple)) else [value])]
            lo, hi = (float(x) for x in spec.get("range", (0.0, 1.0)))
            # the range, widened to hold the value: clamping it would change the material
            sin.min_value, sin.max_value = min([lo] + flat), max([hi] + flat)
        pairs.append((sin.identifier, sout.identifier))
    for i, o in pairs:
        group.links.new(_by_id(gin.outputs, i), _by_id(gout.inputs, o))
    return group


def build_material(graph: dict, name: str | None = None, values: dict[str, Any] | None = None,
                   material=None):
    """Create (or rebuild into `material`) a Blender material from a graph dict. Returns the material.

    The tree reads like the graph: frames by meaning (node_frames) laid out in columns, node labels that are the
    names of the parameters they use, and the continuous parameters on one group node (`p2s_params`) whose inputs
    ("Grain scale", "Wood dark") an artist edits; `material_to_graph` reads all of it back."""
    check_graph(graph, f"material graph {name or (graph.get('name') if isinstance(graph, dict) else None)!r}")
    import bpy

    pvals = {k: p["default"] for k, p in graph.get("params", {}).items()}
    pvals.update(values or {})
    labels = param_labels(graph.get("params", {}))

    def res(v):
        return pvals[v["param"]] if isinstance(v, dict) and "param" in v else v

    mat = material or bpy.data.materials.new(name or graph["name"])
    tree = mat.node_tree
    if tree is None:  # older files; new materials already have a tree in Blender 5
        mat.use_nodes = True
        tree = mat.node_tree
    old_group = tree.nodes.get(PARAMS_NODE)
    old_group = old_group.node_tree if old_group is not None and old_group.bl_idname == "ShaderNodeGroup" else None
    tree.nodes.clear()
    if old_group is not None and old_group.users == 0:
        bpy.data.node_groups.remove(old_group)
    depth = _depths(graph)
    frames = node_frames(graph)
    used = _socket_params(graph)
    mixed = _mix_ramps(graph)
    built = {}
    ramp_mix = {}
    for nid, node in graph["nodes"].items():
        t = node["type"]
        if t not in PROPS:
            raise UnsupportedMaterialError(f"node {nid!r}: type {t!r} is not in the photo2scene vocabulary")
        bn = tree.nodes.new(t)
        bn.name = nid
        bn.label = node.get("label") or ", ".join(labels[p] for p in dict.fromkeys(_params_used(node)))
        props = node.get("props", {})
        if t == "ShaderNodeMix":  # Blender's default is FLOAT; the graph format's default is RGBA
            bn.data_type = props.get("data_type", "RGBA")
        as_mix = nid in mixed
        for k, v in props.items():
            if k == "elements":
                cr = bn.color_ramp
                els = sorted(((float(res(e["position"])), list(res(e["color"]))) for e in v), key=lambda e: e[0])
                if as_mix:  # black to white (alpha 0 to 1): the Mix below puts the colours in
                    els = [(els[0][0], [0.0, 0.0, 0.0, 0.0]), (els[1][0], [1.0, 1.0, 1.0, 1.0])]
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
        if as_mix:
            mix = tree.nodes.new("ShaderNodeMix")
            mix.name, mix.data_type, mix.blend_type = nid + RAMP_MIX, "RGBA", "MIX"
            mix.label = bn.label
            ordered = sorted(props["elements"], key=lambda e: float(res(e["position"])))
            ramp_mix[nid] = (mix, [e["color"] for e in ordered])
        built[nid] = bn
    group_node = None
    if used:
        group_node = tree.nodes.new("ShaderNodeGroup")
        group_node.name, group_node.label = PARAMS_NODE, "Parameters"
        group_node.node_tree = _params_group(mat.name, graph, used, pvals, labels)
        group_node.width = 240.0
        for pid in used:
            _set_value(group_node.inputs[labels[pid]], pvals[pid])

    def feed(sock, v) -> None:
        """Put an input's value in: a link, a parameter (from the group node where it carries it), a literal."""
        if isinstance(v, dict) and "link" in v:
            src, _, out = v["link"].partition(".")
            if src in ramp_mix and out == "Color":
                tree.links.new(_output_socket(ramp_mix[src][0], "Result"), sock)
            else:
                tree.links.new(_output_socket(built[src], out), sock)
        elif isinstance(v, dict) and "param" in v and group_node is not None and v["param"] in used:
            _set_value(sock, res(v))  # the same value unlinked: a removed group leaves the material as it was
            tree.links.new(group_node.outputs[labels[v["param"]]], sock)
        else:
            _set_value(sock, res(v))

    for nid, node in graph["nodes"].items():
        bn = built[nid]
        for key, v in node.get("inputs", {}).items():
            feed(_input_socket(bn, key), v)
    for nid, (mix, colours) in ramp_mix.items():
        tree.links.new(built[nid].outputs["Alpha"], _input_socket(mix, "Factor"))
        feed(_input_socket(mix, "A"), colours[0])
        feed(_input_socket(mix, "B"), colours[1])
    everything = dict(built)
    for nid, (mix, _) in ramp_mix.items():
        everything[mix.name] = mix
        frames[mix.name], depth[mix.name] = frames[nid], depth[nid]
        depth[nid] += 1  # the ramp now feeds its Mix: one column further left
    if group_node is not None:
        everything[PARAMS_NODE] = group_node
        frames[PARAMS_NODE], depth[PARAMS_NODE] = PARAMS_FRAME, max(depth.values()) + 1
    out = tree.nodes.new("ShaderNodeOutputMaterial")
    everything["Material Output"], frames["Material Output"], depth["Material Output"] = out, "Surface", -1
    _layout(tree, everything, frames, depth)
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
    # the builder's own helpers: the parameter group and the Mix nodes carrying colour-ramp colours
    params_node = tree.nodes.get(PARAMS_NODE)
    if params_node is not None and params_node.bl_idname != "ShaderNodeGroup":
        params_node = None
    mixes = {n.name[:-len(RAMP_MIX)]: n for n in tree.nodes
             if n.bl_idname == "ShaderNodeMix" and n.name.endswith(RAMP_MIX) and n.name[:-len(RAMP_MIX)] in tree.nodes}
    helpers = {m.name for m in mixes.values()} | ({PARAMS_NODE} if params_node is not None else set())
    bad = [f"{n.name!r} ({n.bl_idname})" for n in tree.nodes
           if n.bl_idname not in PROPS and n.bl_idname not in skip and n.name not in helpers]
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

    def read(sock):
        """An input as the graph holds it: a link, or its value (seen through the parameter group)."""
        if not sock.is_linked:
            v = _value(sock)
            return v[:3] if sock.type == "RGBA" else v
        link = sock.links[0]
        src, from_sock = link.from_node, link.from_socket
        while src.bl_idname == "NodeReroute":
            from_sock = src.inputs[0].links[0].from_socket
            src = from_sock.node
        if params_node is not None and src == params_node:
            return read(params_node.inputs[from_sock.name])  # the artist's value on the group node
        if src.name in helpers:  # a ramp's colour Mix: the graph links the ramp itself
            return {"link": f"{src.name[:-len(RAMP_MIX)]}.Color"}
        return {"link": f"{src.name}.{from_sock.identifier if src.bl_idname != 'ShaderNodeMix' else 'Result'}"}

    nodes: dict[str, dict] = {}
    for n in tree.nodes:
        if n.bl_idname in skip or n.name in helpers:
            continue
        entry: dict[str, Any] = {"type": n.bl_idname}
        props = {k: getattr(n, k) for k in PROPS[n.bl_idname]}
        if n.bl_idname == "ShaderNodeValToRGB":
            props["interpolation"] = n.color_ramp.interpolation
            props["elements"] = [{"position": round(e.position, 6), "color": [round(c, 6) for c in e.color]}
                                 for e in n.color_ramp.elements]
            if n.name in mixes and len(props["elements"]) == 2:  # the stop colours live on the Mix
                mix = mixes[n.name]
                for e, key in zip(props["elements"], ("A", "B")):
                    v = read(_input_socket(mix, key))
                    if not isinstance(v, dict):
                        e["color"] = [round(float(c), 6) for c in v[:3]] + [1.0]
        if props:
            entry["props"] = props
        ins = {}
        for key in INPUTS[n.bl_idname]:
            sock = _input_socket(n, key)
            if sock.is_linked or (hasattr(sock, "default_value")
                                  and not (key in ("Vector", "Normal") and sock.type == "VECTOR")):
                ins[key] = read(sock)
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
            # labels as the graph had them (the builder's are the parameters' names, made again on a build)
            graph["nodes"][nid].pop("label", None)
            if "label" in node:
                graph["nodes"][nid]["label"] = node["label"]
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
