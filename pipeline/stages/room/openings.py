"""Windows and doors: each `window` / `door` segment becomes an opening cut through the wall its pixels lie on.

The segment's pixels are cast onto the fitted box (exact ray/box exits, `room_box.depth_and_faces`), the wall most
of them hit is the opening's wall, and the rectangle spanning their 2nd-98th percentiles in that wall's metric UVs
(`scene_format.face_frame`) is the hole. A door reaches the floor (furniture often hides its foot), and openings
that overlap one already placed on the same wall are dropped. Each opening gets placeholder materials (the photo's
median colour; the material stage fits them like any other), each window an emitting backdrop behind its glass
(`outdoors`: what the camera sees through it) and an area light between the two (`role` "Window", at the photo's
median radiance there), which the light stage may fit within a daylight range. The backdrop shows the photo's own
pixels through the window (`outdoors_texture`: the photo projected through the camera onto it, so the view out of
the window is the photo's, from this camera and, roughly, from nearby ones); without a bundle to hold that picture
it glows at the median radiance.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from blender_addon.scene_format import OPENING_KINDS, Opening, face_frame, face_kind, window_light_pose
from p2s_common.images import linear_to_srgb, png_bytes

from pipeline.core.case import Case
from pipeline.core.openings import EDGE_MARGIN_M, outdoors_texture, round_inside
from pipeline.core.scene import Camera, Light, MaterialEntry, Room
from pipeline.render.room_box import FACE_NAMES, camera_rays_world, depth_and_faces
from pipeline.render.scene_render import light_power

MIN_SIDE_M = 0.2  # smaller rectangles are segmentation noise, not windows or doors
PLACEHOLDER = "median photo colour (room stage placeholder)"
OUTDOORS = "the photo's median radiance in the window (room stage)"
OUTDOORS_PHOTO = "the photo's pixels through the window, projected onto the backdrop (room stage)"


@dataclass
class OpeningsResult:
    """What `find_openings` made: the openings, their materials, the window lights, and notes on what it skipped."""

    openings: list[Opening] = field(default_factory=list)
    materials: dict[str, MaterialEntry] = field(default_factory=dict)
    lights: list[Light] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)  # bundle-relative path -> PNG (the backdrops' pictures)


def find_openings(camera: Camera, room: Room, case: Case, min_pixels: int = 12,
                  textures: bool = True) -> OpeningsResult:
    """Openings of every window and door segment of `case` on the walls of `room` (seen by `camera`); with
    `textures`, each window's backdrop shows the photo's pixels (`files`), else the median radiance."""
    out = OpeningsResult()
    h, w = case.height, case.width
    depth, faces = depth_and_faces(camera, room, w, h)
    points = camera.t + camera_rays_world(camera, w, h).reshape(h, w, 3) * depth[..., None]
    placed: dict[str, list[list[float]]] = {}
    for kind in OPENING_KINDS:
        for seg in case.segments_labelled(kind):
            mask = case.segmentation == seg.id
            name = f"{kind}_{seg.id}"
            if mask.sum() < min_pixels:
                out.notes.append(f"{name}: {int(mask.sum())} pixels, too few for an opening")
                continue
            face = FACE_NAMES[int(np.bincount(faces[mask], minlength=len(FACE_NAMES)).argmax())]
            if face_kind(face) != "wall":
                out.notes.append(f"{name}: its pixels lie on the {face}, not a wall; no opening")
                continue
            rect = _rectangle(room, face, points[mask], kind == "door")
            if rect is None:
                out.notes.append(f"{name}: smaller than {MIN_SIDE_M} m on {face}; no opening")
                continue
            if any(_overlap(rect, other) for other in placed.get(face, [])):
                out.notes.append(f"{name}: overlaps an opening already on {face}; dropped")
                continue
            placed.setdefault(face, []).append(rect)
            colour = np.median(case.photo_linear[mask], axis=0).astype(float)
            mats = {"frame": f"{name}.frame"}
            # A window's pixels are mostly the outdoors: its frame starts as white paint, not as the sky's colour.
            out.materials[mats["frame"]] = MaterialEntry.principled(
                colour if kind == "door" else np.array([0.7, 0.7, 0.7]), 0.6, 0.0, PLACEHOLDER)
            if kind == "door":
                mats["panel"] = f"{name}.panel"
                out.materials[mats["panel"]] = MaterialEntry.principled(colour, 0.5, 0.0, PLACEHOLDER)
            else:  # the outdoors seen through the glass glows at the photo's radiance (and lights the room)
                mats["outdoors"] = f"{name}.outdoors"
                outdoors = MaterialEntry.principled([0.0, 0.0, 0.0], 1.0, 0.0, OUTDOORS)
                outdoors.emission = [round(float(c), 5) for c in np.maximum(colour, 0.0)]
                out.materials[mats["outdoors"]] = outdoors
            opening = Opening(name, kind, face, round_inside(rect), mats, seg.id)
            out.openings.append(opening)
            if kind == "window" and textures:
                rel = f"textures/{mats['outdoors']}.png"
                picture = outdoors_texture(camera, room, opening, case.photo_linear, mask, colour)
                out.files[rel] = png_bytes(linear_to_srgb(picture))
                # The picture is the radiance (render units); `emission` multiplies it.
                outdoors.emission, outdoors.textures, outdoors.source = [1.0, 1.0, 1.0], {"emission": rel}, \
                    OUTDOORS_PHOTO
            if kind == "window":
                out.lights.append(window_light(room, opening, colour))
    return out


def window_light(room: Room, opening: Opening, radiance: np.ndarray) -> Light:
    """The window's outdoor light: an area light behind its glass at `radiance` (linear RGB), seen by the camera."""
    position, rotation, size = window_light_pose(room, opening)
    power, colour = light_power(np.maximum(radiance, 1e-4), float(size[0] * size[1]))
    return Light(opening.name, "area", [float(x) for x in position], rotation, [float(x) for x in size], colour,
                 round(power, 4), visible_camera=True, source="window", role="Window")


def _rectangle(room: Room, face: str, points: np.ndarray, door: bool) -> list[float] | None:
    """[u0, v0, u1, v1] of the points on `face` (2nd-98th percentiles), inside the wall, doors down to the floor."""
    origin, eu, ev, _, width, height = face_frame(room, face)
    rel = points - np.asarray(origin)
    u, v = rel @ np.asarray(eu), rel @ np.asarray(ev)
    u0, u1 = np.percentile(u, [2, 98])
    v0, v1 = np.percentile(v, [2, 98])
    m = EDGE_MARGIN_M
    u0, u1 = max(float(u0), m), min(float(u1), width - m)
    v0, v1 = max(float(v0), m), min(float(v1), height - m)
    if door:  # v runs up or down the wall depending on the face (face_uvs): the floor is where z is lowest
        if ev[2] > 0:
            v0 = 0.0
        else:
            v1 = height
    if u1 - u0 < MIN_SIDE_M or v1 - v0 < MIN_SIDE_M:
        return None
    return [u0, v0, u1, v1]


def _overlap(a: list[float], b: list[float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]
