"""The fused material compiler: a whole material graph -> one generated forward kernel plus one generated backward
kernel, wrapped in a torch autograd Function. Two code targets share the generated per-texel lines: taichi kernels
(CUDA, and the CPU fallback) and Dr.Jit (the CPU default), where the same lines run over `jit_ti`'s Dr.Jit lanes and
trace one vectorised LLVM kernel (`fused_target` chooses).

Why: the node-by-node torch evaluation runs hundreds of small memory-bound ops over every texel (and keeps their
intermediate maps for autograd); here every texel runs the whole graph in registers, once.

How (see docs/materials.md, "Fused compiler"):
* Structure (node types, discrete properties, literals, loop counts) is compiled in; continuous parameters and
  quantities derived from them in torch (clamped roughness, the Mapping rotation matrix, ramp stops sorted by
  position, Voronoi's max distance) are runtime "uniforms" U, built by torch ops so autograd reaches the
  normalised parameter tensors through them.
* Forward kernel: per texel, the uv, then every node's code in topological order (`fused_emit.py` emits it,
  calling the shared Perlin/fBm/Voronoi `ti.func`s of ti_perlin.py / ti_voronoi.py), writing base colour,
  roughness, metallic and the bump height.
* Gradients: with the uniforms requiring grad, the forward kernel (`fwdt`) calls the forward-mode companions of
  fBm / Perlin / Voronoi and writes their outputs and local derivatives to a per-texel tape; the backward kernel
  (`bwdt`) re-runs only the cheap arithmetic around them, reads the tape, then runs hand-derived adjoints node by
  node in reverse order, following torch autograd's conventions for every op of the torch twins; each chunk of
  texels sums the uniforms' adjoints in registers and writes one row (no atomics), torch sums the rows. Past
  TAPE_LIMIT_BYTES the values-only forward runs and the backward (`bwdr`) re-runs the calls. taichi's own autodiff
  was measured 2-3x slower than the forward and took 20-30 s to compile a single fBm kernel, hence hand-derived
  adjoints.
* `heights=False` (evaluate(with_normal=False)): kernels without the Bump's heights, a separate structure.
* Bump: the Height sub-graph is emitted again at the two offset uvs (per texel, as bump.py evaluates it) and the
  kernel computes Cycles' normal from the three heights (`emit_bump_normal`, op for op as bump.py's `bump_normal`,
  the node-by-node twin it is tested against), so no per-texel torch work is left after the kernel.
* Dr.Jit target: `fwd(U, out, H, W)` traces the values-only lines, `bwdr(U, gout, H, W)` the forward with the
  calls' local derivatives plus the adjoints (no tape: SIMD recomputation is cheaper than a round trip through
  memory) and returns per-texel adjoint lanes that Dr.Jit sums. Uniforms are gathered from a buffer, so a new
  parameter value reuses the cached kernel. Traced with IEEE semantics (`jit_ti.exact_ops`).
* Kernels are cached per graph structure in memory and as generated modules on disk (taichi's offline cache and
  Dr.Jit's kernel cache then skip recompilation in later processes). A graph with anything the compiler does not
  cover raises `Unsupported` and `evaluate()` falls back to the node-by-node path.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import sys
import threading
from pathlib import Path
from typing import Any, Callable

import torch

from p2s_common.llvm import point_drjit_at_libllvm

from ..graph import Graph
from ..layout import UNIT_RECT, UVRect, texel_size
from ..vocabulary import NODES, out_kind
from .backend import BackendChoiceError
from .fused_emit import _TSIZE, Gen, Unsupported, Var, bump_input, emit_bump_normal
from .bump import bump_offsets

OUT_CHANNELS = 9  # base colour (3), roughness, metallic, bump height, the Bump's normal (3)
RENDER_CHANNELS = 5  # base colour, roughness, metallic: kernels compiled without the Bump's heights
TAPE_LIMIT_BYTES = int(os.environ.get("PHOTO2SCENE_FUSED_TAPE_MB", "1024")) << 20  # larger: backward re-runs calls

_CACHE: dict[str, "Compiled | None"] = {}
_LOCK = threading.Lock()


def cache_dir() -> Path:
    """Where generated kernel modules are written ($PHOTO2SCENE_CACHE or ~/.cache/photo2scene)/fused."""
    root = os.environ.get("PHOTO2SCENE_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "photo2scene")
    return Path(root) / "fused"


class Compiled:
    """A compiled material structure: its generated kernels and the torch builders of its uniforms."""

    def __init__(self, module, builders: list[Callable[[dict], torch.Tensor]], bump: dict | None, key: str,
                 nout: int, tape_cols: int, target: str = "taichi"):
        self.target = target  # 'taichi' (kernels) or 'drjit' (Python functions that trace one Dr.Jit kernel each)
        self.fwd = module.fwd  # values only (no gradient wanted)
        self.fwdt = getattr(module, "fwdt", None)  # values plus the tape (taichi only)
        self.bwdt = getattr(module, "bwdt", None)  # adjoints from the tape (taichi only)
        self.bwdr = module.bwdr  # adjoints re-running the calls (taichi: when the tape would be too big)
        self.builders = builders
        self.bump = bump  # {'strength': ..., 'distance': ..., 'invert': bool} resolvers, or None (flat normal)
        self.key = key
        self.nout = nout  # output channels: 9 with the Bump's height and normal, 5 without
        self.tape_cols = tape_cols  # floats per texel on the tape

    def uniforms(self, values: dict, device) -> torch.Tensor:
        parts = [torch.as_tensor(b(values), dtype=torch.float32).to(device).reshape(-1) for b in self.builders]
        return torch.cat(parts) if parts else torch.zeros(1, device=device)


def _sync(device) -> None:
    if device.type == "cuda":
        import taichi as ti

        ti.sync()


class _FusedFn(torch.autograd.Function):
    """maps (H*W, nout) = kernel(U); backward: dL/dU from the generated backward kernel.

    With a gradient wanted the forward kernel also writes the tape (the outputs of every fBm / Perlin / Voronoi
    call with their local derivatives, `tape_cols` floats per texel) and the backward kernel reads it instead of
    re-running those calls: it re-runs only the cheap arithmetic around them, then the adjoints."""

    @staticmethod
    def forward(ctx, U: torch.Tensor, comp: Compiled, h: int, w: int) -> torch.Tensor:
        # lazy: loads Taichi, which importing this module does not
        from .ti_perlin import ensure_init

        ensure_init(U.device)
        Uc = U.detach().contiguous()
        n = h * w
        out = torch.empty(n, comp.nout, dtype=torch.float32, device=U.device)
        tape = None
        if ctx.needs_input_grad[0] and n * max(1, comp.tape_cols) * 4 <= TAPE_LIMIT_BYTES:
            tape = torch.empty(n, max(1, comp.tape_cols), dtype=torch.float32, device=U.device)
            comp.fwdt(Uc, out, tape, h, w)
        else:
            comp.fwd(Uc, out, h, w)
        _sync(U.device)
        ctx.comp, ctx.h, ctx.w = comp, h, w
        if tape is None:
            ctx.save_for_backward(Uc)
        else:
            ctx.save_for_backward(Uc, tape)
        return out

    @staticmethod
    def backward(ctx, gout: torch.Tensor):
        U, *tape = ctx.saved_tensors
        h, w = ctx.h, ctx.w
        # CPU: one chunk per row (few big tasks for few cores); GPU: small chunks (many threads)
        chunk = w if U.device.type == "cpu" else 16
        n = h * w
        nchunks = (n + chunk - 1) // chunk
        gU = torch.zeros(nchunks, max(1, U.numel()), dtype=torch.float32, device=U.device)
        gout = gout.contiguous().to(torch.float32)
        if tape:
            ctx.comp.bwdt(U, tape[0], gout, gU, h, w, chunk)
        else:
            ctx.comp.bwdr(U, gout, gU, h, w, chunk)
        _sync(U.device)
        return gU.sum(0)[: U.numel()], None, None, None


class _Uniforms:
    """`U[k]` of the generated Dr.Jit code: a gather from the uniform buffer, so values are kernel inputs, not
    literals baked into the kernel (which would recompile it at every optimiser step)."""

    def __init__(self, buf):
        self.buf = buf

    def __getitem__(self, k: int):
        import drjit as dr

        # lazy: loads Dr.Jit, which importing this module does not
        from . import jit_ti

        return dr.gather(jit_ti._T["Float"], self.buf, jit_ti._T["UInt32"](k))


class _Outputs(dict):
    """`out[n, c] = x` of the generated Dr.Jit code: keeps channel c."""

    def __setitem__(self, key, value) -> None:
        super().__setitem__(key[1], value)


class _Upstream:
    """`gout[n, c]` of the generated Dr.Jit code: channel c of the upstream gradient."""

    def __init__(self, chans: list):
        self.chans = chans

    def __getitem__(self, key):
        return self.chans[key[1]]


def _to_jit(t: torch.Tensor):
    # lazy: loads Dr.Jit, which importing this module does not
    from . import jit_ti

    return jit_ti._T["Float"](t.detach().to(torch.float32).contiguous())


class _JitFn(torch.autograd.Function):
    """The Dr.Jit target: one (H*W,) tensor per output channel = traced kernel(U) (Dr.Jit's buffers, no copy);
    backward re-traces the forward with the adjoints (one more kernel: Dr.Jit's vectorised recomputation is cheaper
    than storing a tape) and sums them per uniform. Separate outputs, not slices of one (H*W, nout) map: autograd
    then hands each channel's gradient over as it is, without zero-filled full-size buffers per slice."""

    @staticmethod
    def forward(ctx, U: torch.Tensor, comp: Compiled, h: int, w: int):
        import drjit as dr

        # lazy: loads Dr.Jit, which importing this module does not
        from . import jit_ti

        jit_ti.use(U.device.type)
        ctx.set_materialize_grads(False)
        out = _Outputs()
        with jit_ti.exact_ops():
            comp.fwd(_Uniforms(_to_jit(U)), out, h, w)
            chans = [out.get(c, 0.0) for c in range(comp.nout)]  # no Bump: no height or normal
            lanes = [c for c in chans if not jit_ti.is_num(c)]
            dr.eval(*lanes)  # one kernel for every channel
        n = h * w
        cols = []
        for c in chans:
            if jit_ti.is_num(c):
                cols.append(torch.full((n,), float(c), device=U.device))
            else:
                t = c.torch()
                cols.append(t.expand(n).clone() if t.numel() == 1 else t)
        ctx.comp, ctx.h, ctx.w = comp, h, w
        ctx.save_for_backward(U.detach())
        return tuple(cols)

    @staticmethod
    def backward(ctx, *gouts):
        import drjit as dr

        # lazy: loads Dr.Jit, which importing this module does not
        from . import jit_ti

        (U,) = ctx.saved_tensors
        jit_ti.use(U.device.type)
        # a channel nothing depends on has no gradient: a literal 0 (the traced adjoints fold it away)
        up = _Upstream([0.0 if g is None else _to_jit(g) for g in gouts])
        with jit_ti.exact_ops():
            acc = ctx.comp.bwdr(_Uniforms(_to_jit(U)), up, ctx.h, ctx.w)
            lanes = [a for a in acc if not jit_ti.is_num(a)]
            dr.eval(*lanes)  # one kernel for every adjoint
        gU = torch.zeros(max(1, U.numel()), dtype=torch.float32, device=U.device)
        for i, a in enumerate(acc[: U.numel()]):
            if not jit_ti.is_num(a):
                gU[i] = float(dr.sum(a)[0]) if dr.width(a) > 1 else float(a[0]) * ctx.h * ctx.w
        return gU[: U.numel()], None, None, None


# ---------------------------------------------------------------------------------------------------------------
# graph -> code


def _structure_key(graph: Graph, values: dict, device_type: str, heights: bool = True) -> str:
    """Everything that is compiled in: node types, links, literals, discrete values; not continuous values."""
    nodes = {}
    for nid, node in graph.nodes.items():
        spec = NODES[node["type"]]
        props = {}
        for k, v in node.get("props", {}).items():
            if k == "elements":
                props[k] = [{kk: (("param", graph.params[vv["param"]].kind) if isinstance(vv, dict) else vv)
                             for kk, vv in e.items()} for e in v]
            elif isinstance(v, dict) and "param" in v:
                props[k] = values[v["param"]]
            else:
                props[k] = v
        inputs = {}
        for k, v in node.get("inputs", {}).items():
            if isinstance(v, dict) and "param" in v:
                sock = spec.input(k)
                inputs[k] = float(values[v["param"]]) if sock.scalar else ("param", v["param"],
                                                                            graph.params[v["param"]].kind)
            else:
                inputs[k] = v
        nodes[nid] = {"type": node["type"], "props": props, "inputs": inputs}
    blob = json.dumps({"nodes": nodes, "output": graph.output, "dev": device_type, "h": heights, "v": 2},
                      sort_keys=True,
                      default=str)
    return hashlib.sha1(blob.encode()).hexdigest()[:20]


def _used_outputs(graph: Graph) -> dict[str, set[str]]:
    used: dict[str, set[str]] = {nid: set() for nid in graph.nodes}
    for node in graph.nodes.values():
        for v in node.get("inputs", {}).values():
            if isinstance(v, dict) and "link" in v:
                src, _, out = v["link"].partition(".")
                used[src].add(out)
    return used


def _generate(graph: Graph, values: dict, mode: str, builders: list, heights: bool = True) -> tuple[Gen, dict | None]:
    """Emit the per-texel code of the Principled inputs (and, with `heights`, the Bump's three heights) for mode
    'fwd' (values only) or 'grad' (forward with the calls' local derivatives, plus the adjoints).

    Nodes are emitted per "instance": 0 at the texel's uv, 1 and 2 at the Bump's two offset uvs (only the Height
    sub-graph is evaluated there, as the torch twin does through `ctx.input_at`).
    """
    g = Gen(mode, builders)
    used = _used_outputs(graph)
    outs: dict[tuple[str, int], dict[str, Var]] = {}
    visiting: set[tuple[str, int]] = set()
    uvs = {0: g.uv}

    def link(raw: dict, inst: int, to_kind: str | None) -> Var:
        src, _, out = raw["link"].partition(".")
        return g.convert(node_out(src, inst)[out], out_kind(graph.nodes[src], out), to_kind)

    def node_out(nid: str, inst: int) -> dict[str, Var]:
        if (nid, inst) in outs:
            return outs[(nid, inst)]
        if (nid, inst) in visiting:
            raise Unsupported(f"cycle through {nid!r}")
        visiting.add((nid, inst))
        node = graph.nodes[nid]
        spec = NODES[node["type"]]
        if node["type"] == "ShaderNodeTexCoord":
            outs[(nid, inst)] = {"UV": uvs[inst]}
            return outs[(nid, inst)]
        props = dict(spec.props)
        for k, v in node.get("props", {}).items():
            props[k] = values[v["param"]] if isinstance(v, dict) and "param" in v else v
        ins: dict[str, Any] = {}
        for sock in spec.inputs:
            raw = node.get("inputs", {}).get(sock.name, sock.default)
            if isinstance(raw, dict) and "link" in raw:
                ins[sock.name] = link(raw, inst, sock.kind)
            elif sock.scalar:
                ins[sock.name] = float(values[raw["param"]]) if isinstance(raw, dict) else float(raw)
            elif isinstance(raw, dict) and "param" in raw:
                ins[sock.name] = g.param(raw["param"], graph.params[raw["param"]].kind, sock.kind)
            elif raw is None:
                ins[sock.name] = uvs[inst] if (sock.kind == "vector" and sock.name == "Vector") else None
            else:
                ins[sock.name] = g.const(raw, sock.kind)
        if spec.emit is None:  # the vocabulary names no emitter: evaluate() runs this graph node by node
            raise Unsupported(f"node {nid!r} ({node['type']})")
        outs[(nid, inst)] = spec.emit(g, props, ins, used[nid])
        visiting.discard((nid, inst))
        return outs[(nid, inst)]

    bsdf = graph.nodes[graph.output]
    spec = NODES[bsdf["type"]]
    results: dict[str, Var] = {}
    for sock_name, key in (("Base Color", "base"), ("Roughness", "rough"), ("Metallic", "metal")):
        sock = spec.input(sock_name)
        raw = bsdf.get("inputs", {}).get(sock_name, sock.default)
        if isinstance(raw, dict) and "link" in raw:
            results[key] = link(raw, 0, sock.kind)
        elif isinstance(raw, dict) and "param" in raw:
            results[key] = g.param(raw["param"], graph.params[raw["param"]].kind, sock.kind)
        else:
            results[key] = g.const(raw, sock.kind)
    bump = None
    normal = bsdf.get("inputs", {}).get("Normal")
    if isinstance(normal, dict) and "link" in normal:
        src = normal["link"].split(".")[0]
        bnode = graph.nodes[src]
        raw = bnode.get("inputs", {}).get("Height")
        if bnode["type"] != "ShaderNodeBump" or not (isinstance(raw, dict) and "link" in raw):
            raise Unsupported("Normal input not a Bump of a linked height")
        bspec = NODES["ShaderNodeBump"]
        bprops = dict(bspec.props)
        bprops.update({k: (values[v["param"]] if isinstance(v, dict) else v) for k, v in bnode.get("props", {}).items()})
        bump = {"invert": bool(bprops["invert"])}
        for sock in bspec.inputs:
            if sock.name == "Height":
                continue
            r = bnode.get("inputs", {}).get(sock.name, sock.default)
            if isinstance(r, dict) and "link" in r:
                raise Unsupported(f"Bump {sock.name} linked")
            if sock.scalar:
                r = float(values[r["param"]]) if isinstance(r, dict) else float(r)
            bump[sock.name] = r
        fw = bump.get("Filter Width", 0.1)

        for inst in ((1, 2) if heights else ()):
            off = g.uniform(lambda vals, i=inst - 1: bump_offsets(fw, vals["__bump_texel"], vals["__uv_size"])[i],
                            "v", False)
            uvs[inst] = g.let(f"uvp + {off.name}", "v", False)
        if heights:
            results["height"] = link(raw, 0, "float")
            ha, hb = link(raw, 1, "float"), link(raw, 2, "float")
            results["normal"] = emit_bump_normal(g, results["height"], ha, hb, bump_input(g, bump, "Strength"),
                                                 bump_input(g, bump, "Distance"), bump["invert"], fw)
    elif normal is not None:
        raise Unsupported("Normal input is not linked to a Bump")
    g.finish(results)
    return g, bump


_KERNEL_TEMPLATE = '''"""Generated by materials_db/twins/fused.py for material structure {key} ({name}). Do not edit."""
import taichi as ti
from materials_db.twins import ti_perlin as TP
from materials_db.twins import ti_voronoi as TV
from materials_db.twins import fused_funcs as FF

# tape columns: {tape_doc}


@ti.kernel
def fwd(U: ti.types.ndarray(dtype=ti.f32, ndim=1), out: ti.types.ndarray(dtype=ti.f32, ndim=2), H: ti.i32,
        W: ti.i32):
    for n in range(H * W):
        uvu, uvv = FF.texel_uv(n, H, W)
{fwd_body}


@ti.kernel
def fwdt(U: ti.types.ndarray(dtype=ti.f32, ndim=1), out: ti.types.ndarray(dtype=ti.f32, ndim=2),
         T: ti.types.ndarray(dtype=ti.f32, ndim=2), H: ti.i32, W: ti.i32):
    for n in range(H * W):
        uvu, uvv = FF.texel_uv(n, H, W)
{fwdt_body}


@ti.kernel
def bwdt(U: ti.types.ndarray(dtype=ti.f32, ndim=1), T: ti.types.ndarray(dtype=ti.f32, ndim=2),
         gout: ti.types.ndarray(dtype=ti.f32, ndim=2), gU: ti.types.ndarray(dtype=ti.f32, ndim=2), H: ti.i32,
         W: ti.i32, chunk: ti.i32):
    for b in range((H * W + chunk - 1) // chunk):
{acc_init}
        for n in range(b * chunk, ti.min((b + 1) * chunk, H * W)):
            uvu, uvv = FF.texel_uv(n, H, W)
{bwdt_body}
{acc_store}


@ti.kernel
def bwdr(U: ti.types.ndarray(dtype=ti.f32, ndim=1), gout: ti.types.ndarray(dtype=ti.f32, ndim=2),
         gU: ti.types.ndarray(dtype=ti.f32, ndim=2), H: ti.i32, W: ti.i32, chunk: ti.i32):
    for b in range((H * W + chunk - 1) // chunk):
{acc_init}
        for n in range(b * chunk, ti.min((b + 1) * chunk, H * W)):
            uvu, uvv = FF.texel_uv(n, H, W)
{bwdr_body}
{acc_store}
'''


_JIT_TEMPLATE = '''"""Generated by materials_db/twins/fused.py for material structure {key} ({name}), Dr.Jit target. Do not edit."""
import drjit as dr

from materials_db.twins import jit_funcs as FF
from materials_db.twins import jit_perlin as TP
from materials_db.twins import jit_ti as ti
from materials_db.twins import jit_voronoi as TV


def fwd(U, out, H, W):
    n = dr.arange(ti._T["UInt32"], H * W)
    uvu, uvv = FF.texel_uv(n, H, W)
{fwd_body}


def bwdr(U, gout, H, W):
    n = dr.arange(ti._T["UInt32"], H * W)
    uvu, uvv = FF.texel_uv(n, H, W)
{acc_init}
{bwdr_body}
    return [{acc_list}]
'''


def _indent(lines: list[str], n: int) -> str:
    return "\n".join(" " * n + ln for ln in lines) if lines else " " * n + "pass"


def _load_module(path: Path, key: str):
    spec = importlib.util.spec_from_file_location(f"photo2scene_fused_{key}", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


TARGETS = ("drjit", "taichi")


def drjit_llvm_ready() -> bool:
    """Whether Dr.Jit's LLVM (CPU) backend can run here. It needs libLLVM >= 16 (older ones abort on its kernels)
    and reads DRJIT_LIBLLVM_PATH only at its first import, so the path is set first (p2s_common.llvm)."""
    if "drjit" not in sys.modules and point_drjit_at_libllvm() is None:
        return False  # Dr.Jit would load the system's default (older) LLVM
    try:
        import drjit as dr

        return bool(dr.has_backend(dr.JitBackend.LLVM))
    except Exception:  # noqa: BLE001 - a missing or broken drjit means: use taichi
        return False


_TARGET_OVERRIDE: list[str | None] = [None]


def set_target(name: str | None) -> None:
    """Force the CPU code target ('drjit' | 'taichi'), or None to choose as `fused_target` describes (the bench
    switches targets with this)."""
    if name is not None and name not in TARGETS:
        raise BackendChoiceError(f"fused target must be one of {TARGETS}, not {name!r}")
    _TARGET_OVERRIDE[0] = name


def fused_target(device_type: str) -> str:
    """Which code the fused compiler generates. CPU: `set_target`'s choice, else $PHOTO2SCENE_FUSED_TARGET
    (drjit|taichi), by default Dr.Jit when its LLVM backend runs here (it vectorises across texels: 2-5x faster
    forward+backward than the taichi kernels, see docs/materials.md), else taichi. CUDA: taichi (measured on an
    H100; the Dr.Jit target has not been run on a GPU yet)."""
    want = _TARGET_OVERRIDE[0] or os.environ.get("PHOTO2SCENE_FUSED_TARGET", "auto")
    if want not in TARGETS + ("auto",):
        raise BackendChoiceError(f"$PHOTO2SCENE_FUSED_TARGET is {want!r}: set it to one of {', '.join(TARGETS)} "
                                 "or unset it (auto)")
    if device_type != "cpu":
        return "taichi"
    if want == "auto":
        want = "drjit" if drjit_llvm_ready() else "taichi"
    return want


def compile_graph(graph: Graph, values: dict, device_type: str = "cpu", heights: bool = True,
                  target: str | None = None) -> Compiled:
    """The compiled kernels for this graph's structure (generated and imported on first use, then cached).

    `heights=False`: kernels for base colour, roughness and metallic only (evaluate(with_normal=False)); the
    nodes that only feed the Bump are not emitted at all. `target`: 'taichi' or 'drjit' (default: `fused_target`)."""
    target = target or fused_target(device_type)
    key = _structure_key(graph, values, device_type + ("" if target == "taichi" else "/" + target), heights)
    with _LOCK:
        if key in _CACHE:
            comp = _CACHE[key]
            if comp is None:
                raise Unsupported(f"{graph.name}: unsupported (cached)")
            return comp
        try:
            builders: list = []
            gf, bump = _generate(graph, values, "fwd", builders, heights)
            builders_g: list = []
            gg, _ = _generate(graph, values, "grad", builders_g, heights)
        except Unsupported:
            _CACHE[key] = None
            raise
        # both passes allocate the same uniforms in the same order (same traversal)
        assert len(builders) == len(builders_g)
        nu = sum(b.size for b in builders)
        tape = gg.tape()
        ncols = sum(_TSIZE[kind] for _, kind, _ in tape)
        if target == "drjit":
            src = _JIT_TEMPLATE.format(
                key=key, name=graph.name, fwd_body=_indent(gf.fwd_lines(), 4),
                acc_init=_indent([f"acc{i} = 0.0" for i in range(nu)], 4),
                bwdr_body=_indent(gg.bwd_lines(from_tape=False), 4),
                acc_list=", ".join(f"acc{i}" for i in range(nu)))
        else:
            src = _KERNEL_TEMPLATE.format(
                key=key, name=graph.name,
                tape_doc=", ".join(f"{name}[{c}:{c + _TSIZE[kind]}]" for name, kind, c in tape) or "none",
                fwd_body=_indent(gf.fwd_lines(), 8),
                fwdt_body=_indent(gg.fwd_tape_lines(), 8),
                acc_init=_indent([f"acc{i} = 0.0" for i in range(nu)], 8),
                bwdt_body=_indent(gg.bwd_lines(from_tape=True), 12),
                bwdr_body=_indent(gg.bwd_lines(from_tape=False), 12),
                acc_store=_indent([f"gU[b, {i}] = acc{i}" for i in range(nu)], 8),
            )
        d = cache_dir()
        d.mkdir(parents=True, exist_ok=True)
        path = d / f"{'j' if target == 'drjit' else 'k'}_{key}.py"
        if not path.exists() or path.read_text() != src:
            tmp = path.with_suffix(f".tmp{os.getpid()}")
            tmp.write_text(src)
            os.replace(tmp, path)
        mod = _load_module(path, key)
        comp = Compiled(mod, [b.fn for b in builders], bump, key, OUT_CHANNELS if heights else RENDER_CHANNELS,
                        ncols, target)
        _CACHE[key] = comp
        return comp


def fused_supported(graph: Graph, params: dict | None = None) -> bool:
    """Whether the fused compiler covers this graph (with these discrete parameter values)."""
    try:
        compile_graph(graph, graph.values(params), "cpu")
        return True
    except Unsupported:
        return False


def evaluate_fused(graph: Graph, params: dict | None, resolution, uv_size: float = 1.0, device: str = "cpu",
                   bump_texel: float | None = None, with_normal: bool = True,
                   uv_rect: UVRect = UNIT_RECT) -> dict[str, torch.Tensor]:
    """Same maps as `materials_db.evaluate` (raises Unsupported when the graph is outside the compiler's reach).

    `with_normal=False`: base colour, roughness and metallic only, from kernels without the Bump's heights."""
    h, w = (resolution, resolution) if isinstance(resolution, int) else resolution
    if bump_texel is None:
        bump_texel = texel_size(resolution, uv_rect)
    values = graph.values(params)
    dev = torch.device(device)
    comp = compile_graph(graph, values, dev.type, heights=with_normal)
    values = dict(values, __bump_texel=bump_texel, __uv_size=uv_size, __uv_rect=uv_rect)
    U = comp.uniforms(values, dev)
    if comp.target == "drjit":
        cols = [c.reshape(h, w) for c in _JitFn.apply(U, comp, h, w)]
        out = {"base_color": torch.stack(cols[0:3], -1), "roughness": cols[3], "metallic": cols[4]}
        if comp.nout > 5:
            out.update(height=cols[5], normal=torch.stack(cols[6:9], -1))
    else:
        t = _FusedFn.apply(U, comp, h, w).reshape(h, w, comp.nout)
        out = {"base_color": t[..., 0:3], "roughness": t[..., 3], "metallic": t[..., 4]}
        if comp.nout > 5:
            out.update(height=t[..., 5], normal=t[..., 6:9])
    maps = {k: out[k] for k in ("base_color", "roughness", "metallic")}
    if not with_normal:
        return maps
    if comp.bump is None:
        maps["normal"] = torch.tensor([0.0, 0.0, 1.0], device=dev).expand(h, w, 3)
        maps["height"] = torch.zeros(h, w, device=dev)
    else:  # the kernel computed the Bump's normal from its three heights (fused_emit.emit_bump_normal)
        maps["normal"] = out["normal"]
        maps["height"] = out["height"]
    return {k: maps[k] for k in ("base_color", "roughness", "metallic", "normal", "height")}


def clear_cache() -> None:
    """Forget compiled structures (tests)."""
    with _LOCK:
        _CACHE.clear()


__all__ = ["Unsupported", "compile_graph", "evaluate_fused", "fused_supported", "fused_target", "set_target",
           "cache_dir", "clear_cache"]
