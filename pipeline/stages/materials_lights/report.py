"""Report images of the material+light stage (PNG bytes for the bundle's report/ folder)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from p2s_common.images import linear_to_srgb, png_bytes, to_uint8

from pipeline.render.scene_render import UNIT_RECT
from .crops import CropPair, cut


def _label(img: Image.Image, text: str, xy=(2, 1)) -> None:
    draw = ImageDraw.Draw(img)
    x, y = xy
    draw.text((x + 1, y + 1), text, fill=(0, 0, 0))
    draw.text((x, y), text, fill=(255, 255, 255))


def side_by_side(photo: np.ndarray, render: np.ndarray, metrics: dict, metrics_init: dict | None = None) -> bytes:
    """Photo | final render (both linear, shown in sRGB), with PSNR/SSIM (and the initial render's PSNR)."""
    im = Image.fromarray(to_uint8(linear_to_srgb(np.concatenate([photo, render], axis=1))))
    _label(im, "photo")
    start = f"init {metrics_init['psnr_db']:.2f} -> " if metrics_init and "psnr_db" in metrics_init else ""
    _label(im, f"render  PSNR {start}{metrics.get('psnr_db', 0):.2f} dB  SSIM {metrics.get('ssim', 0):.3f}",
           (photo.shape[1] + 2, 1))
    return png_bytes(im)


def crop_sheet(photo: np.ndarray, init: np.ndarray, final: np.ndarray, pairs: list[CropPair], size: int = 64,
               rows: int = 10) -> bytes:
    """One row per crop pair: photo crop | render crop at init | render crop at the end, labelled by material."""
    pairs = pairs[:rows]
    label_w = 150
    sheet = Image.new("RGB", (label_w + 3 * (size + 4), 16 + max(1, len(pairs)) * (size + 4)), "white")
    draw = ImageDraw.Draw(sheet)
    for k, t in enumerate(("photo", "init", "final")):
        draw.text((label_w + k * (size + 4), 2), t, fill=(0, 0, 0))
    for r, pair in enumerate(pairs):
        y = 16 + r * (size + 4)
        draw.text((2, y + size // 2 - 6), f"{pair.material[:22]}{' (user)' if pair.source == 'user' else ''}",
                  fill=(0, 0, 0))
        for k, (img, win) in enumerate(((photo, pair.photo), (init, pair.render), (final, pair.render))):
            crop = linear_to_srgb(cut(img, win))
            tile = Image.fromarray(to_uint8(crop)).resize((size, size), Image.NEAREST)
            sheet.paste(tile, (label_w + k * (size + 4), y))
    return png_bytes(sheet)


def loss_sheet(history: list[dict], width: int = 320, height: int = 200, panel: int = 110) -> bytes:
    """Loss curves per term (log scale), one colour each; below them the validation curve (photo PSNR of the
    full-size picture, dB) on the same iteration axis: the two side by side show whether the loss follows what the
    artist sees."""
    im = Image.new("RGB", (width, height + panel), "white")
    draw = ImageDraw.Draw(im)
    val = [(i, h["val_psnr"]) for i, h in enumerate(history) if "val_psnr" in h]
    if len(history) >= 2 and val:
        top = height + 4
        draw.text((6, top), "validation photo PSNR (dB)", fill=(0, 0, 0))
        lo, hi = min(v for _, v in val), max(v for _, v in val)
        span = max(hi - lo, 0.05)
        pts = [(10 + i * (width - 20) / (len(history) - 1), top + panel - 12 - (v - lo) / span * (panel - 32))
               for i, v in val]
        if len(pts) >= 2:
            draw.line(pts, fill=(120, 40, 160), width=2)
        for x, y in pts:
            draw.ellipse((x - 2, y - 2, x + 2, y + 2), fill=(120, 40, 160))
        draw.text((width - 120, top), f"{lo:.2f} .. {hi:.2f} dB", fill=(120, 40, 160))
    draw.text((6, 4), "materials+lights loss (log)", fill=(0, 0, 0))
    keys = [k for k in ("total", "photo", "colour", "gram") if any(k in h for h in history)]
    colours = {"total": (0, 0, 0), "photo": (200, 60, 40), "colour": (40, 120, 200), "gram": (40, 160, 60)}
    series = {k: [(i, h[k]) for i, h in enumerate(history) if k in h and h[k] > 0] for k in keys}
    values = [v for s in series.values() for _, v in s]
    if len(history) >= 2 and values:
        lo, hi = np.log10(min(values)), np.log10(max(values))
        span = max(hi - lo, 1e-6)
        for j, k in enumerate(keys):
            pts = [(10 + i * (width - 20) / (len(history) - 1), height - 14 - (np.log10(v) - lo) / span * (height - 40))
                   for i, v in series[k]]
            if len(pts) >= 2:
                draw.line(pts, fill=colours[k], width=2)
            draw.text((6 + 60 * j, height - 12), k, fill=colours[k])
    return png_bytes(im)


def materials_sheet(rows: list[dict], thumbnail: Callable[[str], Path | None], size: int = 48) -> bytes:
    """Per material: its final swatch (mean colour or a tile of its map) and its top-k candidates' thumbnails
    (`thumbnail(library name)` finds each one's image)."""
    rows = rows[:16]
    k = max([len(r.get("candidates", [])) for r in rows] + [0])
    width = 170 + (k + 1) * (size + 4)
    sheet = Image.new("RGB", (width, 4 + max(1, len(rows)) * (size + 16)), "white")
    draw = ImageDraw.Draw(sheet)
    for i, row in enumerate(rows):
        y = 4 + i * (size + 16)
        draw.text((2, y + 2), row["name"][:26], fill=(0, 0, 0))
        draw.text((2, y + 16), row.get("kind", "")[:26], fill=(90, 90, 90))
        swatch = row["swatch"]
        tile = Image.fromarray(to_uint8(linear_to_srgb(swatch))).resize((size, size))
        sheet.paste(tile, (170, y))
        for j, cand in enumerate(row.get("candidates", [])):
            x = 170 + (j + 1) * (size + 4)
            path = thumbnail(cand["library"])
            if path is not None and path.is_file():
                sheet.paste(Image.open(path).convert("RGB").resize((size, size)), (x, y))
            else:
                draw.rectangle([x, y, x + size, y + size], outline=(150, 150, 150))
            draw.text((x, y + size + 1), f"{cand['library'][:8]}", fill=(0, 0, 0) if j else (200, 40, 40))
    return png_bytes(sheet)


def swatch(state) -> np.ndarray:
    """A small linear image of a material state: one UV tile of its base colour map, or a flat patch."""
    import torch

    with torch.no_grad():
        base, _ = state.maps(UNIT_RECT)
    arr = base.detach().numpy()
    if arr.ndim == 1:
        return np.broadcast_to(arr, (8, 8, 3)).copy()
    return arr



def retrieval_sheet(rows: list, size: int = 64) -> bytes:
    """Per part (`retrieve_parts.PartResult`): photo crop | the chosen candidate synthesised in its place |
    the runner-up | the flat colour, labelled with library names and distances (lower is better)."""
    rows = rows[:24]
    label_w = 170
    sheet = Image.new("RGB", (label_w + 4 * (size + 4), 16 + max(1, len(rows)) * (size + 16)), "white")
    draw = ImageDraw.Draw(sheet)
    for k, t in enumerate(("photo crop", "chosen", "runner-up", "flat")):
        draw.text((label_w + k * (size + 4), 2), t, fill=(0, 0, 0))
    for i, row in enumerate(rows):
        y = 16 + i * (size + 16)
        found = row.retrieved
        draw.text((2, y + 2), row.material[:26], fill=(0, 0, 0))
        verdict = ("procedural" if found.best is not None and not found.flat_like
                   else "near-flat graph" if found.best is not None else "homogeneous")
        draw.text((2, y + 16), f"{verdict}; flat {found.flat:.3f}", fill=(90, 90, 90))
        photo = row.photo
        flat_colour = photo.reshape(-1, 3).mean(0)
        tiles = [(photo, "")]
        first = found.best or (found.ranked[0] if found.ranked else None)  # the chosen one, else the top
        shown = ([first] if first else []) + [r for r in found.ranked if r is not first]
        for r in shown[:2]:
            tiles.append((found.previews.get(r.library, np.zeros_like(photo)), f"{r.library[:10]} {r.distance:.2f}"))
        while len(tiles) < 3:
            tiles.append((np.ones_like(photo), ""))
        tiles.append((np.broadcast_to(flat_colour, photo.shape), f"{found.flat:.2f}"))
        for k, (img, text) in enumerate(tiles):
            tile = Image.fromarray(to_uint8(linear_to_srgb(np.asarray(img, float)))).resize((size, size),
                                                                                            Image.NEAREST)
            x = label_w + k * (size + 4)
            sheet.paste(tile, (x, y))
            draw.text((x, y + size + 1), text, fill=(200, 40, 40) if k == 1 and found.best else (0, 0, 0))
    return png_bytes(sheet)
