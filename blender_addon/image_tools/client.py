"""bpy-free half of the Image Editor tools: the `photo2scene serve` client, masks, and what goes into the bundle.

- `ServeClient` runs `python -m pipeline serve` as a child process and talks JSON lines with it (serve.py's
  docstring is the protocol). A reader thread turns stdout lines into replies, another keeps the last stderr
  lines for error messages; `request` waits for the reply with the same id, with a timeout, so a hung server
  never hangs Blender for good.
- `decode_rle` / `mask_runs` / `overlay_pixels` turn the server's run-length masks into Blender pixel buffers
  without numpy (the add-on must install into a plain Blender).
- `save_segmentation` writes the corrected `case/segmentation.png` + `case/segments.json`, keeping the previous
  ones under `<bundle>/edits/`; `write_crop_pairs` writes `<bundle>/crops.json` in the format that
  pipeline/stages/materials_lights/crops.py reads.
"""

from __future__ import annotations

import collections
import itertools
import json
import os
import queue
import shutil
import subprocess
import threading
import time
from array import array
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

# ADE20K-style names the pipeline knows (pipeline/estimators/labels.py's vocabulary); free text is allowed too.
STUFF_LABELS = ("wall", "floor", "ceiling", "window", "door")
THING_LABELS = ("sofa", "armchair", "chair", "table", "coffee table", "desk", "bed", "cabinet", "shelf", "lamp",
                "rug", "cushion", "curtain", "picture", "mirror", "tv", "plant", "stool", "bench", "ottoman",
                "fireplace", "radiator", "counter", "vase", "books")
KINDS = ("stuff", "thing")
# The flag that hands user crop pairs to the material stage (MaterialLightConfig.crop_pairs).
CROP_PAIRS_FLAG = "--materials-lights.crop-pairs"
CROPS_FILE = "crops.json"
MIN_CROP_PX = 4  # crops.py refuses windows smaller than 4x4 at working resolution


class ServeError(RuntimeError):
    """The serve process is missing, died, timed out, or answered ok=false (the message says which)."""


def kind_of(label: str) -> str:
    return "stuff" if label.strip().lower() in STUFF_LABELS else "thing"


def serve_command(python: str, backend: str = "auto") -> list[str]:
    return [python, "-m", "pipeline", "serve", "--backend", backend]


# ------------------------------------------------------------------------------------------------------ client

