"""Differentiable object silhouettes with Mitsuba, for posing furniture (PSDR-Room 4.3).

Each object is one mesh with an area emitter whose radiance is one-hot in its channel (objects that touch in
the photo get different channels) on a black BSDF; `direct_projective` with sppi = 0 gives anti-aliased masks
with boundary gradients, like the room's. A pose is (location of the bottom centre, yaw about +Z, uniform
scale) applied to the asset's canonical vertices (metres, Z up, origin at the bottom centre).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from pipeline.core import interrupt
from pipeline.core.scene import Camera
from .room_masks import sensor_dict

CHANNELS = ([1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0])


@dataclass
class Pose:
    """Location of the bottom centre (world), yaw (radians) about +Z, scale (uniform x per-axis aspect)."""

    location: np.ndarray
    yaw: float
    scale: float
    aspect: np.ndarray = field(default_factory=lambda: np.ones(3))

    @property
    def scales(self) -> np.ndarray:
        """Per-axis scale of the model's canonical frame."""
        return self.scale * np.asarray(self.aspect, float)

    def apply(self, vertices: np.ndarray) -> np.ndarray:
        c, s = np.cos(self.yaw), np.sin(self.yaw)
        v = vertices * self.scales
        return np.stack([c * v[:, 0] - s * v[:, 1] + self.location[0],
                         s * v[:, 0] + c * v[:, 1] + self.location[1],
                         v[:, 2] + self.location[2]], axis=1)


def posed(v, location, yaw, scale):
    """Canonical points (3 component arrays) under a pose: scale (one or per axis), yaw about +Z, translate.
    Works on Dr.Jit arrays (with gradients) and numpy alike."""
    import drjit as dr

    c, s = dr.cos(yaw), dr.sin(yaw)
    scales = scale if isinstance(scale, (tuple, list)) else (scale, scale, scale)
    vx, vy, vz = (k * comp for k, comp in zip(scales, v))
    return c * vx - s * vy + location[0], s * vx + c * vy + location[1], vz + location[2]


def surface_samples(vertices: np.ndarray, faces: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """n points spread over a mesh's surface (area-weighted triangles, uniform inside each)."""
    tri = np.asarray(vertices, float)[np.asarray(faces, int)]
    area = 0.5 * np.linalg.norm(np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]), axis=1)
    pick = rng.choice(len(tri), size=n, p=area / area.sum())
    u, v = rng.random(n), rng.random(n)
    flip = u + v > 1
    u[flip], v[flip] = 1 - u[flip], 1 - v[flip]
    t = tri[pick]
    return t[:, 0] + u[:, None] * (t[:, 1] - t[:, 0]) + v[:, None] * (t[:, 2] - t[:, 0])


def _mesh(name: str, vertices: np.ndarray, faces: np.ndarray, radiance: list[float],
          face_colors: np.ndarray | None = None):
    """A Mitsuba mesh that emits `radiance` (a silhouette channel), or, given (F, 3) `face_colors`, each face
    its own colour (an albedo image through the `direct` integrator)."""
    import drjit as dr
    import mitsuba as mi

    props = mi.Properties()
    emitted = ({"type": "mesh_attribute", "name": "face_color"} if face_colors is not None
               else {"type": "rgb", "value": radiance})
    props["emitter"] = mi.load_dict({"type": "area", "radiance": emitted})
    props["bsdf"] = mi.load_dict({"type": "diffuse", "reflectance": {"type": "rgb", "value": [0.0, 0.0, 0.0]}})
    mesh = mi.Mesh(name, len(vertices), len(faces), props)
    params = mi.traverse(mesh)
    v = np.asarray(vertices, np.float32)
    f = np.asarray(faces, np.uint32)
    params["vertex_positions"] = dr.ravel(mi.Point3f(v[:, 0], v[:, 1], v[:, 2]))
    params["faces"] = dr.ravel(mi.Vector3u(f[:, 0], f[:, 1], f[:, 2]))
    params.update()
    if face_colors is not None:
        mesh.add_attribute("face_color", 3, np.asarray(face_colors, np.float32).ravel())
    return mesh


def part_ids_image(camera: Camera, parts: list[tuple[np.ndarray, np.ndarray]], pose: Pose, width: int,
                   height: int) -> np.ndarray:
    """HxW index of the part of ONE posed object each pixel shows (-1: none): one sample a pixel through a box
    filter, so every value is a part's own code, never a blend of two."""
    verts, faces, codes, offset = [], [], [], 0
    for k, (v, f) in enumerate(parts):
        verts.append(np.asarray(v, float))
        faces.append(np.asarray(f, int) + offset)
        codes.append(np.full(len(f), k + 1.0))
        offset += len(v)
    code = np.concatenate(codes)
    colours = np.stack([code, np.zeros_like(code), np.zeros_like(code)], axis=1)
    image = albedo_image(camera, (np.vstack(verts), np.vstack(faces)), colours, pose, width, height, spp=1)
    return np.rint(image[..., 0]).astype(np.int32) - 1


def albedo_image(camera: Camera, mesh: tuple[np.ndarray, np.ndarray], face_colors: np.ndarray, pose: Pose,
                 width: int, height: int, spp: int, seed: int = 0) -> np.ndarray:
    """HxWx3 base colour of ONE posed object as the camera sees it (0 where it is not seen): what its own
    materials would look like under white, even light. Shape retrieval compares it with the photo."""
    import mitsuba as mi

    v, f = mesh
    scene = {"type": "scene", "integrator": {"type": "direct"},
             "sensor": sensor_dict(camera, width, height, spp, sample_border=True),
             "obj": _mesh("obj", pose.apply(np.asarray(v, float)), f, CHANNELS[0], face_colors)}
    interrupt.check()
    return np.array(mi.render(mi.load_dict(scene), spp=spp, seed=seed))[..., :3]


