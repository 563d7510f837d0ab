"""Scores of an exported .blend against a realistic benchmark room's truth (what the artist gets, not our state).

`score_blend(blend, case_dir)` opens the .blend (`blend_view`), renders it with Cycles from its own camera and from
the room's novel cameras, makes its object-index pass and compares them with the truth:

- photo PSNR / SSIM (sRGB) of the Cycles render against the photo;
- novel-view PSNR: each true novel camera mapped into the result's world by the similarity that aligns the
  result's camera and floor with the truth (`Similarity`), rendered there, against the true novel view;
- room-surface mask mIoU (floor, ceiling, wall classes), window and door IoU;
- furniture mask mIoU with one-to-one matching (Hungarian on mask IoU; an unmatched true piece scores 0);
- for matched pieces: 3-D IoU of the oriented boxes after the similarity, and centroid error in metres;
- room 3-D IoU, FOV / pitch / roll error, and the material category on the floor and walls where the truth
  records one.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .blend_view import BlendView, ViewCamera, id_map, open_blend, render
from p2s_common.images import linear_to_srgb, read_photo
from pipeline.core.geometry import box_iou_3d
from pipeline.core.image_metrics import psnr, ssim

OPENINGS = ("window", "door")
MIN_FURNITURE_FRACTION = 0.002  # true pieces covering less of the photo than this are clutter, not scored


@dataclass
class Similarity:
    """x_truth = scale * rot @ (x_result - floor) + trans: maps the result's world into the true one."""

    scale: float
    yaw: float  # radians about +Z
    floor: np.ndarray
    trans: np.ndarray

    @property
    def rot(self) -> np.ndarray:
        c, s = math.cos(self.yaw), math.sin(self.yaw)
        return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])

    @classmethod
    def align(cls, result: ViewCamera, result_floor_z: float | None, truth: ViewCamera) -> "Similarity":
        """Cameras on each other, floors on each other (the result's floor height from its floor face, else 0),
        headings equal; the scale makes the camera heights above the floors equal."""
        floor = np.array([0.0, 0.0, result_floor_z or 0.0])
        h_result = float(result.position[2] - floor[2])
        scale = float(truth.position[2]) / h_result if h_result > 1e-3 and truth.position[2] > 1e-3 else 1.0
        sim = cls(scale, truth.heading() - result.heading(), floor, np.zeros(3))
        sim.trans = truth.position - scale * sim.rot @ (result.position - floor)
        return sim

    def point_to_truth(self, p: np.ndarray) -> np.ndarray:
        return self.scale * self.rot @ (np.asarray(p, float) - self.floor) + self.trans

    def camera_from_truth(self, cam: ViewCamera) -> ViewCamera:
        """A true camera placed in the result's world."""
        position = self.rot.T @ (cam.position - self.trans) / self.scale + self.floor
        return ViewCamera(position, self.rot.T @ cam.rotation, cam.fov_y_deg, cam.width, cam.height)


def _class_of(label: str, kind: str) -> str:
    """Room-surface class of an instance label ('wall_x_min' -> 'wall')."""
    if kind == "face" or label in ("floor", "ceiling", "wall"):
        return "wall" if label.startswith("wall") else label
    return label if label in OPENINGS else "furniture"


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    union = np.count_nonzero(a | b)
    return float(np.count_nonzero(a & b) / union) if union else 0.0


def match_instances(truth_masks: list[np.ndarray], result_masks: list[np.ndarray]) -> list[tuple[int, int, float]]:
    """One-to-one matching of masks maximising total IoU: (truth index, result index, IoU) for pairs with IoU > 0."""
    from scipy.optimize import linear_sum_assignment

    if not truth_masks or not result_masks:
        return []
    iou = np.array([[_iou(t, r) for r in result_masks] for t in truth_masks])
    rows, cols = linear_sum_assignment(-iou)
    return [(int(i), int(j), float(iou[i, j])) for i, j in zip(rows, cols) if iou[i, j] > 0]


def _wrap_deg(a: float, period: float = 360.0) -> float:
    d = a % period
    return min(d, period - d)