class ServeClient:
    """A running `photo2scene serve` process; `request(cmd, **fields)` returns the reply dict or raises."""

    def __init__(self, argv: Sequence[str], cwd: str | os.PathLike | None = None,
                 env: dict[str, str] | None = None) -> None:
        self.argv = list(argv)
        self.cwd = cwd
        self.env = env
        self.proc: subprocess.Popen | None = None
        self._replies: "queue.Queue[dict | None]" = queue.Queue()
        self._stderr: collections.deque[str] = collections.deque(maxlen=40)
        self._ids = itertools.count(1)
        self._lock = threading.Lock()  # one request in flight: replies come in order

    # lifecycle
    def start(self) -> "ServeClient":
        try:
            self.proc = subprocess.Popen(self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=subprocess.PIPE, text=True, bufsize=1, cwd=self.cwd, env=self.env)
        except OSError as exc:
            raise ServeError(f"cannot start {self.argv[0]}: {exc}") from exc
        threading.Thread(target=self._read_stdout, daemon=True).start()
        self._stderr_thread = threading.Thread(target=self._read_stderr, daemon=True)
        self._stderr_thread.start()
        return self

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def close(self, timeout: float = 3.0) -> None:
        """Ask the server to quit; kill it if it does not within `timeout`."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.poll() is None:
            try:
                proc.stdin.write(json.dumps({"id": 0, "cmd": "quit"}) + "\n")
                proc.stdin.flush()
            except (OSError, ValueError):
                pass
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout)
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            try:
                stream.close()
            except (OSError, ValueError):
                pass

    def stderr_tail(self, lines: int = 5) -> str:
        return "\n".join(list(self._stderr)[-lines:])

    # requests
    def request(self, cmd: str, timeout: float = 60.0, **fields: Any) -> dict:
        """Send one request and wait for its reply. Raises ServeError on ok=false, death or timeout."""
        with self._lock:
            if not self.alive:
                raise ServeError(self._death_message())
            req_id = next(self._ids)
            try:
                self.proc.stdin.write(json.dumps({"id": req_id, "cmd": cmd, **fields}) + "\n")
                self.proc.stdin.flush()
            except (OSError, ValueError) as exc:
                raise ServeError(f"serve process closed its input ({exc}); {self._death_message()}") from exc
            deadline = time.monotonic() + timeout
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    # The reply may still come later; a stale reply is skipped by id on the next request.
                    raise ServeError(f"serve did not answer {cmd!r} within {timeout:.0f} s")
                try:
                    reply = self._replies.get(timeout=min(left, 0.5))
                except queue.Empty:
                    if not self.alive and self._replies.empty():
                        raise ServeError(self._death_message()) from None
                    continue
                if reply is None:
                    raise ServeError(self._death_message())
                if reply.get("id") not in (req_id, None):
                    continue  # an old reply to a request that timed out
                if not reply.get("ok"):
                    raise ServeError(str(reply.get("error") or "serve answered ok=false without a message"))
                return reply

    def _death_message(self) -> str:
        code = None
        if self.proc is not None:
            try:  # its output has ended: give it a moment to exit and to flush its last stderr lines
                code = self.proc.wait(2.0)
                self._stderr_thread.join(1.0)
            except subprocess.TimeoutExpired:
                code = self.proc.poll()
        tail = self.stderr_tail()
        return f"the serve process is not running (exit {code})" + (f": {tail}" if tail else "")

    def _read_stdout(self) -> None:
        proc = self.proc
        for line in proc.stdout:
            line = line.strip()
            if not line:
                continue
            try:
                reply = json.loads(line)
            except ValueError:
                self._stderr.append(line)  # not protocol: keep it as a log line
                continue
            if isinstance(reply, dict):
                self._replies.put(reply)
        self._replies.put(None)  # end of stream: wake a waiting request

    def _read_stderr(self) -> None:
        for line in self.proc.stderr:
            if line.strip():
                self._stderr.append(line.rstrip())


# ------------------------------------------------------------------------------------------------------- masks

@dataclass
class Mask:
    """A binary mask, top-down row-major (as the server sends it): `data[y * width + x]` is 0 or 1."""

    width: int
    height: int
    data: bytearray

    @property
    def area(self) -> int:
        return self.data.count(1)

    def bbox(self) -> tuple[int, int, int, int] | None:
        """(x0, y0, x1, y1), exclusive ends, or None when empty."""
        w = self.width
        rows = [y for y in range(self.height) if 1 in self.data[y * w:(y + 1) * w]]
        if not rows:
            return None
        x0, x1 = w, 0
        for y in rows:
            row = self.data[y * w:(y + 1) * w]
            x0 = min(x0, row.index(1))
            x1 = max(x1, w - row[::-1].index(1))
        return x0, rows[0], x1, rows[-1] + 1


def decode_rle(rle: dict) -> Mask:
    """The server's {"size": [h, w], "counts": [...]} (runs starting with zeros) -> Mask."""
    h, w = (int(v) for v in rle["size"])
    data = bytearray(h * w)
    pos, value = 0, 0
    for count in rle["counts"]:
        count = int(count)
        if value:
            data[pos:pos + count] = b"\x01" * count
        pos += count
        value ^= 1
    if pos != h * w:
        raise ValueError(f"mask runs cover {pos} pixels, expected {h}x{w}")
    return Mask(w, h, data)


def overlay_pixels(mask: Mask, color: Sequence[float] = (1.0, 0.35, 0.0, 0.45)) -> array:
    """RGBA floats for a Blender image (bottom row first): `color` where the mask is set, transparent elsewhere."""
    w, h = mask.width, mask.height
    out = array("f", bytes(4 * 4 * w * h))
    fill = array("f", color)
    for row in range(h):
        src = mask.data[(h - 1 - row) * w:(h - row) * w]  # Blender images start at the bottom row
        start = src.find(1)
        while start != -1:
            end = src.find(0, start)
            end = w if end == -1 else end
            base = (row * w + start) * 4
            out[base:base + 4 * (end - start)] = fill * (end - start)
            start = src.find(1, end)
    return out


