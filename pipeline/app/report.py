"""The bundle's report: a PNG sheet of every picture, each picture as a tile, and the HTML page (report_page.py).

Room stage: photo, target surface masks, the box's masks before and after refinement (exact, from the box),
their overlays on the photo, the loss curve, and the metrics.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from p2s_common.images import write_png

from pipeline.core.case import Case
from pipeline.core.scene import Camera, Room, Scene
from pipeline.render.room_box import depth_and_faces, surface_labels

from .report_page import page

PALETTE = np.array([[0.85, 0.35, 0.30], [0.35, 0.75, 0.35], [0.35, 0.50, 0.90], [0.25, 0.25, 0.25]], np.float32)


def label_image(labels: np.ndarray) -> np.ndarray:
    """0 wall, 1 floor, 2 ceiling, 3 other -> RGB."""
    return PALETTE[np.clip(labels, 0, 3)]


def target_labels(case: Case) -> np.ndarray:
    labels = np.full(case.segmentation.shape, 3, np.int32)
    for k, surf in enumerate(("wall", "floor", "ceiling")):
        labels[case.mask(surf)] = k
    return labels


def box_labels(camera: Camera, room: Room, case: Case) -> np.ndarray:
    _, faces = depth_and_faces(camera, room, case.width, case.height)
    return surface_labels(faces)


def overlay(photo: np.ndarray, labels: np.ndarray, alpha: float = 0.45) -> np.ndarray:
    return (1 - alpha) * photo + alpha * label_image(labels)


def loss_plot(losses: list[float], width: int, height: int) -> np.ndarray:
    """A minimal line plot of the loss (white background)."""
    im = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(im)
    draw.text((6, 4), "loss per iteration", fill=(0, 0, 0))
    if len(losses) >= 2:
        lo, hi = min(losses), max(losses)
        span = max(hi - lo, 1e-9)
        pts = [(10 + i * (width - 20) / (len(losses) - 1), height - 12 - (v - lo) / span * (height - 36))
               for i, v in enumerate(losses)]
        draw.line(pts, fill=(200, 60, 40), width=2)
        draw.text((6, height - 12), f"{hi:.4f} -> {losses[-1]:.4f}", fill=(0, 0, 0))
    return np.asarray(im, np.float32) / 255.0


def _fit(img: np.ndarray, width: int, height: int) -> np.ndarray:
    """`img` scaled to fit width x height, keeping its aspect, centred on white."""
    h, w = img.shape[:2]
    k = min(width / w, height / h)
    size = (max(1, round(w * k)), max(1, round(h * k)))
    small = np.asarray(Image.fromarray((np.clip(img, 0, 1) * 255).astype(np.uint8)).resize(size, Image.LANCZOS))
    out = np.ones((height, width, 3), np.float32)
    y, x = (height - size[1]) // 2, (width - size[0]) // 2
    out[y:y + size[1], x:x + size[0]] = small.astype(np.float32) / 255
    return out


def _font(size: int = 14) -> ImageFont.ImageFont:
    """A font readable at the sheet's native size (Pillow's scalable default; its 10 px bitmap before 10.1)."""
    try:
        return ImageFont.load_default(size=size)
    except TypeError:
        return ImageFont.load_default()


def _titled(img: np.ndarray, title: str) -> np.ndarray:
    h, w = img.shape[:2]
    canvas = Image.new("RGB", (w, h + 20), "white")
    canvas.paste(Image.fromarray((np.clip(img, 0, 1) * 255).astype(np.uint8)), (0, 20))
    ImageDraw.Draw(canvas).text((4, 2), title, fill=(0, 0, 0), font=_font())
    return np.asarray(canvas, np.float32) / 255.0


def _file_name(title: str) -> str:
    """A portable file name for a tile's title ("crop pairs: photo | render" -> tile_crop_pairs_photo_render)."""
    return "tile_" + re.sub(r"[^A-Za-z0-9]+", "_", title).strip("_")


def write_report(root: Path, scene: Scene, case: Case) -> Path:
    """Write report/sheet.png, report/index.html and report/metrics.json; returns the HTML path."""
    out = root / "report"
    out.mkdir(parents=True, exist_ok=True)
    photo = case.photo_srgb
    tiles = [("photo", photo), ("target surfaces", label_image(target_labels(case)))]
    room_metrics = scene.stages.get("room", {})
    if scene.room is not None:
        if room_metrics.get("initial_room"):
            camera = (Camera.from_dict(room_metrics["initial_camera"]) if "initial_camera" in room_metrics
                      else scene.camera)
            before = box_labels(camera, Room.from_dict(room_metrics["initial_room"]), case)
            tiles.append(("box before refinement", overlay(photo, before)))
        tiles.append(("box after refinement", overlay(photo, box_labels(scene.camera, scene.room, case))))
    tiles.append(("room loss", loss_plot(room_metrics.get("losses", []), case.width, case.height)))
    for name, title in (("objects_target", "object masks"), ("objects_before", "objects before refinement"),
                        ("objects_after", "objects after refinement")):
        path = out / f"{name}.png"
        if path.exists():  # written by the object stage
            img = np.asarray(Image.open(path).convert("RGB").resize((case.width, case.height)), np.float32) / 255
            tiles.append((title, img))
    if scene.stages.get("objects", {}).get("losses"):
        tiles.append(("objects loss", loss_plot(scene.stages["objects"]["losses"], case.width, case.height)))
    for stage in scene.stages.values():  # images later stages list for the report: [[file, title], ...]
        for rel, title in (stage.get("report_images") or []) if isinstance(stage, dict) else []:
            if (root / rel).exists():
                img = np.asarray(Image.open(root / rel).convert("RGB"), np.float32) / 255
                tiles.append((title, _fit(img, case.width, case.height)))
    titled = [_titled(img, title) for title, img in tiles]
    cols = 3
    rows = [titled[i:i + cols] for i in range(0, len(titled), cols)]
    blank = np.ones_like(titled[0])
    sheet = np.concatenate([np.concatenate(r + [blank] * (cols - len(r)), axis=1) for r in rows], axis=0)
    write_png(out / "sheet.png", sheet)
    for title, img in tiles:
        write_png(out / (_file_name(title) + ".png"), img)

    metrics = {name: {k: v for k, v in stage.items() if k not in ("losses", "initial_room", "initial_camera")}
               for name, stage in scene.stages.items()}
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    index = out / "index.html"
    index.write_text(page(root, scene, case, [(t, _file_name(t) + ".png") for t, _ in tiles], metrics),
                     encoding="utf-8")
    return index
