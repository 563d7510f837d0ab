"""The scene an artist opens (issue 18), headless: Refine writes back exactly what changed; the import's
collections, names, World, shading and render settings; a re-import keeps what the artist added; candidate names
and scores after swaps."""

from __future__ import annotations

import json
import math

import pytest

from addon_fixtures import add_object, addon, empty_file, make_bundle  # noqa: F401

bpy = pytest.importorskip("bpy")


def _import(path, **kwargs) -> set:
    return bpy.ops.photo2scene.import_bundle("EXEC_DEFAULT", True, directory=str(path), **kwargs)


def _reconstruction():
    return bpy.context.scene.photo2scene.reconstruction


# ------------------------------------------------------------------------------------------- write-back

def test_refine_writes_exactly_what_changed(addon, empty_file, make_bundle):
    from blender_addon.bundle import load_bundle
    from blender_addon.sync import collect_edits, find_object

    bundle = make_bundle()
    add_object(bundle, yaw_deg=261.3)  # Blender reads this yaw back as -98.7 degrees
    _import(bundle)
    coll = _reconstruction()
    original = load_bundle(bundle).scene
    scene, changes = collect_edits(coll, original)
    assert changes == [], changes
    assert scene["objects"][0]["yaw_deg"] == pytest.approx(261.3)

    find_object(coll, "sofa_1").location.x += 0.25  # 1: move an object
    bpy.data.objects["ceiling_light"].data.energy = 90.0  # 2: a light's power
    floor = bpy.data.objects["room_floor"].material_slots[0].material
    floor.node_tree.nodes["Principled BSDF"].inputs["Roughness"].default_value = 0.3  # 3: a material value
    scene, changes = collect_edits(coll, original)
    edits = [c for c in changes if not c.endswith(": locked (edited in Blender)")]
    assert sorted(edits) == ["light ceiling_light: power_w", "material room_floor: roughness",
                             "object sofa_1: location"], changes
    # the edited light and material are locked so Refine keeps them (issue 15); an object has no lock
    assert sorted(set(changes) - set(edits)) == ["light ceiling_light: locked (edited in Blender)",
                                                 "material room_floor: locked (edited in Blender)"], changes
    obj = scene["objects"][0]
    assert obj["location"] == pytest.approx([1.25, 0.5, 0.0], abs=1e-6)
    assert obj["yaw_deg"] == pytest.approx(261.3)  # untouched: kept as scene.json wrote it

    # A turn is written next to the old angle, in scene.json's own convention.
    find_object(coll, "sofa_1").rotation_euler.z += math.radians(10.0)
    scene, changes = collect_edits(coll, original)
    assert "object sofa_1: yaw_deg" in changes
    assert scene["objects"][0]["yaw_deg"] == pytest.approx(271.3, abs=1e-4)


def test_angle_delta_wraps():
    from blender_addon.sync import angle_delta_deg

    assert angle_delta_deg(-98.7, 261.3) == pytest.approx(0.0, abs=1e-9)
    assert angle_delta_deg(179.0, -179.0) == pytest.approx(-2.0)
    assert angle_delta_deg(10.0, 350.0) == pytest.approx(20.0)


# ------------------------------------------------------------------------------------------- import hygiene

