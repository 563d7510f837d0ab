"""Build and incrementally update an index: scan sources, load and render what changed, embed new views.

A unit (file, model folder, .blend, generated model) is re-indexed when a file's size changed, when its mtime
changed and its content hash differs (a plain `touch` or copy costs one hash, not a re-render), when its
version changed (loader or generator code, source options), or when its views are missing. Units that are gone
are dropped with their views. Embeddings are then brought up to date for the given CLIP model, reusing every
row whose (model, revision, image) is unchanged.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from .embed import Embedder
from .index import AssetIndex
from .record import AssetRecord
from .render import RenderConfig, render_views
from .sources import source_from_spec
from .sources.base import AssetSource, ScanUnit, sha1_file

Progress = Callable[[int, int, str], None]


@dataclass
class UpdateReport:
    """What an update did."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    rendered: int = 0
    embedded: int = 0
    failed: dict[str, str] = field(default_factory=dict)
    """Unit (file) -> error message; such units are retried on the next update."""
    seconds: float = 0.0

    def summary(self) -> str:
        parts = [f"{len(self.added)} added", f"{len(self.updated)} updated", f"{len(self.removed)} removed",
                 f"{self.unchanged} unchanged", f"{self.rendered} views rendered", f"{self.embedded} images embedded"]
        if self.failed:
            parts.append(f"{len(self.failed)} failed")
        return ", ".join(parts) + f" in {self.seconds:.1f} s"


def _unchanged(unit: ScanUnit, old: AssetRecord) -> bool:
    """Compare a unit's current files with what its record stored; refresh the stored mtime when only the
    mtime moved (content hash equal)."""
    if old.unit_version != unit.version or set(old.files) != set(unit.files):
        return False
    for path, (size, mtime) in unit.files.items():
        s_size, s_mtime, s_sha = old.files[path]
        if size != s_size:
            return False
        if mtime != s_mtime:
            if sha1_file(path) != s_sha:
                return False
            old.files[path] = [size, mtime, s_sha]
    return True


def _fingerprint(unit: ScanUnit) -> tuple[dict[str, list], str]:
    """Files with content hashes, and the revision hash of the unit."""
    files = {p: [size, mtime, sha1_file(p)] for p, (size, mtime) in unit.files.items()}
    blob = json.dumps([unit.version, sorted((Path(p).name, v[2]) for p, v in files.items())])
    return files, hashlib.sha1(blob.encode()).hexdigest()[:16]


def view_dir(index: AssetIndex, asset_id: str) -> Path:
    """views/<readable part of the id>-<hash of the id>: unique, file-name safe, recognisable."""
    tail = re.sub(r"[^A-Za-z0-9._-]+", "_", asset_id.split("/")[-1])[-48:]
    return index.path / "views" / f"{tail}-{hashlib.sha1(asset_id.encode()).hexdigest()[:10]}"


def _views_ok(index: AssetIndex, record: AssetRecord) -> bool:
    wanted = index.render.views_for(bool(record.images))
    return len(record.views) == wanted and all(Path(v).is_file() for v in record.views)


def _index_record(index: AssetIndex, source: AssetSource, record: AssetRecord, render: bool,
                  report: UpdateReport) -> AssetRecord:
    """Load a record's model, fill in size and parts, render its views."""
    model = source.load(record)
    lo = np.min([m.bounds[0] for m in model.parts.values()], axis=0)
    hi = np.max([m.bounds[1] for m in model.parts.values()], axis=0)
    record.size = tuple(round(float(v), 4) for v in hi - lo)
    record.parts = model.infos
    record.size_from = model.size_from
    if model.to_canonical is not None:
        record.to_canonical = model.to_canonical
    record.views = []
    n_views = index.render.views_for(bool(record.images))
    folder = view_dir(index, record.id)
    shutil.rmtree(folder, ignore_errors=True)
    if render and n_views > 0:
        paths = [folder / f"{k}.png" for k in range(n_views)]
        render_views(model.parts, {p.name: p.color for p in model.infos}, paths, index.render)
        record.views = [str(p) for p in paths]
        report.rendered += len(paths)
    record.thumbnail = record.images[0] if record.images else (record.views[0] if record.views else "")
    return record


