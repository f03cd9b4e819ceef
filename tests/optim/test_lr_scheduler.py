"""Learning-rate schedules: sequences equal to torch's over 100 steps; state dicts round-trip."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

import backprop as bp
import backprop.optim as optim
from backprop.optim import lr_scheduler as sched

STEPS = 100
LRS = (0.1, 0.03)  # two parameter groups, so that per-group lists are exercised


def _optimizers(kind: str = "SGD"):
    ours = getattr(optim, kind)(
        [{"params": [bp.zeros(2, requires_grad=True)], "lr": lr} for lr in LRS]
    )
    theirs = getattr(torch.optim, kind)(
        [{"params": [torch.zeros(2, requires_grad=True)], "lr": lr} for lr in LRS]
    )
    return ours, theirs


def _lambda_half_life(epoch):
    return 0.5 ** (epoch / 10)


class _Warmup:
    """A callable object: its state (``__dict__``) goes into LambdaLR's state dict."""

    def __init__(self, n):
        self.n = n

    def __call__(self, epoch):
        return min(1.0, (epoch + 1) / self.n)


def _build(lib, opt, name):
    """The schedule called ``name`` (with its arguments) from ``lib``'s lr_scheduler module."""
    m = lib
    if name == "StepLR":
        return m.StepLR(opt, step_size=7, gamma=0.5)
    if name == "StepLR-default-gamma":
        return m.StepLR(opt, step_size=30)
    if name == "MultiStepLR":
        return m.MultiStepLR(opt, milestones=[10, 30, 30, 75], gamma=0.3)
    if name == "ExponentialLR":
        return m.ExponentialLR(opt, gamma=0.97)
    if name == "CosineAnnealingLR":
        return m.CosineAnnealingLR(opt, T_max=30, eta_min=0.001)  # 100 steps: past T_max, twice
    if name == "CosineAnnealingLR-to-zero":
        return m.CosineAnnealingLR(opt, T_max=100)
    if name == "LinearLR-warmup":
        return m.LinearLR(opt, start_factor=0.25, total_iters=10)
    if name == "LinearLR-decay":
        return m.LinearLR(opt, start_factor=1.0, end_factor=0.1, total_iters=40)
    if name == "LambdaLR":
        return m.LambdaLR(opt, _lambda_half_life)
    if name == "LambdaLR-per-group":
        return m.LambdaLR(opt, [_lambda_half_life, lambda e: 1.0 / (1 + e)])
    if name == "SequentialLR-warmup-cosine":
        warm = m.LinearLR(opt, start_factor=0.1, total_iters=5)
        cos = m.CosineAnnealingLR(opt, T_max=95)
        return m.SequentialLR(opt, [warm, cos], milestones=[5])
    if name == "SequentialLR-three":
        a = m.ExponentialLR(opt, gamma=0.9)
        b = m.StepLR(opt, step_size=5, gamma=0.7)
        c = m.LambdaLR(opt, _lambda_half_life)
        return m.SequentialLR(opt, [a, b, c], milestones=[10, 40])
    raise AssertionError(name)


NAMES = [
    "StepLR",
    "StepLR-default-gamma",
    "MultiStepLR",
    "ExponentialLR",
    "CosineAnnealingLR",
    "CosineAnnealingLR-to-zero",
    "LinearLR-warmup",
    "LinearLR-decay",
    "LambdaLR",
    "LambdaLR-per-group",
    "SequentialLR-warmup-cosine",
    "SequentialLR-three",
]


def _sequence(s, opt, steps=STEPS):
    out = [s.get_last_lr()]
    for _ in range(steps):
        opt.step()
        s.step()
        out.append(s.get_last_lr())
        assert out[-1] == [g["lr"] for g in opt.param_groups]
    return out


@pytest.mark.parametrize("name", NAMES)
def test_sequence_equals_torch_over_100_steps(name):
    ours, theirs = _optimizers()
    mine = _sequence(_build(sched, ours, name), ours)
    ref = _sequence(_build(torch.optim.lr_scheduler, theirs, name), theirs)
    assert mine == ref  # exactly: the same float operations in the same order
    assert len(set(map(tuple, mine))) > 1


@pytest.mark.parametrize("name", NAMES)
def test_state_dict_round_trip_mid_schedule(name):
    ours, _ = _optimizers()
    s = _build(sched, ours, name)
    full = _sequence(s, ours, steps=STEPS)

    ours, _ = _optimizers()
    s = _build(sched, ours, name)
    first = _sequence(s, ours, steps=37)
    saved_sched = json.loads(json.dumps(s.state_dict()))  # JSON-serialisable
    saved_opt = ours.state_dict()

    resumed_opt, _ = _optimizers()
    resumed = _build(sched, resumed_opt, name)
    resumed_opt.load_state_dict(saved_opt)
    resumed.load_state_dict(saved_sched)
    rest = _sequence(resumed, resumed_opt, steps=STEPS - 37)
    assert first + rest[1:] == full


