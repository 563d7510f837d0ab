"""Unsupervised region proposals without pretrained weights: a small CNN trained on the photo alone.

After Kim, Kanezaki and Tanaka (IEEE TIP 2020, "Unsupervised learning of image segmentation based on
differentiable feature clustering"): a few conv layers map the image to a C-channel response; its argmax is the
pseudo-label; the loss is cross-entropy against those pseudo-labels (feature similarity) plus the L1 of the
response's horizontal and vertical differences (spatial continuity). Clusters merge as training goes on; we stop
at `min_clusters` or after `iterations`. Connected components of the clusters, with small ones merged into the
neighbour they share most boundary with, are the proposals. The response map doubles as per-pixel features.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from pipeline.core.resample import resize_area, resize_nearest, working_shape
from .config import RegionsConfig


@dataclass
class Regions:
    """Region proposals at the input image's resolution."""

    ids: np.ndarray  # HxW int32, 1..n (every pixel belongs to a region)
    features: np.ndarray  # HxWxC float32, L2-normalised response of the network
    clusters: int  # clusters left when training stopped
    seconds: float


def _network(in_ch: int, channels: int, layers: int = 2):
    import torch.nn as nn

    mods: list = []
    c = in_ch
    for _ in range(layers):
        mods += [nn.Conv2d(c, channels, 3, padding=1), nn.ReLU(inplace=True), nn.BatchNorm2d(channels)]
        c = channels
    mods += [nn.Conv2d(channels, channels, 1), nn.BatchNorm2d(channels)]
    return nn.Sequential(*mods)


def unsupervised_regions(image: np.ndarray, config: RegionsConfig | None = None, seed: int = 0) -> Regions:
    """Train the network on `image` (HxWx3 sRGB in [0,1]) and return region proposals at its resolution."""
    import torch
    import torch.nn.functional as F

    cfg = config or RegionsConfig()
    start = time.perf_counter()
    h0, w0 = image.shape[:2]
    size = working_shape(w0, h0, cfg.size)
    small = resize_area(image.astype(np.float32), size)
    x = (small - small.reshape(-1, 3).mean(0)) / (small.reshape(-1, 3).std(0) + 1e-6)
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)  # layer initialisation draws from the global generator
    net = _network(3, cfg.channels)
    for m in net.modules():  # deterministic re-initialisation from our own generator
        if isinstance(m, torch.nn.Conv2d):
            with torch.no_grad():
                m.weight.normal_(0, (2.0 / (m.in_channels * m.kernel_size[0] * m.kernel_size[1])) ** 0.5,
                                 generator=g)
                m.bias.zero_()
    inp = torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1)))[None].float()
    opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    clusters = cfg.channels
    net.train()
    for _ in range(cfg.iterations):
        opt.zero_grad()
        out = net(inp)[0]  # C x h x w
        target = out.argmax(0).detach()
        clusters = int(target.unique().numel())
        sim = F.cross_entropy(out[None], target[None])
        cont = (out[:, 1:, :] - out[:, :-1, :]).abs().mean() + (out[:, :, 1:] - out[:, :, :-1]).abs().mean()
        loss = sim + cfg.continuity * cont
        loss.backward()
        opt.step()
        if clusters <= cfg.min_clusters:
            break
    net.eval()
    with torch.no_grad():
        out = net(inp)[0]
        labels = out.argmax(0).numpy().astype(np.int32)
        feats = F.normalize(out, dim=0).numpy().transpose(1, 2, 0).astype(np.float32)
    ids = _components(labels, cfg.min_area)
    ids = resize_nearest(ids, (w0, h0))
    feats = resize_area(feats, (w0, h0))
    return Regions(ids, feats, clusters, time.perf_counter() - start)


def _components(labels: np.ndarray, min_area: float) -> np.ndarray:
    """Connected components of each cluster, small ones merged into their best-connected neighbour."""
    ids = np.zeros(labels.shape, np.int32)
    n = 0
    for c in np.unique(labels):
        comp, k = ndimage.label(labels == c)
        ids[comp > 0] = comp[comp > 0] + n
        n += k
    min_px = max(4, int(min_area * labels.size))
    for _ in range(4):  # merging can leave a small region next to another small one: a few passes settle it
        sizes = np.bincount(ids.ravel(), minlength=n + 1)
        small = [i for i in np.argsort(sizes) if 0 < sizes[i] < min_px]
        if not small:
            break
        for i in small:
            piece = ids == i
            if not piece.any():
                continue
            ring = ndimage.binary_dilation(piece) & ~piece
            neighbours, counts = np.unique(ids[ring], return_counts=True)
            if len(neighbours):
                ids[piece] = neighbours[np.argmax(counts)]
    _, ids = np.unique(ids, return_inverse=True)
    return ids.reshape(labels.shape).astype(np.int32) + 1
