"""The numpy-only half of `realistic_rooms`: the catalogue of third-party models and the room layout.

`sample_room(seed, models_dir, ...)` draws everything about a benchmark room from one `numpy.random.Generator`
(the room box, a window and a door, surface materials, furniture and decor from the catalogue, lights, the camera
and the novel cameras); `layout_truth(layout)` is the layout's part of ground_truth.json. Nothing here needs
Blender: the models' sizes come from their glTF files' own accessor bounds (`model_bounds`).

Model frame after Blender's glTF import: Z up, the model's front towards -Y. An item's root sits at the centre of
its footprint, on its bottom; its yaw turns the model about +Z, so the item's front faces (sin yaw, -cos yaw).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from assets_index.sources.gltf_quantized import decode_normalised, read_gltf
from pipeline.synth.layout import (Camera, _distance_to_box, _footprint, _look_rotation, _overlap, _pixel_rays, _r,
                                   _rot2, _walls, room_planes)

THEMES = ("living", "bedroom", "dining", "office")

# Room sides (synth's names) -> the photo2scene_face tag and segment id.
SIDES = {"-z": ("floor", 1), "+z": ("ceiling", 2), "-y": ("wall_y_min", 3), "+x": ("wall_x_max", 4),
         "+y": ("wall_y_max", 5), "-x": ("wall_x_min", 6)}
WALL_SIDES = ("-y", "+x", "+y", "-x")


# ----------------------------------------------------------------------------------------------------------------
# Catalogue


@dataclass(frozen=True)
class ModelSpec:
    """How one third-party model is used: its label, its scale to metres and where it may go."""

    label: str
    scale: tuple[float, float, float]  # per axis (model frame), to metres
    places: tuple[str, ...]  # placement kinds: see _Placer.candidate
    yaw_offset: float = 0.0  # turns the model so its long side runs along local x, its front towards -y
    surface: bool = False  # small things may stand on its top
    light: str | None = None  # "table" | "floor" | "desk" | "ceiling": a lit lamp

    @property
    def source(self) -> str:
        return "kaykit"


def _k(label: str, places: tuple[str, ...], s: float | tuple = 0.65, **kw) -> ModelSpec:
    return ModelSpec(label, (s, s, s) if isinstance(s, float) else s, places, **kw)


KAYKIT: dict[str, ModelSpec] = {
    "couch.gltf": _k("sofa", ("wall",)),
    "armchair.gltf": _k("armchair", ("facing", "wall")),
    "armchair_pillows.gltf": _k("armchair", ("facing", "wall")),
    "table_low.gltf": _k("coffee table", ("front_of_sofa",), 0.5, surface=True),
    "table_medium.gltf": _k("table", ("center",), (0.62, 0.62, 0.75), surface=True),
    "table_medium_long.gltf": _k("table", ("center",), (0.6, 0.6, 0.75), surface=True),
    "table_small.gltf": _k("table", ("corner", "wall"), (0.6, 0.6, 0.75), surface=True),
    "desk_long.gltf": _k("desk", ("wall",), (0.5, 0.38, 0.75), surface=True),  # table_medium_long as a desk
    "chair_A.gltf": _k("chair", ("at_table",)),
    "chair_A_wood.gltf": _k("chair", ("at_table",)),
    "chair_B.gltf": _k("chair", ("at_table",)),
    "chair_B_wood.gltf": _k("chair", ("at_table",)),
    "chair_C.gltf": _k("chair", ("at_table",)),
    "chair_stool.gltf": _k("stool", ("corner", "wall")),
    "chair_stool_wood.gltf": _k("stool", ("corner", "wall")),
    "bed_double_A.gltf": _k("bed", ("wall",)),
    "bed_double_B.gltf": _k("bed", ("wall",)),
    "bed_single_A.gltf": _k("bed", ("wall",)),
    "bed_single_B.gltf": _k("bed", ("wall",)),
    "cabinet_medium.gltf": _k("cabinet", ("wall",), surface=True),
    "cabinet_medium_decorated.gltf": _k("cabinet", ("wall",)),
    "cabinet_small.gltf": _k("nightstand", ("beside_bed",), 0.5, surface=True),
    "cabinet_small_decorated.gltf": _k("cabinet", ("wall", "corner")),
    "shelf_A_big.gltf": _k("shelf", ("hang_high",)),
    "shelf_B_large_decorated.gltf": _k("shelf", ("hang_high",)),
    "shelf_B_small_decorated.gltf": _k("shelf", ("hang_high",)),
    "lamp_standing.gltf": _k("lamp", ("corner", "beside_seat"), light="floor"),
    "lamp_table.gltf": _k("lamp", ("on_surface",), 0.38, light="table"),
    "pictureframe_large_A.gltf": _k("picture", ("hang",)),
    "pictureframe_large_B.gltf": _k("picture", ("hang",), 0.55),
    "pictureframe_medium.gltf": _k("picture", ("hang",)),
    "pictureframe_small_A.gltf": _k("picture", ("hang",)),
    "pictureframe_small_B.gltf": _k("picture", ("hang",)),
    "pictureframe_small_C.gltf": _k("picture", ("hang",)),
    "pictureframe_standing_A.gltf": _k("picture", ("on_surface",), 0.35),
    "pictureframe_standing_B.gltf": _k("picture", ("on_surface",), 0.35),
    "rug_oval_A.gltf": _k("rug", ("rug",), (0.7, 0.7, 0.15)),
    "rug_oval_B.gltf": _k("rug", ("rug",), (0.7, 0.7, 0.15)),
    "rug_rectangle_A.gltf": _k("rug", ("rug",), (0.7, 0.7, 0.15)),
    "rug_rectangle_B.gltf": _k("rug", ("rug",), (0.7, 0.7, 0.15)),
    "rug_rectangle_stripes_A.gltf": _k("rug", ("rug",), (0.7, 0.7, 0.15)),
    "rug_rectangle_stripes_B.gltf": _k("rug", ("rug",), (0.7, 0.7, 0.15)),
    "pillow_A.gltf": _k("pillow", ("on_seat",)),
    "pillow_B.gltf": _k("pillow", ("on_seat",)),
    "cactus_medium_A.gltf": _k("plant", ("corner",)),
    "cactus_medium_B.gltf": _k("plant", ("corner",)),
    "cactus_small_A.gltf": _k("plant", ("on_surface",), 0.45),
    "cactus_small_B.gltf": _k("plant", ("on_surface",), 0.45),
    "book_set.gltf": _k("book", ("on_surface",), 0.4),
    "book_single.gltf": _k("book", ("on_surface",), 0.45),
}
# A KayKit table used as a desk: the same file under a catalogue alias (model_file() maps it back).
_ALIASES = {"desk_long.gltf": "table_medium_long.gltf"}


@dataclass(frozen=True)
class PolyHavenSpec(ModelSpec):
    @property
    def source(self) -> str:
        return "polyhaven"


def _p(label: str, places: tuple[str, ...], s: float = 1.0, **kw) -> PolyHavenSpec:
    return PolyHavenSpec(label, (s, s, s), places, **kw)


POLYHAVEN: dict[str, ModelSpec] = {
    "mid_century_lounge_chair.glb": _p("armchair", ("facing", "corner")),
    "modern_coffee_table_01.glb": _p("coffee table", ("front_of_sofa",), yaw_offset=math.pi / 2, surface=True),
    "CoffeeCart_01.glb": _p("cart", ("wall",), 0.8),
    "desk_lamp_arm_01.glb": _p("lamp", ("on_desk",), 0.75, light="desk"),
    "Chandelier_01.glb": _p("lamp", ("ceiling",), light="ceiling"),
    "potted_plant_01.glb": _p("plant", ("corner",)),
    "potted_plant_02.glb": _p("plant", ("corner",)),
    "potted_plant_04.glb": _p("plant", ("on_surface",)),
    "throw_pillows_01.glb": _p("pillow", ("on_sofa",)),
    "scandinavian_masonry_heater.glb": _p("stove", ("wall", "corner")),
    "ceramic_vase_01.glb": _p("vase", ("on_surface",), 0.8),
    "boombox.glb": _p("radio", ("on_surface",), 0.55),
}
CATALOGUE: dict[str, ModelSpec] = {**KAYKIT, **POLYHAVEN}

# Image textures for floors, taken from the Poly Haven models' own maps: (model, image stem, materials_db category
# it would be retrieved as, crop (u0, v0, u1, v1) of the atlas that holds one material, tile size range in metres).
FLOOR_TEXTURES = [
    ("modern_coffee_table_01.glb", "modern_coffee_table_01", "wood", (0.0, 0.0, 1.0, 1.0), (0.9, 1.6)),
    ("modern_coffee_table_01.glb", "modern_coffee_table_01", "wood", (0.0, 0.5, 0.5, 1.0), (0.5, 0.9)),
    ("potted_plant_01.glb", "potted_plant_01_pot", "tiles", (0.55, 0.05, 0.95, 0.65), (0.5, 0.9)),  # terracotta
    ("throw_pillows_01.glb", "throw_pillows_01", "carpet", (0.05, 0.55, 0.45, 0.95), (0.4, 0.8)),  # woven
]

_SHARED_HINT = "../shared/data/third_party_furniture"


def model_file(name: str) -> str:
    """The file a catalogue entry loads (aliases map to their file)."""
    return _ALIASES.get(name, name)


def model_path(models_dir: Path, name: str) -> Path:
    f = model_file(name)
    return Path(models_dir) / ("polyhaven_cc0" if f.endswith(".glb") else "kaykit_cc0") / f


def _quat_matrix(q: list[float]) -> np.ndarray:
    x, y, z, w = q
    return np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                     [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                     [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]])


@lru_cache(maxsize=256)
def model_bounds(path: Path) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
    """Axis-aligned bounds (lo, hi) of a glTF/GLB model in Blender's frame after import (Z up), in model units.

    From the accessors' min/max of every primitive's POSITION, through the node transforms (the corners of each
    primitive's box, so rotated nodes give slightly loose bounds; the truth is measured in Blender later).
    """
    g, _ = read_gltf(Path(path))
    lo, hi = np.full(3, np.inf), np.full(3, -np.inf)

    def visit(idx: int, parent: np.ndarray) -> None:
        nonlocal lo, hi
        node = g["nodes"][idx]
        m = np.eye(4)
        if "matrix" in node:
            m = np.array(node["matrix"], float).reshape(4, 4).T
        else:
            m[:3, :3] = _quat_matrix(node.get("rotation", [0, 0, 0, 1])) * np.array(node.get("scale", [1, 1, 1]))
            m[:3, 3] = node.get("translation", [0, 0, 0])
        world = parent @ m
        if "mesh" in node:
            for prim in g["meshes"][node["mesh"]]["primitives"]:
                acc = g["accessors"][prim["attributes"]["POSITION"]]
                a, b = np.array(acc["min"], float), np.array(acc["max"], float)
                if acc.get("normalized"):  # KHR_mesh_quantization: integers scaled to [-1, 1] or [0, 1]
                    a, b = (decode_normalised(v, acc["componentType"]) for v in (a, b))
                corners = np.array([[(a, b)[(k >> i) & 1][i] for i in range(3)] for k in range(8)])
                pts = corners @ world[:3, :3].T + world[:3, 3]
                lo, hi = np.minimum(lo, pts.min(0)), np.maximum(hi, pts.max(0))
        for child in node.get("children", []):
            visit(child, world)

    for idx in g["scenes"][g.get("scene", 0)]["nodes"]:
        visit(idx, np.eye(4))
    # glTF is Y up; Blender's importer maps (x, y, z) -> (x, -z, y).
    blo = np.array([lo[0], -hi[2], lo[1]])
    bhi = np.array([hi[0], -lo[2], hi[1]])
    return tuple(float(v) for v in blo), tuple(float(v) for v in bhi)


def available_models(models_dir: Path) -> dict[str, ModelSpec]:
    """The catalogue entries whose files exist in `models_dir`."""
    return {name: spec for name, spec in CATALOGUE.items() if model_path(models_dir, name).is_file()}


# ----------------------------------------------------------------------------------------------------------------
# Layout data


@dataclass
class Opening:
    """A window or a door: a rectangular hole in a wall, `offset` along the wall's tangent from its centre."""

    segment_id: int
    name: str
    label: str  # "window" | "door"
    wall: str  # side: "-y" | "+x" | "+y" | "-x"
    offset: float
    bottom: float
    width: float
    height: float

    def span(self) -> tuple[float, float]:
        return self.offset - self.width / 2, self.offset + self.width / 2


@dataclass
class Item:
    """One furniture/decor instance: a catalogue model (or a generated mesh) at a pose."""

    segment_id: int
    name: str
    label: str
    model: str  # catalogue name, or "generated:curtain" / "generated:ceiling_disc"
    source: str  # "polyhaven" | "kaykit" | "generated"
    position: np.ndarray  # root: footprint centre at the bottom (x, y, z)
    yaw: float
    size: np.ndarray  # (w, d, h) of the box in the rotated frame (the layout's estimate)
    scale: tuple[float, float, float] = (1.0, 1.0, 1.0)
    yaw_offset: float = 0.0
    model_origin: tuple[float, float, float] = (0.0, 0.0, 0.0)  # model point put at the root (model units)
    placement: str = ""
    wall: str | None = None
    support_id: int | None = None
    light: str | None = None
    params: dict = field(default_factory=dict)  # generated meshes' parameters, materials

    @property
    def center(self) -> np.ndarray:
        return self.position + np.array([0.0, 0.0, self.size[2] / 2])

    @property
    def front(self) -> np.ndarray:
        return np.array([math.sin(self.yaw), -math.cos(self.yaw)])


@dataclass
class RoomLayout:
    """Everything about a benchmark room except what Blender measures and renders."""

    seed: int
    theme: str
    room_size: np.ndarray  # (sx, sy, h)
    surface_materials: dict[int, dict]
    window: Opening
    door: Opening
    items: list[Item]
    camera: Camera
    novel_cameras: list[Camera]
    wall_thickness: float
    trim: dict  # baseboard, window frame and door materials and sizes
    sun: dict  # {"to_sun": [x, y, z], "strength": W/m2, "angle_deg", "through_window": bool, "color"}
    sky: dict  # {"strength", "zenith", "horizon", "ground"}
    exposure_target: float
    light_shares: dict  # wished share of the mean luminance per emitter group: daylight, ceiling, lamps

    @property
    def openings(self) -> list[Opening]:
        return [self.window, self.door]


# ----------------------------------------------------------------------------------------------------------------
# Materials


def _graph_material(rng: np.random.Generator, category: str, names: list[str] | None = None) -> dict:
    """A library graph with randomised parameters, in real units ({"kind": "graph", "graph", "values", ...})."""
    import torch

    # lazy: loads torch, which importing this module does not
    from materials_db.library import load_graph

    choices = names or _shipped(category)
    name = choices[int(rng.integers(len(choices)))]
    graph = load_graph(name)
    bright = rng.uniform(0.75, 1.2)
    tint = rng.uniform(0.93, 1.07, 3)
    params = {}
    for pname, p in graph.params.items():
        if p.kind not in ("float", "color", "vector"):
            continue
        lo, hi = p.range
        d = np.asarray(p.default, float)
        if p.kind == "color":
            v = np.clip(d * bright * tint, 0.0, 1.0)
        elif p.kind == "vector":  # texture scales: a little larger or smaller pattern
            v = np.clip(d * rng.uniform(0.85, 1.2), lo, hi)
        else:
            v = np.clip(d * rng.uniform(0.85, 1.15), lo, hi)
        params[pname] = torch.as_tensor(p.normalise(v.tolist()), dtype=torch.float32)
    values = graph.values(params)
    out = {}
    for k, v in values.items():
        if torch.is_tensor(v):
            v = v.tolist()
        out[k] = _r(v) if isinstance(v, (list, tuple, float)) else v
    return {"kind": "graph", "graph": name, "category": graph.category, "values": out}


def _shipped(category: str) -> list[str]:
    """The shipped library's graphs of a category (not the artist's own folders: a seed means the same room on
    every machine)."""
    # lazy: loads torch, which importing this module does not
    from materials_db.library import library_dir, list_materials, material_root

    return [n for n in list_materials(category) if material_root(n) == library_dir()]


def _floor_graphs(category: str) -> list[str] | None:
    """Library graphs of a category that make a plausible floor (no wall tiles or loose rugs)."""
    names = [n for n in _shipped(category) if not any(k in n for k in ("brick", "subway", "rug_"))]
    return names or None


def _door_graphs() -> list[str] | None:
    names = [n for n in _shipped("wood") if any(k in n for k in ("planks", "boards", "painted", "strip"))]
    return names or None


def _srgb(c) -> list[float]:
    c = np.clip(np.asarray(c, float), 0, 1)
    return _r(np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4))


