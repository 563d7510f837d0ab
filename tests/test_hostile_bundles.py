"""Bundles and inputs as untrusted data (issue 19): a corpus of hostile and odd bundles made here, each of which
must give exactly one clean BundleError (one line, naming the field or file), load with a warning (harmless and
repaired), or load as is. Nothing else may escape: no RecursionError, KeyError, TypeError, no hang.

Run with -s to see the corpus figures (cases tried, clean errors, repaired with a warning, accepted)."""

from __future__ import annotations

import json
import math
import os
import struct
import subprocess
import sys
import textwrap
import zlib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

import numpy as np
import pytest
from PIL import Image

from blender_addon.bundle import (LIMITS, BundleError, allowed_asset_path, load_bundle, read_bundle_file,
                                  safe_bundle_file)
from blender_addon.builders.material import check_graph
from blender_addon.scene_format import FORMAT, parse_json
from p2s_common.errors import InputError
from p2s_common.images import check_photo_size, read_photo

MESH = "meshes/chair_1/seat.obj"
GRAPH = "materials/wood.json"
THUMB = "thumbnails/a.png"
TEXTURE = "textures/wood.png"


def base_scene() -> dict:
    """A small valid scene.json: camera, room, one object with a part and a candidate, a light, a principled and
    a graph material (with a texture)."""
    return {
        "format": FORMAT, "version": 1, "photo": "photo.png",
        "camera": {"position": [0.0, -1.0, 1.5], "rotation": [[1, 0, 0], [0, 0, -1], [0, 1, 0]], "fov_y_deg": 50.0,
                   "width": 64, "height": 48},
        "room": {"center": [0, 0, 1.3], "size": [4, 3, 2.6], "yaw_deg": 0.0, "materials": {"floor": "room_floor"}},
        "objects": [{"name": "chair_1", "location": [0.0, 0.0, 0.0], "yaw_deg": 10.0, "scale": [1, 1, 1],
                     "parts": [{"name": "seat", "mesh": MESH, "material": "wood"}],
                     "candidates": [{"asset_id": "a", "thumbnail": THUMB}]}],
        "lights": [{"name": "key", "type": "area", "position": [0, 0, 2.5], "power_w": 100.0}],
        "materials": {"room_floor": {"type": "principled", "base_color": [0.3, 0.2, 0.1]},
                      "wood": {"type": "graph", "graph_file": GRAPH, "values": {"tint": [0.5, 0.3, 0.1]},
                               "textures": {"albedo": TEXTURE}}},
    }


def base_graph() -> dict:
    return {"format": "photo2scene.material/1", "name": "wood", "params": {"tint": {"default": [0.5, 0.3, 0.1]}},
            "nodes": {"bsdf": {"type": "ShaderNodeBsdfPrincipled",
                               "inputs": {"Base Color": {"param": "tint"}, "Roughness": {"link": "rough.Value"}}},
                      "rough": {"type": "ShaderNodeMath", "props": {"operation": "MULTIPLY"},
                                "inputs": {"A": 0.5, "B": 0.9}}},
            "output": "bsdf"}


def cyclic_graph() -> dict:
    graph = base_graph()
    graph["nodes"]["rough"]["inputs"]["A"] = {"link": "again.Value"}
    graph["nodes"]["again"] = {"type": "ShaderNodeMath", "inputs": {"A": {"link": "rough.Value"}}}
    return graph


