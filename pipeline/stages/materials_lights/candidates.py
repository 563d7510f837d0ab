"""A material's top-k candidates in scene.json: whole material entries the add-on can swap to (docs/addon.md).

Candidate 0 is the entry in use (the optimised material), so `chosen` is 0 after a run and choosing 0 again in
Blender brings it back. Then the other library materials retrieval ranked (graph JSON and lit thumbnail copied
into the bundle): by synthesis, each at the texture scale/rotation that fitted it best with its colours scaled to
the part's fitted flat albedo (`values`); by CLIP, at the transform the stage found with default parameters. Then,
for a procedural material, the flat colour the stage fitted before retrieval. Each carries display fields
(`label`, `score`, `thumbnail`) that the swap leaves behind; `score` is a similarity in [0, 1]: exp(-distance) of
retrieval by synthesis, or the mean CLIP cosine over the crops.
"""

from __future__ import annotations

import dataclasses
import json

from blender_addon.scene_format import MaterialEntry, material_graph_path, material_thumbnail_path

from .state import Procedural, with_uv_node


def material_only(entry: MaterialEntry) -> MaterialEntry:
    """A copy of `entry` without the fields of the entry in use (candidates, chosen, retrieval, texture search)."""
    return dataclasses.replace(entry, candidates=None, chosen=None, retrieval=None, texture_search=None,
                               extra=dict(entry.extra))


def material_candidates(name: str, state, entry: MaterialEntry, ranked: list[dict],
                        search: dict | None) -> tuple[list[MaterialEntry], dict[str, bytes]]:
    """(candidates, bundle files) for material `name` whose scene.json entry in use is `entry`; `ranked` is the
    retrieval's list, best first ({library, score, scale, rotation_deg} by synthesis; {library, votes, cosine} by
    CLIP), `search` the texture search's result if it ran."""
    # lazy: loads torch, which importing this module does not
    from materials_db import load_graph
    from materials_db.thumbs import thumbnail_path

    files: dict[str, bytes] = {}
    score = {r["library"]: r.get("score", r.get("cosine")) for r in ranked}

    def thumbnail(library: str) -> str | None:
        src = thumbnail_path(library)
        if not src.is_file():
            return None
        rel = material_thumbnail_path(library)
        files[rel] = src.read_bytes()
        return rel

    library = entry.library if entry.type == "graph" else None
    first = dataclasses.replace(material_only(entry), label=f"{library or 'flat colour'} (optimised)")
    if library:
        first.thumbnail, first.score = thumbnail(library), score.get(library)
    out = [first]
    if isinstance(state, Procedural):
        scale, rotation = state.uv_scale, state.uv_rotation_deg
    else:  # kept flat: the transform the texture search liked best for the library's top candidate
        scale, rotation = (search or {}).get("scale", 1.0), (search or {}).get("rotation_deg", 0.0)
    for r in ranked:
        if r["library"] == library:
            continue
        rel = material_graph_path(name, r["library"])
        s, rot = r.get("scale", scale), r.get("rotation_deg", rotation)  # synthesis found each one's own
        graph = with_uv_node(load_graph(r["library"]).to_dict(), s, rot)
        files[rel] = (json.dumps(graph, indent=1) + "\n").encode()
        why = f"{r['votes']} votes" if "votes" in r else f"match {score[r['library']]:.2f}"
        out.append(MaterialEntry("graph", graph_file=rel, values=dict(r.get("values") or {}), library=r["library"],
                                 uv_scale=s,
                                 uv_rotation_deg=rot, label=f"{r['library']} ({why})",
                                 score=score[r["library"]], thumbnail=thumbnail(r["library"])))
    flat = getattr(state, "homogeneous", None)
    if isinstance(state, Procedural) and flat is not None:
        out.append(dataclasses.replace(flat.entry()[0], label="flat colour (before retrieval)"))
    return out, files


def refresh_in_use(entry: MaterialEntry) -> None:
    """After a re-run: the chosen candidate takes the entry's new (re-optimised) material fields."""
    items = entry.candidates
    chosen = entry.chosen if entry.chosen is not None else 0
    if not isinstance(items, list) or not isinstance(chosen, int) or not 0 <= chosen < len(items):
        return
    old = items[chosen]
    items[chosen] = dataclasses.replace(material_only(entry), label=old.label, score=old.score,
                                        thumbnail=old.thumbnail)