def _principled(rng: np.random.Generator, palette: list, rough: tuple[float, float], category: str) -> dict:
    base = np.asarray(palette[int(rng.integers(len(palette)))], float) * rng.uniform(0.95, 1.05, 3)
    return {"kind": "principled", "base_color": _srgb(base), "roughness": _r(rng.uniform(*rough)),
            "category": category}


_WALL_PAINT = [(0.93, 0.91, 0.86), (0.88, 0.85, 0.78), (0.80, 0.84, 0.80), (0.82, 0.86, 0.90), (0.92, 0.85, 0.78),
               (0.76, 0.76, 0.76), (0.91, 0.89, 0.77), (0.70, 0.78, 0.82), (0.62, 0.68, 0.60)]
_TRIM = [(0.94, 0.94, 0.92), (0.90, 0.89, 0.85), (0.25, 0.25, 0.27), (0.55, 0.40, 0.28)]
_DOOR = [(0.95, 0.95, 0.93), (0.35, 0.24, 0.16), (0.60, 0.44, 0.30), (0.30, 0.36, 0.42), (0.20, 0.20, 0.22)]
_CURTAIN = [(0.92, 0.90, 0.84), (0.80, 0.74, 0.62), (0.45, 0.52, 0.62), (0.62, 0.35, 0.30), (0.40, 0.48, 0.38),
            (0.30, 0.30, 0.34), (0.85, 0.80, 0.70)]


