"""Object candidates in the Asset Browser (issue 18): the import option marks every buildable candidate as a
collection asset with its thumbnail as preview, in a catalogue named after the reconstruction; nothing of it in
the scene; a re-import replaces the assets; a saved file gets the catalogue file."""

from __future__ import annotations

import json

import numpy as np
import pytest

from addon_fixtures import add_object, addon, empty_file, make_bundle  # noqa: F401

bpy = pytest.importorskip("bpy")


def _assets():
    return sorted((c for c in bpy.data.collections if c.asset_data is not None), key=lambda c: c.name)


def test_candidates_become_assets(addon, empty_file, make_bundle, tmp_path):
    from blender_addon.builders.assets import catalog_id
    from p2s_common.images import write_png

    bundle = make_bundle()
    add_object(bundle)  # three candidates: two with meshes in the bundle, one not buildable here
    write_png(bundle / "thumbs" / "box_tall.png", np.tile(np.array([0.9, 0.1, 0.1], np.float32), (16, 24, 1)))
    scene = json.loads((bundle / "scene.json").read_text())
    scene["objects"][0]["candidates"][1]["thumbnail"] = "thumbs/box_tall.png"
    (bundle / "scene.json").write_text(json.dumps(scene))

    assert bpy.ops.photo2scene.import_bundle("EXEC_DEFAULT", True, directory=str(bundle)) == {"FINISHED"}
    assert _assets() == []  # off by default
    bpy.ops.photo2scene.import_bundle("EXEC_DEFAULT", True, directory=str(bundle), candidate_assets=True)
    assets = _assets()
    assert [a.name for a in assets] == ["sofa_1: box_low", "sofa_1: box_tall"]
    recon = bpy.context.scene.photo2scene.reconstruction
    assert {a.asset_data.catalog_id for a in assets} == {catalog_id(recon.name)}
    tall = assets[1]
    assert tuple(tall.preview.image_size) == (24, 16)  # the thumbnail as the preview
    pixels = np.array(tall.preview.image_pixels_float[:]).reshape(-1, 4)
    assert np.allclose(pixels[:, :3].mean(axis=0), [0.9, 0.1, 0.1], atol=0.02)
    assert "fit" in tall.asset_data.description or "candidate 2" in tall.asset_data.description
    assert "sofa" in {t.name for t in tall.asset_data.tags}
    assert "chosen" in {t.name for t in assets[0].asset_data.tags}  # box_low is the one in use
    # Nothing of the assets is in the scene; the asset holds the built candidate at the origin.
    scene_objects = set(bpy.context.scene.objects)
    for asset in assets:
        assert asset.use_fake_user and not set(asset.all_objects) & scene_objects
        root = next(o for o in asset.objects if o.parent is None)
        assert tuple(root.matrix_world.translation) == pytest.approx((0.0, 0.0, 0.0))
        assert any(o.type == "MESH" for o in asset.all_objects)

    # A re-import replaces them (no .001 duplicates); a saved file gets the catalogue definition.
    blend = tmp_path / "scene.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(blend))
    bpy.ops.photo2scene.import_bundle("EXEC_DEFAULT", True, directory=str(bundle), candidate_assets=True)
    assert [a.name for a in _assets()] == ["sofa_1: box_low", "sofa_1: box_tall"]
    cats = (tmp_path / "blender_assets.cats.txt").read_text()
    assert "VERSION 1" in cats and f"{catalog_id(recon.name)}:photo2scene/{recon.name}:" in cats
