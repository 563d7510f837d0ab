"""The layers of docs/architecture.md, checked on the source: every import of every module, parsed with `ast`.

A package may import its own modules and the layers below it, never one above (nor a sibling at its level), so
each layer can be read, tested and replaced without the ones on top of it. Imports inside functions count too: a
lazy import is still a dependency.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# The pipeline's layers, bottom up: a module may import its own package and lower ranks only.
PIPELINE_RANKS: dict[str, int] = {
    "pipeline.core": 1,
    "pipeline.render": 2,
    "pipeline.estimators": 3,
    "pipeline.interactive": 3,
    "pipeline.matselect": 3,
    "pipeline.stages": 4,
    "pipeline.app": 5,
}
STAGES_SHARED = ("pipeline.stages", "pipeline.stages.config")  # the STAGES list and the run config
OTHER_PACKAGES = ("p2s_common", "blender_addon", "materials_db", "assets_index")


def modules() -> list[tuple[str, Path]]:
    """(dotted name, path) of every module of the project's packages."""
    out = []
    for top in ("pipeline", *OTHER_PACKAGES):
        for path in sorted((ROOT / top).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out.append((".".join(parts), path))
    return out


def imported(name: str, path: Path) -> set[str]:
    """Absolute names of the project modules (or their attributes) that a module imports."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.update(f"{module}.{alias.name}" for alias in node.names)  # `from x import y`: y may be a module
    return {n for n in found if n.split(".")[0] in ("pipeline", *OTHER_PACKAGES)}


def layer_of(name: str) -> str:
    """The package that stands for the layer of `name`: a top-level package or a pipeline layer."""
    if name.startswith("pipeline."):
        for layer in PIPELINE_RANKS:
            if name == layer or name.startswith(layer + "."):
                return layer
        if name == "pipeline.synth" or name.startswith("pipeline.synth."):
            return "pipeline.synth"
    return name.split(".")[0]


def stage_package(name: str) -> str | None:
    """'pipeline.stages.room' for anything inside it; None for the shared modules of pipeline.stages."""
    parts = name.split(".")
    if len(parts) >= 3 and parts[:2] == ["pipeline", "stages"] and ".".join(parts[:3]) not in STAGES_SHARED:
        return ".".join(parts[:3])
    return None


def violation(importer: str, target: str) -> str | None:
    """Why `importer` may not import `target`, or None when it may."""
    src, dst = layer_of(importer), layer_of(target)
    if src == dst:
        if src == "pipeline.stages":
            own, other = stage_package(importer), stage_package(target)
            if own and other and own != other:
                return "one stage imports another (they talk through the Scene)"
        return None
    if dst == "pipeline" and target.split(".")[1] in ("__version__",):
        return None
    if src in ("p2s_common",):
        return "p2s_common is the leaf: it imports nothing of the project"
    if src in ("blender_addon",):
        return "the add-on ships alone: it imports nothing of the project"
    if src in ("materials_db", "assets_index"):
        return None if dst in ("p2s_common", "materials_db", "assets_index", "blender_addon") else \
            f"{src} is below the pipeline"
    if src == "pipeline.synth":
        return None if dst == "p2s_common" else "synth imports nothing of the pipeline"
    if src == "pipeline":  # pipeline/__init__.py and __main__.py: the entry point runs the app
        return None if dst in ("pipeline.app", *OTHER_PACKAGES) else "the entry point only starts the app"
    if dst in OTHER_PACKAGES:
        return None
    if dst == "pipeline.synth":
        return None if src == "pipeline.app" else "only the app (bench, the synth command) uses synth"
    if dst not in PIPELINE_RANKS:
        return f"{target} is outside every layer"
    if PIPELINE_RANKS[dst] >= PIPELINE_RANKS[src]:
        return f"{src} (layer {PIPELINE_RANKS[src]}) imports {dst} (layer {PIPELINE_RANKS[dst]}): upward or sideways"
    return None


def test_every_import_follows_the_layers():
    problems = []
    for name, path in modules():
        for target in sorted(imported(name, path)):
            why = violation(name, target)
            if why:
                problems.append(f"{path.relative_to(ROOT)}: {target}: {why}")
    assert not problems, "\n".join(problems)


def test_every_pipeline_module_has_a_layer():
    loose = [name for name, _ in modules() if name.startswith("pipeline.")
             and layer_of(name) not in (*PIPELINE_RANKS, "pipeline.synth") and name != "pipeline.__main__"]
    assert not loose, f"modules outside every layer (put them in one, docs/architecture.md): {loose}"


@pytest.mark.parametrize("importer, target, allowed", [
    ("pipeline.core.scene", "pipeline.render.scene_render", False),
    ("pipeline.render.room_box", "pipeline.core.scene", True),
    ("pipeline.stages.room.stage", "pipeline.stages.objects.stage", False),
    ("pipeline.stages.room.stage", "pipeline.stages.config", True),
    ("pipeline.estimators.camera", "pipeline.interactive.session", False),
    ("pipeline.stages.room.fit", "pipeline.app.reconstruct", False),
    ("pipeline.synth.layout", "pipeline.core.geometry", False),
    ("pipeline.app.bench.room", "pipeline.synth.case_writer", True),
    ("p2s_common.images", "pipeline.core.io.images", False),
])
def test_the_rules_themselves(importer, target, allowed):
    """The checker catches what it is meant to (an always-green layer test would say nothing)."""
    assert (violation(importer, target) is None) == allowed