def _surface_materials(rng: np.random.Generator, models: dict[str, ModelSpec]) -> dict[int, dict]:
    textures = [t for t in FLOOR_TEXTURES if t[0] in models]
    r = rng.random()
    if textures and r < 0.4:
        model, stem, category, crop, tile = textures[int(rng.integers(len(textures)))]
        rough = {"wood": (0.35, 0.55), "tiles": (0.6, 0.8)}.get(category, (0.85, 0.95))
        floor = {"kind": "image", "texture": f"{stem}_diff.webp", "image": f"{stem}_diff", "model": model,
                 "category": category, "crop": list(crop), "tile_m": _r(rng.uniform(*tile)),
                 "rotation_deg": float(rng.choice([0, 90])), "roughness": _r(rng.uniform(*rough))}
    else:
        category = str(rng.choice(["wood", "tiles", "carpet"], p=[0.6, 0.25, 0.15]))
        floor = _graph_material(rng, category, _floor_graphs(category))
    if rng.random() < 0.55:
        wall = _graph_material(rng, str(rng.choice(["paint", "plaster"], p=[0.65, 0.35])))
    else:
        wall = _principled(rng, _WALL_PAINT, (0.75, 0.95), "paint")
    ceiling = {"kind": "principled", "base_color": _srgb([0.93, 0.93, 0.92] * rng.uniform(0.97, 1.0, 3)),
               "roughness": 0.9, "category": "paint"}
    mats = {1: floor, 2: ceiling}
    accent = int(rng.integers(3, 7)) if rng.random() < 0.25 else None
    for sid in range(3, 7):
        mats[sid] = _principled(rng, _WALL_PAINT + [(0.35, 0.45, 0.55), (0.55, 0.40, 0.35), (0.40, 0.52, 0.42)],
                                (0.8, 0.95), "paint") if sid == accent else wall
    return mats


# ----------------------------------------------------------------------------------------------------------------
# Placement


THEME_RECIPES: dict[str, list[tuple[str, float, tuple[int, int]]]] = {
    # (what, probability, (min, max) count); the first entry anchors the room.
    "living": [("sofa", 1.0, (1, 1)), ("rug", 0.8, (1, 1)), ("coffee table", 0.9, (1, 1)),
               ("armchair", 0.7, (1, 2)), ("sofa pillows", 0.9, (1, 2)), ("floor lamp", 0.7, (1, 1)),
               ("cabinet", 0.7, (1, 1)), ("stove", 0.3, (1, 1)), ("shelf", 0.5, (1, 1)), ("plant", 0.8, (1, 2)),
               ("picture", 0.9, (1, 2)), ("table lamp", 0.6, (1, 1)), ("clutter", 1.0, (1, 3)),
               ("cart", 0.15, (1, 1))],
    "bedroom": [("bed", 1.0, (1, 1)), ("nightstand", 0.95, (1, 2)), ("bed pillows", 0.95, (2, 2)),
                ("table lamp", 0.9, (1, 2)), ("rug", 0.6, (1, 1)), ("cabinet", 0.7, (1, 1)),
                ("picture", 0.9, (1, 2)), ("armchair", 0.4, (1, 1)), ("plant", 0.6, (1, 1)),
                ("shelf", 0.4, (1, 1)), ("clutter", 0.9, (1, 2)), ("floor lamp", 0.3, (1, 1))],
    "dining": [("table", 1.0, (1, 1)), ("chair", 1.0, (2, 4)), ("rug", 0.6, (1, 1)), ("cabinet", 0.8, (1, 1)),
               ("plant", 0.7, (1, 2)), ("picture", 0.8, (1, 2)), ("floor lamp", 0.4, (1, 1)),
               ("table lamp", 0.4, (1, 1)), ("clutter", 1.0, (1, 3)), ("cart", 0.35, (1, 1)),
               ("stool", 0.3, (1, 1)), ("stove", 0.25, (1, 1))],
    "office": [("desk", 1.0, (1, 1)), ("chair", 1.0, (1, 1)), ("desk lamp", 0.9, (1, 1)), ("shelf", 0.8, (1, 1)),
               ("cabinet", 0.7, (1, 1)), ("armchair", 0.5, (1, 1)), ("plant", 0.7, (1, 2)),
               ("picture", 0.7, (1, 2)), ("rug", 0.4, (1, 1)), ("floor lamp", 0.4, (1, 1)),
               ("clutter", 1.0, (1, 3)), ("stool", 0.2, (1, 1))],
}

