"""Code emission for the fused material compiler: per-node taichi source, forward and hand-derived adjoints.

Every emitter follows its torch twin (noise.py, voronoi.py, patterns.py, color.py, mathops.py) op for op, and its
adjoints follow what torch autograd does for those ops (clamp passes the gradient on the closed interval,
min/max ties share it, floors and cell choices have none). Values in the generated code are Vars: per-texel
locals, compile-time literals, or uniforms (runtime values computed by torch from the parameters, so autograd
reaches the parameters through them).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import torch

from .bump import DIR_A, DIR_B, bump_step
from .mathops import euler_to_matrix
from .noise import random_offset
from .voronoi import _distance


class Unsupported(Exception):
    """The graph uses something the fused compiler does not cover (the caller falls back to the torch path)."""


def lit(x: float) -> str:
    """A float32 literal, exactly the value torch would hold."""
    f = float(np.float32(x))
    if math.isinf(f) or math.isnan(f):
        raise Unsupported("non-finite literal")
    return repr(f)


_SIZE = {"f": 1, "v": 3, "v4": 4, "m": 9}


@dataclass
class Var:
    name: str
    kind: str  # 'f' float, 'v' vec3, 'v4' vec4, 'm' mat3
    grad: bool = False
    tv: Callable[[dict], torch.Tensor] | None = None  # torch value for literals and uniforms
    const: Any = None  # python value of a literal
    slot: int | None = None  # first U index of a uniform


@dataclass
class Call:
    """An expensive per-texel call (fBm, Perlin with gradient, Voronoi) of a grad-mode kernel body: the forward
    kernel runs it and stores its outputs on the tape, the backward kernel loads them (or re-runs it)."""

    outs: list[tuple[str, str]]  # (local name, kind: 'f' | 'vec2' | 'vec3')
    expr: str


_TSIZE = {"f": 1, "vec2": 2, "vec3": 3}


@dataclass
class Builder:
    fn: Callable[[dict], torch.Tensor]
    size: int


class Gen:
    """Collects the forward lines and the reverse-order adjoint emitters of one kernel body."""

    def __init__(self, mode: str, builders: list[Builder]):
        self.mode = mode  # 'fwd' (values only) or 'grad' (calls with their local derivatives, plus adjoints)
        self.lines: list[str | Call] = []
        self.blocks: list[Callable[[], None]] = []
        self.blines: list[str] = []
        self.adjs: dict[str, str] = {}
        self.builders = builders
        self.nslots = 0
        self.uniform_vars: list[Var] = []
        self.params: dict[str, Var] = {}
        self.n = 0
        self.uv = Var("uvp", "v")
        # the map's UV rectangle (u0, v0, width, height) is a uniform: a new rectangle reuses the kernel
        u0, v0, su, sv = (self.uniform(lambda vals, i=i: torch.tensor(float(vals["__uv_rect"][i])), "f", False)
                          for i in range(4))
        self.lines.append(f"uvp = ti.math.vec3({u0.name} + uvu * {su.name}, {v0.name} + uvv * {sv.name}, 0.0)")
        self.results: dict[str, Var] = {}
        self._tail: list[str] | None = None

    # ---- values ----
    def name(self, prefix: str = "t") -> str:
        self.n += 1
        return f"{prefix}{self.n}"

    def let(self, expr: str, kind: str, grad: bool, prefix: str = "t") -> Var:
        v = Var(self.name(prefix), kind, grad)
        self.lines.append(f"{v.name} = {expr}")
        return v

    def emit(self, line: str) -> None:
        self.lines.append(line)

    def call(self, outs: list[tuple[str, str]], expr: str, fwd_outs: list[str] | None = None,
             fwd_expr: str | None = None) -> None:
        """An expensive call: in 'fwd' mode `fwd_outs = fwd_expr` (values only, default: the same as grad mode);
        in 'grad' mode a tape entry (stored by the forward kernel, loaded by the backward kernel)."""
        if self.mode == "fwd":
            names = fwd_outs if fwd_outs is not None else [o for o, _ in outs]
            self.lines.append(f"{', '.join(names)} = {fwd_expr or expr}")
        else:
            self.lines.append(Call(list(outs), expr))

    def const(self, raw, sock_kind: str | None) -> Var:
        arr = np.asarray(raw, dtype=np.float32)
        if arr.ndim == 0:
            x = float(arr)
            if sock_kind in ("color", "vector"):
                return Var(f"ti.Vector([{lit(x)}, {lit(x)}, {lit(x)}])", "v", False,
                           lambda vals, x=x: torch.full((3,), x), const=(x, x, x))
            return Var(lit(x), "f", False, lambda vals, x=x: torch.tensor(x), const=x)
        if arr.shape == (4,) and sock_kind == "color":
            arr = arr[:3]
        if arr.shape != (3,) or sock_kind == "float":
            raise Unsupported(f"literal of shape {arr.shape} in a {sock_kind} socket")
        vals = tuple(float(a) for a in arr)
        return Var("ti.Vector([" + ", ".join(lit(a) for a in vals) + "])", "v", False,
                   lambda v_, t=vals: torch.tensor(t, dtype=torch.float32), const=vals)

    def uniform(self, fn: Callable[[dict], torch.Tensor], kind: str, grad: bool) -> Var:
        """A runtime value computed by torch from the parameter values (autograd flows through it)."""
        s = self.nslots
        size = _SIZE[kind]
        self.nslots += size
        self.builders.append(Builder(fn, size))
        v = Var(self.name("u"), kind, grad, fn, slot=s)
        if kind == "f":
            self.lines.append(f"{v.name} = U[{s}]")
        elif kind == "m":
            rows = ", ".join("[" + ", ".join(f"U[{s + 3 * i + j}]" for j in range(3)) + "]" for i in range(3))
            self.lines.append(f"{v.name} = ti.math.mat3([{rows}])")
        else:
            self.lines.append(f"{v.name} = ti.Vector([" + ", ".join(f"U[{s + i}]" for i in range(size)) + "])")
        self.uniform_vars.append(v)
        return v

    def param(self, name: str, pkind: str, sock_kind: str | None) -> Var:
        key = f"{name}/{sock_kind}"
        if key not in self.params:
            if pkind == "float":
                v = self.uniform(lambda vals, n=name: vals[n], "f", True)
                if sock_kind in ("color", "vector"):
                    v = self.convert(v, "float", sock_kind)
            elif pkind in ("color", "vector"):
                if sock_kind == "float":
                    raise Unsupported(f"{pkind} parameter {name!r} in a float socket")
                v = self.uniform(lambda vals, n=name: vals[n], "v", True)
            else:
                raise Unsupported(f"discrete parameter {name!r} in a continuous socket")
            self.params[key] = v
        return self.params[key]

    def derived(self, fn: Callable[[dict], torch.Tensor], kind: str, *deps: Var) -> Var:
        """fn(values) -> tensor; a literal when every dependency is a literal, else a uniform."""
        if all(d.const is not None for d in deps):
            t = fn({}).detach().to(torch.float32).reshape(-1)
            if kind == "f":
                x = float(t[0])
                return Var(lit(x), "f", False, lambda vals, x=x: torch.tensor(x), const=x)
            vals_ = tuple(float(a) for a in t)
            if kind == "m":
                rows = ", ".join("[" + ", ".join(lit(vals_[3 * i + j]) for j in range(3)) + "]" for i in range(3))
                return Var(f"ti.math.mat3([{rows}])", "m", False, lambda v_, t=vals_: torch.tensor(t), const=vals_)
            return Var("ti.Vector([" + ", ".join(lit(a) for a in vals_) + "])", kind, False,
                       lambda v_, t=vals_: torch.tensor(t), const=vals_)
        for d in deps:
            if d.tv is None:
                raise Unsupported("per-texel value where a uniform is needed")
        return self.uniform(fn, kind, any(d.grad for d in deps))

    def convert(self, v: Var, from_kind: str, to_kind: str | None) -> Var:
        """Blender's implicit socket conversions (evaluate._convert)."""
        if to_kind is None or from_kind == to_kind:
            return v
        if from_kind == "float":
            out = self.let(f"ti.Vector([{v.name}, {v.name}, {v.name}])", "v", v.grad)
            out.tv = (lambda vals, f=v.tv: f(vals).expand(3)) if v.tv else None

            def back():
                a = self.adj(out)
                if a:
                    self.acc(v, f"{a}.sum()")
            self.blocks.append(back)
            return out
        if to_kind == "float":
            if from_kind == "color":
                out = self.let(f"{v.name}[0] * 0.2126 + {v.name}[1] * 0.7152 + {v.name}[2] * 0.0722", "f", v.grad)
                w = "ti.Vector([0.2126, 0.7152, 0.0722])"
            else:
                out = self.let(f"({v.name}[0] + {v.name}[1] + {v.name}[2]) / 3.0", "f", v.grad)
                w = "ti.Vector([1.0, 1.0, 1.0]) / 3.0"

            def back():
                a = self.adj(out)
                if a:
                    self.acc(v, f"{a} * {w}")
            self.blocks.append(back)
            return out
        return v  # colour <-> vector: the same three numbers

    # ---- adjoints ----
    def adj(self, v: Var) -> str | None:
        return self.adjs.get(v.name)

    def acc(self, v: Var, expr: str) -> None:
        """Add expr to v's adjoint (declared on first use)."""
        if not v.grad:
            return
        if v.name in self.adjs:
            self.blines.append(f"{self.adjs[v.name]} += {expr}")
        else:
            a = f"g_{v.name}"
            self.adjs[v.name] = a
            self.blines.append(f"{a} = {expr}")

    def back(self, outs: list[Var], fn: Callable[[list[str | None]], None]) -> None:
        """Register fn(adjoint names of outs) to run in reverse order, if some output receives an adjoint."""
        def run():
            names = [self.adj(o) for o in outs]
            if any(names):
                fn(names)
        self.blocks.append(run)

    def finish(self, results: dict[str, Var]) -> None:
        self.results = results

    # ---- kernel bodies ----
    def _store(self) -> list[str]:
        r = self.results
        base = r["base"]
        lines = []
        for i in range(3):
            lines.append(f"out[n, {i}] = {base.name}[{i}]" if base.kind == "v" else f"out[n, {i}] = {base.name}")
        lines.append(f"out[n, 3] = {r['rough'].name}")
        lines.append(f"out[n, 4] = {r['metal'].name}")
        if "height" in r:
            lines.append(f"out[n, 5] = {r['height'].name}")
        if "normal" in r:
            lines += [f"out[n, {6 + i}] = {r['normal'].name}[{i}]" for i in range(3)]
        return lines

    def fwd_lines(self) -> list[str]:
        """'fwd' mode: the values-only forward body."""
        assert not any(isinstance(ln, Call) for ln in self.lines)
        return list(self.lines) + self._store()

    def _call_line(self, c: Call) -> str:
        return f"{', '.join(o for o, _ in c.outs)} = {c.expr}"

    def tape(self) -> list[tuple[str, str, int]]:
        """(name, kind, first column) of every call output the backward body reads, in emission order.

        Call outputs that nothing else reads are left off (LLVM drops them from the backward kernel anyway)."""
        self._adjoint_lines()
        text = "\n".join([ln if isinstance(ln, str) else ln.expr for ln in self.lines] + self.blines + self._tail
                          + self._store())
        used = set(re.findall(r"[A-Za-z_][A-Za-z_0-9]*", text))
        cols, k = [], 0
        for ln in self.lines:
            if isinstance(ln, Call):
                for name, kind in ln.outs:
                    if name in used:
                        cols.append((name, kind, k))
                        k += _TSIZE[kind]
        return cols

    def fwd_tape_lines(self) -> list[str]:
        """'grad' mode forward body: values (outputs) plus the calls' outputs stored on the tape T[n, :]."""
        cols = {name: (kind, c) for name, kind, c in self.tape()}
        body = []
        for ln in self.lines:
            if isinstance(ln, Call):
                body.append(self._call_line(ln))
                for name, _ in ln.outs:
                    if name in cols:
                        kind, c = cols[name]
                        if kind == "f":
                            body.append(f"T[n, {c}] = {name}")
                        else:
                            body += [f"T[n, {c + i}] = {name}[{i}]" for i in range(_TSIZE[kind])]
            else:
                body.append(ln)
        return body + self._store()

    def _adjoint_lines(self) -> None:
        """Run the reverse-order adjoint emitters once (fills self.blines and self._tail)."""
        if getattr(self, "_tail", None) is not None:
            return
        r = self.results
        seed = [(r["base"], "ti.Vector([gout[n, 0], gout[n, 1], gout[n, 2]])"), (r["rough"], "gout[n, 3]"),
                (r["metal"], "gout[n, 4]")]
        if "height" in r:
            seed.append((r["height"], "gout[n, 5]"))
        if "normal" in r:
            seed.append((r["normal"], "ti.Vector([gout[n, 6], gout[n, 7], gout[n, 8]])"))
        for v, e in seed:
            if v.kind == "f" and e.startswith("ti.Vector"):
                e = f"({e}).sum()"
            self.acc(v, e)
        for blk in reversed(self.blocks):
            blk()
        tail = []
        for u in self.uniform_vars:
            a = self.adj(u)
            if not a:
                continue
            if u.kind == "f":
                tail.append(f"acc{u.slot} += {a}")
            elif u.kind == "m":
                tail += [f"acc{u.slot + 3 * i + j} += {a}[{i}, {j}]" for i in range(3) for j in range(3)]
            else:
                tail += [f"acc{u.slot + i} += {a}[{i}]" for i in range(_SIZE[u.kind])]
        self._tail = tail

    def bwd_lines(self, from_tape: bool = True) -> list[str]:
        """'grad' mode backward body: the cheap forward lines again (calls loaded from the tape, or re-run when
        `from_tape` is False), then the adjoints in reverse order and the uniforms' accumulations."""
        self._adjoint_lines()
        cols = {name: (kind, c) for name, kind, c in self.tape()}
        body = []
        for ln in self.lines:
            if not isinstance(ln, Call):
                body.append(ln)
            elif not from_tape:
                body.append(self._call_line(ln))
            else:
                for name, _ in ln.outs:
                    if name in cols:
                        kind, c = cols[name]
                        if kind == "f":
                            body.append(f"{name} = T[n, {c}]")
                        else:
                            body.append(f"{name} = ti.math.{kind}(" + ", ".join(f"T[n, {c + i}]"
                                                                               for i in range(_TSIZE[kind])) + ")")
        return body + self.blines + self._tail


