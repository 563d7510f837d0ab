"""Appearance in shape retrieval: face colours read at the UVs, the lighting-free colour distance, the albedo
render, and the stage choosing, of two models that share their shape, the one whose colours the photo shows."""

from __future__ import annotations

import json

import numpy as np
import pytest
import trimesh
from PIL import Image

from box_case import DEVICE
from pipeline.render.backend import init_mitsuba
from pipeline.render.silhouettes import Pose, albedo_image, part_ids_image
from pipeline.stages.objects.appearance import WORST, appearance_distance

RED, BLUE = (200, 30, 20), (20, 40, 190)


def _atlas() -> Image.Image:
    """A 2x1 palette atlas, red | blue, as a pack shares one texture among its models."""
    image = np.zeros((1, 2, 3), np.uint8)
    image[0, 0], image[0, 1] = RED, BLUE
    return Image.fromarray(image)


def _box_on_atlas(u: float, extents=(0.8, 0.4, 0.9)) -> trimesh.Trimesh:
    """A box standing on z=0 whose every UV points at column `u` of the atlas."""
    box = trimesh.creation.box(extents=extents)
    box.apply_translation([0, 0, extents[2] / 2])
    uv = np.tile([u, 0.5], (len(box.vertices), 1))
    box.visual = trimesh.visual.TextureVisuals(
        uv=uv, material=trimesh.visual.material.PBRMaterial(baseColorTexture=_atlas()))
    return box


def test_face_colors_read_a_palette_atlas_at_the_uvs():
    """Two models on one atlas wear different colours: the UVs say which (the atlas's mean said the same grey)."""
    from assets_index.meshutil import face_colors, part_color

    red, blue = face_colors(_box_on_atlas(0.25)), face_colors(_box_on_atlas(0.75))
    assert red.shape == (12, 3) and np.allclose(red, red[0]) and np.allclose(blue, blue[0])
    assert red[0, 0] > 5 * red[0, 2] and blue[0, 2] > 5 * blue[0, 0]
    assert np.allclose(part_color(_box_on_atlas(0.25)), red[0])
    bare = trimesh.creation.box()  # no colour of its own: the fallback (the index's part colour) stands in
    assert np.allclose(face_colors(bare, (0.1, 0.2, 0.3)), (0.1, 0.2, 0.3))


def test_a_broken_texture_falls_back_with_a_warning(caplog):
    """A texture that cannot be read gives the fallback colour and says so (it used to pass silently)."""
    from assets_index.meshutil import face_colors

    mesh = _box_on_atlas(0.25)

    class Unreadable:
        def convert(self, mode):
            raise OSError("truncated image file")

    mesh.visual.material.image = Unreadable()
    with caplog.at_level("WARNING"):
        colours = face_colors(mesh, (0.1, 0.2, 0.3))
    assert np.allclose(colours, (0.1, 0.2, 0.3))
    assert "truncated image file" in caplog.text and "fallback" in caplog.text


def test_a_palette_part_splits_into_one_part_per_colour():
    """A box whose faces use both colours of the atlas splits into two parts (the larger first); a box of one
    colour, or with a photo-like texture of small variations, stays whole."""
    from assets_index.meshutil import face_colors, split_by_colour

    box = _box_on_atlas(0.25)
    box.unmerge_vertices()  # each face its own corners, so each has its own UVs
    uv = np.asarray(box.visual.uv).copy()
    uv[np.unique(box.faces[:4])] = (0.75, 0.5)  # two of the six sides blue
    box.visual = trimesh.visual.TextureVisuals(uv=uv, material=box.visual.material)
    parts = split_by_colour({"atlas": box})
    assert list(parts) == ["atlas_1", "atlas_2"]
    assert sum(len(p.faces) for p in parts.values()) == 12
    red, blue = (face_colors(parts[n]).mean(0) for n in ("atlas_1", "atlas_2"))
    assert red[0] > red[2] and blue[2] > blue[0]
    assert list(split_by_colour({"plain": _box_on_atlas(0.25)})) == ["plain"]
    grain = trimesh.creation.box()
    rng = np.random.default_rng(0)
    image = Image.fromarray((120 + rng.integers(0, 25, (16, 16, 3))).astype(np.uint8))
    grain.visual = trimesh.visual.TextureVisuals(uv=rng.random((len(grain.vertices), 2)),
                                                 material=trimesh.visual.material.PBRMaterial(baseColorTexture=image))
    assert list(split_by_colour({"wood": grain})) == ["wood"]


def test_appearance_distance_leaves_the_lighting_out():
    """The same colours under uneven, dimmer light are close; the colours swapped are far; no overlap is WORST."""
    albedo = np.zeros((20, 20, 3))
    albedo[:10] = (0.6, 0.1, 0.05)  # a red top
    albedo[10:] = (0.8, 0.8, 0.8)  # a white bottom
    shading = np.linspace(0.2, 0.5, 20)[None, :, None]
    mask = np.ones((20, 20))
    same = appearance_distance(albedo * shading, albedo, mask)
    swapped = appearance_distance(albedo[::-1] * shading, albedo, mask)
    assert same < 0.1 and swapped > 3 * same + 0.2
    assert appearance_distance(albedo, albedo, np.zeros((20, 20))) == WORST
    # A real photo's shadows and sensor noise: a few near-black pixels do not make the right colours look wrong.
    dark = albedo * shading
    dark[::4, ::5] = 1e-5
    assert appearance_distance(dark, albedo, mask) < 0.2 < appearance_distance(albedo[::-1] * shading, albedo, mask)