def largest_rectangle(mask: Mask) -> tuple[int, int, int, int] | None:
    """Largest axis-aligned rectangle inside the mask (x, y, w, h), or None: the histogram stack per row. Turns a
    material click's selection into a crop window that shows that material only."""
    w = mask.width
    heights = [0] * (w + 1)
    best, best_area = None, 0
    for y in range(mask.height):
        row = mask.data[y * w:(y + 1) * w]
        for x in range(w):
            heights[x] = heights[x] + 1 if row[x] else 0
        stack: list[int] = []
        for x in range(w + 1):
            while stack and heights[stack[-1]] >= heights[x]:
                height = heights[stack.pop()]
                left = stack[-1] + 1 if stack else 0
                if height * (x - left) > best_area:
                    best_area, best = height * (x - left), (left, y - height + 1, x - left, height)
            stack.append(x)
    return best


# ----------------------------------------------------------------------------------------------------- bundle

@dataclass
class SaveResult:
    segmentation: Path
    segments: Path
    backup: Path | None
    dropped: list[int] = field(default_factory=list)  # segments whose masks ended up empty


def read_segments(bundle: str | os.PathLike) -> list[dict]:
    """`case/segments.json` of a bundle ([] when there is none)."""
    from ..bundle import read_bundle_json, safe_bundle_file

    path = safe_bundle_file(bundle, "case/segments.json")  # bundle files are untrusted: no links, capped reads
    if not path.is_file():
        return []
    data = read_bundle_json(bundle, "case/segments.json")
    if not isinstance(data, list):
        raise ValueError(f"{path} must be a JSON list of {{id, label, kind}}")
    return data


def validate_segments(segments: Sequence[dict], present_ids: Sequence[int]) -> tuple[list[dict], list[int]]:
    """Clean segments for the ids present in the label map, as pipeline/core/case.py will accept them.

    Returns (segments, dropped ids). Raises ValueError for a repeated/zero id, an empty label, or an id in the map
    that no segment names (the case loader refuses those)."""
    present = {int(i) for i in present_ids if int(i)}
    seen: set[int] = set()
    out, dropped = [], []
    for item in segments:
        sid = int(item["id"])
        label = str(item.get("label", "")).strip().lower()
        if sid <= 0 or sid > 65535 or sid in seen:
            raise ValueError(f"segment id {sid} is 0, too large or repeated")
        seen.add(sid)
        if sid not in present:
            dropped.append(sid)  # its mask is empty now: case.py refuses empty segments
            continue
        if not label:
            raise ValueError(f"segment {sid} has no label: set one before saving")
        kind = str(item.get("kind") or kind_of(label))
        if kind not in KINDS:
            raise ValueError(f"segment {sid}: kind must be stuff or thing, not {kind!r}")
        entry = {k: v for k, v in item.items() if k not in ("id", "label", "kind")}
        out.append({"id": sid, "label": label, "kind": kind, **entry})
    unnamed = sorted(present - seen)
    if unnamed:
        raise ValueError(f"segment ids {unnamed[:10]} are in the label map but have no entry: add a label for them")
    if "floor" not in {s["label"] for s in out}:
        raise ValueError("no segment is labelled 'floor': the room stage needs the floor")
    return sorted(out, key=lambda s: s["id"]), dropped


