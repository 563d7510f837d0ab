"""A stand-in for `python -m pipeline serve` for the Image Editor tools' tests (JSON lines, serve.py's protocol).

A click paints a 7x7 square of its surface (positive) or clears it (negative); `sleep` never answers in time,
`crash` exits with a message on stderr. A non-JSON line on stdout checks that the client skips noise."""

import json
import sys
import time

import numpy as np
from PIL import Image

images: dict = {}
history: list = []
print("fake serve: not a JSON line", flush=True)
print("fake serve: ready", file=sys.stderr, flush=True)


def rle(mask):
    flat = mask.ravel().astype(np.int8)
    bounds = np.concatenate([[0], np.nonzero(np.diff(flat))[0] + 1, [flat.size]])
    counts = np.diff(bounds).tolist()
    return {"size": list(mask.shape), "counts": ([0] + counts) if flat[0] else counts}


for line in sys.stdin:
    req = json.loads(line)
    cmd, reply = req.get("cmd"), {"id": req.get("id"), "ok": True}
    if cmd == "ping":
        reply["backend"] = "fake"
    elif cmd == "open":
        with Image.open(req["image"]) as im:
            w, h = im.size
        labels = np.zeros((h, w), np.int32)
        if req.get("segmentation"):
            with Image.open(req["segmentation"]) as im:
                labels = np.asarray(im).astype(np.int32)
        images[req.get("image_id") or req["image"]] = labels
        reply.update(image_id=req.get("image_id") or req["image"], width=w, height=h, seconds=0.0)
    elif cmd == "click":
        labels = images[req["image_id"]]
        history.append(labels.copy())
        x, y, s = int(req["x"]), int(req["y"]), int(req["surface"])
        box = (slice(max(0, y - 3), y + 4), slice(max(0, x - 3), x + 4))
        if req["positive"]:
            labels[box] = s
        else:
            labels[box] = np.where(labels[box] == s, 0, labels[box])
        mask = labels == s
        reply.update(surface=s, area=int(mask.sum()), bbox=None, seconds=0.001, mask=rle(mask))
    elif cmd == "undo":
        if history:
            images[req["image_id"]][:] = history.pop()
        reply["surface_ids"] = sorted(int(v) for v in np.unique(images[req["image_id"]]) if v)
    elif cmd == "labels":
        labels = images[req["image_id"]]
        Image.fromarray(labels.astype(np.uint16)).save(req["out"])
        reply.update(surface_ids=sorted(int(v) for v in np.unique(labels) if v), path=req["out"])
    elif cmd == "close":
        images.pop(req.get("image_id"), None)
    elif cmd == "sleep":
        time.sleep(float(req.get("seconds", 5)))
    elif cmd == "crash":
        print("fake serve: crashing on purpose", file=sys.stderr, flush=True)
        sys.exit(4)
    elif cmd == "quit":
        print(json.dumps(reply), flush=True)
        break
    else:
        reply = {"id": req.get("id"), "ok": False, "error": f"unknown cmd {cmd!r}"}
    print(json.dumps(reply), flush=True)