def bump_input(g: Gen, bump: dict, name: str) -> Var:
    """The Bump's Strength or Distance socket: a parameter (uniform) or a literal."""
    raw = bump[name]
    if isinstance(raw, dict) and "param" in raw:
        return g.param(raw["param"], "float", "float")
    return g.const(raw, "float")


def emit_bump_normal(g: Gen, hc: Var, ha: Var, hb: Var, strength: Var, distance: Var, invert: bool,
                     filter_width: float) -> Var:
    """Cycles' Bump normal from the heights at uv, uv + eps a, uv + eps b, per texel, op for op as bump.py's
    `bump_normal` (its docstring has the derivation), with the adjoints torch autograd gives for those ops."""
    s = g.derived(lambda vals: torch.clamp(_tv(strength, vals).to(torch.float32), min=0.0), "f", strength)
    d = g.derived(lambda vals: (-1.0 if invert else 1.0) * _tv(distance, vals).to(torch.float32), "f", distance)
    eps = g.uniform(lambda vals: bump_step(filter_width, vals["__bump_texel"], vals["__uv_size"]), "f", False)
    grad = hc.grad or ha.grad or hb.grad or s.grad or d.grad
    da = g.let(f"{ha.name} - {hc.name}", "f", grad)
    db = g.let(f"{hb.name} - {hc.name}", "f", grad)
    gu = g.let(f"{da.name} * {lit(DIR_A[0])} + {db.name} * {lit(DIR_B[0])}", "f", grad)
    gv = g.let(f"{da.name} * {lit(DIR_A[1])} + {db.name} * {lit(DIR_B[1])}", "f", grad)
    nr = g.let(f"ti.Vector([-{d.name} * {gu.name}, -{d.name} * {gv.name}, {eps.name}])", "v", grad)
    ln = g.let(f"ti.sqrt({nr.name}.dot({nr.name}))", "f", grad)
    c1 = g.let(f"ti.max({ln.name}, 1e-30)", "f", grad)
    # safe_normalize: a zero vector gives the flat normal, as in Cycles
    nu = g.let("ti.Vector([" + ", ".join(f"ti.select({ln.name} > 0.0, {nr.name}[{i}] / {c1.name}, {z})"
                                         for i, z in enumerate(("0.0", "0.0", "1.0"))) + "])", "v", grad)
    m = g.let(f"{s.name} * {nu.name} + (1.0 - {s.name}) * ti.Vector([0.0, 0.0, 1.0])", "v", grad)
    lm = g.let(f"ti.sqrt({m.name}.dot({m.name}))", "f", grad)
    c2 = g.let(f"ti.max({lm.name}, 1e-12)", "f", grad)
    out = g.let(f"{m.name} / {c2.name}", "v", grad)

    def back(ad):
        (a,) = ad
        gm, gnu, gnr, gda, gdb = (g.name("b") for _ in range(5))
        # F.normalize: m / clamp_min(|m|, 1e-12); the clamp passes the gradient where |m| >= 1e-12
        g.blines.append(f"{gm} = {a} / {c2.name} - {m.name} * ti.select({lm.name} >= 1e-12, "
                        f"{m.name}.dot({a}) / ({c2.name} * {c2.name} * {lm.name}), 0.0)")
        g.acc(s, f"{gm}.dot({nu.name} - ti.Vector([0.0, 0.0, 1.0]))")
        g.blines.append(f"{gnu} = {s.name} * {gm}")
        g.blines.append(f"{gnr} = ({gnu} / {c1.name} - {nr.name} * ti.select(({ln.name} > 0.0) & "
                        f"({ln.name} >= 1e-30), {nr.name}.dot({gnu}) / ({c1.name} * {c1.name} * {ln.name}), 0.0))"
                        f" * ti.select({ln.name} > 0.0, 1.0, 0.0)")
        g.acc(d, f"-({gu.name} * {gnr}[0] + {gv.name} * {gnr}[1])")
        # gu = da a0 + db b0, gv = da a1 + db b1, with d gu = -d gnr[0], d gv = -d gnr[1]
        g.blines.append(f"{gda} = -{d.name} * {gnr}[0] * {lit(DIR_A[0])} + -{d.name} * {gnr}[1] * {lit(DIR_A[1])}")
        g.blines.append(f"{gdb} = -{d.name} * {gnr}[0] * {lit(DIR_B[0])} + -{d.name} * {gnr}[1] * {lit(DIR_B[1])}")
        g.acc(ha, gda)
        g.acc(hb, gdb)
        g.acc(hc, f"-({gda} + {gdb})")
    g.back([out], back)
    return out


