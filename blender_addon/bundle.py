"""The bundle contract, bpy-free: load and validate a bundle folder's scene.json.

A bundle is a folder written by the pipeline:

    scene.json         the Scene (this module validates it; docs/scene_format.md documents it)
    photo.png          the photo at working resolution (sRGB)
    meshes/ textures/  files that scene.json refers to by relative path
    checkpoints/       scene.json after each stage (re-run from a stage)
    report/            index.html and PNG sheets
    mitsuba/           the scene as Mitsuba XML, to re-render outside Blender

Both the add-on and the pipeline read bundles through `load_bundle`, so they share one contract (the format itself:
scene_format.py). A bundle is untrusted data (it may come from anyone): every file in it is reached through
`safe_bundle_file`, which refuses absolute paths, `..`, and symbolic links anywhere below the bundle folder (a
link could point anywhere, and a dangling one could be filled in later); files are read with a size cap
(`read_bundle_file`) and JSON is parsed with the caps of `Limits` (`parse_json`).
"""

from __future__ import annotations

import glob
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

# The format itself (records, validation, version) lives in scene_format; these names are re-exported because
# the add-on and the pipeline have always imported them from here.
from .scene_format import (FORMAT, LIMITS, VERSION, BundleError, Limits, SceneData, parse_json, referenced_files,
                           validate_scene)

__all__ = ["FORMAT", "LIMITS", "VERSION", "Bundle", "BundleError", "Limits", "allowed_asset_path", "load_bundle",
           "mark_partial_owner", "old_bundle_path", "partial_bundle_paths", "partial_owner_alive", "read_bundle_file",
           "recover_interrupted_swap", "read_bundle_json", "referenced_files", "safe_bundle_file",
           "validate_scene"]


@dataclass
class Bundle:
    root: Path
    scene: dict  # scene.json as read (validated); the edit loop (sync, edits) works on this plain form
    limits: Limits = LIMITS
    warnings: list[str] = field(default_factory=list)  # what the loader repaired or ignored, for the user's log

    def path(self, relative: str) -> Path:
        """Absolute path of a file named in scene.json (`safe_bundle_file`: inside the bundle, no links)."""
        return safe_bundle_file(self.root, relative)

    def read_bytes(self, relative: str, max_bytes: int) -> bytes:
        return read_bundle_file(self.root, relative, max_bytes)

    def read_graph(self, relative: str) -> dict:
        """A material graph named in scene.json, parsed and checked (`check_graph`: acyclic, known nodes, caps)."""
        from .builders.material import check_graph  # bpy-free at import

        graph = read_bundle_json(self.root, relative, self.limits.graph_bytes, self.limits, "graph_bytes")
        check_graph(graph, relative, self.limits.graph_nodes)
        return graph

    @property
    def data(self) -> SceneData:
        """scene.json as typed records (read afresh each time, so edits to `scene` are never hidden by a cache)."""
        return SceneData.from_dict(self.scene, self.limits)


def safe_bundle_file(root: str | os.PathLike, relative: str) -> Path:
    """`root / relative`, refusing absolute paths, `..`, and any symbolic link (or FIFO, device...) on the way.

    The one gate for every file read from (or written into) a bundle. The bundle folder itself may be reached
    through a link (the user's choice); nothing below it may be one. The file need not exist."""
    if not isinstance(relative, str) or not relative or "\0" in relative:
        raise BundleError(f"bad path {relative!r} in bundle")
    parts = relative.replace("\\", "/").split("/")
    if os.path.isabs(relative) or relative.startswith(("/", "\\")) or ":" in parts[0]:
        raise BundleError(f"absolute path {relative!r} in bundle; bundle paths must be relative")
    if ".." in parts:
        raise BundleError(f"path {relative!r} escapes the bundle folder (..)")
    root_real = Path(os.path.realpath(root))
    current = root_real
    for i, part in enumerate(p for p in parts if p not in ("", ".")):
        current = current / part
        try:
            info = os.lstat(current)
        except FileNotFoundError:
            break  # the rest does not exist yet: nothing to follow
        except OSError as exc:
            raise BundleError(f"bundle path {relative!r}: cannot inspect {part!r} ({exc.strerror})") from None
        if stat.S_ISLNK(info.st_mode):
            raise BundleError(f"bundle path {relative!r}: {part!r} is a symbolic link; bundles may not contain "
                              "links (a link could point anywhere, so it escapes the bundle)")
        if not (stat.S_ISDIR(info.st_mode) or stat.S_ISREG(info.st_mode)):
            raise BundleError(f"bundle path {relative!r}: {part!r} is not a regular file or folder")
    target = root_real.joinpath(*(p for p in parts if p not in ("", ".")))
    # Belt and braces: with no links on the way and no `..`, the path cannot leave the bundle.
    if target != root_real and root_real not in Path(os.path.realpath(target)).parents:
        raise BundleError(f"path {relative!r} escapes the bundle folder")
    return target




