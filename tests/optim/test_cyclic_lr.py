"""OneCycleLR, CyclicLR, CosineAnnealingWarmRestarts, PolynomialLR: the same sequences of
learning rates and momenta as torch's, for SGD and Adam, two parameter groups."""

import numpy as np
import pytest
import torch

import backprop as bp


def _opt(lib, kind):
    a = lib.nn.Parameter(lib.zeros(2))
    b = lib.nn.Parameter(lib.zeros(3))
    groups = [{"params": [a]}, {"params": [b], "lr": 0.05}]
    if kind == "sgd":
        return lib.optim.SGD(groups, lr=0.1, momentum=0.9)
    return lib.optim.Adam(groups, lr=0.1)


CASES = {
    "onecycle": lambda m, o: m.OneCycleLR(o, max_lr=[1.0, 0.5], total_steps=20),
    "onecycle_linear_3phase": lambda m, o: m.OneCycleLR(
        o, max_lr=0.3, epochs=4, steps_per_epoch=5, anneal_strategy="linear", three_phase=True
    ),
    "cyclic": lambda m, o: m.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=3),
    "cyclic_tri2": lambda m, o: m.CyclicLR(
        o, base_lr=[0.01, 0.02], max_lr=0.1, step_size_up=2, step_size_down=3, mode="triangular2"
    ),
    "cyclic_exp": lambda m, o: m.CyclicLR(
        o, base_lr=0.01, max_lr=0.1, step_size_up=2, mode="exp_range", gamma=0.9
    ),
    "warm_restarts": lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2, eta_min=1e-3),
    "polynomial": lambda m, o: m.PolynomialLR(o, total_iters=6, power=2.0),
}


def _trace(lib, kind, make, steps=19):
    opt = _opt(lib, kind)
    sched = make(lib.optim.lr_scheduler, opt)
    out = []
    for _ in range(steps):
        out.append([g["lr"] for g in opt.param_groups])
        out.append([g["betas"][0] if "betas" in g else g["momentum"] for g in opt.param_groups])
        opt.step()
        sched.step()
    return np.array(out)


@pytest.mark.parametrize("kind", ["sgd", "adam"])
@pytest.mark.parametrize("name", list(CASES))
def test_schedule_matches_torch(name, kind):
    got = _trace(bp, kind, CASES[name])
    want = _trace(torch, kind, CASES[name])
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)


def test_fractional_epochs_of_warm_restarts():
    seqs = []
    for lib in (bp, torch):
        opt = _opt(lib, "sgd")
        s = lib.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=2)
        seq = []
        for e in np.arange(0, 9, 0.25):
            s.step(float(e))
            seq.append(opt.param_groups[0]["lr"])
        seqs.append(seq)
    np.testing.assert_allclose(*seqs, rtol=1e-12)


def test_onecycle_refuses_stepping_past_the_end_and_bad_arguments():
    opt = _opt(bp, "sgd")
    s = bp.optim.lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=2)
    s.step()
    s.step()
    with pytest.raises(ValueError, match="total steps is 2"):
        s.step()
    with pytest.raises(ValueError, match="total_steps"):
        bp.optim.lr_scheduler.OneCycleLR(_opt(bp, "sgd"), max_lr=1.0)
    with pytest.raises(ValueError, match="momentum"):
        bp.optim.lr_scheduler.CyclicLR(
            bp.optim.Adagrad([bp.nn.Parameter(bp.zeros(1))]), base_lr=0.1, max_lr=1.0
        )
    with pytest.raises(ValueError, match="mode"):
        bp.optim.lr_scheduler.CyclicLR(_opt(bp, "sgd"), 0.1, 1.0, mode="square")