def _tv(v: Var, vals: dict) -> torch.Tensor:
    return v.tv(vals)


def _vec(v: Var, dim: int) -> str:
    return f"ti.math.vec{dim}(" + ", ".join(f"{v.name}[{i}]" for i in range(dim)) + ")"


def _back_cell_distance(g, a: str, dist: str, div, rand, d_rand: str, d_coord: str, v, sc, dim: int) -> None:
    """Adjoint of a Voronoi distance `dist` (optionally divided by `div`) through its randomness and its cell
    coordinates (the scaled input `v` * `sc`): shared by F1 and distance-to-edge."""
    if div is not None:
        g.acc(div, f"-{a} * {dist} / ({div.name} * {div.name})")
        am = g.name("b")
        g.blines.append(f"{am} = {a} / {div.name}")
        a = am
    g.acc(rand, f"{a} * {d_rand}")
    gc = g.name("b")
    g.blines.append(f"{gc} = {a} * {d_coord}")
    g.acc(v, _pad3(f"({gc} * {sc.name})", dim))
    g.acc(sc, f"{gc}.dot({_vec(v, dim)})")


def _pad3(expr: str, dim: int) -> str:
    return expr if dim == 3 else f"ti.math.vec3({expr}[0], {expr}[1], 0.0)"


def _need(v: Var | None, what: str) -> Var:
    if v is None:
        raise Unsupported(f"{what} unset")
    return v


# ---------------------------------------------------------------------------------------------------------------
# nodes


def emit_mapping(g: Gen, props, ins, used):
    vt = props["vector_type"]
    if vt not in ("POINT", "VECTOR", "TEXTURE"):
        raise Unsupported(f"Mapping {vt}")
    v, loc, rot, sc = (_need(ins[k], k) for k in ("Vector", "Location", "Rotation", "Scale"))

    R = g.derived(lambda vals: euler_to_matrix(_tv(rot, vals).to(torch.float32)).reshape(-1), "m", rot)
    grad = v.grad or loc.grad or R.grad or sc.grad
    if vt == "TEXTURE":
        a = g.let(f"{v.name} - {loc.name}", "v", grad)
        y = g.let(f"{R.name}.transpose() @ {a.name}", "v", grad)
        out = g.let(f"ti.select({sc.name} != 0.0, {y.name} / {sc.name}, 0.0)", "v", grad)

        def back(ad):
            (o,) = ad
            gy = Var(g.name("b"), "v")
            g.blines.append(f"{gy.name} = ti.select({sc.name} != 0.0, {o} / {sc.name}, 0.0)")
            g.acc(sc, f"ti.select({sc.name} != 0.0, -{o} * {y.name} / ({sc.name} * {sc.name}), 0.0)")
            g.acc(R, f"{a.name}.outer_product({gy.name})")
            g.acc(v, f"{R.name} @ {gy.name}")
            g.acc(loc, f"-({R.name} @ {gy.name})")
        g.back([out], back)
        return {"Vector": out}
    w = g.let(f"{v.name} * {sc.name}", "v", v.grad or sc.grad)
    out = g.let(f"{R.name} @ {w.name}" + (f" + {loc.name}" if vt == "POINT" else ""), "v", grad)

    def back(ad):
        (o,) = ad
        if vt == "POINT":
            g.acc(loc, o)
        g.acc(R, f"{o}.outer_product({w.name})")
        if v.grad or sc.grad:
            gw = g.name("b")
            g.blines.append(f"{gw} = {R.name}.transpose() @ {o}")
            g.acc(v, f"{gw} * {sc.name}")
            g.acc(sc, f"{gw} * {v.name}")
    g.back([out], back)
    return {"Vector": out}


def _offsets(seed: float, dim: int) -> tuple[float, ...]:
    return tuple(float(x) for x in random_offset(seed, dim, "cpu"))


