"""Appearance in shape retrieval: how well a candidate's own colours explain the photo's pixels of the object.

Two models of one pack often share their shape and differ in colour (a KayKit bed with a blue or a grey blanket,
a chair in paint or bare wood): the silhouette cannot tell them apart, the photo can. The candidate is rendered
at its fitted pose with each face's own base colour (`albedo_image`), and compared with the photo where both
see the object. The comparison must not depend on the lighting, which the photo has and the base colours do
not: chromaticity (the colour without its brightness) and the pattern of light and dark parts (log luminance
less its median), each a mean absolute difference.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import minimum_filter

from pipeline.render.silhouettes import albedo_image

# Rec.709 luminance of linear RGB.
LUMA = np.array([0.2126, 0.7152, 0.0722])
# Fewer pixels than this say nothing about colour: a candidate sharing fewer with the photo is scored as the
# worst colour match, and a part seen on fewer starts from no photo colour (objects/stage.part_photo_colours).
MIN_PIXELS = 12
WORST = 1.0
SHADE_FLOOR = 0.1  # relative brightness added before the logarithm (a tenth of the object's median)


def merged_face_colors(parts: dict, colors: dict[str, tuple]) -> np.ndarray:
    """(F, 3) face colours of all parts, in `merged_mesh`'s face order; `colors` are the index's part colours,
    used where a part's file has no colour of its own."""
    from assets_index.meshutil import face_colors

    return np.vstack([face_colors(mesh, colors.get(name, (0.6, 0.6, 0.6))) for name, mesh in parts.items()])


def appearance_distance(photo: np.ndarray, albedo: np.ndarray, mask: np.ndarray) -> float:
    """Lighting-free colour distance (0 = same colours in the same places) between the photo (linear RGB) and a
    rendered albedo image, over the object's pixels (`mask` > 0.5) that the render covers fully (its inside,
    not its anti-aliased rim); `WORST` when they share fewer than `MIN_PIXELS`."""
    seen = minimum_filter(albedo.sum(axis=-1) > 1e-4, size=3, mode="constant")  # fully inside the render
    both = seen & (mask > 0.5)
    if both.sum() < MIN_PIXELS:
        return WORST
    p = np.maximum(photo[both].astype(float), 1e-6)
    a = np.maximum(albedo[both].astype(float), 1e-6)
    # Brightness relative to the object's median: the light's level and the albedo's scale drop out. A floor
    # under the logarithm keeps a real photo's near-black pixels (shadow, sensor noise) from dominating.
    lp, la = p @ LUMA, a @ LUMA
    lp, la = lp / max(float(np.median(lp)), 1e-6), la / max(float(np.median(la)), 1e-6)
    shade = np.minimum(np.abs(np.log(lp + SHADE_FLOOR) - np.log(la + SHADE_FLOOR)), 2.0)
    # A dark pixel's chromaticity is mostly noise: each pixel's colour counts by its brightness (up to the median).
    chroma = np.abs(p / p.sum(-1, keepdims=True) - a / a.sum(-1, keepdims=True)).sum(-1)
    weight = np.minimum(lp, 1.0)
    chroma_mean = float((chroma * weight).sum() / max(float(weight.sum()), 1e-6))
    return float(min(WORST, chroma_mean + 0.25 * shade.mean()))


def appearance_of(target, camera, photo: np.ndarray, mask: np.ndarray, spp: int) -> float:
    """`appearance_distance` of a posed candidate (`target.mesh`, `target.face_colors`, `target.pose`) against
    the photo at the resolution of `photo`."""
    h, w = photo.shape[:2]
    albedo = albedo_image(camera, target.mesh, target.face_colors, target.pose, w, h, spp)
    return appearance_distance(photo, albedo, mask)
