"""Evaluate Blender shader nodes as Geometry Nodes fields on points (deterministic, exact Blender values).

bpy only. A mesh of loose vertices carries the sample positions; a Geometry Nodes modifier wires Position (or
one of its components) into the node under test and stores each requested output as a named point attribute;
the evaluated mesh is read back with foreach_get.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..vocabulary import NODES


def _socket(sockets, key: str):
    for s in sockets:
        if s.identifier == key:
            return s
    for s in sockets:
        if s.name == key and getattr(s, "enabled", True) and not getattr(s, "is_unavailable", False):
            return s
    for s in sockets:
        if s.name == key:
            return s
    raise KeyError(f"no socket {key!r} among {[s.identifier for s in sockets]}")


def _reset() -> None:
    import bpy  # lazy here and below: Blender takes seconds to load; committed goldens are read without it

    bpy.ops.wm.read_homefile(use_empty=True)


def eval_node_on_points(
    node_type: str,
    points: np.ndarray,
    props: dict[str, Any] | None = None,
    inputs: dict[str, Any] | None = None,
    field_inputs: dict[str, str] | None = None,
    outputs: dict[str, str] | None = None,
    ramp: dict[str, Any] | None = None,
    reset: bool = True,
) -> dict[str, np.ndarray]:
    """Evaluate one node at `points` (N, 3).

    props: node properties (e.g. noise_dimensions); inputs: constant socket values by identifier or name;
    field_inputs: socket -> 'pos' | 'x' | 'y' | 'z' (driven per point from Position);
    outputs: socket -> 'FLOAT' | 'FLOAT_VECTOR' | 'FLOAT_COLOR'; ramp: {'interpolation', 'elements': [(pos, rgba)]}.
    """
    import bpy

    if reset:
        _reset()
    points = np.asarray(points, np.float32)
    mesh = bpy.data.meshes.new("pts")
    mesh.vertices.add(len(points))
    mesh.vertices.foreach_set("co", points.reshape(-1))
    mesh.update()
    obj = bpy.data.objects.new("pts", mesh)
    bpy.context.scene.collection.objects.link(obj)
    tree = bpy.data.node_groups.new("golden", "GeometryNodeTree")
    tree.interface.new_socket("Geometry", in_out="INPUT", socket_type="NodeSocketGeometry")
    tree.interface.new_socket("Geometry", in_out="OUTPUT", socket_type="NodeSocketGeometry")
    gin = tree.nodes.new("NodeGroupInput")
    gout = tree.nodes.new("NodeGroupOutput")
    pos = tree.nodes.new("GeometryNodeInputPosition")
    sep = tree.nodes.new("ShaderNodeSeparateXYZ")
    tree.links.new(pos.outputs[0], sep.inputs[0])
    node = tree.nodes.new(node_type)
    for k, v in (props or {}).items():
        setattr(node, k, v)
    if ramp is not None:
        cr = node.color_ramp
        cr.interpolation = ramp.get("interpolation", "LINEAR")
        els = ramp["elements"]
        while len(cr.elements) < len(els):
            cr.elements.new(0.5)
        for e, (p, c) in zip(cr.elements, sorted(els, key=lambda t: t[0])):
            e.position = p
            e.color = tuple(c) if len(c) == 4 else (*c, 1.0)
    for k, v in (inputs or {}).items():
        s = _socket(node.inputs, k)
        s.default_value = v
    field_inputs = dict(field_inputs or {})
    if node_type.startswith("ShaderNodeTex") and "Vector" not in field_inputs:
        field_inputs["Vector"] = "pos"
    for k, comp in field_inputs.items():
        src = pos.outputs[0] if comp == "pos" else sep.outputs["XYZ".index(comp.upper())]
        tree.links.new(src, _socket(node.inputs, k))
    geo = gin.outputs[0]
    names = {}
    for i, (out, dtype) in enumerate((outputs or {}).items()):
        store = tree.nodes.new("GeometryNodeStoreNamedAttribute")
        store.data_type = dtype
        store.domain = "POINT"
        name = f"o{i}"
        names[out] = (name, dtype)
        store.inputs["Name"].default_value = name
        tree.links.new(geo, store.inputs["Geometry"])
        tree.links.new(_socket(node.outputs, out), store.inputs["Value"])
        geo = store.outputs["Geometry"]
    tree.links.new(geo, gout.inputs[0])
    mod = obj.modifiers.new("golden", "NODES")
    mod.node_group = tree
    dg = bpy.context.evaluated_depsgraph_get()
    ev = obj.evaluated_get(dg)
    me = ev.to_mesh()
    result = {}
    n = len(points)
    for out, (name, dtype) in names.items():
        attr = me.attributes[name]
        if dtype == "FLOAT":
            arr = np.empty(n, np.float32)
            attr.data.foreach_get("value", arr)
        elif dtype == "FLOAT_VECTOR":
            arr = np.empty(n * 3, np.float32)
            attr.data.foreach_get("vector", arr)
            arr = arr.reshape(n, 3)
        else:
            arr = np.empty(n * 4, np.float32)
            attr.data.foreach_get("color", arr)
            arr = arr.reshape(n, 4)[:, :3]
        result[out] = arr
    ev.to_mesh_clear()
    return result


def _set_input(sock, value) -> None:
    if isinstance(value, (list, tuple)):
        n = len(sock.default_value)
        vals = list(value) + [1.0] * (n - len(value))
        sock.default_value = vals[:n]
    else:
        sock.default_value = value


def eval_graph_on_points(graph: dict, points: np.ndarray, reset: bool = True) -> dict[str, np.ndarray]:
    """Evaluate a material graph dict (default parameters) at UV points (N, 3) as a Geometry Nodes field.

    Mirrors the shader tree node for node: Texture Coordinate UV becomes Position, Mapping (POINT) becomes
    multiply -> Vector Rotate (Euler XYZ) -> add, Bump is skipped (shader-only) and its Height input is stored
    instead. Returns base_color (N,3), roughness, metallic, height (N,).
    """
    import bpy

    if reset:
        _reset()
    pvals = {k: v["default"] for k, v in graph.get("params", {}).items()}

    def res(v):
        return pvals[v["param"]] if isinstance(v, dict) and "param" in v else v

    points = np.asarray(points, np.float32)
    mesh = bpy.data.meshes.new("pts")
    mesh.vertices.add(len(points))
    mesh.vertices.foreach_set("co", points.reshape(-1))
    obj = bpy.data.objects.new("pts", mesh)
    bpy.context.scene.collection.objects.link(obj)
    tree = bpy.data.node_groups.new("golden", "GeometryNodeTree")
    tree.interface.new_socket("Geometry", in_out="INPUT", socket_type="NodeSocketGeometry")
    tree.interface.new_socket("Geometry", in_out="OUTPUT", socket_type="NodeSocketGeometry")
    gin = tree.nodes.new("NodeGroupInput")
    gout = tree.nodes.new("NodeGroupOutput")
    built: dict[str, dict[str, Any]] = {}  # node id -> {output name: socket}
    pending_links = []
    stores = {}
    for nid, node in graph["nodes"].items():
        t = node["type"]
        spec = NODES[t]
        ins = node.get("inputs", {})
        if t == "ShaderNodeTexCoord":
            pos = tree.nodes.new("GeometryNodeInputPosition")
            built[nid] = {"UV": pos.outputs[0]}
            continue
        if t == "ShaderNodeMapping":
            mul = tree.nodes.new("ShaderNodeVectorMath")
            mul.operation = "MULTIPLY"
            rot = tree.nodes.new("ShaderNodeVectorRotate")
            rot.rotation_type = "EULER_XYZ"
            add = tree.nodes.new("ShaderNodeVectorMath")
            add.operation = "ADD"
            tree.links.new(mul.outputs[0], rot.inputs["Vector"])
            tree.links.new(rot.outputs[0], add.inputs[0])
            _set_input(mul.inputs[1], res(ins.get("Scale", [1, 1, 1])))
            _set_input(rot.inputs["Rotation"], res(ins.get("Rotation", [0, 0, 0])))
            _set_input(add.inputs[1], res(ins.get("Location", [0, 0, 0])))
            built[nid] = {"Vector": add.outputs[0]}
            if isinstance(ins.get("Vector"), dict) and "link" in ins["Vector"]:
                pending_links.append((ins["Vector"]["link"], mul.inputs[0]))
            continue
        if t == "ShaderNodeBump":
            built[nid] = {}
            if isinstance(ins.get("Height"), dict) and "link" in ins["Height"]:
                stores["height"] = (ins["Height"]["link"], "FLOAT")
            continue
        if t == "ShaderNodeBsdfPrincipled":
            for key, attr, dt in (("Base Color", "base_color", "FLOAT_COLOR"), ("Roughness", "roughness", "FLOAT"),
                                  ("Metallic", "metallic", "FLOAT")):
                v = ins.get(key, spec.input(key).default)
                stores[attr] = (v["link"], dt) if isinstance(v, dict) and "link" in v else (res(v), dt)
            built[nid] = {}
            continue
        bn = tree.nodes.new(t)
        props = node.get("props", {})
        if t == "ShaderNodeMix":
            bn.data_type = props.get("data_type", "RGBA")
        for k, v in props.items():
            if k == "elements":
                cr = bn.color_ramp
                els = sorted(((float(res(e["position"])), res(e["color"])) for e in v), key=lambda e: e[0])
                while len(cr.elements) < len(els):
                    cr.elements.new(0.5)
                for e, (p, c) in zip(cr.elements, els):
                    e.position = p
                    e.color = (list(c) + [1.0])[:4] if len(c) == 3 else list(c)
            elif k == "interpolation" and t == "ShaderNodeValToRGB":
                bn.color_ramp.interpolation = v
            elif k != "data_type":
                setattr(bn, k, res(v))
        float_mix = t == "ShaderNodeMix" and bn.data_type == "FLOAT"
        outs = {}
        for o in spec.outputs:
            ident = spec.out_bl.get(o, o)
            if float_mix and o == "Result":
                ident = "Result_Float"
            outs[o] = _socket(bn.outputs, ident)
        built[nid] = outs
        for sock in spec.inputs:
            ident = sock.identifier
            if float_mix and sock.name in ("A", "B"):
                ident = f"{sock.name}_Float"
            if sock.name == "Vector" and sock.name not in ins:
                continue
            target = _socket(bn.inputs, ident)
            v = ins.get(sock.name)
            if v is None:
                continue
            if isinstance(v, dict) and "link" in v:
                pending_links.append((v["link"], target))
            else:
                _set_input(target, res(v))
    for link, target in pending_links:
        src, _, out = link.partition(".")
        tree.links.new(built[src][out], target)
    geo = gin.outputs[0]
    names = {}
    for i, (attr, (val, dt)) in enumerate(stores.items()):
        st = tree.nodes.new("GeometryNodeStoreNamedAttribute")
        st.data_type = dt
        st.domain = "POINT"
        st.inputs["Name"].default_value = attr
        tree.links.new(geo, st.inputs["Geometry"])
        if isinstance(val, str):
            src, _, out = val.partition(".")
            tree.links.new(built[src][out], st.inputs["Value"])
        else:
            _set_input(st.inputs["Value"], val)
        geo = st.outputs["Geometry"]
        names[attr] = dt
    tree.links.new(geo, gout.inputs[0])
    mod = obj.modifiers.new("golden", "NODES")
    mod.node_group = tree
    ev = obj.evaluated_get(bpy.context.evaluated_depsgraph_get())
    me = ev.to_mesh()
    n = len(points)
    out = {}
    for attr, dt in names.items():
        a = me.attributes[attr]
        if dt == "FLOAT":
            arr = np.empty(n, np.float32)
            a.data.foreach_get("value", arr)
        else:
            arr = np.empty(n * 4, np.float32)
            a.data.foreach_get("color", arr)
            arr = arr.reshape(n, 4)[:, :3]
        out[attr] = arr
    ev.to_mesh_clear()
    return out