def emit_noise(g: Gen, props, ins, used):
    dim = {"2D": 2, "3D": 3}.get(props["noise_dimensions"])
    ntype = props["noise_type"]
    if dim is None or ntype not in ("FBM", "RIDGED_MULTIFRACTAL"):
        raise Unsupported(f"Noise {props['noise_dimensions']} {ntype}")
    if "Color" in used:
        raise Unsupported("Noise Color output")
    v, scale, rough, lac, dist, off, gain = (_need(ins[k], k) for k in ("Vector", "Scale", "Roughness", "Lacunarity",
                                                                     "Distortion", "Offset", "Gain"))
    detail = min(max(float(ins["Detail"]), 0.0), 15.0)
    n, rmd = int(detail), detail - float(int(detail))
    norm = bool(props["normalize"])
    if any(x.kind != "f" for x in (scale, rough, lac, dist, off, gain)):
        raise Unsupported("Noise vector-valued scalar input")
    r = g.derived(lambda vals: torch.clamp(_tv(rough, vals).to(torch.float32), min=0.0), "f", rough)
    vt = f"vec{dim}"
    p0 = g.let(f"{_vec(v, dim)} * {scale.name}", vt, v.grad or scale.grad)
    has_dist = not (dist.const is not None and dist.const == 0.0)
    seeds = (0.0, 1.0) if dim == 2 else (0.0, 1.0, 2.0)
    perl = "TP.perlin2" if dim == 2 else "TP.perlin3"
    perl_vg = "TP._perlin2_vg" if dim == 2 else "TP._perlin3_vg"
    pert = []
    p = p0
    if has_dist:
        for s in seeds:
            off_s = "ti.math." + vt + "(" + ", ".join(lit(o) for o in _offsets(s, dim)) + ")"
            tn, gn = g.name("pv"), g.name("pg")
            g.call([(tn, "f"), (gn, vt)], f"{perl_vg}({p0.name} + {off_s})", [tn], f"{perl}({p0.name} + {off_s})")
            pert.append((tn, gn))
        p = g.let(f"{p0.name} + ti.math.{vt}(" + ", ".join(t for t, _ in pert) + f") * {dist.name}", vt,
                  p0.grad or dist.grad)
    fname = g.name("nf")
    dp, dr, dl = g.name("ndp"), g.name("ndr"), g.name("ndl")
    if ntype == "FBM":
        fac = Var(fname, "f", p.grad or r.grad or lac.grad)
        g.call([(fac.name, "f"), (dp, vt), (dr, "f"), (dl, "f")],
               f"TP.fbm_vg({p.name}, {n}, {lit(rmd)}, {r.name}, {lac.name}, {norm}, {perl_vg})", [fac.name],
               f"TP.fbm_value({p.name}, {n}, {lit(rmd)}, {r.name}, {lac.name}, {norm}, {perl})")
    else:  # ridged multifractal: Blender ignores the fractional detail and normalize
        fac = Var(fname, "f", p.grad or r.grad or lac.grad or off.grad or gain.grad)
        do, dg = g.name("ndo"), g.name("ndg")
        args = f"{p.name}, {n}, {r.name}, {lac.name}, {off.name}, {gain.name}"
        # values only: the same call, its unused derivatives are dead code to LLVM (taichi) and Dr.Jit
        g.call([(fac.name, "f"), (dp, vt), (dr, "f"), (dl, "f"), (do, "f"), (dg, "f")],
               f"TP.ridged_vg({args}, {perl_vg})")

    def back(ad):
        (a,) = ad
        g.acc(r, f"{a} * {dr}")
        g.acc(lac, f"{a} * {dl}")
        if ntype != "FBM":
            g.acc(off, f"{a} * {do}")
            g.acc(gain, f"{a} * {dg}")
        gp = g.name("b")
        g.blines.append(f"{gp} = {a} * {dp}")
        gp0 = gp
        if has_dist:
            g.acc(dist, f"{gp}.dot(ti.math.{vt}(" + ", ".join(t for t, _ in pert) + "))")
            gp0 = g.name("b")
            terms = " + ".join(f"{gp}[{i}] * {pert[i][1]}" for i in range(dim))
            g.blines.append(f"{gp0} = {gp} + {dist.name} * ({terms})")
        g.acc(v, _pad3(f"({gp0} * {scale.name})", dim))
        g.acc(scale, f"{gp0}.dot({_vec(v, dim)})")
    g.back([fac], back)
    return {"Fac": fac}


def emit_voronoi(g: Gen, props, ins, used):
    dim = {"2D": 2, "3D": 3}.get(props["voronoi_dimensions"])
    feature, metric = props["feature"], props["distance"]
    detail = min(max(float(ins["Detail"]), 0.0), 15.0)
    zero_input = detail == 0.0 or min(max(float(ins["Roughness"]), 0.0), 1.0) == 0.0
    if dim is None or not zero_input:
        raise Unsupported("Voronoi fractal or 1D/4D")
    edge = feature == "DISTANCE_TO_EDGE"
    if not (feature == "F1" and metric in ("EUCLIDEAN", "MANHATTAN", "CHEBYCHEV")) and not (edge and dim == 2):
        raise Unsupported(f"Voronoi {feature} {metric} {dim}D")
    v, sc, rnd = (_need(ins[k], k) for k in ("Vector", "Scale", "Randomness"))
    if sc.kind != "f" or rnd.kind != "f":
        raise Unsupported("Voronoi vector-valued scalar input")
    rand = g.derived(lambda vals: torch.clamp(_tv(rnd, vals).to(torch.float32), 0.0, 1.0), "f", rnd)
    norm = bool(props["normalize"])
    vt = f"vec{dim}"
    c = g.let(f"{_vec(v, dim)} * {sc.name}", vt, v.grad or sc.grad)
    grad = c.grad or rand.grad
    if edge:
        m, gl, gr = g.name("vd"), g.name("vg"), g.name("vr")
        g.call([(m, "f"), (gl, "vec2"), (gr, "f")], f"TV.edge_2d({c.name}, {rand.name})")
        div = None
        dist = Var(m, "f", grad)
        if norm:
            div = g.derived(lambda vals: 0.5 + 0.5 * torch.clamp(_tv(rnd, vals).to(torch.float32), 0.0, 1.0), "f", rnd)
            dist = g.let(f"{m} / {div.name}", "f", grad or div.grad)
        zero = g.const((0.0, 0.0, 0.0), "color")

        def back(ad):
            (a,) = ad
            _back_cell_distance(g, a, m, div, rand, gr, gl, v, sc, dim)
        g.back([dist], back)
        return {"Distance": dist, "Color": zero, "Position": zero}
    d, col, pos, dc, dr, dpr = (g.name(p) for p in ("vd", "vc", "vp", "vdc", "vdr", "vdp"))
    g.call([(d, "f"), (col, "vec3"), (pos, vt), (dc, vt), (dr, "f"), (dpr, vt)],
           f"TV.f1_{dim}d({c.name}, {rand.name}, \"{metric}\")")
    maxd = None
    dist = Var(d, "f", grad)
    if norm:
        maxd = g.derived(lambda vals: _distance(torch.zeros(dim), torch.full((dim,), 1.0) * (
            0.5 + 0.5 * torch.clamp(_tv(rnd, vals).to(torch.float32), 0.0, 1.0)), metric, 0.5), "f", rnd)
        dist = g.let(f"{d} / {maxd.name}", "f", grad or maxd.grad)
    if sc.const is not None and sc.const == 0.0:
        position = g.const((0.0, 0.0, 0.0), "vector")
    else:
        position = g.let(_pad3(f"({pos} / {sc.name})", dim), "v", rand.grad or sc.grad)
    color = Var(col, "v", False)

    def back(ad):
        a_d, a_p = ad
        if a_d:
            _back_cell_distance(g, a_d, d, maxd, rand, dr, dc, v, sc, dim)
        if a_p and position.grad:
            ap = g.name("b")
            g.blines.append(f"{ap} = {_vec(Var(a_p, 'v'), dim)}")
            g.acc(rand, f"{ap}.dot({dpr}) / {sc.name}")
            g.acc(sc, f"-{ap}.dot({pos}) / ({sc.name} * {sc.name})")
    g.back([dist, position], back)
    return {"Distance": dist, "Color": color, "Position": position}


