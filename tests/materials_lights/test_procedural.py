"""Procedural materials in the stage: CLIP voting, the texture transform search, gradients through Mitsuba into the
materials_db twins, graph materials in scene.json and their Blender node trees (with the stage's UV Mapping)."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest

from ml_fixtures import DEVICE, placeholder_scene, small_scene, synthetic_case, write_bundle
from pipeline.core.scene import MaterialEntry


class FakeClip:
    """Stands in for CLIP retrieval (the stage's plumbing is under test here, not CLIP): brown crops (the floor)
    vote oak_planks first with a high cosine, every other crop scores below the threshold."""

    def rank(self, crops, k=10):
        from pipeline.stages.materials_lights.retrieval import Ranked

        mean = np.mean([c.reshape(-1, 3).mean(0) for c in crops], axis=0)
        brown = mean[0] > 1.3 * mean[2]
        return [Ranked("oak_planks", len(crops), 0.9 if brown else 0.1),
                Ranked("concrete_smooth", len(crops) - 1, 0.5 if brown else 0.05)]


def test_voting_picks_most_voted_then_highest_cosine():
    from p2s_common.clip import tiny_clip_for_tests
    from pipeline.stages.materials_lights.retrieval import ClipMaterials, choose

    model, preprocess = tiny_clip_for_tests()
    rng = np.random.default_rng(0)
    images = [rng.random((24, 24, 3)) for _ in range(4)]
    clip = ClipMaterials(model, preprocess, ["a", "b", "c", "d"], np.zeros((4, 32), np.float32))
    clip.embeddings = clip.embed(images)
    ranked = clip.rank([images[2], images[2]], k=1)
    assert ranked[0].name == "c" and ranked[0].votes == 2 and ranked[0].mean_cosine > 0.99
    assert choose(ranked, 0.25).name == "c"
    assert choose(ranked, 1.01) is None  # below the threshold: homogeneous


def test_stale_material_index_is_reported():
    """Retrieval with an index that misses library materials (or predates their thumbnails) still runs, and the
    stage's notes name them and the command that rebuilds the index."""
    from p2s_common.clip import tiny_clip_for_tests
    from pipeline.stages.config import ReconstructConfig
    from pipeline.stages.materials_lights.retrieval import ClipMaterials
    from pipeline.stages.materials_lights.stage import _retrieve

    model, preprocess = tiny_clip_for_tests()
    clip = ClipMaterials(model, preprocess, ["a"], np.zeros((1, 32), np.float32), "tiny", stale=["my_tiles"])
    notes: list[str] = []
    info, chosen, _ = _retrieve(None, {}, {}, ReconstructConfig().materials_lights, clip, notes)
    assert info["mode"] == "synthesis+clip" and chosen == {}  # CLIP narrows retrieval by synthesis's shortlist
    stale = [n for n in notes if "my_tiles" in n]
    assert len(stale) == 1 and "photo2scene materials index" in stale[0]


def test_uv_node_round_trip():
    from materials_db import load_graph

    from pipeline.stages.materials_lights.state import with_uv_node, without_uv_node

    graph = load_graph("oak_planks").to_dict()
    wrapped = with_uv_node(graph, 2.0, 45.0)
    assert "p2s_uv" in wrapped["nodes"]
    plain, scale, rotation = without_uv_node(wrapped)
    assert plain == graph and scale == 2.0 and abs(rotation - 45.0) < 1e-9


def test_uv_rect_spans_the_surfaces_whole_tiles():
    """The maps' rectangle covers every surface of the material in uv' (after scale and rotation), in whole tiles,
    and texture coordinates place uv' in it (v flipped for Mitsuba), so a map texel sits where Blender evaluates
    the same uv'."""
    from pipeline.render.scene_render import Surface, material_uvs, transformed_uvs, uv_rect

    quad = np.array([[0, 0, 0], [4, 0, 0], [4, 2.5, 0], [0, 2.5, 0]], float)
    wall = Surface("w", "m", quad, np.array([[0, 1, 2], [0, 2, 3]]), quad[:, :2], "floor")
    assert uv_rect([wall], 1.0, 0.0) == (0.0, 0.0, 4.0, 3.0)
    rect = uv_rect([wall], 2.0, 90.0)  # uv' = (-2v, 2u): u' in [-5, 0], v' in [0, 8]
    assert rect == (-5.0, 0.0, 5.0, 8.0)
    tex = transformed_uvs(wall.uvs, 2.0, 90.0, rect)
    uv = material_uvs(wall.uvs, 2.0, 90.0)
    np.testing.assert_allclose(tex[:, 0] * rect[2] + rect[0], uv[:, 0], atol=1e-9)
    np.testing.assert_allclose((1.0 - tex[:, 1]) * rect[3] + rect[1], uv[:, 1], atol=1e-9)
    assert tex.min() >= -1e-9 and tex.max() <= 1.0 + 1e-9


@pytest.fixture(scope="module")
def procedural_run():
    from materials_db import load_graph

    from pipeline.core.events import Silent
    from pipeline.stages.config import ReconstructConfig
    from pipeline.stages.materials_lights import stage as materials_lights
    from pipeline.stages.materials_lights.state import with_uv_node

    truth, truth_files = small_scene(160, 120)
    graph = with_uv_node(load_graph("oak_planks").to_dict(), 2.0, 0.0)
    truth_files.write("materials/room_floor.json", json.dumps(graph).encode())
    truth.materials["room_floor"] = MaterialEntry("graph", graph_file="materials/room_floor.json", values={},
                                                  library="oak_planks")
    case = synthetic_case(truth, truth_files, denoise=False)  # a denoised photo would have lost the planks' texture
    scene = placeholder_scene(truth)
    files = copy.deepcopy(truth_files)  # the stage's bundle starts with the truth's files
    scene.materials["room_floor"] = MaterialEntry("principled", base_color=[0.3, 0.3, 0.3], roughness=0.8)
    config = ReconstructConfig(device=DEVICE)
    cfg = config.materials_lights
    cfg.iters, cfg.spp, cfg.final_spp, cfg.init_rounds, cfg.grid_m = 6, 8, 16, 1, 1.5
    cfg.scales, cfg.rotations, cfg.gram_every, cfg.texture_res = "1,2", "0,90", 2, 64
    cfg.gram_random = 1  # the Gram term's code path, on the random VGG-19 (no weights here)
    cfg.retrieval = "clip"  # CLIP voting alone and the VGG texture search (test_synthesis_retrieval: by synthesis)
    before = load_graph("oak_planks").default_params()
    scene = materials_lights.run(scene, case, config, Silent(), files, clip=FakeClip())
    return scene, before, files


def test_floor_becomes_procedural_with_optimised_values(procedural_run):
    scene, before, files = procedural_run
    floor = scene.materials["room_floor"]
    assert floor["type"] == "graph" and floor["library"] == "oak_planks"
    assert floor["candidates"][0]["library"] == "oak_planks" and floor["chosen"] == 0
    assert floor["uv_scale"] == 2.0 and floor["uv_rotation_deg"] == 0.0  # the truth: scale 2, no rotation
    # Candidates are whole entries the add-on can swap to: the optimised one in use, the other retrieved library
    # material (defaults, the same transform), the flat colour fitted before retrieval.
    cands = floor["candidates"]
    assert [c["type"] for c in cands] == ["graph", "graph", "principled"]
    assert cands[0]["values"] == floor["values"] and cands[0]["graph_file"] == floor["graph_file"]
    assert cands[1]["library"] == "concrete_smooth" and cands[1]["values"] == {} and cands[1]["uv_scale"] == 2.0
    for c in cands[:2]:
        assert c["graph_file"] in files and files.read(c["thumbnail"])[:2] == b"\xff\xd8"  # a JPEG
    assert "texture_search" in floor
    graph = json.loads(files.read(floor["graph_file"]))
    assert graph["format"] == "photo2scene.material/1"
    # The twin's parameters moved: Mitsuba's texture-space gradients reached them through torch.
    from materials_db import load_graph

    g = load_graph("oak_planks")
    moved = [k for k, p in g.params.items() if p.kind in ("float", "color") and p.optimise
             and not np.allclose(np.asarray(floor["values"][k], float), np.asarray(p.default, float), atol=1e-4)]
    assert moved, "no procedural parameter changed"
    scene.to_dict()


def test_swap_to_a_retrieved_candidate_in_blender(procedural_run, tmp_path):
    """The add-on's "Use this" on a material the stage retrieved: the bundle the stage wrote builds, and swapping
    to candidate 1 (another library material) or 2 (the flat colour) rebuilds the material from its entry."""
    pytest.importorskip("bpy")
    import bpy

    from blender_addon.builders.candidates import swap_material
    from blender_addon.builders.scene import build_bundle
    from blender_addon.bundle import load_bundle

    scene, _, files = procedural_run
    bundle = load_bundle(write_bundle(scene, files, tmp_path / "run.bundle"))  # every candidate's graph file and thumbnail is in the bundle
    bpy.ops.wm.read_homefile(use_empty=True)
    coll = build_bundle(bundle)
    floor = bpy.data.objects["room_floor"]
    mat = swap_material(coll, bundle, "room_floor", 1)
    assert floor.material_slots[0].material == mat and mat["photo2scene_chosen"] == 1
    assert json.loads(mat["photo2scene_graph"])["name"] == "concrete_smooth"
    mat = swap_material(coll, bundle, "room_floor", 2)
    assert floor.material_slots[0].material == mat
    assert {n.bl_idname for n in mat.node_tree.nodes} == {"ShaderNodeBsdfPrincipled", "ShaderNodeOutputMaterial"}


def test_procedural_parameter_edits_reach_scene_json(procedural_run, tmp_path):
    """An artist's edit of a procedural parameter in Blender (a socket bound to it) is written back on refine."""
    pytest.importorskip("bpy")
    import bpy

    from blender_addon.builders.scene import build_bundle
    from blender_addon.bundle import load_bundle
    from blender_addon.sync import collect_edits

    scene, _, files = procedural_run
    bundle = load_bundle(write_bundle(scene, files, tmp_path / "edit.bundle"))
    bpy.ops.wm.read_homefile(use_empty=True)
    coll = build_bundle(bundle)
    _, changes = collect_edits(coll, bundle.scene)
    assert not [c for c in changes if "room_floor" in c]  # nothing edited yet: nothing written
    mat = bpy.data.objects["room_floor"].material_slots[0].material
    mat.node_tree.nodes["p2s_params"].inputs["Grain scale"].default_value = 123.0  # the parameter group's input
    edited, changes = collect_edits(coll, bundle.scene)
    assert "material room_floor: grain_scale" in changes
    assert edited["materials"]["room_floor"]["values"]["grain_scale"] == pytest.approx(123.0)
    others = {k: v for k, v in edited["materials"]["room_floor"]["values"].items() if k != "grain_scale"}
    assert others == {k: v for k, v in bundle.scene["materials"]["room_floor"]["values"].items() if k != "grain_scale"}
    # the stage's texture transform (its p2s_uv Mapping node) too, and a re-run starts from it
    mat.node_tree.nodes["p2s_uv"].inputs["Scale"].default_value = (3.0, 3.0, 1.0)
    edited, changes = collect_edits(coll, bundle.scene)
    assert "material room_floor: uv_scale" in changes and "material room_floor: uv_rotation_deg" not in changes
    from pipeline.stages.materials_lights.state import from_scene

    state = from_scene("room_floor", MaterialEntry.from_dict(edited["materials"]["room_floor"]),
                       lambda rel: (bundle.root / rel).read_bytes())
    assert state.uv_scale == pytest.approx(3.0) and state.values()["grain_scale"] == pytest.approx(123.0)


def test_graph_material_builds_in_blender(procedural_run):
    pytest.importorskip("bpy")
    import bpy

    from blender_addon.builders.material import build_material

    scene, _, files = procedural_run
    floor = scene.materials["room_floor"]
    bpy.ops.wm.read_homefile(use_empty=True)
    mat = build_material(json.loads(files.read(floor["graph_file"])), "room_floor", floor["values"])
    kinds = {n.bl_idname for n in mat.node_tree.nodes}
    assert "ShaderNodeMapping" in kinds and "ShaderNodeBsdfPrincipled" in kinds
