"""The stage's material retrieval by synthesis (`synthesis.py`) over every part with crops: crop views from one UV
pass of the scene, the CLIP shortlist when CLIP is here, and the chosen library graphs as Procedural states."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from .crops import CropPair, cut
from .state import Procedural
from .synthesis import CropView, Retrieved, SynthesisLibrary, rank


@dataclass
class PartResult:
    """What the report shows of one part: its first photo crop, the synthesised chosen and runner-up crops."""

    material: str
    photo: np.ndarray
    retrieved: Retrieved


# Library categories that are plausible for a surface: a prior by what the part is, as PSDR-Room retrieves per
# part category. Albedo statistics alone cannot tell a grey wall from polished chrome (whose albedo tile is grey
# too, but which renders as a mirror), nor a brown floor from leather.
ROOM_CATEGORIES = {
    "floor": {"wood", "tiles", "carpet", "stone", "concrete"},
    "wall": {"paint", "plaster", "wallpaper", "tiles", "wood", "stone", "concrete"},
    "ceiling": {"paint", "plaster", "concrete", "wood"},
}
NOT_FURNITURE = {"paint", "wallpaper", "plaster", "concrete", "tiles", "carpet", "paper"}


def is_room_face(part: str) -> bool:
    """A room face's part (`room_floor`, `room_wall_x_min`, `room_ceiling`...), as the room stage names them."""
    return any(part.startswith(f"room_{k}") for k in ROOM_CATEGORIES)


# What a furniture part's asset says it is made of (assets_index/materials.py's classes) -> the library categories
# it may take. A duvet is not marble, a drawer front not velvet; the flat material stays a candidate whatever the
# hint (a "wood" front painted white). Classes the library has nothing for (glass, mirror, foliage) stay flat.
HINT_CATEGORIES = {
    "fabric": {"fabric"},
    "leather": {"fabric"},  # the library's leathers are filed under fabric
    "wood": {"wood"},
    "metal": {"metal"},
    "stone": {"stone", "concrete"},
    "ceramic": {"ceramic"},
    "plastic": {"plastic"},
    "paint": {"plastic", "paint"},  # a painted or lacquered finish: near-flat colours
    "paper": {"paper"},
    "glass": set(),
    "mirror": set(),
    "foliage": set(),
}

RUGS = ("rug", "carpet", "mat_", "doormat")  # object names (their label) whose parts may take carpet


def plausible(library: SynthesisLibrary, part: str, hint: str = "") -> list[str]:
    """The library materials a part may take: a room face's categories (room faces are named `room_<face>` by
    the room stage); for a furniture part, the categories its asset's material `hint` allows (HINT_CATEGORIES),
    or without a known hint every category but the room-only ones."""
    kind = next((k for k in ROOM_CATEGORIES if part.startswith(f"room_{k}")), None)
    if kind is not None:
        return [n for n in library.names if library.categories[n] in ROOM_CATEGORIES[kind]]
    if hint in HINT_CATEGORIES:
        allowed = HINT_CATEGORIES[hint] | ({"carpet", "fabric"} if part.startswith(RUGS) else set())
        return [n for n in library.names if library.categories[n] in allowed]
    return [n for n in library.names if library.categories[n] not in NOT_FURNITURE]


