"""What the index knows about one model: `AssetRecord` and its material parts, stored as plain JSON."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class PartInfo:
    """One material part of a model (a sofa's frame, cushions, legs)."""

    name: str
    """Part name, unique within the model; the key of `load_mesh`'s dict."""
    material: str = ""
    """Material class hint for the material stage ("fabric", "wood", "metal", ...); empty when unknown."""
    color: tuple[float, float, float] = (0.7, 0.7, 0.7)
    """Base colour (linear RGB, 0..1) the source gives the part; the thumbnails use it."""
    faces: int = 0
    """Triangle count of the part."""


@dataclass
class AssetRecord:
    """One model in a source, as the index stores it (index.json) and a query returns it."""

    id: str
    """Stable, unique id: "<source kind>:<name within the source>" (e.g. "builtin:sofa_track_3seat")."""
    source: str
    """Source kind: "builtin", "folder", "3d-future" or "blend"."""
    path: str
    """The file the model is read from (absolute), or the generator name for built-in models."""
    category: str
    """Canonical category (assets_index.categories), "object" when unknown."""
    size: tuple[float, float, float]
    """Bounding-box size in metres after normalisation: width (X), depth (Y), height (Z)."""
    parts: list[PartInfo] = field(default_factory=list)
    """Material parts, in a stable order."""
    name: str = ""
    """Human-readable name."""
    library: str = ""
    """Key of the source that holds the model (e.g. "folder:/abs/root", "builtin"): where `load_mesh` goes."""
    unit: str = ""
    """The source's unit (file, model folder, .blend) the record comes from: what changes re-index together."""
    unit_version: str = ""
    """The unit's version when indexed (loader version, source options, generator parameters)."""
    revision: str = ""
    """Hash of the unit's file contents and version: changes whenever the model does."""
    size_from: str = "file"
    """Where `size` comes from: "file" (the model's own units), "units-guess" (cm/mm detected from the extent)
    or "category-prior" (the model had no absolute scale and was scaled to a typical size for its category)."""
    to_canonical: list[list[float]] = field(default_factory=lambda: [[1.0, 0, 0, 0], [0, 1.0, 0, 0],
                                                                     [0, 0, 1.0, 0], [0, 0, 0, 1.0]])
    """4x4 row-major matrix from the source's own coordinates to the canonical frame (metres, Z up, front
    towards -Y, origin at the bottom centre): apply it when linking the original asset instead of `load_mesh`."""
    images: list[str] = field(default_factory=list)
    """The database's own images of the model (e.g. 3D-FUTURE's image.jpg, a Blender asset preview)."""
    views: list[str] = field(default_factory=list)
    """Rendered views (PNG, relative to the index folder)."""
    thumbnail: str = ""
    """The image to show a user: the database's own image when there is one, else the first view
    (absolute path, or relative to the index folder)."""
    files: dict[str, list] = field(default_factory=dict)
    """Files the record was made from -> [size, mtime_ns, sha1]: what incremental updates compare."""
    extra: dict[str, Any] = field(default_factory=dict)
    """Source-specific fields (e.g. a Blender asset's datablock type and name, a generator's parameters)."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "AssetRecord":
        data = dict(data)
        data["parts"] = [PartInfo(**{**p, "color": tuple(p.get("color", (0.7, 0.7, 0.7)))})
                         for p in data.get("parts", [])]
        data["size"] = tuple(data["size"])
        known = cls.__dataclass_fields__
        return cls(**{k: v for k, v in data.items() if k in known})