def test_albedo_image_shows_each_faces_own_colour(tmp_path):
    """A posed box rendered with its face colours: the camera sees its colour where it is, nothing elsewhere."""
    from box_case import write_box_case

    init_mitsuba(DEVICE)
    camera = write_box_case(tmp_path, width=64, height=48)["camera"]
    box = trimesh.creation.box(extents=(0.8, 0.4, 0.9))
    box.apply_translation([0, 0, 0.45])
    colors = np.tile([0.7, 0.1, 0.05], (len(box.faces), 1))
    image = albedo_image(camera, (box.vertices, box.faces), colors, Pose(np.array([0.5, 1.0, 0.0]), 0.3, 1.0),
                         64, 48, 4)
    seen = image.sum(-1) > 1e-3
    assert 0.02 < seen.mean() < 0.6
    inside = image[seen & (image.sum(-1) > 0.8 * image.sum(-1).max())]
    assert np.allclose(inside.mean(0), (0.7, 0.1, 0.05), atol=0.02)


def test_part_ids_image_tells_each_part_apart(tmp_path):
    """Two parts side by side (left and right half of a box): each pixel shows one part's index, never a blend,
    and the left part is left of the right one."""
    from box_case import write_box_case

    init_mitsuba(DEVICE)
    camera = write_box_case(tmp_path, width=64, height=48)["camera"]
    halves = []
    for x in (-0.2, 0.2):
        half = trimesh.creation.box(extents=(0.4, 0.4, 0.9))
        half.apply_translation([x, 0, 0.45])
        halves.append((half.vertices, half.faces))
    pose = Pose(np.array([0.5, 1.0, 0.0]), np.radians(20.0), 1.0)  # the camera looks along yaw 20 deg
    ids = part_ids_image(camera, halves, pose, 64, 48)
    assert set(np.unique(ids)) == {-1, 0, 1}
    cols = np.nonzero(ids >= 0)[1]
    assert np.median(cols[ids[ids >= 0] == 0]) < np.median(cols[ids[ids >= 0] == 1])


@pytest.mark.slow
def test_stage_chooses_the_twin_whose_colours_the_photo_shows(tmp_path, monkeypatch):
    """Two of the artist's cabinets share one shape and one atlas, one red, one blue; the photo shows the red one
    under uneven light. Shape alone cannot tell them apart (the blue one comes first in retrieval's order); the
    colour distance does, and is recorded per candidate."""
    from assets_index import open_index
    from pipeline.app.cli import main
    from pipeline.core.case import load_case
    from pipeline.core.events import Silent
    from pipeline.stages.objects import stage as object_stage
    from pipeline.stages.objects.stage import merged_mesh
    from pipeline.stages.room import stage as room_stage
    from test_objects import _case_with_object, _fast_config

    monkeypatch.setenv("PHOTO2SCENE_ASSETS_INDEX", str(tmp_path / "default"))
    library = tmp_path / "pack"
    library.mkdir()
    for name, u in (("cabinet_blue", 0.75), ("cabinet_red", 0.25)):
        _box_on_atlas(u).export(library / f"{name}.glb")
        (library / f"{name}.json").write_text(json.dumps({"category": "cabinet", "up": "z", "units": "m"}))
    assert main(["assets", "index", str(library), "--index", str(tmp_path / "index"), "--no-clip",
                 "--no-render"]) == 0
    index = open_index(tmp_path / "index")
    red, blue = (f"file:{(library / n).resolve()}" for n in ("cabinet_red.glb", "cabinet_blue.glb"))

    case_dir = tmp_path / "case"
    _case_with_object(case_dir, None, Pose(np.array([-0.3, 1.55, 0.0]), 0.0, 1.0),
                      mesh=merged_mesh(index.load_mesh(red)))
    photo = np.asarray(Image.open(case_dir / "photo.png")).astype(float)
    ids = np.asarray(Image.open(case_dir / "estimates/segmentation.png"))
    shade = np.linspace(0.55, 1.0, photo.shape[1])[None, :, None]
    painted = np.broadcast_to(np.array(RED, float) * shade, photo.shape)
    photo[ids == 10] = painted[ids == 10]
    Image.fromarray(photo.astype(np.uint8)).save(case_dir / "photo.png")

    case = load_case(case_dir / "photo.png", case_dir / "estimates")
    config = _fast_config(rerank_k=2)
    config.objects.asset_index = str(tmp_path / "index")
    config.objects.builtin_library = False
    scene = room_stage.run(None, case, config, Silent())
    scene = object_stage.run(scene, case, config, Silent())
    obj = scene.objects[0]
    assert obj["asset_id"] == red
    distance = {c["asset_id"]: c["colour_distance"] for c in obj["candidates"]}
    assert distance[red] < 0.2 < distance[blue]
    # Its material starts from the photo's pixels of that part: red, as the photo shows it.
    colour = scene.materials[obj["parts"][0]["material"]]["base_color"]
    assert colour[0] > 4 * colour[2]
