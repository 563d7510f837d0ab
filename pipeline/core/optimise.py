"""The optimisation harness shared by the room, object and material/light loops.

A stage declares its free parameters (`Param`: name, initial value, peak learning rate, clamp bounds), wraps them
in the adapter for its backend (`DrJitParams`: Dr.Jit arrays under `mi.ad.Adam`; `TorchParams`: torch leaf
tensors under `torch.optim.Adam`) and hands `optimise` a loss closure. The harness owns everything around it:
the learning-rate schedule, the per-iteration seed, the step and the clamp, best-iterate tracking, timings and
progress events, and returns an `OptimiseRecord` that the stage puts into its report.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Protocol

import numpy as np

from . import interrupt
from .config import Schedule
from .events import Events

LossValue = Any  # a one-element Dr.Jit Float or a torch scalar, carrying the graph to differentiate
LossOutput = Any  # a LossValue, or a mapping of named terms (LossValues) whose sum is the loss


@dataclass(eq=False)  # identity, not value, equality: two parameters may start at the same value
class Param:
    """One named parameter of a loop. `value` is its initial value (a float or array for Dr.Jit; for torch the
    leaf tensor itself, which the optimiser updates in place). `lr` is its peak learning rate (the schedule scales
    it); after every step it is clamped to [lo, hi] (None: unbounded on that side)."""

    name: str
    value: Any
    lr: float
    lo: float | None = None
    hi: float | None = None

    @property
    def bounded(self) -> bool:
        return self.lo is not None or self.hi is not None


def lr_factor(schedule: Schedule, it: int, iters: int) -> float:
    """Multiplier of every peak learning rate at iteration `it` of `iters`: an optional linear warm-up, then a
    linear, cosine or step decay to `schedule.final` at the last iteration (constant: 1 throughout)."""
    if it < schedule.warmup:
        return (it + 1) / (schedule.warmup + 1)  # never 0: a step with no learning rate only wastes a render
    span = max(1, iters - 1 - schedule.warmup)
    t = min(1.0, (it - schedule.warmup) / span)
    final = schedule.final
    if schedule.kind == "linear":
        # Written as the three loops wrote it before the harness, so their runs stay bit-identical.
        return 1.0 - (1.0 - final) * (it - schedule.warmup) / span
    if schedule.kind == "cosine":
        return final + (1.0 - final) * 0.5 * (1.0 + math.cos(math.pi * t))
    if schedule.kind == "step":  # three equal plateaus: 1, sqrt(final), final
        return final ** (min(2, int(3 * t)) / 2)
    if schedule.kind == "constant":
        return 1.0
    raise ValueError(f"unknown learning-rate schedule {schedule.kind!r} (linear, cosine, step or constant)")


def iteration_seed(seed: int, it: int) -> int:
    """The render seed of iteration `it`: a new one per iteration (fresh Monte-Carlo noise, so its bias averages
    out over the run), derived from the run's seed so a run repeats exactly."""
    return seed + it


class ParamBackend(Protocol):
    """What the harness needs from an optimiser adapter."""

    params: list[Param]

    def step(self, loss: LossValue, factor: float) -> None:
        """Back-propagate `loss`, take one step at `factor` x each parameter's peak lr, clamp to the bounds."""

    def snapshot(self) -> list[np.ndarray]:
        """Copies of the current values, in `params` order."""

    def restore(self, values: list[np.ndarray]) -> None:
        """Set the values of a `snapshot`."""


class DrJitParams:
    """Dr.Jit parameters under `mi.ad.Adam` (the Mitsuba tutorials' loop: read, render, backward, step)."""

    def __init__(self, params: list[Param]):
        import mitsuba as mi

        self.params = params
        names = [p.name for p in params]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate parameter names: {names}")
        self.opt = mi.ad.Adam(lr=params[0].lr if params else 0.0)
        for p in params:
            self.opt[p.name] = mi.Float(np.atleast_1d(np.asarray(p.value, np.float32)))

    def __getitem__(self, p: Param):
        """The current value of `p`, a Dr.Jit Float attached to the AD graph."""
        return self.opt[p.name]

    def value(self, p: Param) -> float:
        """The current value of a one-element `p` as a Python float."""
        return float(self.opt[p.name][0])

    def step(self, loss: LossValue, factor: float) -> None:
        import drjit as dr

        self.opt.set_learning_rate({p.name: p.lr * factor for p in self.params})
        dr.backward(loss)
        self.opt.step()
        for p in self.params:
            if p.bounded:
                lo = -math.inf if p.lo is None else p.lo
                hi = math.inf if p.hi is None else p.hi
                self.opt[p.name] = dr.clip(self.opt[p.name], lo, hi)

    def snapshot(self) -> list[np.ndarray]:
        return [np.array(self.opt[p.name], np.float32) for p in self.params]

    def restore(self, values: list[np.ndarray]) -> None:
        import mitsuba as mi

        for p, v in zip(self.params, values):
            self.opt[p.name] = mi.Float(v)