def emit_wave(g: Gen, props, ins, used):
    v, scale, dist, ds, dr, phase = (_need(ins[k], k) for k in ("Vector", "Scale", "Distortion", "Detail Scale",
                                                                  "Detail Roughness", "Phase Offset"))
    for x in (scale, dist, ds, dr, phase):
        if x.kind != "f":
            raise Unsupported("Wave vector-valued scalar input")
    wt, bd, rd, prof = props["wave_type"], props["bands_direction"], props["rings_direction"], props["wave_profile"]
    p = g.let(f"{v.name} * {scale.name}", "v", v.grad or scale.grad)
    q = g.let(f"({p.name} + 0.000001) * 0.999999", "v", p.grad)
    mask = None
    if wt == "BANDS":
        axis = {"X": 0, "Y": 1, "Z": 2}.get(bd)
        if axis is not None:
            n0 = g.let(f"{q.name}[{axis}] * 20.0", "f", q.grad)
        else:
            n0 = g.let(f"({q.name}[0] + {q.name}[1] + {q.name}[2]) * 10.0", "f", q.grad)
    else:
        mask = {"X": "0.0, 1.0, 1.0", "Y": "1.0, 0.0, 1.0", "Z": "1.0, 1.0, 0.0"}.get(rd, "1.0, 1.0, 1.0")
        rp = g.let(f"{q.name} * ti.Vector([{mask}])", "v", q.grad)
        ss = g.let(f"{rp.name}[0] * {rp.name}[0] + {rp.name}[1] * {rp.name}[1] + {rp.name}[2] * {rp.name}[2]", "f", q.grad)
        n0 = g.let(f"ti.sqrt(ti.max({ss.name}, 1e-20)) * 20.0", "f", q.grad)
    n1 = g.let(f"{n0.name} + {phase.name}", "f", n0.grad or phase.grad)
    has_dist = not (dist.const is not None and dist.const == 0.0)
    nn = n1
    f = dpf = drf = None
    if has_dist:
        d = min(max(float(ins["Detail"]), 0.0), 15.0)
        oct_, rmd = int(d), d - float(int(d))
        qs = g.let(f"{q.name} * {ds.name}", "v", q.grad or ds.grad)
        f = Var(g.name("wf"), "f", qs.grad or dr.grad)
        dpf, drf, dlf = g.name("wdp"), g.name("wdr"), g.name("wdl")
        g.call([(f.name, "f"), (dpf, "vec3"), (drf, "f"), (dlf, "f")],
               f"TP.fbm_vg({qs.name}, {oct_}, {lit(rmd)}, {dr.name}, 2.0, True, TP._perlin3_vg)", [f.name],
               f"TP.fbm_value({qs.name}, {oct_}, {lit(rmd)}, {dr.name}, 2.0, True, TP.perlin3)")
        nn = g.let(f"{n1.name} + {dist.name} * ({f.name} * 2.0 - 1.0)", "f", n1.grad or dist.grad or f.grad)
    if prof == "SIN":
        fac = g.let(f"0.5 + 0.5 * ti.sin({nn.name} - {lit(math.pi / 2)})", "f", nn.grad)
    elif prof == "SAW":
        m = g.let(f"{nn.name} / {lit(2 * math.pi)}", "f", nn.grad)
        fac = g.let(f"{m.name} - ti.floor({m.name})", "f", nn.grad)
    else:
        m = g.let(f"{nn.name} / {lit(2 * math.pi)}", "f", nn.grad)
        fac = g.let(f"ti.abs({m.name} - ti.floor({m.name} + 0.5)) * 2.0", "f", nn.grad)
    color = g.let(f"ti.Vector([{fac.name}, {fac.name}, {fac.name}])", "v", fac.grad)

    def back(ad):
        a_f, a_c = ad
        parts = [x for x in (a_f, f"{a_c}.sum()" if a_c else None) if x]
        a = g.name("b")
        g.blines.append(f"{a} = " + " + ".join(parts))
        an = g.name("b")
        if prof == "SIN":
            g.blines.append(f"{an} = {a} * 0.5 * ti.cos({nn.name} - {lit(math.pi / 2)})")
        elif prof == "SAW":
            g.blines.append(f"{an} = {a} / {lit(2 * math.pi)}")
        else:
            g.blines.append(f"{an} = {a} * 2.0 * ti.math.sign({m.name} - ti.floor({m.name} + 0.5)) / {lit(2 * math.pi)}")
        g.acc(phase, an)
        gq = g.name("b")
        if wt == "BANDS":
            axis = {"X": 0, "Y": 1, "Z": 2}.get(bd)
            if axis is not None:
                e = ["0.0"] * 3
                e[axis] = f"{an} * 20.0"
                g.blines.append(f"{gq} = ti.Vector([{', '.join(e)}])")
            else:
                g.blines.append(f"{gq} = ti.Vector([{an}, {an}, {an}]) * 10.0")
        else:
            g.blines.append(f"{gq} = ti.select({ss.name} >= 1e-20, {an} * 20.0 / ti.sqrt(ti.max({ss.name}, 1e-20)), 0.0)"
                            f" * {rp.name} * ti.Vector([{mask}])")
        if has_dist:
            g.acc(dist, f"{an} * ({f.name} * 2.0 - 1.0)")
            af = g.name("b")
            g.blines.append(f"{af} = {an} * {dist.name} * 2.0")
            g.acc(dr, f"{af} * {drf}")
            g.acc(ds, f"{af} * {dpf}.dot({q.name})")
            g.blines.append(f"{gq} += {af} * {dpf} * {ds.name}")
        gp = g.name("b")
        g.blines.append(f"{gp} = {gq} * 0.999999")
        g.acc(v, f"{gp} * {scale.name}")
        g.acc(scale, f"{gp}.dot({v.name})")
    g.back([fac, color], back)
    return {"Fac": fac, "Color": color}


def emit_brick(g: Gen, props, ins, used):
    names = ("Vector", "Color1", "Color2", "Mortar", "Scale", "Mortar Size", "Mortar Smooth", "Bias", "Brick Width",
             "Row Height")
    v, c1, c2, cm, sc, msz, ms, bias, bw, rh = (_need(ins[k], k) for k in names)
    for x in (sc, msz, ms, bias, bw, rh):
        if x.kind != "f":
            raise Unsupported("Brick vector-valued scalar input")
    consts = (lit(float(props["offset"])), int(props["offset_frequency"]), lit(float(props["squash"])),
              int(props["squash_frequency"]))
    cargs = ", ".join(str(c) for c in consts)
    args = ", ".join(x.name for x in (v, c1, c2, cm, sc, msz, ms, bias, bw, rh))
    grad = any(x.grad for x in (v, c1, c2, cm, sc, msz, ms, bias, bw, rh))
    fac, col = Var(g.name("bf"), "f", grad), Var(g.name("bc"), "v", grad)
    g.emit(f"{fac.name}, {col.name} = FF.brick({args}, {cargs})")

    def back(ad):
        a_f, a_c = ad
        gs = [g.name("b") for _ in range(10)]
        g.blines.append(f"{', '.join(gs)} = FF.brick_vjp({args}, {a_f or '0.0'}, {a_c or 'ti.Vector([0.0, 0.0, 0.0])'}, "
                        f"{cargs})")
        for x, gx in zip((v, c1, c2, cm, sc, msz, ms, bias, bw, rh), gs):
            g.acc(x, gx)
    g.back([fac, col], back)
    return {"Fac": fac, "Color": col}


def emit_checker(g: Gen, props, ins, used):
    v, c1, c2, sc = (_need(ins[k], k) for k in ("Vector", "Color1", "Color2", "Scale"))
    if sc.kind != "f":
        raise Unsupported("Checker vector-valued scale")
    p = g.let(f"({v.name} * {sc.name} + 0.000001) * 0.999999", "v", False)
    xi = g.let(f"ti.abs(ti.cast(ti.floor({p.name}), ti.i32)) % 2", "iv", False)
    fac = g.let(f"ti.select(ti.select({xi.name}[0] == {xi.name}[1], 1, 0) == {xi.name}[2], 1.0, 0.0)", "f", False)
    col = g.let(f"ti.select({fac.name} == 1.0, {c1.name}, {c2.name})", "v", c1.grad or c2.grad)

    def back(ad):
        (a,) = ad
        g.acc(c1, f"ti.select({fac.name} == 1.0, {a}, 0.0)")
        g.acc(c2, f"ti.select({fac.name} == 1.0, 0.0, {a})")
    g.back([col], back)
    return {"Fac": fac, "Color": col}


