"""Joint optimisation of materials and lights under global illumination (PSDR-Room 4.4).

loss = L1(photo, render) at 1/8 size
     + colour_weight * mean over materials of L1(mean render colour in the material's region, median photo colour)
     + gram_weight * Gram loss over the crop pairs of procedural materials (every `gram_every` iterations; with
       real VGG-19 weights only, unless `gram_random`).
Parameters (torch, Adam): homogeneous base colours and roughness, procedural twins' continuous parameters, and the
lights: the fills' powers (log space: a step is a relative change, and power stays positive) and their one shared
colour temperature, the other lights' RGB radiances (log space); locked lights stay as the artist set them. Renders are
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
from .colour_temperature import LUMINANCE, blackbody_rgb_torch, temperature_of
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


PHOTO_LOSSES = ("l1-linear", "l1-srgb", "l2-srgb")


def _srgb(x):
    """The sRGB transfer curve in torch (clipped to [0, 1]; the power's slope is finite above 1e-4)."""
    import torch

    x = x.clamp(0.0, 1.0)
    return torch.where(x <= 0.0031308, 12.92 * x, 1.055 * x.clamp(min=1e-4) ** (1 / 2.4) - 0.055)


def photo_loss(low, photo_low, keep, kind: str):
    """The render against the photo at 1/8 size over the `keep` pixels: L1 of linear radiance, or L1 / L2 of sRGB
    values (the space the photo PSNR is measured in)."""
    if kind not in PHOTO_LOSSES:
        raise ValueError(f"unknown --materials-lights.photo-loss {kind!r}: choose {', '.join(PHOTO_LOSSES)}")
    if kind != "l1-linear":
        low, photo_low = _srgb(low), _srgb(photo_low)
    diff = (low - photo_low).abs() if kind.startswith("l1") else (low - photo_low) ** 2
    return (diff * keep).sum() / (3 * keep.sum()).clamp(min=1.0)


class JointOptimiser:
    """Holds the renderer, the material states, the light parameters and the targets; `run` optimises."""

    def __init__(self, renderer: SceneRenderer, states: dict, radiance: np.ndarray, targets: Targets, cfg,
                 vgg=None, seed: int = 0, fills: list[bool] | None = None, locked: list[bool] | None = None,
                 locked_materials: frozenset[str] = frozenset()):
        """`fills`: lights whose colour is the shared black-body temperature (their power alone is free);
        `locked`: lights kept exactly at `radiance` (the artist's edits). The others are free RGB radiances.
        `locked_materials` are not optimised either."""
        import torch

        self.renderer, self.states, self.targets, self.cfg, self.vgg = renderer, states, targets, cfg, vgg
        radiance = np.asarray(radiance, float).reshape(-1, 3)
        n = len(radiance)
        self.fixed = torch.tensor(radiance, dtype=torch.float32)
        self.fill_mask = torch.tensor(fills if fills is not None else [False] * n, dtype=torch.bool).reshape(n)
        self.locked_mask = torch.tensor(locked if locked is not None else [False] * n,
                                        dtype=torch.bool).reshape(n)
        self.fill_mask &= ~self.locked_mask
        self.log_rad = torch.tensor(np.log(np.maximum(radiance, 1e-6)), dtype=torch.float32, requires_grad=True)
        lum = np.maximum(radiance @ LUMINANCE, 1e-6)
        self.log_power = torch.tensor(np.log(lum), dtype=torch.float32, requires_grad=True)
        lo, hi = cfg.temperature_min_k, cfg.temperature_max_k
        fill_rgb = radiance[self.fill_mask.numpy()].sum(0) if bool(self.fill_mask.any()) else np.ones(3)
        # Kilokelvin: a learning rate of 0.05 moves the temperature by 50 K per step.
        self.kilokelvin = torch.tensor(temperature_of(fill_rgb, lo, hi) / 1000.0, requires_grad=True)
        self.locked_materials = locked_materials
        # A random VGG's Gram loss is noise with spikes: only real weights (or `gram_random`) put it in the loss.
        self.gram_on = vgg is not None and (bool(getattr(cfg, "gram_random", 0))
                                            or str(getattr(vgg, "source", "")).startswith("pretrained"))
        self.seed = seed
        self.history: list[dict] = []
        self.visible_lights = [False] * n  # lights the photo shows (composited in final renders)

    def radiance(self):
        """(L, 3) linear RGB radiances: fills = power x black-body colour, locked ones fixed, the rest free."""
        import torch

        rad = self.log_rad.exp()
        if bool(self.fill_mask.any()):
            fill = self.log_power.exp()[:, None] * blackbody_rgb_torch(self.kilokelvin * 1000.0)[None]
            rad = torch.where(self.fill_mask[:, None], fill, rad)
        return torch.where(self.locked_mask[:, None], self.fixed, rad)

    def fill_temperature_k(self) -> float | None:
        return float(self.kilokelvin.detach()) * 1000.0 if bool(self.fill_mask.any()) else None

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
        out = {"photo": photo_loss(low, t.photo_low, keep, self.cfg.photo_loss)}
        terms = []
        for name, w in t.weights.items():
            mean = (img * w[..., None]).sum((0, 1)) / w.sum()
            terms.append((mean - t.colours[name]).abs().mean())
        out["colour"] = self.cfg.colour_weight * torch.stack(terms).mean() if terms else img.sum() * 0
        if t.anchor is not None and t.anchor[0] in self.states and hasattr(self.states[t.anchor[0]], "base"):
            lum = (self.states[t.anchor[0]].base * torch.tensor([0.2126, 0.7152, 0.0722])).sum()
            out["prior"] = self.cfg.prior_weight * (lum - t.anchor[1]).abs()
        if gram and self.gram_on:
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
            if name in self.locked_materials:  # the artist's: kept as set
                continue
            for kind, tensors in st.tensors().items():
                lr, lo, hi = kinds[kind]
                out += [Param(f"{name}.{kind}{k}", t, lr, lo, hi) for k, t in enumerate(tensors)]
        # Radiance in log space: a step is a relative change; capped so no light runs away to infinity.
        out.append(Param("lights.log_radiance", self.log_rad, cfg.lr_light, None, float(np.log(1e4))))
        out.append(Param("lights.log_power", self.log_power, cfg.lr_light, None, float(np.log(1e4))))
        if bool(self.fill_mask.any()):
            out.append(Param("lights.fill_temperature_kk", self.kilokelvin, cfg.lr_temperature,
                             cfg.temperature_min_k / 1000.0, cfg.temperature_max_k / 1000.0))
        return out

    def run(self, iters: int, events=None, score=None, score_every: int = 1,
            initial_score: float | None = None, patience: int = 0) -> OptimiseRecord:
        """Optimise for `iters` iterations; `history` gets each iteration's loss terms. With `score` (lower is
        better: the validation measure), the best-scoring parameters are kept, and with `patience` the run stops
        once that many validations in a row did not beat the best (pipeline/core/optimise.py)."""
        cfg = self.cfg

        def loss_at(it: int, seed: int) -> dict:
            img = self.render_low(seed)
            return self.losses(img, it, cfg.gram_every > 0 and it % cfg.gram_every == 0)

        self.backend = TorchParams(self.params())
        self.initial = self.backend.snapshot()
        record = optimise(self.backend, loss_at, iters, cfg.schedule, self.seed,
                          events if events is not None else Silent(), "optimising materials and lights",
                          score=score, initial_score=initial_score, score_every=score_every,
                          patience=patience)
        for terms, total in zip(record.terms, record.losses):
            self.history.append({**{k: round(v, 6) for k, v in terms.items()}, "total": round(total, 6)})
        for it, value in record.scores:  # the validation curve beside the loss curve
            self.history[it]["val_psnr"] = round(-value, 4)
        return record

    def restore_initial(self) -> None:
        """Back to the parameters `run` started from."""
        self.backend.restore(self.initial)

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
