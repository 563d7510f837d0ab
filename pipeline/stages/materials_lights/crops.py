"""Crop pairs (PSDR-Room 4.4): where a material is seen both in the photo and in the render.

A material's region is where the render shows one of its surfaces *and* the photo's segmentation agrees (the
object's segment for object parts, the surface label for room faces). Crops are the largest axis-aligned
rectangles inside the region, taken greedily (each one removed before the next), several per material when the
region allows; the same window is used on the photo and on the render. A JSON file of user crop pairs replaces the
automatic crops of the materials it names:

    {"crops": [{"material": "sofa_1.frame", "photo": [x, y, w, h], "render": [x, y, w, h],
                "size": [W, H]}]}

`object` + `part` may stand for `material`; `render` defaults to `photo`; `size` is the image size the windows
are given in (default: the working resolution) and windows are rescaled from it. Instead of windows, an item may
give a click on the photo, `{"material": ..., "click": [x, y], "level": "texture"|"subtexture"}`: the material
selector (`pipeline.matselect`) masks every pixel of the clicked material, and crops are placed inside that mask
(within the material's region when the render shows it there).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from p2s_common.errors import InputError

from pipeline.core.case import Case
from pipeline.core.scene import Scene, face_kind
from pipeline.render.scene_render import Surface, _shape_key
from pipeline.matselect import select


@dataclass
class CropPair:
    material: str
    photo: tuple[int, int, int, int]  # x, y, w, h at working resolution
    render: tuple[int, int, int, int]
    source: str = "auto"  # auto | user


def material_regions(ids: np.ndarray, surfaces: list[Surface], shape_names: list[str], scene: Scene,
                     case: Case) -> dict[str, np.ndarray]:
    """Per material, the pixels (working resolution) where the render shows it and the segmentation agrees.

    `ids` is the shape-index AOV (index into `shape_names` + 1, 0 = nothing)."""
    by_key = {_shape_key(s.name): s for s in surfaces}
    seg_of = {o.name: o.segment_id for o in scene.objects}
    label_of = {s.id: s.label for s in case.segments}
    labels = np.vectorize(lambda i: label_of.get(int(i), ""), otypes=[object])(case.segmentation)
    regions: dict[str, np.ndarray] = {}
    index = np.rint(ids).astype(int) - 1
    for k, name in enumerate(shape_names):
        s = by_key.get(name)
        if s is None or not s.material:
            continue
        shown = index == k
        if not shown.any():
            continue
        if s.part:  # object part: the object's own segment
            agree = case.segmentation == seg_of.get(s.owner, -1)
        else:
            agree = labels == face_kind(s.owner)
        m = shown & agree
        regions[s.material] = regions.get(s.material, np.zeros_like(m)) | m
    return regions


def largest_rectangle(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    """Largest-area axis-aligned rectangle of True pixels (x, y, w, h): histogram stack per row, O(H W) over the
    mask's bounding box."""
    rows, cols = np.nonzero(mask.any(axis=1))[0], np.nonzero(mask.any(axis=0))[0]
    if len(rows) == 0:
        return None
    r0, c0 = rows[0], cols[0]
    found = _largest_rectangle(mask[r0:rows[-1] + 1, c0:cols[-1] + 1])
    if found is None:
        return None
    x, y, w, h = found
    return (int(x + c0), int(y + r0), int(w), int(h))