def retrieve_by_synthesis(case, states: dict, crops: dict[str, list[CropPair]], uv_image: np.ndarray | None, cfg,
                          clip=None, notes: list | None = None, inputs: dict | None = None,
                          hints: dict[str, str] | None = None) -> tuple[dict, dict, list[PartResult]]:
    """Rank the library for every part with crops; parts whose best textured candidate beats the flat material
    (or, on a room face, whose photo is flat: the best near-flat graph, `synthesis.NEAR_FLAT`) become Procedural
    (at the chosen scale/rotation). `inputs`, when given, is filled with what `retrieval_inputs` stores (`bench
    retrieval` re-ranks from it). `hints`: material -> its asset's material class (`plausible`). Returns (retrieval
    info, chosen per part, report rows)."""
    notes = notes if notes is not None else []
    start = time.perf_counter()
    library = SynthesisLibrary(resolution=cfg.synthesis_res)
    load_s = time.perf_counter() - start
    scales = [float(s) for s in cfg.scales.split(",") if s.strip()]
    rotations = [float(r) for r in cfg.rotations.split(",") if r.strip()]
    chosen: dict[str, dict] = {}
    rows: list[PartResult] = []
    for name, pairs in sorted(crops.items()):
        state = states.get(name)
        if state is None or state.emission is not None or uv_image is None:
            continue
        flat_albedo = state.mean_colour()
        part_inputs = _part_inputs(case.photo_linear, uv_image, pairs[:cfg.synthesis_crops], flat_albedo)
        views = views_from_inputs(part_inputs)
        if not views:
            continue
        if inputs is not None:
            inputs[name] = part_inputs
        shortlist = plausible(library, name, (hints or {}).get(name, ""))
        if clip is not None:  # CLIP narrows the shortlist; synthesis still decides
            voted = clip.rank([cut(case.photo_srgb, p.photo) for p in pairs], cfg.top_k)
            allowed = set(shortlist)
            shortlist = [r.name for r in voted if r.name in allowed][:cfg.clip_shortlist] or shortlist
        found = rank(library, views, flat_albedo, scales, rotations, shortlist, cfg.synthesis_prune,
                     near_flat=is_room_face(name))
        rows.append(PartResult(name, cut(case.photo_linear, pairs[0].photo), found))
        # lazy: loads torch, which importing this module does not
        from materials_db import load_graph

        def ratio(library_name: str) -> np.ndarray:
            return np.asarray(flat_albedo, float) / np.maximum(library.mean_colour[library_name], 1e-3)

        cands = [{"library": r.library, "category": r.category, "score": round(r.similarity, 4),
                  "distance": round(r.distance, 4), "scale": r.scale, "rotation_deg": r.rotation_deg,
                  "values": colour_matched_values(load_graph(r.library), ratio(r.library))}
                 for r in found.ranked[:cfg.keep_candidates]]
        best = found.best
        info = {"candidates": cands, "best": best.library if best else None,
                "homogeneous_distance": round(found.flat, 4), "scored": found.shortlist}
        if best is not None:
            info["texture_search"] = {"method": "synthesis", "scale": best.scale, "rotation_deg": best.rotation_deg,
                                      "distance": round(best.distance, 4),
                                      "homogeneous_distance": round(found.flat, 4)}
            graph = load_graph(best.library)  # not always ranked[0]: a near-flat graph may stand for flat
            proc = Procedural.create(name, graph, best.scale, best.rotation_deg, resolution=cfg.texture_res,
                                     values=colour_matched_values(graph, ratio(best.library)))
            proc.homogeneous = state  # type: ignore[attr-defined]  # the flat colour stays a candidate
            states[name] = proc
        chosen[name] = info
        notes.append(_note(name, found))
    seconds = time.perf_counter() - start
    n = sum(1 for v in chosen.values() if v["best"])
    info = {"mode": "synthesis+clip" if clip is not None else "synthesis",
            "note": f"retrieval by synthesis over {len(library.names)} library materials"
                    + (" (CLIP shortlist)" if clip is not None else ""),
            "procedural": n, "homogeneous": len(states) - n, "parts": len(chosen),
            "seconds": round(seconds, 2), "library_load_seconds": round(load_s, 2)}
    notes.append(f"material retrieval by synthesis: {len(chosen)} parts in {seconds:.1f} s "
                 f"(library tiles {load_s:.1f} s), {n} procedural")
    return info, chosen, rows


