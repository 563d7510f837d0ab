"""The stage's parts on their own: crops, lights, unit conversions, VGG Gram, material selection, XML export."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from ml_fixtures import DEVICE, small_scene


def test_largest_rectangle_matches_brute_force():
    from pipeline.stages.materials_lights.crops import largest_rectangle

    rng = np.random.default_rng(1)
    for _ in range(40):
        m = rng.random((9, 11)) > 0.3
        x, y, w, h = largest_rectangle(m)
        assert m[y:y + h, x:x + w].all()
        best = max(((y1 - y0) * (x1 - x0) for y0 in range(9) for y1 in range(y0 + 1, 10) for x0 in range(11)
                    for x1 in range(x0 + 1, 12) if m[y0:y1, x0:x1].all()), default=0)
        assert w * h == best


def test_crop_windows_are_inside_disjoint_and_tiled():
    from pipeline.stages.materials_lights.crops import crop_windows

    mask = np.zeros((120, 160), bool)
    mask[10:110, 5:150] = True
    mask[50:60, 60:70] = False
    rects = crop_windows(mask, 4, 12, 32)
    assert 1 <= len(rects) <= 4
    taken = np.zeros_like(mask)
    for x, y, w, h in rects:
        assert mask[y:y + h, x:x + w].all() and not taken[y:y + h, x:x + w].any()
        assert 12 <= min(w, h) and max(w, h) <= 32
        taken[y:y + h, x:x + w] = True


def test_user_crops_json(tmp_path):
    from p2s_common.errors import InputError
    from pipeline.stages.materials_lights.crops import load_user_crops

    scene, _ = small_scene(160, 120)
    path = tmp_path / "crops.json"
    path.write_text(json.dumps({"crops": [
        {"object": "box_1", "part": "body", "photo": [10, 10, 40, 30], "size": [320, 240]},
        {"material": "room_wall", "photo": [0, 0, 20, 20], "render": [2, 2, 20, 20]}]}))
    crops = load_user_crops(path, scene, 160, 120)
    assert crops["box_1.body"][0].photo == (5, 5, 20, 15) and crops["box_1.body"][0].source == "user"
    assert crops["room_wall"][0].render == (2, 2, 20, 20)
    path.write_text(json.dumps({"crops": [{"material": "nope", "photo": [0, 0, 9, 9]}]}))
    with pytest.raises(InputError, match="nope"):
        load_user_crops(path, scene, 160, 120)


def test_click_crops_land_in_the_selected_material(tmp_path):
    from pipeline.stages.materials_lights.crops import load_user_crops

    scene, _ = small_scene(160, 120)
    photo = np.full((120, 160, 3), 0.8, np.float32)
    photo[40:110, 20:100] = [0.6, 0.2, 0.1]  # a red patch
    path = tmp_path / "crops.json"
    path.write_text(json.dumps({"crops": [{"material": "box_1.body", "click": [60, 75]}]}))
    crops = load_user_crops(path, scene, 160, 120, photo)
    for pair in crops["box_1.body"]:
        x, y, w, h = pair.photo
        assert 20 <= x and x + w <= 100 and 40 <= y and y + h <= 110


def test_light_units_round_trip():
    from pipeline.core.scene import Light
    from pipeline.render.scene_render import light_area, light_power, light_radiance

    light = Light("a", "area", [0, 0, 2], np.eye(3).tolist(), [0.5, 0.8], [1.0, 0.8, 0.6], 40.0)
    rad = light_radiance(light)
    assert np.allclose(rad, np.array([1.0, 0.8, 0.6]) * 40.0 / (math.pi * 0.4))
    power, colour = light_power(rad, light_area(light))
    assert power == pytest.approx(40.0) and np.allclose(colour, light.color)
    # A bulb: a point light with a radius emits from its sphere, 4 pi r^2.
    bulb = Light("b", "point", [0, 0, 1], color=[1.0, 0.7, 0.4], power_w=60.0, radius=0.05)
    assert light_area(bulb) == pytest.approx(4 * math.pi * 0.05 ** 2)
    rad = light_radiance(bulb)
    assert np.allclose(rad, np.array([1.0, 0.7, 0.4]) * 60.0 / (math.pi * 4 * math.pi * 0.05 ** 2))
    assert light_power(rad, light_area(bulb))[0] == pytest.approx(60.0)


def test_initial_lights_layout(tmp_path):
    from box_case import write_box_case

    from pipeline.core.case import load_case
    from pipeline.stages.materials_lights.lights_init import initial_lights, l1_scalar

    truth = write_box_case(tmp_path, pitch=8.0, fov_y=75.0)  # floor and ceiling both in view
    case = load_case(tmp_path / "photo.png", tmp_path / "estimates")
    cam, room = truth["camera"], truth["room"]
    keep = initial_lights(cam, room, case, grid_m=1.0, drop_in_view=False)
    drop = initial_lights(cam, room, case, grid_m=1.0, drop_in_view=True)
    sources = [li.source for li in keep]
    assert sources.count("ceiling") > [li.source for li in drop].count("ceiling")
    assert "behind_camera" in sources and "unseen_wall" in sources
    forward = cam.R @ np.array([0.0, 0.0, -1.0])
    for li in keep:
        p = np.asarray(li.light.position)
        assert np.all(np.abs(p[:2] - room.center[:2]) <= np.asarray(room.size[:2]) / 2 + 1e-6)
        if li.source == "ceiling":
            assert (p - cam.t)[:2] @ forward[:2] >= 0  # none behind the camera
            assert np.allclose(np.asarray(li.light.rotation) @ [0, 0, -1], [0, 0, -1])  # facing down
    # L1-optimal scalar: a weighted median, robust to outliers.
    unit = np.ones(100)
    target = 2.0 * unit
    target[:10] = 50.0
    assert l1_scalar(target, np.zeros(100), unit) == pytest.approx(2.0)


def test_vgg_gram_is_size_independent_and_differentiable():
    import torch

    from pipeline.stages.materials_lights.vgg import load_vgg

    vgg = load_vgg(allow_random=True)
    torch.manual_seed(0)
    tile, other = torch.rand(16, 16, 3), torch.rand(16, 16, 3) ** 3
    small, big = tile.repeat(4, 4, 1), tile.repeat(8, 8, 1)
    assert vgg.descriptor(small[None]).shape == vgg.descriptor(big[None]).shape
    same = float(vgg.loss(small[None], big[None]))  # one texture at two crop sizes
    different = float(vgg.loss(small[None], other.repeat(8, 8, 1)[None]))
    assert same < 0.2 * different
    x = torch.full((48, 48, 3), 0.5, requires_grad=True)
    vgg.loss(x[None], small[None]).backward()
    assert x.grad is not None and float(x.grad.abs().sum()) > 0


def test_matselect_two_levels():
    from pipeline.matselect import select

    rng = np.random.default_rng(0)
    img = np.zeros((96, 128, 3), np.float32)
    img[:, :64] = [0.8, 0.8, 0.75]  # plain plaster on the left
    yy, xx = np.mgrid[:96, 64:128]
    dots = ((yy % 12) < 5) & ((xx % 12) < 5)
    img[:, 64:] = np.where(dots[..., None], [0.8, 0.2, 0.3], [0.3, 0.3, 0.6])  # dotted wallpaper on the right
    img += rng.normal(0, 0.01, img.shape).astype(np.float32)
    texture = select(img, (100, 40), "texture")
    assert texture[:, 70:].mean() > 0.85 and texture[:, :56].mean() < 0.1
    click = (74, 2)  # on a dot
    sub = select(img, click, "subtexture")
    right = sub[:, 64:]
    assert right[dots].mean() > 0.6 and right[~dots].mean() < 0.2


def test_mitsuba_xml_renders_like_the_stage(tmp_path):
    import mitsuba as mi

    from pipeline.app.export.mitsuba_xml import scene_materials, write_mitsuba_scene
    from pipeline.render.backend import init_mitsuba
    from pipeline.render.scene_render import RenderSettings, load_scene, render_numpy, scene_dict

    init_mitsuba(DEVICE)
    scene, files = small_scene(40, 30)
    path = write_mitsuba_scene(tmp_path, scene, files, spp=64)
    text = path.read_text()
    assert "hide_emitters" in text and "rectangle" in text and ".ply" in text
    from_xml = np.array(mi.render(mi.load_file(str(path)), spp=64, seed=1))[..., :3]
    direct = render_numpy(load_scene(scene_dict(scene, scene_materials(scene, files.read),
                                                RenderSettings(40, 30, 64, 6, "path", extra={"hide_emitters": True}),
                                                read=files.read)),
                          seed=1)
    assert abs(from_xml.mean() / direct.mean() - 1) < 0.03


def test_photo_loss_spaces():
    """The joint optimisation's photo term: L1 of linear radiance, or L1 / L2 of sRGB values (where the photo PSNR
    is measured), over the kept pixels only, with gradients; an unknown kind is refused by name."""
    import torch

    from p2s_common.images import linear_to_srgb
    from pipeline.stages.materials_lights.optimise import photo_loss

    rng = np.random.default_rng(0)
    photo = rng.uniform(0.0, 1.0, (6, 8, 3)).astype(np.float32)
    render = torch.tensor(np.clip(photo + rng.normal(0, 0.1, photo.shape), 0, 1).astype(np.float32),
                          requires_grad=True)
    keep = torch.ones(6, 8, 1)
    keep[0] = 0.0  # the first row shows an emitter: not compared
    r, p = render.detach().numpy()[1:], photo[1:]
    expect = {"l1-linear": np.abs(r - p).mean(), "l1-srgb": np.abs(linear_to_srgb(r) - linear_to_srgb(p)).mean(),
              "l2-srgb": np.square(linear_to_srgb(r) - linear_to_srgb(p)).mean()}
    for kind, value in expect.items():
        loss = photo_loss(render, torch.from_numpy(photo), keep, kind)
        assert float(loss.detach()) == pytest.approx(value, rel=1e-3), kind
        (grad,) = torch.autograd.grad(loss, render)
        assert torch.isfinite(grad).all() and float(grad[0].abs().sum()) == 0.0
    with pytest.raises(ValueError, match="photo-loss"):
        photo_loss(render, torch.from_numpy(photo), keep, "l3")