def _largest_rectangle(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    h, w = mask.shape
    heights = np.zeros(w, int)
    best, best_area = None, 0
    for row in range(h):
        heights = np.where(mask[row], heights + 1, 0)
        stack: list[int] = []
        for col in range(w + 1):
            cur = heights[col] if col < w else 0
            while stack and heights[stack[-1]] >= cur:
                top = stack.pop()
                height = heights[top]
                left = stack[-1] + 1 if stack else 0
                area = height * (col - left)
                if area > best_area:
                    best_area, best = area, (left, row - height + 1, col - left, int(height))
            stack.append(col)
    return best


def crop_windows(mask: np.ndarray, count: int, min_side: int, max_side: int = 96) -> list[tuple[int, int, int, int]]:
    """Up to `count` non-overlapping rectangles with both sides >= min_side, largest first. A rectangle longer
    than `max_side` is cut into near-square tiles of at most `max_side` (a crop compares texture statistics: a
    whole wall in one crop would cost a lot and say no more), taken spread out over it."""
    free = mask.copy()
    out: list[tuple[int, int, int, int]] = []
    while len(out) < count:
        rect = largest_rectangle(free)
        if rect is None or min(rect[2], rect[3]) < min_side:
            break
        x, y, w, h = rect
        free[y:y + h, x:x + w] = False
        tiles = _tiles(rect, max_side)
        pick = np.linspace(0, len(tiles) - 1, min(len(tiles), count - len(out))).round().astype(int)
        out += [tiles[i] for i in sorted(set(pick.tolist()))]
    return out


def _tiles(rect: tuple[int, int, int, int], max_side: int) -> list[tuple[int, int, int, int]]:
    x, y, w, h = rect
    side = min(max_side, w, h)  # square tiles, as large as the rectangle allows
    nx, ny = max(1, w // side), max(1, h // side)
    ox, oy = x + (w - nx * side) // 2, y + (h - ny * side) // 2
    return [(ox + i * side, oy + j * side, side, side) for j in range(ny) for i in range(nx)]


def auto_crops(regions: dict[str, np.ndarray], per_material: int, min_side: int,
               max_side: int = 96) -> dict[str, list[CropPair]]:
    out = {}
    for name, mask in regions.items():
        rects = crop_windows(mask, per_material, min_side, max_side)
        if rects:
            out[name] = [CropPair(name, r, r) for r in rects]
    return out


def load_user_crops(path: Path, scene: Scene, width: int, height: int, photo_srgb: np.ndarray | None = None,
                    regions: dict[str, np.ndarray] | None = None, per_material: int = 3, min_side: int = 12,
                    max_side: int = 64) -> dict[str, list[CropPair]]:
    """User crop pairs from JSON (format in the module docstring), validated and scaled to working resolution."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(f"cannot read crop pairs {path}: {exc}") from exc
    items = data.get("crops") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise InputError(f"{path}: expected {{\"crops\": [...]}}")
    known = set(scene.materials)
    for obj in scene.objects:
        known |= {p.material or "" for p in obj.parts}
    out: dict[str, list[CropPair]] = {}
    for i, item in enumerate(items):
        mat = item.get("material") or (f"{item['object']}.{item['part']}" if "object" in item and "part" in item
                                       else None)
        if mat not in known:
            raise InputError(f"{path}: crop {i} names material {mat!r}, which the scene does not have "
                             f"(materials: {', '.join(sorted(known)[:8])}...)")
        sw, sh = item.get("size", [width, height])
        sx, sy = width / float(sw), height / float(sh)
        if "click" in item:
            out.setdefault(mat, []).extend(_click_crops(item, i, path, mat, (sx, sy), photo_srgb, regions,
                                                        per_material, min_side, max_side))
            continue

        def window(key: str) -> tuple[int, int, int, int]:
            box = item.get(key, item.get("photo"))
            if not (isinstance(box, list) and len(box) == 4):
                raise InputError(f"{path}: crop {i} needs '{key}': [x, y, w, h]")
            x, y, w, h = (float(v) for v in box)
            x0, y0 = int(round(x * sx)), int(round(y * sy))
            x1, y1 = int(round((x + w) * sx)), int(round((y + h) * sy))
            x0, y0, x1, y1 = max(0, x0), max(0, y0), min(width, x1), min(height, y1)
            if x1 - x0 < 4 or y1 - y0 < 4:
                raise InputError(f"{path}: crop {i} ({key}) is smaller than 4x4 pixels at working resolution "
                                 "or outside the photo")
            return (x0, y0, x1 - x0, y1 - y0)

        out.setdefault(mat, []).append(CropPair(mat, window("photo"), window("render"), "user"))
    return out


def _click_crops(item: dict, i: int, path: Path, mat: str, scale: tuple[float, float], photo_srgb, regions,
                 per_material: int, min_side: int, max_side: int) -> list[CropPair]:
    if photo_srgb is None:
        raise InputError(f"{path}: crop {i} gives a click, which needs the photo")
    x, y = (float(v) for v in item["click"])
    mask = select(photo_srgb, (x * scale[0], y * scale[1]), item.get("level", "texture"))
    if regions is not None and mat in regions and (mask & regions[mat]).sum() >= min_side * min_side:
        mask = mask & regions[mat]
    rects = crop_windows(mask, per_material, min_side, max_side)
    if not rects:
        raise InputError(f"{path}: crop {i}: the selection at the click holds no {min_side}x{min_side} crop; "
                         "click inside a larger patch of the material")
    return [CropPair(mat, r, r, "user") for r in rects]


def cut(image: np.ndarray, window: tuple[int, int, int, int]) -> np.ndarray:
    x, y, w, h = window
    return image[y:y + h, x:x + w]