def test_import_collections_names_world_shading(addon, empty_file, make_bundle):
    from blender_addon.scene_format import PROP_GROUP

    bundle = make_bundle("living room.bundle")
    add_object(bundle)
    assert _import(bundle) == {"FINISHED"}
    coll = _reconstruction()
    groups = {c.name: c for c in coll.children}
    assert list(groups) == ["Camera", "Room", "Furniture", "Lights"]
    assert {c[PROP_GROUP] for c in groups.values()} == {"camera", "room", "furniture", "lights"}
    assert not coll.objects  # everything is in a sub-collection
    assert [o.name for o in groups["Camera"].objects] == ["Camera living room"]
    assert bpy.context.scene.camera.name == "Camera living room"
    assert {o.name for o in groups["Room"].objects} >= {"room_floor", "room_wall_x_min"}
    assert {o.name for o in groups["Furniture"].objects} == {"sofa_1", "sofa_1.body"}
    assert [o.name for o in groups["Lights"].objects] == ["ceiling_light"]
    world = bpy.context.scene.world
    assert world.name == "photo2scene World"
    background = next(n for n in world.node_tree.nodes if n.bl_idname == "ShaderNodeBackground")
    assert tuple(background.inputs["Color"].default_value)[:3] == (0.0, 0.0, 0.0)
    # Smooth by angle: smooth faces, the box's 90-degree edges sharp.
    mesh = bpy.data.objects["sofa_1.body"].data
    assert all(p.use_smooth for p in mesh.polygons)
    sharp = mesh.attributes["sharp_edge"].data
    assert all(item.value for item in sharp)
    # The room's faces carry the bundle's materials, each under its plain name.
    for face in ("room_floor", "room_ceiling", "room_wall_x_min"):
        slots = bpy.data.objects[face].material_slots
        assert len(slots) == 1 and slots[0].material is not None and "." not in slots[0].material.name


def test_render_settings_only_when_asked(addon, empty_file, make_bundle):
    scene = bpy.context.scene
    scene.render.engine = "BLENDER_EEVEE"
    scene.cycles.samples = 77
    scene.view_settings.view_transform = "AgX"
    scene.render.resolution_x, scene.render.resolution_y = 1920, 1080
    bundle = make_bundle()
    _import(bundle, render_settings="KEEP")
    assert (scene.render.resolution_x, scene.render.resolution_y) == (1920, 1080)
    assert scene.view_settings.view_transform == "AgX" and scene.world is None
    _import(bundle)  # the default: the photo's size and colour management, engine and samples kept
    assert (scene.render.resolution_x, scene.render.resolution_y) == (48, 36)
    assert scene.view_settings.view_transform == "Standard"
    assert scene.render.engine == "BLENDER_EEVEE" and scene.cycles.samples == 77
    _import(bundle, render_settings="CYCLES")
    assert scene.render.engine == "CYCLES" and scene.cycles.samples == 128 and scene.cycles.use_denoising


def test_panel_choice_reaches_the_import(addon, empty_file, make_bundle):
    from blender_addon.operators import Log, import_bundle

    scene = bpy.context.scene
    scene.photo2scene.render_settings = "KEEP"
    scene.view_settings.view_transform = "AgX"
    assert import_bundle(bpy.context, make_bundle(), Log()) is not None
    assert scene.view_settings.view_transform == "AgX"


def test_reimport_keeps_what_the_artist_added(addon, empty_file, make_bundle):
    from blender_addon.sync import find_object

    bundle = make_bundle()
    add_object(bundle)
    _import(bundle)
    coll = _reconstruction()
    furniture = next(c for c in coll.children if c.name == "Furniture")
    vase = bpy.data.objects.new("vase", bpy.data.meshes.new("vase"))
    furniture.objects.link(vase)
    rug = bpy.data.objects.new("rug", bpy.data.meshes.new("rug"))
    coll.objects.link(rug)
    pillow = bpy.data.objects.new("pillow", None)  # parented to the sofa the pipeline owns
    furniture.objects.link(pillow)
    pillow.parent = find_object(coll, "sofa_1")
    pillow.location = (0.0, 0.0, 0.5)
    bpy.context.view_layer.update()
    pillow_world = pillow.matrix_world.copy()
    props = ("Room", "Furniture")
    n_objects = len(bpy.data.objects)
    n_materials = len(bpy.data.materials)

    _import(bundle)
    coll = _reconstruction()
    assert len([c for c in bpy.data.collections if c.get("photo2scene_bundle")]) == 1
    assert [c.name for c in coll.children] == ["Camera", "Room", "Furniture", "Lights"]
    assert bpy.data.objects.get("vase") in set(coll.all_objects)
    assert bpy.data.objects.get("rug") in set(coll.objects)
    pillow = bpy.data.objects["pillow"]
    assert pillow.parent is None
    assert all(abs(a - b) < 1e-6 for ra, rb in zip(pillow.matrix_world, pillow_world) for a, b in zip(ra, rb))
    # What the pipeline owns was rebuilt, once: same counts, no `.001` anywhere.
    assert len(bpy.data.objects) == n_objects and len(bpy.data.materials) == n_materials
    assert not [o.name for o in bpy.data.objects if "." in o.name and o.name != "sofa_1.body"]
    assert not [m.name for m in bpy.data.materials if m.name[-4:-3] == "." and m.name[-3:].isdigit()]
    assert all(c.name in coll.children for c in (bpy.data.collections[n] for n in props))