def save_segmentation(bundle: str | os.PathLike, label_png: str | os.PathLike, present_ids: Sequence[int],
                      segments: Sequence[dict]) -> SaveResult:
    """Install a corrected label map (16-bit PNG written by serve's `labels`) and its segments into the bundle.

    Validates first (nothing is written on a bad input), copies the current case files to
    `<bundle>/edits/segmentation-<time>/`, then replaces each file with an atomic rename. The backup is made first
    so that even a crash between the two renames leaves a recoverable bundle."""
    root = Path(bundle)
    case = root / "case"
    label_png = Path(label_png)
    if not case.is_dir():
        raise ValueError(f"{root} has no case/ folder: is it a photo2scene bundle?")
    if not label_png.is_file() or label_png.read_bytes()[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError(f"{label_png} is not a PNG label map")
    clean, dropped = validate_segments(segments, present_ids)
    backup = None
    old = [p for p in (case / "segmentation.png", case / "segments.json") if p.is_file()]
    if old:
        backup = root / "edits" / time.strftime("segmentation-%Y%m%d-%H%M%S")
        n = 1
        while backup.exists():
            n += 1
            backup = backup.with_name(f"{backup.name.split('~')[0]}~{n}")
        backup.mkdir(parents=True)
        for p in old:
            shutil.copy2(p, backup / p.name)
    _atomic_copy(label_png, case / "segmentation.png")
    _atomic_write(case / "segments.json", json.dumps(clean, indent=1) + "\n")
    return SaveResult(case / "segmentation.png", case / "segments.json", backup, dropped)


def scene_materials(bundle: str | os.PathLike) -> list[str]:
    """Material names a crop pair may name: scene.json's materials and every object part's material (the same set
    crops.py accepts)."""
    from ..bundle import read_bundle_json, safe_bundle_file
    from ..scene_format import BundleError, SceneData

    try:
        if not safe_bundle_file(bundle, "scene.json").is_file():
            return []
        scene = SceneData.from_dict(read_bundle_json(bundle, "scene.json"))
    except (ValueError, BundleError):  # not JSON, not a valid scene, or a link: nothing to offer
        return []
    names = set(scene.materials)
    for obj in scene.objects:
        names |= {p.material for p in obj.parts if p.material}
    return sorted(names)


@dataclass
class CropPair:
    """One user crop pair. Windows are (x, y, w, h) in pixels of an image of size `size` (W, H); `render` None
    means the same window as the photo."""

    material: str
    photo: tuple[float, float, float, float]
    render: tuple[float, float, float, float] | None = None

    def to_json(self, size: tuple[int, int]) -> dict:
        item = {"material": self.material, "photo": [round(v, 2) for v in self.photo], "size": list(size)}
        if self.render is not None:
            item["render"] = [round(v, 2) for v in self.render]
        return item


def normalise_rect(x0: float, y0: float, x1: float, y1: float, width: int, height: int) -> tuple[int, int, int, int]:
    """Two corners in any order -> (x, y, w, h) clipped to the image, whole pixels."""
    xa, xb = sorted((x0, x1))
    ya, yb = sorted((y0, y1))
    xa, ya = max(0, int(xa)), max(0, int(ya))
    xb, yb = min(width, int(round(xb))), min(height, int(round(yb)))
    return xa, ya, max(0, xb - xa), max(0, yb - ya)


def write_crop_pairs(bundle: str | os.PathLike, pairs: Sequence[CropPair], size: tuple[int, int]) -> Path:
    """Validate and write `<bundle>/crops.json` ({"crops": [...]}, crops.py's format). `size` is the image size the
    windows are in (the photo's). Raises ValueError naming the first bad pair; writes nothing then."""
    root = Path(bundle)
    known = set(scene_materials(root))
    w, h = size
    items = []
    for i, pair in enumerate(pairs):
        if not pair.material:
            raise ValueError(f"crop {i + 1} has no material: pick the material it shows")
        if known and pair.material not in known:
            raise ValueError(f"crop {i + 1} names material {pair.material!r}, which the scene does not have")
        for key, box in (("photo", pair.photo), ("render", pair.render)):
            if box is None:
                continue
            x, y, bw, bh = box
            if bw < MIN_CROP_PX or bh < MIN_CROP_PX:
                raise ValueError(f"crop {i + 1} ({key}) is smaller than {MIN_CROP_PX}x{MIN_CROP_PX} pixels")
            if x < 0 or y < 0 or x + bw > w + 0.5 or y + bh > h + 0.5:
                raise ValueError(f"crop {i + 1} ({key}) lies outside the {w}x{h} image")
        items.append(pair.to_json(size))
    path = root / CROPS_FILE
    _atomic_write(path, json.dumps({"crops": items}, indent=1) + "\n")
    return path


def read_crop_pairs(bundle: str | os.PathLike) -> tuple[list[CropPair], tuple[int, int] | None]:
    from ..bundle import read_bundle_json, safe_bundle_file

    if not safe_bundle_file(bundle, CROPS_FILE).is_file():
        return [], None
    data = read_bundle_json(bundle, CROPS_FILE)
    items = data.get("crops", []) if isinstance(data, dict) else data
    pairs, size = [], None
    for item in items:
        size = tuple(item["size"]) if item.get("size") else size
        mat = item.get("material") or f"{item.get('object')}.{item.get('part')}"
        pairs.append(CropPair(mat, tuple(item["photo"]), tuple(item["render"]) if item.get("render") else None))
    return pairs, size


def refine_extra_args(bundle: str | os.PathLike) -> list[str]:
    """Pipeline options that hand the bundle's user crop pairs to the material stage (empty if there are none)."""
    path = Path(bundle) / CROPS_FILE
    return [CROP_PAIRS_FLAG, str(path)] if path.is_file() else []


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _atomic_copy(src: Path, dst: Path) -> None:
    tmp = dst.with_name(f".{dst.name}.tmp{os.getpid()}")
    shutil.copyfile(src, tmp)
    os.replace(tmp, dst)