def pose_breakdown(centre: np.ndarray, size: np.ndarray, yaw_deg: float, gt: dict) -> dict:
    """Where a matched piece's 3-D IoU is lost: true and result box sizes (m, in the truth's frame), the yaw error
    (degrees, 0-180; a box-shaped piece turned 180 degrees has the same box but the wrong front) and the centre's
    error split into height, along the camera-independent horizontal plane and the size ratio of the volumes."""
    size, true_size = np.asarray(size, float), np.asarray(gt["size"], float)
    offset = np.asarray(centre, float) - np.asarray(gt["center"], float)
    return {"true_size": [round(float(v), 2) for v in true_size], "size": [round(float(v), 2) for v in size],
            "volume_ratio": round(float(np.prod(size) / max(np.prod(true_size), 1e-9)), 2),
            "yaw_err_deg": round(_wrap_deg(yaw_deg - float(gt["yaw_deg"])), 1),
            "height_err_m": round(float(offset[2]), 3), "floor_err_m": round(float(np.linalg.norm(offset[:2])), 3)}


@dataclass
class Truth:
    """What a result is scored against: camera, photo (sRGB at the camera's size), instance ids with labels,
    furniture boxes, and where known the room box, its surfaces and novel views."""

    camera: ViewCamera
    photo: np.ndarray
    seg: np.ndarray
    labels: dict[int, str]
    objects: list[dict]  # segment_id, label, center, size, yaw_deg (and name)
    room: dict | None = None  # center, size, yaw_deg, surfaces
    novel_dir: Path | None = None
    seed: int = 0  # Cycles seed of the scoring renders: the photo's own, so the truth scene renders as the photo

    @classmethod
    def from_case(cls, case_dir: Path) -> "Truth":
        """A benchmark room folder (ground_truth.json, photo.png, estimates/, novel_views/)."""
        from PIL import Image

        gt = json.loads((case_dir / "ground_truth.json").read_text())
        seg = np.asarray(Image.open(case_dir / "estimates" / "segmentation.png")).astype(np.int64)
        labels = {s["id"]: s["label"] for s in json.loads((case_dir / "estimates" / "segments.json").read_text())}
        novel = case_dir / "novel_views"
        return cls(ViewCamera.from_json(gt["camera"]), read_photo(case_dir / "photo.png")[0], seg, labels,
                   gt["objects"], gt.get("room"), novel if novel.is_dir() else None,
                   int(gt.get("generator", {}).get("seed", 0)))


def exact_models(true_objs: list[dict], assets: list[str], matched: list[int]) -> tuple[int, int]:
    """(pieces whose own model was chosen, pieces with a model file) among `true_objs` (ground truth: `model`, a
    file name, and `source`, "generated" for the benchmark's own generators); `assets[k]` is the asset id in the
    .blend matched to true piece `matched[k]` (`file:<path>` for a model from a folder index)."""
    has_model = [i for i, o in enumerate(true_objs) if o.get("model") and o.get("source") != "generated"]
    chosen = dict(zip(matched, assets))
    exact = sum(1 for i in has_model
                if Path(chosen.get(i, "").removeprefix("file:")).name == Path(str(true_objs[i]["model"])).name)
    return exact, len(has_model)


def error_by_region(render: np.ndarray, photo: np.ndarray, classes: np.ndarray) -> dict:
    """Where the photo PSNR is lost: per true class (wall, floor, ceiling, window, door; every other labelled
    pixel counts as furniture), its share of the picture's squared error, its share of the pixels and the PSNR
    inside it (sRGB, as `photo_psnr`)."""
    err = ((np.asarray(render, float) - np.asarray(photo, float)) ** 2).sum(-1)
    total = float(err.sum()) or 1e-12
    region = np.where(np.isin(classes, ("wall", "floor", "ceiling") + OPENINGS), classes, "furniture")
    region = np.where(classes == "none", "none", region)
    out = {}
    for name in ("wall", "floor", "ceiling") + OPENINGS + ("furniture",):
        mask = region == name
        if mask.any():
            mse = float(err[mask].mean()) / photo.shape[-1]
            out[name] = {"error_share": round(float(err[mask].sum()) / total, 3),
                         "pixel_share": round(float(mask.mean()), 3),
                         "psnr": round(-10 * math.log10(max(mse, 1e-12)), 2)}
    return out


