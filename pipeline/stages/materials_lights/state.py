"""Materials while the material+light stage optimises them: torch parameters in, render maps and scene.json out.

Two kinds, one interface (`maps`, `tensors`, `clamp`, `entry`):
- `Homogeneous`: a Principled BSDF with one base colour and roughness (optimised), metallic fixed.
- `Procedural`: a materials_db graph whose continuous parameters (normalised to [0, 1]) are optimised through its
  torch twin; the chosen texture transform (scale, rotation) is applied to the meshes' UVs by the renderer and, in
  Blender, by a Mapping node the stage puts in front of the graph (`p2s_uv`), so both see uv' = R(t) (s uv). Maps
  are evaluated over the whole UV tiles the material's surfaces span (`cover`), `resolution` texels per tile up to
  `MAX_MAP` texels a side: Blender evaluates the tree across the surface and most trees do not repeat per tile.
"""

from __future__ import annotations

import copy
import json
import math
from dataclasses import dataclass, field

import numpy as np

from blender_addon.builders.material import UV_NODE  # the Mapping node of the stage's texture transform (bpy-free)
from blender_addon.scene_format import MaterialEntry, material_graph_path
from p2s_common.images import image_from_bytes, srgb_to_linear

from pipeline.render.scene_render import UNIT_RECT, MaterialMaps, uv_rect

MAX_MAP = 1024  # texels on a procedural map's longer side: a 4 m wall at 2 tiles a metre still gets 128 a tile
BASE_RANGE = (0.005, 0.98)
ROUGH_RANGE = (0.05, 1.0)


@dataclass
class Homogeneous:
    name: str
    base: object  # torch (3,)
    rough: object  # torch ()
    metallic: float = 0.0
    emission: np.ndarray | None = None
    source: str = ""
    # A picture the emission multiplies (a window's backdrop: the photo through the window): bundle path, and the
    # HxWx3 linear map, image-oriented over the unit UV square.
    emission_texture: str | None = None
    emission_map: np.ndarray | None = None

    @classmethod
    def create(cls, name: str, base_color, roughness: float, metallic: float = 0.0, source: str = "") -> "Homogeneous":
        import torch

        base = torch.tensor(np.clip(np.asarray(base_color, np.float32)[:3], *BASE_RANGE), requires_grad=True)
        rough = torch.tensor(float(np.clip(roughness, *ROUGH_RANGE)), requires_grad=True)
        return cls(name, base, rough, float(metallic), None, source)

    def maps(self, rect: tuple[float, float, float, float] | None = None):
        """(base colour (3,), roughness ()): the same everywhere, so `rect` changes nothing."""
        return self.base, self.rough

    def tensors(self) -> dict[str, list]:
        return {"colour": [self.base], "roughness": [self.rough]}

    def clamp(self) -> None:
        import torch

        with torch.no_grad():
            self.base.clamp_(*BASE_RANGE)
            self.rough.clamp_(*ROUGH_RANGE)

    def render_maps(self) -> MaterialMaps:
        emission = self.emission
        if emission is not None and self.emission_map is not None:
            emission = self.emission_map * np.asarray(emission, np.float32)
        return MaterialMaps(self.base.detach().numpy().copy(), float(self.rough.detach()), self.metallic,
                            emission=emission)

    def mean_colour(self) -> np.ndarray:
        return self.base.detach().numpy().copy()

    def entry(self, old: MaterialEntry | None = None) -> tuple[MaterialEntry, dict[str, bytes]]:
        out = MaterialEntry.principled([round(float(c), 5) for c in self.base.detach()],
                                       round(float(self.rough.detach()), 4), self.metallic,
                                       self.source or "materials_lights: homogeneous, optimised")
        if self.emission is not None:
            out.emission = [round(float(c), 5) for c in self.emission]
        if self.emission_texture:
            out.textures = {"emission": self.emission_texture}
        return _keep_entry_fields(out, old), {}


