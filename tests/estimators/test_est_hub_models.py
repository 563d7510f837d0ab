"""The learned estimators as a networked user meets them: the default depth and panoptic models at full size,
randomly initialised, saved in exactly the hub cache's on-disk layout (models--org--name/refs/main and
snapshots/<revision>/ with config.json, model.safetensors, the processor's and tokenizer's files; OneFormer's
class-info file in its own dataset repository), then found, loaded and run through the real code
(`make_depth_estimator` / `make_segmentation_estimator` with downloads off). Shapes, preprocessing, label mapping
and post-processing are exercised; only the weights are random. No network, no real weights.

The configurations follow the published checkpoints (Depth Anything V2 Metric Indoor Small: DINOv2-S backbone,
metric head, max depth 20 m; OneFormer Swin-T ADE20K: 150 classes, the model's defaults)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from pipeline.estimators.config import EstimateConfig
from pipeline.estimators import models

transformers = pytest.importorskip("transformers")
torch = pytest.importorskip("torch")

REVISION = "1" * 40

# ADE20K-150 class names in the order of the dataset's label ids (first synonym of each).
ADE20K_150 = (
    "wall building sky floor tree ceiling road bed windowpane grass cabinet sidewalk person earth door table "
    "mountain plant curtain chair car water painting sofa shelf house sea mirror rug field armchair seat fence desk "
    "rock wardrobe lamp bathtub railing cushion base box column signboard chest_of_drawers counter sand sink "
    "skyscraper fireplace refrigerator grandstand path stairs runway case pool_table pillow screen_door stairway "
    "river bridge bookcase blind coffee_table toilet flower book hill bench countertop stove palm kitchen_island "
    "computer swivel_chair boat bar arcade_machine hovel bus towel light truck tower chandelier awning streetlight "
    "booth television_receiver airplane dirt_track apparel pole land bannister escalator ottoman bottle buffet "
    "poster stage van ship fountain conveyer_belt canopy washer plaything swimming_pool stool barrel basket "
    "waterfall tent bag minibike cradle oven ball food step tank trade_name microwave pot animal bicycle lake "
    "dishwasher screen blanket sculpture hood sconce vase traffic_light tray ashcan fan pier crt_screen plate "
    "monitor bulletin_board shower radiator glass clock flag").replace("_", "~").split()
ADE20K_150 = tuple(n.replace("~", " ") for n in ADE20K_150)


def _hub_folder(cache: Path, repo: str, kind: str = "models") -> Path:
    """snapshots/<revision>/ of `repo` in the hub cache layout, with refs/main pointing at it."""
    root = cache / f"{kind}--{repo.replace('/', '--')}"
    snapshot = root / "snapshots" / REVISION
    snapshot.mkdir(parents=True)
    (root / "refs").mkdir()
    (root / "refs" / "main").write_text(REVISION)
    return snapshot


def _save_depth_anything(folder: Path) -> None:
    from transformers import DepthAnythingConfig, DepthAnythingForDepthEstimation, Dinov2Config, DPTImageProcessor

    backbone = Dinov2Config(hidden_size=384, num_hidden_layers=12, num_attention_heads=6, mlp_ratio=4,
                            patch_size=14, image_size=518, out_indices=[3, 6, 9, 12], apply_layernorm=True,
                            reshape_hidden_states=False, layerscale_value=1.0)
    cfg = DepthAnythingConfig(backbone_config=backbone, reassemble_hidden_size=384, patch_size=14,
                              fusion_hidden_size=64, neck_hidden_sizes=[48, 96, 192, 384], head_hidden_size=32,
                              depth_estimation_type="metric", max_depth=20)
    DepthAnythingForDepthEstimation(cfg).save_pretrained(folder)
    DPTImageProcessor(do_resize=True, size={"height": 518, "width": 518}, ensure_multiple_of=14,
                      keep_aspect_ratio=True, do_rescale=True, do_normalize=True, resample=3,
                      image_mean=[0.485, 0.456, 0.406], image_std=[0.229, 0.224, 0.225]).save_pretrained(folder)


def _save_clip_tokenizer(folder: Path) -> None:
    """CLIP's byte-level BPE (the vocabulary open_clip ships) as the hub's vocab.json + merges.txt."""
    from open_clip.tokenizer import SimpleTokenizer
    from transformers import CLIPTokenizer

    bpe = SimpleTokenizer()
    (folder / "vocab.json").write_text(json.dumps(bpe.encoder), encoding="utf-8")
    merges = sorted(bpe.bpe_ranks, key=bpe.bpe_ranks.get)
    (folder / "merges.txt").write_text("#version: 0.2\n" + "\n".join(" ".join(m) for m in merges) + "\n",
                                       encoding="utf-8")
    CLIPTokenizer(str(folder / "vocab.json"), str(folder / "merges.txt")).save_pretrained(folder)


def _save_oneformer(folder: Path, class_info: Path) -> None:
    from transformers import OneFormerConfig, OneFormerForUniversalSegmentation, OneFormerImageProcessor

    id2label = dict(enumerate(ADE20K_150))
    cfg = OneFormerConfig(id2label=id2label, label2id={v: k for k, v in id2label.items()})
    model = OneFormerForUniversalSegmentation(cfg)
    with torch.no_grad():  # prediction heads drawn at unit scale: at the default scale no mask passes 0.5
        for name, param in model.named_parameters():
            if "mask_embed" in name or "class_embed" in name:
                param.normal_(0.0, 1.0)
    model.save_pretrained(folder)
    _save_clip_tokenizer(folder)
    OneFormerImageProcessor(repo_path=str(class_info.parent), class_info_file=class_info.name, num_text=134,
                            num_labels=150, ignore_index=255,
                            size={"shortest_edge": 512, "longest_edge": 2048}).save_pretrained(folder)
    # As published (saved before processors had one file): preprocessor_config.json names the class-info file's
    # own repository, not a local folder.
    config = folder / "preprocessor_config.json"
    data = json.loads(config.read_text())
    data.update(repo_path="shi-labs/oneformer_demo", class_info_file="ade20k_panoptic.json")
    config.write_text(json.dumps(data, indent=2))


@pytest.fixture(scope="module")
def hub_cache(tmp_path_factory) -> Path:
    """A hub cache holding the default depth and panoptic models (random weights) and OneFormer's class info."""
    torch.manual_seed(0)
    cache = tmp_path_factory.mktemp("hub")
    info_folder = _hub_folder(cache, "shi-labs/oneformer_demo", "datasets")
    stuff = {"wall", "floor", "ceiling", "sky", "road", "grass", "earth", "mountain", "water", "sea", "field"}
    (info_folder / "ade20k_panoptic.json").write_text(json.dumps(
        {str(i): {"name": n, "isthing": int(n not in stuff), "color": [i, i, i]} for i, n in enumerate(ADE20K_150)}))
    _save_depth_anything(_hub_folder(cache, models.MODELS["depth"].source[3:]))
    _save_oneformer(_hub_folder(cache, models.MODELS["panoptic"].source[3:]), info_folder / "ade20k_panoptic.json")
    return cache


