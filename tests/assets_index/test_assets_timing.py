"""Query time of a 10,000-model index (synthetic embeddings; printed, not asserted)."""

from __future__ import annotations

import time

import numpy as np

from assets_index import AssetIndex, AssetRecord
from assets_index.categories import CATEGORIES


def test_query_time_10k(capsys):
    rng = np.random.default_rng(0)
    n, views, dim = 10_000, 4, 512  # ViT-B-32's embedding size, 4 views per model
    records = [AssetRecord(id=f"syn:{i:05d}", source="synthetic", path="", category=CATEGORIES[i % len(CATEGORIES)],
                           size=(1.0, 0.5, 0.8), views=[f"{j}.png" for j in range(views)]) for i in range(n)]
    emb = rng.standard_normal((n * views, dim)).astype(np.float32)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    index = AssetIndex.in_memory(records, emb)
    q = emb[7 * views + 2] + 0.05 * rng.standard_normal(dim).astype(np.float32)
    timings = {}
    for name, kw in {"top-5": {}, "top-5 category": {"category": "sofa"}, "top-5 mean": {"aggregate": "mean"}}.items():
        index.query(q, k=5, **kw)  # warm-up (the mean embeddings are computed once)
        runs = []
        for _ in range(10):
            t = time.perf_counter()
            result = index.query(q, k=5, **kw)
            runs.append(time.perf_counter() - t)
        timings[name] = 1000 * float(np.median(runs))
        assert len(result) == 5
    assert index.query(q, k=1)[0].asset_id == "syn:00007"
    with capsys.disabled():
        print("\n10,000 models x 4 views x 512-d, median query ms: "
              + ", ".join(f"{k} {v:.1f}" for k, v in timings.items()))
