"""VGG-19 Gram descriptor of texture (Gatys et al.), as PSDR-Room scores texture crops.

Features: the ReLU outputs of the first convolution of each of VGG-19's five blocks (conv1_1, and conv2_1 ...
conv5_1, i.e. the layer right after each pooling). Each layer's Gram matrix F F^T is divided by the number of
positions (and channels), so the descriptor does not depend on the crop's size; the descriptor is their
concatenation. Inputs are linear RGB crops; they are encoded to sRGB and ImageNet-normalised first.

Weights: torchvision's VGG-19 ImageNet weights when they are on this machine (torch hub cache, or
$PHOTO2SCENE_VGG_WEIGHTS); otherwise `load_vgg(allow_random=True)` builds a randomly initialised network (a fixed
seed) and says so: random convolutions still give texture statistics (Ustyuzhaninov et al. 2017), but weaker
ones. Tests always use random weights.
"""

from __future__ import annotations

import os
from pathlib import Path

from p2s_common.errors import SetupError

WEIGHTS_FILE = "vgg19-dcbb9e9d.pth"  # torchvision's ImageNet VGG-19
WEIGHTS_ENV = "PHOTO2SCENE_VGG_WEIGHTS"
LAYERS = (1, 6, 11, 20, 29)  # indices in vgg19.features of the ReLU after conv1_1, conv2_1, ..., conv5_1
_CACHE: dict = {}


def local_weights() -> Path | None:
    """Path of VGG-19 weights on this machine, or None (never downloads)."""
    env = os.environ.get(WEIGHTS_ENV)
    if env and Path(env).is_file():
        return Path(env)
    import torch.hub

    candidate = Path(torch.hub.get_dir()) / "checkpoints" / WEIGHTS_FILE
    return candidate if candidate.is_file() else None


class GramVGG:
    """Callable: linear RGB images (N, H, W, 3) -> list of per-layer Gram matrices (N, C, C)."""

    def __init__(self, features, source: str):
        import torch

        self.features = features.eval()
        for p in self.features.parameters():
            p.requires_grad_(False)
        self.source = source
        self.mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
        self.std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)

    def grams(self, images):
        import torch

        x = images.permute(0, 3, 1, 2).clamp(min=0.0)
        # sRGB encoding (differentiable; the small linear segment avoids an infinite slope at 0).
        x = torch.where(x <= 0.0031308, 12.92 * x, 1.055 * x.clamp(min=0.0031308) ** (1 / 2.4) - 0.055)
        x = (x.clamp(0.0, 1.0) - self.mean) / self.std
        if min(x.shape[-2:]) < 32:  # conv5_1 needs 4 poolings' worth of pixels
            scale = 32.0 / min(x.shape[-2:])
            x = torch.nn.functional.interpolate(x, scale_factor=scale, mode="bilinear", align_corners=False)
        out = []
        last = max(LAYERS)
        for i, layer in enumerate(self.features):
            x = layer(x)
            if i in LAYERS:
                n, c, h, w = x.shape
                f = x.reshape(n, c, h * w)
                out.append(f @ f.transpose(1, 2) / (c * h * w))
            if i >= last:
                break
        return out

    def descriptor(self, images):
        """Concatenated, flattened Gram matrices (N, D)."""
        import torch

        return torch.cat([g.flatten(1) for g in self.grams(images)], dim=1)

    def loss(self, a, b):
        """Gram loss between two batches of crops (any sizes): sum over layers of the mean squared difference,
        each layer normalised by the target's Gram magnitude so no layer dominates."""
        ga, gb = self.grams(a), self.grams(b)
        total = 0.0
        for x, y in zip(ga, gb):
            total = total + ((x - y) ** 2).mean() / ((y ** 2).mean().detach() + 1e-12)
        return total / len(ga)


def load_vgg(allow_random: bool = True, seed: int = 0) -> GramVGG:
    """VGG-19 features up to conv5_1: pretrained when local weights exist; else random (or SetupError)."""
    key = (allow_random, seed)
    if key in _CACHE:
        return _CACHE[key]
    import torch
    from torchvision.models import vgg19

    path = local_weights()
    model = vgg19(weights=None)
    if path is not None:
        state = torch.load(path, map_location="cpu", weights_only=True)
        model.load_state_dict(state)
        source = f"pretrained ({path.name})"
    elif allow_random:
        source = random_init(model, seed)
    else:
        raise SetupError(f"VGG-19 weights not found: put torchvision's {WEIGHTS_FILE} into "
                         f"{Path(torch.hub.get_dir()) / 'checkpoints'} or set ${WEIGHTS_ENV} to the file")
    features = torch.nn.Sequential(*list(model.features.children())[: max(LAYERS) + 1])
    _CACHE[key] = GramVGG(features, source)
    return _CACHE[key]


def random_init(model, seed: int) -> str:
    """Seeded random convolutions with unit-variance ReLU propagation (so deep layers do not vanish)."""
    import torch

    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.features:
            if isinstance(m, torch.nn.Conv2d):
                fan_in = m.in_channels * m.kernel_size[0] * m.kernel_size[1]
                m.weight.copy_(torch.randn(m.weight.shape, generator=gen) * (2.0 / fan_in) ** 0.5)
                m.bias.zero_()
    return f"random (seed {seed}; no local VGG-19 weights)"
