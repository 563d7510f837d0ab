"""The bundle contract, bpy-free: load and validate a bundle folder's scene.json.

A bundle is a folder written by the pipeline:

    scene.json         the Scene (this module validates it; docs/scene_format.md documents it)
    photo.png          the photo at working resolution (sRGB)
    meshes/ textures/  files that scene.json refers to by relative path
    checkpoints/       scene.json after each stage (re-run from a stage)
    report/            index.html and PNG sheets
    mitsuba/           the scene as Mitsuba XML, to re-render outside Blender

Both the add-on and the pipeline read bundles through `load_bundle`, so they share one contract (the format itself:
scene_format.py). Paths in a
bundle are relative and must stay inside it; anything else is rejected.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

# The format itself (records, validation, version) lives in scene_format; these names are re-exported because
# the add-on and the pipeline have always imported them from here.
from .scene_format import FORMAT, VERSION, BundleError, SceneData, referenced_files, validate_scene

__all__ = ["FORMAT", "VERSION", "Bundle", "BundleError", "load_bundle", "referenced_files", "resolve_inside",
           "validate_scene"]


@dataclass
class Bundle:
    root: Path
    scene: dict  # scene.json as read (validated); the edit loop (sync, edits) works on this plain form

    def path(self, relative: str) -> Path:
        """Absolute path of a file named in scene.json."""
        return resolve_inside(self.root, relative)

    @property
    def data(self) -> SceneData:
        """scene.json as typed records (read afresh each time, so edits to `scene` are never hidden by a cache)."""
        return SceneData.from_dict(self.scene)


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
