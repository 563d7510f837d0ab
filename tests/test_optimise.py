"""The shared optimisation harness (pipeline/core/optimise.py): schedules, seeds, clamping, best iterate, record."""

from __future__ import annotations

import argparse
import math

import numpy as np
import pytest

from pipeline.core.config import Schedule, add_config_arguments, config_from_args, from_dict, to_dict
from pipeline.core.events import Events
from pipeline.core.optimise import DrJitParams, Param, TorchParams, iteration_seed, lr_factor, optimise
from pipeline.stages.config import ReconstructConfig
from pipeline.stages.materials_lights.config import MaterialLightConfig
from pipeline.stages.objects.config import ObjectConfig
from pipeline.stages.room.config import RoomConfig


class Recorder(Events):
    """Keeps the progress steps instead of printing them."""

    def __init__(self) -> None:
        super().__init__(jsonl=None, bars=False, log=None)
        self.steps: list[tuple[int, int, float | None]] = []

    def step(self, step: int, total: int, message: str = "", loss: float | None = None) -> None:
        self.steps.append((step, total, loss))


def test_linear_schedule_is_the_loops_former_decay():
    """Bit-identical to the hand-written decays the room/object (to 0.1) and material (to 0.2) loops had."""
    for final, drop, iters in ((0.1, 0.9, 40), (0.2, 0.8, 40), (0.1, 0.9, 1)):
        for it in range(iters):
            assert lr_factor(Schedule(final=final), it, iters) == 1.0 - drop * it / max(1, iters - 1)


def test_other_schedules():
    iters = 21
    cosine = [lr_factor(Schedule("cosine", 0.1), it, iters) for it in range(iters)]
    assert cosine[0] == pytest.approx(1.0) and cosine[-1] == pytest.approx(0.1)
    assert all(a >= b for a, b in zip(cosine, cosine[1:]))
    step = [lr_factor(Schedule("step", 0.01), it, iters) for it in range(iters)]
    assert sorted(set(step), reverse=True) == pytest.approx([1.0, 0.1, 0.01])
    warm = [lr_factor(Schedule("linear", 0.1, warmup=4), it, iters) for it in range(iters)]
    assert warm[:5] == pytest.approx([0.2, 0.4, 0.6, 0.8, 1.0]) and warm[-1] == pytest.approx(0.1)
    assert lr_factor(Schedule("constant"), 7, iters) == 1.0
    with pytest.raises(ValueError):
        lr_factor(Schedule("exponential"), 0, iters)


def test_torch_loop_clamps_seeds_records_and_reports():
    import torch

    x = torch.tensor([0.0, 0.0], requires_grad=True)
    p = Param("x", x, 0.1, lo=None, hi=0.5)  # the minimum (1, -1) lies outside: x[0] must stop at 0.5
    seeds: list[int] = []

    def loss_fn(it: int, seed: int):
        seeds.append(seed)
        return {"a": (x[0] - 1.0) ** 2, "b": (x[1] + 1.0) ** 2}

    events = Recorder()
    record = optimise(TorchParams([p]), loss_fn, 60, Schedule("constant"), 7, events, "test")
    assert seeds == [iteration_seed(7, it) for it in range(60)] == list(range(7, 67))
    assert float(x[0].detach()) == 0.5 and float(x[1].detach()) == pytest.approx(-1.0, abs=0.05)
    assert record.iterations == 60 and len(record.losses) == len(record.terms) == 60
    assert record.terms[0] == {"a": 1.0, "b": 1.0} and record.initial_loss == 2.0
    assert record.final_loss < 0.3 and record.best_score is None
    assert [s[0] for s in events.steps] == list(range(1, 61)) and events.steps[-1][2] == record.final_loss
    summary = record.summary()
    assert summary["iterations"] == 60 and summary["initial_loss"] == 2.0 and "best_score" not in summary
    assert record.seconds >= record.seconds_per_iteration > 0


def test_best_iterate_is_restored():
    """A noisy loss walks away from what the exact score prefers: the best-scoring parameters come back."""
    import torch

    x = torch.tensor(0.0, requires_grad=True)
    record = optimise(TorchParams([Param("x", x, 0.1)]), lambda it, seed: (x - 1.0) ** 2, 30,
                      Schedule("constant"), 0, Recorder(), "test", score=lambda: abs(float(x.detach()) - 0.35))
    assert record.best_iteration is not None and record.best_iteration < 29
    assert float(x.detach()) == pytest.approx(0.35, abs=0.06)  # not the last iterate, which is near 1
    assert record.best_score == pytest.approx(abs(float(x.detach()) - 0.35))

    y = torch.tensor(0.0, requires_grad=True)
    record = optimise(TorchParams([Param("y", y, 0.1)]), lambda it, seed: (y - 1.0) ** 2, 10,
                      Schedule(), 0, Recorder(), "test", score=lambda: abs(float(y.detach())), initial_score=0.0)
    assert record.best_iteration is None and float(y.detach()) == 0.0  # nothing beat the start: it is restored


