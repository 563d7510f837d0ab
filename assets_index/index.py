"""The asset index on disk and its queries.

Layout of an index folder:

    index.json                  format, sources, render settings, the default CLIP key, one record per model
    views/<asset>/<k>.png       rendered views (thumbnails)
    embeddings/<clip>.npy       (M, D) float32 L2-normalised CLIP embeddings, one row per image of each model
    embeddings/<clip>.json      {"clip", "dim", "keys"}: which (model, revision, image) each row embeds

Queries score every image row with one matrix-vector product and take, per model, the best of its views
(`aggregate="max"`) or its mean embedding (`"mean"`): a few milliseconds for 10,000 models with 4 views each.
A query without an embedding (no CLIP weights on the machine) ranks by category and, if given, by size.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from p2s_common.errors import InputError

from .categories import TYPICAL_SIZE, normalize_category
from .embed import Embedder, key_slug
from .meshutil import Parts
from .paths import default_index_dir
from .record import AssetRecord
from .render import RenderConfig
from .sources import BuiltinSource, source_from_spec, sources_for_path

FORMAT = 1


@dataclass
class Match:
    """One query result."""

    asset_id: str
    score: float
    """Cosine similarity (plus `size_weight` x size score when asked); for category-only queries the size
    score alone (0 when no size was given)."""
    record: AssetRecord

    @property
    def thumbnail(self) -> str:
        return self.record.thumbnail


def _write_atomic(path: Path, data: bytes) -> None:
    """Write via a temporary file and rename, so a reader never sees half an index."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def image_keys(record: AssetRecord, render_key: str) -> list[tuple[str, str]]:
    """(row key, absolute image path) for every image of a record that gets an embedding row: the
    database's own images first, then the rendered views."""
    base = f"{record.id}|{record.revision}|{render_key}"
    return [(f"{base}|{i}", p) for i, p in enumerate([*record.images, *record.views])]


