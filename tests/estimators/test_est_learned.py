"""Learned backends: adapters on tiny randomly initialised models, and the fall-back when weights are missing."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from p2s_common.errors import SetupError
from pipeline.estimators import models
from pipeline.estimators.config import EstimateConfig
from pipeline.estimators.depth import LearnedDepth, make_depth_estimator
from pipeline.estimators.labels import ade_to_project
from pipeline.estimators.segmentation import ClassicalSegmentation, LearnedSegmentation, make_segmentation_estimator


class _TinyDepthNet:
    """transformers-like depth model: model(pixel_values=...) -> .predicted_depth (B x h x w)."""

    def __init__(self):
        import torch

        torch.manual_seed(0)
        self.conv = torch.nn.Conv2d(3, 1, 3, padding=1)

    def eval(self):
        return self

    def __call__(self, pixel_values):
        import torch

        return SimpleNamespace(predicted_depth=torch.nn.functional.softplus(self.conv(pixel_values))[:, 0] + 0.5)


def _tiny_processor(images, return_tensors="pt"):
    import torch

    x = torch.from_numpy(np.asarray(images, np.float32) / 255.0).permute(2, 0, 1)[None]
    return {"pixel_values": torch.nn.functional.interpolate(x, size=(28, 28), mode="bilinear")}


def test_learned_depth_adapter_resizes_to_the_image():
    est = LearnedDepth(model=_TinyDepthNet(), processor=_tiny_processor).estimate(np.random.rand(60, 80, 3))
    assert est.depth.shape == (60, 80) and est.depth.dtype == np.float32
    assert (est.depth > 0).all() and est.metric


class _FakePanoptic:
    config = SimpleNamespace(id2label={0: "wall", 1: "floor", 2: "windowpane, window", 3: "chest of drawers"})

    def eval(self):
        return self

    def __call__(self, **inputs):
        return "outputs"


class _FakePanopticProcessor:
    def __call__(self, images, return_tensors="pt"):
        return {"pixel_values": images}

    def post_process_panoptic_segmentation(self, outputs, threshold, target_sizes):
        import torch

        h, w = target_sizes[0]
        seg = torch.zeros((h, w), dtype=torch.int32)
        seg[: h // 2] = 1
        seg[h // 2:] = 2
        seg[:5, :5] = 3
        seg[-5:, -5:] = 4
        info = [{"id": 1, "label_id": 0, "score": 0.9}, {"id": 2, "label_id": 1, "score": 0.8},
                {"id": 3, "label_id": 2, "score": 0.7}, {"id": 4, "label_id": 3, "score": 0.6}]
        return [{"segmentation": seg, "segments_info": info}]


def test_learned_segmentation_adapter_maps_ade_labels():
    est = LearnedSegmentation(model=_FakePanoptic(), processor=_FakePanopticProcessor()).estimate(
        np.random.rand(40, 50, 3))
    assert est.ids.shape == (40, 50)
    labels = {s.label: s.kind for s in est.segments}
    # ADE's "chest of drawers" is an asset category of its own (assets_index.categories, the one name table).
    assert labels == {"wall": "stuff", "floor": "stuff", "window": "stuff", "chest of drawers": "thing"}
    assert set(np.unique(est.ids)) == {s.id for s in est.segments}


def test_ade_mapping():
    assert ade_to_project("windowpane, window") == ("window", "stuff")
    assert ade_to_project("sofa") == ("sofa", "thing")
    assert ade_to_project("bicycle") == ("bicycle", "thing")
    assert ade_to_project("blind, screen") == ("blind", "thing")  # synonyms in order: not a screen (television)
    assert ade_to_project("screen door, screen") == ("door", "stuff")
    assert ade_to_project("painting, picture") == ("painting", "thing")
    assert ade_to_project("chandelier, pendant, pendent") == ("ceiling lamp", "thing")
    assert ade_to_project("fireplace, hearth, open fireplace") == ("fireplace", "thing")


def test_missing_weights_fall_back_without_traceback(monkeypatch):
    monkeypatch.setattr(models, "package_available", lambda spec: True)
    monkeypatch.setattr(models, "local_weights", lambda spec, cache_dir=None: None)
    messages: list[str] = []
    cfg = EstimateConfig(download="never")
    assert make_depth_estimator(cfg, messages.append) is None
    assert isinstance(make_segmentation_estimator(cfg, messages.append), ClassicalSegmentation)
    assert len(messages) == 2
    assert all("photo2scene models fetch" in m and "\n" not in m for m in messages)


def test_unreachable_hub_is_a_setup_error(monkeypatch):
    monkeypatch.setattr(models, "local_weights", lambda spec, cache_dir=None: None)

    def offline(*args, **kwargs):
        raise OSError("Network is unreachable")

    import huggingface_hub

    monkeypatch.setattr(huggingface_hub, "snapshot_download", offline)
    with pytest.raises(SetupError, match="models fetch depth"):
        models.fetch(models.MODELS["depth"])


def test_models_cli(monkeypatch, capsys):
    from pipeline.app.cli import main

    assert main(["models", "list"]) == 0
    out = capsys.readouterr().out
    assert all(key in out for key in models.MODELS)
    assert main(["models", "fetch", "nonsense"]) == 2


# --- real transformers architectures, tiny and random (run where transformers is installed) ----------------


def test_tiny_depth_anything():
    pytest.importorskip("transformers")
    import torch
    from transformers import DepthAnythingConfig, DepthAnythingForDepthEstimation, Dinov2Config, DPTImageProcessor

    torch.manual_seed(0)
    backbone = Dinov2Config(hidden_size=32, num_hidden_layers=4, num_attention_heads=2, intermediate_size=64,
                            image_size=56, patch_size=14, out_indices=[1, 2, 3, 4], reshape_hidden_states=False)
    cfg = DepthAnythingConfig(backbone_config=backbone, reassemble_hidden_size=32, neck_hidden_sizes=[8, 16, 16, 16],
                              fusion_hidden_size=16, head_hidden_size=8, depth_estimation_type="metric", max_depth=20)
    model = DepthAnythingForDepthEstimation(cfg)
    proc = DPTImageProcessor(size={"height": 56, "width": 56}, keep_aspect_ratio=False, ensure_multiple_of=14)
    est = LearnedDepth(model=model, processor=proc).estimate(np.random.rand(45, 60, 3))
    assert est.depth.shape == (45, 60) and (est.depth >= 0).all()


def test_tiny_mask2former():
    pytest.importorskip("transformers")
    import torch
    from transformers import (Mask2FormerConfig, Mask2FormerForUniversalSegmentation, Mask2FormerImageProcessor,
                              SwinConfig)

    torch.manual_seed(0)
    swin = SwinConfig(embed_dim=16, depths=[1, 1, 1, 1], num_heads=[1, 1, 1, 1], image_size=64, window_size=4,
                      out_features=["stage1", "stage2", "stage3", "stage4"])
    names = {0: "wall", 1: "floor", 2: "bed"}
    cfg = Mask2FormerConfig(backbone_config=swin, hidden_dim=32, feature_size=32, mask_feature_size=32,
                            encoder_layers=1, decoder_layers=2, num_queries=8, num_labels=3, id2label=names,
                            label2id={v: k for k, v in names.items()}, encoder_feedforward_dim=64,
                            dim_feedforward=64, num_attention_heads=2, use_pretrained_backbone=False)
    model = Mask2FormerForUniversalSegmentation(cfg)
    proc = Mask2FormerImageProcessor(size={"height": 64, "width": 64})
    est = LearnedSegmentation(model=model, processor=proc, min_score=0.0).estimate(np.random.rand(40, 56, 3))
    assert est.ids.shape == (40, 56)
    assert {s.label for s in est.segments} <= {"wall", "floor", "bed"}