def score_view(view: BlendView, truth: Truth, samples: int = 64, novel: bool = True) -> dict:
    """Every figure of one opened .blend against `truth` (see the module docstring)."""
    true_cam, seg = truth.camera, truth.seg
    w, h = true_cam.width, true_cam.height
    row: dict = {}

    # The result's own camera, at the truth's size (an export at another resolution is rendered at this one).
    cam = ViewCamera(view.camera.position, view.camera.rotation, view.camera.fov_y_deg, w, h)
    img = linear_to_srgb(render(cam, samples, truth.seed))
    row["photo_psnr"], row["photo_ssim"] = round(psnr(img, truth.photo), 2), round(ssim(img, truth.photo), 4)
    row["_render"] = img

    sim = Similarity.align(cam, view.floor_z, true_cam)
    row["scale"] = round(sim.scale, 3)
    if novel and truth.novel_dir is not None:
        row["novel_psnr"], row["_novel"] = [], []
        for path in sorted(truth.novel_dir.glob("view_*.json")):
            ncam = sim.camera_from_truth(ViewCamera.from_json(json.loads(path.read_text())))
            nphoto, _ = read_photo(path.with_suffix(".png"))
            nimg = linear_to_srgb(render(ncam, samples, truth.seed))
            row["novel_psnr"].append(round(psnr(nimg, nphoto), 2))
            row["_novel"].append((nphoto, nimg))  # the bench's picture of the view: truth | render

    pitch_t, roll_t = true_cam.tilt_deg()
    pitch_r, roll_r = cam.tilt_deg()
    row["fov_err_deg"] = round(abs(cam.fov_y_deg - true_cam.fov_y_deg), 2)
    row["pitch_err_deg"], row["roll_err_deg"] = round(abs(pitch_r - pitch_t), 2), round(abs(roll_r - roll_t), 2)

    # Masks: the truth's segmentation and the result's object-index pass, both at pixel centres.
    ids = id_map(view, cam)
    row["_ids"] = ids
    result_class = np.array(["none"] + [_class_of(i.label, i.kind) for i in view.instances])[ids]
    names = {k: _class_of(v, "") for k, v in truth.labels.items()}
    true_class = np.vectorize(lambda k: names.get(k, "none"), otypes=[object])(seg)
    row["error_by_region"] = error_by_region(img, truth.photo, true_class)
    room = {c: _iou(true_class == c, result_class == c) for c in ("floor", "ceiling", "wall")
            if np.any(true_class == c)}
    row["room_miou"] = round(float(np.mean(list(room.values()))), 3) if room else None
    row["room_iou"] = {c: round(v, 3) for c, v in room.items()}
    for c in OPENINGS:
        if np.any(true_class == c):
            row[f"{c}_iou"] = round(_iou(true_class == c, result_class == c), 3)

    min_px = MIN_FURNITURE_FRACTION * w * h
    true_objs = [o for o in truth.objects if np.count_nonzero(seg == o["segment_id"]) >= min_px]
    ours = [(k, inst) for k, inst in enumerate(view.instances, start=1)
            if inst.kind == "object" and inst.label not in OPENINGS]
    matches = match_instances([seg == o["segment_id"] for o in true_objs], [ids == k for k, _ in ours])
    per = [{"label": o["label"], "name": o.get("name", str(o["segment_id"])), "mask_iou": 0.0, "iou_3d": 0.0,
            "matched": None, "model": Path(str(o.get("model") or "")).name or None} for o in true_objs]
    dyaw = math.degrees(sim.yaw)
    for ti, ri, iou in matches:
        inst, gt = ours[ri][1], true_objs[ti]
        centre = sim.point_to_truth(inst.center)
        per[ti].update(mask_iou=round(iou, 3), matched=f"{inst.label} ({inst.name})",
                       asset=Path(inst.asset.removeprefix("file:")).name if inst.asset else None,
                       iou_3d=round(box_iou_3d(centre, inst.size * sim.scale, inst.yaw_deg + dyaw,
                                               gt["center"], gt["size"], gt["yaw_deg"]), 3),
                       centroid_err_m=round(float(np.linalg.norm(centre - np.asarray(gt["center"]))), 3),
                       **pose_breakdown(centre, np.asarray(inst.size) * sim.scale, inst.yaw_deg + dyaw, gt))
    row["objects"] = per
    row["furniture_miou"] = round(float(np.mean([p["mask_iou"] for p in per])), 3) if per else None
    row["object_iou_3d"] = round(float(np.mean([p["iou_3d"] for p in per])), 3) if per else None
    errs = [p["centroid_err_m"] for p in per if "centroid_err_m" in p]
    row["centroid_err_m"] = round(float(np.mean(errs)), 3) if errs else None
    row["centroid_err_median_m"] = round(float(np.median(errs)), 3) if errs else None  # issue 14's target
    row["objects_found"] = f"{len(matches)}/{len(true_objs)} ({len(ours)} in the .blend)"
    exact, models = exact_models(true_objs, [ours[ri][1].asset for _, ri, _ in matches],
                                 [ti for ti, _, _ in matches])
    if models:
        row["exact_models"] = f"{exact}/{models}"

    if view.room is not None:
        c, s, yaw = view.room
        row["room_height_m"] = round(float(s[2] * sim.scale), 3)
        if truth.room is not None:
            tr = truth.room
            row["room_iou_3d"] = round(box_iou_3d(sim.point_to_truth(c), s * sim.scale, yaw + dyaw, tr["center"],
                                                  tr["size"], tr.get("yaw_deg", 0.0)), 3)
    elif truth.room is not None:
        row["room_iou_3d"] = 0.0
    if truth.room is not None:
        row["materials"] = _material_hits(view, truth.room, seg, ids, img, truth.photo)
    return row


