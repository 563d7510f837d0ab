"""Building, updating, storing and querying an index (tiny random CLIP, quick renders)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest
import trimesh
from assets_fixtures import SUBSET, write_glb_cabinet
from PIL import Image

from assets_index import AssetIndex, builtin_index, open_index, update_index
from assets_index.sources import BuiltinSource, FolderSource
from p2s_common.errors import InputError


@pytest.fixture
def built(tmp_path, tiny, quick_render, fake_future):
    """An index over a few built-in models, a folder with a glTF cabinet, and the fake 3D-FUTURE folder."""
    lib = tmp_path / "lib"
    write_glb_cabinet(lib / "cabinet.glb")
    index = open_index(tmp_path / "index", embedder=tiny, create=True)
    report = update_index(index, [BuiltinSource(SUBSET), FolderSource(lib), FolderSource(fake_future)],
                          embedder=tiny, render=quick_render)
    return index, report, lib


def test_build_renders_embeds_and_stores(built, tiny):
    index, report, _ = built
    assert not report.failed
    assert len(index) == len(SUBSET) + 3
    assert sorted(report.added) == sorted(r.id for r in index.records)
    # 3D-FUTURE models use their own image instead of renders; the others get two views each.
    sofa = index.get("3d-future:aaaa-sofa")
    assert sofa.views == [] and sofa.thumbnail == sofa.images[0]
    cab = next(r for r in index.records if r.id.endswith("cabinet.glb"))
    assert len(cab.views) == 2 and all(Path(v).is_file() for v in cab.views)
    assert Image.open(cab.views[0]).size == (48, 48)
    assert report.rendered == 2 * (len(SUBSET) + 1)
    assert report.embedded == report.rendered + 2
    assert index.has_embeddings and index.clip == tiny.key
    # Stored on disk: reopening gives the same records and embeddings, with paths relative inside the folder.
    again = open_index(index.path, embedder=tiny)
    assert [r.id for r in again.records] == [r.id for r in index.records]
    assert again.has_embeddings
    assert '"views/' in (index.path / "index.json").read_text()


def test_query_by_image_finds_the_model(built, tiny):
    index, _, _ = built
    record = index.get("builtin:chair_dining_slats")
    top = index.query(record.views[1], k=3)
    assert top[0].asset_id == record.id and top[0].score == pytest.approx(1.0, abs=1e-5)
    assert [m.score for m in top] == sorted((m.score for m in top), reverse=True)
    # The same through a precomputed embedding, a PIL image, and a batch.
    emb = tiny.images([Image.open(record.views[1]).convert("RGB")])[0]
    assert index.query(emb, k=1)[0].asset_id == record.id
    assert index.query(Image.open(record.views[1]), k=1)[0].asset_id == record.id
    batch = index.query_batch(np.stack([emb, emb]), k=2)
    assert len(batch) == 2 and batch[0][0].asset_id == record.id
    assert index.query(emb, k=1, aggregate="mean")[0].asset_id == record.id  # mean of its views is closest too


def test_category_filter(built):
    index, _, _ = built
    record = index.get("builtin:chair_dining_slats")
    for m in index.query(record.views[0], k=10, category="couch"):
        assert m.record.category == "sofa"
    both = index.query(record.views[0], k=10, category=["sofa", "chair"])
    assert {m.record.category for m in both} == {"sofa", "chair"}
    assert index.query(record.views[0], k=5, category="wardrobe") == []


def test_category_only_query_needs_no_embeddings(tmp_path, quick_render):
    index = open_index(tmp_path / "noclip", create=True)
    update_index(index, [BuiltinSource(SUBSET + ["sofa_rolled_2seat"])], render=False)
    assert not index.has_embeddings
    assert all(not r.views for r in index.records)
    sofas = index.query(None, k=5, category="sofa", size=(1.6, 0.9, 0.8))
    assert [m.asset_id for m in sofas] == ["builtin:sofa_rolled_2seat", "builtin:sofa_track_3seat"]
    assert sofas[0].score > sofas[1].score
    with pytest.raises(InputError):
        index.query(np.ones(32, np.float32))


def test_load_mesh(built):
    index, _, _ = built
    parts = index.load_mesh("builtin:sofa_track_3seat")
    assert set(parts) == {"frame", "cushions", "legs"}
    record = index.get("builtin:sofa_track_3seat")
    assert [p.name for p in record.parts] == ["frame", "cushions", "legs"]
    assert record.size == pytest.approx((2.1, 0.92, 0.8), abs=1e-3)
    cab = next(r for r in index.records if r.id.endswith("cabinet.glb"))
    assert set(index.load_mesh(cab.id)) == {"Oak", "Brass"}


def test_incremental_update(built, tiny, quick_render):
    index, _, lib = built
    cab_path = lib / "cabinet.glb"
    # Nothing changed: nothing is loaded, rendered or embedded.
    report = update_index(index, embedder=tiny)
    assert (report.added, report.updated, report.removed, report.rendered, report.embedded) == ([], [], [], 0, 0)
    # A touch (mtime only): the content hash says unchanged.
    os.utime(cab_path, ns=(time.time_ns(), time.time_ns() + 10**9))
    report = update_index(index, embedder=tiny)
    assert report.updated == [] and report.rendered == 0
    # Changed content: that model only is re-indexed; other embedding rows are reused.
    write_glb_cabinet(cab_path, scale=1.5)
    report = update_index(index, embedder=tiny)
    cab_id = f"file:{cab_path}"
    assert report.updated == [cab_id] and report.rendered == 2 and report.embedded == 2
    assert index.get(cab_id).size[2] == pytest.approx(2.4, abs=0.01)
    # A new file is added, a deleted one removed (with its views).
    trimesh.creation.box(extents=(0.4, 0.4, 0.5)).export(lib / "stool.ply")
    old_views = index.get(cab_id).views
    cab_path.unlink()
    report = update_index(index, embedder=tiny)
    assert report.added == [f"file:{lib / 'stool.ply'}"] and report.removed == [cab_id]
    assert cab_id not in index and not any(Path(v).exists() for v in old_views)
    assert index.has_embeddings
    # Reopened from disk, the query still works.
    reopened = open_index(index.path, embedder=tiny)
    stool = reopened.get(f"file:{lib / 'stool.ply'}")
    assert reopened.query(stool.views[0], k=1)[0].asset_id == stool.id


def test_wrong_embedding_size_is_a_clear_error(built):
    index, _, _ = built
    with pytest.raises(InputError, match="dimensions"):
        index.query(np.ones(7, np.float32))


def test_missing_index_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="assets index"):
        open_index(tmp_path / "none")


def test_builtin_index_is_cached(tmp_path, tiny):
    from assets_index import RenderConfig

    cfg = RenderConfig(views=1, resolution=32, spp=2)
    index = builtin_index(tiny, directory=tmp_path / "bi", render=cfg)
    assert len(index) >= 40 and index.has_embeddings
    t = time.perf_counter()
    again = builtin_index(tiny, directory=tmp_path / "bi")
    assert time.perf_counter() - t < 2.0
    assert len(again) == len(index) and again.has_embeddings


def test_in_memory_index_matches_rows_to_records():
    from assets_index import AssetRecord

    recs = [AssetRecord(id=f"m{i}", source="synthetic", path="", category="chair", size=(0.5, 0.5, 0.9),
                        views=["a.png", "b.png"]) for i in range(3)]
    emb = np.eye(6, 4, dtype=np.float32)[:, :4]
    emb[4:] = [0, 0, 0, 1]
    index = AssetIndex.in_memory(recs, emb)
    assert index.query(np.array([0, 0, 1, 0], np.float32), k=1)[0].asset_id == "m1"
    with pytest.raises(ValueError):
        AssetIndex.in_memory(recs, emb[:5])


def test_a_pack_drawn_in_its_own_units_is_scaled_to_real_size():
    """A stylised pack (KayKit's furniture is ~1.4x real) is told by its models as a whole: each model of that
    folder gets the pack's scale to real size, for the size term of queries and the object stage's scale prior.
    A metric pack, a pack of too few models to say, and the built-in library stay at 1."""
    from assets_index import AssetRecord
    from assets_index.categories import TYPICAL_SIZE

    def pack(folder, factor, n, library="folder:/lib"):
        cats = ["chair", "bed", "table", "sofa", "cabinet", "lamp", "desk", "stool", "bookshelf", "nightstand"]
        return [AssetRecord(id=f"file:/lib/{folder}/{c}{i}.gltf", source="folder", path=f"/lib/{folder}/{c}{i}.gltf",
                            category=c, size=tuple(v * factor for v in TYPICAL_SIZE[c]), library=library)
                for i, c in enumerate(cats[:n])]

    stylised, metric, few = pack("toy", 1.5, 10), pack("real", 1.05, 10), pack("odd", 1.5, 3)
    builtin = [AssetRecord(id="builtin:chair_x", source="builtin", path="chair_x", category="chair",
                           size=(0.5, 0.5, 2.0), library="builtin")]
    index = AssetIndex.in_memory(stylised + metric + few + builtin, None)
    assert abs(index.pack_scale(stylised[0]) - 1 / 1.5) < 1e-6
    assert index.pack_scale(metric[0]) == index.pack_scale(few[0]) == index.pack_scale(builtin[0]) == 1.0
    assert index.packs_in_own_units() == {"/lib/toy": pytest.approx(1 / 1.5)}  # what `assets index` reports
    # The size term ranks the stylised chair as a real-sized chair.
    real_chair = TYPICAL_SIZE["chair"]
    top = index.query(None, k=2, category="chair", size=real_chair)
    assert {m.asset_id for m in top} == {stylised[0].id, metric[0].id}


def test_size_lower_bounds_let_larger_models_in():
    """An armchair the frame cuts shows a chair's width: with its footprint flagged as a lower bound, the
    armchairs rank with the chairs instead of far behind them; a model smaller than what is seen still costs."""
    from assets_index import AssetRecord

    records = [AssetRecord(id="m:chair", source="folder", path="/l/chair.obj", category="chair",
                           size=(0.5, 0.55, 0.85), library="folder:/l"),
               AssetRecord(id="m:armchair", source="folder", path="/l/armchair.obj", category="armchair",
                           size=(1.0, 0.9, 0.8), library="folder:/l"),
               AssetRecord(id="m:stool", source="folder", path="/l/stool.obj", category="chair",
                           size=(0.3, 0.3, 0.8), library="folder:/l")]
    index = AssetIndex.in_memory(records, None)
    seen = (0.5, 0.45, 0.8)
    plain = dict(zip([r.id for r in records], index.size_scores(seen)))
    cut = dict(zip([r.id for r in records], index.size_scores(seen, at_least=(True, True, False))))
    assert plain["m:armchair"] < plain["m:chair"]  # whole: the armchair is too big
    assert cut["m:armchair"] == pytest.approx(0.0, abs=1e-9)  # cut: within the slack, no cost
    assert cut["m:stool"] == pytest.approx(plain["m:stool"])  # smaller than what is seen: same cost as before
    top = index.query(None, k=2, category=["chair", "armchair"], size=seen, at_least=(True, True, False))
    assert "m:armchair" in {m.asset_id for m in top}
