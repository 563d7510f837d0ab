"""The extension as Blender gets it: the manifest and zip pass Blender's own validator, the zip installs into a
fresh Blender user folder through Blender's extension operators, and the installed add-on works with nothing but
the standard library and bpy."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

from addon_fixtures import REPO, write_bundle

pytest.importorskip("bpy")

ADDON = REPO / "blender_addon"
BUILD = ADDON / "tools" / "build_extension.py"
BLENDER_MODULES = {"bpy", "bpy_extras", "mathutils", "bmesh", "gpu", "gpu_extras", "bl_math", "addon_utils",
                   "bl_ui", "blf", "idprop", "imbuf", "aud", "freestyle"}


def _build(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(BUILD), "--out-dir", str(tmp_path / "dist"), *args],
                          capture_output=True, text=True, cwd=REPO, timeout=120)


@pytest.fixture(scope="module")
def built_zip(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("ext")
    proc = _build(tmp)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (zip_path,) = (tmp / "dist").glob("photo2scene-*.zip")
    return zip_path


def test_zip_holds_the_addon_only(built_zip):
    names = set(zipfile.ZipFile(built_zip).namelist())
    assert {"blender_manifest.toml", "__init__.py", "bundle.py", "jobs.py", "operators.py", "panels.py",
            "builders/scene.py"} <= names
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc") or n.startswith("tools/")]


def test_validator_rejects_a_bad_manifest(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "__init__.py").write_text("")
    manifest = (ADDON / "blender_manifest.toml").read_text()
    (src / "blender_manifest.toml").write_text(manifest.replace('"Camera"', '"Not A Tag"'))
    proc = _build(tmp_path, "--source-dir", str(src), "--validate-only")
    assert proc.returncode == 1 and "Not A Tag" in proc.stderr


def test_only_stdlib_and_bpy_imports():
    """The add-on must install into a plain Blender: no numpy, no pipeline, no third-party packages."""
    bad = []
    for path in ADDON.rglob("*.py"):
        if "tools" in path.relative_to(ADDON).parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top not in BLENDER_MODULES and top != "__future__":
                    bad.append(f"{path.relative_to(REPO)}: import {name}")
    assert not bad, bad


INSTALL = textwrap.dedent('''
    import sys, importlib.abc

    class Block(importlib.abc.MetaPathFinder):
        """Make the checkout's packages unimportable: the installed extension must stand alone."""
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in ("pipeline", "materials_db", "assets_index", "blender_addon"):
                raise ImportError(f"blocked: {name}")
            return None

    sys.meta_path.insert(0, Block())
    import bpy, addon_utils
    zip_path, repo_dir, bundle = sys.argv[1:4]
    repo = bpy.context.preferences.extensions.repos.new(name="p2s_test", module="p2s_test",
                                                        custom_directory=repo_dir, source="USER")
    assert bpy.ops.extensions.package_install_files(filepath=zip_path, repo="p2s_test",
                                                    enable_on_install=True) == {"FINISHED"}
    name = "bl_ext.p2s_test.photo2scene"
    assert name in bpy.context.preferences.addons, [a.module for a in bpy.context.preferences.addons]
    prefs = bpy.context.preferences.addons[name].preferences
    assert prefs.bl_rna.identifier == "PHOTO2SCENE_Preferences"
    data = sys.modules[name + ".preferences"].data_dir("bundles")
    print("DATA", data)
    bpy.ops.wm.read_homefile(use_empty=True)
    assert bpy.ops.photo2scene.import_bundle(directory=bundle) == {"FINISHED"}
    assert bpy.context.scene.camera is not None and "room_floor" in bpy.data.objects
    addon_utils.disable(name, default_set=True)
    assert not hasattr(bpy.types, "PHOTO2SCENE_PT_main")
    print("INSTALLED-OK")
''')


def test_install_zip_into_fresh_blender(built_zip, tmp_path):
    bundle = write_bundle(tmp_path / "canned.bundle")
    script = tmp_path / "install.py"
    script.write_text(INSTALL)
    env = dict(os.environ, BLENDER_USER_RESOURCES=str(tmp_path / "user"))
    proc = subprocess.run([sys.executable, str(script), str(built_zip), str(tmp_path / "repo"), str(bundle)],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=180)
    assert proc.returncode == 0 and "INSTALLED-OK" in proc.stdout, proc.stdout[-3000:] + proc.stderr[-3000:]
    data = next(line.split(" ", 1)[1] for line in proc.stdout.splitlines() if line.startswith("DATA "))
    # Writable data goes under Blender's extension user folder (here inside the test's user resources).
    assert Path(data).is_relative_to(tmp_path / "user") and "p2s_test" in data
