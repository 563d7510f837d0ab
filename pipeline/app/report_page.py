"""The report's HTML page (report/index.html): a page to look at, not to read.

Order: the overview sheet (linked at full size), the photo and the final render compared with a slider and as a
difference image, every tile at its native size with an HTML caption, the objects and materials with thumbnails
and fit percentages, a few headline numbers, and the raw metrics folded under <details>. Self-contained: plain
HTML, CSS and a line of JavaScript for the slider; no network.
"""

from __future__ import annotations

import html
import json
import math
from pathlib import Path

import numpy as np
from PIL import Image

from blender_addon.edits import candidate_rows, candidate_thumbnail
from p2s_common.images import linear_to_srgb, write_png
from pipeline.core.case import Case
from pipeline.core.scene import MaterialEntry, Scene

RENDER = "report/materials_lights_render.png"  # the material/light stage's final render (working resolution)
DIFFERENCE_GAIN = 4.0  # |photo - render| x this: small differences become visible
CROP_SIDE = 96  # object thumbnails: the longer side in pixels

STYLE = """body{font-family:system-ui,sans-serif;margin:1.5em;max-width:1400px;color:#222}
h2{margin-top:1.6em;border-bottom:1px solid #ddd}
figure{display:inline-block;margin:.4em;vertical-align:top}figcaption{font-size:14px;max-width:520px}
img{border:1px solid #ccc}.sheet{max-width:100%}
.compare{position:relative;display:inline-block;line-height:0}.compare img{display:block}
.compare .top{position:absolute;top:0;left:0;clip-path:inset(0 50% 0 0)}
.compare input{width:100%}
table{border-collapse:collapse}td,th{border-bottom:1px solid #eee;padding:4px 8px;text-align:left;vertical-align:top}
.swatch{display:inline-block;width:40px;height:40px;border:1px solid #999;vertical-align:middle}
.cand{display:inline-block;text-align:center;font-size:12px;margin:0 4px}.cand img{display:block;margin:auto}
.chosen{font-weight:bold}details pre{background:#f6f6f6;padding:8px;overflow:auto}"""

SLIDER_JS = ("this.parentNode.querySelector('.top').style.clipPath="
             "'inset(0 '+(100-this.value)+'% 0 0)'")


def _e(value) -> str:
    return html.escape(str(value))


def _rel(root: Path, path: Path | None) -> str | None:
    """`path` as a link from report/index.html, when it is a file inside the bundle (a report that is shared
    names no file outside it)."""
    if path is None:
        return None
    try:
        relative = Path(path).resolve().relative_to(Path(root).resolve())
    except ValueError:
        return None
    return "../" + relative.as_posix() if (Path(root) / relative).is_file() else None