def emit_ramp(g: Gen, props, ins, used):
    interp = props["interpolation"]
    if interp not in ("LINEAR", "EASE", "CONSTANT"):
        raise Unsupported(f"Color Ramp {interp}")
    fac = _need(ins["Fac"], "Fac")
    elements = props["elements"]
    k = len(elements)
    # stops are sorted by position at run time (torch), so they enter as one uniform block even when literal
    pvars = [e[key] for e in elements for key in ("position", "color") if isinstance(e[key], dict)]

    def stops(vals: dict) -> torch.Tensor:
        pos, col = [], []
        for e in elements:
            p, c = e["position"], e["color"]
            p = vals[p["param"]] if isinstance(p, dict) else p
            c = torch.as_tensor(vals[c["param"]] if isinstance(c, dict) else c, dtype=torch.float32)
            if c.shape[-1] == 3:
                c = torch.cat([c, torch.ones(1, device=c.device)])
            pos.append(torch.as_tensor(p, dtype=torch.float32).reshape(()).to(c.device))
            col.append(c)
        pos_t, col_t = torch.stack(pos), torch.stack(col)
        order = torch.argsort(pos_t.detach())
        return torch.cat([pos_t[order], col_t[order].reshape(-1)])

    grad = bool(pvars) or fac.grad
    if not pvars:
        s = stops({}).tolist()
        P = [Var(lit(s[i]), "f", False, const=s[i]) for i in range(k)]
        C = [Var("ti.Vector([" + ", ".join(lit(c) for c in s[k + 4 * i:k + 4 * i + 4]) + "])", "v4", False,
                 const=tuple(s[k + 4 * i:k + 4 * i + 4])) for i in range(k)]
    else:
        slot = g.nslots
        g.nslots += 5 * k
        g.builders.append(Builder(stops, 5 * k))
        P, C = [], []
        for i in range(k):
            pv = Var(g.name("u"), "f", True, slot=slot + i)
            g.emit(f"{pv.name} = U[{slot + i}]")
            cv = Var(g.name("u"), "v4", True, slot=slot + k + 4 * i)
            g.emit(f"{cv.name} = ti.Vector([" + ", ".join(f"U[{slot + k + 4 * i + j}]" for j in range(4)) + "])")
            g.uniform_vars += [pv, cv]
            P.append(pv)
            C.append(cv)
    if k == 1:
        out = g.let(C[0].name, "v4", C[0].grad)
        tvar = None

        def back(ad):
            g.acc(C[0], ad[0])
    else:
        f = fac.name
        right = g.let(" + ".join(f"ti.select({P[i].name} <= {f}, 1, 0)" for i in range(k)), "i", False)
        r = g.let(f"ti.min(ti.max({right.name}, 1), {k - 1})", "i", False)
        pl = g.let(" + ".join(f"ti.select({r.name} - 1 == {i}, {P[i].name}, 0.0)" for i in range(k)), "f", grad)
        pr = g.let(" + ".join(f"ti.select({r.name} == {i}, {P[i].name}, 0.0)" for i in range(k)), "f", grad)
        cl = g.let(" + ".join(f"ti.select({r.name} - 1 == {i}, {C[i].name}, 0.0)" for i in range(k)), "v4", grad)
        cr = g.let(" + ".join(f"ti.select({r.name} == {i}, {C[i].name}, 0.0)" for i in range(k)), "v4", grad)
        below = f"{right.name} == 0"
        above = f"{right.name} == {k}"
        if interp == "CONSTANT":
            mid = cl.name
            tvar = t0 = None
        else:
            span = g.let(f"{pr.name} - {pl.name}", "f", grad)
            t0 = g.let(f"ti.select({span.name} != 0.0, ({f} - {pr.name}) / ti.select({span.name} != 0.0, -{span.name}, 1.0), 0.0)",
                       "f", grad)
            tvar = g.let(f"{t0.name} * {t0.name} * (3.0 - 2.0 * {t0.name})", "f", grad) if interp == "EASE" else t0
            mid = f"{cr.name} * (1.0 - {tvar.name}) + {cl.name} * {tvar.name}"
        out = g.let(f"ti.select({below}, {C[0].name}, ti.select({above}, {C[k - 1].name}, {mid}))", "v4", grad)

        def back(ad):
            (a,) = ad
            inb = g.name("b")
            g.blines.append(f"{inb} = ti.select(({below}) | ({above}), 0.0, 1.0)")
            g.acc(C[0], f"ti.select({below}, {a}, 0.0)")
            g.acc(C[k - 1], f"ti.select({above}, {a}, 0.0)")
            if interp == "CONSTANT":
                gcl, gcr = f"{a} * {inb}", None
            else:
                gcl, gcr = f"{a} * ({inb} * {tvar.name})", f"{a} * ({inb} * (1.0 - {tvar.name}))"
            for i in range(k):
                g.acc(C[i], f"ti.select({r.name} - 1 == {i}, {gcl}, 0.0)")
                if gcr:
                    g.acc(C[i], f"ti.select({r.name} == {i}, {gcr}, 0.0)")
            if interp != "CONSTANT":
                gt = g.name("b")
                g.blines.append(f"{gt} = {inb} * {a}.dot({cl.name} - {cr.name})")
                if interp == "EASE":
                    g.blines.append(f"{gt} = {gt} * 6.0 * {t0.name} * (1.0 - {t0.name})")
                gt0 = g.name("b")
                # t0 = (f - pr) / (pl - pr) where span != 0
                g.blines.append(f"{gt0} = ti.select({span.name} != 0.0, {gt} / ({pl.name} - {pr.name}), 0.0)")
                g.acc(fac, gt0)
                gpl = f"-{gt0} * ({f} - {pr.name}) / ({pl.name} - {pr.name})"
                gpr = f"{gt0} * ({f} - {pl.name}) / ({pl.name} - {pr.name})"
                for i in range(k):
                    g.acc(P[i], f"ti.select({r.name} - 1 == {i}, {gpl}, 0.0) + ti.select({r.name} == {i}, {gpr}, 0.0)")
    color = g.let(f"ti.Vector([{out.name}[0], {out.name}[1], {out.name}[2]])", "v", out.grad)
    alpha = g.let(f"{out.name}[3]", "f", out.grad)

    def back_split(ad):
        a_c, a_a = ad
        parts = []
        if a_c:
            parts.append(f"ti.Vector([{a_c}[0], {a_c}[1], {a_c}[2], 0.0])")
        if a_a:
            parts.append(f"ti.Vector([0.0, 0.0, 0.0, {a_a}])")
        g.acc(out, " + ".join(parts))
    g.back([out], back)
    g.back([color, alpha], back_split)
    return {"Color": color, "Alpha": alpha}


