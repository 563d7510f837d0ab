"""Material thumbnails: a flat swatch (base colour) and a lit preview (the maps shaded under one light).

The lit preview is a small torch shading of the twin's maps (Lambert + GGX specular with the normal map, one
directional light from the upper left, sRGB out): it shows relief, gloss and metal at a glance; it is not a
Cycles render.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch


def default_dir() -> Path:
    return Path(__file__).parent / "thumbnails"


def to_srgb(x: torch.Tensor) -> torch.Tensor:
    x = x.clamp(0.0, 1.0)
    return torch.where(x <= 0.0031308, 12.92 * x, 1.055 * x.clamp(min=1e-8) ** (1 / 2.4) - 0.055)


def lit_preview(maps: dict[str, torch.Tensor]) -> torch.Tensor:
    """Shade texture maps (H, W) under a directional light; returns linear RGB (H, W, 3)."""
    n = torch.nn.functional.normalize(maps["normal"].float(), dim=-1)
    base, rough, metal = maps["base_color"].float(), maps["roughness"].float(), maps["metallic"].float()
    l = torch.nn.functional.normalize(torch.tensor([-0.5, 0.6, 0.65]), dim=0)
    v = torch.tensor([0.0, 0.0, 1.0])
    h = torch.nn.functional.normalize(l + v, dim=0)
    ndl = (n @ l).clamp(min=0.0)
    ndh = (n @ h).clamp(min=0.0)
    a2 = (rough.clamp(min=0.03) ** 2) ** 2
    d = a2 / (math.pi * (ndh * ndh * (a2 - 1.0) + 1.0) ** 2)
    f0 = 0.04 * (1 - metal)[..., None] + base * metal[..., None]
    spec = f0 * (d * 0.25)[..., None]
    diff = base * (1 - metal)[..., None] / math.pi
    light = 3.0
    ambient = 0.25 * (base * (1 - metal)[..., None] + f0 * 0.5)
    return (diff + spec) * (ndl[..., None] * light) + ambient


def render_thumbnails(name: str, out_dir: Path, size: int = 96) -> tuple[Path, Path]:
    """Write <name>_flat.jpg and <name>_lit.jpg (size x size) and return their paths."""
    from PIL import Image

    from . import evaluate, load_graph

    with torch.no_grad():
        maps = evaluate(load_graph(name), None, size)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for kind, img in (("flat", maps["base_color"]), ("lit", lit_preview(maps))):
        arr = (to_srgb(img).numpy() * 255.0 + 0.5).astype(np.uint8)
        p = out_dir / f"{name}_{kind}.jpg"
        Image.fromarray(arr).save(p, quality=90)
        paths.append(p)
    return paths[0], paths[1]