@dataclass
class Procedural:
    name: str
    graph: object  # materials_db.Graph (the library graph, without the stage's UV node)
    params: dict  # normalised continuous params (torch, requires_grad) + discrete values
    uv_scale: float = 1.0
    uv_rotation_deg: float = 0.0
    resolution: int = 128
    emission: np.ndarray | None = None
    library: str = ""
    uv_rect: tuple[float, float, float, float] = UNIT_RECT  # what the maps cover (`cover`), in uv'
    _cached: tuple | None = field(default=None, repr=False)

    @classmethod
    def create(cls, name: str, graph, uv_scale: float = 1.0, uv_rotation_deg: float = 0.0,
               resolution: int = 128, values: dict | None = None) -> "Procedural":
        params = graph.default_params(requires_grad=True)
        for key, value in (values or {}).items():  # real units -> normalised (re-runs, edited bundles)
            p = graph.params.get(key)
            if p is None:
                continue
            if p.discrete:
                params[key] = value
                continue
            arr = np.asarray(value, float)
            if arr.size and (arr.min() < p.range[0] or arr.max() > p.range[1]):
                # a value the artist typed in Blender outside the library's range: the range grows to hold it
                p.range = (min(p.range[0], float(arr.min())), max(p.range[1], float(arr.max())))
            params[key] = p.normalise(value).clamp(0.0, 1.0).detach().clone().requires_grad_(p.optimise)
        return cls(name, graph, params, float(uv_scale), float(uv_rotation_deg), int(resolution),
                   library=graph.name)

    def cover(self, surfaces: list) -> None:
        """Make the maps cover every surface of this material at its current texture transform."""
        mine = [s for s in surfaces if s.material == self.name]
        self.uv_rect = uv_rect(mine, self.uv_scale, self.uv_rotation_deg) if mine else UNIT_RECT

    def map_size(self, rect: tuple[float, float, float, float]) -> tuple[int, int]:
        """(H, W) of maps over `rect`: `resolution` texels per UV unit, at most MAX_MAP on the longer side."""
        f = min(1.0, MAX_MAP / (self.resolution * max(rect[2], rect[3])))
        return max(2, round(self.resolution * rect[3] * f)), max(2, round(self.resolution * rect[2] * f))

    def maps(self, rect: tuple[float, float, float, float] | None = None):
        """(base colour (H,W,3), roughness (H,W)) from the twin over `rect` (default: `uv_rect`), differentiable in
        the parameters."""
        # lazy: loads torch, which importing this module does not
        from materials_db import evaluate

        rect = self.uv_rect if rect is None else rect
        m = evaluate(self.graph, self.params, self.map_size(rect), with_normal=False,  # the renderer has no bump
                     uv_rect=rect)
        return m["base_color"].clamp(0.0, 1.0), m["roughness"].clamp(0.0, 1.0)

    def metallic(self) -> float:
        import torch
        from materials_db import evaluate

        with torch.no_grad():
            return float(evaluate(self.graph, self.params, 16, with_normal=False)["metallic"].mean())

    def tensors(self) -> dict[str, list]:
        return {"texture": [t for t in self.params.values() if hasattr(t, "requires_grad") and t.requires_grad]}

    def clamp(self) -> None:
        # lazy: loads torch, which importing this module does not
        from materials_db import clamp_params

        clamp_params(self.params)

    def render_maps(self) -> MaterialMaps:
        import torch

        with torch.no_grad():
            base, rough = self.maps()
        return MaterialMaps(base.numpy().copy(), rough.numpy().copy(), self.metallic(), self.uv_scale,
                            self.uv_rotation_deg, self.emission, self.uv_rect)

    def mean_colour(self) -> np.ndarray:
        import torch

        with torch.no_grad():
            return self.maps()[0].reshape(-1, 3).mean(0).numpy()

    def values(self) -> dict:
        """Parameter values in real units, JSON-ready."""
        out = {}
        for key, value in self.graph.values(self.params).items():
            if hasattr(value, "detach"):
                arr = value.detach().numpy()
                out[key] = round(float(arr), 6) if arr.ndim == 0 else [round(float(x), 6) for x in arr.ravel()]
            else:
                out[key] = value
        return out

    def entry(self, old: MaterialEntry | None = None) -> tuple[MaterialEntry, dict[str, bytes]]:
        """scene.json entry and the graph file (library graph + the stage's UV Mapping node)."""
        rel = material_graph_path(self.name)
        data = with_uv_node(self.graph.to_dict(), self.uv_scale, self.uv_rotation_deg)
        out = MaterialEntry("graph", graph_file=rel, values=self.values(), library=self.library,
                            uv_scale=self.uv_scale, uv_rotation_deg=self.uv_rotation_deg)
        if self.emission is not None:
            out.emission = [round(float(c), 5) for c in self.emission]
        return _keep_entry_fields(out, old), {rel: (json.dumps(data, indent=1) + "\n").encode()}