def test_lambda_lr_saves_the_state_of_callable_objects_only():
    ours, _ = _optimizers()
    warm = _Warmup(8)
    s = sched.LambdaLR(ours, [warm, _lambda_half_life])
    sd = s.state_dict()
    assert sd["lr_lambdas"] == [{"n": 8}, None]
    warm.n = 3
    s.load_state_dict(sd)
    assert warm.n == 8


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"factor": 0.5, "patience": 2},
        {"factor": 0.5, "patience": 0, "cooldown": 3},
        {"mode": "max", "factor": 0.5, "patience": 1},
        {"threshold_mode": "abs", "threshold": 0.01, "patience": 1, "factor": 0.3},
        {"mode": "max", "threshold_mode": "abs", "threshold": 0.02, "patience": 3},
        {"factor": 0.2, "patience": 1, "min_lr": 0.001},
        {"factor": 0.2, "patience": 1, "min_lr": [0.01, 0.0001]},
        {"factor": 0.9, "patience": 0, "eps": 0.005},
    ],
)
def test_reduce_lr_on_plateau_follows_torch_on_the_same_metrics(kwargs):
    rng = np.random.default_rng(0)
    # A validation loss: a fast fall, a slow one, then a noisy plateau (and the same, negated,
    # read as an accuracy to maximise).
    t = np.arange(STEPS)
    metric = np.exp(-t / 8) + 0.2 * np.exp(-t / 40) + 0.01 * rng.standard_normal(STEPS)
    if kwargs.get("mode") == "max":
        metric = 1 - metric
    ours, theirs = _optimizers()
    s_ours = sched.ReduceLROnPlateau(ours, **kwargs)
    s_theirs = torch.optim.lr_scheduler.ReduceLROnPlateau(theirs, **kwargs)
    mine, ref = [s_ours.get_last_lr()], [s_theirs.get_last_lr()]
    for i, m in enumerate(metric):
        s_ours.step(bp.tensor(m) if i % 2 else float(m))  # a 0-d tensor is accepted
        s_theirs.step(float(m))
        mine.append(s_ours.get_last_lr())
        ref.append(s_theirs.get_last_lr())
        if i == 50:  # round trip in the middle, through JSON
            state = json.loads(json.dumps(s_ours.state_dict()))
            s_ours = sched.ReduceLROnPlateau(ours, **kwargs)
            s_ours.load_state_dict(state)
    assert mine == ref
    assert mine[-1] != mine[0]


def test_reduce_lr_on_plateau_halves_like_the_lectures():
    ours, _ = _optimizers()
    s = sched.ReduceLROnPlateau(ours, factor=0.5, patience=0)
    for err in [0.5, 0.4, 0.4, 0.3, 0.35]:
        s.step(err)
    assert s.get_last_lr() == [0.1 / 4, 0.03 / 4]


def test_schedulers_drive_any_optimiser():
    ours, theirs = _optimizers("Adam")
    a = _sequence(sched.CosineAnnealingLR(ours, T_max=10), ours, 20)
    b = _sequence(torch.optim.lr_scheduler.CosineAnnealingLR(theirs, T_max=10), theirs, 20)
    assert a == b


@pytest.mark.parametrize(
    "build, match",
    [
        (lambda o: sched.StepLR(o, step_size=0), "step_size=0"),
        (lambda o: sched.CosineAnnealingLR(o, T_max=0), "T_max=0"),
        (lambda o: sched.LinearLR(o, start_factor=0.0), "start_factor=0.0"),
        (lambda o: sched.LinearLR(o, end_factor=1.5), "end_factor=1.5"),
        (lambda o: sched.LinearLR(o, total_iters=0), "total_iters=0"),
        (lambda o: sched.ReduceLROnPlateau(o, factor=1.0), "factor=1.0"),
        (lambda o: sched.ReduceLROnPlateau(o, mode="low"), "mode='low'"),
        (lambda o: sched.ReduceLROnPlateau(o, threshold_mode="x"), "threshold_mode='x'"),
        (lambda o: sched.ReduceLROnPlateau(o, min_lr=[0.1]), "min_lr"),
        (lambda o: sched.LambdaLR(o, [math.sqrt]), "lr_lambdas"),
        (lambda o: sched.SequentialLR(o, [sched.StepLR(o, 3)], milestones=[2]), "milestones"),
        (
            lambda o: sched.SequentialLR(o, [sched.ReduceLROnPlateau(o)], milestones=[]),
            "ReduceLROnPlateau",
        ),
    ],
)
def test_invalid_arguments_raise_value_error(build, match):
    ours, _ = _optimizers()
    with pytest.raises(ValueError, match=match.replace("[", r"\[").replace("(", r"\(")):
        build(ours)


def test_not_an_optimizer_raises_type_error():
    with pytest.raises(TypeError, match="Optimizer"):
        sched.StepLR(object(), step_size=3)


def test_resuming_with_last_epoch_needs_initial_lr():
    ours, _ = _optimizers()
    with pytest.raises(KeyError, match="initial_lr"):
        sched.StepLR(ours, step_size=3, last_epoch=5)
