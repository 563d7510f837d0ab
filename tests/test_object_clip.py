"""Retrieval with CLIP weights present: a full-size ViT-B-32, randomly initialised, saved where the Hugging Face
hub's cache keeps the real weights (models--laion--.../snapshots/<rev>/open_clip_model.safetensors), so the
loader, preprocessing and embedding a networked user runs are the ones tested; no network, no real weights.
CLIP then narrows the candidates shape retrieval poses (`objects.clip_candidates`); without it every model of
the family is fit (tests/test_objects.py)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from pipeline.core.case import load_case
from pipeline.core.events import Events
from pipeline.render.silhouettes import Pose
from pipeline.stages.objects import stage as object_stage
from pipeline.stages.objects.retrieval import local_embedder, open_retriever
from pipeline.stages.room import stage as room_stage
from test_objects import _case_with_object, _fast_config, _user_library

HUB_REPO = "models--laion--CLIP-ViT-B-32-laion2B-s34B-b79K"


@pytest.fixture
def random_clip_in_hub_cache(tmp_path, monkeypatch):
    """The default CLIP's full-size architecture with random weights, in the hub cache's on-disk layout."""
    open_clip = pytest.importorskip("open_clip")
    safetensors_torch = pytest.importorskip("safetensors.torch")
    import huggingface_hub.constants as hub_constants

    from p2s_common import clip

    model = open_clip.create_model(clip.DEFAULT_MODEL, pretrained=None)
    cache = tmp_path / "hub"
    revision = "0" * 40
    snapshot = cache / HUB_REPO / "snapshots" / revision
    snapshot.mkdir(parents=True)
    (cache / HUB_REPO / "refs").mkdir()
    (cache / HUB_REPO / "refs" / "main").write_text(revision)
    safetensors_torch.save_file({k: v.contiguous() for k, v in model.state_dict().items()},
                                str(snapshot / "open_clip_model.safetensors"))
    monkeypatch.setattr(hub_constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.delenv(clip.WEIGHTS_ENV, raising=False)
    monkeypatch.setattr(clip, "_CACHE", {})
    return cache


def test_clip_weights_on_disk_narrow_shape_retrieval(tmp_path, random_clip_in_hub_cache, monkeypatch):
    from pipeline.app.cli import main

    embedder = local_embedder()
    assert embedder is not None and embedder.key == "ViT-B-32/laion2b_s34b_b79k"
    crop = np.zeros((40, 30, 3), np.uint8)
    from PIL import Image

    emb = embedder.images([Image.fromarray(crop)])
    assert emb.shape == (1, 512) and abs(float(np.linalg.norm(emb)) - 1.0) < 1e-4

    # The artist's library (views rendered, no embeddings yet: the stage embeds them with the CLIP it found).
    monkeypatch.setenv("PHOTO2SCENE_ASSETS_INDEX", str(tmp_path / "default"))
    model = _user_library(tmp_path / "my_models")
    import trimesh

    wide = trimesh.creation.box(extents=[1.2, 0.45, 0.8])  # a second cabinet: CLIP has two to choose from
    wide.apply_translation([0, 0, 0.4])
    wide.export(tmp_path / "my_models" / "wide_cabinet.obj")
    (tmp_path / "my_models" / "wide_cabinet.json").write_text(json.dumps({"category": "cabinet", "up": "z",
                                                                          "units": "m"}))
    index_dir = tmp_path / "my_index"
    assert main(["assets", "index", str(tmp_path / "my_models"), "--index", str(index_dir), "--no-clip"]) == 0
    from assets_index import open_index

    user = open_index(index_dir)
    asset = f"file:{model.resolve()}"
    from pipeline.stages.objects.stage import merged_mesh

    _case_with_object(tmp_path / "case", None, Pose(np.array([-0.3, 1.55, 0.0]), 0.0, 1.0),
                      mesh=merged_mesh(user.load_mesh(asset)))
    case = load_case(tmp_path / "case/photo.png", tmp_path / "case/estimates")
    config = _fast_config(rerank_k=2)
    config.objects.asset_index = str(index_dir)
    config.objects.builtin_library = False
    config.objects.clip_candidates = 1
    events = Events(jsonl=None, bars=False, log=None)
    retriever = open_retriever(events, config.objects)  # finds the weights itself, as a user's run does
    assert retriever.mode == "clip:ViT-B-32/laion2b_s34b_b79k"
    assert any("embedding the views" in line for line in events.lines)
    scene = room_stage.run(None, case, config, events)
    scene = object_stage.run(scene, case, config, events, retriever=retriever)
    obj = scene.objects[0]
    assert obj.retrieval == retriever.mode and scene.stages["objects"]["retrieval"] == retriever.mode
    # Narrowed: only CLIP's top-1 was posed and fit (random weights: which one is chance, not the point).
    assert sum(c.shape_fit is not None for c in obj.candidates) == 1
    assert len([c for c in obj.candidates if c.category == "cabinet"]) == 2  # the other is still offered
    assert json.loads(json.dumps(scene.to_dict()))["objects"][0]["retrieval"].startswith("clip:")
