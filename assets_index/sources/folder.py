"""Folders of mesh files (OBJ, glTF, GLB, PLY, STL, OFF), with the 3D-FUTURE layout recognised inside them.

3D-FUTURE: one folder per model, `<id>/normalized_model.obj` (+ model.mtl, texture.png), the dataset's own
render `<id>/image.jpg`, and categories in `model_info.json`, either per model folder (a dict) or, as the
dataset ships it, one list at the top (`[{"model_id", "super-category", "category", ...}]`). Its normalized
models have no absolute scale: when `raw_model.obj` sits beside them its extent gives the real size, otherwise
the model is scaled to a typical size for its category (record.size_from = "category-prior").

Any other mesh file is one model. Optional sidecar `<stem>.json` ({"category", "name", "up", "units"})
overrides what is guessed from the file and folder names.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import trimesh

from ..categories import TYPICAL_SIZE, UNKNOWN, category_from_texts, leading_category, normalize_category
from ..materials import guess_material
from ..meshutil import (apply, bounds, canonical_transform, guess_unit_scale, part_color, scene_parts,
                        split_by_colour)
from ..record import AssetRecord, PartInfo
from .base import AssetSource, LoadedModel, ScanUnit, file_stat
from .gltf_quantized import load_scene

MESH_EXTENSIONS = (".obj", ".gltf", ".glb", ".ply", ".stl", ".off")
# Up axis by format: glTF is Y-up by specification; OBJ exports (Blender's default, 3D-FUTURE) are Y-up;
# PLY, STL and OFF from CAD and scanning tools are usually Z-up.
DEFAULT_UP = {".obj": "y", ".gltf": "y", ".glb": "y", ".ply": "z", ".stl": "z", ".off": "z"}
UNIT_SCALE = {"m": 1.0, "cm": 0.01, "mm": 0.001}
LOADER_VERSION = 5  # bump when loading/normalising changes: every folder model is re-indexed
FUTURE_MESH = "normalized_model.obj"
CATEGORY_FIRST_SHARE = 0.75  # of a folder's model files named category first: the folder's convention


class FolderSource(AssetSource):
    """Mesh files under `root` (a folder, or a single file)."""

    kind = "folder"

    def __init__(self, root: str | Path, up: str = "auto", units: str = "auto", category: str | None = None):
        self.root = Path(root).expanduser().resolve()
        if up not in ("auto", "y", "z"):
            raise ValueError(f"up must be auto, y or z, not {up!r}")
        if units not in ("auto", *UNIT_SCALE):
            raise ValueError(f"units must be auto, m, cm or mm, not {units!r}")
        self.up, self.units_opt, self.category = up, units, category
        self._naming: dict[Path, bool] = {}  # folder -> its models are named category first

    @property
    def key(self) -> str:
        return f"folder:{self.root}"

    def spec(self) -> dict[str, Any]:
        return {"kind": self.kind, "root": str(self.root), "up": self.up, "units": self.units_opt,
                "category": self.category}

    # -- scanning -------------------------------------------------------------------------------------------

    def units(self) -> Iterator[ScanUnit]:
        if self.root.is_file():
            yield self._file_unit(self.root)
            return
        top_info = _top_level_model_info(self.root)
        for folder, dirs, files in _walk(self.root):
            if FUTURE_MESH in files:
                dirs.clear()  # a 3D-FUTURE model folder is one model; raw_model.obj is not a second one
                yield self._future_unit(folder, set(files), top_info)
                continue
            for name in sorted(files):
                if Path(name).suffix.lower() in MESH_EXTENSIONS:
                    yield self._file_unit(folder / name)

    def _options_version(self, extra: Any = None) -> str:
        blob = json.dumps([LOADER_VERSION, self.up, self.units_opt, self.category, extra], sort_keys=True)
        return hashlib.sha1(blob.encode()).hexdigest()[:12]

    def _file_unit(self, path: Path) -> ScanUnit:
        files = {str(path): file_stat(path)}
        for sidecar in (path.with_suffix(".mtl"), path.with_suffix(".bin"), path.with_suffix(".json")):
            if sidecar.is_file() and sidecar != path:
                files[str(sidecar)] = file_stat(sidecar)
        return ScanUnit(key=str(path), files=files, version=self._options_version())

    def _future_unit(self, folder: Path, names: set[str], top_info: dict[str, dict]) -> ScanUnit:
        files = {}
        for name in (FUTURE_MESH, "model.mtl", "texture.png", "image.jpg", "model_info.json", "raw_model.obj"):
            if name in names:
                files[str(folder / name)] = file_stat(folder / name)
        info = top_info.get(folder.name, {})
        return ScanUnit(key=str(folder / FUTURE_MESH), files=files, version=self._options_version(info),
                        info={"future": True, "model_info": info})

    # -- records --------------------------------------------------------------------------------------------

    def expand(self, unit: ScanUnit) -> list[AssetRecord]:
        path = Path(unit.key)
        if unit.info.get("future"):
            return [self._future_record(path, unit.info.get("model_info") or {})]
        side = _read_json(path.with_suffix(".json")) if path.suffix.lower() != ".json" else {}
        stem = (leading_category(path.stem) or path.stem) if self._category_first(path.parent) else path.stem
        hints = [side.get("category"), self.category, stem]
        # Folder names, nearest first, up to the source root: "chairs/eames.glb" is a chair.
        parent = path.parent
        while parent != self.root.parent and parent != parent.parent:
            hints.append(parent.name)
            if parent == self.root:
                break
            parent = parent.parent
        category = category_from_texts(hints)
        return [AssetRecord(id=f"file:{path}", source=self.kind, path=str(path), category=category, size=(0, 0, 0),
                            name=str(side.get("name") or path.stem), library=self.key,
                            extra={k: side[k] for k in ("up", "units") if k in side})]

    def _future_record(self, mesh: Path, top: dict) -> AssetRecord:
        folder = mesh.parent
        info = {**top, **_read_json(folder / "model_info.json")}
        category = normalize_category(info.get("category"))
        if category == UNKNOWN:
            category = category_from_texts([info.get("super-category"), self.category])
        images = [str(folder / "image.jpg")] if (folder / "image.jpg").is_file() else []
        extra = {k: info[k] for k in ("category", "super-category", "style", "theme", "material") if info.get(k)}
        return AssetRecord(id=f"3d-future:{folder.name}", source="3d-future", path=str(mesh), category=category,
                           size=(0, 0, 0), name=folder.name, images=images, library=self.key, extra=extra)

    def _category_first(self, folder: Path) -> bool:
        """Whether the folder's models are named category first (`lamp_table`, `bed_double_A`): at least
        `CATEGORY_FIRST_SHARE` of its (at least 4) model files begin with a category word. English puts the
        head noun last ("table lamp"), and a pack's own convention outweighs it for that pack."""
        if folder not in self._naming:
            stems = [f.stem for f in folder.iterdir() if f.suffix.lower() in MESH_EXTENSIONS] if folder.is_dir() else []
            leading = sum(leading_category(stem) is not None for stem in stems)
            self._naming[folder] = len(stems) >= 4 and leading >= CATEGORY_FIRST_SHARE * len(stems)
        return self._naming[folder]

    # -- geometry -------------------------------------------------------------------------------------------

    def load(self, record: AssetRecord) -> LoadedModel:
        path = Path(record.path)
        try:
            loaded = load_scene(path)
        except Exception as exc:
            raise ValueError(f"cannot read {path}: {type(exc).__name__}: {exc}") from exc
        parts = split_by_colour(scene_parts(loaded))  # one part per colour of a palette texture
        if not parts:
            raise ValueError(f"{path} holds no triangle meshes")
        units = record.extra.get("units") or self.units_opt
        if record.source == "3d-future":  # the dataset's convention, whatever the source options say
            up = "y"
            scale, size_from = _future_scale(path, parts, record.category)
        else:
            up = record.extra.get("up") or (self.up if self.up != "auto" else DEFAULT_UP.get(path.suffix.lower(), "y"))
            if units in UNIT_SCALE:
                scale, size_from = UNIT_SCALE[units], "file"
            else:
                lo, hi = bounds(parts)
                scale, size_from = guess_unit_scale(float((hi - lo).max()))
        matrix = canonical_transform(parts, up=up, scale=scale)
        canon = apply(parts, matrix)
        infos = [PartInfo(name=n, material=guess_material(n), color=part_color(m), faces=len(m.faces))
                 for n, m in canon.items()]
        return LoadedModel(canon, infos, size_from=size_from, to_canonical=matrix.tolist())


