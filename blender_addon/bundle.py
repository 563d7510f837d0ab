"""The bundle contract, bpy-free: load and validate a bundle folder's scene.json.

A bundle is a folder written by the pipeline:

    scene.json         the Scene (this module validates it; docs/scene_format.md documents it)
    photo.png          the photo at working resolution (sRGB)
    meshes/ textures/  files that scene.json refers to by relative path
    checkpoints/       scene.json after each stage (re-run from a stage)
    report/            index.html and PNG sheets
    mitsuba/           the scene as Mitsuba XML, to re-render outside Blender

Both the add-on and the pipeline read bundles through `load_bundle`, so they share one contract. Paths in a
bundle are relative and must stay inside it; anything else is rejected.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FORMAT = "photo2scene.scene"
VERSION = 1


class BundleError(ValueError):
    """The bundle is missing, malformed or unsafe; the message says which field and why."""


@dataclass
class Bundle:
    root: Path
    scene: dict

    def path(self, relative: str) -> Path:
        """Absolute path of a file named in scene.json."""
        return resolve_inside(self.root, relative)


def resolve_inside(root: Path, relative: str) -> Path:
    """Join `relative` to `root`, refusing absolute paths and paths that escape the bundle (.., symlinks)."""
    if not isinstance(relative, str) or not relative:
        raise BundleError(f"bad path {relative!r} in bundle")
    if os.path.isabs(relative) or relative.startswith(("/", "\\")) or ":" in relative.split("/")[0]:
        raise BundleError(f"absolute path {relative!r} in bundle; bundle paths must be relative")
    root_real = Path(os.path.realpath(root))
    target = Path(os.path.realpath(root_real / relative))
    if target != root_real and root_real not in target.parents:
        raise BundleError(f"path {relative!r} escapes the bundle folder")
    return target


def load_bundle(root: str | os.PathLike) -> Bundle:
    """Read `root/scene.json`, validate it, and check that every file it names exists inside the bundle."""
    root = Path(root)
    scene_file = root / "scene.json"
    if not scene_file.is_file():
        raise BundleError(f"{root} is not a photo2scene bundle (no scene.json)")
    try:
        scene = json.loads(scene_file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise BundleError(f"scene.json is not valid JSON: {exc}") from exc
    validate_scene(scene)
    bundle = Bundle(root, scene)
    for relative in referenced_files(scene):
        if not bundle.path(relative).is_file():
            raise BundleError(f"scene.json names {relative!r} but the bundle has no such file")
    return bundle


def referenced_files(scene: dict) -> list[str]:
    """Every relative file path scene.json names."""
    files = []
    if scene.get("photo"):
        files.append(scene["photo"])
    for obj in scene.get("objects", []):
        files += [part["mesh"] for part in obj.get("parts", []) if part.get("mesh")]
        for cand in obj.get("candidates", []):
            files += [part["mesh"] for part in cand.get("parts", []) if part.get("mesh")]
            if cand.get("thumbnail"):
                files.append(cand["thumbnail"])
    for mat in scene.get("materials", {}).values():
        for entry in [mat] + [c for c in mat.get("candidates", []) if isinstance(c, dict)]:
            if entry.get("graph_file"):
                files.append(entry["graph_file"])
            if entry.get("thumbnail"):
                files.append(entry["thumbnail"])
            files += [t for t in entry.get("textures", {}).values()]
    return sorted(set(files), key=files.index)


def _need(cond: bool, where: str, what: str) -> None:
    if not cond:
        raise BundleError(f"scene.json: {where}: {what}")


def _vec(value: Any, n: int, where: str) -> None:
    _need(isinstance(value, list) and len(value) == n
          and all(isinstance(v, (int, float)) and math.isfinite(v) for v in value), where, f"expected {n} numbers")


def validate_scene(scene: Any) -> None:
    """Raise BundleError naming the first field that breaks the contract."""
    _need(isinstance(scene, dict), "top level", "expected an object")
    _need(scene.get("format") == FORMAT, "format", f"expected {FORMAT!r}")
    version = scene.get("version")
    _need(isinstance(version, int), "version", "expected an integer")
    _need(version <= VERSION, "version", f"{version} is newer than this reader ({VERSION}); update photo2scene")

    cam = scene.get("camera")
    _need(isinstance(cam, dict), "camera", "missing")
    _vec(cam.get("position"), 3, "camera.position")
    rot = cam.get("rotation")
    _need(isinstance(rot, list) and len(rot) == 3, "camera.rotation", "expected a 3x3 matrix")
    for i, row in enumerate(rot):
        _vec(row, 3, f"camera.rotation[{i}]")
    _need(isinstance(cam.get("fov_y_deg"), (int, float)) and 0 < cam["fov_y_deg"] < 180, "camera.fov_y_deg",
          "expected degrees in (0, 180)")
    for key in ("width", "height"):
        _need(isinstance(cam.get(key), int) and cam[key] > 0, f"camera.{key}", "expected a positive integer")

    room = scene.get("room")
    if room is not None:
        _vec(room.get("center"), 3, "room.center")
        _vec(room.get("size"), 3, "room.size")
        _need(all(s > 0 for s in room["size"]), "room.size", "sizes must be positive")
        _need(isinstance(room.get("yaw_deg", 0.0), (int, float)), "room.yaw_deg", "expected a number")
        for name, mat in room.get("materials", {}).items():
            _need(isinstance(mat, str), f"room.materials.{name}", "expected a material name")

    materials = scene.get("materials", {})
    _need(isinstance(materials, dict), "materials", "expected an object keyed by material name")
    for name, mat in materials.items():
        _need(isinstance(mat, dict) and mat.get("type") in ("principled", "graph"), f"materials.{name}.type",
              "expected 'principled' or 'graph'")
        if mat["type"] == "principled":
            _vec(mat.get("base_color"), 3, f"materials.{name}.base_color")
        else:
            _need(isinstance(mat.get("graph_file"), str), f"materials.{name}.graph_file",
                  "a graph material needs the relative path of its graph JSON")
            _need(isinstance(mat.get("values", {}), dict), f"materials.{name}.values", "expected an object")

    for i, obj in enumerate(scene.get("objects", [])):
        where = f"objects[{i}]"
        _need(isinstance(obj.get("name"), str), f"{where}.name", "expected a string")
        _vec(obj.get("location"), 3, f"{where}.location")
        _vec(obj.get("scale", [1, 1, 1]), 3, f"{where}.scale")
        for j, part in enumerate(obj.get("parts", [])):
            _need(isinstance(part.get("mesh"), str), f"{where}.parts[{j}].mesh", "expected a relative path")

    for i, light in enumerate(scene.get("lights", [])):
        where = f"lights[{i}]"
        _need(light.get("type") in ("area", "point", "spot", "sun"), f"{where}.type", "expected area|point|spot|sun")
        _vec(light.get("position"), 3, f"{where}.position")
        _vec(light.get("color", [1, 1, 1]), 3, f"{where}.color")
        _need(isinstance(light.get("power_w"), (int, float)) and light["power_w"] >= 0, f"{where}.power_w",
              "expected watts >= 0")

    for ref_list, kind in ((room.get("materials", {}).values() if room else [], "room"),):
        for ref in ref_list:
            _need(ref in materials, kind, f"material {ref!r} is not defined in materials")
