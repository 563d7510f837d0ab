"""Running the pipeline as a separate process and following its JSON-lines events (bpy-free).

The add-on never imports the pipeline: torch, Mitsuba and taichi do not belong in Blender's own Python (see
ARCHITECTURE.md). Instead it starts `PYTHON -m pipeline ... --events jsonl` and reads one JSON object per line from
the child's stdout on a thread, so Blender's UI stays responsive; a modal operator (or, headless, a plain loop)
calls `Job.poll()` to take the new events on the main thread.

Cancelling terminates the child's whole process group, then kills it if it has not gone after a grace period, and
removes the half-written bundle folder the pipeline leaves behind when it is killed mid-write.

Everything here is standard library only, so tests drive it directly with small fake pipelines.
"""

from __future__ import annotations

import json
import os
import queue
import shlex
import shutil
import signal
import subprocess
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Iterable, Sequence

# Quality presets: pipeline options per preset. "final" keeps the pipeline's own defaults; "draft" trades accuracy
# for a quick first look. Only options the pipeline documents (`photo2scene reconstruct --help`) belong here.
QUALITY_PRESETS: dict[str, tuple[str, ...]] = {  # the pipeline owns what each preset means (config.PRESETS)
    "draft": ("--preset", "draft"),
    "final": ("--preset", "final"),
}

DEVICES = ("auto", "cpu", "gpu")
# Cancel: SIGKILL after this many seconds. Longer than the pipeline's own watchdog (5 s, pipeline/core/interrupt.py),
# so a pipeline stuck in a long native call still removes its temporary folder and reports "interrupted" itself.
CANCEL_GRACE_S = 8.0
EVENT_KINDS = ("stage", "progress", "log", "done", "error")


# ---------------------------------------------------------------------------------------------------- commands

def pipeline_command(python: str, *args: str) -> list[str]:
    """argv that runs the pipeline's CLI with `python` (the interpreter that has the pipeline installed)."""
    return [python, "-m", "pipeline", *args]


def option_args(device: str = "auto", quality: str = "final", extra: str | Sequence[str] = ()) -> list[str]:
    """Device, quality preset and the user's extra options (a shell-quoted string or a list), in that order,
    so the user's own options win over the preset's."""
    if device not in DEVICES:
        raise ValueError(f"device must be one of {DEVICES}, not {device!r}")
    if quality not in QUALITY_PRESETS:
        raise ValueError(f"quality must be one of {tuple(QUALITY_PRESETS)}, not {quality!r}")
    extra_list = shlex.split(extra) if isinstance(extra, str) else list(extra)
    return ["--device", device, *QUALITY_PRESETS[quality], *extra_list]


def reconstruct_args(photo: str | os.PathLike, output: str | os.PathLike, estimates: str | os.PathLike | None = None,
                     options: Sequence[str] = ()) -> list[str]:
    """Arguments of `photo2scene reconstruct` for a new bundle at `output`."""
    args = ["reconstruct", str(photo), "-o", str(output), "--events", "jsonl"]
    if estimates:
        args += ["--estimates", str(estimates)]
    return args + list(options)


def refine_args(bundle: str | os.PathLike, stage: str, options: Sequence[str] = ()) -> list[str]:
    """Arguments of `photo2scene refine BUNDLE --from-stage STAGE`: re-run STAGE and the stages after it, starting
    from the bundle's scene.json as edited in Blender, and rewrite the bundle in place (docs/addon.md)."""
    return ["refine", str(bundle), "--from-stage", stage, "--events", "jsonl", *options]


def index_assets_args(paths: Iterable[str]) -> list[str]:
    """Arguments of `photo2scene assets index PATH...` (the asset index the object stage retrieves from)."""
    return ["assets", "index", *[str(p) for p in paths]]


def import_material_args(blend: str | os.PathLike, material: str, category: str) -> list[str]:
    """Arguments of `photo2scene materials import`: one material of a .blend into the user's material library."""
    return ["materials", "import", str(blend), "--material", material, "--category", category]


def unique_bundle_path(folder: str | os.PathLike, stem: str) -> Path:
    """`folder/stem.bundle`, or `stem-2.bundle`, `stem-3.bundle`, ...: a new reconstruction never replaces an
    older one (the user may have edited it)."""
    folder = Path(folder)
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in stem).strip("._") or "photo"
    candidate = folder / f"{safe}.bundle"
    n = 2
    while candidate.exists():
        candidate = folder / f"{safe}-{n}.bundle"
        n += 1
    return candidate


