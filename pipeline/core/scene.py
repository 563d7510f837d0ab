"""The Scene: what the stages build and hand each other, and what scene.json holds (docs/scene_format.md).

The stored data are the shared typed records of blender_addon/scene_format.py (the one contract with the add-on);
this module adds what only the pipeline needs: numpy views of the camera and the room. The files scene.json
refers to travel apart from it (core/bundle.py's BundleFiles).

World convention: Blender's (right-handed, Z up, metres), floor at z = 0. The camera's rotation is
world-from-camera in Blender's camera convention (camera +X right, +Y up, looking along -Z).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from blender_addon import scene_format as fmt
from blender_addon.scene_format import ROOM_FACES, Candidate, Light, MaterialEntry, Object, Part, face_kind

# The records are re-exported: the stages import them from here, beside the numpy-aware Camera, Room and Scene.
__all__ = ["ROOM_FACES", "Camera", "Candidate", "Light", "MaterialEntry", "Object", "Part", "Room", "Scene",
           "face_kind"]


class Camera(fmt.Camera):
    """The scene.json camera with numpy views of its pose."""

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


class Room(fmt.Room):
    """The scene.json room box with numpy views of its geometry."""

    @property
    def floor_z(self) -> float:
        return float(self.center[2] - self.size[2] / 2)

    @property
    def ceiling_z(self) -> float:
        return float(self.center[2] + self.size[2] / 2)

    def bounds_local(self) -> tuple[np.ndarray, np.ndarray]:
        half = np.asarray(self.size) / 2
        return -half, half

    def rotation(self) -> np.ndarray:
        c, s = math.cos(math.radians(self.yaw_deg)), math.sin(math.radians(self.yaw_deg))
        return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])

    def face_quads(self, gap: float = 0.0) -> dict[str, np.ndarray]:
        """World-space corners (4x3, counter-clockwise seen from inside, so normals face inward) per face, in the
        order the add-on builds them (`scene_format.room_face_corners`).

        `gap` (metres) pulls each face's edges in by that much, so touching faces do not share edges."""
        return {face: np.asarray(self.face_corners(face, gap), dtype=np.float64) for face in ROOM_FACES}


@dataclass
class Scene(fmt.SceneData):
    camera: Camera

    camera_type = Camera
    room_type = Room

