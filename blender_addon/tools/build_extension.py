"""Validate and build the Blender extension zip with Blender's own extension tool, without a Blender binary.

    python blender_addon/tools/build_extension.py [--out-dir dist] [--validate-only]

Blender's `blender --command extension build` is `bl_pkg/cli/blender_ext.py`, which the PyPI bpy wheel ships; it
runs in any Python. As Blender does, tags are checked against Blender's own list. The source folder is validated,
then the zip is built and the zip validated again (what an extensions platform would check). Exit code 0 on success.

This script is not part of the extension (blender_manifest.toml excludes /tools/).
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
from pathlib import Path

ADDON_DIR = Path(__file__).resolve().parents[1]


def find_blender_scripts() -> Path:
    """`<bpy>/<X.Y>/scripts` of the installed bpy module (found without importing bpy, which is slow)."""
    spec = importlib.util.find_spec("bpy")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("error: the bpy module is not installed here (pip install bpy==5.0.1, Python 3.11)")
    for location in spec.submodule_search_locations:
        found = sorted(Path(location).glob("*/scripts/addons_core/bl_pkg/cli/blender_ext.py"))
        if found:
            return found[-1].parents[3]
    raise SystemExit("error: this bpy has no bl_pkg/cli/blender_ext.py (Blender's extension tool)")


def blender_ext(scripts: Path, *args: str) -> subprocess.CompletedProcess:
    tool = scripts / "addons_core" / "bl_pkg" / "cli" / "blender_ext.py"
    return subprocess.run([sys.executable, str(tool), *args], capture_output=True, text=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source-dir", type=Path, default=ADDON_DIR, help="folder with blender_manifest.toml")
    parser.add_argument("--out-dir", type=Path, default=Path("dist"), help="where the zip goes (default: dist)")
    parser.add_argument("--validate-only", action="store_true", help="check the manifest, build nothing")
    args = parser.parse_args(argv)

    scripts = find_blender_scripts()
    tags = scripts / "modules" / "_bpy_internal" / "extensions" / "tags.py"
    tag_args = [f"--valid-tags={tags}"] if tags.is_file() else []

    steps = [("validate", [*tag_args, str(args.source_dir)])]
    zip_path = None
    if not args.validate_only:
        args.out_dir.mkdir(parents=True, exist_ok=True)
        steps.append(("build", ["--source-dir", str(args.source_dir), "--output-dir", str(args.out_dir), *tag_args]))
    for name, step_args in steps:
        proc = blender_ext(scripts, name, *step_args)
        output = (proc.stdout + proc.stderr).strip()
        if proc.returncode != 0 or "error" in output.lower():
            print(f"extension {name} failed:\n{output}", file=sys.stderr)
            return 1
        for line in output.splitlines():
            if line.startswith("created:"):
                zip_path = line.split('"')[1]
        print(output)
    if zip_path:
        proc = blender_ext(scripts, "validate", *tag_args, zip_path)
        if proc.returncode != 0 or "error" in (proc.stdout + proc.stderr).lower():
            print(f"the built zip does not validate:\n{proc.stdout}{proc.stderr}", file=sys.stderr)
            return 1
        print(f"extension: {zip_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
