"""`photo2scene serve`: a long-lived process holding the click models, JSON lines over stdin/stdout.

One request per line, one reply per line (same "id" echoed). Images stay open (features computed once) until
closed. Every failure is a reply {"ok": false, "error": "..."}: the process never dies on a bad request.

Requests ("cmd"):
  ping                                      -> {"backend": "offline" | "sam"}
  open   image, [depth], [segmentation], [image_id]
                                            -> {"image_id", "width", "height", "seconds"}
  click  image_id, surface, x, y, positive, [out], [return_mask=true]
                                            -> {"surface", "area", "bbox", "seconds", ["mask"]}
  set_mask image_id, surface, mask (PNG path)  -> {"surface", "area"}
  undo   image_id                           -> {"surface_ids"}
  labels image_id, [out] (16-bit PNG path)  -> {"surface_ids", ["path"]}
  close  image_id                           -> {}
  quit                                      -> {} and the process exits
Masks travel as {"size": [h, w], "counts": [...]}: run lengths over the row-major pixels, starting with a run
of zeros (possibly 0 long). Coordinates are full-image pixels (x = column, y = row, pixel centres at +0.5);
a click outside 0 <= x < width, 0 <= y < height is refused.

Requests are untrusted input (issue 19): a line is read with a length cap (`MAX_LINE_BYTES`; a longer one is
skipped in bounded chunks and answered with an error, never held in memory whole) and parsed with the bundle
reader's caps (`parse_json`: nesting depth, string length, integer digits), so no line can crash the loop.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import IO, AnyStr, Iterator

import numpy as np

from p2s_common.errors import InputError, SetupError
from p2s_common.images import check_image_file, linear_to_srgb, read_photo
from pipeline.core.resample import resize_nearest, resize_valid_mean
from .multi import MultiSurfaceSession
from .sam import make_click_backend

HELP = "Serve click segmentation over stdin/stdout (JSON lines) for the Blender add-on."
MAX_LINE_BYTES = 16 << 20  # one request line; requests name files by path, so real ones are a few hundred bytes
_SKIP_CHUNK = 1 << 20  # how much of an over-long line is read at a time while skipping it


def encode_mask(mask: np.ndarray) -> dict:
    flat = np.asarray(mask, bool).ravel()
    change = np.nonzero(np.diff(flat.astype(np.int8)))[0] + 1
    bounds = np.concatenate([[0], change, [flat.size]])
    counts = np.diff(bounds).tolist()
    if flat.size and flat[0]:
        counts = [0] + counts
    return {"size": list(mask.shape), "counts": counts}


def decode_mask(rle: dict) -> np.ndarray:
    h, w = rle["size"]
    values = np.zeros(len(rle["counts"]), bool)
    values[1::2] = True
    return np.repeat(values, rle["counts"]).reshape(h, w)


def _field(req: dict, name: str, kind: str, default=None):
    """A request field checked for its type (one-line InputError naming the field and what it should be):
    kind 'int' (a whole number), 'number' (finite), 'flag' (true/false), 'path' (a non-empty string)."""
    if name not in req or req[name] is None:
        if default is not None:
            return default
        raise InputError(f"missing field {name!r}")
    value = req[name]
    if kind == "int" and isinstance(value, int) and not isinstance(value, bool) and abs(value) < 2 ** 31:
        return value
    if kind == "number" and isinstance(value, (int, float)) and not isinstance(value, bool) and \
            math.isfinite(value):
        return float(value)
    if kind == "flag" and isinstance(value, bool):
        return value
    if kind == "path" and isinstance(value, str) and value:
        return Path(value)
    expected = {"int": "a whole number", "number": "a finite number", "flag": "true or false",
                "path": "a file path (a non-empty string)"}[kind]
    raise InputError(f"field {name!r} must be {expected}, not {json.dumps(value)[:40]}")


def _request_id(req: dict):
    """The request's id to echo: a string or a finite number (anything else is answered with id null)."""
    value = req.get("id")
    if isinstance(value, str) or (isinstance(value, (int, float)) and not isinstance(value, bool)
                                  and math.isfinite(value)):
        return value
    return None