class AssetIndex:
    """Records, embeddings and queries of one index folder. Build or update it with `update_index`."""

    def __init__(self, path: str | Path, embedder: Embedder | None = None):
        self.path = Path(path).expanduser().resolve()
        self.records: list[AssetRecord] = []
        self.sources: list[dict[str, Any]] = []
        self.render = RenderConfig()
        self.clip: str | None = None
        """Key of the CLIP model whose embeddings queries use."""
        self.embedder = embedder
        self._by_id: dict[str, int] = {}
        self._pack_scales: dict[tuple[str, str], float] | None = None
        self._emb: np.ndarray | None = None
        self._with_rows = self._first_rows = np.zeros(0, dtype=np.int64)
        self._mean: np.ndarray | None = None
        self._categories: np.ndarray = np.zeros(0, dtype=object)
        self._sizes: np.ndarray = np.zeros((0, 3))

    # -- persistence ----------------------------------------------------------------------------------------

    @property
    def exists(self) -> bool:
        return (self.path / "index.json").is_file()

    def load(self) -> "AssetIndex":
        """Read index.json and the active CLIP model's embeddings (when fresh)."""
        data = json.loads((self.path / "index.json").read_text(encoding="utf-8"))
        if data.get("format") != FORMAT:
            raise InputError(f"asset index {self.path} has format {data.get('format')}, this version reads "
                             f"{FORMAT}: delete the folder and run `photo2scene assets index` again")
        self.sources = list(data.get("sources", []))
        r = data.get("render") or {}
        self.render = RenderConfig(**{k: r[k] for k in RenderConfig.__dataclass_fields__ if k in r})
        self.records = [self._absolute(AssetRecord.from_dict(d)) for d in data.get("assets", [])]
        self.clip = data.get("clip")
        if self.embedder is not None:
            self.clip = self.embedder.key
        self._reindex()
        return self

    def save(self) -> None:
        data = {
            "format": FORMAT,
            "clip": self.clip,
            "render": {**self.render.__dict__, "key": self.render.key()},
            "sources": self.sources,
            "assets": [self._relative(r).to_dict() for r in self.records],
        }
        _write_atomic(self.path / "index.json", json.dumps(data, indent=1).encode("utf-8"))

    def _absolute(self, r: AssetRecord) -> AssetRecord:
        r.views = [str(self.path / v) if not os.path.isabs(v) else v for v in r.views]
        if r.thumbnail and not os.path.isabs(r.thumbnail):
            r.thumbnail = str(self.path / r.thumbnail)
        return r

    def _relative(self, r: AssetRecord) -> AssetRecord:
        """A copy with paths inside the index folder made relative, so the folder can move."""
        out = AssetRecord.from_dict(r.to_dict())

        def rel(p: str) -> str:
            try:
                return str(Path(p).relative_to(self.path))
            except ValueError:
                return p

        out.views = [rel(v) for v in out.views]
        out.thumbnail = rel(out.thumbnail) if out.thumbnail else ""
        return out

    def _reindex(self) -> None:
        """Rebuild lookup tables after records change, and (re)load the active embeddings."""
        self._by_id = {r.id: i for i, r in enumerate(self.records)}
        self._categories = np.array([r.category for r in self.records], dtype=object)
        self._pack_scales = _pack_scales(self.records)
        # Real sizes for the size term of queries: a stylised pack's models at the scale that makes them real.
        self._sizes = np.array([np.asarray(r.size, float) * self.pack_scale(r) for r in self.records],
                               dtype=float).reshape(-1, 3)
        self._emb = self._mean = None
        if self.clip:
            loaded = self._read_embeddings(self.clip)
            if loaded is not None:
                self._set_embeddings(*loaded)

    def expected_keys(self) -> tuple[list[str], list[str], np.ndarray]:
        """Row keys, image paths and owning record positions of the rows the records call for."""
        keys, paths, owners = [], [], []
        rk = self.render.key()
        for i, r in enumerate(self.records):
            for key, p in image_keys(r, rk):
                keys.append(key)
                paths.append(p)
                owners.append(i)
        return keys, paths, np.asarray(owners, dtype=np.int64)

    def _embedding_files(self, clip: str) -> tuple[Path, Path]:
        slug = key_slug(clip)
        return self.path / "embeddings" / f"{slug}.npy", self.path / "embeddings" / f"{slug}.json"

    def _read_embeddings(self, clip: str, require_fresh: bool = True) -> tuple[np.ndarray, list[str]] | None:
        npy, meta_path = self._embedding_files(clip)
        if not (npy.is_file() and meta_path.is_file()):
            return None
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        emb = np.load(npy)
        keys = list(meta.get("keys", []))
        if len(keys) != len(emb):
            return None
        if require_fresh and keys != self.expected_keys()[0]:
            return None
        return emb, keys

    def _set_embeddings(self, emb: np.ndarray, keys: list[str]) -> None:
        _, _, owners = self.expected_keys()
        self._emb = np.ascontiguousarray(emb, dtype=np.float32)
        # Rows of one record are contiguous and in record order: per-record reductions use reduceat.
        self._with_rows, self._first_rows = np.unique(owners, return_index=True)

    def write_embeddings(self, clip: str, emb: np.ndarray, keys: list[str]) -> None:
        """Store (and activate, if `clip` is the active model) the embeddings of one CLIP model."""
        npy, meta_path = self._embedding_files(clip)
        npy.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=npy.parent, suffix=".npy")
        os.close(fd)
        np.save(tmp, np.asarray(emb, dtype=np.float32))
        os.replace(tmp, npy)
        meta = {"clip": clip, "dim": int(emb.shape[1]) if emb.ndim == 2 else 0, "keys": keys}
        _write_atomic(meta_path, json.dumps(meta).encode("utf-8"))
        if clip == self.clip:
            self._set_embeddings(emb, keys)

    @classmethod
    def in_memory(cls, records: list[AssetRecord], embeddings: np.ndarray | None = None, clip: str = "synthetic",
                  path: str | Path = ".") -> "AssetIndex":
        """An index that lives only in memory (benchmarks, tests): `embeddings` has one row per image of each
        record (its images, then its views), in record order."""
        index = cls(path)
        index.records = list(records)
        index.clip = clip if embeddings is not None else None
        index._reindex()
        if embeddings is not None:
            keys = index.expected_keys()[0]
            if len(keys) != len(embeddings):
                raise ValueError(f"{len(embeddings)} embedding rows for {len(keys)} images")
            index._set_embeddings(embeddings, keys)
        return index

    # -- lookups --------------------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.records)

    def __contains__(self, asset_id: str) -> bool:
        return asset_id in self._by_id

    def get(self, asset_id: str) -> AssetRecord:
        """The record of `asset_id` (KeyError when absent)."""
        return self.records[self._by_id[asset_id]]

    def packs_in_own_units(self) -> dict[str, float]:
        """{folder: scale to real size} of the packs `pack_scale` finds drawn in their own units."""
        if self._pack_scales is None:
            self._pack_scales = _pack_scales(self.records)
        return {folder: scale for (_, folder), scale in sorted(self._pack_scales.items())}

    def pack_scale(self, record: AssetRecord) -> float:
        """The scale at which a model of this record's pack (its library folder) has its real size: 1 for metric
        files; below 1 for a stylised pack drawn in its own units (KayKit's furniture is about 1.4 times real).
        Told apart by the pack as a whole: the median over its models of the largest extent over its category's
        typical one, taken only when at least `PACK_MIN_MODELS` models say so and it is off by more than
        `PACK_TOLERANCE` (one big bed or one doll's-house chair is a design, a whole pack off is its units)."""
        if record.source == "builtin" or record.size_from != "file":
            return 1.0
        if self._pack_scales is None:
            self._pack_scales = _pack_scales(self.records)
        return self._pack_scales.get((record.library, str(Path(record.path).parent)), 1.0)

    @property
    def has_embeddings(self) -> bool:
        """True when image queries work: embeddings of the active CLIP model match the records."""
        return self._emb is not None and len(self._emb) > 0

    def categories(self) -> dict[str, int]:
        """Category -> number of models."""
        out: dict[str, int] = {}
        for c in self._categories:
            out[c] = out.get(c, 0) + 1
        return dict(sorted(out.items()))

    def source_for(self, record: AssetRecord):
        """The source plug-in that loads `record` (rebuilt from the index's source list)."""
        for spec in self.sources:
            src = source_from_spec(spec)
            if src.key == record.library:
                return src
        if record.source == "builtin":
            return BuiltinSource()
        found = sources_for_path(record.path)
        if not found:
            raise KeyError(f"no source can load {record.id}")
        return found[0]

    def load_model(self, asset_id: str):
        """The model's parts and part descriptions (`sources.LoadedModel`), canonical frame."""
        record = self.get(asset_id)
        return self.source_for(record).load(record)

    def load_mesh(self, asset_id: str) -> Parts:
        """The model's material parts, name -> trimesh.Trimesh, in metres, Z up, front towards -Y, origin at
        the bottom centre."""
        return self.load_model(asset_id).parts

    # -- queries --------------------------------------------------------------------------------------------

    def embed(self, images: Sequence) -> np.ndarray:
        """CLIP embeddings of PIL images (or paths) with the index's model: (N, D)."""
        if self.embedder is None:
            if not self.clip:
                raise InputError(f"asset index {self.path} has no CLIP embeddings: rebuild it with CLIP "
                                 "(`photo2scene assets index`), or query by category only")
            self.embedder = Embedder.from_key(self.clip)
        pil = [Image.open(im).convert("RGB") if isinstance(im, (str, Path)) else im for im in images]
        return self.embedder.images(pil)

    def _query_matrix(self, query: Any) -> np.ndarray:
        """(B, D) normalised query embeddings from an embedding, a batch of them, an image or a path."""
        if isinstance(query, np.ndarray) or (isinstance(query, Sequence) and query and
                                             isinstance(query[0], (float, int, np.floating))):
            q = np.atleast_2d(np.asarray(query, dtype=np.float32))
        else:
            q = self.embed(query if isinstance(query, list) else [query])
        norm = np.linalg.norm(q, axis=1, keepdims=True)
        return q / np.maximum(norm, 1e-12)

    def _category_mask(self, category: str | Iterable[str] | None) -> np.ndarray | None:
        if category is None:
            return None
        wanted = [category] if isinstance(category, str) else list(category)
        canon = {normalize_category(c) for c in wanted}
        return np.isin(self._categories, list(canon))

    def size_scores(self, size: Sequence[float], at_least: Sequence[bool] | None = None) -> np.ndarray:
        """Per record: minus the mean |log ratio| of its size to `size` (w, d, h in metres), 0 is a perfect
        fit. Width and depth may swap (the yaw is unknown); axes under 1 cm are ignored. An axis flagged in
        `at_least` is a lower bound (the photo's border cuts what is seen of it): a model
        smaller there costs as usual, one larger costs nothing up to `LOWER_BOUND_SLACK` times the seen extent."""
        t = np.maximum(np.asarray(size, dtype=float), 1e-2)
        s = np.maximum(self._sizes, 1e-2)
        bound = np.zeros(3, bool) if at_least is None else np.asarray(at_least, bool)

        def cost(sizes: np.ndarray, flags: np.ndarray) -> np.ndarray:
            log = np.log(sizes / t)
            over = np.maximum(log - math.log(LOWER_BOUND_SLACK), 0.0)
            return np.where(flags & (log > 0), over, np.abs(log)).mean(axis=1)

        return -np.minimum(cost(s, bound), cost(s[:, [1, 0, 2]], bound))

    def scores(self, query: Any = None, category: str | Iterable[str] | None = None,
               size: Sequence[float] | None = None, size_weight: float = 0.0, aggregate: str = "max",
               at_least: Sequence[bool] | None = None) -> np.ndarray:
        """(B, N) scores of every record for a batch of queries (-inf where filtered out or without
        embeddings); B = 1 for a category-only query (`query=None`). `at_least`: see `size_scores`."""
        n = len(self.records)
        if query is None:
            out = np.zeros((1, n), dtype=np.float32)
            if size is not None:
                out[0] = self.size_scores(size, at_least)
        else:
            if not self.has_embeddings:
                raise InputError(f"asset index {self.path} has no embeddings for CLIP {self.clip or '(none)'}: "
                                 "update it with `photo2scene assets index`, or query by category only")
            q = self._query_matrix(query)
            if q.shape[1] != self._emb.shape[1]:
                raise InputError(f"query embedding has {q.shape[1]} dimensions, the index's CLIP "
                                 f"{self.clip} has {self._emb.shape[1]}: embed with the same model")
            out = np.full((len(q), n), -np.inf, dtype=np.float32)
            if aggregate == "mean":
                if self._mean is None:
                    sums = np.add.reduceat(self._emb, self._first_rows, axis=0)
                    self._mean = sums / np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-12)
                out[:, self._with_rows] = (self._mean @ q.T).T
            else:
                rows = self._emb @ q.T  # (M, B): the whole cost of a query
                out[:, self._with_rows] = np.maximum.reduceat(rows, self._first_rows, axis=0).T
            if size is not None and size_weight:
                out += size_weight * self.size_scores(size, at_least)[None, :].astype(np.float32)
        mask = self._category_mask(category)
        if mask is not None:
            out[:, ~mask] = -np.inf
        return out

    def query(self, query: Any = None, k: int = 5, category: str | Iterable[str] | None = None,
              size: Sequence[float] | None = None, size_weight: float = 0.0, aggregate: str = "max",
              at_least: Sequence[bool] | None = None) -> list[Match]:
        """Top-k models for a query, best first.

        query: a CLIP embedding (D,), a PIL image, an image path, or None for a category-only query (works
        without CLIP: ranks by `size` when given, else by id). category: a name or several (any spelling
        `normalize_category` knows: "couch" finds sofas). size: the object's (w, d, h) in metres, to rank by
        fit; with an embedding it adds `size_weight` x the size score. at_least: per axis of `size`, whether it
        is only a lower bound (`size_scores`)."""
        return self.query_batch(query, k, category, size, size_weight, aggregate, at_least)[0]

    def query_batch(self, queries: Any, k: int = 5, category: str | Iterable[str] | None = None,
                    size: Sequence[float] | None = None, size_weight: float = 0.0,
                    aggregate: str = "max", at_least: Sequence[bool] | None = None) -> list[list[Match]]:
        """`query` for a batch: an (B, D) array or a list of images; one matmul for all of them."""
        s = self.scores(queries, category, size, size_weight, aggregate, at_least)
        out = []
        for row in s:
            valid = np.flatnonzero(np.isfinite(row))
            if len(valid) == 0:
                out.append([])
                continue
            kk = min(k, len(valid))
            top = valid[np.argpartition(-row[valid], kk - 1)[:kk]] if kk < len(valid) else valid
            # Best first; ties (category-only queries) in id order so results are stable.
            top = sorted(top, key=lambda i: (-row[i], self.records[i].id))
            out.append([Match(self.records[i].id, float(row[i]), self.records[i]) for i in top])
        return out