def _mix_rgb(blend: str, t: str, a: str, b: str) -> tuple[str, str, str, str]:
    """(result, d/da, d/db, d/dt) expressions of svm_mix for one blend mode (vec3 a, b; scalar t)."""
    tm = f"(1.0 - {t})"
    sg = f"ti.math.sign({a} - {b})"
    if blend == "MIX":
        return f"{tm} * {a} + {t} * {b}", f"{tm} + {a} * 0.0", f"{t} + {a} * 0.0", f"{b} - {a}"
    if blend == "ADD":
        return f"{a} + {t} * {b}", f"1.0 + {a} * 0.0", f"{t} + {a} * 0.0", b
    if blend == "MULTIPLY":
        return f"{a} * ({tm} + {t} * {b})", f"{tm} + {t} * {b}", f"{a} * {t}", f"{a} * ({b} - 1.0)"
    if blend == "SUBTRACT":
        return f"{a} - {t} * {b}", f"1.0 + {a} * 0.0", f"-{t} + {a} * 0.0", f"-{b}"
    if blend == "SCREEN":
        s = f"({tm} + {t} * (1.0 - {b}))"
        return f"1.0 - {s} * (1.0 - {a})", s, f"{t} * (1.0 - {a})", f"{b} * (1.0 - {a})"
    if blend == "DIVIDE":
        nz = f"({b} != 0.0)"
        sb = f"ti.select({nz}, {b}, 1.0)"
        return (f"ti.select({nz}, {tm} * {a} + {t} * {a} / {sb}, {a})", f"ti.select({nz}, {tm} + {t} / {sb}, 1.0)",
                f"ti.select({nz}, -{t} * {a} / ({sb} * {sb}), 0.0)", f"ti.select({nz}, -{a} + {a} / {sb}, 0.0)")
    if blend == "DIFFERENCE":
        return (f"{tm} * {a} + {t} * ti.abs({a} - {b})", f"{tm} + {t} * {sg}", f"-{t} * {sg}",
                f"ti.abs({a} - {b}) - {a}")
    if blend in ("DARKEN", "LIGHTEN"):
        fn, cmp = ("ti.min", "<") if blend == "DARKEN" else ("ti.max", ">")
        wa = f"ti.select({a} {cmp} {b}, 1.0, ti.select({a} == {b}, 0.5, 0.0))"
        wb = f"ti.select({b} {cmp} {a}, 1.0, ti.select({a} == {b}, 0.5, 0.0))"
        return f"{tm} * {a} + {t} * {fn}({a}, {b})", f"{tm} + {t} * {wa}", f"{t} * {wb}", f"{fn}({a}, {b}) - {a}"
    if blend == "OVERLAY":
        lo = f"({a} < 0.5)"
        s = f"({tm} + 2.0 * {t} * (1.0 - {b}))"
        return (f"ti.select({lo}, {a} * ({tm} + 2.0 * {t} * {b}), 1.0 - {s} * (1.0 - {a}))",
                f"ti.select({lo}, {tm} + 2.0 * {t} * {b}, {s})",
                f"ti.select({lo}, 2.0 * {t} * {a}, 2.0 * {t} * (1.0 - {a}))",
                f"ti.select({lo}, {a} * (2.0 * {b} - 1.0), (2.0 * {b} - 1.0) * (1.0 - {a}))")
    if blend == "SOFT_LIGHT":
        scr = f"(1.0 - (1.0 - {b}) * (1.0 - {a}))"
        gg = f"((1.0 - {a}) * {b} * {a} + {a} * {scr})"
        dga = f"(-{b} * {a} + (1.0 - {a}) * {b} + {scr} + {a} * (1.0 - {b}))"
        dgb = f"(2.0 * {a} * (1.0 - {a}))"
        return f"{tm} * {a} + {t} * {gg}", f"{tm} + {t} * {dga}", f"{t} * {dgb}", f"{gg} - {a}"
    if blend == "LINEAR_LIGHT":
        hi = f"({b} > 0.5)"
        return (f"ti.select({hi}, {a} + {t} * (2.0 * ({b} - 0.5)), {a} + {t} * (2.0 * {b} - 1.0))",
                f"1.0 + {a} * 0.0", f"2.0 * {t} + {a} * 0.0",
                f"ti.select({hi}, 2.0 * ({b} - 0.5), 2.0 * {b} - 1.0)")
    raise Unsupported(f"Mix {blend}")


def emit_mix(g: Gen, props, ins, used):
    fac, a, b = (_need(ins[k], k) for k in ("Factor", "A", "B"))
    if fac.kind != "f":
        raise Unsupported("Mix vector factor")
    t = g.let(f"FF.clamp01({fac.name})" if props["clamp_factor"] else fac.name, "f", fac.grad)
    if props["clamp_factor"]:
        g.back([t], lambda ad: g.acc(fac, f"{ad[0]} * FF.in01({fac.name})"))
    else:
        g.back([t], lambda ad: g.acc(fac, ad[0]))
    if props["data_type"] == "FLOAT":
        af = g.let(f"{a.name}[0]" if a.kind == "v" else a.name, "f", a.grad)
        bf = g.let(f"{b.name}[0]" if b.kind == "v" else b.name, "f", b.grad)
        out = g.let(f"(1.0 - {t.name}) * {af.name} + {t.name} * {bf.name}", "f", t.grad or a.grad or b.grad)

        def back(ad):
            (o,) = ad
            g.acc(af, f"{o} * (1.0 - {t.name})")
            g.acc(bf, f"{o} * {t.name}")
            g.acc(t, f"{o} * ({bf.name} - {af.name})")
            if a.kind == "v":
                g.acc(a, f"ti.Vector([{g.adj(af) or '0.0'}, 0.0, 0.0])")
            else:
                g.acc(a, g.adj(af) or "0.0")
            if b.kind == "v":
                g.acc(b, f"ti.Vector([{g.adj(bf) or '0.0'}, 0.0, 0.0])")
            else:
                g.acc(b, g.adj(bf) or "0.0")
        # af/bf adjoints must be complete before they are passed on: one block handles both
        g.back([out], back)
        return {"Result": out}
    av = a if a.kind == "v" else g.convert(a, "float", "color")
    bv = b if b.kind == "v" else g.convert(b, "float", "color")
    res, da, db, dt = _mix_rgb(props["blend_type"], t.name, av.name, bv.name)
    grad = t.grad or av.grad or bv.grad
    raw = g.let(res, "v", grad)
    out = g.let(f"FF.clamp01({raw.name})" if props["clamp_result"] else raw.name, "v", grad)

    def back(ad):
        (o,) = ad
        go = o
        if props["clamp_result"]:
            go = g.name("b")
            g.blines.append(f"{go} = {o} * ti.select(({raw.name} >= 0.0) & ({raw.name} <= 1.0), 1.0, 0.0)")
        g.acc(av, f"{go} * ({da})")
        g.acc(bv, f"{go} * ({db})")
        if t.grad:
            g.acc(t, f"({go} * ({dt})).sum()")
    g.back([out], back)
    return {"Result": out}


def _math(op: str, a: str, b: str, c: str) -> tuple[str, str, str, str]:
    """(value, d/da, d/db, d/dc) for the Math node's operation, as torch's autograd sees mathops.math_node."""
    nz = f"({b} != 0.0)"
    sb = f"ti.select({nz}, {b}, 1.0)"
    z = "0.0"
    if op == "ADD":
        return f"{a} + {b}", "1.0", "1.0", z
    if op == "SUBTRACT":
        return f"{a} - {b}", "1.0", "-1.0", z
    if op == "MULTIPLY":
        return f"{a} * {b}", b, a, z
    if op == "DIVIDE":
        return (f"ti.select({nz}, {a} / {sb}, 0.0)", f"ti.select({nz}, 1.0 / {sb}, 0.0)",
                f"ti.select({nz}, -{a} / ({sb} * {sb}), 0.0)", z)
    if op == "MULTIPLY_ADD":
        return f"{a} * {b} + {c}", b, a, "1.0"
    if op == "POWER":
        bad = f"(({a} < 0.0) & ({b} != ti.floor({b})))"
        sa = f"ti.select({bad}, 1.0, {a})"
        pw = f"ti.pow({sa}, {b})"
        # torch: d/dbase = b * base^(b-1); d/dexp = base^b * log(base), 0 where base == 0 and exp >= 0
        return (f"ti.select({bad}, 0.0, {pw})",
                f"ti.select({bad}, 0.0, ti.select({b} == 0.0, 0.0, {b} * ti.pow({sa}, {b} - 1.0)))",
                f"ti.select({bad} | (({sa} == 0.0) & ({b} >= 0.0)), 0.0, {pw} * ti.log({sa}))", z)
    if op in ("MINIMUM", "MAXIMUM"):
        fn, cmp = ("ti.min", "<") if op == "MINIMUM" else ("ti.max", ">")
        return (f"{fn}({a}, {b})", f"ti.select({a} {cmp} {b}, 1.0, ti.select({a} == {b}, 0.5, 0.0))",
                f"ti.select({b} {cmp} {a}, 1.0, ti.select({a} == {b}, 0.5, 0.0))", z)
    if op == "ABSOLUTE":
        return f"ti.abs({a})", f"ti.math.sign({a})", z, z
    if op == "LESS_THAN":
        return f"ti.select({a} < {b}, 1.0, 0.0)", z, z, z
    if op == "GREATER_THAN":
        return f"ti.select({a} > {b}, 1.0, 0.0)", z, z, z
    if op == "SIGN":
        return f"ti.math.sign({a})", z, z, z
    if op == "ROUND":
        return f"ti.floor({a} + 0.5)", z, z, z
    if op == "FLOOR":
        return f"ti.floor({a})", z, z, z
    if op == "CEIL":
        return f"ti.ceil({a})", z, z, z
    if op == "FRACT":
        return f"{a} - ti.floor({a})", "1.0", z, z
    if op == "MODULO":
        trunc = f"ti.select({a} / {sb} < 0.0, ti.ceil({a} / {sb}), ti.floor({a} / {sb}))"
        return (f"ti.select({nz}, {a} - {trunc} * {sb}, 0.0)", f"ti.select({nz}, 1.0, 0.0)",
                f"ti.select({nz}, -{trunc}, 0.0)", z)
    if op == "FLOORED_MODULO":
        return (f"ti.select({nz}, {a} - ti.floor({a} / {sb}) * {sb}, 0.0)", f"ti.select({nz}, 1.0, 0.0)",
                f"ti.select({nz}, -ti.floor({a} / {sb}), 0.0)", z)
    if op == "SNAP":
        return f"ti.select({nz}, ti.floor({a} / {sb}) * {sb}, 0.0)", z, f"ti.select({nz}, ti.floor({a} / {sb}), 0.0)", z
    if op == "PINGPONG":
        x = f"({a} - {b})"
        fl = f"ti.floor({x} / (2.0 * {sb}))"
        m = f"({x} - {fl} * (2.0 * {sb}))"
        sg = f"ti.math.sign({m} - {sb})"
        return (f"ti.select({nz}, ti.abs({m} - {sb}), 0.0)", f"ti.select({nz}, {sg}, 0.0)",
                f"ti.select({nz}, {sg} * (-1.0 - 2.0 * {fl} - 1.0), 0.0)", z)
    if op == "SINE":
        return f"ti.sin({a})", f"ti.cos({a})", z, z
    if op == "COSINE":
        return f"ti.cos({a})", f"-ti.sin({a})", z, z
    if op == "SQRT":
        return (f"ti.select({a} > 0.0, ti.sqrt(ti.max({a}, 1e-30)), 0.0)",
                f"ti.select({a} >= 1e-30, 0.5 / ti.sqrt(ti.max({a}, 1e-30)), 0.0)", z, z)
    raise Unsupported(f"Math {op}")