def update_index(index: AssetIndex, sources: Sequence[AssetSource] | None = None, embedder: Embedder | None = None,
                 render: RenderConfig | bool | None = None, progress: Progress | None = None,
                 force: bool = False) -> UpdateReport:
    """Add `sources` to the index (or re-scan all its sources when None) and bring everything up to date.

    render: a RenderConfig to change how views look (every model is re-rendered once), False to skip rendering
    (category-only or database-image-only index), None to keep the index's setting. embedder: the CLIP model to
    embed with; it becomes the index's default. force: re-index every unit."""
    t0 = time.perf_counter()
    report = UpdateReport()
    do_render = render is not False
    if isinstance(render, RenderConfig) and render != index.render:
        index.render = render
        force_views = True
    else:
        force_views = False
    if sources is None:
        sources = [source_from_spec(s) for s in index.sources]
    for src in sources:  # register (or re-register with new options)
        index.sources = [s for s in index.sources if source_from_spec(s).key != src.key] + [src.spec()]

    keep: dict[str, AssetRecord] = {r.id: r for r in index.records}
    by_unit: dict[tuple[str, str], list[AssetRecord]] = {}
    for r in index.records:
        by_unit.setdefault((r.library, r.unit), []).append(r)

    work: list[tuple[AssetSource, ScanUnit, list[AssetRecord]]] = []
    for src in sources:
        seen = set()
        for unit in src.units():
            seen.add(unit.key)
            old = by_unit.get((src.key, unit.key), [])
            fresh = (old and not force and _unchanged(unit, old[0])
                     and all(r.unit_version == unit.version for r in old))
            if fresh and (not do_render or (not force_views and all(_views_ok(index, r) for r in old))):
                for r in old:  # carry refreshed mtimes over to every record of the unit
                    r.files = old[0].files
                report.unchanged += len(old)
                continue
            work.append((src, unit, old))
        for (lib, unit_key), old in by_unit.items():
            if lib == src.key and unit_key not in seen:
                for r in old:
                    keep.pop(r.id, None)
                    shutil.rmtree(view_dir(index, r.id), ignore_errors=True)
                    report.removed.append(r.id)

    for done, (src, unit, old) in enumerate(work):
        if progress:
            progress(done, len(work), Path(unit.key).name)
        try:
            files, revision = _fingerprint(unit)
            records = src.expand(unit)
            for rec in records:
                rec.unit, rec.unit_version, rec.revision, rec.files = unit.key, unit.version, revision, files
                rec.library = src.key
            indexed = [_index_record(index, src, rec, do_render, report) for rec in records]
        except Exception as exc:  # one bad file must not stop a library of thousands
            report.failed[unit.key] = f"{type(exc).__name__}: {exc}"
            continue
        old_ids = {r.id for r in old}
        for r in old:
            keep.pop(r.id, None)
        for rec in indexed:
            (report.updated if rec.id in old_ids else report.added).append(rec.id)
            keep[rec.id] = rec
        for gone in old_ids - {r.id for r in indexed}:
            shutil.rmtree(view_dir(index, gone), ignore_errors=True)
            report.removed.append(gone)
    if progress:
        progress(len(work), len(work), "indexed")

    index.records = sorted(keep.values(), key=lambda r: r.id)
    if embedder is not None:
        index.clip = embedder.key
        index.embedder = embedder
    index.save()
    index._reindex()
    if embedder is not None:
        report.embedded = sync_embeddings(index, embedder, progress)
    report.seconds = time.perf_counter() - t0
    return report


def sync_embeddings(index: AssetIndex, embedder: Embedder, progress: Progress | None = None,
                    batch: int = 64) -> int:
    """Embed every image row the records call for that `embedder`'s stored embeddings lack; returns how many
    images were embedded."""
    keys, paths, _ = index.expected_keys()
    old = index._read_embeddings(embedder.key, require_fresh=False)
    old_rows = {k: i for i, k in enumerate(old[1])} if old else {}
    missing = [i for i, k in enumerate(keys) if k not in old_rows]
    dim = None
    new_rows: dict[int, np.ndarray] = {}
    for start in range(0, len(missing), batch):
        chunk = missing[start:start + batch]
        if progress:
            progress(start, len(missing), "embedding views")
        images = [Image.open(paths[i]).convert("RGB") for i in chunk]
        emb = embedder.images(images)
        dim = emb.shape[1]
        for i, e in zip(chunk, emb):
            new_rows[i] = e
    if dim is None:
        dim = old[0].shape[1] if old is not None and old[0].ndim == 2 and len(old[0]) else \
            int(embedder.images([Image.new("RGB", (32, 32), "white")]).shape[1])
    out = np.zeros((len(keys), dim), dtype=np.float32)
    for i, k in enumerate(keys):
        out[i] = new_rows[i] if i in new_rows else old[0][old_rows[k]]
    index.write_embeddings(embedder.key, out, keys)
    if progress and missing:
        progress(len(missing), len(missing), "embedded")
    return len(missing)
