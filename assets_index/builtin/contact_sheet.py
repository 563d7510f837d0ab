"""A contact sheet of the built-in library: one rendered view per model in a captioned grid, grouped by
category, for people to check the generators (`python -m assets_index.builtin.contact_sheet sheet.png`)."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from PIL import Image, ImageDraw

from ..meshutil import part_color
from ..render import RenderConfig, render_views
from . import MODELS, generate


def contact_sheet(out: Path, ids: list[str] | None = None, tile: int = 160, columns: int = 12) -> Path:
    """Render each model once (`tile` px, from the front-left, above) and tile them with id captions."""
    models = [m for m in MODELS if ids is None or m.id in ids]
    models.sort(key=lambda m: (m.category, m.id))
    rows = (len(models) + columns - 1) // columns
    caption = 14
    sheet = Image.new("RGB", (columns * tile, rows * (tile + caption)), "white")
    draw = ImageDraw.Draw(sheet)
    config = RenderConfig(views=1, resolution=tile, spp=8)
    with tempfile.TemporaryDirectory() as tmp:
        for i, m in enumerate(models):
            parts, _ = generate(m.id)
            path = Path(tmp) / f"{m.id}.png"
            render_views(parts, {n: part_color(p) for n, p in parts.items()}, [path], config)
            x, y = (i % columns) * tile, (i // columns) * (tile + caption)
            sheet.paste(Image.open(path).convert("RGB"), (x, y))
            draw.text((x + 2, y + tile), m.id[:26], fill=(0, 0, 0))
    out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(out)
    return out


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("out", type=Path, help="PNG file to write")
    p.add_argument("--ids", nargs="*", help="only these model ids")
    p.add_argument("--tile", type=int, default=160, help="pixels per model")
    args = p.parse_args(argv)
    print(contact_sheet(args.out, args.ids, args.tile))


if __name__ == "__main__":
    main()
