"""Material retrieval by synthesis (weight-free): texture statistics, ranking a library subset on crops made from
randomised library materials seen in perspective, the flat material winning on a flat photo, CLIP narrowing the
shortlist (a random-weight CLIP), and the candidates written for scene.json."""

from __future__ import annotations

import io
from types import SimpleNamespace

import numpy as np
import pytest

SUBSET = ["oak_planks", "hex_tiles_white", "wall_paint_sage", "carpet_beige", "brick_wall_red", "marble_carrara",
          "plaster_white", "rug_striped"]


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    import os

    from pipeline.stages.materials_lights.synthesis import SynthesisLibrary

    old = os.environ.get("PHOTO2SCENE_TILE_CACHE")
    os.environ["PHOTO2SCENE_TILE_CACHE"] = str(tmp_path_factory.mktemp("tiles"))
    try:
        yield SynthesisLibrary(SUBSET, resolution=128)
    finally:
        if old is None:
            os.environ.pop("PHOTO2SCENE_TILE_CACHE")
        else:
            os.environ["PHOTO2SCENE_TILE_CACHE"] = old


def _randomised_tile(name: str, rng: np.random.Generator):
    """The twin's base colour of `name` with colours and pattern sizes perturbed (not the library's defaults)."""
    import torch

    from materials_db import evaluate, load_graph

    g = load_graph(name)
    bright, tint, params = rng.uniform(0.8, 1.15), rng.uniform(0.95, 1.05, 3), {}
    for pname, p in g.params.items():
        if p.kind not in ("float", "color", "vector"):
            continue
        d = np.asarray(p.default, float)
        v = np.clip(d * bright * tint, 0, 1) if p.kind == "color" else np.clip(d * rng.uniform(0.9, 1.1), *p.range)
        params[pname] = torch.as_tensor(p.normalise(v.tolist()), dtype=torch.float32)
    with torch.no_grad():
        return evaluate(g, params, 256, with_normal=False)["base_color"].clamp(0, 1)


def _floor_uv(rng: np.random.Generator, h: int, w: int, sub: int = 1) -> np.ndarray:
    """UVs of a floor patch seen at an angle: rows further away cover more metres (perspective). With `sub` > 1,
    (sub*sub, h, w, 2): UVs at sub-pixel positions, for a photo averaged over each pixel as a camera does."""
    u0, v0 = rng.uniform(0, 3, 2)
    out = []
    for dy in (np.arange(sub) + 0.5) / sub - 0.5:
        for dx in (np.arange(sub) + 0.5) / sub - 0.5:
            ii, jj = np.mgrid[0:h, 0:w].astype(float)
            ii, jj = ii + dy, jj + dx
            depth = 1 + 0.006 * ii
            out.append(np.stack([u0 + jj * 0.012 / depth, v0 + ii * 0.02 / depth ** 2], -1))
    return out[0] if sub == 1 else np.stack(out)


def _views(tile, rng, scale: float = 1.0, sizes=(48, 64)):
    from pipeline.stages.materials_lights.synthesis import CropView
    from pipeline.stages.materials_lights.texture_search import lookup

    views, flats = [], []
    for side in sizes:
        subs = _floor_uv(rng, side, side, sub=4)
        uv = subs.mean(0)
        light = np.array([2.0, 1.9, 1.7]) * rng.uniform(0.6, 1.4)
        ramp = (1 + 0.1 * np.linspace(0, 1, side))[:, None, None]  # shading falls off across the crop
        photo = np.mean([lookup(tile, s, scale, 0.0).numpy() for s in subs], 0) * light * ramp
        photo = np.clip(photo + rng.normal(0, 0.01, photo.shape) * photo.mean(), 0, None)
        flats.append(photo.reshape(-1, 3).mean(0) / light)
        views.append((photo, uv))
    flat = np.mean(flats, 0)
    return [CropView(p, uv, p.reshape(-1, 3).mean(0) / flat) for p, uv in views], flat