def write_base(root: Path) -> None:
    for rel in (MESH, GRAPH, THUMB, TEXTURE):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
    (root / "photo.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (root / MESH).write_text("v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n")
    (root / THUMB).write_bytes(b"")
    (root / TEXTURE).write_bytes(b"")
    (root / GRAPH).write_text(json.dumps(base_graph()))
    (root / "scene.json").write_text(json.dumps(base_scene()))


@dataclass
class Case:
    name: str
    change: Callable[[dict, Path, Path], object]  # (scene, bundle root, a folder outside) -> edits in place
    expect: str  # "error", "warning" or "accepted"
    names: str = ""  # what the error (or warning) must name
    limits: dict | None = None  # Limits overrides for this case


def _set(path: str, value) -> Callable[[dict, Path, Path], None]:
    """Set a dotted field (`objects.0.yaw_deg`) of scene.json."""
    def change(scene: dict, root: Path, outside: Path) -> None:
        keys = path.split(".")
        target = scene
        for key in keys[:-1]:
            target = target[int(key)] if isinstance(target, list) else target[key]
        target[int(keys[-1]) if isinstance(target, list) else keys[-1]] = value
    return change


def _raw(data: bytes) -> Callable[[dict, Path, Path], None]:
    """Replace scene.json by these bytes."""
    def change(scene: dict, root: Path, outside: Path) -> str:
        (root / "scene.json").write_bytes(data)
        return "raw"
    return change


def _link(rel: str, to_outside: bool = True, dangling: bool = False) -> Callable[[dict, Path, Path], None]:
    """Replace the bundle file `rel` by a symbolic link: to a file outside, to a file inside, or dangling."""
    def change(scene: dict, root: Path, outside: Path) -> None:
        target = root / rel
        if target.is_dir():
            import shutil
            shutil.copytree(target, outside / "copied")
            shutil.rmtree(target)
            target.symlink_to(outside / "copied")
            return
        data = target.read_bytes()
        target.unlink()
        if dangling:
            target.symlink_to(outside / "nothing-here")
        elif to_outside:
            (outside / "secret").write_bytes(data)
            target.symlink_to(outside / "secret")
        else:
            (root / "inside.bin").write_bytes(data)
            target.symlink_to(root / "inside.bin")
    return change


def _graph(graph: dict | bytes) -> Callable[[dict, Path, Path], None]:
    def change(scene: dict, root: Path, outside: Path) -> None:
        data = graph if isinstance(graph, bytes) else json.dumps(graph).encode()
        (root / GRAPH).write_bytes(data)
    return change


def _nested(depth: int) -> bytes:
    """scene.json with a `stages` value nested `depth` lists deep."""
    text = json.dumps(base_scene())[:-1] + ', "stages": {"x": ' + "[" * depth + "]" * depth + "}}"
    return text.encode()


def _many(key: str, n: int, make: Callable[[int], object]) -> Callable[[dict, Path, Path], None]:
    def change(scene: dict, root: Path, outside: Path) -> None:
        scene[key] = [make(i) for i in range(n)] if key != "materials" else {
            **scene["materials"], **{f"m{i}": make(i) for i in range(n)}}
    return change


def _object(i: int) -> dict:
    return {"name": f"o{i}", "location": [0, 0, 0]}


def _light(i: int) -> dict:
    return {"name": f"l{i}", "type": "point", "position": [0, 0, 2], "power_w": 10.0}


def _fifo(scene: dict, root: Path, outside: Path) -> None:
    (root / MESH).unlink()
    os.mkfifo(root / MESH)  # opening it for reading would block forever


def _too_many_graph_nodes(n: int) -> dict:
    graph = base_graph()
    for i in range(n):
        graph["nodes"][f"n{i}"] = {"type": "ShaderNodeMath"}
    return graph


def _unknown_node() -> dict:
    graph = base_graph()
    graph["nodes"]["rough"]["type"] = "ShaderNodeScript"  # runs Python or OSL: never in the vocabulary
    return graph


def _dangling_graph_link() -> dict:
    graph = base_graph()
    graph["nodes"]["bsdf"]["inputs"]["Roughness"] = {"link": "ghost.Value"}
    return graph


def _missing_param() -> dict:
    graph = base_graph()
    graph["nodes"]["bsdf"]["inputs"]["Base Color"] = {"param": "nope"}
    return graph


def _asset(path_of: Callable[[Path, Path], str]) -> Callable[[dict, Path, Path], None]:
    def change(scene: dict, root: Path, outside: Path) -> None:
        scene["objects"][0].update(asset_source="blend", asset_path=path_of(root, outside),
                                   asset_datablock="Object", asset_name="Chair")
    return change


CASES = [
    # wrong types and values
    Case("room is a list", _set("room", []), "error", "room"),
    Case("objects is a number", _set("objects", 5), "error", "objects"),
    Case("lights is a string", _set("lights", "abc"), "error", "lights"),
    Case("materials is a list", _set("materials", []), "error", "materials"),
    Case("fov is a word", _set("camera.fov_y_deg", "wide"), "error", "camera.fov_y_deg"),
    Case("camera missing", _set("camera", None), "error", "camera"),
    Case("version true", _set("version", True), "error", "version"),
    Case("version -7", _set("version", -7), "error", "version"),
    Case("version from the future", _set("version", 99), "error", "version"),
    Case("format wrong", _set("format", "other"), "error", "format"),
    Case("top level a list", _raw(b"[1, 2]"), "error", "top level"),
    Case("yaw NaN", _set("objects.0.yaw_deg", math.nan), "error", "objects[0].yaw_deg"),
    Case("yaw inf", _set("objects.0.yaw_deg", math.inf), "error", "objects[0].yaw_deg"),
    Case("power NaN", _set("lights.0.power_w", math.nan), "error", "lights[0].power_w"),
    Case("power -inf", _set("lights.0.power_w", -math.inf), "error", "lights[0].power_w"),
    Case("power negative", _set("lights.0.power_w", -5), "error", "lights[0].power_w"),
    Case("scale zero", _set("objects.0.scale", [0, 1, 1]), "error", "objects[0].scale[0]"),
    Case("scale negative", _set("objects.0.scale", [1, -1, 1]), "error", "objects[0].scale[1]"),
    Case("width 1e12", _set("camera.width", 1e12), "error", "camera.width"),
    Case("width true", _set("camera.width", True), "error", "camera.width"),
    Case("height huge int", _set("camera.height", 10 ** 12), "error", "camera.height"),
    Case("room size NaN", _set("room.size", [4, math.nan, 2]), "error", "room.size[1]"),
    Case("duplicate object names", _set("objects", [_object(0), _object(0)]), "error", "objects[1].name"),
    Case("part mesh a number", _set("objects.0.parts.0.mesh", 5), "error", "objects[0].parts[0].mesh"),
    Case("unknown room face", _set("room.materials", {"roof": "room_floor"}), "error", "room.materials.roof"),
    Case("graph without file", _set("materials.wood.graph_file", None), "error", "materials.wood.graph_file"),
    # paths and links
    Case("absolute mesh path", _set("objects.0.parts.0.mesh", "/etc/passwd"), "error", "/etc/passwd"),
    Case("mesh path with ..", _set("objects.0.parts.0.mesh", "meshes/../../x.obj"), "error", "meshes/../../x.obj"),
    Case("mesh missing", _set("objects.0.parts.0.mesh", "meshes/none.obj"), "error", "meshes/none.obj"),
    Case("dangling link", _link(MESH, dangling=True), "error", MESH),
    Case("mesh links outside", _link(MESH), "error", MESH),
    Case("mesh links inside", _link(MESH, to_outside=False), "error", MESH),
    Case("folder links outside", _link("meshes"), "error", "meshes"),
    Case("thumbnail links outside", _link(THUMB), "error", THUMB),
    Case("texture links outside", _link(TEXTURE), "error", TEXTURE),
    Case("graph links outside", _link(GRAPH), "error", GRAPH),
    Case("photo links outside", _link("photo.png"), "error", "photo.png"),
    Case("scene.json links outside", _link("scene.json"), "error", "scene.json"),
    Case("mesh is a FIFO", _fifo, "error", MESH),
    # parsing
    Case("not JSON", _raw(b"{\"format\": "), "error", "scene.json"),
    Case("empty scene.json", _raw(b""), "error", "scene.json"),
    Case("not UTF-8", _raw(json.dumps(base_scene()).encode()[:-1] + b', "x": "\xff\xfe"}'), "error", "UTF-8"),
    Case("5000-deep nesting", _raw(_nested(5000)), "error", "nested deeper"),
    Case("100-deep nesting", _raw(_nested(100)), "error", "stages.x"),
    Case("5000-digit integer", _raw(json.dumps(base_scene())[:-1].encode() + b', "n": ' + b"9" * 5000 + b"}"),
         "error", "n: integer of 5000 digits"),
    Case("5000-digit segment id", _raw(json.dumps(base_scene()).replace('"yaw_deg": 10.0', '"segment_id": ' + "7" * 5000)
                                       .encode()), "error", "objects[0].segment_id"),
    Case("10k-character label", _set("objects.0.label", "x" * 10_000), "error", "objects[0].label"),
    Case("10k-character key", _set("x" * 10_000, 1), "error", "top level"),
    Case("scene.json over the byte cap", lambda s, r, o: None, "error", "bytes", limits={"scene_bytes": 500}),
    Case("mesh over the file cap", lambda s, r, o: None, "error", MESH, limits={"file_bytes": 10}),
    # counts
    Case("1001 objects", _many("objects", 1001, _object), "error", "objects"),
    Case("1001 objects, cap raised", _many("objects", 1001, _object), "accepted", limits={"objects": 2000}),
    Case("300 lights", _many("lights", 300, _light), "error", "lights"),
    Case("5000 materials", _many("materials", 5000, lambda i: {"type": "principled", "base_color": [0, 0, 0]}),
         "error", "materials"),
    Case("300 parts", _set("objects.0.parts", [{"name": f"p{i}", "mesh": MESH} for i in range(300)]), "error",
         "objects[0].parts"),
    Case("100 candidates", _set("objects.0.candidates", [{"asset_id": f"a{i}"} for i in range(100)]), "error",
         "objects[0].candidates"),
    # material graphs
    Case("cyclic graph", _graph(cyclic_graph()), "error", "cycle through node"),
    Case("unknown node type", _graph(_unknown_node()), "error", "ShaderNodeScript"),
    Case("600-node graph", _graph(_too_many_graph_nodes(600)), "error", GRAPH),
    Case("graph link to no node", _graph(_dangling_graph_link()), "error", "ghost"),
    Case("graph parameter undefined", _graph(_missing_param()), "error", "nope"),
    Case("graph not JSON", _graph(b"\x00\x01"), "error", GRAPH),
    Case("graph deeply nested", _graph(b"[" * 5000 + b"]" * 5000), "error", GRAPH),
    Case("graph over the byte cap", lambda s, r, o: None, "error", GRAPH, limits={"graph_bytes": 100}),
    # asset paths (the add-on passes the user's asset libraries)
    Case("asset in an asset library", _asset(lambda r, o: str(o / "library" / "chair.blend")), "accepted"),
    Case("asset outside the libraries", _asset(lambda r, o: "/etc/passwd"), "warning", "objects[0].asset_path"),
    Case("asset path relative", _asset(lambda r, o: "chair.blend"), "warning", "objects[0].asset_path"),
    Case("asset escaping a library by ..", _asset(lambda r, o: str(o / "library" / ".." / "x.blend")), "warning",
         "objects[0].asset_path"),
    # harmless oddities
    Case("unknown top-level key", _set("future_field", {"a": [1, 2]}), "accepted"),
    Case("byte-order mark", _raw(b"\xef\xbb\xbf" + json.dumps(base_scene()).encode()), "accepted"),
    Case("NaN in stage metrics", _set("stages", {"room": {"loss": math.nan}}), "accepted"),
    Case("room without materials", _set("room.materials", None), "accepted"),
]


def run_case(case: Case, tmp: Path) -> tuple[str, str]:
    """(outcome, message): outcome is error / warning / accepted, or 'escaped: <type>' for any other exception."""
    root, outside = tmp / "case.bundle", tmp / "outside"
    root.mkdir(parents=True)
    (outside / "library").mkdir(parents=True)
    write_base(root)
    scene = base_scene()
    if case.change(scene, root, outside) != "raw" and not (root / "scene.json").is_symlink():
        (root / "scene.json").write_text(json.dumps(scene))
    limits = replace(LIMITS, **(case.limits or {}))
    try:
        bundle = load_bundle(root, limits=limits, asset_roots=[outside / "library"])
        bundle.data  # the typed records build from whatever loaded
    except BundleError as exc:
        return "error", str(exc)
    except Exception as exc:  # noqa: BLE001 - exactly what this corpus hunts for
        return f"escaped: {type(exc).__name__}", str(exc)[:200]
    if bundle.warnings:
        return "warning", " | ".join(bundle.warnings)
    return "accepted", ""


def test_hostile_corpus(tmp_path, capsys):
    figures = {"tried": 0, "error": 0, "warning": 0, "accepted": 0}
    wrong = []
    for i, case in enumerate(CASES):
        outcome, message = run_case(case, tmp_path / str(i))
        figures["tried"] += 1
        figures[outcome] = figures.get(outcome, 0) + 1
        if outcome != case.expect or "\n" in message or case.names not in message:
            wrong.append(f"{case.name}: expected {case.expect} naming {case.names!r}, got {outcome}: {message}")
    with capsys.disabled():
        print(f"\nhostile bundle corpus: {figures['tried']} cases tried, {figures['error']} clean errors, "
              f"{figures['warning']} repaired with a warning, {figures['accepted']} accepted")
    assert not wrong, "\n".join(wrong)


def test_json_nesting_and_digits_are_one_line_errors():
    with pytest.raises(BundleError, match="nested deeper") as info:
        parse_json(b"[" * 5000 + b"]" * 5000, "x.json")
    assert "\n" not in str(info.value)
    with pytest.raises(BundleError, match="x.json: a.b: integer of 4400 digits"):
        parse_json(b'{"a": {"b": ' + b"1" * 4400 + b"}}", "x.json")
    assert parse_json(b'{"a": 12}', "x.json") == {"a": 12}


def test_safe_bundle_file_and_reads(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "f.txt").write_text("hello")
    assert safe_bundle_file(tmp_path, "a/f.txt") == Path(os.path.realpath(tmp_path)) / "a" / "f.txt"
    assert read_bundle_file(tmp_path, "a/f.txt", 10) == b"hello"
    with pytest.raises(BundleError, match="a/f.txt.*over the cap"):
        read_bundle_file(tmp_path, "a/f.txt", 3)
    (tmp_path / "a" / "l").symlink_to(tmp_path / "a" / "f.txt")
    with pytest.raises(BundleError, match="'l' is a symbolic link"):
        read_bundle_file(tmp_path, "a/l", 10)
    # The bundle folder itself may be reached through a link: the user's choice.
    (tmp_path / "via").symlink_to(tmp_path / "a")
    assert read_bundle_file(tmp_path / "via", "f.txt", 10) == b"hello"


def test_asset_paths_only_from_libraries(tmp_path):
    library, bundle = tmp_path / "library", tmp_path / "b"
    (library / "sub").mkdir(parents=True)
    bundle.mkdir()
    assert allowed_asset_path(str(library / "sub" / "chair.blend"), bundle, [library])
    assert allowed_asset_path(str(bundle / "chair.blend"), bundle, [])
    assert not allowed_asset_path(str(tmp_path / "elsewhere.blend"), bundle, [library])
    assert not allowed_asset_path("chair.blend", bundle, [library])
    (library / "escape").symlink_to(tmp_path)  # a link inside a library pointing out of it
    assert not allowed_asset_path(str(library / "escape" / "x.blend"), bundle, [library])


def test_check_graph_names_the_problem():
    check_graph(base_graph(), "g")
    with pytest.raises(BundleError, match="g: the links form a cycle through node '(rough|again)'"):
        check_graph(cyclic_graph(), "g")
    with pytest.raises(BundleError, match="unknown node type 'ShaderNodeScript'"):
        check_graph(_unknown_node(), "g")
    with pytest.raises(BundleError, match="over the cap of 10"):
        check_graph(_too_many_graph_nodes(20), "g", max_nodes=10)
    long_chain = base_graph()  # deeper than Python's recursion limit: the check is iterative
    for i in range(3000):
        long_chain["nodes"][f"c{i}"] = {"type": "ShaderNodeMath", "inputs": {"A": {"link": f"c{i + 1}.Value"}}}
    long_chain["nodes"]["c3000"] = {"type": "ShaderNodeMath"}
    check_graph(long_chain, "g", max_nodes=5000)


def test_builder_refuses_a_cyclic_graph_without_hanging(tmp_path):
    """The add-on's builder on a cyclic graph: a clean error, under a timeout (it used to loop forever)."""
    pytest.importorskip("bpy")
    (tmp_path / "g.json").write_text(json.dumps(cyclic_graph()))
    code = textwrap.dedent(f"""
        import json
        from blender_addon.builders.material import build_material, _depths
        from blender_addon.scene_format import BundleError
        graph = json.load(open({str(tmp_path / 'g.json')!r}))
        for call in (lambda: build_material(graph, "cyclic"), lambda: _depths(graph)):
            try:
                call()
            except BundleError as exc:
                print("refused:", exc)
        """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).resolve().parents[1])
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.count("refused:") == 2 and "cycle through node" in done.stdout


def _png_header(width: int, height: int) -> bytes:
    """A PNG claiming `width` x `height` whose pixel data is a few bytes: decoding it would allocate the lot."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def test_photo_size_checked_before_decoding(tmp_path):
    big = tmp_path / "big.png"
    big.write_bytes(_png_header(10_000, 8_000))  # 80 MP claimed, 33 bytes on disk
    with pytest.raises(InputError, match=r"10000x8000 = 80.0 MP, over the cap of 50 MP; downscale it, or raise"):
        read_photo(big)
    small = tmp_path / "small.png"
    Image.fromarray(np.zeros((40, 60, 3), np.uint8)).save(small)
    assert read_photo(small)[0].shape == (40, 60, 3)
    with pytest.raises(InputError, match="over the cap of 0.001 MP"):
        read_photo(small, max_pixels=1000)
    strip = tmp_path / "strip.png"
    Image.fromarray(np.zeros((4, 400, 3), np.uint8)).save(strip)
    with pytest.raises(InputError, match="400x4 pixels, an aspect ratio"):
        read_photo(strip)
    with pytest.raises(InputError, match="0x0 pixels: it has no pixels"):
        check_photo_size(0, 0, Path("x.png"))
