"""The job runner (blender_addon/jobs.py, bpy-free) against small fake pipelines: progress, error and cancel."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import pytest

from addon_fixtures import fake_python  # noqa: F401  (fixture)
from blender_addon import jobs
from blender_addon.bundle import load_bundle


def test_parse_event_json_and_plain_lines():
    e = jobs.parse_event('{"event": "progress", "stage": "room", "step": 3, "total": 40, "loss": 0.25, '
                         '"message": "refining", "time": 1.5, "extra_field": 1}\n')
    assert (e.kind, e.stage, e.step, e.total, e.loss, e.message, e.time) == ("progress", "room", 3, 40, 0.25,
                                                                            "refining", 1.5)
    assert e.extra == {"extra_field": 1}
    for line in ("not json", "[1, 2]", '{"event": "unknown"}', '{"no": "event"}'):
        assert jobs.parse_event(line).kind == "output"
    # Bad field types do not break the reader.
    odd = jobs.parse_event('{"event": "progress", "step": "three", "total": null, "loss": true}')
    assert odd.kind == "progress" and odd.step is None and odd.total is None and odd.loss is None


def test_commands_and_presets():
    opts = jobs.option_args("cpu", "draft", "--room.refine-iters 3 --seed 7")
    assert opts[:2] == ["--device", "cpu"]
    assert opts[-4:] == ["--room.refine-iters", "3", "--seed", "7"]  # user's options last: they win
    assert jobs.option_args("auto", "final") == ["--device", "auto", "--preset", "final"]
    assert jobs.option_args("cpu", "draft")[2:] == ["--preset", "draft"]  # the pipeline defines the preset
    with pytest.raises(ValueError):
        jobs.option_args("tpu")
    args = jobs.reconstruct_args("p.jpg", "out.bundle", "est", ["--device", "cpu"])
    assert args == ["reconstruct", "p.jpg", "-o", "out.bundle", "--events", "jsonl", "--estimates", "est",
                    "--device", "cpu"]
    assert jobs.refine_args("b.bundle", "objects")[:4] == ["refine", "b.bundle", "--from-stage", "objects"]
    assert jobs.pipeline_command("py", "x")[:3] == ["py", "-m", "pipeline"]


def test_unique_bundle_path(tmp_path):
    first = jobs.unique_bundle_path(tmp_path, "my room")
    assert first.name == "my_room.bundle"
    first.mkdir()
    assert jobs.unique_bundle_path(tmp_path, "my room").name == "my_room-2.bundle"


def test_project_python_found_next_to_addon():
    here = Path(jobs.__file__).parent
    found = jobs.find_project_python(here)
    assert found is not None and Path(found).is_file()


def test_check_interpreter(tmp_path, fake_python):
    ok, message = jobs.check_interpreter(sys.executable)
    assert ok, message
    assert message.startswith("OK")
    ok, message = jobs.check_interpreter(str(tmp_path / "nope"))
    assert not ok and "does not exist" in message
    ok, message = jobs.check_interpreter("")
    assert not ok and "interpreter" in message
    ok, message = jobs.check_interpreter(fake_python("ok"))  # not a Python: exits 3
    assert not ok and "cannot import the pipeline" in message


def test_job_success_events_log_and_bundle(tmp_path, fake_python):
    out = tmp_path / "bundles" / "room.bundle"
    log = tmp_path / "logs" / "room.log"
    argv = jobs.pipeline_command(fake_python("ok"), *jobs.reconstruct_args("photo.png", out))
    job = jobs.Job(argv, output=out, log_path=log)
    seen_progress = []
    job.start()
    while not job.finished:
        for event in job.poll():
            if event.kind == "progress":
                seen_progress.append((job.state.step, job.state.total, job.state.fraction))
        time.sleep(0.01)
    s = job.state
    assert s.status == "done" and s.returncode == 0 and not s.error
    assert seen_progress[-1] == (3, 3, 1.0)
    assert s.stage == "room" and s.stages_seen == ["room"] and s.loss == pytest.approx(0.5 / 3)
    assert Path(s.bundle) == out
    load_bundle(out)  # a valid bundle
    kinds = [e.kind for e in job.events]
    assert kinds[0] == "stage" and kinds[-1] == "done" and "output" in kinds
    text = log.read_text()
    assert "a line that is not JSON" in text and "progress chatter on stderr" in text and "# done" in text
    assert "room 3/3" in s.label()


def test_job_failure_reports_pipeline_message(tmp_path, fake_python):
    out = tmp_path / "bad.bundle"
    job = jobs.Job(jobs.pipeline_command(fake_python("fail"), *jobs.reconstruct_args("p.png", out)), output=out,
                   log_path=tmp_path / "bad.log")
    state = jobs.run_to_end(job, timeout=60)
    assert state.status == "failed" and state.returncode == 2
    assert state.error.startswith("segments.json: segment 1 has no label")
    assert not out.exists()
    assert "photo2scene: error:" in (tmp_path / "bad.log").read_text()


def test_failure_message_from_stderr_alone(tmp_path):
    """A pipeline that dies before emitting an error event: the message comes from its stderr."""
    script = tmp_path / "die.py"
    script.write_text("import sys\nprint('Traceback ...', file=sys.stderr)\n"
                      "print('photo2scene: error: the photo is unreadable', file=sys.stderr)\nsys.exit(2)\n")
    state = jobs.run_to_end(jobs.Job([sys.executable, str(script)]), timeout=60)
    assert state.status == "failed" and state.error == "the photo is unreadable"
    script.write_text("import sys\nsys.exit(5)\n")
    state = jobs.run_to_end(jobs.Job([sys.executable, str(script)]), timeout=60)
    assert state.status == "failed" and "exit code 5" in state.error


def test_missing_interpreter_raises_oserror(tmp_path):
    with pytest.raises(OSError):
        jobs.Job([str(tmp_path / "no-python"), "-m", "pipeline"]).start()


def test_cancel_hanging_job_kills_and_cleans_up(tmp_path, fake_python):
    out = tmp_path / "hang.bundle"
    job = jobs.Job(jobs.pipeline_command(fake_python("hang"), *jobs.reconstruct_args("p.png", out)), output=out,
                   log_path=tmp_path / "hang.log").start()
    deadline = time.monotonic() + 30
    while job.state.step < 1 and time.monotonic() < deadline:  # wait until it is inside its "stage"
        job.poll()
        time.sleep(0.02)
    assert job.state.stage == "room" and job.state.step == 1
    assert list(tmp_path.glob(".hang.bundle.*.partial"))
    start = time.monotonic()
    state = job.cancel(grace=0.5)  # the fake ignores SIGTERM: the runner must escalate
    assert time.monotonic() - start < 5
    assert state.status == "cancelled" and job.process.poll() is not None
    assert not list(tmp_path.glob(".hang.bundle.*.partial")) and not out.exists()
    job.cancel()  # a second cancel is harmless


def test_request_cancel_does_not_block(tmp_path, fake_python):
    out = tmp_path / "hang.bundle"
    job = jobs.Job(jobs.pipeline_command(fake_python("hang"), *jobs.reconstruct_args("p.png", out)),
                   output=out).start()
    while not job.events:
        job.poll()
        time.sleep(0.02)
    start = time.monotonic()
    job.request_cancel(grace=0.3)
    assert time.monotonic() - start < 0.2
    state = job.wait(timeout=10)
    assert state.status == "cancelled"
    assert not list(tmp_path.glob(".hang.bundle.*.partial"))


def test_cancel_restores_bundle_moved_aside(tmp_path):
    """Killed during the pipeline's final rename: the old bundle (at .NAME.old) is put back."""
    out = tmp_path / "r.bundle"
    old = tmp_path / ".r.bundle.old"
    old.mkdir()
    (old / "scene.json").write_text("{}")
    job = jobs.Job([sys.executable, "-c", "import time; time.sleep(30)"], output=out).start()
    job.cancel(grace=1.0)
    assert out.is_dir() and not old.exists()


def test_child_env_is_clean():
    os.environ["PYTHONHOME"] = "/blender/python"
    try:
        env = jobs.child_env({"X": "1"})
    finally:
        del os.environ["PYTHONHOME"]
    assert "PYTHONHOME" not in env and env["PYTHONUNBUFFERED"] == "1" and env["X"] == "1"


def test_event_protocol_matches_pipeline():
    """The pipeline's Events writer and this reader agree on the fields (no drift between the two ends)."""
    import io

    from pipeline.core.events import Events

    stream = io.StringIO()
    ev = Events(jsonl=stream, bars=False)
    ev.stage("room", 2, "fitting")
    ev.step(1, 2, "iter", loss=0.5)
    ev.log("hello")
    ev.error("bad")
    ev.done("finished", bundle="/x.bundle")
    parsed = [jobs.parse_event(line) for line in stream.getvalue().splitlines()]
    assert [p.kind for p in parsed] == ["stage", "log", "progress", "log", "error", "done"]
    assert parsed[2].step == 1 and parsed[2].total == 2 and parsed[2].loss == 0.5
    assert parsed[-1].extra["bundle"] == "/x.bundle"
    assert json.loads(stream.getvalue().splitlines()[0])["event"] == "stage"
