"""Interrupted bundle swaps (issue 19): a run that writes bundle NAME first puts back `.NAME.old` when NAME is
missing and removes the `.NAME.*.partial` folders of writers that no longer exist, leaving live ones alone."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

from blender_addon.bundle import PARTIAL_OWNER, mark_partial_owner, partial_owner_alive, recover_interrupted_swap
from pipeline.core.bundle import BundleWriter


def _dead_pid() -> int:
    """The id of a process that has exited (and been reaped)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _partial(parent, name: str, pid: int | None):
    path = parent / f".{name}.x{pid or 0}.partial"
    path.mkdir()
    (path / "scene.json").write_text("{}")
    if pid is not None:
        mark_partial_owner(path)
        host = (path / PARTIAL_OWNER).read_text().split(" ", 1)[1]
        (path / PARTIAL_OWNER).write_text(f"{pid} {host}")
    return path


def test_old_bundle_is_restored_and_dead_partials_removed(tmp_path):
    out = tmp_path / "room.bundle"
    old = tmp_path / ".room.bundle.old"
    old.mkdir()
    (old / "scene.json").write_text('{"previous": true}')
    dead = _partial(tmp_path, "room.bundle", _dead_pid())
    other = _partial(tmp_path, "other.bundle", _dead_pid())  # another bundle's: not matched
    warnings = recover_interrupted_swap(out)
    assert (out / "scene.json").read_text() == '{"previous": true}' and not old.exists()
    assert not dead.exists() and other.exists()
    assert len(warnings) == 2 and dead.name in warnings[0] and "restored" in warnings[1]
    assert recover_interrupted_swap(out) == []  # nothing left to do


def test_live_or_unmarked_partials_are_left_and_block_the_restore(tmp_path):
    """A live writer may be between its two renames, so neither its folder nor `.old` is touched."""
    out = tmp_path / "room.bundle"
    old = tmp_path / ".room.bundle.old"
    old.mkdir()
    live = _partial(tmp_path, "room.bundle", os.getpid())
    unmarked = _partial(tmp_path, "room.bundle", None)  # an older writer, or one not yet marked: not ours to judge
    (warning,) = recover_interrupted_swap(out)
    assert live.exists() and unmarked.exists() and old.is_dir() and not out.exists()
    assert "left as it is" in warning and live.name in warning
    for path in (live, unmarked):
        shutil.rmtree(path)
    assert "restored" in recover_interrupted_swap(out)[0] and out.is_dir()


def test_old_is_left_when_bundle_exists(tmp_path):
    out = tmp_path / "b"
    out.mkdir()
    (tmp_path / ".b.old").mkdir()
    assert recover_interrupted_swap(out) == [] and (tmp_path / ".b.old").is_dir()


def test_glob_characters_in_name_match_only_that_bundle(tmp_path):
    dead = _partial(tmp_path, "a[1]", _dead_pid())
    near = _partial(tmp_path, "a1", _dead_pid())
    recover_interrupted_swap(tmp_path / "a[1]")
    assert not dead.exists() and near.exists()


def test_writer_marks_its_partial_and_recovers_on_entry(tmp_path):
    out = tmp_path / "room.bundle"
    old = tmp_path / ".room.bundle.old"
    old.mkdir()
    (old / "scene.json").write_text("{}")
    dead = _partial(tmp_path, "room.bundle", _dead_pid())
    writer = BundleWriter(out, overwrite=True)
    with writer as root:
        assert partial_owner_alive(root) and (root / PARTIAL_OWNER).is_file()
        (root / "scene.json").write_text('{"new": 1}')
    assert len(writer.recovered) == 2 and not dead.exists()
    assert (out / "scene.json").read_text() == '{"new": 1}' and not (out / PARTIAL_OWNER).exists()
    assert not old.exists() and not list(tmp_path.glob(".room.bundle.*"))


def test_sigkilled_writer_partial_is_removed_by_next_run(tmp_path):
    """A writer killed outright leaves its partial; the next run that writes the same bundle removes it."""
    out = tmp_path / "k.bundle"
    code = ("import os, signal, sys; from pipeline.core.bundle import BundleWriter\n"
            f"w = BundleWriter(__import__('pathlib').Path({str(out)!r}))\n"
            "w.__enter__(); os.kill(os.getpid(), signal.SIGKILL)\n")
    subprocess.run([sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": os.getcwd()}, check=False)
    left = list(tmp_path.glob(".k.bundle.*.partial"))
    assert len(left) == 1 and not partial_owner_alive(left[0])
    with BundleWriter(out) as root:
        (root / "scene.json").write_text("{}")
    assert not left[0].exists() and out.is_dir()
