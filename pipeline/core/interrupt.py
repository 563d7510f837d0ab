"""Stopping a run on SIGTERM or SIGINT within seconds, in every stage, with the previous bundle intact.

Python runs a signal handler only between bytecodes of the main thread, so a signal that arrives during a long
native call (a Mitsuba render, a Dr.Jit evaluation, a Cycles render through bpy) waits for that call; and an
exception raised by the handler while Dr.Jit is calling back into Python comes out as Dr.Jit's RuntimeError, which
a fallback path may swallow. Three layers cover this:

1. The handler records the request and raises `Interrupted` (a KeyboardInterrupt) at once: the common case, a
   signal between two Python statements, unwinds straight away (BundleWriter removes its temporary folder).
2. `check()` raises `Interrupted` whenever a stop was requested. It runs between native calls: before each
   render (pipeline.render), at every progress event (Events.stage/step/log) and every optimisation step, so a
   swallowed or delayed interrupt is raised again at the next one. The CLI maps any exception that ends a run
   after a request to "interrupted", exit 130.
3. A watchdog thread, started by the first signal, ends the process after `grace_s` seconds if it is still
   running (a single native call longer than that): it removes the temporary bundle folders registered with
   `remove_on_hard_stop`, prints "interrupted" and exits 130. The bundle swap (`swap_guard`) is never cut in
   half: the handler does not raise inside it and the watchdog waits for it to finish.
4. A native call that holds the GIL (Blender's render through bpy) stops every Python thread, the watchdog too,
   and the Python handler never runs. Around such a call `gil_held_call()` starts a small watcher process that
   learns of the signal through the interpreter's wakeup fd (written by the C-level handler, without the GIL).
   After `grace_s` seconds it removes the registered folders, prints "interrupted" and ends the process with
   SIGKILL: the exit status is then 137 (-9), not 130, because nothing inside the process can run any more.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

MESSAGE = "photo2scene: interrupted"
EXIT_CODE = 130
DEFAULT_GRACE_S = 5.0  # a native call longer than this is cut short by the watchdog


class Interrupted(KeyboardInterrupt):
    """A stop was requested (SIGTERM, SIGINT)."""


_requested: int | None = None  # the signal number of the first request
_grace_s = DEFAULT_GRACE_S
_swap_lock = threading.RLock()
_in_swap = 0
_hard_stop: list[Path] = []  # temporary folders to remove when the process is ended from outside Python
_reported = False
_installed = False  # install() ran: this process stops on signals as described above


def requested() -> bool:
    """Whether a stop was requested."""
    return _requested is not None


def check() -> None:
    """Raise Interrupted if a stop was requested (and no bundle swap is under way). Cheap: call it between native
    calls."""
    if _requested is not None and not _in_swap:
        raise Interrupted(f"signal {_requested}")


def report() -> int:
    """Say "interrupted" on stderr (once) and return the exit code (130)."""
    global _reported
    if not _reported:
        _reported = True
        print(MESSAGE, file=sys.stderr, flush=True)
    return EXIT_CODE


def install(grace_s: float | None = None) -> None:
    """Handle SIGTERM and SIGINT as described above (main thread only). `grace_s`: the watchdog's delay, default
    DEFAULT_GRACE_S or the environment's P2S_STOP_GRACE_S."""
    global _grace_s, _installed
    _installed = True
    if grace_s is None:
        try:
            grace_s = float(os.environ.get("P2S_STOP_GRACE_S", DEFAULT_GRACE_S))
        except ValueError:
            grace_s = DEFAULT_GRACE_S
    _grace_s = max(0.5, grace_s)
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, _handle)


def reset() -> None:
    """Forget a request (tests that run several jobs in one process)."""
    global _requested, _reported
    _requested, _reported = None, False


def _handle(signum: int, frame) -> None:
    global _requested
    first = _requested is None
    if first:
        _requested = signum
        threading.Thread(target=_watchdog, name="photo2scene-stop", daemon=True).start()
    if first and not _in_swap:
        raise Interrupted(f"signal {signum}")


def _watchdog() -> None:
    threading.Event().wait(_grace_s)
    with _swap_lock:  # a swap in progress finishes first
        for folder in list(_hard_stop):  # best effort on the way out; the next run cleans up stale folders
            shutil.rmtree(folder, ignore_errors=True)
        try:
            if not _reported:
                print(f"{MESSAGE} (a native call did not return within {_grace_s:g} s)", file=sys.stderr,
                      flush=True)
        finally:
            os._exit(EXIT_CODE)


@contextmanager
def remove_on_hard_stop(folder: Path) -> Iterator[None]:
    """Within this block, `folder` is removed if the process is ended by the watchdog or the watcher."""
    _hard_stop.append(Path(folder))
    try:
        yield
    finally:
        _hard_stop.remove(Path(folder))


# The watcher process of `gil_held_call`: argv = parent pid, grace seconds, folders; stdin = the wakeup fd's pipe.
_WATCHER = r"""
import os, shutil, signal, sys, time
pid, grace, folders = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3:]
if os.read(0, 64):  # a signal arrived (EOF: the call returned, nothing to do)
    time.sleep(grace)
    try:
        os.kill(pid, 0)
    except OSError:
        sys.exit(0)
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)
    print("photo2scene: interrupted (a native call holding the GIL did not return within %g s)" % grace,
          file=sys.stderr, flush=True)
    os.kill(pid, signal.SIGKILL)
"""


@contextmanager
def gil_held_call() -> Iterator[None]:
    """Around a native call that keeps the GIL for long (a bpy render): a requested stop ends the process within
    `grace_s` seconds although no Python code can run (see the module's docstring, point 4). Checks first."""
    check()
    if not _installed or threading.current_thread() is not threading.main_thread() or os.name != "posix":
        yield  # not the CLI (a library caller keeps its own signal handling), or not the main thread
        return
    read_end, write_end = os.pipe()
    watcher = subprocess.Popen([sys.executable, "-c", _WATCHER, str(os.getpid()), str(_grace_s),
                                *map(str, _hard_stop)], stdin=read_end, close_fds=True)
    os.close(read_end)
    os.set_blocking(write_end, False)
    previous = signal.set_wakeup_fd(write_end, warn_on_full_buffer=False)
    try:
        yield
    finally:
        signal.set_wakeup_fd(previous)
        os.close(write_end)  # EOF: the watcher exits (or, after a signal, finds this process gone or ending)
        if not requested():
            watcher.wait()
    check()


@contextmanager
def swap_guard() -> Iterator[None]:
    """A few renames that must not be cut in half: a signal inside waits until the block ends (then `check`)."""
    global _in_swap
    with _swap_lock:
        _in_swap += 1
        try:
            yield
        finally:
            _in_swap -= 1