def test_features_see_pattern_direction_and_flatness():
    from pipeline.stages.materials_lights.texture_stats import distance, features

    x = np.arange(48)
    stripes_v = np.broadcast_to((0.3 + 0.2 * (x // 4 % 2))[None, :, None], (48, 48, 3))
    stripes_h = np.swapaxes(stripes_v, 0, 1)
    flat = np.full((48, 48, 3), 0.4)
    f = features(np.stack([stripes_v, stripes_h, flat, flat * 1.02]))
    assert distance(f[:1], f[0])[0] == 0.0
    assert distance(f[1:2], f[0])[0] > 1.0  # the same stripes turned 90 degrees are another texture
    assert distance(f[3:4], f[2])[0] < 0.01  # a 2 % brighter flat colour is nearly the same material
    assert distance(f[0:1], f[2])[0] > 10 * distance(f[3:4], f[2])[0]


def test_rank_recovers_randomised_materials_and_their_scale(library):
    from pipeline.stages.materials_lights.synthesis import rank

    rng = np.random.default_rng(7)
    top1 = []
    for name in SUBSET:
        views, flat = _views(_randomised_tile(name, rng), rng, scale=2.0)
        found = rank(library, views, flat, [0.5, 1, 2, 4], [0, 90], prune=8)
        assert found.best is not None, f"{name}: the flat colour beat every textured candidate"
        top1.append(found.best.library == name)
        if name in ("oak_planks", "brick_wall_red", "hex_tiles_white"):  # patterns with a clear period
            assert found.best.library == name and found.best.scale == 2.0, (name, found.best)
        assert [r.distance for r in found.ranked] == sorted(r.distance for r in found.ranked)
    assert np.mean(top1) >= 0.75, top1


def test_flat_photo_stays_homogeneous(library):
    from pipeline.stages.materials_lights.synthesis import CropView, rank

    rng = np.random.default_rng(3)
    uv = _floor_uv(rng, 48, 48)
    colour = np.array([0.55, 0.52, 0.47])
    photo = np.clip(colour * 1.5 + rng.normal(0, 0.002, (48, 48, 3)), 0, None)
    found = rank(library, [CropView(photo, uv, np.full(3, 1.5))], colour, [1, 2], [0], prune=8)
    assert found.best is None and found.ranked and found.flat < found.ranked[0].distance


def test_stage_retrieval_with_a_clip_shortlist_and_candidates(library, monkeypatch):
    """retrieve_by_synthesis over one part: a random-weight CLIP narrows the shortlist (never decides alone), the
    part becomes Procedural at the found transform, the report note names the runner-up, candidates carry their
    own transform and thumbnails, and the report sheet renders."""
    from PIL import Image

    from p2s_common.clip import tiny_clip_for_tests
    from p2s_common.images import linear_to_srgb
    from pipeline.stages.materials_lights import retrieve_parts
    from pipeline.stages.materials_lights.candidates import material_candidates
    from pipeline.stages.materials_lights.config import MaterialLightConfig
    from pipeline.stages.materials_lights.crops import CropPair
    from pipeline.stages.materials_lights.report import retrieval_sheet
    from pipeline.stages.materials_lights.retrieval import ClipMaterials
    from pipeline.stages.materials_lights.state import Homogeneous, Procedural

    monkeypatch.setattr(retrieve_parts, "SynthesisLibrary", lambda resolution: library)
    rng = np.random.default_rng(11)
    tile = _randomised_tile("oak_planks", rng)
    views, flat = _views(tile, rng, sizes=(64,))
    photo = np.zeros((80, 100, 3))
    uv_image = np.zeros((80, 100, 2))
    photo[8:72, 20:84], uv_image[8:72, 20:84] = views[0].photo, views[0].uv
    case = SimpleNamespace(photo_linear=photo, photo_srgb=linear_to_srgb(photo))
    states = {"room_floor": Homogeneous.create("room_floor", flat.tolist(), 0.6)}
    crops = {"room_floor": [CropPair("room_floor", (20, 8, 64, 64), (20, 8, 64, 64))]}

    model, preprocess = tiny_clip_for_tests()
    clip = ClipMaterials(model, preprocess, list(SUBSET), np.zeros((len(SUBSET), 32), np.float32))
    thumbs = [np.asarray(Image.open(io.BytesIO(_thumbnail(n)))) / 255.0 for n in SUBSET]
    clip.embeddings = clip.embed(thumbs)
    cfg = MaterialLightConfig(scales="1,2", rotations="0,90", clip_shortlist=4, top_k=4, keep_candidates=3)
    voted = [r.name for r in clip.rank([case.photo_srgb[8:72, 20:84]], cfg.top_k)][:cfg.clip_shortlist]
    notes: list[str] = []
    info, chosen, rows = retrieve_parts.retrieve_by_synthesis(case, states, crops, uv_image, cfg, clip, notes)
    assert info["mode"] == "synthesis+clip" and info["parts"] == 1
    part = chosen["room_floor"]
    assert {c["library"] for c in part["candidates"]} <= set(voted)  # CLIP narrowed what synthesis scored
    if "oak_planks" in voted:
        assert part["best"] == "oak_planks"
    state = states["room_floor"]
    assert isinstance(state, Procedural) and state.library == part["best"]
    assert (state.uv_scale, state.uv_rotation_deg) == (part["texture_search"]["scale"],
                                                       part["texture_search"]["rotation_deg"])
    assert any(n.startswith("room_floor: ") and "runner-up" in n for n in notes)
    # The retrieved pattern starts at the fitted flat colour, not the library's default colours.
    np.testing.assert_allclose(state.mean_colour(), flat, rtol=0.15)

    entry, _ = state.entry()
    cands, files = material_candidates("room_floor", state, entry, part["candidates"], part["texture_search"])
    assert cands[0].library == part["best"] and cands[-1].type == "principled"  # in use ... flat colour last
    for c, r in zip(cands[1:-1], [r for r in part["candidates"] if r["library"] != part["best"]]):
        assert c.uv_scale == r["scale"] and 0 < c.score <= 1 and "match" in c.label
        assert c.values == r["values"] and c.values  # colour-matched start, real units
        assert files[c.thumbnail][:2] == b"\xff\xd8"  # the shipped library's lit thumbnail, copied

    sheet = Image.open(io.BytesIO(retrieval_sheet(rows)))
    assert sheet.size[0] > 4 * 64 and sheet.size[1] >= 64


def _thumbnail(name: str) -> bytes:
    from materials_db.thumbs import thumbnail_path

    return thumbnail_path(name).read_bytes()


def test_parts_only_take_plausible_categories(library):
    """A wall never takes polished chrome (a grey albedo tile that renders as a mirror), a floor takes wood or
    tiles but not leather, and furniture never takes wall paint or floor tiles."""
    from pipeline.stages.materials_lights.retrieve_parts import plausible

    categories = library.categories
    for part, allowed in (("room_wall_x_max", {"paint", "plaster", "wallpaper", "tiles", "wood", "stone", "concrete"}),
                          ("room_floor", {"wood", "tiles", "carpet", "stone", "concrete"}),
                          ("room_ceiling", {"paint", "plaster", "concrete", "wood"})):
        names = plausible(library, part)
        assert names and {categories[n] for n in names} <= allowed, part
    furniture = {categories[n] for n in plausible(library, "bed_1.frame")}
    assert "paint" not in furniture and "tiles" not in furniture and {"wood", "fabric"} & furniture
    # the asset's material class narrows a furniture part: a duvet is never marble, a drawer front never velvet
    # (the subset holds no fabric: a duvet gets nothing textured here, not the striped rug or the marble)
    assert {categories[n] for n in plausible(library, "bed_1.duvet", "fabric")} <= {"fabric"}
    assert plausible(library, "rug_1.body", "fabric") == ["carpet_beige", "rug_striped"]
    assert {categories[n] for n in plausible(library, "dresser_1.fronts", "wood")} == {"wood"}
    assert plausible(library, "mirror_1.glass", "glass") == []  # nothing textured: it stays flat
    assert plausible(library, "bed_1.duvet", "") == plausible(library, "bed_1.frame")  # no hint: as before


def _plain_wall(rng, side: int = 48, edge: bool = False):
    """A plain painted wall's crop: a flat colour under light that falls off quadratically (a lamp's highlight),
    with photo noise; with `edge`, a dark strip along its top (a shelf's edge the region's border lets in)."""
    from pipeline.stages.materials_lights.synthesis import CropView

    uv = _floor_uv(rng, side, side)
    colour = np.array([0.62, 0.6, 0.55])
    yy, xx = np.mgrid[0:side, 0:side] / side - 0.5
    light = 0.6 * (1.0 - 0.5 * (xx ** 2 + yy ** 2))[..., None]  # a wall at mid brightness in the photo
    photo = np.clip(colour * light + rng.normal(0, 0.003, (side, side, 3)), 0, None)
    if edge:
        photo[:5] = 0.05
    return CropView(photo, uv, photo.reshape(-1, 3).mean(0) / colour), colour


def test_flat_room_face_takes_a_near_flat_graph(library):
    """A plain wall stays flat for furniture (no near-flat rule) and takes a near-flat library graph (paint or
    plaster: it renders flat at the fitted colour) on a room face, even with a highlight across the crop."""
    from pipeline.stages.materials_lights import synthesis

    rng = np.random.default_rng(5)
    view, colour = _plain_wall(rng)
    found = synthesis.rank(library, [view], colour, [0.5, 1, 2, 4], [0], prune=8)
    assert found.best is None  # homogeneous: no texture in the photo
    found = synthesis.rank(library, [view], colour, [0.5, 1, 2, 4], [0], prune=8, near_flat=True)
    assert found.best is not None and found.flat_like
    assert found.best.category in ("paint", "plaster") and found.best.pattern <= synthesis.NEAR_FLAT
    patterned = [r for r in found.ranked if r.library in ("oak_planks", "brick_wall_red", "hex_tiles_white")]
    assert patterned and all(r.pattern > synthesis.NEAR_FLAT for r in patterned)  # at the scale they show most


def test_an_object_edge_in_the_crop_is_not_texture(library):
    """A dark strip along a plain wall crop's edge (a neighbouring object) does not make a textured candidate
    win: the photo is compared by its best corner window; without the sub-windows the flat colour loses."""
    from pipeline.stages.materials_lights import synthesis

    rng = np.random.default_rng(9)
    view, colour = _plain_wall(rng, 64, edge=True)
    assert len(synthesis.subviews(view)) == 5
    found = synthesis.rank(library, [view], colour, [0.5, 1, 2, 4], [0], prune=8)
    assert found.best is None, found.ranked[0]
    whole = synthesis.MIN_SUBWINDOW_PX
    try:
        synthesis.MIN_SUBWINDOW_PX = 10 ** 6  # no sub-windows: the whole crop only
        assert synthesis.rank(library, [view], colour, [0.5, 1, 2, 4], [0], prune=8).flat > 2 * found.flat
    finally:
        synthesis.MIN_SUBWINDOW_PX = whole


def test_candidates_are_drawn_at_the_parts_colour(library):
    """With the part's flat albedo, every candidate's synthesised crop has the photo's mean colour (the chosen
    graph's colours are scaled to it), so patterns are compared rather than the library's default colours."""
    from pipeline.stages.materials_lights.synthesis import synthesise

    rng = np.random.default_rng(2)
    views, flat = _views(_randomised_tile("oak_planks", rng), rng, sizes=(48,))
    crops = synthesise(library, SUBSET, views[0], 2.0, 0.0, colour=flat)
    target = views[0].photo.reshape(-1, 3).mean(0)
    for name, crop in zip(SUBSET, crops):
        np.testing.assert_allclose(crop.reshape(-1, 3).mean(0), target, rtol=0.2, err_msg=name)


def test_quadratic_shading_is_not_texture():
    from pipeline.stages.materials_lights.texture_stats import distance, features

    yy, xx = np.mgrid[0:48, 0:48] / 48 - 0.5
    flat = np.full((48, 48, 3), 0.4)
    lit = flat * (1.0 - 0.8 * (xx ** 2 + yy ** 2) + 0.2 * xx)[..., None]  # a highlight and a gradient
    x = np.arange(48)
    stripes = flat * (1 + 0.1 * (x // 4 % 2))[None, :, None]  # a faint texture for scale
    f = features(np.stack([flat, lit, stripes]))
    texture = distance(f[1:], f[0], colour_weight=0.0)  # the texture group alone (colour spread is the light's)
    assert texture[0] < 0.01 and texture[1] > 100 * texture[0]


def test_retrieval_inputs_round_trip_and_replay_figures(library):
    """report/retrieval_inputs.npz holds what ranking needs: read back, the same views rank the same; the
    replay harness finds a part's true surface under its crop windows and counts top-1 / top-5 as bench
    realistic does."""
    from pipeline.app.bench.retrieval import figures, truth_of_part
    from pipeline.stages.materials_lights import retrieve_parts
    from pipeline.stages.materials_lights.crops import CropPair
    from pipeline.stages.materials_lights.synthesis import rank

    rng = np.random.default_rng(4)
    views, flat = _views(_randomised_tile("hex_tiles_white", rng), rng, sizes=(48,))
    photo, uv_image = np.zeros((60, 80, 3)), np.zeros((60, 80, 2))
    photo[5:53, 10:58], uv_image[5:53, 10:58] = views[0].photo, views[0].uv
    pairs = [CropPair("room_floor", (10, 5, 48, 48), (10, 5, 48, 48))]
    part = retrieve_parts._part_inputs(photo, uv_image, pairs, flat)
    back = retrieve_parts.load_retrieval_inputs(retrieve_parts.retrieval_inputs({"room_floor": part}))["room_floor"]
    a = rank(library, retrieve_parts.views_from_inputs(part), flat, [1, 2], [0], prune=8)
    b = rank(library, retrieve_parts.views_from_inputs(back), back["flat"], [1, 2], [0], prune=8)
    assert [r.library for r in a.ranked] == [r.library for r in b.ranked] and a.best.library == b.best.library

    seg = np.zeros((60, 80), int)
    seg[:, 40:] = 7
    surfaces = {3: {"label": "wall"}, 7: {"label": "floor"}}
    seg[seg == 0] = 3
    assert truth_of_part(np.array([[45, 5, 30, 30]]), seg, surfaces)["label"] == "floor"
    rows = [{"kind": "graph", "truth": "tiles", "result": "tiles", "top5": ["tiles"]},
            {"kind": "graph", "truth": "paint", "result": "homogeneous", "top5": ["homogeneous", "paint"]},
            {"kind": "image", "truth": "wood", "result": "homogeneous", "top5": ["homogeneous"]},
            {"kind": "principled", "truth": "paint", "result": "paint", "top5": ["paint"]}]
    fig = figures(rows)
    assert fig["top1"] == 0.5 and fig["top5"] == 1.0 and abs(fig["procedural"] - 1 / 3) < 1e-9


def test_stage_retrieval_gives_a_flat_wall_a_near_flat_graph_and_keeps_furniture_flat(library, monkeypatch):
    """Through retrieve_by_synthesis: the same plain crop makes a room wall Procedural with a near-flat graph at
    the fitted colour (its note says so), while a furniture part with it stays homogeneous; the inputs for
    `bench retrieval` are filled."""
    from pipeline.stages.materials_lights import retrieve_parts
    from pipeline.stages.materials_lights.config import MaterialLightConfig
    from pipeline.stages.materials_lights.crops import CropPair
    from pipeline.stages.materials_lights.state import Homogeneous, Procedural

    monkeypatch.setattr(retrieve_parts, "SynthesisLibrary", lambda resolution: library)
    view, colour = _plain_wall(np.random.default_rng(5), 64)
    photo, uv_image = np.zeros((80, 100, 3)), np.zeros((80, 100, 2))
    photo[8:72, 20:84], uv_image[8:72, 20:84] = view.photo, view.uv
    case = SimpleNamespace(photo_linear=photo)
    window = (20, 8, 64, 64)
    states = {n: Homogeneous.create(n, colour.tolist(), 0.6) for n in ("room_wall_x_max", "chair_1.seat")}
    crops = {n: [CropPair(n, window, window)] for n in states}
    notes: list[str] = []
    inputs: dict = {}
    cfg = MaterialLightConfig(scales="0.5,1,2,4", rotations="0", keep_candidates=3)
    info, chosen, _ = retrieve_parts.retrieve_by_synthesis(case, states, crops, uv_image, cfg, None, notes, inputs)
    wall = states["room_wall_x_max"]
    assert isinstance(wall, Procedural) and library.categories[wall.library] in ("paint", "plaster")
    assert chosen["room_wall_x_max"]["best"] == wall.library
    np.testing.assert_allclose(wall.mean_colour(), colour, rtol=0.15)  # its colours start at the fitted one
    assert isinstance(states["chair_1.seat"], Homogeneous) and chosen["chair_1.seat"]["best"] is None
    assert any(n.startswith("room_wall_x_max: ") and "near-flat" in n for n in notes)
    assert set(inputs) == {"room_wall_x_max", "chair_1.seat"} and inputs["chair_1.seat"]["photo0"].shape == (64, 64, 3)


def test_choice_rules_between_flat_near_flat_and_patterned():
    """Retrieved.best: among candidates as good as the top (SIMPLER_TOL) the least patterned wins; a photo that
    is textured but unlike every candidate stays homogeneous even on a room face (no near-flat stand-in); a flat
    photo on a room face takes the near-flat graph."""
    from pipeline.stages.materials_lights.synthesis import NEAR_FLAT, SIMPLER_TOL, Retrieved, Scored

    tiles = Scored("large_floor_tiles_beige", "tiles", 0.15, pattern=2.0)
    plaster = Scored("plaster_white", "plaster", 0.15 * (1 + SIMPLER_TOL / 2), pattern=0.18)
    paint = Scored("wall_paint_white", "paint", 0.6, pattern=NEAR_FLAT / 10)
    assert Retrieved([tiles, plaster, paint], flat=0.34, shortlist=3).best is plaster
    far = Scored("wall_paint_white", "paint", 0.15 * (1 + 2 * SIMPLER_TOL), pattern=0.01)
    assert Retrieved([tiles, far], flat=0.34, shortlist=2).best is tiles
    parquet = Scored("teak_parquet_basketweave", "wood", 3.5, pattern=30.0)  # similarity 0.03: no evidence
    carpet = Scored("carpet_beige", "carpet", 4.0, pattern=0.1)
    assert Retrieved([parquet, carpet], flat=33.0, shortlist=2, near_flat=True).best is None
    flat_photo = Retrieved([tiles, paint], flat=0.05, shortlist=2, near_flat=True)
    assert flat_photo.best is paint and flat_photo.flat_like
    assert Retrieved([tiles, paint], flat=0.05, shortlist=2).best is None  # furniture: homogeneous