def _config(cache: Path) -> EstimateConfig:
    return EstimateConfig(depth="learned", segmentation="learned", download="never", cache_dir=str(cache))


def test_models_found_in_the_hub_cache(hub_cache):
    for key in ("depth", "panoptic"):
        found = models.local_weights(models.MODELS[key], str(hub_cache))
        assert found is not None and Path(found, "model.safetensors").is_file(), key
    assert models.extra_file(models.MODELS["panoptic"], "ade20k_panoptic.json", str(hub_cache))


def test_panoptic_weights_without_class_info_are_not_usable(hub_cache, tmp_path):
    """Weights whose class-info file was never fetched count as missing: loading would reach for the network."""
    import shutil

    partial = tmp_path / "hub"
    shutil.copytree(hub_cache / "models--shi-labs--oneformer_ade20k_swin_tiny",
                    partial / "models--shi-labs--oneformer_ade20k_swin_tiny", symlinks=True)
    assert models.local_weights(models.MODELS["panoptic"], str(partial)) is None
    with pytest.raises(models.SetupError, match="models fetch panoptic"):
        models.require(models.MODELS["panoptic"], allow_download=False, cache_dir=str(partial))


def test_learned_depth_through_the_real_loader(hub_cache):
    from pipeline.estimators.depth import LearnedDepth, make_depth_estimator

    messages: list[str] = []
    est = make_depth_estimator(_config(hub_cache), log=messages.append)
    assert isinstance(est, LearnedDepth), messages
    image = np.random.default_rng(0).random((240, 320, 3)).astype(np.float32)
    depth = est.estimate(image)
    assert depth.depth.shape == (240, 320) and depth.depth.dtype == np.float32
    assert np.isfinite(depth.depth).all() and (depth.depth >= 0).all() and depth.metric
    # The processor as saved: the aspect ratio kept, 518 px on one side, both sides multiples of 14.
    inputs = est.processor(images=(image * 255).astype(np.uint8), return_tensors="pt")
    h, w = inputs["pixel_values"].shape[-2:]
    assert h % 14 == 0 and w % 14 == 0 and 518 in (h, w) and abs(w / h - 320 / 240) < 0.05


def test_learned_panoptic_through_the_real_loader(hub_cache):
    from pipeline.estimators.segmentation import LearnedSegmentation, make_segmentation_estimator

    messages: list[str] = []
    est = make_segmentation_estimator(_config(hub_cache), log=messages.append)
    assert isinstance(est, LearnedSegmentation), messages
    assert est.processor.image_processor.metadata["class_names"][:2] == ["wall", "building"]
    est.min_score = 0.0  # random weights score low: keep every segment so post-processing and labels run
    image = np.random.default_rng(1).random((120, 160, 3)).astype(np.float32)
    seg = est.estimate(image)
    assert seg.ids.shape == (120, 160) and seg.segments, "post-processing kept no segment"
    assert set(np.unique(seg.ids)) <= {0} | {s.id for s in seg.segments}
    from pipeline.estimators.labels import ade_to_project

    vocabulary = {ade_to_project(n) for n in ADE20K_150}
    assert all((s.label, s.kind) in vocabulary for s in seg.segments)
