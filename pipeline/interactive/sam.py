"""The slot for a Segment-Anything-style click model, used when its package and weights are on this machine.

Default: SAM ViT-B (Kirillov et al., 2023; `segment_anything`, Apache-2.0, 375 MB checkpoint). The image embedding
is computed once in `prepare`; each click runs only the prompt decoder with every click so far and the previous
mask as a low-resolution prompt. `make_click_backend` returns it when it loads and the offline backend otherwise.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from p2s_common.errors import SetupError

from .types import Click
from .offline import OfflineSegmenter

SAM_URL = "https://dl.fbaipublicfiles.com/segment_anything/sam_vit_b_01ec64.pth"
SAM_ENV = "PHOTO2SCENE_SAM_CHECKPOINT"


def sam_checkpoint_path() -> Path:
    """Where the checkpoint is looked for: $PHOTO2SCENE_SAM_CHECKPOINT, else torch hub's checkpoint folder."""
    env = os.environ.get(SAM_ENV)
    if env:
        return Path(env)
    import torch

    return Path(torch.hub.get_dir()) / "checkpoints" / Path(SAM_URL).name


@dataclass
class SamFeatures:
    """The image embedding and the sizes the predictor needs to decode masks for it."""

    embedding: Any
    original_size: tuple[int, int]
    input_size: tuple[int, int]
    shape: tuple[int, int]


class SamBackend:
    """Clicks -> mask with a SAM-style predictor (segment_anything's SamPredictor interface)."""

    name = "sam"
    full_resolution = True  # masks come back at the photo's resolution: no upsampling, no zoom crops

    def __init__(self, predictor: Any = None, allow_download: bool = False):
        """`predictor`: an object with set_image / predict (tests pass a stand-in); else SAM ViT-B is loaded."""
        self.predictor = predictor if predictor is not None else _load_predictor(allow_download)

    def prepare(self, image: np.ndarray, depth: np.ndarray | None = None) -> SamFeatures:
        rgb = (np.clip(image, 0, 1) * 255 + 0.5).astype(np.uint8)
        self.predictor.set_image(rgb)
        return SamFeatures(getattr(self.predictor, "features", None), tuple(image.shape[:2]),
                           tuple(getattr(self.predictor, "input_size", image.shape[:2])), tuple(image.shape[:2]))

    def predict(self, feat: SamFeatures, clicks: list[Click], prev: np.ndarray | None = None) -> np.ndarray:
        if feat.embedding is not None:  # several images may share one predictor: restore this one's embedding
            self.predictor.features = feat.embedding
            self.predictor.original_size, self.predictor.input_size = feat.original_size, feat.input_size
            self.predictor.is_image_set = True
        coords = np.array([[c.x, c.y] for c in clicks], np.float32)
        labels = np.array([1 if c.positive else 0 for c in clicks], np.int32)
        mask_input = _mask_prompt(prev, feat) if prev is not None and prev.any() else None
        masks, _, _ = self.predictor.predict(point_coords=coords, point_labels=labels, mask_input=mask_input,
                                             multimask_output=False)
        return np.asarray(masks[0], bool)


def _mask_prompt(prev: np.ndarray, feat: SamFeatures) -> np.ndarray:
    """A previous full-resolution mask as SAM's 1x256x256 low-resolution logit prompt (same frame as its input:
    longest side scaled to 1024, padded bottom-right)."""
    from PIL import Image

    h, w = feat.original_size
    scale = 256.0 / max(h, w)
    small = np.asarray(Image.fromarray(prev.astype(np.uint8) * 255).resize(
        (max(1, round(w * scale)), max(1, round(h * scale))), Image.BILINEAR), np.float32) / 255.0
    logits = np.full((256, 256), -8.0, np.float32)
    logits[:small.shape[0], :small.shape[1]] = (small * 2 - 1) * 8.0
    return logits[None]


def _load_predictor(allow_download: bool):
    try:
        from segment_anything import SamPredictor, sam_model_registry  # type: ignore[import-not-found]
    except ImportError as exc:
        raise SetupError("the SAM click backend needs segment_anything (pip install segment-anything)") from exc
    path = sam_checkpoint_path()
    if not path.is_file():
        if not allow_download:
            raise SetupError(f"SAM ViT-B checkpoint not found at {path}; download {SAM_URL} there "
                             f"(375 MB, Apache-2.0) or set ${SAM_ENV}")
        try:
            import torch

            path.parent.mkdir(parents=True, exist_ok=True)
            torch.hub.download_url_to_file(SAM_URL, str(path), progress=False)
        except Exception as exc:  # noqa: BLE001
            raise SetupError(f"could not download the SAM checkpoint ({type(exc).__name__}); fetch {SAM_URL} "
                             f"into {path}") from exc
    sam = sam_model_registry["vit_b"](checkpoint=str(path))
    sam.eval()
    return SamPredictor(sam)


def make_click_backend(kind: str = "auto", log: Callable[[str], None] = print, allow_download: bool = False):
    """`offline`, `sam`, or `auto` (SAM when it loads, else offline, with one line saying why)."""
    if kind == "offline":
        return OfflineSegmenter()
    try:
        return SamBackend(allow_download=allow_download)
    except SetupError as exc:
        if kind == "sam":
            raise
        log(f"clicks: SAM unavailable, using the offline backend ({exc})")
        return OfflineSegmenter()
