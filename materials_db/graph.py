"""Material graphs: self-contained JSON in Blender's node vocabulary, with parameter metadata.

Format (``"format": "photo2scene.material/1"``)::

    {
      "format": "photo2scene.material/1", "name": "oak_planks", "category": "wood", "tags": [...],
      "description": "...",
      "params": {                                     # what the optimiser may change; optional "label": the
                                                      # name an artist sees (default: "grain_scale" -> "Grain scale")
        "grain_scale": {"kind": "float", "default": 6.0, "range": [1, 20], "optimise": true},
        "wood_light": {"kind": "color", "default": [0.5, 0.3, 0.15]},
        "profile": {"kind": "enum", "default": "SIN", "choices": ["SIN", "SAW", "TRI"]}
      },
      "nodes": {                                      # id -> node (Blender bl_idname as type)
        "uv": {"type": "ShaderNodeTexCoord"},
        "noise": {"type": "ShaderNodeTexNoise", "props": {"noise_dimensions": "2D"},
                  "inputs": {"Vector": {"link": "uv.UV"}, "Scale": {"param": "grain_scale"}, "Detail": 4}},
        "bsdf": {"type": "ShaderNodeBsdfPrincipled", "inputs": {"Base Color": {"link": "noise.Color"}}}
      },
      "output": "bsdf"
    }

An input is a literal (number or list), ``{"link": "node.Output"}`` or ``{"param": "name"}``. A property may be
``{"param": "name"}`` for a discrete parameter (enum/int). Colour-ramp stops live in ``props.elements`` as
``{"position": p, "color": [r, g, b, a]}`` where either may be a parameter reference (colour params are RGB).
Continuous parameters are stored normalised to [0, 1] over their range (colours: [0, 1] per channel).
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from blender_addon.builders.param_names import param_label
from p2s_common.errors import UserError

from .vocabulary import NODES, OUTPUT_NODE

FORMAT = "photo2scene.material/1"
CONTINUOUS = ("float", "color", "vector")


class GraphError(UserError, ValueError):
    """A material graph is malformed; the message names the node, socket or parameter."""


@dataclass
class Param:
    name: str
    kind: str  # float | color | vector | enum | int
    default: Any
    range: tuple[float, float] = (0.0, 1.0)
    optimise: bool = True
    choices: tuple = ()
    label: str = ""  # the name an artist sees ("Plank width"); empty: derived from `name` (human_name)

    @property
    def human_name(self) -> str:
        """What the Blender tree calls it (node labels, the parameter group's inputs)."""
        return param_label(self.name, {"label": self.label})

    @property
    def discrete(self) -> bool:
        return self.kind in ("enum", "int")

    def normalise(self, value) -> torch.Tensor:
        lo, hi = self.range
        t = torch.as_tensor(value, dtype=torch.float32)
        return (t - lo) / (hi - lo) if hi != lo else torch.zeros_like(t)

    def denormalise(self, u: torch.Tensor) -> torch.Tensor:
        lo, hi = self.range
        return lo + u * (hi - lo)

    def to_json(self) -> dict:
        d: dict[str, Any] = {"kind": self.kind, "default": self.default}
        if self.kind in ("float", "vector", "int") or tuple(self.range) != (0.0, 1.0):
            if not self.discrete or self.kind == "int":
                d["range"] = list(self.range)
        if not self.optimise:
            d["optimise"] = False
        if self.choices:
            d["choices"] = list(self.choices)
        if self.label:
            d["label"] = self.label
        return d


@dataclass
class Graph:
    name: str
    nodes: dict[str, dict]
    output: str
    params: dict[str, Param] = field(default_factory=dict)
    category: str = "misc"
    tags: list[str] = field(default_factory=list)
    description: str = ""

    # ---- (de)serialisation ----
    @classmethod
    def from_dict(cls, d: dict) -> "Graph":
        if d.get("format") != FORMAT:
            raise GraphError(f"not a material graph (format {d.get('format')!r}, expected {FORMAT!r})")
        params = {}
        for name, p in d.get("params", {}).items():
            kind = p.get("kind", "float")
            rng = tuple(p.get("range", (0.0, 1.0)))
            params[name] = Param(name, kind, p["default"], rng, bool(p.get("optimise", True)), tuple(p.get("choices", ())),
                                 str(p.get("label") or ""))
        g = cls(d["name"], copy.deepcopy(d["nodes"]), d.get("output", "bsdf"), params, d.get("category", "misc"),
                list(d.get("tags", [])), d.get("description", ""))
        g.validate()
        return g

    def to_dict(self) -> dict:
        return {
            "format": FORMAT, "name": self.name, "category": self.category, "tags": self.tags,
            "description": self.description,
            "params": {k: p.to_json() for k, p in self.params.items()},
            "nodes": copy.deepcopy(self.nodes), "output": self.output,
        }

    @classmethod
    def load(cls, path: str | Path) -> "Graph":
        with open(path) as f:
            return cls.from_dict(json.load(f))

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=1) + "\n")

    # ---- checks ----
    def validate(self) -> None:
        problems = []
        if self.output not in self.nodes:
            problems.append(f"output node {self.output!r} missing")
        elif self.nodes[self.output]["type"] != OUTPUT_NODE:
            problems.append(f"output node must be a {OUTPUT_NODE}")
        for nid, node in self.nodes.items():
            spec = NODES.get(node.get("type"))
            if spec is None:
                problems.append(f"node {nid!r}: unsupported type {node.get('type')!r}")
                continue
            for key, val in node.get("inputs", {}).items():
                try:
                    sock = spec.input(key)
                except KeyError as exc:
                    problems.append(f"node {nid!r}: {exc.args[0]}")
                    continue
                if isinstance(val, dict) and "link" in val:
                    src, _, out = val["link"].partition(".")
                    if src not in self.nodes:
                        problems.append(f"node {nid!r} input {key!r}: links to missing node {src!r}")
                    elif out not in NODES.get(self.nodes[src]["type"], spec).outputs:
                        problems.append(f"node {nid!r} input {key!r}: node {src!r} has no output {out!r}")
                    if sock.scalar:
                        problems.append(f"node {nid!r} input {key!r} must be a constant or parameter")
                elif isinstance(val, dict) and "param" in val and val["param"] not in self.params:
                    problems.append(f"node {nid!r} input {key!r}: unknown parameter {val['param']!r}")
            for key, val in node.get("props", {}).items():
                if key not in spec.props:
                    problems.append(f"node {nid!r}: unknown property {key!r}")
                elif isinstance(val, dict) and "param" in val and val["param"] not in self.params:
                    problems.append(f"node {nid!r} property {key!r}: unknown parameter {val['param']!r}")
                elif key in spec.choices and not isinstance(val, dict) and val not in spec.choices[key]:
                    problems.append(f"node {nid!r}: {key}={val!r} not supported by its twin ({spec.choices[key]})")
        for p in self.params.values():
            if p.kind not in CONTINUOUS + ("enum", "int"):
                problems.append(f"parameter {p.name!r}: unknown kind {p.kind!r}")
        if problems:
            raise GraphError(f"material {self.name!r}: " + "; ".join(problems))

    # ---- parameters ----
    def default_params(self, requires_grad: bool = False, device: str = "cpu") -> dict[str, torch.Tensor]:
        """Normalised [0, 1] tensors for every continuous parameter (discrete ones are left out)."""
        out = {}
        for name, p in self.params.items():
            if p.kind in CONTINUOUS:
                t = p.normalise(p.default).to(device).clamp(0.0, 1.0).detach().clone()
                out[name] = t.requires_grad_(requires_grad and p.optimise)
        return out

    def values(self, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """Parameter values in their own units: continuous from normalised tensors, discrete as given or default."""
        params = params or {}
        vals: dict[str, Any] = {}
        for name, p in self.params.items():
            if p.kind in CONTINUOUS:
                u = params.get(name)
                vals[name] = p.denormalise(u) if u is not None else torch.as_tensor(p.default, dtype=torch.float32)
            else:
                vals[name] = params.get(name, p.default)
        return vals


def clamp_params(params: dict[str, torch.Tensor]) -> None:
    """Clamp normalised parameters to [0, 1] in place (call after every optimiser step)."""
    with torch.no_grad():
        for t in params.values():
            if torch.is_tensor(t) and t.is_floating_point():
                t.clamp_(0.0, 1.0)