def test_costly_score_every_n_steps():
    """A validation score taken every 5 steps (and after the last) picks the best of those iterates only."""
    import torch

    x = torch.tensor(0.0, requires_grad=True)
    calls = []

    def score() -> float:
        calls.append(float(x.detach()))
        return abs(float(x.detach()) - 0.35)

    record = optimise(TorchParams([Param("x", x, 0.1)]), lambda it, seed: (x - 1.0) ** 2, 12,
                      Schedule("constant"), 0, Recorder(), "test", score=score, score_every=5)
    assert [it for it, _ in record.scores] == [4, 9, 11] and len(calls) == 4  # the start, then 3
    assert record.best_iteration in (4, 9, 11)
    assert record.best_score == min(v for _, v in record.scores + [(None, record.initial_score)])
    assert float(x.detach()) == pytest.approx(0.35, abs=0.2)
    assert record.summary()["scores"] == [[it, round(v, 6)] for it, v in record.scores]


def test_patience_stops_when_the_score_stops_improving():
    """The loss walks x past the score's optimum at 0.35: after two scores in a row no better than the best, the
    run stops, the best iterate comes back and the record says how many steps were taken."""
    import torch

    x = torch.tensor(0.0, requires_grad=True)
    record = optimise(TorchParams([Param("x", x, 0.1)]), lambda it, seed: (x - 1.0) ** 2, 40,
                      Schedule("constant"), 0, Recorder(), "test", score=lambda: abs(float(x.detach()) - 0.35),
                      score_every=2, patience=2)
    assert record.stopped_early and record.iterations < 40 and len(record.losses) == record.iterations
    last = [it for it, _ in record.scores]
    assert last[-1] == record.iterations - 1 and last[-3] == record.best_iteration  # two worse after the best
    assert float(x.detach()) == pytest.approx(0.35, abs=0.1)
    assert record.summary()["stopped_early"] is True and record.summary()["iterations"] == record.iterations
    full = optimise(TorchParams([Param("y", torch.tensor(0.0, requires_grad=True), 0.1)]),
                    lambda it, seed: torch.tensor(0.0, requires_grad=True), 6, Schedule(), 0, Recorder(), "test",
                    score=lambda: 1.0, score_every=1, patience=0)
    assert not full.stopped_early and full.iterations == 6  # patience 0: never stops early


def test_drjit_loop_with_bounds_and_lr():
    import drjit as dr
    import mitsuba as mi

    from pipeline.render.backend import init_mitsuba

    init_mitsuba("cpu")
    a, b = Param("a", 0.0, 0.05, lo=-0.2, hi=0.2), Param("b", 0.0, 0.05)
    params = DrJitParams([a, b])

    def loss_fn(it: int, seed: int):
        return dr.square(params[a] - 1.0) + dr.square(params[b] + 0.5)

    record = optimise(params, loss_fn, 50, Schedule(), 3, Recorder(), "test")
    assert params.value(a) == pytest.approx(0.2) and params.value(b) == pytest.approx(-0.5, abs=0.05)
    assert record.final_loss < record.initial_loss == pytest.approx(1.25)
    assert isinstance(params[a], mi.Float)
    with pytest.raises(ValueError):
        DrJitParams([Param("a", 0.0, 0.1), Param("a", 1.0, 0.1)])


def test_schedules_are_configurable_per_stage():
    config = ReconstructConfig()
    assert config.room.schedule == Schedule("linear", 0.1) == config.objects.schedule
    assert config.materials_lights.schedule == Schedule("linear", 0.2)
    parser = argparse.ArgumentParser()
    add_config_arguments(parser, ReconstructConfig)
    args = parser.parse_args(["--objects.schedule.kind", "cosine", "--materials-lights.schedule.warmup", "3"])
    config = config_from_args(args, ReconstructConfig)
    assert config.objects.schedule.kind == "cosine" and config.room.schedule.kind == "linear"
    assert config.materials_lights.schedule == Schedule("linear", 0.2, 3)
    again = from_dict(to_dict(config), ReconstructConfig)
    assert again == config and isinstance(again.objects.schedule, Schedule)
    assert isinstance(RoomConfig().schedule, Schedule) and isinstance(ObjectConfig().schedule, Schedule)
    assert MaterialLightConfig().schedule.final == 0.2 and not math.isnan(lr_factor(Schedule(), 0, 0))
    assert np.isfinite(lr_factor(Schedule("cosine"), 0, 1))


def test_object_params_follow_contacts():
    """Each object gets typed parameters for the degrees of freedom its contact leaves free."""
    from pipeline.stages.objects.pose import ObjectTarget
    from pipeline.stages.objects.refine import ObjectParams

    def target(name: str, contact: str) -> ObjectTarget:
        t = ObjectTarget(None, np.zeros((2, 2), bool), np.zeros((0, 3)), name)
        t.contact = contact
        return t

    kinds = {}
    for i, contact in enumerate(("floor", "wall", "none", "support:sofa_1")):
        free = ObjectParams.create(i, target(f"thing_{i}", contact), 0.02, 0.3)
        kinds[contact] = {p.name.split(".", 1)[1] for p in free.all()}
        assert all(p.lr == 0.02 and p.value == 0.0 for p in free.all())
        assert all((p.lo, p.hi) == (-0.3, 0.3) for p in free.aspect)
        assert free.scale.lo is None and free.scale.hi is None
    common = {"scale", "aspect_x", "aspect_y", "aspect_z"}
    assert kinds["floor"] == kinds["support:sofa_1"] == common | {"x", "y", "yaw"}
    assert kinds["none"] == common | {"x", "y", "yaw", "z"}
    assert kinds["wall"] == common | {"along_wall", "z"}
    same_name = [ObjectParams.create(i, target("lamp_1", "floor"), 0.02, 0.3) for i in range(2)]
    names = [p.name for f in same_name for p in f.all()]
    assert len(set(names)) == len(names)