def open_index(path: str | Path | None = None, embedder: Embedder | None = None, create: bool = False) -> AssetIndex:
    """Open the index in `path` (default: `default_index_dir()`). With `embedder`, image queries use that CLIP
    model (its embeddings must be in the index: `update_index(..., embedder=...)` adds them). `create=True`
    returns an empty index when none exists yet; otherwise a missing index is an InputError."""
    index = AssetIndex(path or default_index_dir(), embedder=embedder)
    if index.exists:
        return index.load()
    if not create:
        raise InputError(f"no asset index in {index.path}: build one with `photo2scene assets index [PATH ...]`")
    if embedder is not None:
        index.clip = embedder.key
    return index


PACK_MIN_MODELS = 8
PACK_TOLERANCE = 1.25
# A model up to this many times an object's seen extent, on an axis where only part of it is seen, fits as well as
# one of exactly that extent (an armchair cut by the frame shows a third of its width).
LOWER_BOUND_SLACK = 2.5


def _pack_scales(records: Sequence[AssetRecord]) -> dict[tuple[str, str], float]:
    """{(library, folder): scale} for the packs whose models are, as a whole, not at real size."""
    ratios: dict[tuple[str, str], list[float]] = {}
    for r in records:
        typical = TYPICAL_SIZE.get(r.category)
        if r.source == "builtin" or r.size_from != "file" or typical is None or max(r.size) <= 0:
            continue
        ratios.setdefault((r.library, str(Path(r.path).parent)), []).append(max(r.size) / max(typical))
    out = {}
    for key, values in ratios.items():
        median = float(np.median(values))
        if len(values) >= PACK_MIN_MODELS and not 1 / PACK_TOLERANCE <= median <= PACK_TOLERANCE:
            out[key] = 1.0 / median
    return out
