"""A material's top-k candidates in scene.json: whole material entries the add-on can swap to (docs/addon.md).

Candidate 0 is the entry in use (the optimised material), so `chosen` is 0 after a run and choosing 0 again in
Blender brings it back. Then the other library materials retrieval ranked, at the texture transform the stage
found and with their default parameters (graph JSON and lit thumbnail copied into the bundle); then, for a
procedural material, the flat colour the stage fitted before retrieval. Each carries display fields (`label`,
`score` = mean CLIP cosine over the crops, `thumbnail`) that the swap leaves behind.
"""

from __future__ import annotations

import json

from .material_state import Procedural, _slug, with_uv_node

ENTRY_ONLY = ("candidates", "chosen", "retrieval", "texture_search")  # fields of the entry, not of a material
DISPLAY = ("label", "score", "thumbnail")


def material_candidates(name: str, state, entry: dict, ranked: list[dict],
                        search: dict | None) -> tuple[list[dict], dict[str, bytes]]:
    """(candidates, bundle files) for material `name` whose scene.json entry in use is `entry`; `ranked` is the
    retrieval's list ({library, votes, cosine}, best first), `search` the texture search's result if it ran."""
    from materials_db import load_graph
    from materials_db.thumbs import thumbnail_path

    files: dict[str, bytes] = {}
    cosine = {r["library"]: r["cosine"] for r in ranked}

    def thumbnail(library: str) -> dict:
        src = thumbnail_path(library)
        if not src.is_file():
            return {}
        rel = f"materials/thumbs/{_slug(library)}.jpg"
        files[rel] = src.read_bytes()
        return {"thumbnail": rel}

    in_use = {k: v for k, v in entry.items() if k not in ENTRY_ONLY}
    library = in_use.get("library") if in_use.get("type") == "graph" else None
    first = {**in_use, "label": f"{library or 'flat colour'} (optimised)"}
    if library:
        first.update(thumbnail(library), score=cosine.get(library))
    out = [first]
    if isinstance(state, Procedural):
        scale, rotation = state.uv_scale, state.uv_rotation_deg
    else:  # kept flat: the transform the texture search liked best for the library's top candidate
        scale, rotation = (search or {}).get("scale", 1.0), (search or {}).get("rotation_deg", 0.0)
    for r in ranked:
        if r["library"] == library:
            continue
        rel = f"materials/{_slug(name)}.{_slug(r['library'])}.json"
        graph = with_uv_node(load_graph(r["library"]).to_dict(), scale, rotation)
        files[rel] = (json.dumps(graph, indent=1) + "\n").encode()
        out.append({"type": "graph", "graph_file": rel, "values": {}, "library": r["library"], "uv_scale": scale,
                    "uv_rotation_deg": rotation, "label": f"{r['library']} ({r['votes']} votes)",
                    "score": r["cosine"], **thumbnail(r["library"])})
    flat = getattr(state, "homogeneous", None)
    if isinstance(state, Procedural) and flat is not None:
        out.append({**flat.entry()[0], "label": "flat colour (before retrieval)"})
    return out, files


def refresh_in_use(entry: dict) -> None:
    """After a re-run: the chosen candidate takes the entry's new (re-optimised) material fields."""
    items = entry.get("candidates")
    chosen = entry.get("chosen", 0)
    if not isinstance(items, list) or not isinstance(chosen, int) or not 0 <= chosen < len(items):
        return
    display = {k: v for k, v in items[chosen].items() if k in DISPLAY}
    items[chosen] = {**{k: v for k, v in entry.items() if k not in ENTRY_ONLY}, **display}