class TorchParams:
    """torch leaf tensors under `torch.optim.Adam`, one parameter group per `Param` (its own peak lr)."""

    def __init__(self, params: list[Param]):
        import torch

        self.params = params
        self.opt = torch.optim.Adam([{"params": [p.value], "lr": p.lr} for p in params]) if params else None

    def step(self, loss: LossValue, factor: float) -> None:
        import torch

        if self.opt is None:
            return
        for group, p in zip(self.opt.param_groups, self.params):
            group["lr"] = p.lr * factor
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        with torch.no_grad():
            for p in self.params:
                if p.bounded:
                    p.value.clamp_(min=p.lo, max=p.hi)

    def snapshot(self) -> list[np.ndarray]:
        return [p.value.detach().numpy().copy() for p in self.params]

    def restore(self, values: list[np.ndarray]) -> None:
        import torch

        with torch.no_grad():
            for p, v in zip(self.params, values):
                p.value.copy_(torch.from_numpy(v))


@dataclass
class OptimiseRecord:
    """What one run of the harness measured."""

    iterations: int = 0
    losses: list[float] = field(default_factory=list)  # the loss of each iteration (at its parameters before the step)
    terms: list[dict[str, float]] = field(default_factory=list)  # named loss terms per iteration, when given
    initial_score: float | None = None  # best-iterate tracking: the score of the initial parameters ...
    best_score: float | None = None  # ... and the lowest score, whose parameters were restored at the end
    best_iteration: int | None = None  # the iteration whose step gave them (None: the initial parameters)
    scores: list[tuple[int, float]] = field(default_factory=list)  # (iteration, score after its step) when scored
    seconds: float = 0.0
    seconds_per_iteration: float = 0.0  # from the second iteration on: the first includes JIT compilation
    seconds_first_iteration: float = 0.0
    stopped_early: bool = False  # `patience` ran out before the last iteration

    @property
    def initial_loss(self) -> float:
        return self.losses[0] if self.losses else math.nan

    @property
    def final_loss(self) -> float:
        return self.losses[-1] if self.losses else math.nan

    def summary(self) -> dict:
        """JSON-ready figures for a stage's report (the per-iteration losses are reported on their own)."""
        out: dict = {"iterations": self.iterations, "initial_loss": _round(self.initial_loss),
                     "final_loss": _round(self.final_loss), "seconds": round(self.seconds, 3),
                     "seconds_per_iteration": round(self.seconds_per_iteration, 4),
                     "seconds_first_iteration": round(self.seconds_first_iteration, 4)}
        if self.stopped_early:
            out["stopped_early"] = True
        if self.best_score is not None:
            out.update(initial_score=_round(self.initial_score), best_score=_round(self.best_score),
                       best_iteration=self.best_iteration,
                       scores=[[it, _round(v)] for it, v in self.scores])
        return out


def _round(v: float | None) -> float | None:
    return None if v is None or not math.isfinite(v) else round(float(v), 6)


def _scalar(v: LossValue) -> float:
    if hasattr(v, "detach"):  # torch
        return float(v.detach())
    return float(v.array[0]) if hasattr(v, "array") else float(v[0])


def optimise(params: ParamBackend, loss_fn: Callable[[int, int], LossOutput], iters: int, schedule: Schedule,
             seed: int, events: Events, message: str, score: Callable[[], float] | None = None,
             initial_score: float | None = None, score_every: int = 1, patience: int = 0) -> OptimiseRecord:
    """Run `iters` steps of `loss_fn(it, seed)` -> loss (or {term: loss}, summed) over `params`.

    With `score` (an exact, noise-free measure of the current parameters; lower is better), the parameters of the
    best-scoring iterate are restored at the end, so a noisy Monte-Carlo loop never ends worse than it started:
    `initial_score` is the score of the initial parameters (default: `score()` before the first step). A costly
    score may be taken every `score_every` steps only (and after the last); `record.scores` keeps them. With
    `patience` > 0, the run stops early once that many scores in a row were no better than the best one
    (`record.iterations` is then the steps taken, `record.stopped_early` is set)."""
    record = OptimiseRecord(iterations=iters)
    best: list[np.ndarray] | None = None
    if score is not None:
        record.initial_score = record.best_score = score() if initial_score is None else initial_score
        best = params.snapshot()
    start = time.perf_counter()
    second = start
    worse = 0  # scores in a row no better than the best
    for it in range(iters):
        if it == 1:
            second = time.perf_counter()
            record.seconds_first_iteration = second - start
        interrupt.check()  # between the native forward and backward passes, so a stop waits for neither loop
        out = loss_fn(it, iteration_seed(seed, it))
        interrupt.check()
        if isinstance(out, Mapping):
            loss = sum(out.values())
            terms = {k: _scalar(v) for k, v in out.items()}
        else:
            loss, terms = out, None
        params.step(loss, lr_factor(schedule, it, iters))
        record.losses.append(_scalar(loss))
        if terms is not None:
            record.terms.append(terms)
        if score is not None and ((it + 1) % max(1, score_every) == 0 or it == iters - 1):
            value = score()
            record.scores.append((it, value))
            if value < record.best_score:
                record.best_score, record.best_iteration, best = value, it, params.snapshot()
                worse = 0
            else:
                worse += 1
        events.step(it + 1, iters, message, loss=record.losses[-1])
        if patience > 0 and score is not None and worse >= patience and it < iters - 1:
            record.iterations, record.stopped_early = it + 1, True
            break
    end = time.perf_counter()
    record.seconds = end - start
    done = record.iterations
    if done == 1:
        record.seconds_first_iteration = record.seconds_per_iteration = record.seconds
    elif done > 1:
        record.seconds_per_iteration = (end - second) / (done - 1)
    if best is not None and record.best_iteration != done - 1:
        params.restore(best)  # the last step was not the best one
    return record
