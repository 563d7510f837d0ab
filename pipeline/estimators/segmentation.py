"""Panoptic segmentation with ADE20K-style labels: backends `provided`, `learned` (OneFormer ADE20K), `classical`.

The classical backend has no names to give things: it proposes regions (pipeline.estimators.regions) and names
floor, ceiling and walls from the camera's horizon (pipeline.estimators.labels); the other proposals are kept for
the user to label with clicks.
"""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import Callable

import numpy as np
from scipy import ndimage

from blender_addon.scene_format import PROPOSAL_LABEL
from p2s_common.errors import InputError, SetupError

from .base import CameraEstimate, SegmentationEstimate, SegmentInfo
from .config import EstimateConfig, RegionsConfig
from .labels import ade_to_project, layout_labels
from .layout import FACES, estimate_layout, snap_to_regions
from .models import MODELS, extra_file, require
from pipeline.core.resample import resize_nearest
from .regions import unsupervised_regions

Log = Callable[[str], None]


class ProvidedSegmentation:
    """segmentation.png + segments.json from a folder of estimates (case format)."""

    name = "provided"

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        for f in ("segmentation.png", "segments.json"):
            if not (self.folder / f).is_file():
                raise InputError(f"segmentation backend 'provided' needs {self.folder / f}")

    def estimate(self, image: np.ndarray, camera: CameraEstimate | None = None) -> SegmentationEstimate:
        from PIL import Image

        with Image.open(self.folder / "segmentation.png") as im:
            ids = np.asarray(im).astype(np.int32)
        h, w = image.shape[:2]
        if ids.shape != (h, w):
            ids = resize_nearest(ids, (w, h))
        infos = [SegmentInfo(int(s["id"]), str(s["label"]), str(s.get("kind", "thing")))
                 for s in json.loads((self.folder / "segments.json").read_text())]
        return SegmentationEstimate(ids, infos, f"provided ({self.folder})")


class LearnedSegmentation:
    """A Hugging Face universal/panoptic segmentation model (default OneFormer Swin-T on ADE20K)."""

    name = "learned"

    def __init__(self, allow_download: bool = True, cache_dir: str | None = None, model=None, processor=None,
                 min_score: float = 0.5):
        """`model`/`processor`: already built transformers objects (tests build tiny random ones)."""
        if model is None:
            spec = MODELS["panoptic"]
            path = require(spec, allow_download, cache_dir)
            from transformers import OneFormerForUniversalSegmentation, OneFormerProcessor

            # The class names come from the copy fetched with the weights (`require` checked it is here): left to
            # itself the processor would look in the default cache or the network, whatever cache_dir says.
            info = Path(extra_file(spec, "ade20k_panoptic.json", cache_dir))
            processor = OneFormerProcessor.from_pretrained(path, repo_path=str(info.parent),
                                                           class_info_file=info.name)
            model = OneFormerForUniversalSegmentation.from_pretrained(path)
        self.model = model.eval()
        self.processor = processor
        self.min_score = min_score

    def estimate(self, image: np.ndarray, camera: CameraEstimate | None = None) -> SegmentationEstimate:
        import torch

        h, w = image.shape[:2]
        rgb = (np.clip(image, 0, 1) * 255 + 0.5).astype(np.uint8)
        kwargs = {"images": rgb, "return_tensors": "pt"}
        if "task_inputs" in inspect.signature(self.processor.__call__).parameters:
            kwargs["task_inputs"] = ["panoptic"]  # OneFormer is one model for several tasks
        inputs = self.processor(**kwargs)
        with torch.no_grad():
            outputs = self.model(**inputs)
        result = self.processor.post_process_panoptic_segmentation(
            outputs, threshold=self.min_score, target_sizes=[(h, w)])[0]
        raw = result["segmentation"].cpu().numpy().astype(np.int32)
        id2label = self.model.config.id2label
        ids = np.zeros((h, w), np.int32)
        infos: list[SegmentInfo] = []
        for seg in result["segments_info"]:
            mask = raw == int(seg["id"])
            if not mask.any():
                continue
            label, kind = ade_to_project(str(id2label.get(int(seg["label_id"]), seg["label_id"])))
            sid = len(infos) + 1
            ids[mask] = sid
            infos.append(SegmentInfo(sid, label, kind, round(float(seg.get("score", 1.0)), 3)))
        return SegmentationEstimate(ids, infos, "learned (OneFormer Swin-T ADE20K)")


class ClassicalSegmentation:
    """Unsupervised region proposals + layout names (floor, ceiling, walls) from the camera's horizon."""

    name = "classical"

    def __init__(self, regions: RegionsConfig | None = None, seed: int = 0):
        self.regions = regions or RegionsConfig()
        self.seed = seed

    def estimate(self, image: np.ndarray, camera: CameraEstimate | None = None) -> SegmentationEstimate:
        reg = unsupervised_regions(image, self.regions, self.seed)
        cam = camera or CameraEstimate(55.0, 0.0, 0.0, 0.0, "prior")
        if "directions" in cam.details and "f_px" in cam.details:  # a Manhattan frame: the box layout
            ids, infos, proposals, depth = box_layout_labels(image, reg.ids, cam)
            return SegmentationEstimate(ids, infos, "classical (unsupervised regions + box layout)", reg.features,
                                        proposals, depth)
        ids, infos, proposals = layout_labels(reg.ids, cam)
        return SegmentationEstimate(ids, infos, "classical (unsupervised regions + horizon layout)", reg.features,
                                    proposals)


