"""Writing bundles atomically: everything goes into a temporary sibling folder, renamed into place at the end.

A failed run leaves nothing behind (the temporary folder is removed), and an existing bundle is replaced only
with `overwrite` and only once the new one is complete.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from blender_addon.bundle import load_bundle, resolve_inside
from p2s_common.errors import InputError

from .scene import Scene


def write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, default=_json_default) + "\n", encoding="utf-8")


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"cannot store {type(value).__name__} in JSON")


class BundleWriter:
    """Context manager: `with BundleWriter(out, overwrite) as root:` write into `root`; committed on success."""

    def __init__(self, out: Path, overwrite: bool = False):
        self.out = Path(out)
        self.overwrite = overwrite
        self.tmp: Path | None = None

    def __enter__(self) -> Path:
        if self.out.exists() and not self.overwrite:
            raise InputError(f"{self.out} already exists; choose another -o or pass --overwrite")
        if self.out.exists() and not (self.out / "scene.json").exists() and any(self.out.iterdir()):
            raise InputError(f"{self.out} exists and is not a photo2scene bundle; refusing to replace it")
        self.out.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = Path(tempfile.mkdtemp(prefix=f".{self.out.name}.", suffix=".partial", dir=self.out.parent))
        return self.tmp

    def __exit__(self, exc_type, exc, tb) -> bool:
        assert self.tmp is not None
        if exc_type is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            return False
        old = None
        if self.out.exists():
            old = self.out.with_name(f".{self.out.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            self.out.rename(old)
        self.tmp.rename(self.out)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        return False


def save_scene(root: Path, scene: Scene, checkpoint: str | None = None) -> None:
    """Write the stages' pending files, scene.json (and checkpoints/<stage>.json when given)."""
    for relative, content in scene.files.items():
        path = resolve_inside(root, relative)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    data = scene.to_dict()
    write_json(root / "scene.json", data)
    if checkpoint:
        write_json(root / "checkpoints" / f"{checkpoint}.json", data)


def load_scene(bundle_dir: Path, checkpoint: str | None = None) -> Scene:
    """Scene from a bundle (validated by the shared contract), or from one of its checkpoints."""
    bundle = load_bundle(bundle_dir)
    if checkpoint is None:
        scene = Scene.from_dict(bundle.scene)
    else:
        path = Path(bundle_dir) / "checkpoints" / f"{checkpoint}.json"
        if not path.exists():
            raise InputError(f"{bundle_dir} has no checkpoint after stage {checkpoint!r}; run that stage first")
        scene = Scene.from_dict(json.loads(path.read_text()))
    scene.bundle_root = bundle.root
    return scene