# ------------------------------------------------------------------------------------------- candidates

def test_swaps_leave_no_numbered_names(addon, empty_file, make_bundle):
    from blender_addon.sync import find_object

    bundle = make_bundle()
    add_object(bundle)
    _import(bundle)
    coll = _reconstruction()
    for index in (1, 0, 1):
        assert bpy.ops.photo2scene.use_candidate(kind="OBJECT", name="sofa_1", index=index) == {"FINISHED"}
        root = find_object(coll, "sofa_1")
        assert root.name == "sofa_1" and [c.name for c in root.children] == ["sofa_1.body"]
        assert root.children[0].data.name == "sofa_1.body"
        assert root.users_collection[0].name == "Furniture"
    for index in (1, 2, 0):
        assert bpy.ops.photo2scene.use_candidate(kind="MATERIAL", name="room_wall", index=index) == {"FINISHED"}
        assert bpy.data.objects["room_wall_x_min"].material_slots[0].material.name == "room_wall"
    numbered = [i.name for i in (*bpy.data.objects, *bpy.data.meshes, *bpy.data.materials)
                if i.name[-4:-3] == "." and i.name[-3:].isdigit()]
    assert numbered == []


def test_no_placeholder_left_on_the_room(addon, empty_file, make_bundle):
    """After the material stage, a wall it did not fit takes a fitted wall's material in Blender (scene.json keeps
    its placeholder); the placeholder is not left in the file, and the import says so."""
    from blender_addon.operators import Log, import_bundle

    bundle = make_bundle(candidates=False)
    scene = json.loads((bundle / "scene.json").read_text())
    scene["materials"]["room_wall_seen"] = {"type": "principled", "base_color": [0.5, 0.5, 0.4],
                                            "source": "materials_lights: optimised"}
    scene["materials"]["room_wall"]["source"] = "median photo colour (room stage placeholder)"
    for face in ("wall_x_max", "wall_y_min", "wall_y_max"):
        scene["room"]["materials"][face] = "room_wall_seen"
    scene["stages"]["materials_lights"] = {"status": "done"}
    (bundle / "scene.json").write_text(json.dumps(scene))
    log = Log()
    assert import_bundle(bpy.context, bundle, log) is not None
    assert bpy.data.objects["room_wall_x_min"].material_slots[0].material.name == "room_wall_seen"
    assert "room_wall" not in bpy.data.materials
    assert any(level == "WARNING" and "wall_x_min" in text and "placeholder" in text for level, text in log.messages)
    # Before the material stage every room material is a placeholder, and each face keeps its own.
    del scene["stages"]["materials_lights"]
    (bundle / "scene.json").write_text(json.dumps(scene))
    assert import_bundle(bpy.context, bundle, Log()) is not None
    assert bpy.data.objects["room_wall_x_min"].material_slots[0].material.name == "room_wall"