def box_layout_labels(image: np.ndarray, regions: np.ndarray, camera: CameraEstimate
                      ) -> tuple[np.ndarray, list[SegmentInfo], np.ndarray, np.ndarray]:
    """Floor, ceiling and one segment per visible wall from the box layout (estimators.layout), snapped to the
    unsupervised regions, plus floor-standing furniture proposals; the other regions the box does not explain are
    returned as proposals (0 elsewhere); and the box's relative depth on the room surfaces (0 elsewhere)."""
    d = camera.details
    lay = estimate_layout(image, float(d["f_px"]), np.asarray(d["directions"], float), int(d["up_index"]))
    faces, clutter = snap_to_regions(lay.faces, regions, image=image)
    ids = np.zeros(faces.shape, np.int32)
    infos: list[SegmentInfo] = []
    score = round(float(np.clip(0.5 * lay.line_support + 0.5 * lay.orientation, 0.0, 1.0)), 3)
    for k, face in enumerate(FACES):
        mask = (faces == k) & ~clutter
        if mask.sum() < 0.005 * mask.size:
            continue
        infos.append(SegmentInfo(len(infos) + 1, face.split()[0], "stuff", score))
        ids[mask] = infos[-1].id
    if not any(i.label == "floor" for i in infos):  # the room stage needs a floor: the box's, clutter or not
        infos.append(SegmentInfo(len(infos) + 1, "floor", "stuff", 0.2))
        ids[faces == 0] = infos[-1].id
    for mask in furniture_proposals(clutter & (ids == 0), faces, regions):
        infos.append(SegmentInfo(len(infos) + 1, PROPOSAL_LABEL, "thing", 0.3))
        ids[mask] = infos[-1].id
    proposals = np.where(clutter & (ids == 0), regions, 0)
    room = np.isin(ids, [i.id for i in infos if i.kind == "stuff"])
    return ids, infos, proposals, np.where(room, lay.depth, 0.0).astype(np.float32)


def furniture_proposals(clutter: np.ndarray, faces: np.ndarray, regions: np.ndarray | None = None,
                        min_area: float = 0.01, max_area: float = 0.5, most: int = 4) -> list[np.ndarray]:
    """Floor-standing pieces of what the box does not explain: connected parts of `clutter` (split by `regions`
    when larger than `max_area`) between `min_area`
    and `max_area` of the image whose lower edge rests on the box's floor (or the photo's bottom edge below a
    floor), clear of the top edge; the `most` largest, as masks. They become unnamed things (PROPOSAL_LABEL)
    that the object stage retrieves and poses as cuboid-like furniture for the artist to confirm."""
    comp, n = ndimage.label(clutter)
    floor = faces == FACES.index("floor")
    floor_bottom = floor[-1].mean() > 0.3
    pieces = []
    for i in range(1, n + 1):
        mask = comp == i
        if mask.mean() > max_area and regions is not None:  # several pieces touching: one per region
            pieces += [mask & (regions == r) for r in np.unique(regions[mask])]
        else:
            pieces.append(mask)
    out = []
    for mask in pieces:
        area = mask.mean()
        if not min_area <= area <= max_area or mask[0].any():
            continue
        below = np.zeros_like(mask)
        below[3:] = mask[:-3]  # the pixels 3 rows under the part
        rests = (below & ~mask & floor).sum() >= 0.05 * mask.any(0).sum() or (mask[-1].any() and floor_bottom)
        if rests:
            out.append(mask)
    return sorted(out, key=lambda m: -int(m.sum()))[:most]


def make_segmentation_estimator(config: EstimateConfig, log: Log = print):
    """The segmentation backend the config asks for; `auto` and `learned` fall back to classical."""
    choice = config.segmentation.lower()
    classical = ClassicalSegmentation(config.regions, config.seed)
    if choice == "classical":
        return classical
    if choice == "provided":
        if not config.provided:
            raise InputError("segmentation backend 'provided' needs --provided FOLDER")
        return ProvidedSegmentation(config.provided)
    if choice not in ("auto", "learned"):
        raise InputError(f"unknown segmentation backend {config.segmentation!r}; "
                         "choose auto, learned, classical or provided")
    try:
        return LearnedSegmentation(allow_download=config.download != "never", cache_dir=config.cache_dir or None)
    except SetupError as exc:
        log(f"segmentation: learned backend unavailable, using unsupervised regions ({exc})")
    except Exception as exc:  # noqa: BLE001 - a broken third-party install must not stop the estimate
        log(f"segmentation: learned backend failed to load ({type(exc).__name__}: {exc}); using regions")
    return classical
