"""The bundle contract (bpy-free loader/validator) and atomic writing."""

from __future__ import annotations

import json

import pytest

from blender_addon.bundle import BundleError, load_bundle, safe_bundle_file, validate_scene
from pipeline.core.bundle import BundleWriter, load_scene, save_scene
from p2s_common.errors import InputError
from pipeline.core.scene import Camera, MaterialEntry, Room, Scene


def _scene() -> Scene:
    cam = Camera([0.0, -1.0, 1.5], [[1, 0, 0], [0, 0, -1], [0, 1, 0]], 50.0, 64, 48)
    room = Room([0, 0, 1.3], [4, 3, 2.6], 0.0, {"floor": "room_floor"})
    return Scene(cam, room, materials={"room_floor": MaterialEntry("principled", base_color=[0.3, 0.2, 0.1])})


def test_roundtrip(tmp_path):
    scene = _scene()
    (tmp_path / "photo.png").write_bytes(b"")
    save_scene(tmp_path, scene, checkpoint="room")
    loaded = load_scene(tmp_path)
    assert loaded.to_dict() == scene.to_dict()
    assert load_scene(tmp_path, "room").room == scene.room
    with pytest.raises(InputError, match="no checkpoint"):
        load_scene(tmp_path, "objects")


@pytest.mark.parametrize("path", ["../evil.obj", "/etc/passwd", "meshes/../../x.obj", "C:/x.obj"])
def test_rejects_paths_outside(tmp_path, path):
    with pytest.raises(BundleError):
        safe_bundle_file(tmp_path, path)


def test_rejects_symlink_escape(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "link").symlink_to("/etc")
    with pytest.raises(BundleError, match="escapes"):
        safe_bundle_file(tmp_path / "b", "link/passwd")


def test_validator_names_the_field(tmp_path):
    data = _scene().to_dict()
    data["camera"]["fov_y_deg"] = -3
    with pytest.raises(BundleError, match="camera.fov_y_deg"):
        validate_scene(data)
    data = _scene().to_dict()
    data["version"] = 99
    with pytest.raises(BundleError, match="newer"):
        validate_scene(data)
    data = _scene().to_dict()
    data["room"]["materials"]["floor"] = "missing"
    with pytest.raises(BundleError, match="missing"):
        validate_scene(data)


def test_missing_referenced_file(tmp_path):
    save_scene(tmp_path, _scene())
    with pytest.raises(BundleError, match="photo.png"):
        load_bundle(tmp_path)


def test_writer_is_atomic(tmp_path):
    out = tmp_path / "a.bundle"
    with pytest.raises(RuntimeError):
        with BundleWriter(out) as root:
            (root / "x").write_text("half")
            raise RuntimeError("stage failed")
    assert not out.exists() and list(tmp_path.iterdir()) == []
    with BundleWriter(out) as root:
        (root / "scene.json").write_text(json.dumps({}))
    assert (out / "scene.json").exists()
    with pytest.raises(InputError, match="already exists"):
        with BundleWriter(out):
            pass
    with BundleWriter(out, overwrite=True) as root:
        (root / "scene.json").write_text("{}")
        (root / "new").write_text("1")
    assert (out / "new").exists() and [p.name for p in tmp_path.iterdir()] == ["a.bundle"]


def test_copy_bundle_leaves_links_out(tmp_path):
    """A re-run copies the bundle without following links: a link to a private file is not pulled in."""
    from pipeline.core.bundle import copy_bundle

    secret = tmp_path / "private.txt"
    secret.write_text("not for the bundle")
    source = tmp_path / "room.bundle"
    (source / "meshes").mkdir(parents=True)
    (source / "scene.json").write_text("{}")
    (source / "meshes" / "chair.obj").write_text("v 0 0 0\n")
    (source / "meshes" / "stolen.txt").symlink_to(secret)
    (source / "elsewhere").symlink_to(tmp_path)
    target = tmp_path / "copy"
    skipped = copy_bundle(source, target)
    assert skipped == ["elsewhere", "meshes/stolen.txt"]
    assert (target / "meshes" / "chair.obj").read_text() == "v 0 0 0\n"
    assert not (target / "meshes" / "stolen.txt").exists() and not (target / "elsewhere").exists()


def test_checkpoint_link_is_refused(tmp_path):
    """A checkpoint is read through the bundle gate like scene.json: a linked one is refused."""
    root = tmp_path / "b.bundle"
    root.mkdir()
    (root / "photo.png").write_bytes(b"")
    save_scene(root, _scene())
    outside = tmp_path / "outside.json"
    outside.write_text((root / "scene.json").read_text())
    (root / "checkpoints").mkdir(exist_ok=True)
    (root / "checkpoints" / "room.json").symlink_to(outside)
    with pytest.raises(BundleError, match="link"):
        load_scene(root, checkpoint="room")
