"""Initial albedos and light radiances, before the joint optimisation.

1. Grey world: render the scene with every material grey (0.5) once with the photo-measured emitters (windows,
   lamps) alone and once with the other lights at unit radiance. Per material, the render's mean luminance in its
   region over 0.5 is its irradiance; albedo = photo colour / irradiance.
2. Scale: a single photo cannot tell a dark room under bright lights from a bright room under dim ones; the
   unknown lights' radiance k is fixed by a prior on the ceiling's albedo (or, when the ceiling covers less than
   1.5 % of the photo, the lightest-looking wall's); the refinement rounds keep that anchor's albedo.
3. The paper's initial radiance: with these albedos, one render at unit radiance; the scalar minimising the L1 of
   luminance at low resolution (transport is linear in radiance: a weighted median).
4. Refinement (`rounds`): light transport is linear in each light's radiance, so one render per light gives a
   basis and the fills' powers are a non-negative least-squares fit to the photo at 1/8 size, their colour one
   black-body temperature shared by all fills (the best of a range tried, `fit_fills`), a sun's power beside them
   at its own colour; then each material's albedo is rescaled by photo colour / render colour in its region.
   Alternating a few times gets close to the optimum far faster than gradient steps on noisy renders; the joint
   optimisation then refines everything (roughness included).
"""

from __future__ import annotations

import numpy as np

from .colour_temperature import blackbody_rgb
from .lights_init import LightInit, l1_scalar, luminance
from .state import Homogeneous