def find_project_python(addon_dir: str | os.PathLike | None = None,
                        setup_env: str | os.PathLike | None = None) -> str | None:
    """The interpreter of the project's `.venv` when the add-on sits in a photo2scene checkout (development
    installs link `blender_addon/` into Blender's extensions folder), else the one the preferences' Set Up made in
    `setup_env` (setup_env.py), else the one behind a `photo2scene` command on PATH, else None."""
    addon_dir = Path(addon_dir or Path(__file__).parent).resolve()  # resolve(): follow a development symlink
    venv = addon_dir.parent / ".venv"
    for exe in (venv / "bin" / "python", venv / "Scripts" / "python.exe"):
        if exe.is_file():
            return str(exe)
    if setup_env is not None:
        from .setup_env import installed_python

        made = installed_python(setup_env)
        if made:
            return made
    script = shutil.which("photo2scene")
    if script:
        try:
            first = Path(script).read_text(errors="replace").splitlines()[0]
        except (OSError, IndexError):
            return None
        if first.startswith("#!"):
            exe = first[2:].strip().split()[0]
            if Path(exe).is_file():
                return exe
    return None


def check_interpreter(python: str, timeout: float = 60.0) -> tuple[bool, str]:
    """Whether `python` can run the pipeline, and a sentence saying so (or what is wrong and how to fix it).

    Imports the pipeline package and the bundle contract without running anything heavy, and compares the bundle
    format the pipeline writes with the one this add-on reads."""
    from .bundle import VERSION

    if not python:
        return False, "no Python interpreter chosen: set the one that has photo2scene installed (its .venv/bin/python)"
    if not Path(python).is_file():
        return False, f"{python} does not exist"
    probe = ("import sys, pipeline, pipeline.app.reconstruct; from blender_addon.bundle import VERSION; "
             "print(VERSION, pipeline.__file__, sys.version.split()[0])")
    try:
        proc = subprocess.run([python, "-c", probe], capture_output=True, text=True, timeout=timeout,
                              env=child_env())
    except subprocess.TimeoutExpired:
        return False, f"{python} did not answer within {timeout:.0f} s"
    except OSError as exc:
        return False, f"{python} cannot be run: {exc.strerror or exc}"
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return False, f"{python} cannot import the pipeline ({last}); install photo2scene into it (pip install -e .)"
    try:
        version_text, where, py_version = proc.stdout.split()[:3]
        version = int(version_text)
    except ValueError:
        return False, f"{python} answered unexpectedly: {proc.stdout.strip()[:200]!r}"
    if version != VERSION:
        return False, (f"the pipeline at {where} writes bundle format {version} but this add-on reads {VERSION}; "
                       "update the one that is older")
    return True, f"OK: Python {py_version}, pipeline at {Path(where).parent}"


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """Environment for the pipeline process: the user's, unbuffered, without Blender's own Python settings (which
    would point the child at Blender's interpreter files)."""
    env = dict(os.environ)
    for key in ("PYTHONHOME", "PYTHONSTARTUP", "PYTHONNOUSERSITE"):
        env.pop(key, None)
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra or {})
    return env


# ---------------------------------------------------------------------------------------------------- events

