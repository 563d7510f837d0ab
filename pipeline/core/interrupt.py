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
   `on_hard_stop`, prints "interrupted" and exits 130. The bundle swap (`swap_guard`) is never cut in half: the
   handler does not raise inside it and the watchdog waits for it to finish.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from contextlib import contextmanager
from typing import Callable, Iterator

MESSAGE = "photo2scene: interrupted"
EXIT_CODE = 130
DEFAULT_GRACE_S = 5.0  # a native call longer than this is cut short by the watchdog


class Interrupted(KeyboardInterrupt):
    """A stop was requested (SIGTERM, SIGINT)."""


_requested: int | None = None  # the signal number of the first request
_grace_s = DEFAULT_GRACE_S
_swap_lock = threading.RLock()
_in_swap = 0
_hard_stop: list[Callable[[], None]] = []
_reported = False


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
    global _grace_s
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
        for callback in list(_hard_stop):
            try:
                callback()
            except Exception:  # noqa: BLE001 - best effort on the way out; the next run cleans up stale folders
                pass
        try:
            if not _reported:
                print(f"{MESSAGE} (a native call did not return within {_grace_s:g} s)", file=sys.stderr,
                      flush=True)
        finally:
            os._exit(EXIT_CODE)


@contextmanager
def on_hard_stop(callback: Callable[[], None]) -> Iterator[None]:
    """Within this block, `callback` runs if the watchdog ends the process (remove a temporary folder)."""
    _hard_stop.append(callback)
    try:
        yield
    finally:
        _hard_stop.remove(callback)


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
