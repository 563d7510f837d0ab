"""SIGTERM during a Cycles render through bpy (issue 19): the render keeps the GIL, so no Python code runs until it
returns; the watcher process of `interrupt.gil_held_call` ends the run within its grace period, removes the
temporary bundle folder and says "interrupted"."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("bpy")

REPO = Path(__file__).resolve().parents[2]

SCRIPT = r'''
import sys
import time
from pathlib import Path
sys.path[:0] = [sys.argv[2] + "/tests", sys.argv[2] + "/tests/blender_addon"]
from addon_fixtures import write_bundle
from pipeline.core import interrupt
from pipeline.render.cycles import render_bundle

bundle = write_bundle(Path(sys.argv[1]) / "b.bundle")
partial = Path(sys.argv[1]) / ".b.bundle.x.partial"
partial.mkdir()
interrupt.install(grace_s=1.0)
with interrupt.remove_on_hard_stop(partial):
    print("rendering", flush=True)
    render_bundle(bundle, 160, 120, samples=1_000_000)  # hours: only a stop ends it
print("the render returned", flush=True)
'''


def test_sigterm_during_a_cycles_render(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, str(tmp_path), str(REPO)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=dict(os.environ, PYTHONPATH=str(REPO)))
    assert proc.stdout is not None and proc.stdout.readline().strip() == "rendering"
    proc.stdout.close()
    time.sleep(2.0)  # inside the render
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=120)  # a hang guard, not a timing assertion
    assert proc.returncode == -signal.SIGKILL  # nothing in the process could run: the watcher ended it
    assert "photo2scene: interrupted" in stderr and "holding the GIL" in stderr
    assert not (tmp_path / ".b.bundle.x.partial").exists()
    assert (tmp_path / "b.bundle" / "scene.json").is_file()  # other bundles untouched