def pool(img: np.ndarray, p: int) -> np.ndarray:
    """Mean over p x p blocks (the render's pixels -> the loss's)."""
    h, w = img.shape[0] // p * p, img.shape[1] // p * p
    x = img[:h, :w]
    return x.reshape(h // p, p, w // p, p, *x.shape[2:]).mean(axis=(1, 3))


class InitRenderer:
    """Plain renders (no gradients) at the optimisation resolution with given material values and radiances."""

    def __init__(self, renderer, states: dict, targets, spp: int, seed: int):
        self.renderer, self.states, self.targets, self.spp, self.seed = renderer, states, targets, spp, seed
        self.count = 0

    def __call__(self, radiance: np.ndarray, grey: bool = False) -> np.ndarray:
        import torch

        wr, hr = self.targets.render_size
        with torch.no_grad():
            if grey:
                base = {n: torch.full((3,), 0.5) for n in self.states}
                rough = {n: torch.tensor(0.5) for n in self.states}
            else:
                base = {n: s.maps()[0].detach() for n, s in self.states.items()}
                rough = {n: s.maps()[1].detach() for n, s in self.states.items()}
            self.count += 1
            rad = torch.tensor(np.asarray(radiance, np.float32))
            return self.renderer.render(base, rough, rad, wr, hr, self.spp, self.seed + self.count).numpy()


def region_mean(img: np.ndarray, weight) -> np.ndarray:
    w = weight.numpy() if hasattr(weight, "numpy") else weight
    return (img * w[..., None]).sum((0, 1)) / max(float(w.sum()), 1e-9)


def initial_albedo_and_scale(render: InitRenderer, states: dict, lights: list[LightInit], targets, cfg,
                             notes: list, locked: frozenset[str] = frozenset()) -> dict:
    """Steps 1-3 of the module docstring; sets the homogeneous states' colours and the lights' radiances."""
    import torch

    known = np.array([li.known for li in lights])
    radiance = np.array([li.radiance for li in lights], float)
    ones = np.array([[li.unit] * 3 for li in lights], float)  # each light's unit (a bulb's is far above 1)
    r_known = render(np.where(known[:, None], radiance, 0.0), grey=True) if known.any() else None
    r_unit = render(np.where(known[:, None], 0.0, ones), grey=True)

    homogeneous = [n for n, s in states.items()
                   if isinstance(s, Homogeneous) and n in targets.weights and n not in locked]

    def shade(img, name: str) -> float:
        return 0.0 if img is None else float(luminance(region_mean(img, targets.weights[name]))) / 0.5

    s_known = {n: shade(r_known, n) for n in homogeneous}
    s_unit = {n: shade(r_unit, n) for n in homogeneous}
    colour = {n: targets.colours[n].numpy().astype(float) for n in homogeneous}
    photo_low = targets.photo_low.numpy()
    zeros = np.zeros_like(photo_low)
    k, prior, anchor = None, None, None
    npx = float(targets.photo_low.shape[0] * targets.photo_low.shape[1] * targets.pool ** 2)

    def seen(n: str) -> bool:  # an anchor must be seen well: a sliver at the frame's edge is lit unlike the rest
        return n in s_unit and s_unit[n] > 1e-6 and float(targets.weights[n].sum()) >= 0.015 * npx

    # Walls: the one that looks lightest for its light (an accent wall is darker than the paint the prior means).
    walls = sorted((n for n in s_unit if n.startswith("room_wall") and seen(n)),
                   key=lambda n: -luminance(colour[n]) / max(s_known[n] + s_unit[n], 1e-6))
    for name, value in [("room_ceiling", cfg.ceiling_albedo)] + [(n, cfg.wall_albedo) for n in walls[:1]]:
        if seen(name):
            k = (luminance(colour[name]) / value - s_known[name]) / s_unit[name]
            prior, anchor = f"{name} albedo {value}", (name, value)
            break
    if k is None or k <= 0:  # nothing to anchor on, or the known emitters alone over-light it
        k = l1_scalar(luminance(photo_low), luminance(pool(r_known, targets.pool)) if r_known is not None
                      else luminance(zeros), luminance(pool(r_unit, targets.pool)))
        prior = "grey-world L1 fit (albedo 0.5)"
    k = max(float(k), 1e-4)
    for n in homogeneous:
        shading = max(s_known[n] + k * s_unit[n], 1e-4)
        with torch.no_grad():
            states[n].base.copy_(torch.tensor(np.clip(colour[n] / shading, 0.02, 0.95), dtype=torch.float32))
        states[n].source = "materials_lights: homogeneous (photo colour / irradiance), optimised"
    r_known2 = render(np.where(known[:, None], radiance, 0.0)) if known.any() else None
    r_unit2 = render(np.where(known[:, None], 0.0, ones))
    k2 = l1_scalar(luminance(photo_low), luminance(pool(r_known2, targets.pool)) if r_known2 is not None
                   else luminance(zeros), luminance(pool(r_unit2, targets.pool)))
    k2 = k2 if k2 > 0 else k
    for li in lights:
        if not li.known:
            li.radiance = np.full(3, k2 * li.unit)
    notes.append(f"scale prior: {prior}; unknown lights' radiance {k:.3g} (prior) -> {k2:.3g} (L1 scalar)")
    targets.anchor = anchor
    return {"scale_prior": prior, "radiance_prior": round(k, 5), "radiance_l1": round(k2, 5)}


def fit_fills(basis: list[np.ndarray], target: np.ndarray, keep: np.ndarray, current: np.ndarray,
              temperatures: np.ndarray, ridge: float = 0.05,
              own: list[tuple[np.ndarray, np.ndarray]] | None = None) -> tuple[np.ndarray, float, float, np.ndarray]:
    """Fill powers sharing one colour temperature: photo - known ~ sum_i s_i rgb(T) * basis_i, s_i >= 0.

    For each temperature tried, the powers are a non-negative least-squares fit over the three channels at once
    (transport is linear per channel, so a light of colour c adds c * its unit-white render); the temperature with
    the smallest residual wins. `own`: (unit-white render, colour) of lights with a colour of their own (the sun),
    whose powers are fitted alongside (`current` holds the fills' then their powers). Returns (fill powers,
    temperature K, residual, own lights' powers)."""
    from scipy.optimize import nnls

    own = own or []
    n, m = len(basis), len(own)
    a_white = np.stack([b[keep] for b in basis + [b for b, _ in own]], axis=1)  # (pixels, lights, 3)
    y = target[keep].T.ravel()  # channel-major
    current = np.asarray(current, float)
    prior = np.concatenate([np.full(n, float(np.mean(current[:n])) if n else 1.0), current[n:n + m]])
    own_colour = np.array([c for _, c in own], float).reshape(m, 3)
    best = (prior[:n], float(temperatures[0]), np.inf, prior[n:])
    for t in temperatures:
        colour = np.concatenate([np.tile(blackbody_rgb(float(t)), (n, 1)), own_colour])  # (lights, 3)
        a = np.concatenate([a_white[..., ch] * colour[:, ch] for ch in range(3)], axis=0)
        # Ridge towards the current mean keeps unobservable lights from collapsing to 0 or exploding.
        lam = ridge * float(np.linalg.norm(a) / np.sqrt(a.shape[1]))
        x, _ = nnls(np.vstack([a, lam * np.eye(a.shape[1])]), np.concatenate([y, lam * prior]))
        res = float(np.abs(a @ x - y).mean())
        if res < best[2]:
            best = (x[:n], float(t), res, x[n:])
        if n == 0:  # no fills: the temperature changes nothing
            break
    return best


def refine_lights_and_albedo(render: InitRenderer, states: dict, lights: list[LightInit], targets, rounds: int,
                             ridge: float = 0.05, temperature_range: tuple[float, float] = (2200.0, 7500.0),
                             locked: frozenset[str] = frozenset()) -> dict:
    """Step 4: alternate the fills' powers and shared colour temperature (`fit_fills`) with per-material albedo
    rescaling. One unit render per fill and round: their number is bounded by the light initialisation
    (`lights_init.initial_lights` merges the ceiling grid into a few panels), whatever the room's size. Returns
    residual figures, the fills' temperature and the render count."""
    import torch

    photo_low = targets.photo_low.numpy().astype(float)
    keep = targets.keep_low.numpy().astype(bool)
    free = [i for i, li in enumerate(lights) if not li.known]
    own = [i for i, li in enumerate(lights) if li.own_colour and not li.light.locked]
    fixed = np.array([li.radiance if li.known and i not in own else np.zeros(3) for i, li in enumerate(lights)],
                     float)
    history = []
    temperatures = np.geomspace(temperature_range[0], temperature_range[1], 24)
    kelvin = None
    homogeneous = [n for n, s in states.items()
                   if isinstance(s, Homogeneous) and n in targets.weights and n not in locked]
    for _ in range(max(0, rounds)):
        # Lights: one basis render per fill (unit white radiance), the known ones as a fixed offset.
        base_known = pool(render(fixed), targets.pool) if fixed.any() else np.zeros_like(photo_low)
        basis = []
        for i in free + own:
            rad = np.zeros((len(lights), 3))
            rad[i] = lights[i].unit
            basis.append(pool(render(rad), targets.pool))
        if free or own:
            current = np.array([luminance(lights[i].radiance) / lights[i].unit for i in free + own], float)
            colours = [lights[i].radiance / max(float(luminance(lights[i].radiance)), 1e-9) for i in own]
            powers, t, _, own_powers = fit_fills(basis[:len(free)], photo_low - base_known, keep, current,
                                                 temperatures, ridge, list(zip(basis[len(free):], colours)))
            kelvin = t if free else None
            colour = blackbody_rgb(t)
            for j, i in enumerate(free):
                lights[i].radiance = np.maximum(powers[j], 1e-4) * lights[i].unit * colour
            for j, i in enumerate(own):  # its colour kept, its power refitted
                lights[i].radiance = np.maximum(own_powers[j], 1e-4) * lights[i].unit * colours[j]
        # Albedo: rescale each material so its region's mean colour matches the photo's median colour, then all
        # of them together so the anchor keeps its prior albedo (else the scale drifts from round to round; the
        # next light fit takes up the difference).
        full = render(np.array([li.radiance for li in lights]))
        new = {}
        for n in homogeneous:
            mean = region_mean(full, targets.weights[n])
            ratio = targets.colours[n].numpy() / np.maximum(mean, 1e-5)
            new[n] = states[n].base.detach().numpy() * np.clip(ratio, 0.25, 4.0)
        anchor = getattr(targets, "anchor", None)
        factor = 1.0
        if anchor is not None and anchor[0] in new:
            factor = anchor[1] / max(float(luminance(new[anchor[0]])), 1e-4)
        for n, value in new.items():
            with torch.no_grad():
                states[n].base.copy_(torch.tensor(np.clip(value * factor, 0.01, 0.95), dtype=torch.float32))
        history.append(round(float(np.abs(pool(full, targets.pool) - photo_low)[keep].mean()), 6))
    return {"l1_per_round": history, "renders": render.count,
            "fill_temperature_k": None if kelvin is None else round(kelvin, 1)}
