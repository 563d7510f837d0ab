"""SIGTERM is honoured within seconds in every stage (issue 19): exit 130, "interrupted", the previous bundle
intact and no temporary folder left; the watchdog ends a run stuck in a call that never returns to the checks."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from box_case import EXAMPLE, REPO

FAST = ["--preset", "draft", "--room.refine-iters", "4", "--room.refine-width", "48", "--room.spp", "2", "--quiet"]


def _previous_bundle(out: Path) -> dict[str, bytes]:
    """A bundle from an earlier run (its files are all that matters here): what an interrupted run must keep."""
    out.mkdir(parents=True)
    (out / "scene.json").write_text(json.dumps({"format": "photo2scene", "marker": "previous run"}))
    (out / "photo.png").write_bytes(b"not really a png, but the previous run's file")
    return _files(out)


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _interrupt_at(args: list[str], out: Path, when) -> tuple[subprocess.CompletedProcess, float, list[dict]]:
    """Run the CLI with JSON events, send SIGTERM once `when(event)` is true; return the result, the seconds from
    the signal to the exit, and the events seen."""
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.Popen([sys.executable, "-m", "pipeline", *args, "-o", str(out), "--overwrite",
                             "--events", "jsonl", *FAST], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env, cwd=REPO)
    events, sent = [], None
    assert proc.stdout is not None
    for line in proc.stdout:
        try:
            event = json.loads(line)
        except ValueError:
            continue
        events.append(event)
        if when(event):
            proc.send_signal(signal.SIGTERM)
            sent = time.perf_counter()
            break
    assert sent is not None, f"the run ended before the point: {events[-3:]}"
    stdout, stderr = proc.communicate(timeout=120)  # a guard against a hang, not a timing assertion
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr), time.perf_counter() - sent, events


def _check_interrupted(result, out: Path, before: dict[str, bytes]) -> None:
    assert result.returncode == 130, result.stderr[-2000:]
    assert "photo2scene: interrupted" in result.stderr
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    assert _files(out) == before  # the previous bundle, byte for byte
    leftovers = [p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}.")]
    assert leftovers == []  # no .partial (or .old) folder


def _stage(name: str, step: int = 0):
    return lambda e: e.get("stage") == name and (e["event"] == "stage" if step == 0 else
                                                   e["event"] == "progress" and e.get("step", 0) >= step)


POINTS = {
    "room fit starts": _stage("room"),
    "room box refinement (renders)": _stage("room", 2),
    "material/light initialisation": _stage("materials_lights", 1),
    "material/light optimisation": _stage("materials_lights", 5),
}


@pytest.mark.slow
@pytest.mark.parametrize("point", list(POINTS))
def test_sigterm_in_each_stage_keeps_the_previous_bundle(box_case, tmp_path, point):
    folder, _ = box_case
    out = tmp_path / "room.bundle"
    before = _previous_bundle(out)
    result, seconds, _ = _interrupt_at(["reconstruct", str(folder / "photo.png"), "--estimates",
                                        str(folder / "estimates")], out, POINTS[point])
    print(f"{point}: exit {result.returncode} {seconds:.2f} s after SIGTERM")
    _check_interrupted(result, out, before)


@pytest.mark.slow
def test_sigterm_during_object_pose(tmp_path):
    if not (EXAMPLE / "photo.png").exists():
        pytest.skip("examples/living_room not generated")
    out = tmp_path / "ex.bundle"
    before = _previous_bundle(out)
    result, seconds, _ = _interrupt_at(["reconstruct", str(EXAMPLE / "photo.png"), "--estimates",
                                        str(EXAMPLE / "estimates")], out,
                                       lambda e: e.get("stage") == "objects" and e.get("step", 0) >= 2)
    print(f"object pose: exit {result.returncode} {seconds:.2f} s after SIGTERM")
    _check_interrupted(result, out, before)


STUCK = r'''
import sys, time
from pathlib import Path
from pipeline.core import interrupt

interrupt.install(grace_s=1.0)
tmp = Path(sys.argv[1])
tmp.mkdir()
with interrupt.remove_on_hard_stop(tmp):
    while True:  # like a native call that never returns to a check: the interrupt is swallowed
        try:  # the handler raises once; "ready" is printed inside the try, so wherever it lands it is swallowed
            print("ready", flush=True)
            while True:
                time.sleep(0.05)
        except KeyboardInterrupt:
            pass
'''


def test_watchdog_ends_a_run_stuck_in_a_long_call(tmp_path):
    partial = tmp_path / ".room.bundle.x.partial"
    proc = subprocess.Popen([sys.executable, "-c", STUCK, str(partial)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=dict(os.environ, PYTHONPATH=str(REPO)))
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "interrupted" in stderr and "did not return within 1 s" in stderr, stderr
    assert not partial.exists()  # the hard stop removed the temporary folder


SWAP = r'''
import os, signal
from pipeline.core import interrupt

interrupt.install(grace_s=30)
with interrupt.swap_guard():
    os.kill(os.getpid(), signal.SIGTERM)  # arrives inside the guard: the renames are not cut in half
    print("swap finished", flush=True)
try:
    interrupt.check()
except KeyboardInterrupt:
    print("then interrupted", flush=True)
'''


def test_a_signal_during_the_swap_waits_for_it():
    proc = subprocess.run([sys.executable, "-c", SWAP], capture_output=True, text=True, timeout=60,
                          env=dict(os.environ, PYTHONPATH=str(REPO)))
    assert proc.stdout.split("\n")[:2] == ["swap finished", "then interrupted"], proc.stderr
