"""Writing bundles atomically: everything goes into a temporary sibling folder, renamed into place at the end.

A failed run leaves nothing behind (the temporary folder is removed), and an existing bundle is replaced only
with `overwrite` and only once the new one is complete. The files scene.json refers to (meshes, material graphs,
thumbnails, report images) reach the bundle through a `BundleFiles` handed to the stages, not through the Scene.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from blender_addon.bundle import (PARTIAL_OWNER, load_bundle, mark_partial_owner, old_bundle_path, read_bundle_json,
                                  recover_interrupted_swap, safe_bundle_file)
from p2s_common.errors import InputError
from p2s_common.images import linear_to_srgb, read_photo, write_png

from . import interrupt
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


class BundleFiles:
    """The files scene.json refers to, as the stages write and read them.

    Those written in this run are kept in memory until `save` puts them in the bundle's (temporary) folder, so a
    stage that fails half-way leaves no half-made file behind; reads of files not made in this run come from
    `source`, the bundle folder being written (which, on a re-run, starts as a copy of the old bundle)."""

    def __init__(self, source: Path | None = None):
        self.made: dict[str, bytes] = {}
        self.source = Path(source) if source is not None else None

    def write(self, relative: str, data: bytes) -> None:
        """Add (or replace) a file, path relative to the bundle."""
        self.made[relative] = data

    def write_all(self, files: Mapping[str, bytes]) -> None:
        for relative, data in files.items():
            self.write(relative, data)

    def read(self, relative: str) -> bytes:
        """A file made in this run, else the one in `source`."""
        if relative in self.made:
            return self.made[relative]
        if self.source is not None:
            return safe_bundle_file(self.source, relative).read_bytes()
        raise FileNotFoundError(relative)

    def __contains__(self, relative: object) -> bool:
        """Whether this run made `relative`."""
        return relative in self.made

    def save(self, root: Path) -> None:
        """Write the files made in this run under `root`."""
        for relative, content in self.made.items():
            path = safe_bundle_file(root, relative)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)


class BundleWriter:
    """Context manager: `with BundleWriter(out, overwrite) as root:` write into `root`; committed on success.

    On entry it first undoes what interrupted runs left (`recover_interrupted_swap`: the previous bundle put back
    from `.NAME.old`, partial folders of dead writers removed); what it did is in `recovered`. The temporary folder
    carries this process's id (`mark_partial_owner`) so a later run can tell a dead writer's folder from a live one."""

    def __init__(self, out: Path, overwrite: bool = False):
        self.out = Path(out)
        self.overwrite = overwrite
        self.tmp: Path | None = None
        self.recovered: list[str] = []

    def __enter__(self) -> Path:
        self.recovered = recover_interrupted_swap(self.out)
        if self.out.exists() and not self.overwrite:
            raise InputError(f"{self.out} already exists; choose another -o or pass --overwrite")
        if self.out.exists() and not (self.out / "scene.json").exists() and any(self.out.iterdir()):
            raise InputError(f"{self.out} exists and is not a photo2scene bundle; refusing to replace it")
        self.out.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = Path(tempfile.mkdtemp(prefix=f".{self.out.name}.", suffix=".partial", dir=self.out.parent))
        mark_partial_owner(self.tmp)
        self._hard_stop = interrupt.remove_on_hard_stop(self.tmp)
        self._hard_stop.__enter__()
        return self.tmp

    def __exit__(self, exc_type, exc, tb) -> bool:
        assert self.tmp is not None
        try:
            if exc_type is not None:
                shutil.rmtree(self.tmp, ignore_errors=True)
                return False
            interrupt.check()  # a stop requested at the very end still keeps the previous bundle
            (self.tmp / PARTIAL_OWNER).unlink(missing_ok=True)  # a bookkeeping file of the writer, not bundle content
            with interrupt.swap_guard():  # a signal does not leave the swap half done (.old without the new one)
                old = None
                if self.out.exists():
                    old = old_bundle_path(self.out)
                    shutil.rmtree(old, ignore_errors=True)
                    self.out.rename(old)
                self.tmp.rename(self.out)
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
            return False
        except BaseException:
            shutil.rmtree(self.tmp, ignore_errors=True)  # the temporary folder of a run stopped at its end
            raise
        finally:
            self._hard_stop.__exit__(None, None, None)


def write_bundle_photo(root: Path, photo_path: Path, max_pixels: int | None = None) -> tuple[int, int]:
    """The bundle's `photo.png`: the photo at its full resolution, as the artist sees it (camera background, render
    size, image tools). Optimisation never reads it at this size: the Case is resampled to the working resolution
    (`load_case`). The size cap is the photo reader's (`read_photo`, `max_pixels`); an EXR is stored as sRGB,
    clipped to [0, 1]. Returns (width, height)."""
    pixels, is_linear = read_photo(Path(photo_path), max_pixels)
    write_png(Path(root) / "photo.png", linear_to_srgb(pixels) if is_linear else pixels)
    return pixels.shape[1], pixels.shape[0]


def recover_interrupted(out: Path, events) -> None:
    """At the start of a run that writes bundle `out`: undo what interrupted runs left (`recover_interrupted_swap`),
    logging a warning for each thing done. Called before the run reads `out` (refine), so a bundle parked at
    `.NAME.old` by a run stopped mid-swap is found again."""
    for warning in recover_interrupted_swap(out):
        events.log(f"warning: {warning}")


def copy_bundle(source: Path, target: Path) -> list[str]:
    """Copy a bundle's files into `target` (a re-run's temporary folder), never following a symbolic link.

    A shared bundle is untrusted: a link inside it could point at a private file or a large folder, which a plain
    copy would pull in. Links are left out; their bundle-relative paths are returned so the caller can say so."""
    skipped: list[str] = []

    def links(folder: str, names: list[str]) -> list[str]:
        found = [n for n in names if (Path(folder) / n).is_symlink()]
        skipped.extend(str((Path(folder) / n).relative_to(source)) for n in found)
        return found

    shutil.copytree(source, target, dirs_exist_ok=True, symlinks=True, ignore=links)
    return sorted(skipped)


def save_scene(root: Path, scene: Scene, checkpoint: str | None = None, files: BundleFiles | None = None) -> None:
    """Write the stages' files (when given), scene.json (and checkpoints/<stage>.json when given)."""
    if files is not None:
        files.save(root)
    data = scene.to_dict()
    write_json(root / "scene.json", data)
    if checkpoint:
        write_json(root / "checkpoints" / f"{checkpoint}.json", data)


def load_scene(bundle_dir: Path, checkpoint: str | None = None) -> Scene:
    """Scene from a bundle (validated by the shared contract), or from one of its checkpoints; its files are read
    with `BundleFiles(source=bundle_dir)`."""
    bundle = load_bundle(bundle_dir)
    if checkpoint is None:
        scene = Scene.from_dict(bundle.scene)
    else:
        relative = f"checkpoints/{checkpoint}.json"
        if not safe_bundle_file(bundle_dir, relative).exists():
            raise InputError(f"{bundle_dir} has no checkpoint after stage {checkpoint!r}; run that stage first")
        # Through the bundle gate: a checkpoint is bundle data like scene.json (no links, size and depth caps).
        scene = Scene.from_dict(read_bundle_json(bundle_dir, relative))
    return scene