def _material_hits(view: BlendView, room: dict, seg: np.ndarray, ids: np.ndarray, render: np.ndarray | None = None,
                   photo: np.ndarray | None = None) -> dict:
    """Per true floor / wall surface with a recorded category: the true category and kind (graph, image or
    principled), the result face that covers most of the surface's pixels and its material's category, and the
    PSNR of the Cycles render against the photo over the surface's pixels (sRGB)."""
    out = {}
    for surf in room.get("surfaces", []):
        mat = surf.get("material", {})
        cat = mat.get("category")
        if cat is None or surf["label"] not in ("floor", "wall"):
            continue
        mask = seg == surf["segment_id"]
        hit = ids[mask]
        if hit.size == 0:  # a surface the photo does not show has no category to recover
            continue
        faces = [k for k in hit.tolist() if k and view.instances[k - 1].kind == "face"]
        got, face = None, None
        if faces:
            inst = view.instances[np.bincount(faces).argmax() - 1]
            got, face = inst.material_category, inst.label
        item = {"truth": cat, "result": got, "kind": mat.get("kind"), "graph": mat.get("graph"), "face": face}
        if render is not None and photo is not None:
            mse = float(np.mean((render[mask] - photo[mask]) ** 2))
            item["psnr"] = round(10.0 * math.log10(1.0 / max(mse, 1e-10)), 2)
        out[surf.get("face", str(surf["segment_id"]))] = item
    return out


def material_retrieval_figures(materials: dict, scene: dict, k: int = 5) -> dict:
    """Retrieval figures over the textured true floors/walls (a library graph or an image texture): per surface,
    the categories of its result material's first `k` candidates in scene.json (the one in use first; a flat
    colour counts as 'homogeneous'), whether the truth's category is the first / among them, and whether a
    procedural material was chosen. Fills `top_k` in each `materials` item; returns the row's figures."""
    from materials_db.library import load_graph  # lazy: loads torch, which importing this module does not

    def category(entry: dict) -> str:
        if entry.get("type") != "graph":
            return "homogeneous"
        try:
            return load_graph(entry["library"]).category if entry.get("library") else "custom"
        except KeyError:
            return "custom"

    room = (scene.get("room") or {}).get("materials", {})
    mats = scene.get("materials", {})
    graph_truth, textured = [], []
    for item in materials.values():
        if item.get("kind") not in ("graph", "image"):
            continue
        entry = mats.get(room.get(item.get("face") or "", ""), {})
        cands = entry.get("candidates") or ([entry] if entry else [])
        item["top_k"] = [category(c) for c in cands[:k]]
        textured.append(item)
        if item["kind"] == "graph":
            graph_truth.append(item)
    out: dict = {}
    if graph_truth:
        out["mat_top1"] = float(np.mean([it["result"] == it["truth"] for it in graph_truth]))
        out["mat_top5"] = float(np.mean([it["truth"] in it["top_k"] for it in graph_truth]))
    if textured:
        out["mat_procedural"] = float(np.mean([it["result"] not in (None, "homogeneous") for it in textured]))
        psnrs = [it["psnr"] for it in textured if "psnr" in it]
        if psnrs:
            out["textured_psnr"] = float(np.mean(psnrs))
    return out


def score_blend(blend: Path, case_dir: Path, samples: int = 64, novel: bool = True) -> dict:
    """Open `blend` and score it against the benchmark room in `case_dir`."""
    return score_view(open_blend(blend), Truth.from_case(case_dir), samples, novel)