def _keep_entry_fields(new: MaterialEntry, old: MaterialEntry | None) -> MaterialEntry:
    """`new` with the fields of the entry (not of the material) that the previous entry had: its candidates, the
    one chosen, how it was retrieved."""
    if old is not None:
        new.candidates, new.chosen, new.retrieval = copy.deepcopy(old.candidates), old.chosen, old.retrieval
    return new


def with_uv_node(graph: dict, scale: float, rotation_deg: float) -> dict:
    """A copy of a graph dict with a Mapping node (scale, rotation about Z) between Texture Coordinate and the rest."""
    g = copy.deepcopy(graph)
    nodes = g["nodes"]
    sources = [nid for nid, n in nodes.items() if n["type"] == "ShaderNodeTexCoord"]
    if not sources or (scale == 1.0 and rotation_deg == 0.0):
        return g
    for nid, node in nodes.items():
        for key, val in node.get("inputs", {}).items():
            if isinstance(val, dict) and val.get("link", "").split(".")[0] in sources:
                node["inputs"][key] = {"link": f"{UV_NODE}.Vector"}
    nodes[UV_NODE] = {"type": "ShaderNodeMapping",
                      "inputs": {"Vector": {"link": f"{sources[0]}.UV"}, "Scale": [scale, scale, 1.0],
                                 "Rotation": [0.0, 0.0, math.radians(rotation_deg)]}}
    return g


def without_uv_node(graph: dict) -> tuple[dict, float, float]:
    """Inverse of `with_uv_node`: (graph dict without it, scale, rotation in degrees)."""
    g = copy.deepcopy(graph)
    node = g["nodes"].pop(UV_NODE, None)
    if node is None:
        return g, 1.0, 0.0
    source = node["inputs"]["Vector"]["link"]
    for other in g["nodes"].values():
        for key, val in other.get("inputs", {}).items():
            if isinstance(val, dict) and val.get("link") == f"{UV_NODE}.Vector":
                other["inputs"][key] = {"link": source}
    scale = float(node["inputs"].get("Scale", [1.0])[0])
    rotation = math.degrees(float(node["inputs"].get("Rotation", [0, 0, 0.0])[2]))
    return g, scale, rotation


def from_scene(name: str, spec: MaterialEntry, file_bytes, resolution: int = 128, surfaces: list | None = None):
    """The state of a scene.json material (principled or graph): starting point of a re-run, or for the export.
    With the scene's `surfaces`, a procedural state's maps cover them (`Procedural.cover`)."""
    if spec.type == "graph":
        # lazy: loads torch, which importing this module does not
        from materials_db import Graph

        data = json.loads(file_bytes(spec.graph_file).decode("utf-8"))
        plain, scale, rotation = without_uv_node(data)
        # scene.json's transform wins: Blender edits of the UV node reach it (sync), the graph file follows on write
        scale = float(spec.uv_scale if spec.uv_scale is not None else scale)
        rotation = float(spec.uv_rotation_deg if spec.uv_rotation_deg is not None else rotation)
        state = Procedural.create(name, Graph.from_dict(plain), scale, rotation, resolution, spec.values)
        state.library = spec.library if spec.library is not None else plain.get("name", "")
        if surfaces is not None:
            state.cover(surfaces)
    else:
        state = Homogeneous.create(name, spec.base_color or [0.5, 0.5, 0.5], spec.roughness_or_default(),
                                   spec.metallic_or_default(), spec.source or "")
    if spec.emission is not None:
        state.emission = np.asarray(spec.emission, float)
        picture = (spec.textures or {}).get("emission")
        if picture and isinstance(state, Homogeneous):
            state.emission_texture = picture
            state.emission_map = srgb_to_linear(image_from_bytes(file_bytes(picture)))
    return state