def emit_math(g: Gen, props, ins, used):
    a, b, c = (_need(ins[k], k) for k in ("A", "B", "C"))
    if a.kind != "f" or b.kind != "f" or c.kind != "f":
        raise Unsupported("Math vector input")
    val, da, db, dc = _math(props["operation"], a.name, b.name, c.name)
    grad = a.grad or b.grad or c.grad
    raw = g.let(val, "f", grad)
    out = g.let(f"FF.clamp01({raw.name})" if props["use_clamp"] else raw.name, "f", grad)

    def back(ad):
        (o,) = ad
        go = f"({o} * FF.in01({raw.name}))" if props["use_clamp"] else o
        for x, d in ((a, da), (b, db), (c, dc)):
            if d != "0.0":
                g.acc(x, f"{go} * ({d})")
    g.back([out], back)
    return {"Value": out}


def emit_map_range(g: Gen, props, ins, used):
    it = props["interpolation_type"]
    if it not in ("LINEAR", "STEPPED"):
        raise Unsupported(f"Map Range {it}")
    v, fmin, fmax, tmin, tmax, st = (_need(ins[k], k) for k in ("Value", "From Min", "From Max", "To Min", "To Max",
                                                                "Steps"))
    for x in (v, fmin, fmax, tmin, tmax, st):
        if x.kind != "f":
            raise Unsupported("Map Range vector input")
    grad = any(x.grad for x in (v, fmin, fmax, tmin, tmax, st))
    den = g.let(f"{fmax.name} - {fmin.name}", "f", grad)
    f0 = g.let(f"ti.select({den.name} != 0.0, ({v.name} - {fmin.name}) / ti.select({den.name} != 0.0, {den.name}, 1.0), 0.0)",
               "f", grad)
    f = f0
    if it == "STEPPED":
        fl = g.let(f"ti.floor({f0.name} * ({st.name} + 1.0))", "f", False)
        f = g.let(f"ti.select({st.name} > 0.0, {fl.name} / ti.select({st.name} > 0.0, {st.name}, 1.0), 0.0)", "f", grad)
    r = g.let(f"{tmin.name} + {f.name} * ({tmax.name} - {tmin.name})", "f", grad)
    out = r
    if props["clamp"]:
        lo = g.let(f"ti.min({tmin.name}, {tmax.name})", "f", grad)
        hi = g.let(f"ti.max({tmin.name}, {tmax.name})", "f", grad)
        mx = g.let(f"ti.max({r.name}, {lo.name})", "f", grad)
        out = g.let(f"ti.min({mx.name}, {hi.name})", "f", grad)

    def back(ad):
        (o,) = ad
        gr = o
        if props["clamp"]:
            gmx, ghi, gr, glo = (g.name("b") for _ in range(4))
            g.blines.append(f"{gmx}, {ghi} = FF.min_vjp({mx.name}, {hi.name}, {o})")
            g.blines.append(f"{gr}, {glo} = FF.max_vjp({r.name}, {lo.name}, {gmx})")
            for x, y, gx in ((lo, None, glo), (hi, None, ghi)):
                fn = "min_vjp" if x is lo else "max_vjp"
                ga, gb = g.name("b"), g.name("b")
                g.blines.append(f"{ga}, {gb} = FF.{fn}({tmin.name}, {tmax.name}, {gx})")
                g.acc(tmin, ga)
                g.acc(tmax, gb)
        g.acc(tmin, f"{gr} * (1.0 - {f.name})")
        g.acc(tmax, f"{gr} * {f.name}")
        gf = g.name("b")
        g.blines.append(f"{gf} = {gr} * ({tmax.name} - {tmin.name})")
        gf0 = gf
        if it == "STEPPED":
            g.acc(st, f"ti.select({st.name} > 0.0, -{gf} * {fl.name} / ({st.name} * {st.name}), 0.0)")
            gf0 = "0.0"
        if gf0 != "0.0":
            gv = g.name("b")
            g.blines.append(f"{gv} = ti.select({den.name} != 0.0, {gf0} / ti.select({den.name} != 0.0, {den.name}, 1.0), 0.0)")
            g.acc(v, gv)
            g.acc(fmin, f"-{gv} + {gv} * {f0.name}")  # d/dfmin of (v - fmin)/(fmax - fmin)
            g.acc(fmax, f"-{gv} * {f0.name}")
    g.back([out], back)
    return {"Result": out}


def emit_clamp(g: Gen, props, ins, used):
    v, lo, hi = (_need(ins[k], k) for k in ("Value", "Min", "Max"))
    grad = v.grad or lo.grad or hi.grad
    if props["clamp_type"] == "RANGE":
        lo2 = g.let(f"ti.min({lo.name}, {hi.name})", "f", grad)
        hi2 = g.let(f"ti.max({lo.name}, {hi.name})", "f", grad)
    else:
        lo2, hi2 = lo, hi
    mx = g.let(f"ti.max({v.name}, {lo2.name})", "f", grad)
    out = g.let(f"ti.min({mx.name}, {hi2.name})", "f", grad)

    def back(ad):
        (o,) = ad
        gmx, ghi, gv, glo = (g.name("b") for _ in range(4))
        g.blines.append(f"{gmx}, {ghi} = FF.min_vjp({mx.name}, {hi2.name}, {o})")
        g.blines.append(f"{gv}, {glo} = FF.max_vjp({v.name}, {lo2.name}, {gmx})")
        g.acc(v, gv)
        if props["clamp_type"] == "RANGE":
            for fn, gx in (("min_vjp", glo), ("max_vjp", ghi)):
                ga, gb = g.name("b"), g.name("b")
                g.blines.append(f"{ga}, {gb} = FF.{fn}({lo.name}, {hi.name}, {gx})")
                g.acc(lo, ga)
                g.acc(hi, gb)
        else:
            g.acc(lo, glo)
            g.acc(hi, ghi)
    g.back([out], back)
    return {"Result": out}
