"""Joint optimisation of materials and lights under global illumination (PSDR-Room 4.4).

loss = L1(photo, render) at 1/8 size
     + colour_weight * mean over materials of L1(mean render colour in the material's region, median photo colour)
     + gram_weight * Gram loss over the crop pairs of procedural materials (every `gram_every` iterations).
Parameters (torch, Adam): homogeneous base colours and roughness, procedural twins' continuous parameters, and the
lights' RGB radiances (in log space: a step is a relative change, and radiance stays positive). Renders are
Mitsuba `prb` through `dr.wrap`; the loop (schedule, a new seed per iteration, clamping every parameter to its
range after each step, timings) is pipeline/core/optimise.py's.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from pipeline.core.events import Silent
from pipeline.core.optimise import OptimiseRecord, Param, TorchParams, optimise
from pipeline.core.resample import resize_area
from pipeline.render.differentiable import SceneRenderer
from .crops import CropPair, cut
from .state import BASE_RANGE, Procedural, ROUGH_RANGE


@dataclass
class Targets:
    """What the loss compares against, prepared once."""

    photo: np.ndarray  # working resolution, linear
    render_size: tuple[int, int]  # (w, h) of the optimisation renders
    pool: int  # render pixels per loss pixel (the loss is at 1/8 of the working resolution)
    photo_low: object = None  # torch (h, w, 3)
    keep_low: object = None  # torch (h, w): weight of each loss pixel (0 where the photo shows an emitter)
    weights: dict = field(default_factory=dict)  # material -> torch (Hr, Wr)
    colours: dict = field(default_factory=dict)  # material -> torch (3,)
    crops: list[CropPair] = field(default_factory=list)
    anchor: tuple[str, float] | None = None  # (material, albedo luminance) fixing the albedo/light scale


def make_targets(photo: np.ndarray, regions: dict[str, np.ndarray], render_size: tuple[int, int], pool: int,
                 crops: list[CropPair], exclude: np.ndarray | None = None) -> Targets:
    import torch

    wr, hr = render_size
    t = Targets(photo, render_size, pool, crops=crops)
    t.photo_low = torch.from_numpy(resize_area(photo, (wr // pool, hr // pool))).float()
    keep = np.ones(photo.shape[:2], np.float32) if exclude is None else (~exclude).astype(np.float32)
    t.keep_low = torch.from_numpy((resize_area(keep, (wr // pool, hr // pool)) > 0.999).astype(np.float32))
    for name, mask in regions.items():
        if mask.sum() < 4:
            continue
        frac = resize_area(mask.astype(np.float32), (wr, hr))
        w = frac ** 2  # the interior counts most: boundary pixels mix neighbours
        if w.sum() < 0.5:
            continue
        t.weights[name] = torch.from_numpy(w.astype(np.float32))
        t.colours[name] = torch.from_numpy(np.median(photo[mask], axis=0).astype(np.float32))
    return t


class JointOptimiser:
    """Holds the renderer, the material states, the light parameters and the targets; `run` optimises."""

    def __init__(self, renderer: SceneRenderer, states: dict, radiance: np.ndarray, targets: Targets, cfg,
                 vgg=None, seed: int = 0):
        import torch

        self.renderer, self.states, self.targets, self.cfg, self.vgg = renderer, states, targets, cfg, vgg
        self.log_rad = torch.tensor(np.log(np.maximum(radiance, 1e-6)), dtype=torch.float32, requires_grad=True)
        self.seed = seed
        self.history: list[dict] = []
        self.visible_lights = [False] * len(radiance)  # lights the photo shows (composited in final renders)

    def radiance(self):
        return self.log_rad.exp()

    def _maps(self):
        base, rough = {}, {}
        for name, st in self.states.items():
            base[name], rough[name] = st.maps()
        return base, rough

    def render_low(self, seed: int, spp: int | None = None):
        base, rough = self._maps()
        wr, hr = self.targets.render_size
        return self.renderer.render(base, rough, self.radiance(), wr, hr, spp or self.cfg.spp, seed)

    def render_crop(self, window, seed: int, spp: int):
        base, rough = self._maps()
        h, w = self.targets.photo.shape[:2]
        return self.renderer.render(base, rough, self.radiance(), w, h, spp, seed, crop=tuple(window))

    def losses(self, img, it: int, gram: bool) -> dict:
        import torch

        t, p = self.targets, self.targets.pool
        hl, wl = t.photo_low.shape[:2]
        low = torch.nn.functional.avg_pool2d(img[: hl * p, : wl * p].permute(2, 0, 1)[None], p)[0].permute(1, 2, 0)
        keep = t.keep_low[..., None]
        out = {"l1": ((low - t.photo_low).abs() * keep).sum() / (3 * keep.sum()).clamp(min=1.0)}
        terms = []
        for name, w in t.weights.items():
            mean = (img * w[..., None]).sum((0, 1)) / w.sum()
            terms.append((mean - t.colours[name]).abs().mean())
        out["colour"] = self.cfg.colour_weight * torch.stack(terms).mean() if terms else img.sum() * 0
        if t.anchor is not None and t.anchor[0] in self.states and hasattr(self.states[t.anchor[0]], "base"):
            lum = (self.states[t.anchor[0]].base * torch.tensor([0.2126, 0.7152, 0.0722])).sum()
            out["prior"] = self.cfg.prior_weight * (lum - t.anchor[1]).abs()
        if gram and self.vgg is not None:
            g = []
            for pair in self._gram_pairs(it):
                rend = self.render_crop(pair.render, self.seed + 7919 * it, self.cfg.crop_spp)
                photo = torch.from_numpy(np.ascontiguousarray(cut(t.photo, pair.photo))).float()
                g.append(self.vgg.loss(rend[None], photo[None]))
            if g:
                out["gram"] = self.cfg.gram_weight * torch.stack(g).mean()
        return out

    def _gram_pairs(self, it: int) -> list[CropPair]:
        """A few crop pairs of procedural materials per Gram step (rotating through them)."""
        pairs = [c for c in self.targets.crops if isinstance(self.states.get(c.material), Procedural)]
        if not pairs:
            return []
        n = min(len(pairs), self.cfg.gram_crops)
        start = (it * n) % len(pairs)
        return [pairs[(start + k) % len(pairs)] for k in range(n)]

    def params(self) -> list[Param]:
        """The optimised tensors as harness parameters, with their learning rates and ranges."""
        cfg = self.cfg
        kinds = {"colour": (cfg.lr_colour, *BASE_RANGE), "roughness": (cfg.lr_roughness, *ROUGH_RANGE),
                 "texture": (cfg.lr_texture, 0.0, 1.0)}  # procedural parameters are normalised to [0, 1]
        out = []
        for name, st in self.states.items():
            for kind, tensors in st.tensors().items():
                lr, lo, hi = kinds[kind]
                out += [Param(f"{name}.{kind}{k}", t, lr, lo, hi) for k, t in enumerate(tensors)]
        # Radiance in log space: a step is a relative change; capped so no light runs away to infinity.
        out.append(Param("lights.log_radiance", self.log_rad, cfg.lr_light, None, float(np.log(1e4))))
        return out

    def run(self, iters: int, events=None) -> OptimiseRecord:
        """Optimise for `iters` iterations; `history` gets each iteration's loss terms."""
        cfg = self.cfg

        def loss_at(it: int, seed: int) -> dict:
            img = self.render_low(seed)
            return self.losses(img, it, cfg.gram_every > 0 and it % cfg.gram_every == 0)

        record = optimise(TorchParams(self.params()), loss_at, iters, cfg.schedule, self.seed,
                          events if events is not None else Silent(), "optimising materials and lights")
        for terms, total in zip(record.terms, record.losses):
            self.history.append({**{k: round(v, 6) for k, v in terms.items()}, "total": round(total, 6)})
        return record

    def gram_score(self, pairs: list[CropPair], seed: int = 0, normalise: bool = True) -> float:
        """Gram loss of the current render against the photo over `pairs` (no gradients). With `normalise`, each
        crop is divided by its mean colour first, so only the texture pattern is compared (the colour is the
        optimiser's job)."""
        import torch

        if self.vgg is None or not pairs:
            return float("nan")
        scores = []
        with torch.no_grad():
            for pair in pairs:
                rend = self.render_crop(pair.render, seed, self.cfg.search_spp)
                photo = torch.from_numpy(np.ascontiguousarray(cut(self.targets.photo, pair.photo))).float()
                if normalise:
                    rend = rend / rend.mean((0, 1)).clamp(min=1e-4) * 0.25
                    photo = photo / photo.mean((0, 1)).clamp(min=1e-4) * 0.25
                scores.append(float(self.vgg.loss(rend[None], photo[None])))
        return float(np.mean(scores))
