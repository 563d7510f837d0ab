"""The edit loop's bpy-free half: top-k candidates in scene.json, and writing an edited scene back into a bundle.

Candidates (docs/addon.md): an object or a material in scene.json may carry `candidates`, a list of alternatives
best first, and `chosen`, the index of the one in use (0 when absent). Each candidate has display fields
(`label`, `score`, `thumbnail`: a bundle-relative image) and the fields that replace the entry's own when it is
chosen:

- an object candidate: the asset's identity (`asset_id`, where it comes from: `asset_source`, ...) and, when the
  bundle holds its meshes,
  its `parts` (bundle-relative OBJ files, as in the object entry): then the swap happens in Blender at once;
  without `parts` the choice is recorded and the object stage loads the asset when the user refines from it.
  The object's `name` and pose (`location`, `rotation`, `yaw_deg`, `scale`) are never taken from a candidate, so
  swapping keeps where the user put the object;
- a material candidate: a whole material entry (`type` and its fields), as in `materials`.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import math
import os
import re
import tempfile
import time
from pathlib import Path

from .bundle import BundleError, validate_scene
from .scene_format import (ASSET_FIELDS, STANDIN_FLAGS, Candidate, MaterialEntry, Object, SceneData, asset_thumbnail_path,
                           material_thumbnail_path)

DISPLAY_KEYS = frozenset({"label", "score", "thumbnail", "fit_loss"})
POSE_KEYS = frozenset({"name", "location", "rotation", "yaw_deg", "scale", "candidates", "chosen"})
_SUFFIX = re.compile(r"\.\d{3,}$")


def base_name(name: str) -> str:
    """A Blender datablock name without the `.001` Blender adds on a clash."""
    return _SUFFIX.sub("", name)


def candidates(spec: Object | MaterialEntry | None) -> list[Candidate] | list[MaterialEntry]:
    """The entry's candidates, best first."""
    return list(spec.candidates or []) if spec is not None else []


def chosen_index(spec: Object | MaterialEntry | None) -> int:
    value = spec.chosen if spec is not None else None
    return value if isinstance(value, int) and value >= 0 else 0


def candidate_label(candidate: Candidate | MaterialEntry, index: int) -> str:
    """The name the candidate list shows for one entry."""
    return str(candidate.label or candidate.get("asset_id") or candidate.get("library") or candidate.get("category")
               or f"candidate {index + 1}")


@dataclasses.dataclass
class CandidateRow:
    """One line of the candidate list: the candidate's index in scene.json (what "Use this" swaps in), its name,
    and its fit or match in percent (None: not measured)."""

    index: int
    label: str
    percent: float | None
    measure: str  # "fit", "match" or ""

    @property
    def text(self) -> str:
        return f"{self.label}  {self.measure} {self.percent:.0f}%" if self.percent is not None else self.label


def candidate_rows(items: list[Candidate] | list[MaterialEntry]) -> list[CandidateRow]:
    """The candidates as the panel lists them: best first by the number it shows, so the order and the
    percentages always agree (higher is better).

    - Where the stage measured how well candidates fit the photo (`fit_loss`, the object stage's silhouette +
      depth + scale loss, lower is better), each shows `fit` = 100 x exp(-fit_loss): a perfect fit is 100 %.
    - Otherwise, where scores are similarities in [0, 1] (the material stage's mean CLIP cosine), each shows
      `match` = 100 x score.
    - Anything else (a retrieval score of another scale) shows no number.
    Candidates without the number follow in scene.json's order (best first by the stage's own ranking)."""
    def number(value) -> float | None:
        return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) \
            and math.isfinite(value) else None

    losses = [number(getattr(c, "fit_loss", None)) for c in items]
    scores = [number(c.score) for c in items]
    if any(v is not None for v in losses):
        measure, values = "fit", [100.0 * math.exp(-max(v, 0.0)) if v is not None else None for v in losses]
    elif any(v is not None for v in scores) and all(0.0 <= v <= 1.0 for v in scores if v is not None):
        measure, values = "match", [100.0 * v if v is not None else None for v in scores]
    else:
        measure, values = "", [None] * len(items)
    rows = [CandidateRow(i, candidate_label(c, i), values[i], measure if values[i] is not None else "")
            for i, c in enumerate(items)]
    # sorted() is stable: equal numbers, and the unmeasured, keep the stage's order.
    return sorted(rows, key=lambda r: (r.percent is None, -(r.percent or 0.0)))


def candidate_thumbnail(root: str | os.PathLike, candidate: Candidate | MaterialEntry) -> Path | None:
    """The image to show for a candidate: its `thumbnail` (bundle-relative; an absolute one, such as the asset
    index's cache, only to look at), else the one the bundle keeps for its asset or library material under the
    stages' own file names (scene_format.asset_thumbnail_path / material_thumbnail_path); None if there is none."""
    from .bundle import safe_bundle_file

    root = Path(root)
    names = [candidate.thumbnail] if isinstance(candidate.thumbnail, str) and candidate.thumbnail else []
    if isinstance(candidate, Candidate) and candidate.asset_id:
        names.append(asset_thumbnail_path(candidate.asset_id))
    library = candidate.get("library")
    if isinstance(library, str) and library:
        names.append(material_thumbnail_path(library))
    for name in names:
        try:
            path = safe_bundle_file(root, name)  # absolute paths are refused: a bundle names only its own files
        except (ValueError, BundleError):
            continue
        if path.is_file():
            return path
    return None