class SilhouetteRenderer:
    """One Mitsuba scene holding every object; poses are set per render (Dr.Jit values may carry gradients)."""

    def __init__(self, camera: Camera, meshes: list[tuple[np.ndarray, np.ndarray]], channels: list[int],
                 poses: list[Pose], width: int, height: int, spp: int):
        import mitsuba as mi

        self.vertices = [np.asarray(v, np.float32) for v, _ in meshes]
        scene: dict = {"type": "scene", "integrator": {"type": "direct_projective", "sppi": 0},
                       "sensor": sensor_dict(camera, width, height, spp, sample_border=True)}
        for i, ((v, f), ch, pose) in enumerate(zip(meshes, channels, poses)):
            scene[f"obj{i}"] = _mesh(f"obj{i}", pose.apply(np.asarray(v)), f, CHANNELS[ch])
        self.scene = mi.load_dict(scene)
        self.params = mi.traverse(self.scene)
        self.depth_integrator = mi.load_dict({"type": "aov", "aovs": "dd.y:depth"})
        self.width, self.height, self.spp = width, height, spp
        self._v = [[mi.Float(v[:, a]) for a in range(3)] for v in self.vertices]

    def set_pose(self, i: int, location, yaw, scale) -> None:
        """Place object i; location (3 values), yaw and scale (one value or one per axis) may be Dr.Jit Floats
        with gradients."""
        import drjit as dr
        import mitsuba as mi

        self.params[f"obj{i}.vertex_positions"] = dr.ravel(mi.Point3f(*posed(self._v[i], location, yaw, scale)))

    def hide(self, i: int) -> None:
        """Move object i far below the floor (out of every view) for single-object renders."""
        import drjit as dr
        import mitsuba as mi

        self.params[f"obj{i}.vertex_positions"] = dr.ravel(mi.Point3f(self._v[i][0] * 0.0, self._v[i][1] * 0.0,
                                                                      self._v[i][2] * 0.0 - 1e4))

    def render(self, seed: int = 0):
        """Masks (TensorXf HxWx3) for the poses set so far."""
        import mitsuba as mi

        self.params.update()
        interrupt.check()  # a requested stop before the next native render (core/interrupt.py)
        return mi.render(self.scene, self.params, spp=self.spp, seed=seed, seed_grad=seed + 7_919)

    def render_depth(self, seed: int = 0, update: bool = True) -> np.ndarray:
        """Ray distance to the nearest object (HxW, 0 where none); no gradients (search only). `update=False`
        right after `render` skips re-committing the unchanged poses (each commit rebuilds the ray-tracing
        acceleration structure)."""
        import mitsuba as mi

        if update:
            self.params.update()
        interrupt.check()
        return np.array(mi.render(self.scene, self.params, integrator=self.depth_integrator, spp=1, seed=seed))[..., 0]


class RigidSearchRenderer:
    """Forward-only silhouette and depth of ONE object whose pose changes rigidly (yaw search).

    Moving a mesh re-commits its vertices and rebuilds the ray-tracing acceleration structure (~13 ms a pose
    on 2 shared cores, more than the render itself); here the mesh stays put (canonical frame, scaled) and the
    camera moves by the inverse of the object's pose instead, which gives the same image. Mask and ray
    distance come from one render (an `aov` integrator around `direct`)."""

    def __init__(self, camera: Camera, mesh: tuple[np.ndarray, np.ndarray], scale, width: int, height: int,
                 spp: int):
        import mitsuba as mi

        v, f = mesh
        scales = np.broadcast_to(np.asarray(scale, float), (3,))
        scene = {"type": "scene",
                 "integrator": {"type": "aov", "aovs": "dd.y:depth", "integrator": {"type": "direct"}},
                 "sensor": sensor_dict(camera, width, height, spp, sample_border=True),
                 "obj": _mesh("obj", np.asarray(v, float) * scales, f, CHANNELS[0])}
        self.scene = mi.load_dict(scene)
        self.params = mi.traverse(self.scene)
        self.key = next(k for k in self.params.keys() if k.endswith("to_world") and "obj" not in k)
        self.camera_to_world = np.array(self.params[self.key].matrix, float).reshape(4, 4)
        self.width, self.height, self.spp = width, height, spp

    def render(self, location, yaw: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """(mask, ray distance) HxW for the object at `location` (bottom centre) and `yaw`; distance 0 where the
        object is not seen."""
        import mitsuba as mi

        c, s = np.cos(yaw), np.sin(yaw)
        rot_t = np.array([[c, s, 0.0], [-s, c, 0.0], [0.0, 0.0, 1.0]])  # inverse of the rotation about +Z
        object_from_world = np.eye(4)
        object_from_world[:3, :3] = rot_t
        object_from_world[:3, 3] = -rot_t @ np.asarray(location, float)
        self.params[self.key] = mi.ScalarTransform4f(object_from_world @ self.camera_to_world)
        self.params.update()
        interrupt.check()
        img = np.array(mi.render(self.scene, self.params, spp=self.spp, seed=seed))
        mask = img[..., 0]
        # The depth channel is averaged over the pixel's samples, misses counting 0: divide by the coverage.
        depth = np.where(mask > 1e-3, img[..., -1] / np.maximum(mask, 1e-3), 0.0)
        return mask, depth
