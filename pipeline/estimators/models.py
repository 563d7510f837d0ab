"""The learned models the estimators can use: which, under what licence, how big, and where their weights live.

Weights are looked for on this machine first (the Hugging Face cache, torch hub's cache, or an explicit path in
an environment variable) and fetched from the hub only when allowed. `photo2scene models fetch` downloads them
ahead of time (e.g. before going offline); `photo2scene models list` says what is here. A model whose weights
cannot be had raises SetupError with the exact fetch command: the estimators catch it and fall back to the
classical backend with a one-line message, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path

from p2s_common.errors import InputError, SetupError
from p2s_common.clip import DEFAULT_MODEL, DEFAULT_PRETRAINED, _local_weights, load_clip

HELP = "Learned models for the estimators: list what is on this machine, fetch weights ahead of time."


@dataclass(frozen=True)
class HubFile:
    """One more file a model's loader reads from another hub repository (fetched and looked up with the model)."""

    repo: str
    filename: str
    repo_type: str = "model"  # model | dataset


@dataclass(frozen=True)
class ModelSpec:
    """One default model."""

    key: str  # what the config and the CLI call it
    task: str  # camera | depth | panoptic | clip
    name: str
    source: str  # "hf:<repo id>" or a URL (torch hub cache)
    licence: str
    size_mb: int
    package: str  # Python package that runs it (import name)
    pip: str  # how to install that package
    env: str  # environment variable that may point at a local copy (folder or file)
    note: str = ""
    extra: tuple[HubFile, ...] = ()  # files from other repositories the loader needs (fetched with the weights)


MODELS: dict[str, ModelSpec] = {
    "depth": ModelSpec(
        "depth", "depth", "Depth Anything V2 Metric Indoor Small (Hypersim)",
        "hf:depth-anything/Depth-Anything-V2-Metric-Indoor-Small-hf", "Apache-2.0", 99, "transformers",
        "pip install 'transformers>=4.45'", "PHOTO2SCENE_DEPTH_MODEL",
        "metric z-depth in metres for indoor scenes"),
    "panoptic": ModelSpec(
        "panoptic", "panoptic", "OneFormer Swin-Tiny, ADE20K 150 classes", "hf:shi-labs/oneformer_ade20k_swin_tiny",
        "MIT", 219, "transformers", "pip install 'transformers>=4.45'", "PHOTO2SCENE_PANOPTIC_MODEL",
        "panoptic segmentation with ADE20K labels (wall, floor, ceiling, windowpane, door, bed, sofa, ...)",
        # OneFormer's image processor reads its class names from a second (dataset) repository when built.
        (HubFile("shi-labs/oneformer_demo", "ade20k_panoptic.json", "dataset"),)),
    "camera": ModelSpec(
        "camera", "camera", "GeoCalib (pinhole)", "https://github.com/cvg/GeoCalib/releases/download/v1.0/"
        "geocalib-pinhole.tar", "Apache-2.0", 115, "geocalib",
        "pip install 'git+https://github.com/cvg/GeoCalib'", "PHOTO2SCENE_CAMERA_MODEL",
        "focal length and gravity (pitch, roll) with uncertainties"),
    "clip": ModelSpec(
        "clip", "clip", "open_clip ViT-B-32 laion2b_s34b_b79k", "hf:laion/CLIP-ViT-B-32-laion2B-s34B-b79K", "MIT",
        605, "open_clip", "pip install 'open_clip_torch>=3.3,<3.4'", "PHOTO2SCENE_CLIP_WEIGHTS",
        "image/text embeddings for retrieval (loaded by p2s_common.clip)"),
}


def torch_hub_file(spec: ModelSpec) -> Path:
    """Where torch hub keeps a URL-sourced checkpoint (GeoCalib's own loader looks there)."""
    import torch

    return Path(torch.hub.get_dir()) / "geocalib" / "pinhole.tar"


def package_available(spec: ModelSpec) -> bool:
    return importlib.util.find_spec(spec.package) is not None


def local_weights(spec: ModelSpec, cache_dir: str | None = None) -> str | None:
    """A local copy of the weights (folder or file), or None. Never touches the network."""
    env = os.environ.get(spec.env)
    if env and Path(env).exists():
        return env
    if spec.key == "clip":
        try:
            return _local_weights(DEFAULT_MODEL, DEFAULT_PRETRAINED, cache_dir)
        except ImportError:
            return None
    if spec.source.startswith("hf:"):
        try:
            from huggingface_hub import snapshot_download
        except ImportError:
            return None
        try:
            found = snapshot_download(spec.source[3:], cache_dir=cache_dir, local_files_only=True)
        except Exception:  # noqa: BLE001 - any miss means "not here"
            return None
        return found if all(extra_file(spec, f.filename, cache_dir) for f in spec.extra) else None
    path = torch_hub_file(spec)
    return str(path) if path.is_file() else None