class Server:
    """The request handlers; `handle` maps one request dict to one reply dict."""

    def __init__(self, backend=None, log=None):
        self.log = log or (lambda msg: print(msg, file=sys.stderr))
        self.backend = backend if backend is not None else make_click_backend("auto", self.log)
        self.images: dict[str, object] = {}

    def handle(self, req: dict) -> dict:
        reply: dict = {"id": _request_id(req)}
        try:
            if req.get("id") is not None and reply["id"] is None:
                raise InputError("field 'id' must be a string or a finite number")
            cmd = req.get("cmd")
            fn = getattr(self, f"cmd_{cmd}", None) if isinstance(cmd, str) else None
            if fn is None:
                raise InputError(f"unknown cmd {cmd!r}")
            reply.update(fn(req))
            reply["ok"] = True
        except (InputError, SetupError, KeyError, ValueError, TypeError, OSError) as exc:
            msg = f"missing field {exc}" if isinstance(exc, KeyError) else str(exc)
            if isinstance(exc, OSError) and exc.filename:  # a path the client named: say which and why
                msg = f"cannot use {exc.filename}: {exc.strerror or exc}; check the path"
            reply.update(ok=False, error=msg.splitlines()[0] if msg else type(exc).__name__)
        except Exception as exc:  # noqa: BLE001 - the server must answer, whatever went wrong
            reply.update(ok=False, error=f"internal error: {type(exc).__name__}: {exc}")
        return reply

    def _session(self, req: dict):
        image_id = req.get("image_id")
        if not isinstance(image_id, str) or image_id not in self.images:
            raise InputError(f"image {image_id!r} is not open (send 'open' first)")
        return self.images[image_id]

    def cmd_ping(self, req: dict) -> dict:
        return {"backend": self.backend.name}

    def cmd_open(self, req: dict) -> dict:
        from PIL import Image

        start = time.perf_counter()
        image = _field(req, "image", "path")
        photo, is_linear = read_photo(image)
        if is_linear:
            photo = linear_to_srgb(photo)
        h, w = photo.shape[:2]
        depth = None
        if req.get("depth"):
            depth_path = _field(req, "depth", "path")
            check_image_file(depth_path)  # header first: a huge array is refused before it is loaded
            depth = np.load(depth_path, allow_pickle=False).astype(np.float32)
            depth = _fit_to(depth, h, w, nearest=False)
        labels = None
        if req.get("segmentation"):
            seg_path = _field(req, "segmentation", "path")
            check_image_file(seg_path)
            with Image.open(seg_path) as im:
                labels = _fit_to(np.asarray(im).astype(np.int32), h, w, nearest=True)
        if labels is not None and labels.ndim != 2:
            raise InputError("segmentation must be a single-channel id image")
        image_id = req.get("image_id") or str(image)
        if not isinstance(image_id, str):
            raise InputError("field 'image_id' must be a string")
        self.images[image_id] = MultiSurfaceSession(photo, labels, self.backend, depth)
        return {"image_id": image_id, "width": w, "height": h, "seconds": round(time.perf_counter() - start, 4)}

    def cmd_click(self, req: dict) -> dict:
        from p2s_common.errors import InputError

        sess = self._session(req)
        surface = _field(req, "surface", "int")
        if surface <= 0:
            raise InputError("field 'surface' must be a positive id (0 is 'unlabelled')")
        x, y = _field(req, "x", "number"), _field(req, "y", "number")
        h, w = sess.labels.shape
        # Checked here, where the image size is known: out of range it would index outside the label map.
        if not (math.isfinite(x) and math.isfinite(y) and 0 <= x < w and 0 <= y < h):
            raise InputError(f"click ({req['x']}, {req['y']}) is outside the {w}x{h} image "
                             f"(0 <= x < {w}, 0 <= y < {h})")
        start = time.perf_counter()
        labels = sess.click(surface, x, y, _field(req, "positive", "flag"))
        mask = labels == surface
        out = {"surface": surface, "area": int(mask.sum()), "bbox": _bbox(mask),
               "seconds": round(time.perf_counter() - start, 4)}
        if req.get("out") is not None:
            path = _field(req, "out", "path")
            _write_mask(path, mask)
            out["path"] = str(path)
        if _field(req, "return_mask", "flag", default=True):
            out["mask"] = encode_mask(mask)
        return out

    def cmd_set_mask(self, req: dict) -> dict:
        from PIL import Image

        sess = self._session(req)
        mask_path = _field(req, "mask", "path")
        check_image_file(mask_path)
        with Image.open(mask_path) as im:
            mask = np.asarray(im.convert("L")) > 127
        h, w = sess.labels.shape
        mask = _fit_to(mask.astype(np.int32), h, w, nearest=True).astype(bool)
        surface = _field(req, "surface", "int")
        if surface <= 0:
            raise InputError("field 'surface' must be a positive id (0 is 'unlabelled')")
        labels = sess.set_surface_mask(surface, mask)
        return {"surface": surface, "area": int((labels == surface).sum())}

    def cmd_undo(self, req: dict) -> dict:
        labels = self._session(req).undo()
        return {"surface_ids": sorted(int(v) for v in np.unique(labels) if v)}

    def cmd_labels(self, req: dict) -> dict:
        from PIL import Image

        labels = self._session(req).labels
        out = {"surface_ids": sorted(int(v) for v in np.unique(labels) if v)}
        if req.get("out") is not None:
            path = _field(req, "out", "path")
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(labels.astype(np.uint16)).save(path)
            out["path"] = str(path)
        return out

    def cmd_close(self, req: dict) -> dict:
        self._session(req)  # an image that is not open is an error, as in every other command
        self.images.pop(req["image_id"], None)
        return {}

    def cmd_quit(self, req: dict) -> dict:
        return {"bye": True}


