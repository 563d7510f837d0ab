"""Named base colours (linear Rec.709 RGB) and their material classes for the built-in models."""

from __future__ import annotations

PALETTE: dict[str, tuple[float, float, float]] = {
    "fabric_grey": (0.22, 0.22, 0.23),
    "fabric_light": (0.55, 0.53, 0.5),
    "fabric_dark": (0.05, 0.05, 0.06),
    "fabric_beige": (0.48, 0.38, 0.25),
    "fabric_blue": (0.05, 0.1, 0.25),
    "fabric_green": (0.1, 0.2, 0.1),
    "fabric_mustard": (0.55, 0.33, 0.04),
    "fabric_rust": (0.35, 0.09, 0.04),
    "fabric_white": (0.72, 0.72, 0.7),
    "leather_brown": (0.2, 0.08, 0.03),
    "leather_black": (0.025, 0.022, 0.02),
    "wood_light": (0.52, 0.34, 0.17),
    "wood_mid": (0.27, 0.14, 0.06),
    "wood_dark": (0.08, 0.04, 0.02),
    "wood_white": (0.75, 0.74, 0.7),
    "paint_white": (0.8, 0.8, 0.78),
    "paint_grey": (0.3, 0.31, 0.32),
    "paint_green": (0.12, 0.2, 0.15),
    "paint_blue": (0.06, 0.13, 0.25),
    "metal_black": (0.03, 0.03, 0.03),
    "metal_steel": (0.45, 0.45, 0.46),
    "brass": (0.6, 0.38, 0.12),
    "plastic_black": (0.02, 0.02, 0.02),
    "ceramic_white": (0.75, 0.74, 0.7),
    "terracotta": (0.45, 0.15, 0.06),
    "concrete": (0.35, 0.34, 0.32),
    "soil": (0.05, 0.03, 0.02),
    "foliage": (0.04, 0.18, 0.03),
    "foliage_dark": (0.02, 0.09, 0.02),
    "lampshade": (0.8, 0.75, 0.62),
    "rug_red": (0.3, 0.05, 0.04),
    "rug_beige": (0.5, 0.42, 0.3),
    "rug_grey": (0.25, 0.25, 0.25),
    "rug_blue": (0.08, 0.12, 0.3),
    "canvas_blue": (0.1, 0.25, 0.45),
    "canvas_warm": (0.7, 0.35, 0.12),
    "mirror": (0.9, 0.9, 0.9),
    "screen": (0.01, 0.01, 0.012),
    "linen_white": (0.8, 0.79, 0.76),
    "fabric_teal": (0.03, 0.18, 0.18),
    "fabric_pink": (0.6, 0.3, 0.3),
    "velvet_navy": (0.02, 0.03, 0.1),
    "wood_walnut": (0.15, 0.07, 0.03),
    "rattan": (0.5, 0.33, 0.15),
    "glass_clear": (0.7, 0.75, 0.75),
    "glass_opal": (0.85, 0.85, 0.82),
    "marble": (0.78, 0.77, 0.74),
    "gold": (0.72, 0.5, 0.18),
    "rug_green": (0.1, 0.2, 0.12),
    "ceramic_blue": (0.1, 0.2, 0.45),
    "ceramic_green": (0.2, 0.3, 0.2),
    "paper_white": (0.85, 0.85, 0.82),
}


def color(name: str, brighten: float = 1.0) -> tuple[float, float, float]:
    """A palette colour, optionally scaled (cushions a shade lighter than their frame)."""
    r, g, b = PALETTE[name]
    return (min(r * brighten, 1.0), min(g * brighten, 1.0), min(b * brighten, 1.0))