@dataclass
class Event:
    """One line from the pipeline: a JSON event, or `kind == "output"` for a line that is not one."""

    kind: str
    stage: str = ""
    step: int | None = None
    total: int | None = None
    message: str = ""
    loss: float | None = None
    time: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def parse_event(line: str) -> Event:
    """Parse one stdout line; anything that is not a JSON event object becomes an "output" event."""
    text = line.rstrip("\r\n")
    try:
        data = json.loads(text)
    except ValueError:
        return Event("output", message=text)
    if not isinstance(data, dict) or data.get("event") not in EVENT_KINDS:
        return Event("output", message=text)
    known = {"event", "stage", "step", "total", "message", "loss", "time"}

    def number(key: str, kind: type) -> Any:
        value = data.get(key)
        return kind(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None

    return Event(kind=data["event"], stage=str(data.get("stage") or ""), step=number("step", int),
                 total=number("total", int), message=str(data.get("message") or ""), loss=number("loss", float),
                 time=number("time", float), extra={k: v for k, v in data.items() if k not in known})


@dataclass
class JobState:
    """What the UI shows about a job; updated only on the main thread by `Job.poll()`."""

    status: str = "idle"  # idle | running | done | failed | cancelled
    stage: str = ""
    step: int = 0
    total: int = 0
    message: str = ""
    loss: float | None = None
    error: str = ""
    returncode: int | None = None
    bundle: str = ""  # from the "done" event
    stages_seen: list[str] = field(default_factory=list)

    @property
    def fraction(self) -> float:
        """Progress through the current stage, 0..1."""
        return min(1.0, max(0.0, self.step / self.total)) if self.total > 0 else 0.0

    @property
    def finished(self) -> bool:
        return self.status in ("done", "failed", "cancelled")

    def label(self) -> str:
        """One line for a progress bar: "room 12/40 · loss 0.0123"."""
        if not self.stage:
            return self.message or self.status
        text = f"{self.stage} {self.step}/{self.total}" if self.total else self.stage
        if self.loss is not None:
            text += f" · loss {self.loss:.4g}"
        return text


# ---------------------------------------------------------------------------------------------------- the job

class Job:
    """One pipeline process: start it, `poll()` its events, `wait()` for it, or `cancel()` it.

    `output` is the bundle folder the job writes (when it writes one): on cancel, the half-written temporary
    folders the pipeline leaves next to it are removed. Everything the child prints goes to `log_path`."""

    def __init__(self, argv: Sequence[str], *, kind: str = "reconstruct", output: str | os.PathLike | None = None,
                 log_path: str | os.PathLike | None = None, cwd: str | os.PathLike | None = None,
                 env: dict[str, str] | None = None, label: str = ""):
        self.argv = [str(a) for a in argv]
        self.kind = kind
        self.output = Path(output) if output else None
        self.log_path = Path(log_path) if log_path else None
        self.cwd = str(cwd) if cwd else None
        self.env = env if env is not None else child_env()
        self.label = label or kind
        self.state = JobState()
        self.events: list[Event] = []  # every event taken so far
        self.stderr_tail: deque[str] = deque(maxlen=200)
        self.process: subprocess.Popen | None = None
        self.started_at = 0.0
        self._queue: queue.Queue[Event | None] = queue.Queue()
        self._threads: list[threading.Thread] = []
        self._log: IO[str] | None = None
        self._log_lock = threading.Lock()
        self._streams_open = 0
        self._cancelled = False
        self._kill_at = 0.0

    # -- life cycle

    def start(self) -> "Job":
        """Start the process and the reader threads. Raises OSError when the interpreter cannot be started."""
        if self.log_path is not None:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            self._log = open(self.log_path, "w", encoding="utf-8")
            self._write_log("$ " + shlex.join(self.argv))
        kwargs: dict[str, Any] = {}
        if os.name == "posix":
            kwargs["start_new_session"] = True  # own process group: cancel reaches the pipeline's children too
        else:
            kwargs["creationflags"] = getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)
        self.started_at = time.time()
        try:
            self.process = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                            stderr=subprocess.PIPE, text=True, encoding="utf-8",
                                            errors="replace", bufsize=1, cwd=self.cwd, env=self.env, **kwargs)
        except OSError:
            self._close_log()
            raise
        self.state.status = "running"
        self._streams_open = 2
        for target, stream in ((self._read_stdout, self.process.stdout), (self._read_stderr, self.process.stderr)):
            thread = threading.Thread(target=target, args=(stream,), daemon=True, name=f"photo2scene-{self.kind}")
            thread.start()
            self._threads.append(thread)
        return self

    def poll(self) -> list[Event]:
        """Take the events that arrived since the last call and update `state`; call from the main thread."""
        new: list[Event] = []
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is None:  # a reader thread reached the end of its stream
                self._streams_open -= 1
                continue
            new.append(item)
            self._apply(item)
        self.events += new
        if (self._cancelled and self.process is not None and self.process.poll() is None
                and time.monotonic() > self._kill_at):
            self._signal(signal.SIGKILL if os.name == "posix" else signal.SIGTERM)
        if self.state.status == "running" and self._streams_open <= 0 and self.process is not None:
            returncode = self.process.wait()
            self._finish(returncode)
        return new

    def wait(self, timeout: float | None = None, interval: float = 0.05) -> JobState:
        """Poll until the job ends (or `timeout` seconds pass); returns the state."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self.state.finished:
            self.poll()
            if self.state.finished or (deadline is not None and time.monotonic() > deadline):
                break
            time.sleep(interval)
        return self.state

    def request_cancel(self, grace: float = CANCEL_GRACE_S) -> None:
        """Ask the process to stop without waiting (the UI's Cancel): SIGTERM to its process group now, SIGKILL
        from the first `poll()` after `grace` seconds. The job ends as "cancelled" once its streams close."""
        if self.state.finished or self.process is None or self._cancelled:
            return
        self._cancelled = True
        self.state.message = "cancelling..."
        self._kill_at = time.monotonic() + grace
        self._signal(signal.SIGTERM)

    def cancel(self, grace: float = CANCEL_GRACE_S) -> JobState:
        """Stop the process and wait until it has gone (SIGTERM, SIGKILL after `grace` seconds); what it left
        half-written is removed. Safe to call more than once and after the job ended (then it does nothing)."""
        if self.state.finished or self.process is None:
            return self.state
        self.request_cancel(grace)
        try:
            self.process.wait(timeout=max(0.0, self._kill_at - time.monotonic()))
        except subprocess.TimeoutExpired:
            self._signal(signal.SIGKILL if os.name == "posix" else signal.SIGTERM)
            self.process.wait()
        for thread in self._threads:
            thread.join(timeout=2.0)
        self.poll()
        if not self.state.finished:  # a grandchild still holds the pipes open: stop waiting for them
            self._finish(self.process.returncode)
        return self.state

    @property
    def finished(self) -> bool:
        return self.state.finished

    # -- internals

    def _signal(self, sig: int) -> None:
        assert self.process is not None
        if self.process.poll() is not None:
            return
        try:
            if os.name == "posix":
                os.killpg(self.process.pid, sig)
            else:
                self.process.terminate() if sig == signal.SIGTERM else self.process.kill()
        except (ProcessLookupError, PermissionError):
            pass

    def _apply(self, event: Event) -> None:
        s = self.state
        if event.kind == "stage":
            s.stage, s.step, s.total, s.loss = event.stage, 0, event.total or 0, None
            s.message = event.message
            if event.stage and event.stage not in s.stages_seen:
                s.stages_seen.append(event.stage)
        elif event.kind == "progress":
            s.stage = event.stage or s.stage
            s.step = event.step if event.step is not None else s.step
            s.total = event.total if event.total is not None else s.total
            s.loss = event.loss if event.loss is not None else s.loss
            s.message = event.message or s.message
        elif event.kind in ("log", "output"):
            if event.message:
                s.message = event.message
        elif event.kind == "done":  # a stage's end, or (with `bundle`) the run's
            s.message = event.message or s.message
            if event.extra.get("bundle"):
                s.bundle = str(event.extra["bundle"])
        elif event.kind == "error":
            s.error = s.error or event.message

    def _finish(self, returncode: int | None) -> None:
        s = self.state
        s.returncode = returncode
        if self._cancelled:
            s.status = "cancelled"
            s.message = "cancelled"
            self._remove_partial_output()
        elif returncode == 0:
            s.status = "done"
            if not s.bundle and self.output is not None:
                s.bundle = str(self.output)
        else:
            s.status = "failed"
            s.error = s.error or self._stderr_error() or f"the pipeline stopped with exit code {returncode}"
        self._write_log(f"# {s.status} (exit code {returncode})")
        self._close_log()

    def _stderr_error(self) -> str:
        """The pipeline's one-line `photo2scene: error: ...` (or argparse's `...: error: ...`), else the last line."""
        lines = [line.strip() for line in self.stderr_tail if line.strip()]
        for line in reversed(lines):
            if line.startswith("photo2scene: error:"):
                return line[len("photo2scene: error:"):].strip()
        for line in reversed(lines):
            if ": error:" in line:
                return line.split(": error:", 1)[1].strip()
        return lines[-1] if lines else ""

    def _remove_partial_output(self) -> None:
        """The pipeline writes a bundle into `.NAME.*.partial` beside it and swaps it in with two renames at the end
        (pipeline/core/bundle.py); a killed run leaves that folder, and a run killed between the renames leaves
        the old bundle at `.NAME.old`. Clean up as the pipeline does on start-up (`recover_interrupted_swap`)."""
        from .bundle import partial_bundle_paths, recover_interrupted_swap

        if self.output is None or not self.output.parent.is_dir():
            return
        # Our own child has gone, so the partial folders made since it started are dead too, even where the shared
        # owner check cannot tell (no marker written yet, or Windows, where it cannot probe a process).
        for path in partial_bundle_paths(self.output):
            try:
                if path.stat().st_mtime >= self.started_at - 1.0:
                    shutil.rmtree(path, ignore_errors=True)
            except OSError:
                pass
        try:
            for warning in recover_interrupted_swap(self.output):
                self._write_log(f"# {warning}")
        except OSError as exc:
            self._write_log(f"# could not clean up after the cancelled run: {exc}")

    def _read_stdout(self, stream: IO[str]) -> None:
        try:
            for line in stream:
                self._write_log(line.rstrip("\n"))
                if line.strip():
                    self._queue.put(parse_event(line))
        finally:
            self._queue.put(None)

    def _read_stderr(self, stream: IO[str]) -> None:
        try:
            for line in stream:
                text = line.rstrip("\n")
                self.stderr_tail.append(text)
                self._write_log(text)
        finally:
            self._queue.put(None)

    def _write_log(self, text: str) -> None:
        with self._log_lock:
            if self._log is not None:
                self._log.write(text + "\n")
                self._log.flush()

    def _close_log(self) -> None:
        with self._log_lock:
            if self._log is not None:
                self._log.close()
                self._log = None


def run_to_end(job: Job, timeout: float | None = None) -> JobState:
    """Start `job` if needed and wait for it (the headless path; the UI polls from a modal operator instead)."""
    if job.process is None:
        job.start()
    state = job.wait(timeout)
    if not state.finished:
        job.cancel()
    return job.state