def object_spec(scene: SceneData, name: str) -> Object | None:
    return scene.object(name)


def material_spec(scene: SceneData, name: str) -> MaterialEntry | None:
    return scene.materials.get(name)


def with_object_candidate(spec: Object, index: int) -> Object:
    """The object entry after choosing candidate `index`: the candidate's asset (id, source fields, and its part
    meshes when it has them), the entry's own name and pose."""
    items = candidates(spec)
    if not 0 <= index < len(items):
        raise IndexError(f"object {spec.name!r} has no candidate {index}")
    cand = items[index]
    new = copy.deepcopy(spec)
    new.asset_id = cand.asset_id
    for key in ASSET_FIELDS:  # a candidate without them keeps the entry's (builders/candidates.py decides)
        if getattr(cand, key) is not None:
            setattr(new, key, copy.deepcopy(getattr(cand, key)))
    if cand.parts is not None:
        new.parts = copy.deepcopy(cand.parts)
    new.extra.update({k: copy.deepcopy(v) for k, v in cand.extra.items()
                      if k not in DISPLAY_KEYS and k not in POSE_KEYS})
    # A stand-in (proxy or generated) has no library asset: none of the model's fields may linger; its flag goes
    # with it (a retrieved model chosen over a proxy is no proxy).
    kind = next((flag for prefix, flag in STANDIN_FLAGS.items() if cand.asset_id.startswith(prefix)), None)
    if kind is not None:
        for key in ASSET_FIELDS:
            setattr(new, key, None)
    flags = [f for f in (new.flags or []) if f not in STANDIN_FLAGS.values()] + ([kind] if kind else [])
    new.flags = flags or None
    new.chosen = index
    return new


def drop_object(scene: SceneData, spec: Object) -> None:
    """Record that the user dropped `spec` (deleted it in Blender): its segment id goes into
    `stages.objects.dropped_segments`, which the object stage skips on a re-run. The caller removes the entry."""
    if spec.segment_id is None:
        return
    record = scene.stages.setdefault("objects", {})
    dropped = record.setdefault("dropped_segments", [])
    if spec.segment_id not in dropped:
        dropped.append(spec.segment_id)


def with_material_candidate(spec: MaterialEntry, index: int) -> MaterialEntry:
    """The material entry after choosing candidate `index`: the candidate's material, the list kept."""
    items = candidates(spec)
    if not 0 <= index < len(items):
        raise IndexError(f"material has no candidate {index}")
    cand = copy.deepcopy(items[index])
    return dataclasses.replace(cand, label=None, score=None, thumbnail=None,
                               extra={k: v for k, v in cand.extra.items() if k not in DISPLAY_KEYS},
                               candidates=copy.deepcopy(spec.candidates), chosen=index)


def refine_stages(root: str | os.PathLike, scene: SceneData | None = None) -> list[str]:
    """Stages a bundle can be re-run from: those with a checkpoint, in the order the run went through them."""
    folder = Path(root) / "checkpoints"
    found = {p.stem for p in folder.glob("*.json")} if folder.is_dir() else set()
    order = [s for s in (scene.stages if scene is not None else {}) if s in found]
    return order + sorted(found - set(order))


def write_scene(root: str | os.PathLike, scene: dict, keep_previous: bool = True) -> Path:
    """Validate `scene` and replace the bundle's scene.json atomically; the previous one is kept under
    `edits/` (timestamped) so an edit can be looked at or undone by hand."""
    validate_scene(scene)
    root = Path(root)
    target = root / "scene.json"
    if not target.is_file():
        raise BundleError(f"{root} is not a photo2scene bundle (no scene.json)")
    if keep_previous:
        edits = root / "edits"
        edits.mkdir(exist_ok=True)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        backup = edits / f"scene-{stamp}.json"
        n = 2
        while backup.exists():
            backup = edits / f"scene-{stamp}-{n}.json"
            n += 1
        backup.write_bytes(target.read_bytes())
    fd, tmp = tempfile.mkstemp(prefix=".scene.", suffix=".json", dir=root)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(scene, fh, indent=2)
            fh.write("\n")
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return target


def read_scene(root: str | os.PathLike) -> SceneData:
    """scene.json of a bundle as records (validated)."""
    from .bundle import load_bundle

    return load_bundle(root).data


_cache: dict[str, tuple[float, SceneData | None]] = {}


def cached_scene(root: str | os.PathLike) -> SceneData | None:
    """scene.json, re-read only when the file changed (panels draw many times a second); None if unreadable."""
    path = Path(root) / "scene.json"
    try:
        mtime = path.stat().st_mtime
    except OSError:
        return None
    key = str(path)
    hit = _cache.get(key)
    if hit is not None and hit[0] == mtime:
        return hit[1]
    try:
        scene: SceneData | None = read_scene(root)
    except (BundleError, OSError):
        scene = None
    _cache[key] = (mtime, scene)
    return scene
