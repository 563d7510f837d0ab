"""The report as a page to look at (issue 18): the overview sheet first and linked, tiles at native size, the
photo and the final render compared (slider and difference image), thumbnails in the object and material tables,
raw JSON folded under <details>."""

from __future__ import annotations

import re

import numpy as np
from PIL import Image

from p2s_common.images import write_png
from pipeline.app.report import write_report
from pipeline.core.case import load_case
from pipeline.core.scene import Candidate, MaterialEntry, Object, Scene


def _scene(truth: dict, floor_id: int) -> Scene:
    camera, room = truth["camera"], truth["room"]  # the box case's true camera and room records
    cands = [Candidate("lib:box_a", label="box A", fit_loss=0.5, thumbnail="thumbs/a.png"),
             Candidate("lib:box_b", label="box B", fit_loss=0.1)]
    obj = Object("box_1", [0.0, 0.0, 0.0], label="box", segment_id=floor_id, asset_id="lib:box_b", candidates=cands)
    materials = {"room_floor": MaterialEntry("principled", base_color=[0.3, 0.2, 0.1], roughness=0.6,
                                             candidates=[MaterialEntry("principled", label="oak", score=0.8,
                                                                       thumbnail="thumbs/oak.png")], chosen=0)}
    return Scene(camera, room, objects=[obj], materials=materials,
                 stages={"room": {"iou_after": {"floor": 0.99}, "losses": [0.3, 0.2, 0.1]}})


def test_report_page(box_case, tmp_path):
    folder, truth = box_case
    case = load_case(folder / "photo.png", folder / "estimates")
    floor_id = next(s.id for s in case.segments if s.label == "floor")
    root = tmp_path / "b.bundle"
    (root / "thumbs").mkdir(parents=True)
    for name in ("a", "oak"):
        write_png(root / "thumbs" / f"{name}.png", np.full((8, 8, 3), 0.5, np.float32))
    render = np.clip(case.photo_srgb + 0.1, 0, 1)  # the material stage's final render (here: the photo, brighter)
    (root / "report").mkdir()
    write_png(root / "report" / "materials_lights_render.png", render)

    index = write_report(root, _scene(truth, floor_id), case)
    page = index.read_text()

    # The overview first (right after the headline and the contents) and linked at full size.
    first_img = re.search(r'<img[^>]*src="([^"]+)"', page).group(1)
    assert first_img == "sheet.png" and '<a href="sheet.png">' in page
    # Tiles at native size: no width that scales them; captions in HTML.
    assert re.search(r'<img src="tile_room_loss.png" alt="room loss"><figcaption>room loss', page)
    assert 'width="' + str(2 * case.width) not in page and "pixelated" not in page
    # Slider and difference image: |photo - render| x 4, about 0.4 where the render is 0.1 brighter.
    assert 'type="range"' in page and 'class="top" src="materials_lights_render.png"' in page
    with Image.open(root / "report" / "difference.png") as im:
        diff = np.asarray(im, np.float32) / 255.0
    assert diff.shape[:2] == case.photo_srgb.shape[:2] and 0.3 < np.median(diff) <= 0.41
    # Object crop (photo | render) and candidate thumbnails, best first by fit percentage.
    assert (root / "report" / "objects" / "box_1.png").is_file() and 'src="objects/box_1.png"' in page
    row = page[page.index("<b>box_1</b>"):page.index("</tr>", page.index("<b>box_1</b>"))]
    assert row.index("box B") < row.index("box A") and "fit 90%" in row and "fit 61%" in row
    assert 'src="../thumbs/a.png"' in row
    # Materials: the candidate's thumbnail and its match percentage.
    assert 'src="../thumbs/oak.png"' in page and "match 80%" in page
    # Raw JSON folded away, after everything else.
    details = page.index("<details>")
    assert page.index('id="tiles"') < details and "&quot;iou_after&quot;" in page[details:]
    assert "iou_after" not in page[:details]  # no raw JSON above the fold