def test_candidate_rows_percent_matches_order():
    from blender_addon.edits import candidate_rows
    from blender_addon.scene_format import Candidate, MaterialEntry

    # As the object stage writes them (room_003's chair): fit_loss for the candidates it ranked by fit.
    chairs = [Candidate("chair_A", label="chair A", score=-0.352, fit_loss=0.2247),
              Candidate("chair_A_wood", score=-0.352, fit_loss=0.262),
              Candidate("chair_B", score=-0.352, fit_loss=0.2475),
              Candidate("chair_C", score=-0.371)]
    rows = candidate_rows(chairs)
    assert [r.index for r in rows] == [0, 2, 1, 3]
    assert [r.percent for r in rows[:3]] == sorted([r.percent for r in rows[:3]], reverse=True)
    assert rows[0].percent == pytest.approx(100 * math.exp(-0.2247)) and rows[0].text == "chair A  fit 80%"
    assert rows[3].percent is None and rows[3].text == "chair_C"
    # Material candidates: mean CLIP cosine, shown as a match; the flat colour (no score) last.
    mats = [MaterialEntry.from_dict({"type": "principled", "base_color": [0.5] * 3, **extra})
            for extra in ({"score": 0.27, "library": "oak"}, {"label": "flat colour"}, {"score": 0.31})]
    rows = candidate_rows(mats)
    assert [r.index for r in rows] == [2, 0, 1] and [r.measure for r in rows] == ["match", "match", ""]
    assert rows[1].text == "oak  match 27%"
    # Scores of another scale (not similarities): no number, the stage's order.
    rows = candidate_rows([Candidate("a", score=-0.1), Candidate("b", score=-0.3)])
    assert [(r.index, r.percent) for r in rows] == [(0, None), (1, None)]


