"""The Scene: what the stages build and hand each other, and what scene.json holds (docs/scene_format.md).

World convention: Blender's (right-handed, Z up, metres), floor at z = 0. The camera's rotation is
world-from-camera in Blender's camera convention (camera +X right, +Y up, looking along -Z).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from blender_addon.bundle import FORMAT, VERSION, validate_scene

# Faces of the room box, with the box-local axis and side each one closes.
ROOM_FACES = {
    "floor": (2, 0), "ceiling": (2, 1),
    "wall_x_min": (0, 0), "wall_x_max": (0, 1), "wall_y_min": (1, 0), "wall_y_max": (1, 1),
}


def face_kind(face: str) -> str:
    """'wall', 'floor' or 'ceiling'."""
    return "wall" if face.startswith("wall") else face


@dataclass
class Camera:
    position: list[float]
    rotation: list[list[float]]  # world-from-camera 3x3
    fov_y_deg: float
    width: int
    height: int

    @property
    def R(self) -> np.ndarray:
        return np.asarray(self.rotation, dtype=np.float64)

    @property
    def t(self) -> np.ndarray:
        return np.asarray(self.position, dtype=np.float64)

    @property
    def fov_x_deg(self) -> float:
        return math.degrees(2 * math.atan(math.tan(math.radians(self.fov_y_deg) / 2) * self.width / self.height))

    def world_to_camera(self, points: np.ndarray) -> np.ndarray:
        return (points - self.t) @ self.R

    def camera_to_world(self, points: np.ndarray) -> np.ndarray:
        return points @ self.R.T + self.t


@dataclass
class Room:
    """An oriented box: centre, extents before rotation, rotation about +Z (degrees)."""

    center: list[float]
    size: list[float]
    yaw_deg: float = 0.0
    materials: dict[str, str] = field(default_factory=dict)  # face name -> material name

    def bounds_local(self) -> tuple[np.ndarray, np.ndarray]:
        half = np.asarray(self.size) / 2
        return -half, half

    def rotation(self) -> np.ndarray:
        c, s = math.cos(math.radians(self.yaw_deg)), math.sin(math.radians(self.yaw_deg))
        return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])

    def face_quads(self, gap: float = 0.0) -> dict[str, np.ndarray]:
        """World-space corners (4x3, counter-clockwise seen from inside, so normals face inward) per face.

        `gap` (metres) pulls each face's edges in by that much, so touching faces do not share edges."""
        lo, hi = self.bounds_local()
        quads = {}
        for name, (axis, side) in ROOM_FACES.items():
            u, v = [a for a in range(3) if a != axis]
            corners = []
            for cu, cv in ((0, 0), (1, 0), (1, 1), (0, 1)):
                p = np.zeros(3)
                p[axis] = hi[axis] if side else lo[axis]
                p[u] = (hi[u] - gap) if cu else (lo[u] + gap)
                p[v] = (hi[v] - gap) if cv else (lo[v] + gap)
                corners.append(p)
            quad = np.array(corners)
            # Inward normal points to the box centre: away from the face's side.
            inward = np.zeros(3)
            inward[axis] = -1.0 if side else 1.0
            normal = np.cross(quad[1] - quad[0], quad[2] - quad[0])
            if normal @ inward < 0:
                quad = quad[::-1].copy()
            quads[name] = quad @ self.rotation().T + np.asarray(self.center)
        return quads


@dataclass
class Light:
    name: str
    type: str  # area | point | spot | sun
    position: list[float]
    rotation: list[list[float]] = field(default_factory=lambda: np.eye(3).tolist())
    size: list[float] = field(default_factory=lambda: [1.0, 1.0])
    color: list[float] = field(default_factory=lambda: [1.0, 1.0, 1.0])
    power_w: float = 100.0
    visible_camera: bool = False  # seen by the camera (a window's glow); light objects are hidden by default
    source: str = ""  # what placed it: ceiling grid, behind camera, unseen wall, window, lamp, user


_LIGHT_FIELDS = {f for f in Light.__dataclass_fields__}


@dataclass
class Scene:
    camera: Camera
    room: Room | None = None
    objects: list[dict] = field(default_factory=list)
    lights: list[Light] = field(default_factory=list)
    materials: dict[str, dict] = field(default_factory=dict)
    scale: dict = field(default_factory=dict)  # how the metric scale was chosen
    photo: str = "photo.png"
    stages: dict[str, dict] = field(default_factory=dict)  # per-stage metrics and status
    # Files the stages made that scene.json refers to (relative path -> bytes), written with the bundle (and kept,
    # so later stages of the same run can read them).
    files: dict[str, bytes] = field(default_factory=dict, repr=False)
    # The bundle this scene was loaded from (a re-run): where files not made in this run are read.
    bundle_root: Path | None = field(default=None, repr=False)

    def file_bytes(self, relative: str) -> bytes:
        """Content of a file scene.json names: made in this run, or in the bundle it was loaded from."""
        if relative in self.files:
            return self.files[relative]
        if self.bundle_root is not None:
            from blender_addon.bundle import resolve_inside

            return resolve_inside(self.bundle_root, relative).read_bytes()
        raise FileNotFoundError(relative)

    def to_dict(self) -> dict:
        data = {
            "format": FORMAT,
            "version": VERSION,
            "units": "metres",
            "up": "Z",
            "photo": self.photo,
            "scale": self.scale,
            "camera": asdict(self.camera),
            "room": asdict(self.room) if self.room else None,
            "objects": self.objects,
            "lights": [asdict(light) for light in self.lights],
            "materials": self.materials,
            "stages": self.stages,
        }
        validate_scene(data)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "Scene":
        validate_scene(data)
        return cls(
            camera=Camera(**data["camera"]),
            room=Room(**data["room"]) if data.get("room") else None,
            objects=list(data.get("objects", [])),
            lights=[Light(**{k: v for k, v in light.items() if k in _LIGHT_FIELDS}) for light in data.get("lights", [])],
            materials=dict(data.get("materials", {})),
            scale=dict(data.get("scale", {})),
            photo=data.get("photo", "photo.png"),
            stages=dict(data.get("stages", {})),
        )
