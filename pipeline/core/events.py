"""Progress reporting: a bar per stage on the terminal, and/or JSON lines for the add-on.

One event per line on the chosen stream: {"event": "stage"|"progress"|"log"|"done"|"error", "stage", "step",
"total", "message", "loss", "time"}. The add-on reads them from the subprocess's stdout (`--events jsonl`).
"""

from __future__ import annotations

import json
import sys
import time
from typing import IO, Any

from . import interrupt


class Events:
    """Reports stages and steps to a terminal bar and/or a JSON-lines stream."""

    def __init__(self, jsonl: IO[str] | None = None, bars: bool = True, log: IO[str] | None = None):
        self.jsonl = jsonl
        self.bars = bars
        self.log_stream = log
        self._bar = None
        self.stage_name = ""
        self.lines: list[str] = []  # human-readable log, saved in the bundle

    def _emit(self, **fields: Any) -> None:
        fields["time"] = round(time.time(), 3)
        if self.jsonl is not None:
            self.jsonl.write(json.dumps(fields) + "\n")
            self.jsonl.flush()

    def stage(self, name: str, total: int, message: str = "") -> None:
        """Start a stage with `total` steps."""
        interrupt.check()  # every progress event is a point where a requested stop takes effect
        self.close_bar()
        self.stage_name = name
        self._emit(event="stage", stage=name, step=0, total=total, message=message)
        self.log(f"[{name}] {message}" if message else f"[{name}]")
        if self.bars and total > 0:
            from tqdm import tqdm

            self._bar = tqdm(total=total, desc=name, file=sys.stderr, leave=True, dynamic_ncols=True)

    def step(self, step: int, total: int, message: str = "", loss: float | None = None) -> None:
        """Report that `step` of `total` steps of the current stage are done."""
        interrupt.check()
        self._emit(event="progress", stage=self.stage_name, step=step, total=total, message=message, loss=loss)
        if self._bar is not None:
            self._bar.n = step
            if loss is not None:
                self._bar.set_postfix(loss=f"{loss:.4f}", refresh=False)
            self._bar.refresh()

    def log(self, message: str) -> None:
        """A line for the user (terminal and bundle log)."""
        interrupt.check()
        self.lines.append(message)
        self._emit(event="log", stage=self.stage_name, message=message)
        if self.log_stream is not None:
            if self._bar is not None:
                self._bar.write(message, file=self.log_stream)
            else:
                print(message, file=self.log_stream, flush=True)

    def done(self, message: str, **extra: Any) -> None:
        self.close_bar()
        self._emit(event="done", stage=self.stage_name, message=message, **extra)

    def error(self, message: str) -> None:
        self.close_bar()
        self._emit(event="error", stage=self.stage_name, message=message)

    def close_bar(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


class Silent(Events):
    """No output at all (tests, benchmarks)."""

    def __init__(self) -> None:
        super().__init__(jsonl=None, bars=False, log=None)