def _walk(root: Path) -> Iterator[tuple[Path, list[str], list[str]]]:
    """os.walk in a stable order, skipping hidden folders."""
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        yield Path(folder), dirs, files


def _read_json(path: Path) -> dict:
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _top_level_model_info(root: Path) -> dict[str, dict]:
    """3D-FUTURE's model_info.json as shipped: a list of entries keyed by model_id, at the root (or its parent,
    when the root given is the 3D-FUTURE-model folder inside the dataset folder)."""
    for candidate in (root / "model_info.json", root.parent / "model_info.json"):
        if not candidate.is_file():
            continue
        try:
            data = json.loads(candidate.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(data, list):
            return {str(e.get("model_id")): e for e in data if isinstance(e, dict) and e.get("model_id")}
    return {}


def _obj_extent(path: Path) -> np.ndarray | None:
    """Bounding-box extent of an OBJ's vertices, read without building a mesh (raw_model.obj can be large)."""
    try:
        with open(path, "rb") as f:
            rows = [line.split()[1:4] for line in f if line.startswith(b"v ")]
    except OSError:
        return None
    if not rows:
        return None
    v = np.asarray(rows, dtype=float)
    return v.max(axis=0) - v.min(axis=0)


def _future_scale(path: Path, parts, category: str) -> tuple[float, str]:
    """Metres per unit of a 3D-FUTURE normalized model: from raw_model.obj when present, else the category's
    typical size."""
    lo, hi = bounds(parts)
    extent = hi - lo
    raw = path.parent / "raw_model.obj"
    if raw.is_file():
        raw_extent = _obj_extent(raw)
        if raw_extent is not None and extent.max() > 0:
            return float(raw_extent.max() / extent.max()), "file"
    typical = max(TYPICAL_SIZE.get(category, TYPICAL_SIZE[UNKNOWN]))
    return float(typical / max(extent.max(), 1e-9)), "category-prior"
