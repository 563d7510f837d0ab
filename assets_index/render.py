"""Thumbnail views of a model: simple shaded Mitsuba renders on white, for CLIP embeddings and for people.

Uses Mitsuba's `scalar_rgb` variant: a 128 px view takes ~30 ms on one CPU core, needs no LLVM and no GPU, and
is switched to and back with `mi.variant_context`, so a process that runs differentiable renders on
`llvm_ad_rgb`/`cuda_ad_rgb` keeps its variant.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import trimesh

from p2s_common.errors import SetupError
from p2s_common.images import linear_to_srgb, write_png
from p2s_common.llvm import point_drjit_at_libllvm


@dataclass(frozen=True)
class RenderConfig:
    """How the index renders its views."""

    views: int = 4
    """Views per model, spread over azimuths -60..60 degrees around the front (-Y)."""
    resolution: int = 128
    """Square image size in pixels."""
    spp: int = 16
    """Samples per pixel."""
    fov: float = 35.0
    """Vertical field of view in degrees."""
    own_images_only: bool = True
    """Models whose source has its own images (3D-FUTURE's image.jpg, a Blender asset preview) are embedded
    from those and not rendered: the database's renders look like the photos' furniture, and rendering
    thousands of textured models is slow."""

    def key(self) -> str:
        """Identifies the look of the views: a change re-renders every model."""
        own = "-own" if self.own_images_only else ""
        return f"v2-{self.views}x{self.resolution}px-{self.spp}spp-fov{self.fov:g}{own}"

    def views_for(self, has_own_images: bool) -> int:
        """How many views to render for a model."""
        return 0 if has_own_images and self.own_images_only else self.views


def view_angles(n: int, size: Sequence[float]) -> list[tuple[float, float]]:
    """(azimuth, elevation) in degrees for n views. Rugs and other flat things are seen from higher up, since
    that is how a room photo sees them; everything else at 15-30 degrees, as from a standing camera."""
    w, d, h = size
    flat = h < 0.12 * max(w, d)
    if n == 1:
        return [(-25.0, 45.0 if flat else 22.0)]
    azimuths = np.linspace(-60.0, 60.0, n)
    out = []
    for i, az in enumerate(azimuths):
        el = 50.0 if flat else (18.0 if i % 2 == 0 else 32.0)
        out.append((float(az), el))
    return out


def fit_distance(corners: np.ndarray, to_eye: np.ndarray, fov: float, fill: float = 0.9) -> float:
    """Camera distance from the box centre at which the box's corners (relative to its centre) fill `fill`
    of a square image: views framed like a tight crop of the photo, which is what they are compared with."""
    up = np.array([0.0, 0.0, 1.0])
    right = np.cross(up, to_eye)
    right /= np.linalg.norm(right)
    true_up = np.cross(to_eye, right)
    t = math.tan(math.radians(fov) / 2) * fill
    along = corners @ to_eye  # towards the camera: those corners are nearer, so they look bigger
    lateral = np.maximum(np.abs(corners @ right), np.abs(corners @ true_up))
    return float(max(np.max(lateral / t + along), 1e-3))


def _mitsuba():
    """Import Mitsuba. The views use `scalar_rgb`, which needs no LLVM, but Dr.Jit reads DRJIT_LIBLLVM_PATH
    only when first imported: set it now (p2s_common.llvm) so a later `llvm_ad_rgb` in this process still works."""
    point_drjit_at_libllvm()
    try:
        import mitsuba as mi  # lazy: Mitsuba and Dr.Jit take seconds to load; most index commands never render
    except ImportError as exc:  # pragma: no cover - mitsuba is a hard dependency
        raise SetupError(f"mitsuba is not installed ({exc}); run `make setup`") from exc
    return mi


def _mesh(mi, name: str, mesh: trimesh.Trimesh, rgb: Sequence[float]):
    props = mi.Properties()
    props["bsdf"] = mi.load_dict({"type": "diffuse", "reflectance": {"type": "rgb", "value": [float(c) for c in rgb]}})
    m = mi.Mesh(name, len(mesh.vertices), len(mesh.faces), props=props, has_vertex_normals=False)
    params = mi.traverse(m)
    params["vertex_positions"] = np.asarray(mesh.vertices, np.float32).ravel()
    params["faces"] = np.asarray(mesh.faces, np.uint32).ravel()
    params.update()
    return m


def render_views(parts: Mapping[str, trimesh.Trimesh], colors: Mapping[str, Sequence[float]],
                 out_paths: Sequence[Path], config: RenderConfig = RenderConfig()) -> list[Path]:
    """Render len(out_paths) views of a model (canonical frame) to PNG files (sRGB, on white)."""
    mi = _mitsuba()
    lo = np.min([p.bounds[0] for p in parts.values()], axis=0)
    hi = np.max([p.bounds[1] for p in parts.values()], axis=0)
    centre = (lo + hi) / 2
    corners = np.array([[x, y, z] for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])])
    angles = view_angles(len(out_paths), hi - lo)
    written: list[Path] = []
    if mi.variant() is None:
        mi.set_variant("scalar_rgb")  # variant_context cannot restore "no variant"; nobody else has chosen one
    with mi.variant_context("scalar_rgb"):
        shapes = {f"part_{i}": _mesh(mi, name, mesh, colors.get(name, (0.6, 0.6, 0.6)))
                  for i, (name, mesh) in enumerate(parts.items()) if len(mesh.faces)}
        for (az, el), path in zip(angles, out_paths):
            a, e = math.radians(az), math.radians(el)
            to_eye = np.array([math.sin(a) * math.cos(e), -math.cos(a) * math.cos(e), math.sin(e)])
            eye = centre + fit_distance(corners - centre, to_eye, config.fov) * to_eye
            scene = mi.load_dict({
                "type": "scene",
                # hide_emitters: the background gets alpha 0, so we can put the object on white ourselves
                # while lighting it more softly than a white environment would.
                "integrator": {"type": "path", "max_depth": 3, "hide_emitters": True},
                "env": {"type": "constant", "radiance": {"type": "rgb", "value": 0.6}},
                "sun": {"type": "directional", "direction": [0.4, 0.6, -0.7],
                        "irradiance": {"type": "rgb", "value": 2.0}},
                "sensor": {
                    "type": "perspective", "fov": config.fov, "fov_axis": "y",
                    "to_world": mi.ScalarTransform4f().look_at(origin=eye.tolist(), target=centre.tolist(),
                                                               up=[0, 0, 1]),
                    "film": {"type": "hdrfilm", "width": config.resolution, "height": config.resolution,
                             "pixel_format": "rgba", "rfilter": {"type": "gaussian"}},
                    "sampler": {"type": "independent", "sample_count": config.spp, "seed": 0},
                },
                **shapes,
            })
            img = np.asarray(mi.render(scene), dtype=np.float32)
            rgb, alpha = img[..., :3], img[..., 3:4]
            # Premultiplied radiance over a white background, then linear -> sRGB.
            out = linear_to_srgb(rgb + (1.0 - alpha))
            path = Path(path)
            path.parent.mkdir(parents=True, exist_ok=True)
            write_png(path, out)
            written.append(path)
    return written
