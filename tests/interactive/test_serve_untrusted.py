"""`photo2scene serve` treats request lines as untrusted (issue 19): a line-length cap read in bounded chunks, the
bundle reader's JSON caps, click coordinates checked against the image, and an error reply for each bad line while
the loop keeps serving."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from pipeline.interactive.sam import make_click_backend
from pipeline.interactive.serve import Server, read_lines, serve_stream


def _serve(lines: list[str | bytes], **kw) -> list[dict]:
    raw = b"".join((line if isinstance(line, bytes) else line.encode()) + b"\n" for line in lines)
    stdout = io.StringIO()
    serve_stream(Server(make_click_backend("offline")), io.BytesIO(raw), stdout, **kw)
    return [json.loads(line) for line in stdout.getvalue().splitlines()]


def test_long_line_is_answered_and_skipped():
    ping = json.dumps({"id": 1, "cmd": "ping"})
    replies = _serve([ping, '{"id": 2, "cmd": "ping", "pad": "' + "x" * 5000 + '"}', ping], max_line_bytes=1000)
    assert [r["ok"] for r in replies] == [True, False, True]
    assert "longer than 1000 bytes" in replies[1]["error"]


def test_long_line_is_read_in_bounded_chunks():
    class Recording(io.BytesIO):
        sizes: list[int] = []

        def readline(self, size=-1):
            self.sizes.append(size)
            return super().readline(size)

    stream = Recording(b"a" * 10_000_000 + b"\nok\n")
    assert list(read_lines(stream, max_len=100)) == [None, b"ok\n"]
    assert 0 < max(Recording.sizes) <= 1 << 20  # never an unbounded readline()


def test_deep_nesting_and_bad_json_are_error_replies():
    deep = "[" * 2000 + "]" * 2000
    deep_obj = '{"id": 1, "cmd": "ping", "x": ' + deep + "}"
    replies = _serve([deep, deep_obj, "{oops", "[1, 2]", b"\xff\xfe", '{"id": 9, "cmd": "ping"}'])
    assert [r["ok"] for r in replies] == [False] * 5 + [True]
    assert "nested deeper" in replies[0]["error"] and "nested deeper" in replies[1]["error"]
    assert all("\n" not in r["error"] for r in replies[:5])


@pytest.fixture
def photo(tmp_path):
    Image.fromarray(np.full((30, 40, 3), 128, np.uint8)).save(tmp_path / "p.png")
    return str(tmp_path / "p.png")


@pytest.mark.parametrize("x, y", [(-1, 5), (40, 5), (5, 30), (5, -0.01), (1e308, 5), ("NaN", 5), ("Infinity", 5)])
def test_click_outside_the_image_is_refused(photo, x, y):
    click = '{"id": 2, "cmd": "click", "image_id": "p", "surface": 1, "x": %s, "y": %s, "positive": true}' % (x, y)
    replies = _serve([json.dumps({"id": 1, "cmd": "open", "image": photo, "image_id": "p"}), click,
                      json.dumps({"id": 3, "cmd": "click", "image_id": "p", "surface": 1, "x": 39.5, "y": 29.5,
                                  "positive": True})])
    assert replies[0]["ok"] and not replies[1]["ok"] and replies[2]["ok"]
    assert "outside the 40x30 image" in replies[1]["error"]


def test_serve_process_survives_hostile_lines():
    """The real command on a binary stdin: an over-long line and a 2,000-deep one, then a ping that is answered."""
    lines = b'{"pad": "' + b"x" * ((16 << 20) + 10) + b'"}\n' + b"[" * 2000 + b"]" * 2000 + b"\n" + \
        b'{"id": 7, "cmd": "ping"}\n{"id": 8, "cmd": "quit"}\n'
    proc = subprocess.run([sys.executable, "-m", "pipeline", "serve", "--backend", "offline"], input=lines,
                          capture_output=True, timeout=120, env={**os.environ, "PYTHONPATH": os.getcwd()})
    assert proc.returncode == 0, proc.stderr.decode()[-2000:]
    replies = [json.loads(line) for line in proc.stdout.decode().splitlines()]
    assert [r["ok"] for r in replies] == [False, False, True, True] and replies[2]["id"] == 7
