"""Differentiable renders of the room box's surface masks with Mitsuba.

Each face is an area emitter with a one-hot radiance (wall = red, floor = green, ceiling = blue) on a black
BSDF, rendered with `direct_projective` and no indirect silhouette sampling (sppi = 0): pixel values are
anti-aliased coverages whose gradients include the faces' silhouettes. Faces are shrunk by a small gap because
edges shared by two touching meshes are not sampled as discontinuities (ARCHITECTURE.md).
"""

from __future__ import annotations

import numpy as np

from pipeline.core import interrupt
from pipeline.core.scene import Camera, face_kind

FACE_COLOURS = {"wall": [1.0, 0.0, 0.0], "floor": [0.0, 1.0, 0.0], "ceiling": [0.0, 0.0, 1.0]}


def sensor_dict(camera: Camera, width: int, height: int, spp: int, sample_border: bool = False) -> dict:
    """A Mitsuba perspective sensor matching the scene camera (Blender convention: looks along -Z, +Y up)."""
    import mitsuba as mi

    R, t = camera.R, camera.t
    target = t + R @ np.array([0.0, 0.0, -1.0])
    up = R @ np.array([0.0, 1.0, 0.0])
    return {
        "type": "perspective",
        "fov": float(camera.fov_y_deg),
        "fov_axis": "y",
        "near_clip": 0.01,
        "far_clip": 1000.0,
        "to_world": mi.ScalarTransform4f().look_at(origin=t.tolist(), target=target.tolist(), up=up.tolist()),
        "film": {"type": "hdrfilm", "width": int(width), "height": int(height), "rfilter": {"type": "box"},
                 "pixel_format": "rgb", "sample_border": sample_border},
        "sampler": {"type": "independent", "sample_count": int(spp)},
    }


def quad_mesh(name: str, corners: np.ndarray, emitter: dict | None = None, bsdf: dict | None = None):
    """A two-triangle Mitsuba mesh from 4 corners (counter-clockwise seen from the lit side)."""
    import drjit as dr
    import mitsuba as mi

    props = mi.Properties()
    if emitter is not None:
        props["emitter"] = mi.load_dict(emitter)
    if bsdf is not None:
        props["bsdf"] = mi.load_dict(bsdf)
    mesh = mi.Mesh(name, 4, 2, props)
    params = mi.traverse(mesh)
    c = np.asarray(corners, dtype=np.float32)
    params["vertex_positions"] = dr.ravel(mi.Point3f(c[:, 0], c[:, 1], c[:, 2]))
    params["faces"] = dr.ravel(mi.Vector3u([0, 0], [1, 2], [2, 3]))
    params.update()
    return mesh


class RoomMaskRenderer:
    """Holds one Mitsuba scene of the six room faces; `render(corners)` renders masks for new face corners."""

    def __init__(self, camera: Camera, quads: dict[str, np.ndarray], width: int, height: int, spp: int):
        import mitsuba as mi

        black = {"type": "diffuse", "reflectance": {"type": "rgb", "value": [0.0, 0.0, 0.0]}}
        scene: dict = {"type": "scene", "integrator": {"type": "direct_projective", "sppi": 0},
                       "sensor": sensor_dict(camera, width, height, spp, sample_border=True)}
        for name, corners in quads.items():
            emitter = {"type": "area", "radiance": {"type": "rgb", "value": FACE_COLOURS[face_kind(name)]}}
            scene[name] = quad_mesh(name, corners, emitter, black)
        self.scene = mi.load_dict(scene)
        self.params = mi.traverse(self.scene)
        self.width, self.height, self.spp = width, height, spp

    def render(self, corners: dict, seed: int = 0):
        """Render with face corners given as mi.Point3f (4 points each, may carry gradients). Returns TensorXf HxWx3."""
        import drjit as dr
        import mitsuba as mi

        for name, pts in corners.items():
            self.params[f"{name}.vertex_positions"] = dr.ravel(pts)
        self.params.update()
        interrupt.check()  # a requested stop before the next native render (core/interrupt.py)
        return mi.render(self.scene, self.params, spp=self.spp, seed=seed, seed_grad=seed + 1_000_003)