def _read_rgb(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"), np.float32) / 255.0


def comparison(root: Path, case: Case) -> str:
    """The photo and the final render: a slider (render on the left of the handle) and a difference image,
    written to report/difference.png. Empty when the bundle has no final render."""
    if not (root / RENDER).is_file():
        return ""
    photo = case.photo_srgb
    render = _read_rgb(root / RENDER)
    if render.shape[:2] != photo.shape[:2]:  # the stage renders at the working resolution; guard anyway
        render = np.asarray(Image.fromarray((render * 255).astype(np.uint8)).resize(
            (photo.shape[1], photo.shape[0]), Image.LANCZOS), np.float32) / 255.0
    write_png(root / "report" / "difference.png", np.clip(np.abs(photo - render) * DIFFERENCE_GAIN, 0.0, 1.0))
    mean = float(np.abs(photo - render).mean())
    w, h = photo.shape[1], photo.shape[0]
    return f"""<h2 id="compare">Photo and render</h2>
<figure><div class="compare"><img src="tile_photo.png" width="{w}" height="{h}" alt="photo">
<img class="top" src="{Path(RENDER).name}" width="{w}" height="{h}" alt="render">
<input type="range" min="0" max="100" value="50" oninput="{SLIDER_JS}" aria-label="render | photo"></div>
<figcaption>drag: render on the left, photo on the right</figcaption></figure>
<figure><img src="difference.png" width="{w}" height="{h}" alt="difference"><figcaption>|photo &minus; render|
&times; {DIFFERENCE_GAIN:g} (mean absolute difference {mean:.3f} in sRGB)</figcaption></figure>"""


def object_crops(root: Path, scene: Scene, case: Case) -> dict[str, str]:
    """Per object: the photo (and the final render, when there is one) cut to the object's segment, side by
    side, as report/objects/<name>.png; object name -> link."""
    render = _read_rgb(root / RENDER) if (root / RENDER).is_file() else None
    if render is not None and render.shape[:2] != case.photo_srgb.shape[:2]:
        render = None
    out: dict[str, str] = {}
    for obj in scene.objects:
        if obj.segment_id is None:
            continue
        ys, xs = np.nonzero(case.segmentation == obj.segment_id)
        if len(ys) == 0:
            continue
        pad = 3
        y0, y1 = max(0, ys.min() - pad), min(case.height, ys.max() + 1 + pad)
        x0, x1 = max(0, xs.min() - pad), min(case.width, xs.max() + 1 + pad)
        pieces = [case.photo_srgb[y0:y1, x0:x1]] + ([render[y0:y1, x0:x1]] if render is not None else [])
        gap = np.ones((y1 - y0, 2, 3), np.float32)
        crop = np.concatenate([p for piece in pieces for p in (piece, gap)][:-1], axis=1)
        k = CROP_SIDE / max(crop.shape[:2])
        size = (max(1, round(crop.shape[1] * k)), max(1, round(crop.shape[0] * k)))
        crop = np.asarray(Image.fromarray((np.clip(crop, 0, 1) * 255).astype(np.uint8)).resize(size, Image.LANCZOS),
                          np.float32) / 255.0
        name = "".join(c if c.isalnum() or c in "-_" else "_" for c in obj.name)
        (root / "report" / "objects").mkdir(parents=True, exist_ok=True)
        write_png(root / "report" / "objects" / f"{name}.png", crop)
        out[obj.name] = f"objects/{name}.png"
    return out


def _candidates_html(root: Path, items, chosen: int | None) -> str:
    """Candidates best first with their fit or match percentage (the panel's rule, edits.candidate_rows) and
    their thumbnails where the bundle has them."""
    cells = []
    for row in candidate_rows(items):
        thumb = _rel(root, candidate_thumbnail(root, items[row.index]))
        img = f'<img src="{_e(thumb)}" width="64" height="64" alt="">' if thumb else ""
        number = f"{row.measure} {row.percent:.0f}%" if row.percent is not None else ""
        cls = ' chosen' if row.index == chosen else ""
        cells.append(f'<span class="cand{cls}">{img}{_e(row.label)}<br>{_e(number)}</span>')
    return "".join(cells)


def _flags_html(o) -> str:
    """An object's flags (low_mask_iou in red: drop or re-pose it) and whether it is an unconfirmed proposal."""
    flags = list(o.flags or []) + (["proposal"] if o.proposal else [])
    return ", ".join(f'<b style="color:#b00">{_e(f)}</b>' if f == "low_mask_iou" else _e(f) for f in flags)


def _table(anchor: str, title: str, headers: list[str], rows: list[str]) -> str:
    """A titled HTML table of ready-made rows; nothing when there are no rows."""
    if not rows:
        return ""
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    return f'<h2 id="{anchor}">{_e(title)}</h2><table><tr>{head}</tr>' + "".join(rows) + "</table>"


def objects_table(root: Path, scene: Scene, crops: dict[str, str]) -> str:
    """Per object: its crop (photo | render), chosen model, contact, mask IoU, the candidates."""
    rows = []
    for o in scene.objects:
        crop = crops.get(o.name)
        img = f'<img src="{_e(crop)}" alt="">' if crop else ""
        chosen = next((i for i, c in enumerate(o.candidates) if c.asset_id == o.asset_id), None)
        rows.append(f"<tr><td>{img}</td><td><b>{_e(o.name)}</b><br>{_e(o.label or '')}</td>"
                    f"<td>{_e((o.asset_id or '').split(':')[-1])}</td><td>{_e(o.contact or '')}</td>"
                    f"<td>{o.mask_iou_before or 0.0:.3f} &rarr; {o.mask_iou_after or 0.0:.3f}</td>"
                    f"<td>{_flags_html(o)}</td><td>{_candidates_html(root, o.candidates, chosen)}</td></tr>")
    return _table("objects", "Objects", ["photo | render", "object", "model", "contact", "mask IoU", "flags",
                                         "candidates (best first)"], rows)


def _swatch(entry: MaterialEntry) -> str:
    """A colour square of a principled material's base colour (linear -> sRGB)."""
    if not entry.base_color:
        return ""
    rgb = linear_to_srgb(np.clip(np.asarray(entry.base_color[:3], np.float32), 0.0, 1.0))
    hex_colour = "#" + "".join(f"{int(round(v * 255)):02x}" for v in rgb)
    return f'<span class="swatch" style="background:{hex_colour}" title="{hex_colour}"></span>'


def materials_table(root: Path, scene: Scene) -> str:
    """Per material: its thumbnail (or colour), type, roughness, where it came from, the candidates."""
    rows = []
    for name, entry in scene.materials.items():
        thumb = _rel(root, candidate_thumbnail(root, entry))
        look = f'<img src="{_e(thumb)}" width="64" height="64" alt="">' if thumb else _swatch(entry)
        rough = "" if entry.roughness is None or not math.isfinite(entry.roughness) else f"{entry.roughness:.2f}"
        rows.append(f"<tr><td>{look}</td><td><b>{_e(name)}</b><br>{_e(entry.label or '')}</td>"
                    f"<td>{_e(entry.type)}</td><td>{rough}</td><td>{_e(entry.source or '')}<br>"
                    f"<small>{_e(entry.retrieval or '')}</small></td>"
                    f"<td>{_candidates_html(root, entry.candidates or [], entry.chosen)}</td></tr>")
    return _table("materials", "Materials", ["look", "material", "type", "roughness", "source",
                                             "candidates (best first)"], rows)


def headline(scene: Scene, case: Case) -> str:
    """One line of the numbers a person looks for first."""
    parts = [f"photo {case.inputs.get('photo_size', ['?', '?'])[0]}&times;{case.inputs.get('photo_size', ['?', '?'])[1]}"
             f" (working {case.width}&times;{case.height})",
             f"{len(scene.objects)} objects", f"{len(scene.lights)} lights", f"{len(scene.materials)} materials"]
    iou = scene.stages.get("room", {}).get("iou_after") if isinstance(scene.stages.get("room"), dict) else None
    if isinstance(iou, dict) and iou:
        parts.append("room IoU " + ", ".join(f"{_e(k)} {v:.3f}" for k, v in iou.items()
                                             if isinstance(v, (int, float))))
    ml = scene.stages.get("materials_lights")
    if isinstance(ml, dict):
        init, final = (ml.get(k, {}).get("psnr_db") for k in ("metrics_init", "metrics"))
        if isinstance(init, (int, float)) and isinstance(final, (int, float)):
            parts.append(f"photo PSNR {init:.2f} dB at the start &rarr; {final:.2f} dB final")
    seconds = scene.stages.get("total_seconds", {}).get("seconds")
    if isinstance(seconds, (int, float)):
        parts.append(f"{seconds:.0f} s")
    return " &middot; ".join(parts)


def outcome(scene: Scene) -> str:
    """The run's outcome (pipeline/app/outcome.py): which estimators ran, and its warnings in red."""
    record = scene.stages.get("outcome")
    if not isinstance(record, dict):
        return ""
    lines = [f"<p>Estimators: {_e(record['estimators'])}</p>"] if record.get("estimators") else []
    lines += [f'<p style="color:#b00;font-weight:bold">Warning: {_e(w)}</p>' for w in record.get("warnings", [])]
    return "\n".join(lines)


def page(root: Path, scene: Scene, case: Case, tiles: list[tuple[str, str]], metrics: dict) -> str:
    """The whole page. `tiles`: (title, file in report/) in sheet order."""
    crops = object_crops(root, scene, case)
    figures = "".join(f'<figure><img src="{_e(f)}" alt="{_e(t)}"><figcaption>{_e(t)}</figcaption></figure>'
                      for t, f in tiles)
    sections = [s for s in (comparison(root, case), objects_table(root, scene, crops), materials_table(root, scene))
                if s]
    toc = " &middot; ".join(f'<a href="#{a}">{t}</a>' for a, t in (
        ("overview", "overview"), ("compare", "photo and render"), ("tiles", "all pictures"),
        ("objects", "objects"), ("materials", "materials"), ("metrics", "metrics"))
        if a in ("overview", "tiles", "metrics") or any(f'id="{a}"' in s for s in sections))
    raw = {"scale": scene.scale, "inputs": case.inputs, "metrics": metrics}
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>photo2scene report: {_e(root.name)}</title>
<style>{STYLE}</style></head><body>
<h1>photo2scene report: {_e(root.name)}</h1>
<p>{headline(scene, case)}</p>
{outcome(scene)}
<p>{toc}</p>
<h2 id="overview">Overview</h2>
<a href="sheet.png"><img class="sheet" src="sheet.png" alt="overview sheet"></a>
<p><a href="sheet.png">sheet.png</a> at full size &middot; <a href="metrics.json">metrics.json</a></p>
{"".join(sections)}
<h2 id="tiles">All pictures (native size)</h2>
{figures}
<h2 id="metrics">Metrics</h2>
<details><summary>raw JSON (scale, inputs, every stage's record)</summary>
<pre>{_e(json.dumps(raw, indent=1, default=str))}</pre></details>
</body></html>"""