# What -> catalogue names that may serve (filtered by what exists and by the theme).
_WHAT: dict[str, list[str]] = {
    "sofa": ["couch.gltf"],
    "rug": [n for n in KAYKIT if n.startswith("rug_")],
    "coffee table": ["table_low.gltf", "modern_coffee_table_01.glb", "modern_coffee_table_01.glb"],
    "armchair": ["armchair.gltf", "armchair_pillows.gltf", "mid_century_lounge_chair.glb"],
    "sofa pillows": ["pillow_A.gltf", "pillow_B.gltf", "throw_pillows_01.glb"],
    "bed pillows": ["pillow_A.gltf", "pillow_B.gltf"],
    "floor lamp": ["lamp_standing.gltf"],
    "table lamp": ["lamp_table.gltf"],
    "desk lamp": ["desk_lamp_arm_01.glb", "lamp_table.gltf"],
    "cabinet": ["cabinet_medium.gltf", "cabinet_medium.gltf", "cabinet_medium_decorated.gltf",
                "cabinet_small_decorated.gltf"],
    "nightstand": ["cabinet_small.gltf"],
    "stove": ["scandinavian_masonry_heater.glb"],
    "shelf": ["shelf_A_big.gltf", "shelf_B_large_decorated.gltf", "shelf_B_small_decorated.gltf"],
    "plant": ["potted_plant_01.glb", "potted_plant_02.glb", "cactus_medium_A.gltf", "cactus_medium_B.gltf"],
    "picture": [n for n in KAYKIT if n.startswith("pictureframe_") and "standing" not in n],
    "clutter": ["book_set.gltf", "book_single.gltf", "ceramic_vase_01.glb", "boombox.glb", "potted_plant_04.glb",
                "cactus_small_A.gltf", "cactus_small_B.gltf", "pictureframe_standing_A.gltf",
                "pictureframe_standing_B.gltf"],
    "cart": ["CoffeeCart_01.glb"],
    "table": ["table_medium.gltf", "table_medium_long.gltf"],
    "chair": ["chair_A.gltf", "chair_A_wood.gltf", "chair_B.gltf", "chair_B_wood.gltf", "chair_C.gltf"],
    "stool": ["chair_stool.gltf", "chair_stool_wood.gltf"],
    "bed": ["bed_double_A.gltf", "bed_double_B.gltf", "bed_single_A.gltf", "bed_single_B.gltf"],
    "desk": ["desk_long.gltf", "table_small.gltf"],
}
_SURFACE_LABELS = {"table", "coffee table", "desk", "cabinet", "nightstand"}
_SEATS = {"sofa": 0.42, "armchair": 0.42, "bed": 0.5}  # seat / mattress height as a fraction of the height


