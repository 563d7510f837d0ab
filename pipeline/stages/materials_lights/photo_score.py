"""The full-resolution picture of the material+light stage and its photo PSNR: the figure the stage reports and the
validation measure of the joint optimisation.

The optimisation's loss (L1 at 1/8 size, mean colours, Gram) is a cheap, noisy stand-in for what the user sees;
the shown picture is the full-size render, edge-aware denoised, with the emitters the photo shows composited in.
`PhotoScore` renders that picture with a fixed seed, so two parameter sets are compared on the same Monte-Carlo
noise, and its guides (shape ids, normals, depth) are rendered once: geometry does not change in this stage.
"""

from __future__ import annotations

import numpy as np

from pipeline.core.image_metrics import compare_linear, psnr
from pipeline.render.denoise import bilateral, guide_aovs
from pipeline.render.scene_render import _shape_key, emission_at, light_id
from p2s_common.images import linear_to_srgb


def shape_aov_id(shape) -> int:
    """The value Mitsuba's `shape_index` AOV gives a shape's pixels: its Dr.Jit registry id, not its position in
    the scene's shape list (ids are shared by every scene the process has loaded)."""
    import drjit as dr
    import mitsuba as mi

    return int(dr.reinterpret_array(mi.UInt32, mi.ShapePtr(shape))[0])


class PhotoScore:
    """Renders the stage's shown picture for given light radiances (materials: the optimiser's current states)."""

    def __init__(self, opt, states: dict, photo: np.ndarray, seed: int, denoise: bool):
        self.opt, self.states, self.photo, self.seed, self.denoise = opt, states, photo, seed, denoise
        self.h, self.w = photo.shape[:2]
        self.photo_srgb = linear_to_srgb(photo)
        self._guides: dict | None = None
        self._names: dict[int, str] = {}

    def guides(self) -> dict:
        """Shape ids, normals and depth of the full-size view (rendered once)."""
        if self._guides is None:
            renderer = self.opt.renderer
            # Light panels the camera does not see pass light (null BSDF): leave them out of the guides, or their
            # outlines would count as edges and stay unfiltered.
            n = len(self.opt.visible_lights)
            hidden = {light_id(i) for i in range(n) if not self.opt.visible_lights[i]}
            guide_scene = renderer.scene_without(hidden) if hidden else renderer.mscene
            self._guides = guide_aovs(guide_scene, renderer.sensor(self.w, self.h, 16))
            self._names = {shape_aov_id(shape): shape.id() for shape in guide_scene.shapes()}
        return self._guides

    def render(self, radiance: np.ndarray, spp: int) -> tuple[np.ndarray, np.ndarray]:
        """(raw, shown): the raw render and the shown picture (denoised when asked, emitters composited)."""
        import torch

        with torch.no_grad():
            raw = self.opt.render_crop((0, 0, self.w, self.h), self.seed, spp).numpy()
        g = self.guides()
        shown = bilateral(raw, g["ids"], g["normal"], g["depth"], pure=g["pure"]) if self.denoise else raw.copy()
        lights = {light_id(i): i for i in range(len(radiance)) if self.opt.visible_lights[i]}
        emission = {_shape_key(s.name): self.states[s.material].render_maps().emission
                    for s in self.opt.renderer.surfaces
                    if s.material in self.states and self.states[s.material].emission is not None}
        for aov_id, name in self._names.items():
            hit = g["ids"] == aov_id
            if not hit.any():
                continue
            if name in lights:
                shown[hit] = radiance[lights[name]]
            elif name in emission:
                # hide_emitters hides emitting shapes from camera rays altogether (the render shows what is
                # behind the lamp), so the lamp's pixels take its radiance: the photo's colour there.
                shown[hit] = emission_at(emission[name], g["uv"][hit])
        return raw, shown

    def psnr_db(self, shown: np.ndarray) -> float:
        """PSNR (sRGB) of a shown picture against the photo."""
        return float(psnr(linear_to_srgb(shown), self.photo_srgb))

    def metrics(self, shown: np.ndarray) -> dict:
        return compare_linear(shown, self.photo)