def extra_file(spec: ModelSpec, filename: str, cache_dir: str | None = None, download: bool = False) -> str | None:
    """Local path of one of `spec.extra` (fetched first when `download`), or None when it is not here."""
    from huggingface_hub import hf_hub_download

    item = next(f for f in spec.extra if f.filename == filename)
    try:
        return hf_hub_download(item.repo, item.filename, repo_type=item.repo_type, cache_dir=cache_dir,
                               local_files_only=not download)
    except Exception:  # noqa: BLE001 - any miss means "not here"
        if download:
            raise
        return None


def fetch(spec: ModelSpec, cache_dir: str | None = None) -> str:
    """Download the weights into the local cache (no-op when already there). Raises SetupError on failure."""
    found = local_weights(spec, cache_dir)
    if found:
        return found
    try:
        if spec.key == "clip":
            load_clip(cache_dir=cache_dir)
            return local_weights(spec, cache_dir) or "open_clip cache"
        if spec.source.startswith("hf:"):
            from huggingface_hub import snapshot_download

            path = snapshot_download(spec.source[3:], cache_dir=cache_dir)  # shows a progress bar per file
            for item in spec.extra:
                extra_file(spec, item.filename, cache_dir, download=True)
            return path
        import torch

        target = torch_hub_file(spec)
        target.parent.mkdir(parents=True, exist_ok=True)
        torch.hub.download_url_to_file(spec.source, str(target), progress=True)
        return str(target)
    except SetupError:
        raise
    except Exception as exc:  # noqa: BLE001 - offline, DNS, HTTP errors: one message for the user
        raise SetupError(missing_message(spec, f"{type(exc).__name__}: {str(exc).splitlines()[0][:160]}")) from exc


def missing_message(spec: ModelSpec, why: str) -> str:
    where = spec.source[3:] if spec.source.startswith("hf:") else spec.source
    return (f"{spec.name} weights ({spec.size_mb} MB, {spec.licence}) are not on this machine and could not be "
            f"fetched ({why}); run `photo2scene models fetch {spec.key}` where the hub is reachable "
            f"(source: {where}), or point ${spec.env} at a local copy")


def require(spec: ModelSpec, allow_download: bool, cache_dir: str | None = None) -> str:
    """Path of usable weights: local first, then the hub if allowed. SetupError (one line) otherwise."""
    if not package_available(spec):
        raise SetupError(f"{spec.name} needs the Python package '{spec.package}' ({spec.pip})")
    found = local_weights(spec, cache_dir)
    if found:
        return found
    if not allow_download:
        raise SetupError(missing_message(spec, "downloads are off"))
    return fetch(spec, cache_dir)


# --- CLI: photo2scene models list|fetch ---------------------------------------------------------------------


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="models_command", metavar="ACTION", required=True)
    sub.add_parser("list", help="each model: task, licence, size, package installed, weights on this machine")
    p = sub.add_parser("fetch", help="download weights into the local caches (all models, or the ones named)")
    p.add_argument("keys", nargs="*", metavar="MODEL", help=f"one or more of: {', '.join(MODELS)} (default: all)")
    p.add_argument("--cache-dir", help="Hugging Face cache folder (default: the standard one)")


def run(args: argparse.Namespace) -> int:
    if args.models_command == "list":
        for spec in MODELS.values():
            pkg = "yes" if package_available(spec) else f"no ({spec.pip})"
            here = local_weights(spec) if package_available(spec) or spec.source.startswith("hf:") else None
            print(f"{spec.key:<9} {spec.name} | {spec.licence}, {spec.size_mb} MB | package: {pkg} | "
                  f"weights: {here or 'not here'}")
        return 0
    unknown = [k for k in args.keys if k not in MODELS]
    if unknown:
        raise InputError(f"unknown model {unknown[0]!r}; choose from {', '.join(MODELS)}")
    failed = 0
    for key in args.keys or list(MODELS):
        spec = MODELS[key]
        try:
            path = fetch(spec, args.cache_dir)
            print(f"{key}: {path}")
        except SetupError as exc:
            failed += 1
            print(f"{key}: {exc}")
    return 2 if failed else 0