def read_lines(stream: IO[AnyStr], max_len: int = MAX_LINE_BYTES) -> Iterator[AnyStr | None]:
    """The lines of `stream` (bytes or text), each read with at most `max_len` + 1 units in memory; a longer line
    is consumed in bounded chunks and yielded as None. Ends at end of input."""
    while True:
        line = stream.readline(max_len + 1)
        if not line:
            return
        if len(line) <= max_len or line.endswith(b"\n" if isinstance(line, bytes) else "\n"):
            yield line
            continue
        while line and not line.endswith(b"\n" if isinstance(line, bytes) else "\n"):
            line = stream.readline(_SKIP_CHUNK)
        yield None


def parse_request(line: str | bytes) -> dict:
    """One request line as a dict, with the bundle reader's caps (nesting depth, string length, integer digits):
    ValueError (one line) when it is not a capped JSON object."""
    from blender_addon.bundle import BundleError, parse_json

    raw = line.encode("utf-8", "replace") if isinstance(line, str) else line
    try:
        req = parse_json(raw, "request", max_bytes=len(raw))
    except BundleError as exc:
        raise ValueError(str(exc)) from None
    if not isinstance(req, dict):
        raise ValueError("a request is a JSON object")
    return req


def serve_stream(server: Server, stdin: IO, stdout: IO[str], max_line_bytes: int = MAX_LINE_BYTES) -> int:
    """Answer requests line by line until 'quit' or end of input. `stdin` may be binary (the real one: lengths are
    then bytes) or text; every line gets one reply, an error object for a bad one."""
    for line in read_lines(stdin, max_line_bytes):
        req: dict = {}
        if line is None:
            reply = {"id": None, "ok": False,
                     "error": f"bad request: line longer than {max_line_bytes} bytes; skipped"}
        elif not line.strip():
            continue
        else:
            try:
                req = parse_request(line)
            except ValueError as exc:
                reply = {"id": None, "ok": False, "error": f"bad request: {exc}"}
            else:
                reply = server.handle(req)
        stdout.write(json.dumps(reply) + "\n")
        stdout.flush()
        if req.get("cmd") == "quit":
            break
    return 0


def _fit_to(arr: np.ndarray, h: int, w: int, nearest: bool) -> np.ndarray:
    if arr.shape[:2] == (h, w):
        return arr
    if abs(arr.shape[1] / arr.shape[0] - w / h) > 0.01 * w / h:
        raise InputError(f"map is {arr.shape[1]}x{arr.shape[0]} but the image is {w}x{h} (another aspect ratio)")
    return resize_nearest(arr, (w, h)) if nearest else resize_valid_mean(arr, (w, h))


def _bbox(mask: np.ndarray) -> list[int] | None:
    if not mask.any():
        return None
    rows = np.nonzero(mask.any(1))[0]
    cols = np.nonzero(mask.any(0))[0]
    return [int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1]


def _write_mask(path: Path, mask: np.ndarray) -> None:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(mask.astype(np.uint8) * 255).save(path)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--backend", choices=["auto", "offline", "sam"], default="auto",
                        help="click model: auto (SAM when its weights are here, else offline), offline, sam")


def run(args: argparse.Namespace) -> int:
    log = lambda msg: print(msg, file=sys.stderr, flush=True)  # noqa: E731 - stdout carries the protocol only
    server = Server(make_click_backend(args.backend, log), log)
    log(f"photo2scene serve: ready ({server.backend.name} backend); JSON lines on stdin")
    return serve_stream(server, sys.stdin.buffer, sys.stdout)  # binary: the line cap counts bytes