def colour_matched_values(graph, ratio: np.ndarray) -> dict:
    """The graph's colour parameters (real units) scaled per channel by `ratio` (the part's fitted flat albedo over
    the library tile's mean albedo), clipped to their ranges: the retrieved pattern starts at the photo's colour
    rather than the library's (the joint optimisation moves twin colours slowly; measured on a bench room, a floor
    left at the library's colours rendered twice as bright as the photo after 40 steps). Colours mix linearly into
    the albedo in the library's graphs, so scaling them all scales the albedo, up to the clipping."""
    out = {}
    for pname, p in graph.params.items():
        if p.kind == "color":
            lo, hi = p.range
            out[pname] = np.clip(np.asarray(p.default, float) * ratio, lo, hi).tolist()
    return out


def _note(name: str, found: Retrieved) -> str:
    """The report's line for a part: chosen graph, runner-up, their scores and the flat material's."""
    if not found.ranked:
        return f"{name}: no library candidate; homogeneous"
    first = found.best or found.ranked[0]  # the chosen one (Occam or near-flat may pass over the top), else the top
    r = [first] + [c for c in found.ranked if c is not first]
    head = (f"{name}: {r[0].library} ({r[0].category}, distance {r[0].distance:.3f}, scale {r[0].scale:g}, "
            f"rotation {r[0].rotation_deg:g})")
    runner = f"runner-up {r[1].library} ({r[1].category}, {r[1].distance:.3f})" if len(r) > 1 else "no runner-up"
    verdict = ("chosen" if found.best is not None and not found.flat_like
               else "chosen as flat (a near-flat graph: the photo shows no pattern)" if found.best is not None
               else "homogeneous chosen instead (flat scores better)" if found.ranked[0].distance >= found.flat
               else "homogeneous chosen instead (no candidate similar enough to the crop)")
    return f"{head}, {runner}, flat {found.flat:.3f}: {verdict}"


def _part_inputs(photo_linear: np.ndarray, uv_image: np.ndarray, pairs: list[CropPair], flat_albedo) -> dict:
    """One part's retrieval inputs, as `retrieval_inputs` stores them."""
    out: dict = {"flat": np.asarray(flat_albedo, np.float32), "windows": np.array([p.photo for p in pairs])}
    for i, pair in enumerate(pairs):
        out[f"photo{i}"] = cut(photo_linear, pair.photo).astype(np.float32)
        out[f"uv{i}"] = cut(uv_image, pair.render).astype(np.float32)
    return out


def retrieval_inputs(inputs: dict[str, dict]) -> bytes:
    """The bundle's report/retrieval_inputs.npz: per part, its crops (photo, UVs), photo windows and flat
    albedo, keyed `part|field`: enough to re-rank a finished bundle without rendering (`bench retrieval`)."""
    import io

    buf = io.BytesIO()
    np.savez_compressed(buf, **{f"{part}|{k}": v for part, d in inputs.items() for k, v in d.items()})
    return buf.getvalue()


def load_retrieval_inputs(data: bytes) -> dict[str, dict]:
    """`retrieval_inputs` read back: part -> {field: array}."""
    import io

    out: dict[str, dict] = {}
    with np.load(io.BytesIO(data)) as z:
        for key in z.files:
            part, field = key.split("|", 1)
            out.setdefault(part, {})[field] = z[key]
    return out


def views_from_inputs(part: dict) -> list[CropView]:
    """A part's CropViews from its inputs (`_part_inputs`, or `load_retrieval_inputs`'s): the photo crop, the UVs,
    and the crop's irradiance = photo mean / flat albedo. Pairs whose photo and render windows differ in size
    (a user's) have no pixel correspondence and are left out."""
    flat = np.maximum(np.asarray(part["flat"], float), 1e-3)
    views = []
    for i in range(len(part["windows"])):
        photo, uv = part[f"photo{i}"].astype(np.float64), part[f"uv{i}"].astype(np.float64)
        if photo.shape[:2] != uv.shape[:2] or min(photo.shape[:2]) < 4:
            continue
        views.append(CropView(photo, uv, photo.reshape(-1, 3).mean(0) / flat))
    return views