def test_candidate_thumbnails_wherever_the_bundle_has_them(tmp_path):
    from blender_addon.edits import candidate_thumbnail
    from blender_addon.scene_format import (Candidate, MaterialEntry, asset_thumbnail_path,
                                            material_thumbnail_path)

    for rel in (asset_thumbnail_path("builtin:lamp_arc"), material_thumbnail_path("oak"), "thumbs/x.png"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(b"png")
    assert candidate_thumbnail(tmp_path, Candidate("a", thumbnail="thumbs/x.png")) == tmp_path / "thumbs/x.png"
    # No `thumbnail` field, but the bundle holds the asset's: shown.
    assert candidate_thumbnail(tmp_path, Candidate("builtin:lamp_arc")) == tmp_path / asset_thumbnail_path(
        "builtin:lamp_arc")
    graph = MaterialEntry.from_dict({"type": "graph", "graph_file": "m.json", "library": "oak"})
    assert candidate_thumbnail(tmp_path, graph) == tmp_path / material_thumbnail_path("oak")
    assert candidate_thumbnail(tmp_path, Candidate("b", thumbnail="../outside.png")) is None
    assert candidate_thumbnail(tmp_path, Candidate("builtin:nothing")) is None


def test_candidates_panel_lists_by_fit(addon, empty_file, make_bundle):
    from addon_fixtures import draw_panel
    from blender_addon import panels
    from blender_addon.sync import find_object

    bundle = make_bundle()
    add_object(bundle)
    scene = json.loads((bundle / "scene.json").read_text())
    for cand, loss in zip(scene["objects"][0]["candidates"], (0.3, 0.1, None)):
        if loss is not None:
            cand["fit_loss"] = loss
    (bundle / "scene.json").write_text(json.dumps(scene))
    _import(bundle)
    bpy.context.view_layer.objects.active = find_object(_reconstruction(), "sofa_1")
    drawn = draw_panel(panels.PHOTO2SCENE_PT_candidates, bpy.context)
    labels = [d[2]["text"] for d in drawn if d[0] == "label" and d[2].get("text", "").startswith(("box", "else"))]
    assert labels == ["box_tall  fit 90%", "box_low  fit 74%", "elsewhere"]
    uses = [d[2]["text"] for d in drawn if d[0] == "operator" and d[1] == "photo2scene.use_candidate"]
    assert uses == ["Use this", "In use", "Use this"]


def test_added_light_after_refine_is_not_doubled(addon, empty_file, make_bundle):
    """A light the artist adds is kept by a plain re-import; once Refine has written it into scene.json, the
    re-import builds it from there and does not keep a second copy."""
    from blender_addon.bundle import load_bundle
    from blender_addon.edits import write_scene
    from blender_addon.sync import collect_edits

    bundle = make_bundle()
    _import(bundle)
    coll = _reconstruction()
    lamp = bpy.data.objects.new("lamp", bpy.data.lights.new("lamp", "POINT"))
    next(c for c in coll.children if c.name == "Lights").objects.link(lamp)
    _import(bundle)
    assert [o.name for o in bpy.data.objects if o.type == "LIGHT"] == ["ceiling_light", "lamp"]
    scene, changes = collect_edits(_reconstruction(), load_bundle(bundle).scene)
    assert changes == ["light lamp: added"]
    write_scene(bundle, scene)
    _import(bundle)
    assert sorted(o.name for o in bpy.data.objects if o.type == "LIGHT") == ["ceiling_light", "lamp"]
    assert bpy.data.objects["lamp"].get("photo2scene_built")


def test_reimport_keeps_a_duplicate_and_replaces_a_renamed_object(addon, empty_file, make_bundle):
    """Duplicate copies the import's tag: the copy is the artist's. A renamed object is still the pipeline's."""
    from blender_addon.sync import find_object

    bundle = make_bundle()
    add_object(bundle)
    _import(bundle)
    coll = _reconstruction()
    furniture = next(c for c in coll.children if c.name == "Furniture")
    body = bpy.data.objects["sofa_1.body"]
    copy = body.copy()  # what Duplicate makes: same custom properties, name sofa_1.body.001
    copy.parent = None
    furniture.objects.link(copy)
    bpy.data.objects["room_floor"].name = "Floor"
    n_objects = len(bpy.data.objects)
    _import(bundle)
    assert copy.name in bpy.data.objects and bpy.data.objects[copy.name] in set(_reconstruction().all_objects)
    assert "Floor" not in bpy.data.objects and "room_floor" in bpy.data.objects
    assert len(bpy.data.objects) == n_objects and find_object(_reconstruction(), "sofa_1") is not None


# ------------------------------------------------------------------------------------------- outcome, proposals

def test_outcome_and_proposals_shown_and_confirmed(addon, empty_file, make_bundle):
    """A poor run says so in the Reconstruction panel; an object made from a furniture proposal is marked, the
    artist unticks it to confirm, and Refine writes `proposal: false` back (issue 17)."""
    from addon_fixtures import draw_panel
    from blender_addon import panels
    from blender_addon.bundle import load_bundle
    from blender_addon.scene_format import PROP_PROPOSAL
    from blender_addon.sync import collect_edits, find_object

    bundle = make_bundle()
    add_object(bundle)
    scene = json.loads((bundle / "scene.json").read_text())
    scene["objects"][0]["proposal"] = True
    scene.setdefault("stages", {})["outcome"] = {
        "status": "poor", "warnings": ["the room box fits its own wall/floor/ceiling masks poorly (mean IoU 0.31)"],
        "estimators": "camera classical; depth none; segmentation classical", "objects": 1, "room_iou": 0.31}
    (bundle / "scene.json").write_text(json.dumps(scene))
    _import(bundle)
    coll = _reconstruction()
    drawn = draw_panel(panels.PHOTO2SCENE_PT_reconstruction, bpy.context)
    texts = [(d[2].get("text", ""), d[2].get("icon")) for d in drawn if d[0] == "label"]
    assert any(t.startswith("the room box fits") and icon == "ERROR" for t, icon in texts), texts
    assert any("unconfirmed furniture proposal" in t and icon == "QUESTION" for t, icon in texts), texts
    assert any(t.startswith("Estimators: camera classical") for t, _ in texts), texts

    root = find_object(coll, "sofa_1")
    assert root[PROP_PROPOSAL] is True or root[PROP_PROPOSAL] == 1
    bpy.context.view_layer.objects.active = root
    drawn = draw_panel(panels.PHOTO2SCENE_PT_candidates, bpy.context)
    assert any(d[0] == "prop" and d[1][1] == f'["{PROP_PROPOSAL}"]' for d in drawn), drawn

    original = load_bundle(bundle).scene
    assert collect_edits(coll, original)[1] == []
    root[PROP_PROPOSAL] = False  # what unticking the box in the panel does
    written, changes = collect_edits(coll, original)
    assert changes == ["object sofa_1: confirmed"]
    assert written["objects"][0]["proposal"] is False
