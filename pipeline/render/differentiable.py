"""Differentiable renders of the full scene with torch-side parameters (materials, lights) through `dr.wrap`.

The material+light stage keeps every parameter in torch (homogeneous colours and roughness, procedural twins'
maps, light radiances) and renders with Mitsuba's `prb`: the function that writes torch tensors into the scene's
bitmap textures and emitters and renders is wrapped with `dr.wrap(source="torch", target="drjit")`, so
`loss.backward()` in torch runs Mitsuba's adjoint pass and brings texture-space gradients back to torch, and
from there to procedural node parameters.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline.core import interrupt
from pipeline.core.scene import Light, Scene
from .determinism import parallel_if_repeatable
from .scene_render import (UNIT_RECT, MaterialMaps, RenderSettings, Surface, _shape_key, diffuse_weight, light_id,
                           scene_dict, scene_surfaces, sensor, transformed_uvs)


@dataclass
class MaterialKeys:
    diffuse: str  # bitmap data of the diffuse lobe's reflectance
    alphas: list[str]  # bitmap data of every GGX alpha
    metal: str | None  # bitmap data of the metal lobe's colour (metallic materials)


def _find_keys(params, prefix: str) -> MaterialKeys | None:
    keys = [k for k in params.keys() if k.startswith(prefix)]
    diffuse = [k for k in keys if k.endswith(".reflectance.data") and "specular_reflectance" not in k]
    if not diffuse:
        return None
    alphas = [k for k in keys if k.endswith(".alpha.data")]
    metal = [k for k in keys if k.endswith(".specular_reflectance.data")]
    return MaterialKeys(diffuse[0], alphas, metal[0] if metal else None)


class SceneRenderer:
    """One loaded Mitsuba scene; `render` takes torch parameters and returns a torch image with gradients."""

    def __init__(self, scene: Scene, materials: dict[str, MaterialMaps], lights: list[Light],
                 radiances: list[np.ndarray], settings: RenderSettings, surfaces: list[Surface] | None = None):
        import mitsuba as mi

        self.scene = scene
        self.settings = settings
        self.surfaces = scene_surfaces(scene) if surfaces is None else surfaces
        self.lights = lights
        d = scene_dict(scene, materials, settings, self.surfaces, lights, radiances)
        self._dict = d
        # optimize=False: Mitsuba's mesh merging orders the scene's shapes (and so its emitters, which light
        # sampling indexes) differently from load to load; same seed, different noise (render/determinism.py).
        self.mscene = mi.load_dict(d, optimize=False)
        self.params = mi.traverse(self.mscene)
        self.material_keys: dict[str, MaterialKeys] = {}
        # A shared BSDF is listed once, under the first shape that holds it.
        prefixes = [(s.material, _shape_key(s.name) + ".") for s in self.surfaces]
        for material, prefix in prefixes:
            if material and material not in self.material_keys:
                found = _find_keys(self.params, prefix)
                if found is not None:
                    self.material_keys[material] = found
        # An area or sphere light's radiance, or a sun's irradiance: each light's one RGB parameter.
        keys = [(f"{light_id(i)}.emitter.radiance.value", f"{light_id(i)}.irradiance.value")
                for i in range(len(lights))]
        self.light_keys = [next((k for k in pair if k in self.params), None) for pair in keys]
        self._sensors: dict = {}
        self.shape_names = [s.id() for s in self.mscene.shapes()]

    def scene_without(self, hidden: set[str]):
        """The same Mitsuba scene less the shapes named in `hidden` (e.g. light panels the camera looks through)."""
        import mitsuba as mi

        return mi.load_dict({k: v for k, v in self._dict.items() if k not in hidden}, optimize=False)

    def sensor(self, width: int, height: int, spp: int, crop=None):
        import mitsuba as mi

        key = (width, height, spp, crop)
        if key not in self._sensors:
            self._sensors[key] = mi.load_dict(sensor(self.scene.camera, width, height, spp, crop))
        return self._sensors[key]

    def render(self, base: dict, rough: dict, radiance, width: int, height: int, spp: int, seed: int = 0,
               crop=None):
        """Render with torch parameters: `base` {material: (3,) or (H,W,3)}, `rough` {material: () or (H,W)},
        `radiance` (L,3). Materials left out keep their current values. Returns a torch (h, w, 3) tensor."""
        import drjit as dr
        import mitsuba as mi
        import torch

        names, tensors, kinds = [], [], []
        for name, b in base.items():
            keys = self.material_keys.get(name)
            if keys is None:
                continue
            r = rough[name]
            diff = diffuse_weight(b, r, torch)
            alpha = r.clamp(min=0.02) ** 2
            names.append(keys.diffuse)
            tensors.append(_as_map(diff, 3))
            kinds.append("map")
            for k in keys.alphas:
                names.append(k)
                tensors.append(_as_map(alpha, 1))
                kinds.append("map")
            if keys.metal is not None:
                names.append(keys.metal)
                tensors.append(_as_map(b, 3))
                kinds.append("map")
        for i, key in enumerate(self.light_keys):
            if key is not None:
                names.append(key)
                tensors.append(radiance[i])
                kinds.append("rgb")
        params, scene = self.params, self.mscene
        sens = self.sensor(width, height, spp, crop)

        @dr.wrap(source="torch", target="drjit")
        def _render(*values):
            for key, kind, value in zip(names, kinds, values):
                params[key] = value if kind == "map" else dr.unravel(mi.Color3f, value.array)
            params.update()
            return mi.render(scene, params, sensor=sens, spp=spp, seed=seed, seed_grad=seed + 104_729)

        # dr.wrap turns a torch tensor into a Dr.Jit array of the tensor's own device: on cuda_ad_rgb the
        # parameters must be CUDA tensors. The image comes back on the CPU, where the stage works on it.
        device = "cuda" if mi.variant().startswith("cuda") else "cpu"
        # A requested stop before the next native render (core/interrupt.py); not inside _render, where Dr.Jit
        # would turn the exception into its own RuntimeError.
        interrupt.check()
        pixels = (crop[2] * crop[3]) if crop is not None else width * height
        # The forward pass on every core where that repeats exactly; the adjoint pass (torch's backward, later)
        # runs on the thread count of the stage (render/determinism.py).
        with parallel_if_repeatable(pixels, spp):
            return _render(*[torch.as_tensor(t).to(device) for t in tensors]).cpu()

    def set_uvs(self, material: str, scale: float, rotation_deg: float,
                rect: tuple[float, float, float, float] = UNIT_RECT) -> None:
        """Apply a texture transform and the maps' UV rectangle to every surface of `material` (the discrete
        scale/rotation search; maps rendered after it must cover `rect`)."""
        import drjit as dr
        import mitsuba as mi

        for s in self.surfaces:
            if s.material == material:
                uv = transformed_uvs(s.uvs, scale, rotation_deg, rect).astype(np.float32)
                self.params[_shape_key(s.name) + ".vertex_texcoords"] = dr.ravel(mi.Point2f(uv[:, 0], uv[:, 1]))
        self.params.update()

    def aov(self, width: int, height: int, kind: str = "shape_index", seed: int = 0, crop=None) -> np.ndarray:
        """A 1-spp AOV image with no gradients: HxW for one-channel kinds (shape indices into `shape_names` + 1,
        depth), HxWxC otherwise (uv: 2 channels)."""
        import mitsuba as mi

        integ = mi.load_dict({"type": "aov", "aovs": f"a:{kind}"})
        sens = mi.load_dict(sensor(self.scene.camera, width, height, 1, crop))
        interrupt.check()
        img = np.array(mi.render(self.mscene, sensor=sens, integrator=integ, spp=1, seed=seed))
        return img[..., 0] if img.shape[-1] == 1 else img


def _as_map(t, channels: int):
    """A torch value as an (H, W, C) tensor for a bitmap's data."""
    if t.dim() <= 1:  # constants: 2x2 bitmaps (Mitsuba refuses smaller ones)
        return t.reshape(1, 1, -1).expand(2, 2, channels).contiguous()
    if t.dim() == 2:
        return t[..., None].contiguous()
    return t.contiguous()