def read_bundle_file(root: str | os.PathLike, relative: str, max_bytes: int, knob: str = "") -> bytes:
    """A bundle file's bytes, at most `max_bytes` (BundleError naming the file, and the `Limits` field `knob`
    that raises the cap, otherwise)."""
    raise_it = f"raise Limits.{knob} to read it" if knob else "Limits"
    path = safe_bundle_file(root, relative)
    # O_NOFOLLOW: a link swapped in after the check above is still not followed (where the OS has the flag).
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise BundleError(f"the bundle has no file {relative!r}") from None
    except OSError as exc:
        raise BundleError(f"cannot read bundle file {relative!r} ({exc.strerror})") from None
    with os.fdopen(fd, "rb") as fh:
        info = os.fstat(fh.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise BundleError(f"bundle file {relative!r} is not a regular file")
        if info.st_size > max_bytes:
            raise BundleError(f"bundle file {relative!r}: {info.st_size} bytes is over the cap of {max_bytes} "
                              f"bytes ({raise_it})")
        data = fh.read(max_bytes + 1)  # the file may grow after fstat
    if len(data) > max_bytes:
        raise BundleError(f"bundle file {relative!r} is over the cap of {max_bytes} bytes ({raise_it})")
    return data


def read_bundle_json(root: str | os.PathLike, relative: str, max_bytes: int | None = None, limits: Limits = LIMITS,
                     knob: str = "scene_bytes") -> Any:
    """A bundle JSON file, size-capped (default Limits.scene_bytes) and parsed with `limits` (`parse_json`)."""
    cap = limits.scene_bytes if max_bytes is None else max_bytes
    return parse_json(read_bundle_file(root, relative, cap, knob), relative, limits, cap)


def allowed_asset_path(path: str, root: str | os.PathLike, asset_roots: Iterable[str | os.PathLike]) -> bool:
    """Whether the add-on may open `path` (an object's `asset_path`, a .blend or model file outside the bundle):
    only an absolute path inside the bundle or inside one of the user's asset libraries (`asset_roots`)."""
    if not isinstance(path, str) or not path or "\0" in path or not os.path.isabs(path):
        return False  # relative ones would resolve against Blender's working folder, not the bundle
    real = Path(os.path.realpath(path))
    for allowed in [root, *asset_roots]:
        base = Path(os.path.realpath(allowed))
        if real == base or base in real.parents:
            return True
    return False


def _refuse_foreign_assets(scene: dict, root: Path, asset_roots: Iterable[str | os.PathLike]) -> list[str]:
    """Drop (in memory) every `asset_path` outside the bundle and `asset_roots`, so the builders use the bundle's
    own meshes; one warning per drop. scene.json on disk is left as it is."""
    roots = [Path(r) for r in asset_roots if str(r)]
    warnings = []
    for i, obj in enumerate(scene.get("objects") or []):
        entries = [(f"objects[{i}]", obj)]
        entries += [(f"objects[{i}].candidates[{j}]", c) for j, c in enumerate(obj.get("candidates") or [])]
        for where, entry in entries:
            path = entry.get("asset_path")
            if path and not allowed_asset_path(path, root, roots):
                del entry["asset_path"]
                warnings.append(f"scene.json: {where}.asset_path: {path!r} is outside the bundle and the asset "
                                "libraries in the add-on's preferences; using the bundle's meshes (add its folder "
                                "to the asset libraries to use it)")
    return warnings


def load_bundle(root: str | os.PathLike, *, limits: Limits | None = None,
                asset_roots: Iterable[str | os.PathLike] | None = None) -> Bundle:
    """Read `root/scene.json`, validate it, and check every file it names: inside the bundle, no links, graphs
    parsed and checked. `limits` (default LIMITS) caps what the bundle may ask for.

    `asset_roots`: the user's asset libraries (the add-on's preferences). Given, an object's `asset_path` outside
    the bundle and those folders is dropped with a warning (`Bundle.warnings`); None (the pipeline, which wrote
    those paths from its own asset index) leaves them as they are."""
    limits = limits or LIMITS
    root = Path(root)
    if not root.is_dir() or not safe_bundle_file(root, "scene.json").is_file():
        raise BundleError(f"{root} is not a photo2scene bundle (no scene.json)")
    scene = read_bundle_json(root, "scene.json", limits.scene_bytes, limits, "scene_bytes")
    validate_scene(scene, limits)
    bundle = Bundle(root, scene, limits)
    for relative in referenced_files(scene):
        path = bundle.path(relative)
        if not path.is_file():
            raise BundleError(f"scene.json names {relative!r} but the bundle has no such file")
        if path.stat().st_size > limits.file_bytes:
            raise BundleError(f"bundle file {relative!r}: {path.stat().st_size} bytes is over the cap of "
                              f"{limits.file_bytes} bytes (raise Limits.file_bytes to load it)")
    for relative in _graph_files(scene):
        bundle.read_graph(relative)  # read once here, so a bad graph fails the load, not a builder half-way
    if asset_roots is not None:
        bundle.warnings += _refuse_foreign_assets(scene, root, asset_roots)
    return bundle


def _graph_files(scene: dict) -> list[str]:
    """The graph JSON files of a (validated) scene.json's materials and material candidates."""
    files = []
    for mat in (scene.get("materials") or {}).values():
        for entry in [mat, *(mat.get("candidates") or [])]:
            if entry.get("type") == "graph" and entry.get("graph_file") not in files:
                files.append(entry["graph_file"])
    return files


# Interrupted swaps. The pipeline writes a bundle NAME into a sibling `.NAME.<random>.partial` folder, then swaps it
# in with two renames: NAME -> `.NAME.old`, partial -> NAME. A run stopped between the renames leaves no NAME, only
# `.NAME.old` (the previous bundle) and the partial; a run killed outright (SIGKILL) leaves its partial for ever.
# Both the add-on (after cancelling a run) and the pipeline (when a run that writes NAME starts) clean up with the
# functions below, so they agree on what is whose.

PARTIAL_OWNER = ".photo2scene-writer"  # inside a partial folder: "<pid> <host>" of the process writing it


def old_bundle_path(out: str | os.PathLike) -> Path:
    """Where the swap parks the previous bundle: `.NAME.old` beside NAME."""
    out = Path(out)
    return out.with_name(f".{out.name}.old")


def partial_bundle_paths(out: str | os.PathLike) -> list[Path]:
    """The writer's temporary folders for bundle `out`: `.NAME.*.partial` beside it (folders only, not links)."""
    out = Path(out)
    if not out.parent.is_dir():
        return []
    return sorted(p for p in out.parent.glob(f".{glob.escape(out.name)}.*.partial")  # `a[1]` matches only itself
                  if p.is_dir() and not p.is_symlink())


def mark_partial_owner(partial: str | os.PathLike) -> None:
    """Record this process as the writer of `partial` (read by `partial_owner_alive`)."""
    (Path(partial) / PARTIAL_OWNER).write_text(f"{os.getpid()} {_host()}\n", encoding="utf-8")


def partial_owner_alive(partial: str | os.PathLike) -> bool:
    """Whether `partial` may still be in use. Only a marker naming a process on this host that no longer exists
    says no: without a marker (an older writer, or one between creating the folder and marking it) or with one
    from another host (a shared drive) the owner cannot be checked, so it is left alone."""
    try:
        pid_text, _, host = (Path(partial) / PARTIAL_OWNER).read_text(encoding="utf-8").strip().partition(" ")
        pid = int(pid_text)
    except (OSError, ValueError):
        return True
    if host != _host() or pid <= 0 or os.name == "nt":
        return True  # on Windows os.kill(pid, 0) would terminate the process, not probe it
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # EPERM: it exists, owned by someone else
    return True


def _host() -> str:
    import socket

    return socket.gethostname().replace(" ", "_") or "-"


def recover_interrupted_swap(out: str | os.PathLike) -> list[str]:
    """Undo what interrupted swaps of bundle `out` left: put `.NAME.old` back when NAME is missing, and remove
    partial folders whose writer is gone (`partial_owner_alive`). Returns one warning per thing done."""
    import shutil

    out = Path(out)
    warnings = []
    live = []
    for partial in partial_bundle_paths(out):
        if partial_owner_alive(partial):
            live.append(partial.name)
        else:
            shutil.rmtree(partial, ignore_errors=True)
            warnings.append(f"removed {partial.name}, left by a run that no longer exists")
    old = old_bundle_path(out)
    if not out.exists() and not out.is_symlink() and old.is_dir() and not old.is_symlink():
        if live:  # that writer may be between its two renames: taking .old back would make its second one fail
            warnings.append(f"{out} is missing and the previous bundle is at {old.name}; left as it is because "
                            f"{', '.join(live)} may belong to a run still writing it")
        else:
            old.rename(out)
            warnings.append(f"{out} was missing after an interrupted run; restored the previous bundle from "
                            f"{old.name}")
    return warnings
