"""The one small interface every source of 3D models implements.

A source lists its *units* cheaply (a file, a 3D-FUTURE model folder, a .blend file, a generated model) with
their files' sizes and modification times; the index compares those with what it stored and asks the source to
`expand` and `load` only the units that changed. `expand` turns a unit into records (a .blend may hold many
assets); `load` returns a record's mesh in the canonical frame.
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..meshutil import Parts
from ..record import AssetRecord, PartInfo


@dataclass
class ScanUnit:
    """Something that changes as a whole: re-indexed when any of its files (or `version`) changes."""

    key: str
    """Unique within the source (usually the main file's absolute path)."""
    files: dict[str, list] = field(default_factory=dict)
    """Absolute path -> [size, mtime_ns] of every file the unit's records are made from."""
    version: str = ""
    """Anything else the records depend on (loader version, source options, generator parameters)."""
    info: dict[str, Any] = field(default_factory=dict)
    """What `scan` learnt that `expand` needs (e.g. a category from a model_info.json)."""


@dataclass
class LoadedModel:
    """A record's geometry in the canonical frame, and what the index learns from it."""

    parts: Parts
    infos: list[PartInfo]
    size_from: str = "file"
    to_canonical: list[list[float]] | None = None


class AssetSource(ABC):
    """A place models come from. Subclasses set `kind` and implement `units`, `expand` and `load`."""

    kind: str = ""

    @property
    @abstractmethod
    def key(self) -> str:
        """Identifies this source in an index (its kind and root)."""

    @abstractmethod
    def spec(self) -> dict[str, Any]:
        """JSON-able description from which `source_from_spec` rebuilds this source."""

    @abstractmethod
    def units(self) -> Iterator[ScanUnit]:
        """Everything the source holds, cheaply (stat calls, small JSON files; no mesh loading)."""

    @abstractmethod
    def expand(self, unit: ScanUnit) -> list[AssetRecord]:
        """The records of a unit: id, path, category, images, extra. Sizes and parts come from `load`."""

    @abstractmethod
    def load(self, record: AssetRecord) -> LoadedModel:
        """The record's parts in the canonical frame (metres, Z up, front -Y, origin at the bottom centre)."""

    def scan(self) -> Iterator[AssetRecord]:
        """All records of the source, without geometry (convenience over units + expand)."""
        for unit in self.units():
            yield from self.expand(unit)


def file_stat(path: Path) -> list:
    """[size, mtime_ns] of a file: what incremental updates compare first."""
    st = path.stat()
    return [st.st_size, st.st_mtime_ns]


def sha1_file(path: Path | str) -> str:
    """Content hash: decides whether a file whose mtime changed (a copy, a touch) really changed."""
    h = hashlib.sha1()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