def _model_geometry(models_dir: Path, name: str, spec: ModelSpec) -> tuple[np.ndarray, tuple]:
    """(size w, d, h in metres after scale and yaw offset, the model point at the root)."""
    lo, hi = (np.asarray(v) for v in model_bounds(model_path(models_dir, name)))
    ext = (hi - lo) * np.asarray(spec.scale)
    if abs(math.sin(spec.yaw_offset)) > 0.5:
        ext = ext[[1, 0, 2]]
    origin = ((lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, lo[2])
    return ext, tuple(float(v) for v in origin)


class _Placer:
    """Places items one at a time: candidate poses from the placement rule, checked for fit."""

    def __init__(self, rng: np.random.Generator, models_dir: Path, models: dict[str, ModelSpec], room: np.ndarray,
                 openings: list[Opening]) -> None:
        self.rng, self.models_dir, self.models, self.room = rng, models_dir, models, room
        self.walls = _walls(room)
        self.openings = openings
        self.items: list[Item] = []

    # -- helpers --
    def by_label(self, *labels: str) -> list[Item]:
        return [it for it in self.items if it.label in labels]

    def on_wall(self, side: str, along: float, depth: float, gap: float = 0.02) -> tuple[np.ndarray, float]:
        w = self.walls[side]
        xy = w["center"] + w["tangent"] * along + w["normal"] * (gap + depth / 2)
        n = w["normal"]
        return xy, math.atan2(n[0], -n[1])  # front (sin, -cos) = the wall's inward normal

    def wall_coord(self, side: str, xy: np.ndarray) -> float:
        w = self.walls[side]
        return float((xy - w["center"]) @ w["tangent"])

    def facing_yaw(self, frm: np.ndarray, to: np.ndarray) -> float:
        f = to - frm
        return math.atan2(f[0], -f[1])

    # -- rules --
    def candidate(self, kind: str, size: np.ndarray, what: str) -> tuple | None:
        """(xy, yaw, z0, wall, support) for one placement kind, or None."""
        rng = self.rng
        sx, sy, h = self.room
        w, d, hh = size
        sides = list(self.walls)
        if kind == "wall":
            side = sides[int(rng.integers(4))]
            length = self.walls[side]["length"]
            if length < w + 0.1:
                return None
            along = rng.uniform(-(length - w) / 2 + 0.05, (length - w) / 2 - 0.05)
            xy, yaw = self.on_wall(side, along, d)
            return xy, yaw, 0.0, side, None
        if kind == "corner":
            side = sides[int(rng.integers(4))]
            length = self.walls[side]["length"]
            along = rng.choice([-1, 1]) * (length / 2 - w / 2 - rng.uniform(0.03, 0.25))
            xy, yaw = self.on_wall(side, along, d, gap=rng.uniform(0.03, 0.15))
            return xy, yaw + rng.normal(0, 0.25), 0.0, side, None
        if kind == "center":
            margin = 0.45 + max(w, d) / 2
            if sx / 2 <= margin or sy / 2 <= margin:
                return None
            xy = rng.uniform([-sx / 2 + margin, -sy / 2 + margin], [sx / 2 - margin, sy / 2 - margin]) * 0.8
            yaw = float(rng.choice([0.0, math.pi / 2])) + rng.normal(0, 0.05)
            return xy, yaw, 0.0, None, None
        if kind == "front_of_sofa":
            sofas = self.by_label("sofa")
            if not sofas:
                return self.candidate("center", size, what)
            s = sofas[0]
            xy = s.position[:2] + s.front * (s.size[1] / 2 + rng.uniform(0.3, 0.45) + d / 2) + _rot2(s.yaw) @ [
                rng.uniform(-0.1, 0.1), 0.0]
            return xy, s.yaw + math.pi + rng.normal(0, 0.03), 0.0, None, None
        if kind == "facing":
            targets = self.by_label("coffee table", "sofa", "rug", "table")
            if not targets:
                return self.candidate("corner", size, what)
            t = targets[0]
            ang = rng.uniform(0, 2 * math.pi)
            dist = max(t.size[0], t.size[1]) / 2 + d / 2 + rng.uniform(0.25, 0.6)
            xy = t.position[:2] + dist * np.array([math.cos(ang), math.sin(ang)])
            return xy, self.facing_yaw(xy, t.position[:2]) + rng.normal(0, 0.2), 0.0, None, None
        if kind == "at_table":
            tables = self.by_label("table", "desk")
            if not tables:
                return self.candidate("corner", size, what)
            t = tables[int(rng.integers(len(tables)))]
            # A chair pushed (partly) under the table: its seat front under the top's edge.
            if t.label == "desk":
                side = 1.0
                along = rng.uniform(-0.25, 0.25) * max(t.size[0] - w, 0)
            elif rng.random() < 0.75:
                side = float(rng.choice([-1.0, 1.0]))
                along = rng.uniform(-0.5, 0.5) * max(t.size[0] - w - 0.1, 0)
            else:  # at an end
                side = 0.0
                along = 0.0
            inset = rng.uniform(0.05, 0.25) if rng.random() < 0.6 else rng.uniform(-0.25, 0.0)
            if side:
                local = np.array([along, -side * (t.size[1] / 2 + d / 2 - inset)])
            else:
                end = float(rng.choice([-1.0, 1.0]))
                local = np.array([end * (t.size[0] / 2 + d / 2 - inset), 0.0])
            xy = t.position[:2] + _rot2(t.yaw) @ local
            return xy, self.facing_yaw(xy, t.position[:2]) + rng.normal(0, 0.12), 0.0, None, None
        if kind == "beside_bed":
            beds = self.by_label("bed")
            if not beds:
                return self.candidate("wall", size, what)
            b = beds[0]
            taken = [it for it in self.items if it.label == "nightstand"]
            sgn = rng.choice([-1, 1]) if not taken else -np.sign(
                (taken[0].position[:2] - b.position[:2]) @ (_rot2(b.yaw) @ [1.0, 0.0]) or 1.0)
            along = self.wall_coord(b.wall, b.position[:2]) + sgn * (b.size[0] / 2 + rng.uniform(0.04, 0.1) + w / 2)
            xy, yaw = self.on_wall(b.wall, along, d)
            return xy, yaw, 0.0, b.wall, None
        if kind == "beside_seat":
            seats = self.by_label("sofa", "armchair", "bed")
            if not seats or rng.random() < 0.3:
                return self.candidate("corner", size, what)
            s = seats[int(rng.integers(len(seats)))]
            local = np.array([rng.choice([-1, 1]) * (s.size[0] / 2 + w / 2 + rng.uniform(0.05, 0.2)),
                              -s.size[1] / 2 + d / 2 + rng.uniform(0.0, 0.2)])  # level with the back
            xy = s.position[:2] + _rot2(s.yaw) @ local
            return xy, s.yaw + rng.normal(0, 0.3), 0.0, None, None
        if kind == "rug":
            anchors = self.by_label("coffee table", "table", "bed", "desk", "sofa")
            if anchors and rng.random() < 0.85:
                a = anchors[0]
                xy = a.position[:2] + _rot2(a.yaw) @ [rng.uniform(-0.15, 0.15), rng.uniform(-0.15, 0.15)]
                if a.label == "bed":  # under the foot half of the bed
                    xy = a.position[:2] + a.front * (a.size[1] * 0.35)
                if a.label == "sofa":
                    xy = a.position[:2] + a.front * (a.size[1] / 2 + d / 2 - 0.1)
                return xy, a.yaw + rng.normal(0, 0.03), 0.0, None, None
            return self.candidate("center", size, what)
        if kind in ("on_surface", "on_desk"):
            labels = {"desk"} if kind == "on_desk" else _SURFACE_LABELS
            if what == "table lamp":
                labels = {"nightstand", "cabinet", "desk", "table"}
            sup = [it for it in self.items if it.label in labels and CATALOGUE.get(it.model, ModelSpec(
                "", (1, 1, 1), ())).surface and min(it.size[0], it.size[1]) > min(w, d) + 0.04
                   and it.size[0] > w + 0.04]
            if what == "table lamp" and any(it.label == "nightstand" for it in sup):
                lit = {it.support_id for it in self.items if it.light}
                sup = [it for it in sup if it.label == "nightstand" and it.segment_id not in lit] or sup
            if not sup:
                return None
            s = sup[int(rng.integers(len(sup)))]
            room_x, room_y = max((s.size[0] - w) / 2 - 0.03, 0), max((s.size[1] - d) / 2 - 0.03, 0)
            local = np.array([rng.uniform(-room_x, room_x), rng.uniform(-room_y, room_y)])
            if s.label == "desk":  # lamps and books towards the back of a desk
                local[1] = room_y * rng.uniform(0.3, 1.0)
            return (s.position[:2] + _rot2(s.yaw) @ local, s.yaw + rng.normal(0, 0.35), s.position[2] + s.size[2],
                    s.wall, s)
        if kind in ("on_seat", "on_sofa"):
            labels = ("sofa", "bed") if what == "bed pillows" else ("sofa", "armchair")
            seats = self.by_label(*labels)
            if not seats:
                return None
            s = seats[int(rng.integers(len(seats)))]
            n_on = sum(1 for it in self.items if it.support_id == s.segment_id)
            if s.label == "bed":
                across = (-0.25 if n_on % 2 == 0 else 0.25) * s.size[0] if s.size[0] > 1.3 else 0.0
                local = np.array([across, s.size[1] / 2 - 0.17 - d / 2])
                yaw = s.yaw + rng.normal(0, 0.08)
            else:
                end = (-1 if n_on % 2 == 0 else 1) * rng.uniform(0.2, 0.3) * s.size[0]
                local = np.array([end if s.label == "sofa" else 0.0, s.size[1] * rng.uniform(0.02, 0.1)])
                yaw = s.yaw + rng.normal(0, 0.15)
            return (s.position[:2] + _rot2(s.yaw) @ local, yaw, s.position[2] + s.size[2] * _SEATS[s.label],
                    None, s)
        if kind in ("hang", "hang_high"):
            anchors = [it for it in self.items if it.label in ("sofa", "bed", "cabinet", "desk") and it.wall]
            if kind == "hang" and anchors and rng.random() < 0.6:
                a = anchors[int(rng.integers(len(anchors)))]
                side = a.wall
                along = self.wall_coord(side, a.position[:2]) + rng.uniform(-0.2, 0.2) * a.size[0]
                bottom = a.position[2] + a.size[2] + rng.uniform(0.15, 0.35)
            else:
                side = sides[int(rng.integers(4))]
                length = self.walls[side]["length"]
                if length < w + 0.3:
                    return None
                along = rng.uniform(-(length - w) / 2 + 0.1, (length - w) / 2 - 0.1)
                bottom = rng.uniform(1.0, 1.35) if kind == "hang" else rng.uniform(1.1, 1.5)
            xy, yaw = self.on_wall(side, along, d, gap=0.005)
            return xy, yaw, bottom, side, None
        if kind == "ceiling":
            xy = rng.normal(0, 0.15, 2)
            return xy, rng.uniform(0, 2 * math.pi), h - hh, None, None
        raise ValueError(kind)

    def fits(self, item: Item) -> bool:
        """Inside the room, clear of the other items, the openings (a door swings) and the camera's corner."""
        sx, sy, h = self.room
        c, s, yaw = item.center, item.size, item.yaw
        if item.position[2] + s[2] > h - 0.05:
            return False
        corners = _footprint(c, s, yaw)
        if np.any(np.abs(corners[:, 0]) > sx / 2 - 0.004) or np.any(np.abs(corners[:, 1]) > sy / 2 - 0.004):
            return False
        hung = item.placement in ("hang", "hang_high")
        z0, z1 = item.position[2], item.position[2] + s[2]
        for op in self.openings:
            w = self.walls[op.wall]
            a0, a1 = op.span()
            if op.label == "door":  # keep the door and the floor in front of it free (0.9 m)
                zone_c = np.r_[w["center"] + w["tangent"] * op.offset + w["normal"] * 0.45, 0.0]
                zone = _footprint(zone_c, np.array([op.width + 0.3, 0.9, 1.0]), math.atan2(-w["normal"][0],
                                                                                          w["normal"][1]))
                if item.label != "rug" and item.support_id is None and not hung and _overlap(
                        _footprint(c, s, yaw), zone):
                    return False
            # Nothing on the opening's wall in front of it (in height), within 0.35 m of the wall.
            dist = np.min((corners - w["center"]) @ w["normal"])
            if dist < 0.35 and item.label != "rug" and item.label != "curtain":
                along = (corners - w["center"]) @ w["tangent"]
                if along.max() > a0 - 0.08 and along.min() < a1 + 0.08 and z1 > op.bottom - 0.05 and (
                        z0 < op.bottom + op.height + 0.05):
                    if not (item.support_id is not None and z1 < op.bottom):
                        return False
        if item.support_id is not None:  # clear of the other things on the same top
            mine = _footprint(c, s, yaw, 0.01)
            return not any(o.support_id == item.support_id and _overlap(mine, _footprint(o.center, o.size, o.yaw, 0.01))
                           for o in self.items)
        grown = _footprint(c, s, yaw, 0.015)
        for other in self.items:
            if other.support_id is not None or other.label == "rug" or item.label == "rug":
                continue
            if item.label == "chair" and other.label in ("table", "desk"):
                continue  # pushed under
            if item.label == "lamp" and item.light == "ceiling" or other.light == "ceiling":
                continue
            o_hung = other.placement in ("hang", "hang_high")
            if hung or o_hung:  # on a wall: only in the same height band
                oz0, oz1 = other.position[2], other.position[2] + other.size[2]
                if z1 < oz0 + 0.02 or oz1 < z0 + 0.02:
                    continue
            if _overlap(grown, _footprint(other.center, other.size, other.yaw, 0.015)):
                return False
        return True

    def place(self, what: str, segment_id: int, tries: int = 50) -> Item | None:
        names = [n for n in _WHAT[what] if n in self.models]
        if not names:
            return None
        for _ in range(tries):
            name = names[int(self.rng.integers(len(names)))]
            spec = self.models[name]
            size, origin = _model_geometry(self.models_dir, name, spec)
            kind = spec.places[int(self.rng.integers(len(spec.places)))]
            if what in ("table lamp", "desk lamp"):
                kind = "on_desk" if name == "desk_lamp_arm_01.glb" else "on_surface"
            cand = self.candidate(kind, size, what)
            if cand is None:
                continue
            xy, yaw, z0, wall, support = cand
            label = spec.label
            if what == "desk" and label == "table":
                label = "desk"
            item = Item(segment_id, f"{label.replace(' ', '_')}.{segment_id:02d}", label, name, spec.source,
                        np.array([xy[0], xy[1], z0]), math.remainder(yaw, 2 * math.pi), size, spec.scale,
                        spec.yaw_offset, origin, kind, wall, None if support is None else support.segment_id,
                        spec.light)
            if self.fits(item):
                self.items.append(item)
                return item
        return None


# ----------------------------------------------------------------------------------------------------------------
# Openings, curtains, ceiling fixture


def _openings(rng: np.random.Generator, room: np.ndarray) -> tuple[Opening, Opening]:
    walls = _walls(room)
    sides = list(WALL_SIDES)
    win_side = sides[int(rng.integers(4))]
    length = walls[win_side]["length"]
    ww = rng.uniform(0.9, min(1.9, length - 1.4))
    sill = rng.uniform(0.6, 0.95)
    wh = min(rng.uniform(1.1, 1.6), room[2] - 0.3 - sill)
    along = rng.uniform(-(length - ww) / 2 + 0.6, (length - ww) / 2 - 0.6)
    window = Opening(7, "window.07", "window", win_side, float(along), float(sill), float(ww), float(wh))
    door_side = [s for s in sides if s != win_side][int(rng.integers(3))]
    length = walls[door_side]["length"]
    dw, dh = rng.uniform(0.8, 0.95), rng.uniform(2.0, min(2.15, room[2] - 0.2))
    end = rng.choice([-1, 1])
    along = end * ((length - dw) / 2 - rng.uniform(0.15, max(0.2, min(1.0, (length - dw) / 2 - 0.3))))
    door = Opening(8, "door.08", "door", door_side, float(along), 0.0, float(dw), float(dh))
    return window, door


def _curtains(rng: np.random.Generator, room: np.ndarray, window: Opening, first_id: int) -> list[Item]:
    wall = _walls(room)[window.wall]
    n = wall["normal"]
    yaw = math.atan2(n[0], -n[1])
    top = min(window.bottom + window.height + rng.uniform(0.08, 0.2), room[2] - 0.03)
    long = rng.random() < 0.75
    bottom = rng.uniform(0.01, 0.03) if long else max(window.bottom - rng.uniform(0.05, 0.15), 0.05)
    width = rng.uniform(0.28, 0.5)
    depth = rng.uniform(0.06, 0.1)
    amp, period = rng.uniform(0.025, 0.045), rng.uniform(0.1, 0.16)
    overlap = rng.uniform(0.0, 0.12)
    color = _srgb(np.asarray(_CURTAIN[int(rng.integers(len(_CURTAIN)))]) * rng.uniform(0.92, 1.05, 3))
    mat = ({"kind": "graph", **{k: v for k, v in _graph_material(rng, "fabric").items() if k != "kind"}}
           if rng.random() < 0.4 else {"kind": "principled", "base_color": color,
                                        "roughness": _r(rng.uniform(0.75, 0.95)), "category": "fabric"})
    items = []
    for k, sgn in enumerate((-1, 1)):
        along = window.offset + sgn * (window.width / 2 + width / 2 - overlap)
        along = float(np.clip(along, -wall["length"] / 2 + width / 2 + 0.01, wall["length"] / 2 - width / 2 - 0.01))
        xy = wall["center"] + wall["tangent"] * along + n * (0.03 + depth / 2)
        sid = first_id + k
        items.append(Item(sid, f"curtain.{sid:02d}", "curtain", "generated:curtain", "generated",
                          np.array([xy[0], xy[1], bottom]), yaw, np.array([width, depth, top - bottom]),
                          placement="curtain", wall=window.wall,
                          params={"amplitude": _r(amp), "period": _r(period), "phase": _r(rng.uniform(0, 6.3)),
                                  "material": mat, "rod": bool(k == 0)}))
    return items


def _ceiling_fixture(rng: np.random.Generator, models: dict, models_dir: Path, room: np.ndarray,
                     sid: int) -> Item:
    h = room[2]
    if "Chandelier_01.glb" in models and rng.random() < 0.4 and h > 2.6:
        spec = models["Chandelier_01.glb"]
        size, origin = _model_geometry(models_dir, "Chandelier_01.glb", spec)
        size = size * 1.0
        xy = rng.normal(0, 0.12, 2)
        return Item(sid, f"lamp.{sid:02d}", "lamp", "Chandelier_01.glb", "polyhaven",
                    np.array([xy[0], xy[1], h - size[2]]), float(rng.uniform(-math.pi, math.pi)), size, spec.scale,
                    0.0, origin, "ceiling", None, None, "ceiling")
    radius, height = rng.uniform(0.14, 0.24), rng.uniform(0.05, 0.09)
    xy = rng.normal(0, 0.12, 2)
    return Item(sid, f"lamp.{sid:02d}", "lamp", "generated:ceiling_disc", "generated",
                np.array([xy[0], xy[1], h - height]), 0.0, np.array([2 * radius, 2 * radius, height]),
                placement="ceiling", light="ceiling",
                params={"radius": _r(radius), "height": _r(height),
                        "rim_color": _srgb([rng.uniform(0.7, 0.95)] * 3)})


# ----------------------------------------------------------------------------------------------------------------
# Camera


def trace_boxes(layout: RoomLayout, camera: Camera, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """Coarse analytic ray casting: room planes, openings as wall rectangles, items as solid boxes.

    Only used to choose the camera (the case's depth and segmentation come from Blender's meshes).
    """
    d = _pixel_rays(camera.fov_y_deg, width, height).reshape(-1, 3) @ camera.rotation.T
    o = camera.position
    planes = room_planes(layout.room_size)
    t_best = np.full(len(d), np.inf)
    seg = np.zeros(len(d), np.uint16)
    walls = _walls(layout.room_size)
    with np.errstate(divide="ignore", invalid="ignore"):
        for side, (axis, value) in planes.items():
            t = (value - o[axis]) / d[:, axis]
            hit = (t > 0) & (t < t_best)
            t_best[hit], seg[hit] = t[hit], SIDES[side][1]
        p = o + t_best[:, None] * d
        for op in layout.openings:
            w = walls[op.wall]
            along = (p[:, :2] - w["center"]) @ w["tangent"]
            a0, a1 = op.span()
            inside = (seg == SIDES[op.wall][1]) & (along >= a0) & (along <= a1) & (p[:, 2] >= op.bottom) & (
                p[:, 2] <= op.bottom + op.height)
            seg[inside] = op.segment_id
        for it in layout.items:
            c = it.center
            rot = np.array([[math.cos(it.yaw), -math.sin(it.yaw), 0], [math.sin(it.yaw), math.cos(it.yaw), 0],
                            [0, 0, 1.0]])
            half = it.size / 2
            ol = rot.T @ (o - c)
            dl = d @ rot
            t1 = (-half - ol) / dl
            t2 = (half - ol) / dl
            t_in = np.nanmax(np.minimum(t1, t2), axis=1)
            t_out = np.nanmin(np.maximum(t1, t2), axis=1)
            hit = (t_in <= t_out) & (t_in > 0) & (t_in < t_best)
            t_best[hit], seg[hit] = t_in[hit], it.segment_id
    return t_best.reshape(height, width), seg.reshape(height, width)


def _floor_items(layout: RoomLayout) -> list[Item]:
    return [it for it in layout.items if it.support_id is None and it.placement not in ("hang", "hang_high",
                                                                                         "ceiling")]


def _camera_clear(layout: RoomLayout, pos: np.ndarray, clearance: float = 0.35) -> bool:
    sx, sy, _ = layout.room_size
    if abs(pos[0]) > sx / 2 - 0.25 or abs(pos[1]) > sy / 2 - 0.25:
        return False
    for it in _floor_items(layout):
        if it.label == "rug":
            continue
        if _distance_to_box(pos, it.center, it.size, it.yaw) < clearance:  # a person holds the camera
            return False
    return True


def _view_score(layout: RoomLayout, cam: Camera) -> float:
    cw = 48
    ch = max(8, round(cw * cam.height / cam.width))
    depth, seg = trace_boxes(layout, cam, cw, ch)
    frac = np.bincount(seg.ravel(), minlength=256) / seg.size
    walls = sorted((frac[s] for s in range(3, 7)), reverse=True)
    main = [it for it in layout.items if it.label not in ("curtain", "rug", "picture", "pillow", "book", "vase",
                                                          "radio") and it.support_id is None]
    seen = sum(frac[it.segment_id] >= 0.003 for it in main) / max(len(main), 1)
    things = [frac[it.segment_id] for it in layout.items]
    anchor = next((it for it in layout.items if it.placement not in ("curtain", "ceiling")), None)
    score = (2.0 * (frac[1] >= 0.12) + (walls[1] >= 0.04) + 0.5 * (frac[2] >= 0.01) + 4.0 * seen
             + 6.0 * (min(frac[anchor.segment_id] / 0.06, 1.0) if anchor is not None else 0.0)
             + 2.0 * (anchor is not None and _in_front(anchor, cam.position))
             + 2.5 * (frac[layout.window.segment_id] >= 0.01) + 1.5 * (frac[layout.door.segment_id] >= 0.01)
             + (max(things, default=0) <= 0.25) + (float(np.median(depth)) > 1.5) - 4.0 * float(np.mean(depth < 1.2)))
    return float(score)


def _in_front(item: Item, pos: np.ndarray) -> bool:
    """Whether a point is in front of an item (within about 70 degrees of its front direction)."""
    to = pos[:2] - item.position[:2]
    return float(item.front @ to) > 0.35 * float(np.linalg.norm(to))


def _sample_camera(rng: np.random.Generator, room: np.ndarray, width: int, height: int) -> Camera:
    sx, sy, _ = room
    sgn = rng.choice([-1.0, 1.0], 2)
    dx, dy = rng.uniform(0.35, min(1.3, sx / 2 - 0.3)), rng.uniform(0.35, min(1.3, sy / 2 - 0.3))
    pos = np.array([sgn[0] * (sx / 2 - dx), sgn[1] * (sy / 2 - dy), rng.uniform(1.2, 1.7)])
    target = -sgn * np.array([sx / 2, sy / 2]) * rng.uniform(-0.2, 0.9, 2)
    heading = math.atan2(target[1] - pos[1], target[0] - pos[0]) + rng.normal(0, math.radians(8))
    rot = _look_rotation(heading, math.radians(rng.uniform(3, 12)))
    return Camera(pos, rot, float(rng.uniform(45, 65)), width, height)


def _camera_towards(rng: np.random.Generator, room: np.ndarray, anchor: Item, width: int, height: int) -> Camera:
    """A camera in front of the anchor piece (within 55 degrees of its front), 1.8 m or more away, looking at it."""
    sx, sy, _ = room
    pos = np.array([0.0, 0.0, rng.uniform(1.2, 1.7)])
    for _ in range(30):
        ang = math.atan2(anchor.front[1], anchor.front[0]) + rng.uniform(-1, 1) * math.radians(55)
        near = max(1.8, anchor.size[1] / 2 + 1.4)  # a bed is seen whole, not over its foot rail
        xy = anchor.position[:2] + rng.uniform(near, near + 2.2) * np.array([math.cos(ang), math.sin(ang)])
        if abs(xy[0]) < sx / 2 - 0.35 and abs(xy[1]) < sy / 2 - 0.35:
            pos[:2] = xy
            break
    else:
        pos[:2] = rng.uniform([-sx / 2 + 0.4, -sy / 2 + 0.4], [sx / 2 - 0.4, sy / 2 - 0.4])
    to = anchor.position[:2] - pos[:2]
    heading = math.atan2(to[1], to[0]) + rng.normal(0, math.radians(12))
    rot = _look_rotation(heading, math.radians(rng.uniform(3, 12)))
    return Camera(pos, rot, float(rng.uniform(45, 65)), width, height)


def _heading_pitch(cam: Camera) -> tuple[float, float]:
    back = cam.rotation[:, 2]
    return math.atan2(-back[1], -back[0]), math.asin(max(-1.0, min(1.0, back[2])))


def _novel_camera(rng: np.random.Generator, layout: RoomLayout, k: int) -> Camera:
    """View k: even k steps ~0.5 m sideways, odd k turns ~15 degrees in yaw (and steps a little)."""
    cam = layout.camera
    heading0, pitch0 = _heading_pitch(cam)
    right = cam.rotation[:, 0]
    for attempt in range(100):
        sgn = (1 if (k // 2 + attempt) % 2 == 0 else -1)
        if k % 2 == 0:
            pos = cam.position + right * sgn * rng.uniform(0.4, 0.6) + np.r_[rng.normal(0, 0.05, 2), 0.0]
            heading = heading0 + rng.normal(0, math.radians(3))
        else:
            pos = cam.position + np.r_[rng.normal(0, 0.1, 2), rng.normal(0, 0.03)]
            heading = heading0 + sgn * math.radians(rng.uniform(12, 18))
        if _camera_clear(layout, pos, 0.3):
            return Camera(pos, _look_rotation(heading, pitch0), cam.fov_y_deg, cam.width, cam.height)
    return Camera(cam.position.copy(), _look_rotation(heading0 + math.radians(15), pitch0), cam.fov_y_deg,
                  cam.width, cam.height)


# ----------------------------------------------------------------------------------------------------------------
# The whole room


def sample_room(seed: int, models_dir: Path, width: int = 320, height: int = 240, novel_views: int = 2,
                theme: str | None = None) -> RoomLayout:
    """Draw a benchmark room from `seed` (numpy only, deterministic): box, openings, materials, items, lights,
    the camera (best of several poses by a coarse view score) and `novel_views` nearby cameras."""
    models_dir = Path(models_dir)
    models = available_models(models_dir)
    rng = np.random.default_rng(seed)
    theme = theme or THEMES[int(rng.integers(len(THEMES)))]
    if theme not in THEMES:
        raise ValueError(f"unknown theme {theme!r}")
    room = np.array([rng.uniform(3.2, 6.0), rng.uniform(3.0, 5.5), rng.uniform(2.5, 3.0)])
    mats = _surface_materials(rng, models)
    window, door = _openings(rng, room)
    trim = {
        "wall_thickness": _r(rng.uniform(0.1, 0.18)),
        "baseboard": {"height": _r(rng.uniform(0.05, 0.1)), "depth": _r(rng.uniform(0.01, 0.018)),
                      "material": _principled(rng, _TRIM, (0.3, 0.6), "paint")},
        "window_frame": {"width": _r(rng.uniform(0.04, 0.07)), "mullion": bool(rng.random() < 0.6),
                         "material": _principled(rng, _TRIM, (0.3, 0.5), "paint")},
        "door": {"material": (_graph_material(rng, "wood", _door_graphs()) if rng.random() < 0.45
                              else _principled(rng, _DOOR, (0.3, 0.6), "paint")),
                 "frame_material": _principled(rng, _TRIM, (0.3, 0.5), "paint"),
                 "frame_width": _r(rng.uniform(0.05, 0.09)), "recess": _r(rng.uniform(0.02, 0.05)),
                 "handle_side": int(rng.choice([-1, 1]))},
    }
    # Sky and sun: on about half the seeds the sun shines through the window onto the floor.
    wall = _walls(room)[window.wall]
    n = np.r_[wall["normal"], 0.0]
    through = rng.random() < 0.55
    for _ in range(100):
        if through:
            wc = np.r_[wall["center"] + wall["tangent"] * (window.offset + rng.uniform(-0.3, 0.3) * window.width),
                       window.bottom + rng.uniform(0.3, 0.9) * window.height]
            target = np.r_[wc[:2] + wall["normal"] * rng.uniform(0.6, 2.2) + wall["tangent"] * rng.normal(0, 0.6),
                           0.0]
            to_sun = wc - target
        else:
            az, el = rng.uniform(0, 2 * math.pi), math.radians(rng.uniform(15, 60))
            to_sun = np.array([math.cos(az) * math.cos(el), math.sin(az) * math.cos(el), math.sin(el)])
        to_sun = to_sun / np.linalg.norm(to_sun)
        el = math.degrees(math.asin(to_sun[2]))
        if 12 <= el <= 65:
            break
    sun = {"to_sun": _r(to_sun), "strength": _r(rng.uniform(2.5, 5.0)), "angle_deg": _r(rng.uniform(0.5, 2.5)),
           "through_window": bool(through and float(to_sun @ -n) > 0.1),
           "color": _r([1.0, rng.uniform(0.9, 0.97), rng.uniform(0.8, 0.92)])}
    sky = {"strength": 1.0, "zenith": _r([rng.uniform(0.25, 0.4), rng.uniform(0.45, 0.6), 1.0]),
           "horizon": _r([rng.uniform(0.8, 0.95), rng.uniform(0.85, 0.95), 1.0]),
           "ground": _srgb([rng.uniform(0.25, 0.4), rng.uniform(0.33, 0.45), rng.uniform(0.18, 0.28)])}

    first_item = 9
    curtains = _curtains(rng, room, window, first_item) if rng.random() < 0.85 else []
    recipe = THEME_RECIPES[theme]
    wants = []
    for what, p, (lo, hi) in recipe:
        if rng.random() < p:
            wants += [what] * int(rng.integers(lo, hi + 1))
    if not any(w in ("table lamp", "floor lamp", "desk lamp") for w in wants):
        wants.append("floor lamp" if rng.random() < 0.5 else "table lamp")

    best = None
    for attempt in range(8):
        placer = _Placer(rng, models_dir, models, room, [window, door])
        placer.items = list(curtains)
        sid = first_item + len(curtains)
        fixture = _ceiling_fixture(rng, models, models_dir, room, sid)
        placer.items.append(fixture)
        sid += 1
        ok = True
        for i, what in enumerate(wants):
            if placer.place(what, sid) is not None:
                sid += 1
            elif i == 0:
                ok = False
                break
        if not ok:
            continue
        if not any(it.light in ("table", "floor", "desk") for it in placer.items):
            for what in ("floor lamp", "table lamp"):
                if placer.place(what, sid, tries=120) is not None:
                    sid += 1
                    break
        count = len(placer.items)
        if best is None or count > len(best):
            best = placer.items
        if count >= len(wants) + len(curtains):
            break
    if best is None:
        raise RuntimeError(f"realistic_rooms: no layout found for seed {seed}")

    layout = RoomLayout(seed, theme, room, mats, window, door, best, None, [],  # type: ignore[arg-type]
                        float(trim["wall_thickness"]), trim, sun, sky, float(rng.uniform(0.14, 0.2)), {})
    best_cam, best_score = None, -1.0
    anchor = next((it for it in layout.items if it.placement not in ("curtain", "ceiling")), None)
    for k in range(60):
        if k % 2 and anchor is not None:
            cam = _camera_towards(rng, room, anchor, width, height)
        else:
            cam = _sample_camera(rng, room, width, height)
        if not _camera_clear(layout, cam.position, 0.45):
            continue
        score = _view_score(layout, cam)
        if score > best_score:
            best_cam, best_score = cam, score
    if best_cam is None:
        best_cam = _sample_camera(rng, room, width, height)
    layout.camera = best_cam
    day = rng.uniform(0.35, 0.75)
    lamps = rng.uniform(0.15, 0.35) * (1 - day)
    layout.light_shares = {"daylight": _r(day), "ceiling": _r(1 - day - lamps), "lamps": _r(lamps)}
    layout.novel_cameras = [_novel_camera(rng, layout, k) for k in range(novel_views)]
    return layout


def layout_truth(layout: RoomLayout) -> dict:
    """The layout's part of ground_truth.json: what does not need Blender (no pixels, no measured boxes)."""
    sx, sy, h = layout.room_size
    return {
        "generator": {"name": "photo2scene bench realistic", "seed": layout.seed, "theme": layout.theme},
        "camera": camera_json(layout.camera),
        "room": {"center": _r([0.0, 0.0, h / 2]), "size": _r(layout.room_size), "yaw_deg": 0.0},
        "items": [{"segment_id": it.segment_id, "name": it.name, "label": it.label, "model": it.model,
                   "source": it.source, "position": _r(it.position), "yaw_deg": _r(math.degrees(it.yaw), 4),
                   "size": _r(it.size), "support_id": it.support_id} for it in layout.items],
        "openings": [{"segment_id": op.segment_id, "label": op.label, "wall": op.wall, "offset": _r(op.offset),
                      "bottom": _r(op.bottom), "width": _r(op.width), "height": _r(op.height)}
                     for op in layout.openings],
        "materials": {str(k): v for k, v in layout.surface_materials.items()},
        "sun": layout.sun, "sky": layout.sky, "novel_cameras": [camera_json(c) for c in layout.novel_cameras],
    }


def camera_json(cam: Camera) -> dict:
    """Camera.to_json() plus the tilt: pitch (> 0 above the horizon) and roll, in degrees."""
    forward = -cam.rotation[:, 2]
    right = cam.rotation[:, 0]
    return {**cam.to_json(), "pitch_deg": _r(math.degrees(math.asin(max(-1.0, min(1.0, forward[2])))), 4),
            "roll_deg": _r(math.degrees(math.asin(max(-1.0, min(1.0, right[2])))), 4)}
